#!/usr/bin/env bats
# ssh.bats - vrelay ssh-proxy on the host side: a real sshd on loopback,
# reached through a unix socket relay (the way vfkit exposes a guest port),
# with fd passing and without.  The vsock forms run in the guest
# (tests/vm/suites/ssh.bats).

load helper

setup_file() {
	[ -x /usr/sbin/sshd ] || skip "openssh-server is not installed"
	T=$BATS_FILE_TMPDIR
	export T
	SSHD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sshd_start "$T" "$SSHD_PORT"
	echo "$SSHD_PID" >"$T/sshd.bg"
	"$VRELAY" -dd UNIX-LISTEN:"$T/vm-ssh.sock",fork TCP:127.0.0.1:"$SSHD_PORT" 2>"$T/relay.log" &
	echo $! >"$T/relay.bg"
	wait_until 20 grep -q "listening on" "$T/relay.log"
}

teardown_file() {
	local p
	for p in relay sshd; do
		[ -f "$T/$p.bg" ] && kill "$(cat "$T/$p.bg")" 2>/dev/null || true
	done
}

@test "ssh-proxy unix/PATH with ProxyUseFdpass: ssh runs a remote command" {
	run -0 ssh $(ssh_opts "$T") -o ProxyCommand="$VRELAY ssh-proxy unix/$T/vm-ssh.sock %p" \
		-o ProxyUseFdpass=yes root@vm 'echo "fd passed to $(id -un)"'
	[ "$output" = "fd passed to root" ]
}

@test "ssh-proxy unix/PATH without fd passing relays stdin/stdout" {
	run -0 ssh $(ssh_opts "$T") -o ProxyCommand="$VRELAY ssh-proxy unix/$T/vm-ssh.sock %p" \
		root@vm 'echo relayed; head -c 100000 /dev/zero | wc -c'
	[ "${lines[0]}" = "relayed" ]
	[ "${lines[1]}" = "100000" ]
}

@test "vrelay-ssh-proxy: the applet under its own name" {
	ln -s "$VRELAY" "$BATS_TEST_TMPDIR/vrelay-ssh-proxy"
	run -0 ssh $(ssh_opts "$T") -o ProxyCommand="$BATS_TEST_TMPDIR/vrelay-ssh-proxy unix/$T/vm-ssh.sock %p" \
		-o ProxyUseFdpass=yes root@vm 'echo by-name'
	[ "$output" = "by-name" ]
}

@test "the plain ProxyCommand form: vrelay - UNIX-CONNECT:PATH" {
	run -0 ssh $(ssh_opts "$T") -o ProxyCommand="$VRELAY - UNIX-CONNECT:$T/vm-ssh.sock" \
		root@vm 'echo plain'
	[ "$output" = "plain" ]
}

@test "ssh-proxy: bad HOST forms and arguments are usage errors" {
	run -2 "$VRELAY" ssh-proxy nowhere/1 22
	[ "${lines[0]}" = "vrelay: ssh-proxy: nowhere/1: unknown host form (vsock/CID, vsock-mux/UDSPATH, hyperkit/DIR/CID or unix/PATH)" ]
	run -2 "$VRELAY" ssh-proxy vsock/abc 22
	[ "$output" = 'vrelay: ssh-proxy: vsock/abc: cid: invalid "abc" (a number, or host, local, any, hypervisor)' ]
	run -2 "$VRELAY" ssh-proxy vsock/3 99999999999
	[ "$output" = 'vrelay: ssh-proxy: vsock/3: port: out of range (0..4294967295)' ]
	# a PORT typed by hand cannot smuggle in options or parameters
	run -2 "$VRELAY" ssh-proxy vsock/3 22,retry=9
	[ "$output" = 'vrelay: ssh-proxy: vsock/3: port: invalid number "22,retry=9"' ]
	run -2 "$VRELAY" ssh-proxy hyperkit/tmp/d/3 2:2
	[ "$output" = 'vrelay: ssh-proxy: hyperkit/tmp/d/3: port: invalid number "2:2"' ]
	run -2 "$VRELAY" ssh-proxy hyperkit/3 22
	[[ "${lines[0]}" == *"unknown host form"* ]]
	run -2 "$VRELAY" ssh-proxy unix/x
	[[ "${lines[0]}" == "usage: vrelay ssh-proxy"* ]]
}

@test "ssh-proxy: a socket nobody listens on is exit 1, one line" {
	run -1 "$VRELAY" ssh-proxy --no-fdpass unix/"$T"/nothing.sock 22 </dev/null
	[ "$output" = "vrelay: UNIX-CONNECT:$T/nothing.sock: connect: No such file or directory" ]
}
