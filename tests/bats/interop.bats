#!/usr/bin/env bats
# interop.bats - socat and ncat as the peers on either side of vrelay, data
# checked in both directions.
#
# Notes on the peers: ncat closes the whole connection when the network
# side reaches EOF (also with --exec), so conversations with an ncat server
# do not half-close before the server's data has arrived.

load helper
load tools/lib

setup() {
	command -v socat >/dev/null || skip "socat is not installed"
	command -v ncat >/dev/null || skip "ncat is not installed"
	A="$BATS_TEST_TMPDIR/a"
	B="$BATS_TEST_TMPDIR/b"
	head -c 300000 /dev/urandom >"$A"
	head -c 200000 /dev/urandom >"$B"
}

# start_ncat_server NAME ARGS... - "ncat -v -l 127.0.0.1 PORT ARGS..." on a
# free port; waits for "Listening on"; sets NC_PORT and NC_PID.  stdin and
# stdout: NC_IN (default /dev/null) and NC_OUT (default /dev/null)
start_ncat_server() {
	local name=$1
	shift
	NC_PORT=$(vnet freeport)
	local log="$BATS_TEST_TMPDIR/$name.log"
	: >"$log"
	timeout 60 ncat -v -l 127.0.0.1 "$NC_PORT" "$@" <"${NC_IN:-/dev/null}" >"${NC_OUT:-/dev/null}" 2>"$log" &
	NC_PID=$!
	BG_PIDS+=("$NC_PID")
	wait_until 10 grep -q "Listening on" "$log"
}

# start_socat_server NAME ADDRESS - "socat -d -d TCP-LISTEN:PORT,... ADDRESS"
# on a free port; waits for "listening on"; sets SOCAT_PORT and SOCAT_PID
start_socat_server() {
	local name=$1 addr=$2
	SOCAT_PORT=$(vnet freeport)
	local log="$BATS_TEST_TMPDIR/$name.log"
	: >"$log"
	timeout 60 socat -d -d TCP-LISTEN:"$SOCAT_PORT",bind=127.0.0.1,reuseaddr "$addr" 2>"$log" &
	SOCAT_PID=$!
	BG_PIDS+=("$SOCAT_PID")
	wait_until 10 grep -q "listening on" "$log"
}

@test "socat client -> vrelay -> ncat server: data both ways" {
	local from_server="$BATS_TEST_TMPDIR/from_server" to_server="$BATS_TEST_TMPDIR/to_server"
	NC_IN="$A" NC_OUT="$to_server" start_ncat_server nc
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 TCP:127.0.0.1:"$NC_PORT"
	# the client's stdin ignores EOF: the conversation ends with the server's EOF
	run -0 timeout 20 bash -c 'socat -t 0.5 -,ignoreeof TCP:127.0.0.1:'"$PORT"' <"$1" >"$2"' _ "$B" "$from_server"
	cmp "$A" "$from_server"
	wait_exit "$NC_PID"
	[ "$STATUS" = 0 ]
	cmp "$B" "$to_server"
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "ncat client -> vrelay -> socat server: a request, half-close, the server's answer" {
	start_socat_server so SYSTEM:'sha256sum; echo done'
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 TCP:127.0.0.1:"$SOCAT_PORT"
	# ncat shuts its write side down at the end of stdin and reads on
	run -0 timeout 20 ncat 127.0.0.1 "$PORT" <"$A"
	[ "$output" = "$(sha256sum <"$A")"$'\n'"done" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "vrelay as the client of a socat listener: vrelay - TCP: <file >file through socat EXEC:cat" {
	local out="$BATS_TEST_TMPDIR/out"
	head -c 4000000 /dev/urandom >"$A"
	start_socat_server so EXEC:cat
	timeout 20 "$VRELAY" - TCP:127.0.0.1:"$SOCAT_PORT" <"$A" >"$out"
	cmp "$A" "$out"
	wait_exit "$SOCAT_PID"
	[ "$STATUS" = 0 ]
}

@test "vrelay as the listener for ncat --send-only: TCP-LISTEN:0 STDOUT >file" {
	local out="$BATS_TEST_TMPDIR/out"
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 STDOUT >"$out"
	run -0 timeout 20 ncat --send-only 127.0.0.1 "$PORT" <"$A"
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	cmp "$A" "$out"
}

@test "vrelay as the listener for ncat --recv-only: TCP-LISTEN:0 STDIN <file" {
	local out="$BATS_TEST_TMPDIR/out"
	start_relay_in "$A" r TCP-LISTEN:0,bind=127.0.0.1 STDIN
	timeout 20 ncat --recv-only 127.0.0.1 "$PORT" >"$out"
	cmp "$A" "$out"
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "ncat -e style echo through vrelay: client -> vrelay -> ncat -l --exec /bin/cat" {
	start_ncat_server nc --exec /bin/cat
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 TCP:127.0.0.1:"$NC_PORT"
	# ncat --exec ends at the network EOF: read the whole echo first, then
	# close.  20000 bytes: ncat 7.93's --exec stalls on echoes larger than
	# its pipes (with or without vrelay in between)
	head -c 20000 "$A" >"$B"
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --send "$B" --no-shutdown \
		--recv-bytes 20000 --recv-hash
	[ "$output" = "$(sum_of "$B")" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "vrelay as the -e: ncat client -> vrelay TCP-LISTEN EXEC:cat echoes everything" {
	local out="$BATS_TEST_TMPDIR/out"
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 EXEC:cat
	timeout 20 ncat 127.0.0.1 "$PORT" <"$A" >"$out"
	cmp "$A" "$out"
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "socat client -> vrelay UNIX-LISTEN -> socat server: data both ways" {
	local sock="$BATS_TEST_TMPDIR/s" out="$BATS_TEST_TMPDIR/out"
	start_socat_server so SYSTEM:'cat; echo trailer'
	start_relay r UNIX-LISTEN:"$sock" TCP:127.0.0.1:"$SOCAT_PORT"
	timeout 20 socat -t 5 - UNIX-CONNECT:"$sock" <"$A" >"$out"
	[ "$(wc -c <"$out")" -eq $((300000 + 8)) ]
	cmp -n 300000 "$A" "$out"
	[ "$(tail -c 8 "$out")" = trailer ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}
