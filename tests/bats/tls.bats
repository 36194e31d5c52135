#!/usr/bin/env bats
# tls.bats - TLS by OpenSSL: OPENSSL (client) and OPENSSL-LISTEN (server)
# against openssl s_server / s_client as real peers, and TLS layered over
# other streams (UNIX) with the tls option.  Certificates are made fresh
# for the run by tools/tls.bash (a CA, a second CA, server, expired server
# and client certificates).

load helper
load tools/lib
load tools/tls

setup_file() {
	make_certs "$BATS_FILE_TMPDIR/pki"
	BIG64="$BATS_FILE_TMPDIR/big64"
	head -c 67108864 /dev/urandom >"$BIG64"
	BIG64_SUM=$(sum_of "$BIG64")
	export BIG64 BIG64_SUM
}

# the plaintext side of a failed handshake must get nothing: a TCP client
# that sends a request and records what comes back
plain_client() {
	vnet client tcp:127.0.0.1:"$1" --text "request" --out "$BATS_TEST_TMPDIR/plain.out" || true
}

# ---- the client: OPENSSL:host:port -------------------------------------------

@test "OPENSSL: verifies s_server's certificate against cafile=, data both ways, half-close keeps the replies" {
	s_server srv -rev -cert "$PKI/server.pem" -key "$PKI/server.key"
	run -0 --separate-stderr timeout 20 bash -c 'printf "hello\nworld\n" |
		"$VRELAY" -d OPENSSL:localhost:'"$SRV_PORT"',cafile="$PKI/ca.pem" -'
	# our EOF went out as close_notify first; s_server still answered both lines
	[ "$output" = "$(printf 'olleh\ndlrow')" ]
	[[ "$stderr" == *"TLS 1.3 "*"peer certificate /CN=localhost"* ]]
}

@test "OPENSSL: the host given is the name checked (IP literal checked against the IP SAN)" {
	s_server srv -rev -cert "$PKI/server.pem" -key "$PKI/server.key"
	run -0 timeout 20 bash -c 'echo abc | "$VRELAY" OPENSSL:127.0.0.1:'"$SRV_PORT"',cafile="$PKI/ca.pem" -'
	[ "$output" = cba ]
}

@test "OPENSSL: a server signed by another CA is refused: exit 1, OpenSSL's reason in one line, the plaintext side gets nothing" {
	s_server srv -rev -cert "$PKI/server.pem" -key "$PKI/server.key"
	start_relay relay TCP-LISTEN:0 OPENSSL:localhost:"$SRV_PORT",cafile="$PKI/other-ca.pem"
	plain_client "$PORT"
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 1 ]
	[ ! -s "$BATS_TEST_TMPDIR/plain.out" ]
	run grep -c ' E ' "$BATS_TEST_TMPDIR/relay.log"
	[ "$output" = 1 ]
	grep -q "OPENSSL:localhost:$SRV_PORT,cafile=.*: TLS handshake failed: certificate verify failed: unable to get local issuer certificate" \
		"$BATS_TEST_TMPDIR/relay.log"
}

@test "OPENSSL: an expired certificate is refused (exit 1, \"certificate has expired\")" {
	s_server srv -rev -cert "$PKI/expired.pem" -key "$PKI/server.key"
	run -1 --separate-stderr timeout 20 "$VRELAY" OPENSSL:localhost:"$SRV_PORT",cafile="$PKI/ca.pem" - </dev/null
	[ -z "$output" ]
	[[ "$stderr" == *"TLS handshake failed: certificate verify failed: certificate has expired"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ]
}

@test "OPENSSL: a name the certificate doesn't have is refused (commonname=, exit 1, \"hostname mismatch\")" {
	s_server srv -rev -cert "$PKI/server.pem" -key "$PKI/server.key"
	run -1 --separate-stderr timeout 20 "$VRELAY" \
		OPENSSL:127.0.0.1:"$SRV_PORT",cafile="$PKI/ca.pem",commonname=db.example - </dev/null
	[[ "$stderr" == *"certificate verify failed: hostname mismatch"* ]]
}

@test "OPENSSL: verify=0 accepts an unknown CA (and says nothing about it)" {
	s_server srv -rev -cert "$PKI/server.pem" -key "$PKI/server.key"
	run -0 --separate-stderr timeout 20 bash -c 'echo abc |
		"$VRELAY" OPENSSL:localhost:'"$SRV_PORT"',cafile="$PKI/other-ca.pem",verify=0 -'
	[ "$output" = cba ]
	[ -z "$stderr" ]
}

@test "OPENSSL: TLS 1.1 is refused by default, and min-version=1.3 refuses a TLS 1.2 server" {
	s_server srv -rev -cert "$PKI/server.pem" -key "$PKI/server.key" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'
	run -1 --separate-stderr timeout 20 "$VRELAY" OPENSSL:localhost:"$SRV_PORT",cafile="$PKI/ca.pem" - </dev/null
	[[ "$stderr" == *"TLS handshake failed: "*"protocol version"* ]]
	s_server srv2 -rev -cert "$PKI/server.pem" -key "$PKI/server.key" -tls1_2
	run -1 --separate-stderr timeout 20 "$VRELAY" \
		OPENSSL:localhost:"$SRV_PORT",cafile="$PKI/ca.pem",min-version=1.3 - </dev/null
	[[ "$stderr" == *"TLS handshake failed: "*"protocol version"* ]]
}

@test "OPENSSL: min-version=1.1 reaches a TLS 1.1 server when asked to" {
	s_server srv -rev -cert "$PKI/server.pem" -key "$PKI/server.key" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'
	run -0 --separate-stderr timeout 20 bash -c 'echo abc | "$VRELAY" -d \
		OPENSSL:localhost:'"$SRV_PORT"',cafile="$PKI/ca.pem",min-version=1.1,ciphers=DEFAULT@SECLEVEL=0 -'
	[ "$output" = cba ]
	[[ "$stderr" == *"TLS 1.1 "* ]]
}

@test "OPENSSL: alpn= offers protocols; the server's choice is logged; no common one is refused" {
	s_server srv -rev -cert "$PKI/server.pem" -key "$PKI/server.key" -alpn http/1.1
	run -0 --separate-stderr timeout 20 bash -c 'echo abc | "$VRELAY" -d \
		OPENSSL:localhost:'"$SRV_PORT"',cafile="$PKI/ca.pem",alpn=h2,http/1.1 -'
	[ "$output" = cba ]
	[[ "$stderr" == *", ALPN http/1.1"* ]]
}

@test "OPENSSL: 64 MiB from socat's OPENSSL-LISTEN arrive intact (sha256), its close_notify is the EOF" {
	# (s_server is no bulk sender: it reads its stdin in a command loop)
	local port
	port=$(python3 "$VNET" freeport)
	start_bg socat -u OPEN:"$BIG64" OPENSSL-LISTEN:"$port",bind=127.0.0.1,reuseaddr,cert="$PKI/server.pem",key="$PKI/server.key",verify=0
	wait_until 10 tcp_listening "$port"
	run -0 --separate-stderr timeout 60 bash -c '"$VRELAY" -u OPENSSL:localhost:'"$port"',cafile="$PKI/ca.pem" - </dev/null |
		sha256sum | cut -d" " -f1'
	[ "$output $(wc -c <"$BIG64")" = "$BIG64_SUM" ]
	[ -z "$stderr" ]
}

@test "OPENSSL: connect-timeout= also bounds the handshake (a TCP server that never answers)" {
	start_vnet mute sink tcp:127.0.0.1:0 --no-reply --hold 30
	run -1 --separate-stderr timeout 20 "$VRELAY" \
		OPENSSL:127.0.0.1:"$SRV_PORT",cafile="$PKI/ca.pem",connect-timeout=0.5 - </dev/null
	[[ "$stderr" == *"TLS handshake: timed out (connect-timeout=0.5)"* ]]
}

# ---- the server: OPENSSL-LISTEN:port ----------------------------------------

@test "OPENSSL-LISTEN: s_client verifies vrelay's certificate and talks to EXEC through it" {
	start_relay srv OPENSSL-LISTEN:0,cert="$PKI/server.pem",key="$PKI/server.key" EXEC:'tr a-z A-Z'
	run -0 timeout 20 bash -c 'echo shout | openssl s_client -quiet -no_ign_eof -verify_return_error \
		-CAfile "$PKI/ca.pem" -connect localhost:'"$PORT"' 2>/dev/null'
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	# s_client may quit at its EOF before the reply: the relay's log says what it sent
	grep -q "TLS 1.3 .* peer certificate none" "$BATS_TEST_TMPDIR/srv.log"
}

@test "OPENSSL-LISTEN: cafile= requires a client certificate: none is refused, one signed by the CA is served" {
	start_relay srv OPENSSL-LISTEN:0,fork,cert="$PKI/server.pem",key="$PKI/server.key",cafile="$PKI/ca.pem" \
		SYSTEM:'echo served'
	run timeout 20 bash -c 'openssl s_client -quiet -CAfile "$PKI/ca.pem" -connect localhost:'"$PORT"' </dev/null 2>&1'
	[[ "$output" != *served* ]]
	wait_until 10 grep -q "TLS handshake failed: peer did not return a certificate" "$BATS_TEST_TMPDIR/srv.log"
	run -0 timeout 20 bash -c 'openssl s_client -quiet -CAfile "$PKI/ca.pem" -cert "$PKI/client.pem" \
		-key "$PKI/client.key" -connect localhost:'"$PORT"' </dev/null 2>/dev/null'
	[ "$output" = served ]
	wait_until 10 grep -q "peer certificate /CN=vrelay-test-client" "$BATS_TEST_TMPDIR/srv.log"
}

@test "OPENSSL-LISTEN: a TLS 1.1 client is refused by default" {
	start_relay srv OPENSSL-LISTEN:0,cert="$PKI/server.pem",key="$PKI/server.key" SYSTEM:'echo served'
	run timeout 20 bash -c 'openssl s_client -quiet -tls1_1 -cipher DEFAULT@SECLEVEL=0 \
		-connect localhost:'"$PORT"' </dev/null 2>&1'
	[[ "$output" != *served* ]]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 1 ]
	grep -q "TLS handshake failed: unsupported protocol" "$BATS_TEST_TMPDIR/srv.log"
}

@test "OPENSSL-LISTEN: no shared cipher (ciphers=) is refused with that reason" {
	start_relay srv OPENSSL-LISTEN:0,cert="$PKI/server.pem",key="$PKI/server.key",ciphers=ECDHE-ECDSA-AES256-GCM-SHA384 \
		SYSTEM:'echo served'
	run timeout 20 bash -c 'openssl s_client -quiet -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 \
		-connect localhost:'"$PORT"' </dev/null 2>&1'
	[[ "$output" != *served* ]]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 1 ]
	grep -q "TLS handshake failed: no shared cipher" "$BATS_TEST_TMPDIR/srv.log"
}

@test "OPENSSL-LISTEN: alpn= picks the client's protocol that it knows (s_client shows it)" {
	start_relay srv OPENSSL-LISTEN:0,cert="$PKI/server.pem",key="$PKI/server.key",alpn=h2,http/1.1 \
		SYSTEM:'echo served'
	run -0 timeout 20 bash -c 'openssl s_client -ign_eof -alpn spdy/1,http/1.1 -CAfile "$PKI/ca.pem" \
		-connect localhost:'"$PORT"' </dev/null 2>/dev/null'
	[[ "$output" == *"ALPN protocol: http/1.1"* ]]
	[[ "$output" == *served* ]]
}

@test "OPENSSL-LISTEN: 64 MiB from s_client arrive intact (sha256), s_client's close_notify is the EOF" {
	start_relay srv -u OPENSSL-LISTEN:0,cert="$PKI/server.pem",key="$PKI/server.key" \
		SYSTEM:'sha256sum | cut -d" " -f1 >"$BATS_TEST_TMPDIR/up.sum"'
	# -nocommands: a chunk starting with Q would make s_client quit
	run -0 timeout 60 bash -c 'openssl s_client -quiet -no_ign_eof -nocommands -CAfile "$PKI/ca.pem" \
		-connect localhost:'"$PORT"' <"$BIG64" >/dev/null 2>&1'
	wait_exit "$RELAY_PID" 60
	[ "$STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/up.sum") $(wc -c <"$BIG64")" = "$BIG64_SUM" ]
}

@test "OPENSSL-LISTEN: 64 MiB to s_client arrive intact (sha256); our EOF is a close_notify" {
	start_relay_in "$BIG64" srv -U OPENSSL-LISTEN:0,cert="$PKI/server.pem",key="$PKI/server.key" STDIN
	run -0 timeout 60 bash -c 'openssl s_client -quiet -CAfile "$PKI/ca.pem" -connect localhost:'"$PORT"' \
		</dev/null 2>/dev/null | sha256sum | cut -d" " -f1'
	[ "$output $(wc -c <"$BIG64")" = "$BIG64_SUM" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "OPENSSL-LISTEN: a TLS 1.3 key update from s_client mid-stream; both directions go on" {
	local in="$BATS_TEST_TMPDIR/in" out="$BATS_TEST_TMPDIR/client.out"
	mkfifo "$in"
	start_relay srv OPENSSL-LISTEN:0,cert="$PKI/server.pem",key="$PKI/server.key" EXEC:cat
	# -no_ign_eof turns s_client's commands on: a line "K" is a KeyUpdate
	# that asks vrelay to update its keys too
	start_bg_in "$in" openssl s_client -quiet -no_ign_eof -CAfile "$PKI/ca.pem" -connect localhost:"$PORT" \
		>"$out" 2>"$BATS_TEST_TMPDIR/client.err"
	exec 5>"$in"
	echo before >&5
	wait_until 10 grep -q before "$out"
	echo K >&5
	wait_until 10 grep -q KEYUPDATE "$BATS_TEST_TMPDIR/client.err"
	echo after >&5
	wait_until 10 grep -q after "$out"
	exec 5>&-
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	[ "$(cat "$out")" = "$(printf 'before\nafter')" ]
}

@test "OPENSSL-LISTEN: bad cert/key/cafile files and missing cert= are usage errors (exit 2, one line)" {
	run -2 --separate-stderr "$VRELAY" OPENSSL-LISTEN:0 STDIO
	[[ "$stderr" == *"OPENSSL-LISTEN:0: a TLS server needs cert=FILE"* ]]
	run -2 --separate-stderr "$VRELAY" OPENSSL-LISTEN:0,cert=/nonexistent.pem STDIO
	[[ "$stderr" == *'cert: cannot load "/nonexistent.pem"'* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ]
	run -2 --separate-stderr "$VRELAY" OPENSSL-LISTEN:0,cert="$PKI/server.pem",key="$PKI/client.key" STDIO
	[[ "$stderr" == *"key: cannot load"*"key values mismatch"* ]]
	run -2 --separate-stderr "$VRELAY" OPENSSL:localhost:1,cafile=/nonexistent STDIO
	[[ "$stderr" == *'cafile: cannot load "/nonexistent"'* ]]
	run -2 --separate-stderr "$VRELAY" OPENSSL:localhost:1,min-version=1.4 STDIO
	[[ "$stderr" == *'min-version: unknown TLS version "1.4"'* ]]
	run -2 --separate-stderr "$VRELAY" OPENSSL:localhost:1,ciphers=NOSUCHCIPHER STDIO
	[[ "$stderr" == *'ciphers: no cipher in "NOSUCHCIPHER"'* ]]
	run -2 --separate-stderr "$VRELAY" TCP:localhost:1,cafile=x STDIO
	[[ "$stderr" == *"cafile= is a TLS option: add tls"* ]]
	run -2 --separate-stderr "$VRELAY" UNIX-SENDTO:/tmp/x,tls STDIO
	[[ "$stderr" == *'unknown option "tls"'* || "$stderr" == *"no tls"* ]]
	run -2 --separate-stderr "$VRELAY" TCP:localhost:1,tls,frames=qemu STDIO
	[[ "$stderr" == *"frames= and tls exclude each other"* ]]
	run -2 --separate-stderr "$VRELAY" 'TCP:localhost:1,tls!!STDOUT' STDIO
	[[ "$stderr" == *"tls on half of a dual address"* ]]
}

@test "vrelay -h OPENSSL lists the TLS options" {
	run -0 "$VRELAY" -h OPENSSL
	for o in cert=FILE key=FILE cafile=FILE capath=DIR verify commonname=NAME min-version= ciphers=LIST alpn=; do
		[[ "$output" == *"$o"* ]]
	done
	run -0 "$VRELAY" -h UNIX-LISTEN
	[[ "$output" == *"TLS options (with tls):"* ]]
	[[ "$output" == *"tls[=auto|client|server]"* ]]
}

# ---- vrelay on both ends, and TLS over other streams -----------------------

@test "OPENSSL <-> OPENSSL-LISTEN: 64 MiB each way at once, intact; mutual certificates" {
	skip_under_valgrind "the download must end within -t 0.5 s of the upload's end"
	start_relay srv OPENSSL-LISTEN:0,cert="$PKI/server.pem",key="$PKI/server.key",cafile="$PKI/ca.pem" \
		SYSTEM:"cat '$BIG64' & sha256sum | cut -d' ' -f1 >'$BATS_TEST_TMPDIR/srv.sum'; wait"
	run -0 timeout 60 bash -c '"$VRELAY" OPENSSL:localhost:'"$PORT"',cafile="$PKI/ca.pem",cert="$PKI/client.pem",key="$PKI/client.key" \
		- <"$BIG64" | sha256sum | cut -d" " -f1'
	[ "$output $(wc -c <"$BIG64")" = "$BIG64_SUM" ]
	wait_exit "$RELAY_PID" 30
	[ "$STATUS" = 0 ]
	wait_until 10 test -s "$BATS_TEST_TMPDIR/srv.sum"
	[ "$(cat "$BATS_TEST_TMPDIR/srv.sum") $(wc -c <"$BIG64")" = "$BIG64_SUM" ]
}

@test "tls over UNIX: UNIX-LISTEN,tls serves s_client -unix; UNIX-CONNECT,tls reaches s_server through a unix socket" {
	local sock="$BATS_TEST_TMPDIR/tls.sock"
	start_relay srv UNIX-LISTEN:"$sock",tls,cert="$PKI/server.pem",key="$PKI/server.key" SYSTEM:'echo over-unix'
	run -0 timeout 20 bash -c 'openssl s_client -quiet -verify_return_error -CAfile "$PKI/ca.pem" \
		-servername localhost -verify_hostname localhost -unix "'"$sock"'" </dev/null 2>/dev/null'
	[ "$output" = over-unix ]
	# a plain unix-to-TCP forwarder in front of s_server: the TLS bytes
	# of UNIX-CONNECT,tls cross a unix socket on their way
	local sock2="$BATS_TEST_TMPDIR/tls2.sock"
	s_server srv -rev -cert "$PKI/server.pem" -key "$PKI/server.key"
	start_relay fwd UNIX-LISTEN:"$sock2" TCP:127.0.0.1:"$SRV_PORT"
	run -0 --separate-stderr timeout 20 bash -c 'echo abc | "$VRELAY" -d \
		UNIX-CONNECT:"'"$sock2"'",tls,cafile="$PKI/ca.pem",commonname=localhost -'
	[ "$output" = cba ]
	[[ "$stderr" == *"TLS 1.3"* ]]
}

@test "tls over VSOCK-MUX: Firecracker's CONNECT/OK first, then TLS with the guest's s_server" {
	s_server srv -rev -cert "$PKI/server.pem" -key "$PKI/server.key"
	local sock="$BATS_TEST_TMPDIR/v.sock"
	start_bg python3 "$BATS_TEST_DIRNAME/tools/fake-vmm.py" "$sock" firecracker \
		"$BATS_TEST_TMPDIR/record" "$SRV_PORT"
	wait_until 10 test -S "$sock"
	run -0 --separate-stderr timeout 20 bash -c 'echo abc | "$VRELAY" -d \
		VSOCK-MUX:"'"$sock"'":443,tls,cafile="$PKI/ca.pem",commonname=localhost -'
	[ "$output" = cba ]
	[ "$(cat "$BATS_TEST_TMPDIR/record")" = "CONNECT 443" ]
	[[ "$stderr" == *"TLS 1.3"*"peer certificate /CN=localhost"* ]]
}

@test "tls over HYPERKIT-UNIX: the 18-byte header first, then TLS with the guest's s_server" {
	s_server srv -rev -cert "$PKI/server.pem" -key "$PKI/server.key"
	local d="$BATS_TEST_TMPDIR"
	start_bg python3 "$BATS_TEST_DIRNAME/tools/fake-vmm.py" "$d/connect" hyperkit "$d/record" "$SRV_PORT"
	wait_until 10 test -S "$d/connect"
	run -0 --separate-stderr timeout 20 bash -c 'echo abc | "$VRELAY" \
		HYPERKIT-UNIX:"'"$d"'":3:443,tls,cafile="$PKI/ca.pem",commonname=localhost -'
	[ "$output" = cba ]
	[ "$(cat "$d/record")" = "$(printf '%08x.%08x' 3 443)" ]
}

@test "tls=server on a connecting address, tls=client on an accepted one (roles swapped)" {
	local sock="$BATS_TEST_TMPDIR/r.sock"
	# the listener's side is the TLS client here
	start_relay srv UNIX-LISTEN:"$sock",tls=client,cafile="$PKI/ca.pem",commonname=localhost SYSTEM:'echo swapped'
	run -0 --separate-stderr timeout 20 "$VRELAY" \
		UNIX-CONNECT:"$sock",tls=server,cert="$PKI/server.pem",key="$PKI/server.key" - </dev/null
	[ "$output" = swapped ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	grep -q "TLS handshake as client" "$BATS_TEST_TMPDIR/srv.log"
}

@test "-M: 40 clients at once through a TLS terminator pair (handshakes never block the loop)" {
	start_vnet echo echo tcp:127.0.0.1:0
	local echo_port=$SRV_PORT
	start_relay back -M OPENSSL-LISTEN:0,cert="$PKI/server.pem",key="$PKI/server.key" TCP:127.0.0.1:"$echo_port"
	local back_port=$PORT
	start_relay front -M TCP-LISTEN:0 OPENSSL:localhost:"$back_port",cafile="$PKI/ca.pem"
	run -0 timeout 60 python3 "$VNET" many tcp:127.0.0.1:"$PORT" -n 40 --size 65536
	grep -c "TLS 1.3" "$BATS_TEST_TMPDIR/front.log" | grep -qx 40
}
