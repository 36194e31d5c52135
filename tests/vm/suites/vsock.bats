#!/usr/bin/env bats
# vsock.bats - VSOCK, HVSOCK and ACCEPT-FD against the guest kernel's real
# AF_VSOCK (vsock_loopback: CID 1).  Runs only in the test guest.

load guest
load ../../bats/helper

setup_file() { require_test_guest; }

@test "guard: this is the test guest, and vsock is not forbidden here" {
	in_test_guest
	[ -z "${VRELAY_FORBID_VSOCK:-}" ]
}

@test "VSOCK-LISTEN <- VSOCK-CONNECT: a line crosses, peer CID and port reach EXEC" {
	start_relay l VSOCK-LISTEN:5000 SYSTEM:'read l; echo "got $l from $VRELAY_PEERADDR port $SOCAT_PEERPORT"'
	[ "$PORT" = 5000 ]
	run -0 "$VRELAY" - VSOCK-CONNECT:1:5000 <<<"hello"
	[[ "$output" =~ ^"got hello from 1 port "[0-9]+$ ]]
}

@test "aliases and CID names: VSOCK-L and VSOCK:local" {
	start_relay l VSOCK-L:5001 SYSTEM:'tr a-z A-Z'
	run -0 "$VRELAY" - VSOCK:local:5001 <<<"named cid"
	[ "$output" = "NAMED CID" ]
}

@test "the local CID is logged at -dd" {
	start_relay l -u VSOCK-LISTEN:5002 STDOUT
	grep -q "local CID is 1" "$BATS_TEST_TMPDIR/l.log"
}

@test "socat as the peer: socat listens, vrelay connects; vrelay listens, socat connects" {
	start_bg socat VSOCK-LISTEN:5003 SYSTEM:'tr a-z A-Z'
	wait_listen vsock 5003 "$LAST_PID"
	run -0 "$VRELAY" - VSOCK-CONNECT:1:5003 <<<"to socat"
	[ "$output" = "TO SOCAT" ]
	start_relay l VSOCK-LISTEN:5004 SYSTEM:'tr a-z A-Z'
	run -0 socat - VSOCK-CONNECT:1:5004 <<<"from socat"
	[ "$output" = "FROM SOCAT" ]
}

@test "a TCP port relayed into vsock and back out to TCP (the classic host/guest chain)" {
	start_bg socat TCP-LISTEN:8080,bind=127.0.0.1,reuseaddr SYSTEM:'read l; echo "service: $l"'
	wait_listen tcp 8080 "$LAST_PID"
	start_relay g VSOCK-LISTEN:5005,fork TCP:127.0.0.1:8080
	start_relay h TCP-LISTEN:0,bind=127.0.0.1,fork VSOCK-CONNECT:1:5005
	run -0 "$VRELAY" - TCP:127.0.0.1:"$PORT" <<<"through vsock"
	[ "$output" = "service: through vsock" ]
}

@test "fork: 10 concurrent clients each get their own answer" {
	start_relay l VSOCK-LISTEN:5006,fork SYSTEM:'read l; echo "echo $l"'
	for i in $(seq 10); do
		("$VRELAY" - VSOCK-CONNECT:1:5006 <<<"client$i" >"$BATS_TEST_TMPDIR/out$i") &
	done
	wait_until 60 bash -c "[ \$(cat $BATS_TEST_TMPDIR/out* 2>/dev/null | wc -l) -eq 10 ]"
	for i in $(seq 10); do
		[ "$(cat "$BATS_TEST_TMPDIR/out$i")" = "echo client$i" ]
	done
	wait_value 10 0 zombies_of "$RELAY_PID"
	[ "$(zombies_of "$RELAY_PID")" -eq 0 ]
}

@test "many-connections mode: 20 clients held at once by one process" {
	start_bg socat TCP-LISTEN:8081,bind=127.0.0.1,reuseaddr,fork SYSTEM:'read l; echo "echo $l"'
	wait_listen tcp 8081 "$LAST_PID"
	start_relay l -M VSOCK-LISTEN:5007 TCP:127.0.0.1:8081
	for i in $(seq 20); do
		("$VRELAY" - VSOCK-CONNECT:1:5007 <<<"c$i" >"$BATS_TEST_TMPDIR/m$i") &
	done
	wait_until 60 bash -c "[ \$(cat $BATS_TEST_TMPDIR/m* 2>/dev/null | wc -l) -eq 20 ]"
	for i in $(seq 20); do
		[ "$(cat "$BATS_TEST_TMPDIR/m$i")" = "echo c$i" ]
	done
	[ "$(count_children "$RELAY_PID")" -eq 0 ]
}

@test "64 MiB keep their sha256 through vsock, client to listener and listener to client" {
	head -c 67108864 /dev/urandom >"$BATS_TEST_TMPDIR/data"
	want=$(sha256sum <"$BATS_TEST_TMPDIR/data" | cut -d' ' -f1)
	# client -> listener
	start_relay in -u VSOCK-LISTEN:5008 STDOUT >"$BATS_TEST_TMPDIR/got1"
	"$VRELAY" -u - VSOCK-CONNECT:1:5008 <"$BATS_TEST_TMPDIR/data"
	wait "$RELAY_PID"
	[ "$(sha256sum <"$BATS_TEST_TMPDIR/got1" | cut -d' ' -f1)" = "$want" ]
	# listener -> client (a background job's stdin is /dev/null: use fd 5)
	start_relay out -u FD:5 VSOCK-LISTEN:5009 5<"$BATS_TEST_TMPDIR/data"
	"$VRELAY" -U - VSOCK-CONNECT:1:5009 >"$BATS_TEST_TMPDIR/got2" </dev/null
	[ "$(sha256sum <"$BATS_TEST_TMPDIR/got2" | cut -d' ' -f1)" = "$want" ]
}

@test "half-close over vsock: the request ends with EOF, the whole reply comes back" {
	start_relay l VSOCK-LISTEN:5010 SYSTEM:'wc -c; sleep 0.2; echo done'
	head -c 100000 /dev/zero >"$BATS_TEST_TMPDIR/req"
	run -0 "$VRELAY" -t 5 - VSOCK-CONNECT:1:5010 <"$BATS_TEST_TMPDIR/req"
	[ "${lines[0]}" = "100000" ]
	[ "${lines[1]}" = "done" ]
}

@test "refused: nobody listens on the port, exit 1 with one line" {
	run -1 "$VRELAY" - VSOCK-CONNECT:1:5999 </dev/null
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "vrelay: VSOCK-CONNECT:1:5999: connect: "* ]]
}

@test "range= refuses a CID outside the list, admits one inside it" {
	start_relay l VSOCK-LISTEN:5011,fork,range=2-10,42 SYSTEM:'echo admitted'
	run "$VRELAY" - VSOCK-CONNECT:1:5011 </dev/null
	[ "$output" != "admitted" ]
	wait_until 10 grep -q "refused connection from vsock:1:" "$BATS_TEST_TMPDIR/l.log"
	start_relay m VSOCK-LISTEN:5012,fork,range=1 SYSTEM:'echo admitted'
	run -0 "$VRELAY" - VSOCK-CONNECT:1:5012 </dev/null
	[ "$output" = "admitted" ]
}

@test "buffer-size= on both ends carries a transfer; a tiny one is a usage error" {
	head -c 4194304 /dev/urandom >"$BATS_TEST_TMPDIR/d"
	start_relay l -u VSOCK-LISTEN:5013,buffer-size=1m STDOUT >"$BATS_TEST_TMPDIR/got"
	"$VRELAY" -u - VSOCK-CONNECT:1:5013,buffer-size=2m <"$BATS_TEST_TMPDIR/d"
	wait "$RELAY_PID"
	cmp "$BATS_TEST_TMPDIR/d" "$BATS_TEST_TMPDIR/got"
	run -2 "$VRELAY" - VSOCK-CONNECT:1:5013,buffer-size=12
	[[ "$output" == *"buffer-size: out of range (4096.."* ]]
}

@test "HVSOCK by template GUID reaches a VSOCK listener (GUID 0000139e-... is port 5022)" {
	start_relay l VSOCK-LISTEN:5022 SYSTEM:'echo vsock-side'
	run -0 "$VRELAY" - HVSOCK:loopback:0000139e-facb-11e6-bd58-64006a7986d3 </dev/null
	[ "$output" = "vsock-side" ]
}

@test "HVSOCK-LISTEN:wildcard takes a VSOCK client; :parent admits only CID 2" {
	start_relay l HVSOCK-LISTEN:wildcard:0000139f-FACB-11E6-BD58-64006A7986D3 SYSTEM:'echo hv-side'
	[ "$PORT" = 5023 ]
	run -0 "$VRELAY" - VSOCK-CONNECT:1:5023 </dev/null
	[ "$output" = "hv-side" ]
	start_relay p HVSOCK-LISTEN:parent:5024,fork SYSTEM:'echo hv-side'
	run "$VRELAY" - VSOCK-CONNECT:1:5024 </dev/null
	[ "$output" != "hv-side" ]
	wait_until 10 grep -q "refused connection from vsock:1:" "$BATS_TEST_TMPDIR/p.log"
}

@test "ACCEPT-FD with an inherited vsock listening socket (socket activation)" {
	: >"$BATS_TEST_TMPDIR/a.log"
	start_bg listen-fd vsock 5015 "$VRELAY" -dd ACCEPT-FD:3,fork SYSTEM:'echo "activated for $VRELAY_PEERADDR"' 2>"$BATS_TEST_TMPDIR/a.log"
	wait_until 10 grep -q "listening on inherited fd 3" "$BATS_TEST_TMPDIR/a.log"
	run -0 "$VRELAY" - VSOCK-CONNECT:1:5015 </dev/null
	[ "$output" = "activated for 1" ]
	run -0 "$VRELAY" - VSOCK-CONNECT:1:5015 </dev/null
	[ "$output" = "activated for 1" ]
}

@test "tls over VSOCK: VSOCK-LISTEN,tls (client certificates required) <-> VSOCK-CONNECT,tls and HVSOCK,tls; s_client over a vsock bridge" {
	command -v openssl >/dev/null || skip "openssl is not in the guest (run-all.sh copies it in)"
	load ../../bats/tools/tls
	make_certs "$BATS_TEST_TMPDIR/pki"
	start_relay l VSOCK-LISTEN:5060,fork,tls,cert="$PKI/server.pem",key="$PKI/server.key",cafile="$PKI/ca.pem" \
		SYSTEM:'tr a-z A-Z'
	run -0 --separate-stderr "$VRELAY" -d - \
		VSOCK-CONNECT:1:5060,tls,cafile="$PKI/ca.pem",commonname=localhost,cert="$PKI/client.pem",key="$PKI/client.key" \
		<<<"tls over vsock"
	[ "$output" = "TLS OVER VSOCK" ]
	[[ "$stderr" == *"TLS 1.3"*"peer certificate /CN=localhost"* ]]
	# the same listener through the Hyper-V spelling (GUID 000013c4-... is port 5060)
	run -0 --separate-stderr "$VRELAY" - \
		HVSOCK:loopback:000013c4-facb-11e6-bd58-64006a7986d3,tls,cafile="$PKI/ca.pem",commonname=localhost,cert="$PKI/client.pem",key="$PKI/client.key" \
		<<<"tls over hvsock"
	[ "$output" = "TLS OVER HVSOCK" ]
	# no client certificate: refused, and the plaintext side hears nothing
	run -1 --separate-stderr "$VRELAY" - VSOCK-CONNECT:1:5060,tls,cafile="$PKI/ca.pem",commonname=localhost \
		<<<"no cert"
	[ -z "$output" ]
	wait_until 10 grep -q "TLS handshake failed: peer did not return a certificate" "$BATS_TEST_TMPDIR/l.log"
	# a real TLS client: openssl s_client on TCP, bridged onto vsock
	start_relay b TCP-LISTEN:0 VSOCK-CONNECT:1:5060
	run -0 timeout 20 sh -c 'openssl s_client -quiet -no_ign_eof -verify_return_error -CAfile "$PKI/ca.pem" \
		-cert "$PKI/client.pem" -key "$PKI/client.key" -connect 127.0.0.1:'"$PORT"' </dev/null 2>/dev/null; true'
	wait_until 10 grep -q "peer certificate /CN=vrelay-test-client" "$BATS_TEST_TMPDIR/l.log"
}
