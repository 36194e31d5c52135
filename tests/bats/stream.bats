#!/usr/bin/env bats
# stream.bats - STDIO, STDIN, STDOUT and FD:n against TCP peers: basics,
# 256 MiB both ways with regular files as stdin and stdout, a slow reader
# (backpressure: vrelay reads its input no faster than the reader takes it,
# and its memory stays bounded), half-close.

load helper
load tools/lib

setup_file() {
	make_big
}

teardown_file() {
	rm -f "$BIG"
}

@test "STDIO: echo hi | vrelay - TCP:echo-server prints hi" {
	start_vnet echo echo tcp:127.0.0.1:0
	run -0 --separate-stderr timeout 20 bash -c 'echo hi | "$VRELAY" - TCP:127.0.0.1:'"$SRV_PORT"
	[ "$output" = hi ]
	[ -z "$stderr" ]
}

@test "STDIO half-close: a request on stdin, EOF, and the whole reply on stdout" {
	local req="$BATS_TEST_TMPDIR/req"
	head -c 123456 "$BIG" >"$req"
	start_vnet sink sink tcp:127.0.0.1:0
	run -0 timeout 20 "$VRELAY" - TCP:127.0.0.1:"$SRV_PORT" <"$req"
	[ "$output" = "$(sum_of "$req")" ]
}

@test "STDIO<->TCP: 256 MiB from stdin (a regular file) reach a slow server intact; vrelay reads no faster than it" {
	local out="$BATS_TEST_TMPDIR/out" progress="$BATS_TEST_TMPDIR/progress" slow=8388608
	start_vnet sink sink tcp:127.0.0.1:0 --slow "$slow":65536:0.02 --progress "$progress" \
		--result "$BATS_TEST_TMPDIR/sink.result"
	start_bg_in "$BIG" "$VRELAY" -t 5 - TCP:127.0.0.1:"$SRV_PORT" >"$out" 2>"$BATS_TEST_TMPDIR/r.log"
	local pid=$LAST_PID end=$((SECONDS + 60)) maxrss=0 maxahead=0 samples=0 v got ahead
	# while the server is still in its slow phase, compare how far vrelay
	# has read its stdin (the file offset) with what the server has read
	while [ ! -s "$out" ] && [ "$SECONDS" -lt "$end" ]; do
		got=$(cat "$progress" 2>/dev/null) || got=0
		v=$(fd_pos "$pid" 0)
		if [ "${got:-0}" -lt "$slow" ]; then
			ahead=$((v - ${got:-0}))
			[ "$ahead" -gt "$maxahead" ] && maxahead=$ahead
			samples=$((samples + 1))
		fi
		v=$(rss_kb "$pid")
		[ "$v" -gt "$maxrss" ] && maxrss=$v
		sleep 0.05
	done
	wait_exit "$pid"
	[ "$STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/sink.result")" = "$BIG_SUM" ]
	[ "$(cat "$out")" = "$BIG_SUM" ]
	echo "# slow phase: $samples samples, vrelay at most $maxahead bytes ahead of the reader; max RSS $maxrss kB" >&3
	[ "$samples" -ge 5 ]
	# socket buffers hold some MiB; without backpressure it would be ~256 MiB
	[ "$maxahead" -lt 67108864 ]
	[ "$maxrss" -gt 0 ]
	[ "$maxrss" -lt 65536 ]
}

@test "STDIO<->TCP: 256 MiB from a TCP client reach stdout, a regular file, intact (vrelay -u TCP-LISTEN:0 - >file)" {
	local out="$BATS_TEST_TMPDIR/out"
	start_relay r -u TCP-LISTEN:0,bind=127.0.0.1 - >"$out"
	run -0 timeout 60 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --send "$BIG"
	[ -z "$output" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	[ "$(wc -c <"$out")" -eq "$BIG_SIZE" ]
	[ "$(sum_of "$out")" = "$BIG_SUM" ]
}

@test "STDIO: vrelay TCP-LISTEN:0 - >file <file relays both ways" {
	local out="$BATS_TEST_TMPDIR/out" in="$BATS_TEST_TMPDIR/in" mine="$BATS_TEST_TMPDIR/mine"
	head -c 300000 "$BIG" >"$in"
	tail -c 200000 "$BIG" >"$mine"
	start_relay_in "$in" r TCP-LISTEN:0,bind=127.0.0.1 - >"$out"
	# the client gets stdin's file; the file on stdout gets the client's data
	run -0 timeout 30 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --send "$mine" --recv-hash
	[ "$output" = "$(sum_of "$in")" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	cmp "$mine" "$out"
}

@test "STDOUT (one way): a server's 32 MiB reach a pipe intact; nothing is read from stdin" {
	local data="$BATS_TEST_TMPDIR/data"
	head -c 33554432 "$BIG" >"$data"
	start_vnet src source tcp:127.0.0.1:0 --file "$data" --result "$BATS_TEST_TMPDIR/src.result"
	run -0 timeout 30 bash -c '"$VRELAY" STDOUT TCP:127.0.0.1:'"$SRV_PORT"' <<<"not to be sent" | tee >(wc -c >"$BATS_TEST_TMPDIR/count") | sha256sum'
	[ "${output%% *}" = "$(sha256sum <"$data" | cut -d' ' -f1)" ]
	wait_until 10 test -s "$BATS_TEST_TMPDIR/count"
	[ "$(cat "$BATS_TEST_TMPDIR/count")" -eq 33554432 ]
	wait_until 10 test -s "$BATS_TEST_TMPDIR/src.result"
	[ "$(cat "$BATS_TEST_TMPDIR/src.result")" = "$(sum_of /dev/null)" ]
}

@test "STDIN (one way): stdin reaches the server; the server's reply is not printed" {
	local req="$BATS_TEST_TMPDIR/req"
	head -c 250000 "$BIG" >"$req"
	start_vnet sink sink tcp:127.0.0.1:0 --no-reply --result "$BATS_TEST_TMPDIR/sink.result"
	run -0 --separate-stderr timeout 20 "$VRELAY" STDIN TCP:127.0.0.1:"$SRV_PORT" <"$req"
	[ -z "$output" ]
	wait_until 10 test -s "$BATS_TEST_TMPDIR/sink.result"
	[ "$(cat "$BATS_TEST_TMPDIR/sink.result")" = "$(sum_of "$req")" ]
}

@test "FD:n: a socket inherited as fd 5 relays both ways, with half-close" {
	start_vnet sink sink tcp:127.0.0.1:0
	# fdpair gives vrelay one end of a socketpair as fd 5, sends the text
	# on the other end, shuts it down and prints what comes back
	run -0 timeout 20 python3 "$VNET" fdpair --fd 5 --text "through fd five" -- \
		"$VRELAY" FD:5 TCP:127.0.0.1:"$SRV_PORT"
	[ "$output" = "$(sum_of_text "through fd five")" ]
}

@test "FD:n: a file opened for reading on fd 7 (-u) and one for writing on fd 8 (-U)" {
	local req="$BATS_TEST_TMPDIR/req" out="$BATS_TEST_TMPDIR/out"
	head -c 400000 "$BIG" >"$req"
	start_vnet sink sink tcp:127.0.0.1:0 --no-reply --result "$BATS_TEST_TMPDIR/sink.result"
	run -0 timeout 20 "$VRELAY" -u FD:7 TCP:127.0.0.1:"$SRV_PORT" 7<"$req"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/sink.result"
	[ "$(cat "$BATS_TEST_TMPDIR/sink.result")" = "$(sum_of "$req")" ]

	start_vnet src source tcp:127.0.0.1:0 --file "$req"
	run -0 timeout 20 "$VRELAY" -U FD:8 TCP:127.0.0.1:"$SRV_PORT" 8>"$out"
	cmp "$req" "$out"
}

@test "STDIO: vrelay - TCP: with stdin a regular file and stdout a regular file" {
	local req="$BATS_TEST_TMPDIR/req" out="$BATS_TEST_TMPDIR/out"
	head -c 5000000 "$BIG" >"$req"
	start_vnet echo echo tcp:127.0.0.1:0
	# (not under "run", which would take stdout)
	timeout 30 "$VRELAY" - TCP:127.0.0.1:"$SRV_PORT" <"$req" >"$out"
	cmp "$req" "$out"
}
