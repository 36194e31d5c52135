#!/usr/bin/env bats
# vmm.bats - VSOCK-MUX (Firecracker, cloud-hypervisor, vhost-device-vsock)
# and HYPERKIT-UNIX against a scripted VMM that follows each protocol to
# the byte: tools/fake-vmm.py plays the VMM and, behind it, a guest that
# echoes upper-cased.  No AF_VSOCK is involved on this machine.

load helper

VMM="$BATS_TEST_DIRNAME/tools/fake-vmm.py"

# vmm MODE - start the fake VMM on $D/v.sock, wait for its socket
vmm() {
	D=$BATS_TEST_TMPDIR
	start_bg python3 "$VMM" "$D/v.sock" "$1" "$D/record"
	VMM_PID=$LAST_PID
	wait_until 10 test -S "$D/v.sock"
}

@test "VSOCK-MUX: Firecracker's OK with a host port; guest port sent as CONNECT" {
	vmm firecracker
	run -0 --separate-stderr "$VRELAY" -dd - VSOCK-MUX:"$D/v.sock":52 <<<"hello guest"
	[ "$output" = "HELLO GUEST" ]
	[ "$(cat "$D/record")" = "CONNECT 52" ]
	[ "$(od -An -c "$D/record" | tr -d ' ')" = 'CONNECT52\n' ]
	[[ "$stderr" == *'the VMM says "OK 1073741824": connected to guest port 52'* ]]
}

@test "VSOCK-MUX: vhost-device-vsock's OK with the guest port" {
	vmm vhost
	run -0 "$VRELAY" - VSOCK-MUX:"$D/v.sock":4294967295 <<<"abc"
	[ "$output" = "ABC" ]
	[ "$(cat "$D/record")" = "CONNECT 4294967295" ]
}

@test "VSOCK-MUX: the OK line never reaches the client" {
	vmm firecracker
	run -0 "$VRELAY" -u - VSOCK-MUX:"$D/v.sock":52 <<<"x"
	[ "$output" = "" ]
}

@test "VSOCK-MUX: a VMM that closes without a reply is connection refused, exit 1" {
	vmm refuse
	run -1 "$VRELAY" - VSOCK-MUX:"$D/v.sock":52 <<<"x"
	[ "$output" = "vrelay: VSOCK-MUX:$D/v.sock:52: connect: Connection refused" ]
}

@test "VSOCK-MUX: refused connects are retried until the guest listens" {
	D=$BATS_TEST_TMPDIR
	# first VMM refuses (guest still booting), the second accepts
	start_bg bash -c "python3 '$VMM' '$D/v.sock' refuse '$D/r1' && rm -f '$D/v.sock' && python3 '$VMM' '$D/v.sock' vhost '$D/record'"
	wait_until 10 test -S "$D/v.sock"
	run -0 "$VRELAY" - VSOCK-MUX:"$D/v.sock":52,retry=100,interval=0.1 <<<"booted"
	[ "$output" = "BOOTED" ]
	[ "$(cat "$D/r1")" = "CONNECT 52" ]
}

@test "VSOCK-MUX: garbage instead of OK is an error that quotes it" {
	vmm garbage
	run -1 "$VRELAY" - VSOCK-MUX:"$D/v.sock":52 <<<"x"
	[ "$output" = "vrelay: VSOCK-MUX:$D/v.sock:52: unexpected reply from the VMM: \"ERR no such port\\n\"" ]
}

@test "VSOCK-MUX: an oversized reply is an error, not a hang" {
	vmm oversized
	run -1 timeout 10 "$VRELAY" - VSOCK-MUX:"$D/v.sock":52 <<<"x"
	[[ "$output" == *"oversized reply from the VMM (no newline in 64 bytes): \"OK 1111"* ]]
}

@test "VSOCK-MUX: a slow OK within reply-timeout connects" {
	vmm slow
	run -0 "$VRELAY" - VSOCK-MUX:"$D/v.sock":52,reply-timeout=5 <<<"slow"
	[ "$output" = "SLOW" ]
}

@test "VSOCK-MUX: no reply within reply-timeout is an error" {
	vmm silent
	run -1 "$VRELAY" - VSOCK-MUX:"$D/v.sock":52,reply-timeout=0.5 <<<"x"
	[ "$output" = "vrelay: VSOCK-MUX:$D/v.sock:52,reply-timeout=0.5: no complete reply from the VMM within 0.5 s" ]
}

@test "VSOCK-MUX: no-reply-ok tolerates a VMM that sends no OK line" {
	vmm silent
	run -0 "$VRELAY" - VSOCK-MUX:"$D/v.sock":52,reply-timeout=0.3,no-reply-ok <<<"old vmm"
	[ "$output" = "OLD VMM" ]
}

@test "VSOCK-MUX: no-reply-ok keeps a guest's first bytes that are no OK line" {
	vmm banner
	run -0 "$VRELAY" - VSOCK-MUX:"$D/v.sock":22,no-reply-ok <<<"client"
	[ "${lines[0]}" = $'SSH-2.0-guest\r' ]
	[ "${lines[1]}" = "CLIENT" ]
}

@test "VSOCK-MUX-LISTEN: listens on <udspath>_<port> for the guest's connections" {
	D=$BATS_TEST_TMPDIR
	start_relay mux VSOCK-MUX-LISTEN:"$D/v.sock":1024 SYSTEM:'read l; echo "host got $l"'
	[ -S "$D/v.sock_1024" ]
	# the VMM connects there when the guest connects to host port 1024
	run -0 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"from guest\n"); s.shutdown(socket.SHUT_WR)
print(s.makefile().read(), end="")' "$D/v.sock_1024"
	[ "$output" = "host got from guest" ]
}

@test "HYPERKIT-UNIX: connects to <dir>/connect and sends the 18-byte header" {
	D=$BATS_TEST_TMPDIR
	start_bg python3 "$VMM" "$D/connect" hyperkit "$D/record"
	wait_until 10 test -S "$D/connect"
	run -0 "$VRELAY" - HYPERKIT-UNIX:"$D":3:22 <<<"to the guest"
	[ "$output" = "TO THE GUEST" ]
	[ "$(wc -c <"$D/record")" -eq 18 ]
	[ "$(cat "$D/record")" = "00000003.00000016" ]
	[ "$(tail -c 1 "$D/record" | od -An -c | tr -d ' ')" = '\n' ]
}

@test "HYPERKIT-UNIX: large CID and port in lower-case hex" {
	D=$BATS_TEST_TMPDIR
	start_bg python3 "$VMM" "$D/connect" hyperkit "$D/record"
	wait_until 10 test -S "$D/connect"
	run -0 "$VRELAY" - HYPERKIT-UNIX:"$D":4294967295:3735928559 <<<"x"
	[ "$(cat "$D/record")" = "ffffffff.deadbeef" ]
}

@test "HYPERKIT-UNIX-LISTEN: listens on <dir>/00000002.<port in hex>" {
	D=$BATS_TEST_TMPDIR
	start_relay hk HYPERKIT-UNIX-LISTEN:"$D":1024 SYSTEM:'tr a-z A-Z'
	[ -S "$D/00000002.00000400" ]
	run -0 "$VRELAY" - UNIX-CONNECT:"$D/00000002.00000400" <<<"guest to host"
	[ "$output" = "GUEST TO HOST" ]
}

@test "VMM addresses: bad input is a usage error naming the address" {
	run -2 "$VRELAY" - VSOCK-MUX:/tmp/v.sock:port
	[ "$output" = 'vrelay: VSOCK-MUX:/tmp/v.sock:port: port: invalid number "port"' ]
	run -2 "$VRELAY" - VSOCK-MUX:/tmp/v.sock:4294967296
	[ "$output" = 'vrelay: VSOCK-MUX:/tmp/v.sock:4294967296: port: out of range (0..4294967295)' ]
	run -2 "$VRELAY" - VSOCK-MUX:/tmp/v.sock
	[[ "$output" == *"wrong number of parameters (1 given, VSOCK-MUX takes 2"* ]]
	run -2 "$VRELAY" - HYPERKIT-UNIX:/tmp:guest:22
	[ "$output" = 'vrelay: HYPERKIT-UNIX:/tmp:guest:22: cid: invalid "guest" (a number, or host, local, any, hypervisor)' ]
	long=/tmp/$(printf 'd%.0s' {1..100})
	run -2 "$VRELAY" - HYPERKIT-UNIX:"$long":3:22
	[[ "$output" == *'path: too long (113 bytes, at most 107)'* ]]
	run -2 "$VRELAY" VSOCK-MUX-LISTEN:"$long":22 -
	[[ "$output" == *'path: too long ('* ]]
	run -2 "$VRELAY" - VSOCK-MUX:/tmp/v.sock:22,reply-timeout=soon
	[[ "$output" == *'reply-timeout: invalid duration "soon"'* ]]
}
