#!/usr/bin/env bats
# exec.bats - EXEC and SYSTEM relays: 256 MiB into a program and out of
# one, half-close (the program answers after EOF), echo both ways at once.

load helper
load tools/lib

setup_file() {
	make_big
}

teardown_file() {
	rm -f "$BIG"
}

@test "EXEC: 256 MiB from a TCP client reach the program intact (EXEC:'python3 vnet.py hash')" {
	local out="$BATS_TEST_TMPDIR/reply"
	start_relay r -t 5 TCP-LISTEN:0,bind=127.0.0.1 EXEC:"python3 $VNET hash"
	start_bg python3 "$VNET" client tcp:127.0.0.1:"$PORT" --send "$BIG" >"$out"
	local client=$LAST_PID maxrss
	maxrss=$(watch_rss "$RELAY_PID" "$out")
	wait_exit "$client"
	[ "$STATUS" = 0 ]
	# the program's answer after EOF: hash and byte count of what it read
	[ "$(cat "$out")" = "$BIG_SUM" ]
	[ "$maxrss" -lt 65536 ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "EXEC: 256 MiB from the program reach the TCP client intact (EXEC:'cat BIG')" {
	local out="$BATS_TEST_TMPDIR/got"
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 EXEC:"cat $BIG"
	run -0 timeout 60 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --no-shutdown --out "$out"
	[ "$(wc -c <"$out")" -eq "$BIG_SIZE" ]
	[ "$(sum_of "$out")" = "$BIG_SUM" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "EXEC half-close: the client shuts down its write side, EXEC:'wc -c' still answers" {
	local req="$BATS_TEST_TMPDIR/req"
	head -c 12345 "$BIG" >"$req"
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 EXEC:"wc -c"
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --send "$req"
	[ "$output" = 12345 ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "EXEC half-close with vrelay as the client: vrelay - TCP: <req to EXEC:sha256sum" {
	local req="$BATS_TEST_TMPDIR/req"
	head -c 2000000 "$BIG" >"$req"
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 EXEC:sha256sum
	run -0 timeout 20 "$VRELAY" - TCP:127.0.0.1:"$PORT" <"$req"
	[ "$output" = "$(sha256sum <"$req")" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "EXEC:cat echoes 16 MiB while the client is still sending (both directions at once)" {
	local req="$BATS_TEST_TMPDIR/req"
	head -c 16777216 "$BIG" >"$req"
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 EXEC:cat
	run -0 timeout 30 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --send "$req" --recv-hash
	[ "$output" = "$(sum_of "$req")" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "EXEC as the first address: EXEC:'wc -c' reads a server's data to EOF and answers it" {
	local req="$BATS_TEST_TMPDIR/req"
	head -c 54321 "$BIG" >"$req"
	start_vnet src source tcp:127.0.0.1:0 --file "$req" --result "$BATS_TEST_TMPDIR/src.result"
	run -0 timeout 20 "$VRELAY" EXEC:"wc -c" TCP:127.0.0.1:"$SRV_PORT"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/src.result"
	# what the server got back is wc's "54321\n"
	[ "$(cat "$BATS_TEST_TMPDIR/src.result")" = "$(sum_of_text $'54321\n')" ]
}

@test "SYSTEM: a shell pipeline answers after EOF (SYSTEM:'tr a-z A-Z | rev')" {
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 SYSTEM:'tr a-z A-Z | rev'
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --text $'hello system\n'
	[ "$output" = "METSYS OLLEH" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "EXEC half-close with nothing sent: EXEC:'wc -c' answers 0" {
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 EXEC:"wc -c"
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$PORT"
	[ "$output" = 0 ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "EXEC: the program sees who connected (VRELAY_PEERADDR, SOCAT_PEERADDR, ..._SOCKPORT)" {
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 SYSTEM:'echo "$VRELAY_PEERADDR $SOCAT_PEERADDR $VRELAY_SOCKADDR $VRELAY_SOCKPORT $SOCAT_SOCKPORT $VRELAY_PEERPORT"'
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --no-shutdown
	local -a w
	read -r -a w <<<"$output"
	[ "${w[0]}" = 127.0.0.1 ]
	[ "${w[1]}" = 127.0.0.1 ]
	[ "${w[2]}" = 127.0.0.1 ]
	[ "${w[3]}" = "$PORT" ]
	[ "${w[4]}" = "$PORT" ]
	[[ "${w[5]}" =~ ^[0-9]+$ ]]
}

@test "EXEC ...,stderr: the program's stderr goes into the relay too" {
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 SYSTEM:'cat; echo to-stderr >&2',stderr
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --text $'to-stdout\n'
	[ "$output" = $'to-stdout\nto-stderr' ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "EXEC of a program that does not exist: an error, status 1, the client is disconnected" {
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 EXEC:/nonexistent/program
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --read-first
	[ -z "$output" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 1 ]
	grep -q "exec /nonexistent/program: No such file or directory" "$BATS_TEST_TMPDIR/r.log"
}
