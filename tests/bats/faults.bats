#!/usr/bin/env bats
# faults.bats - what vrelay does when the world misbehaves: peers that
# reset, stop reading or half-close; running out of fds; full disks and
# children that leave early or crash; addresses in use or forbidden;
# ports that open late; SIGTERM in the middle of a transfer.
#
# The misbehaving peers are tools/badpeer.py; every wait polls a condition
# (a log line, a file, a process state) for a bounded time.  Traffic stays
# on 127.0.0.1 and unix sockets.

load helper
load tools/lib

BADPEER="$BATS_TEST_DIRNAME/tools/badpeer.py"
MIB=1048576

setup_file() {
	# 64 MiB is several times what the socket buffers and vrelay's pipes
	# can hold between a sender and a reader that stopped (about 2 x 6 MiB
	# of autotuned receive buffer, 2 x 4 MiB of send buffer, 2 x -b): the
	# sender must block
	head -c $((64 * MIB)) /dev/urandom >"$BATS_FILE_TMPDIR/data"
	head -c $((8 * MIB)) /dev/urandom >"$BATS_FILE_TMPDIR/left8"
	head -c $((8 * MIB)) /dev/urandom >"$BATS_FILE_TMPDIR/right8"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	DATA="$BATS_FILE_TMPDIR/data"
}

badpeer() {
	python3 "$BADPEER" "$@"
}

# start_peer NAME SUBCOMMAND ARGS... - a listening badpeer in the
# background (on 127.0.0.1, port 0); sets PEER_PID and PEER_PORT
start_peer() {
	local name=$1 sub=$2
	shift 2
	rm -f "$name.ready"
	start_bg python3 "$BADPEER" "$sub" --listen tcp:127.0.0.1:0 --ready "$name.ready" "$@"
	PEER_PID=$LAST_PID
	wait_until 10 test -s "$name.ready"
	PEER_PORT=$(cat "$name.ready")
}

# errors LOG - the error lines of a vrelay log, without the time stamp
errors() {
	sed -n 's/^.* vrelay\[[0-9]*\] E //p' "$1"
}

# is_prefix FILE - FILE is the first bytes of $DATA
is_prefix() {
	cmp -s -n "$(stat -c %s "$1")" "$1" "$DATA"
}

# cpu_ticks PID - user + system time of PID so far, in clock ticks
cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# wait_stalled FILE - poll FILE (a byte count a sender updates) until it
# has not changed for a second: the sender is blocked (at most 60 s)
wait_stalled() {
	local last=-1 same=0 v i
	for ((i = 0; i < 1500; i++)); do
		v=$(cat "$1" 2>/dev/null || echo 0)
		if [ "$v" = "$last" ]; then
			same=$((same + 1))
			[ "$same" -ge 25 ] && return 0
		else
			same=0
			last=$v
		fi
		sleep 0.04
	done
	echo "$1 kept changing" >&2
	return 1
}

# start_limited NAME NOFILE ARGS... - start_relay with "ulimit -n NOFILE"
# (soft and hard: vrelay -M raises the soft limit to the hard one)
start_limited() {
	local name=$1 nofile=$2
	shift 2
	local log="$BATS_TEST_TMPDIR/$name.log"
	: >"$log"
	(ulimit -n "$nofile" && exec "$VRELAY" -dd "$@") </dev/null 2>"$log" &
	RELAY_PID=$!
	BG_PIDS+=("$RELAY_PID")
	wait_until 10 grep -q "listening on" "$log" || { cat "$log" >&2; return 1; }
	PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$log" | head -n 1)
}

# echo_through PORT TEXT - one client through a relay to an echo service
echo_through() {
	timeout 10 socat -t 10 - "TCP:127.0.0.1:$1" <<<"$2"
}

# ---- a peer resets the connection mid-transfer ---------------------------------------

@test "reset: the right peer resets while sending: one error line, exit 1, the left gets an exact prefix and EOF" {
	start_peer p reset --send "$DATA" --after $((8 * MIB))
	start_relay r TCP4-LISTEN:0,bind=127.0.0.1 "TCP:127.0.0.1:$PEER_PORT"
	# the survivor only reads: it must see the end (socat -u ends at EOF)
	run -0 timeout 20 socat -u "TCP:127.0.0.1:$PORT" CREATE:got
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 1 ]
	[ "$(errors r.log)" = "TCP:127.0.0.1:$PEER_PORT: read: Connection reset by peer" ]
	is_prefix got
	[ "$(stat -c %s got)" -le $((8 * MIB)) ]
}

@test "reset: the left peer resets while sending: one error line, exit 1, the right gets an exact prefix and EOF" {
	start_peer sink sink --out got --done got.eof
	start_relay r TCP4-LISTEN:0,bind=127.0.0.1 "TCP:127.0.0.1:$PEER_PORT"
	run -0 badpeer reset --connect "tcp:127.0.0.1:$PORT" --send "$DATA" --after $((8 * MIB))
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 1 ]
	[ "$(errors r.log)" = "TCP4-LISTEN:0,bind=127.0.0.1: read: Connection reset by peer" ]
	wait_until 10 test -s got.eof
	is_prefix got
	[ "$(stat -c %s got)" -le $((8 * MIB)) ]
}

@test "reset: the right peer resets while receiving: one error line, exit 1, the sender is cut off" {
	start_peer p reset --count recv --out got --after $((8 * MIB))
	start_relay r TCP4-LISTEN:0,bind=127.0.0.1 "TCP:127.0.0.1:$PEER_PORT"
	# the sender sees its connection end (reset or broken pipe), not a hang
	run -1 timeout 20 socat -u - "TCP:127.0.0.1:$PORT" <"$DATA"
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 1 ]
	[[ "$(errors r.log)" =~ ^TCP:127.0.0.1:$PEER_PORT:\ (read|write):\ Connection\ reset\ by\ peer$ ]]
	is_prefix got
	[ "$(stat -c %s got)" -eq $((8 * MIB)) ]
}

@test "reset, fork: a reset ends its child with status 1; the listener keeps serving" {
	start_bg python3 "$VNET" echo tcp:127.0.0.1:0 --ready echo.ready
	wait_until 10 test -s echo.ready
	start_relay r TCP4-LISTEN:0,bind=127.0.0.1,fork "TCP:127.0.0.1:$(cat echo.ready)"
	run -0 badpeer reset --connect "tcp:127.0.0.1:$PORT" --send "$DATA" --after $((8 * MIB))
	wait_until 10 grep -q "exited with status 1" r.log
	# the echo coming back may meet the reset first: read or write
	[[ "$(errors r.log)" =~ ^TCP4-LISTEN:0,bind=127.0.0.1,fork:\ (read|write):\ Connection\ reset\ by\ peer$ ]]
	run -0 echo_through "$PORT" "still serving"
	[ "$output" = "still serving" ]
	kill -0 "$RELAY_PID"
}

@test "reset, -M: a reset ends that connection only; the listener keeps serving" {
	start_bg python3 "$VNET" echo tcp:127.0.0.1:0 --ready echo.ready
	wait_until 10 test -s echo.ready
	start_relay r -M TCP4-LISTEN:0,bind=127.0.0.1 "TCP:127.0.0.1:$(cat echo.ready)"
	run -0 badpeer reset --connect "tcp:127.0.0.1:$PORT" --send "$DATA" --after $((8 * MIB))
	wait_until 10 grep -q " E " r.log
	# the echo coming back may meet the reset first: read or write
	[[ "$(errors r.log)" =~ ^TCP4-LISTEN:0,bind=127.0.0.1:\ (read|write):\ Connection\ reset\ by\ peer$ ]]
	run -0 echo_through "$PORT" "still serving"
	[ "$output" = "still serving" ]
	kill -0 "$RELAY_PID"
	# the reset connection's fds are closed: listener, epoll, signal pipe
	# and stdio are what is left (pooled pipes aside)
	wait_value 10 0 fd_sockets_beyond_listener "$RELAY_PID"
}

# fd_sockets_beyond_listener PID - sockets PID holds besides its listener
fd_sockets_beyond_listener() {
	local n
	n=$(find "/proc/$1/fd" -mindepth 1 -lname 'socket:*' 2>/dev/null | wc -l)
	echo $((n - 1))
}

# ---- a reader that stops reading: backpressure ---------------------------------------

# backpressure [VRELAY OPTIONS...] - 64 MiB from a sender through vrelay to
# a reader that pauses after 1 MiB: once the sender is blocked, vrelay's
# memory must not have grown by more than its two transfer blocks (-b,
# 256 KiB each, the buffered path's whole store; the splice path keeps
# its bytes in kernel pipes of the same size) plus 1 MiB of slack for the
# allocator and the connection's own state; then everything arrives.
backpressure() {
	start_peer sink pausing --after "$MIB" --paused paused --go go --result result
	start_relay r "$@" TCP4-LISTEN:0,bind=127.0.0.1 "TCP:127.0.0.1:$PEER_PORT"
	local base max=0 v i bound=$((2 * 256 + 1024))
	base=$(rss_kb "$RELAY_PID")
	start_bg python3 "$BADPEER" send --connect "tcp:127.0.0.1:$PORT" --file "$DATA" --progress progress
	local sender=$LAST_PID
	wait_until 20 test -s paused
	wait_stalled progress
	[ "$(cat progress)" -lt $((64 * MIB)) ]
	for ((i = 0; i < 10; i++)); do
		v=$(rss_kb "$RELAY_PID")
		[ "$v" -gt "$max" ] && max=$v
		sleep 0.1
	done
	echo "RSS: baseline $base kB, stalled max $max kB (bound +$bound kB)"
	[ "$max" -gt 0 ]
	[ "$max" -le $((base + bound)) ]
	touch go
	wait_until 60 test -s result
	[ "$(cat result)" = "$(sum_of "$DATA")" ]
	wait_exit "$sender" 30
	[ "$STATUS" = 0 ]
}

@test "backpressure: a reader that stops: vrelay's memory stays flat, nothing is lost when it resumes" {
	backpressure
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "backpressure, buffered path (-r /dev/null): memory stays flat, nothing is lost" {
	backpressure -r /dev/null
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "backpressure, -M: memory stays flat, nothing is lost, the listener stays" {
	backpressure -M
	kill -0 "$RELAY_PID"
	[ -z "$(errors r.log)" ]
}

# ---- half-close in both orders ----------------------------------------------------------

# halfclose LEFT-ORDER RIGHT-ORDER - two halfclose peers through vrelay -t 30:
# each sends half its 8 MiB, then "first" sends the rest and shuts down at
# once, "last" waits for the other's EOF before it does
halfclose() {
	start_peer right halfclose --send "$BATS_FILE_TMPDIR/right8" --order "$2" --result right.result
	start_relay r -t 30 TCP4-LISTEN:0,bind=127.0.0.1 "TCP:127.0.0.1:$PEER_PORT"
	run -0 badpeer halfclose --connect "tcp:127.0.0.1:$PORT" --send "$BATS_FILE_TMPDIR/left8" \
		--order "$1" --result left.result
	wait_until 10 test -s right.result
	[ "$(cat right.result)" = "$(sum_of "$BATS_FILE_TMPDIR/left8")" ]
	[ "$(cat left.result)" = "$(sum_of "$BATS_FILE_TMPDIR/right8")" ]
	# both directions ended: vrelay ends with them, not 30 s (-t) later
	wait_exit "$RELAY_PID" 10
	[ "$STATUS" = 0 ]
	grep -q "end of input; shutting down the write side of TCP:127.0.0.1:$PEER_PORT" r.log
	grep -q "TCP:127.0.0.1:$PEER_PORT: end of input; shutting down the write side" r.log
}

@test "half-close: the left shuts down first, the right keeps sending: every byte arrives both ways" {
	halfclose first last
}

@test "half-close: the right shuts down first, the left keeps sending: every byte arrives both ways" {
	halfclose last first
}

# ---- out of file descriptors ------------------------------------------------------------

@test "EMFILE, -M: ulimit -n 32 and 100 connections: a bounded warning, no spinning, serving again after" {
	start_bg python3 "$VNET" echo tcp:127.0.0.1:0 --ready echo.ready
	wait_until 10 test -s echo.ready
	start_limited r 32 -M TCP4-LISTEN:0,bind=127.0.0.1 "TCP:127.0.0.1:$(cat echo.ready)"
	start_bg python3 "$BADPEER" hold --connect "tcp:127.0.0.1:$PORT" --count 100 --ready held --go go
	local holder=$LAST_PID t0 t1 n
	wait_until 20 test -s held
	wait_until 10 grep -q "Too many open files" r.log
	# two seconds out of fds: measure what it costs (not a sync)
	t0=$(cpu_ticks "$RELAY_PID")
	sleep 2
	t1=$(cpu_ticks "$RELAY_PID")
	echo "cpu ticks while out of fds: $((t1 - t0))"
	[ $((t1 - t0)) -le 50 ]
	kill -0 "$RELAY_PID"
	n=$(grep -c "Too many open files" r.log)
	echo "lines about it: $n"
	cat r.log | grep -v ' I ' | tail -5
	[ "$n" -le 10 ]
	touch go
	wait_exit "$holder"
	[ "$STATUS" = 0 ]
	run -0 echo_through "$PORT" "served again"
	[ "$output" = "served again" ]
}

@test "EMFILE, fork: ulimit -n 32 is per process: 60 connections at once are all served" {
	start_bg python3 "$VNET" echo tcp:127.0.0.1:0 --ready echo.ready
	wait_until 10 test -s echo.ready
	start_limited r 32 TCP4-LISTEN:0,bind=127.0.0.1,fork "TCP:127.0.0.1:$(cat echo.ready)"
	start_bg python3 "$VNET" many "tcp:127.0.0.1:$PORT" -n 60 --hold held --go go
	local many=$LAST_PID
	# every connection echoed while all 60 are open at once
	wait_until 30 test -e held
	touch go
	wait_exit "$many" 30
	[ "$STATUS" = 0 ]
	[ -z "$(errors r.log)" ]
	! grep -q "Too many open files" r.log
}

# ---- a file or a child that cannot take more -----------------------------------------------

@test "ENOSPC: STDOUT on /dev/full: one error line naming the address, exit 1, no busy loop" {
	run -1 --separate-stderr timeout 20 sh -c 'exec "$1" STDIN STDOUT <"$2" >/dev/full' sh "$VRELAY" "$DATA"
	[ "$stderr" = "vrelay: STDOUT: write: No space left on device" ]
}

@test "EPIPE: an EXEC child that exits after 10 bytes: its 10 bytes arrive, one line, exit 1, no SIGPIPE" {
	local try
	head -c 10 "$DATA" >want
	# the child's answer and our write into its closed socket race: try
	# it a number of times (its answer was lost about once in eight runs)
	# (not "i": bats's run uses that name)
	for ((try = 0; try < 20; try++)); do
		run -1 --separate-stderr timeout 20 sh -c 'exec "$1" - "EXEC:head -c 10" <"$2" >out' sh "$VRELAY" "$DATA"
		[[ "$stderr" =~ ^vrelay:\ EXEC:head\ -c\ 10:\ (write:\ Broken\ pipe|read:\ Connection\ reset\ by\ peer)$ ]]
		cmp out want
	done
}

# ---- an address that is taken or forbidden ---------------------------------------------

@test "in use: UNIX-LISTEN on a live listener's path: exit 1, one line; the other's socket file stays and serves" {
	start_relay first -t 10 "UNIX-LISTEN:$BATS_TEST_TMPDIR/s,fork" SYSTEM:'echo first'
	local inode
	inode=$(stat -c %i s)
	run -1 timeout 10 "$VRELAY" -M "UNIX-LISTEN:$BATS_TEST_TMPDIR/s" SYSTEM:'echo second'
	[ "$output" = "vrelay: UNIX-LISTEN:$BATS_TEST_TMPDIR/s: bind to $BATS_TEST_TMPDIR/s: Address already in use" ]
	[ -S s ]
	[ "$(stat -c %i s)" = "$inode" ]
	run -0 timeout 10 socat -t 10 - "UNIX-CONNECT:$BATS_TEST_TMPDIR/s" </dev/null
	[ "$output" = first ]
}

@test "in use: a stale socket file (no listener): exit 1 and the file is left alone; unlink-early takes it over" {
	# a socket file whose listener is gone: bound, never unlinked
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$BATS_TEST_TMPDIR/s"
	[ -S s ]
	run -1 timeout 10 socat -t 1 - "UNIX-CONNECT:$BATS_TEST_TMPDIR/s" </dev/null
	run -1 timeout 10 "$VRELAY" "UNIX-LISTEN:$BATS_TEST_TMPDIR/s" SYSTEM:'echo new'
	[ "$output" = "vrelay: UNIX-LISTEN:$BATS_TEST_TMPDIR/s: bind to $BATS_TEST_TMPDIR/s: Address already in use" ]
	[ -S s ]
	start_relay new -t 10 "UNIX-LISTEN:$BATS_TEST_TMPDIR/s,unlink-early" SYSTEM:'echo new'
	run -0 timeout 10 socat -t 10 - "UNIX-CONNECT:$BATS_TEST_TMPDIR/s" </dev/null
	[ "$output" = new ]
}

@test "in use: TCP-LISTEN,fork on a port in use: exit 1, one line; the first listener keeps serving" {
	start_relay first -t 10 TCP4-LISTEN:0,bind=127.0.0.1,fork SYSTEM:'echo first'
	run -1 timeout 10 "$VRELAY" "TCP4-LISTEN:$PORT,bind=127.0.0.1,fork" SYSTEM:'echo second'
	[ "$output" = "vrelay: TCP4-LISTEN:$PORT,bind=127.0.0.1,fork: bind to 127.0.0.1:$PORT: Address already in use" ]
	run -0 timeout 10 socat -t 10 - "TCP:127.0.0.1:$PORT" </dev/null
	[ "$output" = first ]
}

# as_nobody ARGS... - vrelay as user nobody (root passes every permission
# check), with nothing on stdin and a time limit
as_nobody() {
	timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups "$VRELAY" "$@" </dev/null
}

# open_dir - a directory nobody may enter but not write (the test's own
# temp dir may not be open to nobody); PD names it, teardown removes it
open_dir() {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
	PD=$(mktemp -d /tmp/vrelay-faults.XXXXXX)
	chmod 0755 "$PD"
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$VRELAY" ||
		skip "$VRELAY is not reachable for user nobody"
}

teardown() {
	teardown_pids
	[ -z "${PD:-}" ] || rm -rf "$PD"
}

@test "permission: UNIX-CONNECT to root's mode 0600 socket as nobody: one line, Permission denied, exit 1" {
	open_dir
	start_relay root -t 10 "UNIX-LISTEN:$PD/s,mode=0600,fork" SYSTEM:'echo root only'
	run -1 as_nobody "UNIX-CONNECT:$PD/s" -
	[ "$output" = "vrelay: UNIX-CONNECT:$PD/s: connect: Permission denied" ]
	run -0 timeout 10 socat -t 10 - "UNIX-CONNECT:$PD/s" </dev/null
	[ "$output" = "root only" ]
}

@test "permission: UNIX-LISTEN in a directory nobody cannot write: one line, Permission denied, exit 1" {
	open_dir
	run -1 as_nobody "UNIX-LISTEN:$PD/s" -
	[ "$output" = "vrelay: UNIX-LISTEN:$PD/s: bind to $PD/s: Permission denied" ]
	[ ! -e "$PD/s" ]
}

# ---- a port that opens later ---------------------------------------------------------------

@test "retry, fork: the child retries a port that opens later and the client's data flows" {
	local late
	late=$(python3 "$VNET" freeport)
	start_relay r TCP4-LISTEN:0,bind=127.0.0.1,fork "TCP:127.0.0.1:$late,retry=100,interval=0.1"
	echo "late data" >in
	start_bg_in in timeout 30 socat -u - "TCP:127.0.0.1:$PORT"
	wait_until 10 grep -q "connect to 127.0.0.1:$late: Connection refused" r.log
	start_relay srv "TCP4-LISTEN:$late,bind=127.0.0.1" SYSTEM:"cat >$BATS_TEST_TMPDIR/got"
	wait_until 10 grep -qx "late data" got
	[ -z "$(errors r.log)" ]
}

@test "retry, fork: retries exhausted: one error line, the child exits 1, the client sees the end, the listener serves on" {
	local late
	late=$(python3 "$VNET" freeport)
	start_relay r TCP4-LISTEN:0,bind=127.0.0.1,fork "TCP:127.0.0.1:$late,retry=2,interval=0.1"
	run -0 timeout 20 socat -t 20 - "TCP:127.0.0.1:$PORT" </dev/null
	[ -z "$output" ]
	wait_until 10 grep -q "exited with status 1" r.log
	[ "$(errors r.log)" = "TCP:127.0.0.1:$late,retry=2,interval=0.1: connect: Connection refused" ]
	[ "$(grep -c "connect to 127.0.0.1:$late: Connection refused" r.log)" -eq 3 ]
	run -0 timeout 20 socat -t 20 - "TCP:127.0.0.1:$PORT" </dev/null
	wait_value 10 2 grep -c "exited with status 1" r.log
	kill -0 "$RELAY_PID"
}

# ---- SIGTERM in the middle of a transfer -------------------------------------------------

# child_pids PID - the pids of PID's children
child_pids() {
	local p
	for p in /proc/[0-9]*/stat; do
		sed 's/^.*) //' "$p" 2>/dev/null | awk -v pp="$1" -v pid="${p//[^0-9]/}" '$2 == pp { print pid }'
	done
}

# size_is FILE BYTES
size_is() {
	[ "$(stat -c %s "$1")" = "$2" ]
}

# size_over FILE N - FILE has more than N bytes
size_over() {
	[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt "$2" ]
}

# mid_transfer - a sender to the relay on $PORT stops after 24 MiB of
# $DATA, with the connection open; returns once it all reached "out"
mid_transfer() {
	start_bg python3 "$BADPEER" send --connect "tcp:127.0.0.1:$PORT" --file "$DATA" \
		--pause-at $((24 * MIB)) --pause-at-file stopped --go never
	wait_until 20 test -s stopped
	wait_until 20 size_is out "$(cat stopped)"
}

@test "SIGTERM mid-transfer: exit 0, the output is an exact prefix of the input" {
	start_relay r -u TCP4-LISTEN:0,bind=127.0.0.1 STDOUT >out
	mid_transfer
	local sender=$LAST_PID
	term_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	is_prefix out
	[ "$(stat -c %s out)" = "$(cat stopped)" ]
	# the sender, let go again, finds the connection closed: not a hang
	touch never
	wait_exit "$sender"
	[ "$STATUS" != timeout ]
}

@test "SIGTERM while bytes flow: exit 0, the output is an exact prefix of what was sent" {
	# the signal lands while the sender writes as fast as it can, never in
	# a pause: the sender's stream has no end (numbered lines), so the
	# transfer cannot be over first.  Whatever was in flight may be lost,
	# but nothing may be cut out, doubled or garbled.
	start_relay r -u TCP4-LISTEN:0,bind=127.0.0.1 STDOUT >out
	start_bg sh -c 'python3 -c "$1" 2>/dev/null | socat -u - "TCP:127.0.0.1:$2"' - '
import itertools, sys
for j in itertools.count(0, 4096):
    sys.stdout.buffer.write(b"".join(b"%015d\n" % i for i in range(j, j + 4096)))' "$PORT"
	wait_until 20 size_over out $((4 * MIB))
	term_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	run -0 python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
lines = data.split(b"\n")
for i, line in enumerate(lines[:-1]):
    assert line == b"%015d" % i, "line %d is %r" % (i, line[:20])
assert (b"%015d" % (len(lines) - 1)).startswith(lines[-1]), "a garbled last line"
print(len(data))' out
	[ "$output" -gt $((4 * MIB)) ]
}

@test "SIGTERM mid-transfer, fork: the parent passes it on, exit 0, no child left, an exact prefix" {
	start_relay r -u TCP4-LISTEN:0,bind=127.0.0.1,fork STDOUT >out
	mid_transfer
	local child
	child=$(child_pids "$RELAY_PID")
	[ "$(wc -w <<<"$child")" = 1 ]
	kill -0 "$child"
	term_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	wait_until 10 gone "$child"
	is_prefix out
	[ "$(stat -c %s out)" = "$(cat stopped)" ]
}

# ---- a crashing child ---------------------------------------------------------------------------

@test "crash: an EXEC child killed by SIGSEGV in fork mode: the connection ends, one line names the signal, the listener serves on" {
	# -t 10: python may take longer to start than the default 0.5 s that
	# the relay waits for an answer after the client's EOF
	start_relay r -t 10 TCP4-LISTEN:0,bind=127.0.0.1,fork "EXEC:python3 $BADPEER crashy"
	run -0 timeout 10 socat -t 10 - "TCP:127.0.0.1:$PORT" <<<$'before\ncrash\nafter'
	[ "$output" = before ]
	# a warning: shown without -d too
	wait_until 10 grep -q " W child [0-9]* killed by signal 11 (Segmentation fault)" r.log
	[ "$(grep -c "killed by signal" r.log)" -eq 1 ]
	run -0 timeout 10 socat -t 10 - "TCP:127.0.0.1:$PORT" <<<"next one"
	[ "$output" = "next one" ]
	wait_value 10 0 zombies_of "$RELAY_PID"
	[ -z "$(errors r.log)" ]
}
