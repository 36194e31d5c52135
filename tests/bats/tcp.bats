#!/usr/bin/env bats
# tcp.bats - TCP <-> TCP: 256 MiB intact both ways (with a slow reader and
# bounded memory), half-close in both directions, IPv6 loopback.

load helper
load tools/lib

setup_file() {
	make_big
}

teardown_file() {
	rm -f "$BIG"
}

# the relay: client -> vrelay TCP-LISTEN -> TCP -> server
@test "TCP<->TCP: 256 MiB from the client reach a slow server intact; vrelay's memory stays bounded" {
	local progress="$BATS_TEST_TMPDIR/progress" out="$BATS_TEST_TMPDIR/reply"
	# the server reads the first 8 MiB in 64 KiB steps 20 ms apart (~2.6 s)
	start_vnet sink sink tcp:127.0.0.1:0 --slow 8388608:65536:0.02 \
		--progress "$progress" --result "$BATS_TEST_TMPDIR/sink.result"
	start_relay r -t 5 TCP-LISTEN:0,bind=127.0.0.1 TCP:127.0.0.1:"$SRV_PORT"
	start_bg python3 "$VNET" client tcp:127.0.0.1:"$PORT" --send "$BIG" >"$out"
	local client=$LAST_PID maxrss
	maxrss=$(watch_rss "$RELAY_PID" "$out")
	wait_exit "$client"
	[ "$STATUS" = 0 ]
	# the server saw every byte (hash and count), and said so to the client
	[ "$(cat "$BATS_TEST_TMPDIR/sink.result")" = "$BIG_SUM" ]
	[ "$(cat "$out")" = "$BIG_SUM" ]
	# the reader really was slow for a while
	[ -s "$progress" ]
	echo "# vrelay max RSS: $maxrss kB" >&3
	[ "$maxrss" -gt 0 ]
	[ "$maxrss" -lt 65536 ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "TCP<->TCP: 256 MiB from the server reach the client intact" {
	local out="$BATS_TEST_TMPDIR/got"
	start_vnet src source tcp:127.0.0.1:0 --file "$BIG" --result "$BATS_TEST_TMPDIR/src.result"
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 TCP:127.0.0.1:"$SRV_PORT"
	# the client sends nothing and does not half-close: it reads to EOF
	run -0 timeout 60 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --no-shutdown --out "$out"
	[ "$(wc -c <"$out")" -eq "$BIG_SIZE" ]
	[ "$(sum_of "$out")" = "$BIG_SUM" ]
	# the server saw the client's EOF (passed on when the client closed)
	wait_until 10 test -s "$BATS_TEST_TMPDIR/src.result"
	[ "$(cat "$BATS_TEST_TMPDIR/src.result")" = "$(sum_of /dev/null)" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "TCP<->TCP half-close: the client shuts down its write side and still gets the whole reply" {
	local req="$BATS_TEST_TMPDIR/req"
	head -c 1000000 "$BIG" >"$req"
	# the server answers only after it has seen EOF
	start_vnet sink sink tcp:127.0.0.1:0
	# -d more: the log then says when EOF was passed on
	start_relay r -d TCP-LISTEN:0,bind=127.0.0.1 TCP:127.0.0.1:"$SRV_PORT"
	run -0 timeout 30 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --send "$req"
	[ "$output" = "$(sum_of "$req")" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	grep -q "end of input; shutting down the write side of TCP:127.0.0.1:$SRV_PORT" \
		"$BATS_TEST_TMPDIR/r.log"
}

@test "TCP<->TCP half-close the other way: the server shuts down first, the client's data still arrives" {
	local req="$BATS_TEST_TMPDIR/req"
	head -c 500000 "$BIG" >"$req"
	start_vnet src source tcp:127.0.0.1:0 --text "greeting from the server" --send-then-read \
		--result "$BATS_TEST_TMPDIR/src.result"
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 TCP:127.0.0.1:"$SRV_PORT"
	# the client reads to EOF first, then sends and half-closes
	run -0 timeout 30 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --read-first --send "$req"
	[ "$output" = "greeting from the server" ]
	wait_until 10 test -s "$BATS_TEST_TMPDIR/src.result"
	[ "$(cat "$BATS_TEST_TMPDIR/src.result")" = "$(sum_of "$req")" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "TCP<->TCP over IPv6 loopback: TCP6-LISTEN on ::1 to an IPv4 server" {
	if ! python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
		skip "no IPv6 on loopback"
	fi
	start_vnet sink sink tcp:127.0.0.1:0
	start_relay r TCP6-LISTEN:0,bind=[::1] TCP4:127.0.0.1:"$SRV_PORT"
	grep -q "listening on \[::1\]:$PORT" "$BATS_TEST_TMPDIR/r.log"
	run -0 timeout 30 python3 "$VNET" client "tcp:[::1]:$PORT" --text "over six"
	[ "$output" = "$(sum_of_text "over six")" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "TCP<->TCP half-close: a server that never answers is cut off -t seconds after the client's EOF" {
	start_vnet sink sink tcp:127.0.0.1:0 --no-reply --hold 60 --result "$BATS_TEST_TMPDIR/sink.result"
	start_relay r -t 1 TCP-LISTEN:0,bind=127.0.0.1 TCP:127.0.0.1:"$SRV_PORT"
	local t0 t1
	t0=$(date +%s%N)
	run -0 timeout 30 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --text "anyone there?"
	t1=$(date +%s%N)
	[ -z "$output" ]
	# the server got the request and its EOF
	wait_until 10 test -s "$BATS_TEST_TMPDIR/sink.result"
	[ "$(cat "$BATS_TEST_TMPDIR/sink.result")" = "$(sum_of_text "anyone there?")" ]
	# about -t 1 later, not at once and not when the server gives up (60 s)
	echo "# closed after $(((t1 - t0) / 1000000)) ms" >&3
	[ $((t1 - t0)) -ge 800000000 ]
	[ $((t1 - t0)) -lt 15000000000 ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}
