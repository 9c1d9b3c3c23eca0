#!/bin/sh
# Installs the Debian packages sagesync needs to build, test and run its
# demo, and only those that are missing: the Git servers the tests follow
# (lighttpd for smart HTTP over TLS, sshd) and promtool (in prometheus),
# which checks the metrics page, among them. Run as root (or with sudo
# available). Called by `make demo` and `make test`; safe to run again.
set -eu

packages="build-essential cmake pkg-config git clang clang-format cppcheck
libclang-rt-dev libgit2-dev libcurl4-openssl-dev libyaml-dev libjansson-dev
libcmocka-dev libmicrohttpd-dev libssl-dev libexpat1-dev python3 openssl
lighttpd lighttpd-mod-openssl openssh-server openssh-client prometheus
valgrind curl"

apt_install() {
	echo "sagesync: installing missing packages:$*"
	if [ "$(id -u)" -eq 0 ]; then
		sudo=""
	elif command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "sagesync: need root (or sudo) to install:$*" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "$@"
}

missing=""
for p in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
# the aws CLI checks what sagesync did in the tests and the demo
command -v aws >/dev/null 2>&1 || missing="$missing awscli"
# npm brings dynalite, the second DynamoDB of the leader-election test
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"

if [ -n "$missing" ]; then
	apt_install $missing
fi

here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$here/tests/node_modules/.bin/dynalite" ]; then
	echo "sagesync: installing the tests' npm packages (tests/package.json)"
	(cd "$here/tests" && npm ci --no-audit --no-fund --loglevel=error)
fi

# the local AWS is moto's server, from Python's packages (not Debian's)
if ! python3 -c 'import moto, werkzeug' 2>/dev/null; then
	echo "sagesync: Python's moto is missing: the tests and the demo run" >&2
	echo "against it. Install it with: pip install 'moto[server]'" >&2
	exit 1
fi
exit 0

