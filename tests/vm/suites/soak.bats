#!/usr/bin/env bats
# soak.bats - 10,000 connections held at once by one "vrelay -M" process,
# twice, each echo verified byte for byte: at the peak the relay holds
# exactly two sockets per connection more than idle, after each round
# exactly as many as idle, and round 2 leaves RSS where round 1 left it.
#
# Why in the guest: a relay needs two sockets per connection, so 10,000
# connections need a little over 20,000 fds in one process.  On the build
# machines the hard fd limit may be 20,000 and root may lack
# CAP_SYS_RESOURCE to raise it (tests/bats/soak.bats then holds as many as
# fit); in the guest root has every capability, and the suite raises the
# limit to 65536.  The load is tools/loadecho.c (no python here), which
# run-all.sh builds on the host and passes in with -b.
#
# Loopback ports: 10,000 client connections and 10,000 relay -> echo
# connections each fit the default ephemeral range (32768-60999), and round
# 2 may reuse round 1's TIME_WAIT ports on loopback (tcp_tw_reuse=2, the
# default); no sysctl changes.  Under TCG on a busy 2-core machine a round
# takes minutes: every wait is bounded generously, none asserts a speed.

load guest
load ../../bats/helper
load ../../bats/tools/lib

# Not a vsock suite, but it counts on the guest's capabilities and load
setup_file() { require_test_guest; }

CONNS=10000
FDS=65536
# One round, connect to close, at most (a failure past it): rounds took
# 38-109 s under TCG, ASan build or not, with the machine busy or not
ROUND_SECS=300
RSS_SLACK_KB=4096	# round 2 may end this much above round 1 (see below)

setup() {
	LOADECHO=$(command -v loadecho) ||
		skip "no loadecho in the guest (tests/vm/run-all.sh builds tools/loadecho.c)"
	# soft and hard: root in the guest may raise the hard limit
	ulimit -n "$FDS"
	[ "$(ulimit -n)" -eq "$FDS" ]
}

# fd_kind PID KIND - how many of PID's fds are KIND (socket, pipe), from one
# look at the fd table (busybox ls -l shows where each link points)
fd_kind() {
	# shellcheck disable=SC2010  # the names are numbers; the targets matter
	ls -l "/proc/$1/fd" 2>/dev/null | grep -c -- "-> $2:" || true
}

# tcp_counters - the kernel's nonzero TCP counters that tell why a
# connection was lost or slow (listen queue overflows, aborts, memory
# pressure, retransmissions), for the TAP comments
tcp_counters() {
	awk '$1 == "TcpExt:" { if (!names) { names = 1; for (i = 2; i <= NF; i++) n[i] = $i; next }
		for (i = 2; i <= NF; i++)
			if ($i != 0 && n[i] ~ /^(Listen|TCPAbort|TCPMemory|TCPTimeouts|TCPSynRetrans|Syncookies|TCPBacklogDrop|TCPReqQFullDrop|TW)/)
				printf "%s=%s ", n[i], $i }' /proc/net/netstat | grep . || echo "no drops, aborts or timeouts"
}

# peak_or_gone FILE PID - FILE says the client holds every connection, or
# the client gave up
peak_or_gone() {
	[ -s "$1" ] || gone "$2"
}

# hold_round NAME - one round: $CONNS connections through the relay
# $RELAY_PID held at once, each echo verified; at the peak its sockets are
# exactly $BASE_SOCKS + 2 per connection, afterwards $BASE_SOCKS again.
# The client's output is in NAME.out
hold_round() {
	local name=$1 start=$SECONDS client peak_socks
	local peak="$BATS_TEST_TMPDIR/$name.peak" go="$BATS_TEST_TMPDIR/$name.go"
	local out="$BATS_TEST_TMPDIR/$name.out"
	start_bg timeout "$ROUND_SECS" "$LOADECHO" --timeout "$((ROUND_SECS - 30))" \
		hold tcp:127.0.0.1:"$PORT" -n "$CONNS" --peak "$peak" --go "$go" >"$out"
	client=$LAST_PID
	wait_until "$ROUND_SECS" peak_or_gone "$peak" "$client"
	cat "$out" >&2
	grep " [EW] " "$BATS_TEST_TMPDIR/r.log" | head -n 5 >&2
	echo "# $name: kernel: $(tcp_counters)" >&3
	echo "# $name: $(grep MemAvailable /proc/meminfo)" >&3
	[ "$(cat "$peak")" -eq "$CONNS" ]
	peak_socks=$(fd_kind "$RELAY_PID" socket)
	echo "# $name: at the peak vrelay -M holds $(fd_count "$RELAY_PID") fds ($peak_socks sockets," \
		"$(fd_kind "$RELAY_PID" pipe) pipes), RSS $(rss_kb "$RELAY_PID") kB" >&3
	[ "$peak_socks" -eq $((BASE_SOCKS + 2 * CONNS)) ]
	[ "$(count_children "$RELAY_PID")" -eq 0 ]
	touch "$go"
	wait_exit "$client" "$ROUND_SECS"
	cat "$out" >&2
	[ "$STATUS" = 0 ]
	grep -qx "verified $CONNS of $CONNS in .*" "$out"
	grep -qx "closed $CONNS of $CONNS in .*" "$out"
	# every socket of the round is closed again (the pipe pool may keep
	# idle pipes for the next data)
	wait_value 60 "$BASE_SOCKS" fd_kind "$RELAY_PID" socket
	echo "# $name: $(head -n 3 "$out" | tr "\n" ";") - round $((SECONDS - start))s" >&3
}

@test "-M: 10,000 connections held at once, twice, each echo verified; sockets back to the baseline, RSS flat" {
	local rss1 rss2 idle_rss base_fds
	start_bg "$LOADECHO" echo --port 0 --ready "$BATS_TEST_TMPDIR/echo.ready"
	wait_until 30 test -s "$BATS_TEST_TMPDIR/echo.ready"
	# An ASan build keeps freed memory in a quarantine (256 MB by default)
	# that would grow RSS round after round; without it, freed memory is
	# reused like glibc's.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
		start_relay r -M TCP-LISTEN:0,bind=127.0.0.1 TCP:127.0.0.1:"$(cat "$BATS_TEST_TMPDIR/echo.ready")"
	BASE_SOCKS=$(fd_kind "$RELAY_PID" socket)
	base_fds=$(fd_count "$RELAY_PID")
	idle_rss=$(rss_kb "$RELAY_PID")
	echo "# $CONNS connections at once (fd limit $(ulimit -n)); vrelay -M idle: $base_fds fds" \
		"($BASE_SOCKS sockets), RSS $idle_rss kB" >&3

	hold_round round1
	rss1=$(rss_kb "$RELAY_PID")
	hold_round round2
	rss2=$(rss_kb "$RELAY_PID")
	echo "# RSS kB: idle $idle_rss, after round 1 $rss1, after round 2 $rss2;" \
		"fds after: $(fd_count "$RELAY_PID") (idle $base_fds)" >&3
	# freed memory stays with the process (malloc keeps its heap), so RSS
	# never goes back to idle; but a second round that frees what it takes
	# reuses round 1's memory.  A leaked pump (800 bytes) per connection
	# would be +7.7 MB.
	[ "$rss2" -le $((rss1 + RSS_SLACK_KB)) ]
	# one process served every connection, without an error
	[ "$(sed -n 's/.* vrelay\[\([0-9]*\)\] .*/\1/p' "$BATS_TEST_TMPDIR/r.log" | sort -u)" = "$RELAY_PID" ]
	[ "$(grep -c "accepted connection" "$BATS_TEST_TMPDIR/r.log")" -eq $((2 * CONNS)) ]
	[ "$(grep -c " E " "$BATS_TEST_TMPDIR/r.log")" -eq 0 ]
	kill -TERM "$RELAY_PID"
	wait_exit "$RELAY_PID" 60
	[ "$STATUS" = 0 ]
}
