#!/usr/bin/env bats
# unix.bats - UNIX <-> TCP: 256 MiB intact both ways, half-close both ways
# round (unix client to a TCP server, TCP client to a unix server).

load helper
load tools/lib

setup_file() {
	make_big
}

teardown_file() {
	rm -f "$BIG"
}

@test "UNIX<->TCP: 256 MiB from a unix client reach a TCP server intact" {
	local sock="$BATS_TEST_TMPDIR/s" out="$BATS_TEST_TMPDIR/reply"
	start_vnet sink sink tcp:127.0.0.1:0 --result "$BATS_TEST_TMPDIR/sink.result"
	start_relay r -t 5 UNIX-LISTEN:"$sock" TCP:127.0.0.1:"$SRV_PORT"
	start_bg python3 "$VNET" client unix:"$sock" --send "$BIG" >"$out"
	local client=$LAST_PID maxrss
	maxrss=$(watch_rss "$RELAY_PID" "$out")
	wait_exit "$client"
	[ "$STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/sink.result")" = "$BIG_SUM" ]
	[ "$(cat "$out")" = "$BIG_SUM" ]
	[ "$maxrss" -lt 65536 ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	# the listener's socket file is gone with it
	[ ! -e "$sock" ]
}

@test "UNIX<->TCP: 256 MiB from a TCP server reach the unix client intact" {
	local sock="$BATS_TEST_TMPDIR/s" out="$BATS_TEST_TMPDIR/got"
	start_vnet src source tcp:127.0.0.1:0 --file "$BIG" --result "$BATS_TEST_TMPDIR/src.result"
	start_relay r UNIX-LISTEN:"$sock" TCP:127.0.0.1:"$SRV_PORT"
	run -0 timeout 60 python3 "$VNET" client unix:"$sock" --no-shutdown --out "$out"
	[ "$(wc -c <"$out")" -eq "$BIG_SIZE" ]
	[ "$(sum_of "$out")" = "$BIG_SUM" ]
	wait_until 10 test -s "$BATS_TEST_TMPDIR/src.result"
	[ "$(cat "$BATS_TEST_TMPDIR/src.result")" = "$(sum_of /dev/null)" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "UNIX<->TCP half-close: a unix client shuts down its write side and still gets the TCP server's reply" {
	local sock="$BATS_TEST_TMPDIR/s" req="$BATS_TEST_TMPDIR/req"
	head -c 700000 "$BIG" >"$req"
	start_vnet sink sink tcp:127.0.0.1:0
	start_relay r UNIX-LISTEN:"$sock" TCP:127.0.0.1:"$SRV_PORT"
	run -0 timeout 30 python3 "$VNET" client unix:"$sock" --send "$req"
	[ "$output" = "$(sum_of "$req")" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "TCP<->UNIX half-close: a TCP client shuts down its write side and still gets the unix server's reply" {
	local req="$BATS_TEST_TMPDIR/req"
	head -c 700000 "$BIG" >"$req"
	start_vnet sink sink unix:"$BATS_TEST_TMPDIR/server.sock"
	start_relay r TCP-LISTEN:0,bind=127.0.0.1 UNIX-CONNECT:"$SRV_PORT"
	run -0 timeout 30 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --send "$req"
	[ "$output" = "$(sum_of "$req")" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "UNIX<->TCP half-close the other way: the TCP server shuts down first, the unix client's data still arrives" {
	local sock="$BATS_TEST_TMPDIR/s" req="$BATS_TEST_TMPDIR/req"
	head -c 300000 "$BIG" >"$req"
	start_vnet src source tcp:127.0.0.1:0 --text "unix greeting" --send-then-read \
		--result "$BATS_TEST_TMPDIR/src.result"
	start_relay r UNIX-LISTEN:"$sock" TCP:127.0.0.1:"$SRV_PORT"
	run -0 timeout 30 python3 "$VNET" client unix:"$sock" --read-first --send "$req"
	[ "$output" = "unix greeting" ]
	wait_until 10 test -s "$BATS_TEST_TMPDIR/src.result"
	[ "$(cat "$BATS_TEST_TMPDIR/src.result")" = "$(sum_of "$req")" ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "UNIX-LISTEN,fork: 50 clients; the socket file stays while it listens and goes when it ends" {
	local sock="$BATS_TEST_TMPDIR/s"
	start_vnet echo echo tcp:127.0.0.1:0
	start_relay r UNIX-LISTEN:"$sock",fork TCP:127.0.0.1:"$SRV_PORT"
	run -0 timeout 60 python3 "$VNET" many unix:"$sock" -n 50 --size 10000 --halfclose
	[ "$output" = "verified 50 of 50" ]
	wait_value 20 0 count_children "$RELAY_PID"
	# the children did not remove the parent's socket file
	[ -S "$sock" ]
	run -0 timeout 20 python3 "$VNET" client unix:"$sock" --text "still there"
	[ "$output" = "still there" ]
	term_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	[ ! -e "$sock" ]
}

# run_term_at SYSCALL ARGS... - "run" vrelay -dd ARGS with strace sending
# it SIGTERM as SYSCALL begins: the handler has run by the time vrelay
# blocks to wait, which must not swallow it.  (LeakSanitizer cannot work
# under ptrace: off for an ASan build.)
run_term_at() {
	local call=$1
	shift
	command -v strace >/dev/null || skip "strace is not installed"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		run -0 --separate-stderr timeout 20 strace -o /dev/null -e trace="$call" \
		-e inject="$call":signal=SIGTERM "$VRELAY" -dd "$@" </dev/null
}

@test "UNIX-LISTEN without fork: a SIGTERM that comes before the first accept() still ends vrelay, status 0" {
	local sock="$BATS_TEST_TMPDIR/s"
	run_term_at listen - UNIX-LISTEN:"$sock"
	[[ "$stderr" == *"listening on $sock"* ]]
	[ ! -e "$sock" ]
}

@test "UNIX-RECVFROM: a SIGTERM that comes before the first datagram is awaited still ends vrelay" {
	local sock="$BATS_TEST_TMPDIR/d"
	run_term_at bind UNIX-RECVFROM:"$sock" UNIX-CONNECT:"$BATS_TEST_TMPDIR/nobody",frames=qemu
	[[ "$stderr" == *"listening on $sock for the first datagram"* ]]
}
