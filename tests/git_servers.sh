# Git servers on loopback for the integration tests (sourced after
# tests/lib.sh, with `tmp` set): `git daemon`, smart HTTP (git
# http-backend behind lighttpd, TLS from a test CA, a token as the basic
# authentication password) and sshd with a test key. Each serves the bare
# repositories under $tmp/srv. servers_stop stops what was started.

git_daemon_pid=""
lighttpd_pid=""
sshd_pid=""

# free_port: a TCP port nobody listens on now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something accepts on it (10 s)
wait_port() {
	python3 - "$1" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

# git_daemon_start: git:// on $git_daemon_port
git_daemon_start() {
	git_daemon_port=$(free_port)
	git daemon --listen=127.0.0.1 --port="$git_daemon_port" --export-all \
		--base-path="$tmp/srv" --reuseaddr "$tmp/srv" \
		>"$tmp/git-daemon.log" 2>&1 &
	git_daemon_pid=$!
	wait_port "$git_daemon_port" || { echo "FAIL: git daemon did not start"; exit 1; }
}

# test_ca: $tmp/ca.pem, and a certificate for 127.0.0.1 it signed
# and localhost ($tmp/server.pem, key $tmp/server.key); $tmp/other-ca.pem signed nothing;
# $tmp/wrong-ip.pem (key $tmp/server.key) is the test CA's for 10.9.8.7
# only, an address the servers here never have
test_ca() {
	[ -f "$tmp/ca.pem" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sagesync test CA" \
		-keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
		-keyout "$tmp/other-ca.key" -out "$tmp/other-ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tmp/san.ext"
	openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
		-CAcreateserial -days 2 -extfile "$tmp/san.ext" -out "$tmp/server.pem" 2>/dev/null
	printf 'subjectAltName=IP:10.9.8.7\n' >"$tmp/wrong-ip.ext"
	openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
		-CAcreateserial -days 2 -extfile "$tmp/wrong-ip.ext" -out "$tmp/wrong-ip.pem" 2>/dev/null
}

# https_start TOKEN [CERT]: https://localhost:$https_port/git/NAME.git, user
# "git" with password TOKEN, with the certificate $tmp/CERT.pem (server);
# each call starts one more server
https_start() {
	test_ca
	https_port=$(free_port)
	cert=${2:-server}
	mkdir -p "$tmp/www"
	printf 'git:%s\n' "$1" >"$tmp/lighttpd.users"
	cat >"$tmp/lighttpd-$https_port.conf" <<EOC
server.modules = ("mod_alias", "mod_auth", "mod_authn_file", "mod_cgi",
                  "mod_setenv", "mod_openssl")
server.document-root = "$tmp/www"
server.bind = "127.0.0.1"
server.port = $https_port
server.errorlog = "$tmp/lighttpd.log"
ssl.engine = "enable"
ssl.pemfile = "$tmp/$cert.pem"
ssl.privkey = "$tmp/server.key"
alias.url = ("/git/" => "/usr/lib/git-core/git-http-backend/")
\$HTTP["url"] =~ "^/git/" {
  cgi.assign = ("" => "")
  setenv.add-environment = ("GIT_PROJECT_ROOT" => "$tmp/srv",
                            "GIT_HTTP_EXPORT_ALL" => "1")
}
auth.backend = "plain"
auth.backend.plain.userfile = "$tmp/lighttpd.users"
auth.require = ("/git/" => ("method" => "basic", "realm" => "git",
                            "require" => "valid-user"))
EOC
	lighttpd_run "$tmp/lighttpd-$https_port.conf" "$https_port"
}

# lighttpd_run CONF PORT: one more lighttpd with CONF, waited for on PORT
lighttpd_run() {
	/usr/sbin/lighttpd -D -f "$1" >>"$tmp/lighttpd.log" 2>&1 &
	lighttpd_pid="$lighttpd_pid $!"
	wait_port "$2" || {
		echo "FAIL: lighttpd ($1) did not start"
		cat "$tmp/lighttpd.log"
		exit 1
	}
}

# https_redirect_start HOST:PORT: https://127.0.0.1:$redirect_port/git/...
# answers every request with a 301 to https://HOST:PORT/git/..., another
# origin (with the certificate for 127.0.0.1 and localhost); each call
# starts one more
https_redirect_start() {
	test_ca
	redirect_port=$(free_port)
	cat >"$tmp/redirect-$redirect_port.conf" <<EOC
server.modules = ("mod_redirect", "mod_openssl")
server.document-root = "$tmp/www"
server.bind = "127.0.0.1"
server.port = $redirect_port
server.errorlog = "$tmp/lighttpd.log"
ssl.engine = "enable"
ssl.pemfile = "$tmp/server.pem"
ssl.privkey = "$tmp/server.key"
url.redirect = ("^/git/(.*)\$" => "https://$1/git/\$1")
url.redirect-code = 301
EOC
	mkdir -p "$tmp/www"
	lighttpd_run "$tmp/redirect-$redirect_port.conf" "$redirect_port"
}

# sshd_start: ssh://USER@127.0.0.1:$sshd_port$tmp/srv/NAME.git with the
# key $tmp/id_ed25519; $tmp/known_hosts lists the server's key
sshd_start() {
	sshd_port=$(free_port)
	ssh-keygen -q -t ed25519 -N "" -f "$tmp/ssh_host_ed25519_key"
	ssh-keygen -q -t ed25519 -N "" -f "$tmp/id_ed25519"
	cp "$tmp/id_ed25519.pub" "$tmp/authorized_keys"
	chmod 600 "$tmp/authorized_keys"
	printf '[127.0.0.1]:%s %s\n' "$sshd_port" \
		"$(cut -d' ' -f1,2 "$tmp/ssh_host_ed25519_key.pub")" >"$tmp/known_hosts"
	cat >"$tmp/sshd_config" <<EOC
Port $sshd_port
ListenAddress 127.0.0.1
HostKey $tmp/ssh_host_ed25519_key
AuthorizedKeysFile $tmp/authorized_keys
PidFile $tmp/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOC
	[ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd
	/usr/sbin/sshd -D -e -f "$tmp/sshd_config" 2>"$tmp/sshd.log" &
	sshd_pid=$!
	wait_port "$sshd_port" || {
		echo "FAIL: sshd did not start"
		cat "$tmp/sshd.log"
		exit 1
	}
	ssh_user=$(id -un)
}

servers_stop() {
	for p in $git_daemon_pid $lighttpd_pid $sshd_pid; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	git_daemon_pid=""
	lighttpd_pid=""
	sshd_pid=""
}
