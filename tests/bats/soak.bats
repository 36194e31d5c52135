#!/usr/bin/env bats
# soak.bats - load and soak: 10,000 connections held at once by one -M
# process (twice: fds back to the baseline, RSS flat), the same over a
# UNIX listener, bursts of 1,000 into relays kept short of fds (none
# lost), and 1,000 fork-mode connections one after the other (no zombies, no fds
# left in the listener).  The load is tests/vm/tools/loadecho.c, built here
# with cc (the same tool holds 10,000 connections in the test guest,
# tests/vm/suites/soak.bats, where the fd limit can be raised; scripts/soak
# runs the same, bigger or longer, by hand).  Figures go to the TAP output
# as "# " lines.
#
# File descriptors: a -M connection costs the relay two sockets; pipes for
# splice(2) are taken from a pool only while data is in flight (pump.c), so
# at the peak of an echo round it holds 2 fds per connection plus a few
# (idle: stdio, the log, epoll, the signal pipe, the listener, the spare fd
# kept for RIGHT, pooled pipes).  -M raises its soft limit to the hard one
# itself; the client and the echo server, one fd per connection each,
# inherit the raised soft limit of setup().  10,000
# connections need a little over 20,000 fds in the relay: where the hard
# limit cannot be raised above that (raising it takes CAP_SYS_RESOURCE,
# which a container's root may lack), the test holds as many as fit and
# says so.  Loopback ports: 10,000 client connections and 10,000 relay ->
# echo connections each fit the default ephemeral range (32768-60999) on
# their own, and the second round's ports may reuse the first round's
# TIME_WAIT ones on loopback (tcp_tw_reuse's default); no sysctl changes.

load helper
load tools/lib

WANT_CONNS=10000
RSS_SLACK_KB=4096	# round 2 may end this much above round 1 (see below)

setup_file() {
	export LOADECHO="$BATS_FILE_TMPDIR/loadecho"
	cc -std=gnu11 -O2 -Wall -Wextra -o "$LOADECHO" "$BATS_TEST_DIRNAME/../vm/tools/loadecho.c"
}

setup() {
	raise_fd_limit 65536
	FDS=$(ulimit -n)
	# the relay's own fds and its pipe pool (64 pipes) stay below 256
	CONNS=$(((FDS - 256) / 2))
	[ "$CONNS" -le "$WANT_CONNS" ] || CONNS=$WANT_CONNS
}

# peak_or_gone FILE PID - FILE says the clients hold every connection, or
# the client gave up
peak_or_gone() {
	[ -s "$1" ] || gone "$2"
}

# hold_round NAME CONNECT - one round: $CONNS connections to CONNECT held at
# once by the relay $RELAY_PID, each echo verified; at the peak, the
# relay's sockets are exactly $BASE_SOCKS + 2 per connection.  Sets
# PEAK_FDS, PEAK_RSS and ROUND_SECS; the client's output is in NAME.out
hold_round() {
	local name=$1 connect=$2
	local peak="$BATS_TEST_TMPDIR/$name.peak" go="$BATS_TEST_TMPDIR/$name.go"
	local out="$BATS_TEST_TMPDIR/$name.out" start=$SECONDS client
	start_bg timeout 300 "$LOADECHO" --timeout 240 hold "$connect" -n "$CONNS" \
		--peak "$peak" --go "$go" >"$out"
	client=$LAST_PID
	wait_until 250 peak_or_gone "$peak" "$client"
	cat "$out" >&2
	grep " E " "$BATS_TEST_TMPDIR/r.log" | head -n 5 >&2
	[ "$(cat "$peak")" -eq "$CONNS" ]
	PEAK_FDS=$(fd_count "$RELAY_PID")
	PEAK_RSS=$(rss_kb "$RELAY_PID")
	echo "# $name: at the peak vrelay -M holds $PEAK_FDS fds ($(fd_pipes "$RELAY_PID") of them pipes), RSS $PEAK_RSS kB" >&3
	[ "$(fd_nonpipes "$RELAY_PID")" -eq $((BASE_SOCKS + 2 * CONNS)) ]
	[ "$(count_children "$RELAY_PID")" -eq 0 ]
	touch "$go"
	wait_exit "$client" 120
	cat "$out" >&2
	[ "$STATUS" = 0 ]
	grep -qx "verified $CONNS of $CONNS in .*" "$out"
	grep -qx "closed $CONNS of $CONNS in .*" "$out"
	# every socket of the round is closed again; the pipe pool may keep
	# up to 64 idle pipes (128 fds) for the next data
	wait_value 60 "$BASE_SOCKS" fd_nonpipes "$RELAY_PID"
	[ "$(fd_count "$RELAY_PID")" -le $((BASE_SOCKS + BASE_PIPES + 128)) ]
	ROUND_SECS=$((SECONDS - start))
	echo "# $name: $(head -n 3 "$out" | paste -sd ';') - round ${ROUND_SECS}s" >&3
}

# start_soak_relay LISTEN - the echo server and "vrelay -M LISTEN TCP:echo";
# sets BASE_SOCKS, BASE_PIPES and IDLE_RSS.  An ASan build keeps freed
# memory in a quarantine (256 MB by default) that would grow RSS round
# after round; without it, freed memory is reused like glibc's.
start_soak_relay() {
	[ "$CONNS" -ge 2000 ] || skip "fd limit $FDS: too low for this load"
	start_bg "$LOADECHO" echo tcp:127.0.0.1:0 --ready "$BATS_TEST_TMPDIR/echo.ready"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/echo.ready"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
		start_relay r -M "$1" TCP:127.0.0.1:"$(cat "$BATS_TEST_TMPDIR/echo.ready")"
	BASE_SOCKS=$(fd_nonpipes "$RELAY_PID")
	BASE_PIPES=$(fd_pipes "$RELAY_PID")
	IDLE_RSS=$(rss_kb "$RELAY_PID")
	echo "# $CONNS connections at once (fd limit $FDS); vrelay -M idle: $((BASE_SOCKS + BASE_PIPES)) fds, RSS $IDLE_RSS kB" >&3
}

@test "-M: 10,000 connections held at once, twice, each echo verified; fds back to the baseline, RSS flat" {
	start_soak_relay TCP-LISTEN:0,bind=127.0.0.1
	hold_round round1 tcp:127.0.0.1:"$PORT"
	local rss1 rss2
	rss1=$(rss_kb "$RELAY_PID")
	hold_round round2 tcp:127.0.0.1:"$PORT"
	rss2=$(rss_kb "$RELAY_PID")
	echo "# RSS kB: idle $IDLE_RSS, after round 1 $rss1, after round 2 $rss2" >&3
	# freed memory stays with the process (malloc keeps its heap), so RSS
	# never goes back to idle; but a second round that frees what it
	# takes reuses round 1's memory.  Measured: +0.1 MB (+1.1 MB with
	# ASan); a leaked pump (800 bytes) per connection would be +7.7 MB
	[ "$rss2" -le $((rss1 + RSS_SLACK_KB)) ]
	# one process served every connection
	[ "$(relay_pids "$BATS_TEST_TMPDIR/r.log")" = "$RELAY_PID" ]
	[ "$(grep -c "accepted connection" "$BATS_TEST_TMPDIR/r.log")" -eq $((2 * CONNS)) ]
	[ "$(grep -c " E " "$BATS_TEST_TMPDIR/r.log")" -eq 0 ]
	term_exit "$RELAY_PID" 60
	[ "$STATUS" = 0 ]
}

@test "-M: 10,000 connections held at once through a UNIX-LISTEN listener" {
	start_soak_relay UNIX-LISTEN:"$BATS_TEST_TMPDIR/s"
	hold_round unix unix:"$BATS_TEST_TMPDIR/s"
	[ "$(grep -c "accepted connection" "$BATS_TEST_TMPDIR/r.log")" -eq "$CONNS" ]
	[ "$(grep -c " E " "$BATS_TEST_TMPDIR/r.log")" -eq 0 ]
	term_exit "$RELAY_PID" 60
	[ "$STATUS" = 0 ]
}

# burst_at_fd_limit LIMIT - 1,000 connections at once (each sends, shuts
# its write side down, reads the echo and EOF) into "vrelay -M" with an fd
# limit of LIMIT: a few dozen fit at a time, the others must wait in the
# backlog, and at times no fd is left for a splice pipe.  None may be lost.
burst_at_fd_limit() {
	local base
	start_relay r -M TCP-LISTEN:0,bind=127.0.0.1 TCP:127.0.0.1:"$(cat "$BATS_TEST_TMPDIR/echo.ready")"
	prlimit --pid "$RELAY_PID" --nofile="$1:$1"
	base=$(fd_nonpipes "$RELAY_PID")
	run -0 timeout 120 python3 "$VNET" --timeout 100 many tcp:127.0.0.1:"$PORT" -n 1000 \
		--size 3000 --halfclose
	[ "$output" = "verified 1000 of 1000" ]
	echo "# fd limit $1: $(grep -c "Too many open files: pausing" "$BATS_TEST_TMPDIR/r.log") accept pauses" >&3
	grep " E " "$BATS_TEST_TMPDIR/r.log" | head -n 5 >&2
	[ "$(grep -c " E " "$BATS_TEST_TMPDIR/r.log")" -eq 0 ]
	wait_value 20 "$base" fd_nonpipes "$RELAY_PID"
	term_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "-M short of fds: bursts of 1,000 connections, none lost (accepts wait, RIGHT has its fd, pipes fall back to buffers)" {
	start_bg "$LOADECHO" echo tcp:127.0.0.1:0 --ready "$BATS_TEST_TMPDIR/echo.ready"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/echo.ready"
	# an odd and an even limit: whether accept() can take the very last
	# fd depends on the parity of what the relay holds
	burst_at_fd_limit 64
	burst_at_fd_limit 65
}

# fork_seq ADDRESS... - 1,000 connections one after the other through
# "vrelay TCP-LISTEN:0,fork ADDRESS", each with its own payload; then no
# child (and so no zombie) is left and the listener's fds are its baseline
fork_seq() {
	local base start=$SECONDS
	start_relay r TCP-LISTEN:0,bind=127.0.0.1,fork "$@"
	base=$(fd_count "$RELAY_PID")
	run -0 timeout 300 "$LOADECHO" --timeout 240 seq tcp:127.0.0.1:"$PORT" -n 1000
	[ "$output" = "verified 1000 of 1000" ]
	wait_value 30 0 count_children "$RELAY_PID"
	[ "$(zombies_of "$RELAY_PID")" -eq 0 ]
	wait_value 10 "$base" fd_count "$RELAY_PID"
	[ "$(grep -c "accepted connection" "$BATS_TEST_TMPDIR/r.log")" -eq 1000 ]
	echo "# fork $*: 1000 connections in sequence in $((SECONDS - start))s; listener fds $base before and after" >&3
	term_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "fork: 1,000 connections in sequence through a TCP echo server, no zombies, no fds left" {
	start_bg "$LOADECHO" echo tcp:127.0.0.1:0 --ready "$BATS_TEST_TMPDIR/echo.ready"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/echo.ready"
	fork_seq TCP:127.0.0.1:"$(cat "$BATS_TEST_TMPDIR/echo.ready")"
}

@test "fork: 1,000 connections in sequence through EXEC:cat, no zombies, no fds left" {
	fork_seq EXEC:cat
}
