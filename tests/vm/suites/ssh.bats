#!/usr/bin/env bats
# ssh.bats - a real sshd in the guest behind
#     vrelay VSOCK-LISTEN:22,fork TCP:127.0.0.1:22
# reached with vrelay ssh-proxy (fd passing), the plain ProxyCommand form,
# and the shipped ssh_config snippet.  Runs only in the test guest.

load guest
load ../../bats/helper

setup_file() {
	require_test_guest
	T=$BATS_FILE_TMPDIR
	export T
	grep -q '^root:' /etc/passwd || echo 'root:x:0:0:root:/root:/bin/sh' >>/etc/passwd
	grep -q '^sshd:' /etc/passwd || echo 'sshd:x:74:65534::/run/sshd:/bin/false' >>/etc/passwd
	grep -q '^nogroup:' /etc/group 2>/dev/null || echo 'nogroup:x:65534:' >>/etc/group
	sshd_start "$T" 22
	echo "$SSHD_PID" >"$T/sshd.pid.bg"
	"$VRELAY" -dd VSOCK-LISTEN:22,fork TCP:127.0.0.1:22 2>"$T/relay.log" &
	echo $! >"$T/relay.pid"
	wait_until 20 grep -q "listening on" "$T/relay.log"
}

teardown_file() {
	kill "$(cat "$T/relay.pid")" "$(cat "$T/sshd.pid.bg")" 2>/dev/null || true
}

@test "ssh through vrelay ssh-proxy with ProxyUseFdpass: a remote command runs" {
	run -0 ssh $(ssh_opts "$T") -o ProxyCommand="$VRELAY ssh-proxy vsock/1 %p" \
		-o ProxyUseFdpass=yes root@vsock/1 'echo "hello over vsock from $(id -un)"'
	[ "$output" = "hello over vsock from root" ]
}

@test "ssh with the plain ProxyCommand form (vrelay - VSOCK-CONNECT:%h:22)" {
	run -0 ssh $(ssh_opts "$T") -o ProxyCommand="$VRELAY - VSOCK-CONNECT:1:%p" -p 22 \
		root@vm 'echo plain; echo $((6 * 7))'
	[ "${lines[0]}" = "plain" ]
	[ "${lines[1]}" = "42" ]
}

@test "ssh vsock/1 with the shipped ssh_config snippet" {
	cp /vrelay/src/data/ssh_config "$T/config"
	run -0 ssh -F "$T/config" -i "$T/id" -o BatchMode=yes -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR root@vsock/1 'uname -s'
	[ "$output" = "Linux" ]
}

@test "ssh-proxy: fd passing leaves no relay process behind" {
	run -0 ssh $(ssh_opts "$T") -o ProxyCommand="$VRELAY ssh-proxy vsock/1 %p" \
		-o ProxyUseFdpass=yes root@vsock/1 'cat /proc/$PPID/status >/dev/null; echo ok'
	[ "$output" = "ok" ]
	# the proxy exited once the socket was handed over: no ssh-proxy left
	run ps
	[[ "$output" != *"ssh-proxy"* ]]
}

@test "ssh-proxy: a port nobody listens on fails with one line, exit 1" {
	run -1 "$VRELAY" ssh-proxy --no-fdpass vsock/1 2222 </dev/null
	[[ "$output" == "vrelay: VSOCK-CONNECT:1:2222: connect: "* ]]
}
