#!/bin/sh
# sagesync following a remote repository served on loopback by
# `git daemon`, by smart HTTP (git http-backend behind lighttpd, TLS from
# a test CA, token auth) and by sshd (a test key, strict known_hosts):
# the daemon applies a new commit within one poll interval on each, and
# a wrong token, an untrusted CA and an unknown or changed host key are
# refused with a clear error. Usage: test_git_remote.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
. "$src/tests/git_servers.sh"
daemon=""
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null; servers_stop; sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=100
git_identity
sim_start SIM_STATE_SECONDS=0
quickstart_prerequisites

mkdir -p "$tmp/srv"
git init -q --bare -b main "$tmp/srv/deploy.git"
work=$tmp/work
git clone -q "$tmp/srv/deploy.git" "$work" 2>/dev/null
cp "$src"/examples/quickstart/*.yaml "$work/"
git -C "$work" add -A && git -C "$work" commit -q -m "quickstart"
git -C "$work" push -q origin main

git_daemon_start
https_start s3cret-token wrong-ip
wrong_ip_port=$https_port
https_start s3cret-token
https_redirect_start "localhost:$https_port"
redirect_host=$redirect_port
https_redirect_start "127.0.0.1:$https_port"
redirect_port_only=$redirect_port
sshd_start
printf 's3cret-token\n' >"$tmp/token"
printf 'not-the-token\n' >"$tmp/wrong-token"
git_url=git://127.0.0.1:$git_daemon_port/deploy.git
https_url=https://localhost:$https_port/git/deploy.git
ssh_url=ssh://$ssh_user@127.0.0.1:$sshd_port$tmp/srv/deploy.git

# config URL [MORE SOURCE FIELDS]: a fresh state directory each time
config() {
	rm -rf "$tmp/state"
	mkdir "$tmp/state"
	cat >"$tmp/config.yaml" <<EOC
name: remote-test
stateDir: $tmp/state
source: {url: "$1", branch: main, interval: 5s$2}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
EOC
}
plan() {
	"$bin" plan --config "$tmp/config.yaml" >"$tmp/out" 2>&1
	echo $?
}
https_auth=", caFile: $tmp/ca.pem, auth: {tokenFile: $tmp/token}"
ssh_auth=", auth: {sshKeyFile: $tmp/id_ed25519, knownHostsFile: $tmp/known_hosts}"

# ---- refusals, each with the reason ----------------------------------------
config "$https_url" ", caFile: $tmp/ca.pem, auth: {tokenFile: $tmp/wrong-token}"
equals "wrong token: plan fails" 1 "$(plan)"
contains "wrong token: says so" "the server refused the credentials (source.auth.tokenFile)"
config "$https_url" ", caFile: $tmp/ca.pem"
equals "no token: plan fails" 1 "$(plan)"
contains "no token: says so" "none are configured"
config "$https_url" ", auth: {tokenFile: $tmp/token}"
equals "system CAs: plan fails" 1 "$(plan)"
contains "untrusted CA: says so" "the TLS certificate of localhost is not trusted"
config "$https_url" ", caFile: $tmp/other-ca.pem, auth: {tokenFile: $tmp/token}"
equals "another CA: plan fails" 1 "$(plan)"
contains "another CA: says so" "not signed by a CA in source.caFile"

# an IP address in the URL: checked against the certificate's IP address
# names, as a host name is against its DNS names
config "https://127.0.0.1:$https_port/git/deploy.git" "$https_auth"
equals "IP address in the certificate: planned" 2 "$(plan)"
config "https://127.0.0.1:$wrong_ip_port/git/deploy.git" "$https_auth"
equals "the certificate of another IP address: plan fails" 1 "$(plan)"
contains "another IP address: says so" \
	"the TLS certificate of 127.0.0.1 is not issued for 127.0.0.1"
config "https://127.0.0.1:$https_port/git/deploy.git" \
	", caFile: $tmp/other-ca.pem, auth: {tokenFile: $tmp/token}"
equals "IP address, another CA: plan fails" 1 "$(plan)"
contains "IP address, another CA: says so" "not signed by a CA in source.caFile"
# a redirect to another origin: not followed, and the token never goes
# there (libgit2 follows the first one by default and hands the token to
# whoever asks)
config "https://127.0.0.1:$redirect_host/git/deploy.git" "$https_auth"
equals "a redirect to another server: plan fails" 1 "$(plan)"
contains "a redirect to another server: says so" \
	"a redirect to another server is not followed"
config "https://127.0.0.1:$redirect_port_only/git/deploy.git" "$https_auth"
equals "a redirect to another port: plan fails" 1 "$(plan)"
contains "a redirect to another port: no token for it" \
	"https://127.0.0.1:$https_port asks for credentials, but the source is https://127.0.0.1:$redirect_port_only"
config "https://localhost:$wrong_ip_port/git/deploy.git" "$https_auth"
equals "a certificate without the host name: plan fails" 1 "$(plan)"
contains "without the host name: says so" "is not issued for localhost"

ssh-keygen -q -t ed25519 -N "" -f "$tmp/other_host_key"
printf '[127.0.0.1]:%s %s\n' "$sshd_port" "$(cut -d' ' -f1,2 "$tmp/other_host_key.pub")" \
	>"$tmp/changed_known_hosts"
config "$ssh_url" ", auth: {sshKeyFile: $tmp/id_ed25519, knownHostsFile: $tmp/changed_known_hosts}"
equals "changed host key: plan fails" 1 "$(plan)"
contains "changed host key: says so" "does not match the one in"
printf 'example.com %s\n' "$(cut -d' ' -f1,2 "$tmp/ssh_host_ed25519_key.pub")" >"$tmp/other_known_hosts"
config "$ssh_url" ", auth: {sshKeyFile: $tmp/id_ed25519, knownHostsFile: $tmp/other_known_hosts}"
equals "unknown host: plan fails" 1 "$(plan)"
contains "unknown host: says so" "[127.0.0.1]:$sshd_port is not in"
config "$ssh_url" ", auth: {sshKeyFile: $tmp/id_ed25519}"
equals "no known_hosts: plan fails" 1 "$(plan)"
contains "no known_hosts: says so" "needs source.auth.knownHostsFile"
ssh-keygen -q -t ed25519 -N "" -f "$tmp/stranger"
config "$ssh_url" ", auth: {sshKeyFile: $tmp/stranger, knownHostsFile: $tmp/known_hosts}"
equals "unknown client key: plan fails" 1 "$(plan)"
contains "unknown client key: names the source" "$ssh_url"

# a hashed known_hosts entry (ssh-keygen -H) is read too
cp "$tmp/known_hosts" "$tmp/hashed_known_hosts"
ssh-keygen -q -H -f "$tmp/hashed_known_hosts" >/dev/null 2>&1
config "$ssh_url" ", auth: {sshKeyFile: $tmp/id_ed25519, knownHostsFile: $tmp/hashed_known_hosts}"
equals "hashed known_hosts: plan works" 2 "$(plan)"

# a tag or a pinned commit instead of a branch
git -C "$work" tag v1
git -C "$work" push -q origin v1
pinned=$(git -C "$work" rev-parse HEAD)
config "$git_url" ""
sed -i 's/branch: main/tag: v1/' "$tmp/config.yaml"
equals "a tag: planned" 2 "$(plan)"
contains "a tag: its commit is the revision" "revision $pinned"
sed -i 's/tag: v1/tag: v9/' "$tmp/config.yaml"
equals "a missing tag: plan fails" 1 "$(plan)"
contains "a missing tag: says so" "tag 'v9' does not exist in the repository"
sed -i "s/tag: v9/commit: $pinned/" "$tmp/config.yaml"
equals "a pinned commit: planned" 2 "$(plan)"
contains "a pinned commit: is the revision" "revision $pinned"

# ---- the daemon follows each transport --------------------------------------
threshold_is() { [ "$(threshold)" = "$1" ]; }
value=5
follow() { # NAME URL AUTH
	config "$2" "$3"
	"$bin" run --config "$tmp/config.yaml" --log-format text \
		>"$tmp/daemon.out" 2>&1 &
	daemon=$!
	wait_for 60 threshold_is "$value.0" ||
		{ bad "$1: the daemon did not deploy"; cat "$tmp/daemon.out"; }
	value=$((value + 1))
	sed -i "s/threshold: [0-9]*\$/threshold: $value/" "$work/alarms.yaml"
	git -C "$work" commit -q -am "threshold $value over $1"
	git -C "$work" push -q origin main
	start=$(date +%s)
	# one interval (5 s, give or take 10%) and the reconcile itself
	wait_for 9 threshold_is "$value.0" && ok ||
		{ bad "$1: the new commit was not applied within one interval"; cat "$tmp/daemon.out"; }
	echo "$1: applied $(($(date +%s) - start)) s after the push"
	kill -TERM "$daemon"
	wait "$daemon"
	equals "$1: SIGTERM exits 0" 0 "$?"
	daemon=""
}
follow "git daemon" "$git_url" ""
follow "https" "$https_url" "$https_auth"
follow "ssh" "$ssh_url" "$ssh_auth"
cp "$tmp/daemon.out" "$tmp/out"
contains "the daemon logs for people with --log-format text" "sagesync: following ssh://"

finish
