#!/usr/bin/env bats
# options.bats - every address option and global flag does what it says,
# seen from outside: by a client, in the log, with stat, ss or strace.
# Traffic stays on 127.0.0.1/::1 and unix sockets in $BATS_TEST_TMPDIR.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# vr ARGS... - vrelay with nothing on stdin and a time limit
vr() {
	timeout 10 "$VRELAY" "$@" </dev/null
}

# talk PORT [SOCAT-OPTIONS] - one client: stdin in, answer out
talk() {
	timeout 5 socat -t 5 - "TCP:127.0.0.1:$1$2"
}

is_gone() {
	! kill -0 "$1" 2>/dev/null
}

# now_ms - monotonic enough wall clock in milliseconds
now_ms() {
	local t=${EPOCHREALTIME//[.,]/}
	echo $((t / 1000))
}

# closed_port - a loopback TCP port nobody listens on
closed_port() {
	start_relay closed TCP4-LISTEN:0,bind=127.0.0.1 STDIO </dev/null >/dev/null
	term "$RELAY_PID"
	[ "$EXIT" = 0 ]
	echo "$PORT"
}

# wait_exit PID - wait (bounded) for a background PID to end; its exit
# status in EXIT.  Not in $(...): a subshell cannot wait for our children.
wait_exit() {
	EXIT=
	wait_until 10 is_gone "$1" || return 1
	EXIT=0
	wait "$1" 2>/dev/null || EXIT=$?
}

# term PID - SIGTERM, then wait_exit
term() {
	kill -TERM "$1"
	wait_exit "$1"
}

# bg_stdin FILE COMMAND... - start_bg with stdin from FILE (a plain
# "command &" in a script gets /dev/null as its stdin)
bg_stdin() {
	local f=$1
	shift
	start_bg sh -c 'f=$1; shift; exec "$@" <"$f"' sh "$f" "$@"
}

# ---- listeners ------------------------------------------------------------------

@test "listen: fork serves several clients one after another" {
	start_relay f TCP4-LISTEN:0,bind=127.0.0.1,fork SYSTEM:cat
	local i
	for i in 1 2 3; do
		run talk "$PORT" <<<"client $i"
		[ "$output" = "client $i" ]
	done
	[ "$(grep -c 'accepted connection from 127.0.0.1:' f.log)" -eq 3 ]
	kill -0 "$RELAY_PID"
}

@test "listen: without fork the listener serves one client and stops listening" {
	start_relay once TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:cat
	run talk "$PORT" <<<"first"
	[ "$output" = first ]
	wait_exit "$RELAY_PID"
	[ "$EXIT" = 0 ]
	run --separate-stderr talk "$PORT" <<<"second"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Connection refused"* ]]
}

@test "listen: max-children=1 holds the second client until the first is gone" {
	start_relay mc TCP4-LISTEN:0,bind=127.0.0.1,fork,max-children=1 SYSTEM:cat
	local line
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	echo one >&7
	read -r -t 5 -u 7 line
	[ "$line" = one ]

	# the kernel completes the second handshake, but nobody serves it
	exec 8<>"/dev/tcp/127.0.0.1/$PORT"
	echo two >&8
	line=
	read -r -t 1 -u 8 line || true
	[ -z "$line" ]
	[ "$(grep -c 'accepted connection' mc.log)" -eq 1 ]

	# the first leaves: now the second gets its echo
	exec 7>&-
	read -r -t 5 -u 8 line
	[ "$line" = two ]
	exec 8>&-
	[ "$(grep -c 'accepted connection' mc.log)" -eq 2 ]
}

@test "listen: without max-children two clients are served at once" {
	start_relay mc TCP4-LISTEN:0,bind=127.0.0.1,fork SYSTEM:cat
	local line
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	echo one >&7
	read -r -t 5 -u 7 line
	[ "$line" = one ]
	exec 8<>"/dev/tcp/127.0.0.1/$PORT"
	echo two >&8
	read -r -t 5 -u 8 line
	[ "$line" = two ]
	exec 7>&- 8>&-
}

@test "listen: multi (-M) serves two clients at once in one process" {
	start_relay back TCP4-LISTEN:0,bind=127.0.0.1,fork SYSTEM:cat
	local bport=$PORT line
	start_relay m -M TCP4-LISTEN:0,bind=127.0.0.1 "TCP:127.0.0.1:$bport"
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	echo one >&7
	read -r -t 5 -u 7 line
	[ "$line" = one ]
	exec 8<>"/dev/tcp/127.0.0.1/$PORT"
	echo two >&8
	read -r -t 5 -u 8 line
	[ "$line" = two ]
	# no child process per connection
	[ "$(count_children "$RELAY_PID")" -eq 0 ]
	exec 7>&- 8>&-
}

@test "listen: multi,max-children=1 holds the second client until the first is gone" {
	start_relay back TCP4-LISTEN:0,bind=127.0.0.1,fork SYSTEM:cat
	local bport=$PORT line
	start_relay m TCP4-LISTEN:0,bind=127.0.0.1,multi,max-children=1 "TCP:127.0.0.1:$bport"
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	echo one >&7
	read -r -t 5 -u 7 line
	[ "$line" = one ]
	exec 8<>"/dev/tcp/127.0.0.1/$PORT"
	echo two >&8
	line=
	read -r -t 1 -u 8 line || true
	[ -z "$line" ]
	exec 7>&-
	read -r -t 5 -u 8 line
	[ "$line" = two ]
	exec 8>&-
}

@test "listen: backlog=5 is taken without complaint" {
	start_relay b TCP4-LISTEN:0,bind=127.0.0.1,backlog=5,fork SYSTEM:cat
	run talk "$PORT" <<<"backlog"
	[ "$output" = backlog ]
	[ "$(grep -c ' [EW] ' b.log)" -eq 0 ]
}

# make_time_wait - a listener on PORT that served a client and closed first,
# leaving a TIME-WAIT connection on that port
make_time_wait() {
	local line
	start_relay tw -t 0.2 TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:'echo hi'
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	read -r -t 5 -u 7 line
	[ "$line" = hi ]
	# vrelay ends 0.2 s after the child's EOF and closes first
	wait_exit "$RELAY_PID"
	[ "$EXIT" = 0 ]
	exec 7>&-
	ss -tan state time-wait "( sport = :$PORT )" | grep -q "127.0.0.1:$PORT"
}

@test "listen: reuseaddr is on by default: a restart on the same port works at once" {
	make_time_wait
	start_relay again "TCP4-LISTEN:$PORT,bind=127.0.0.1" SYSTEM:'echo again'
	grep -q "listening on 127.0.0.1:$PORT\$" again.log
	run talk "$PORT" </dev/null
	[ "$output" = again ]
}

@test "listen: reuseaddr=0 turns it off: the restart fails with EADDRINUSE" {
	make_time_wait
	run -1 vr "TCP4-LISTEN:$PORT,bind=127.0.0.1,reuseaddr=0" -
	[ "$output" = "vrelay: TCP4-LISTEN:$PORT,bind=127.0.0.1,reuseaddr=0: bind to 127.0.0.1:$PORT: Address already in use" ]
}

@test "listen: bind=127.0.0.1 listens on that address only" {
	start_relay b TCP-LISTEN:0,bind=127.0.0.1,fork SYSTEM:'echo bound'
	grep -qE "N TCP-LISTEN:0,bind=127.0.0.1,fork: listening on 127.0.0.1:$PORT\$" b.log
	run talk "$PORT" </dev/null
	[ "$output" = bound ]
	run --separate-stderr timeout 5 socat - "TCP:127.0.0.2:$PORT" </dev/null
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Connection refused"* ]]
}

@test "listen: range=127.0.0.1/32 admits a 127.0.0.1 client" {
	start_relay r TCP4-LISTEN:0,bind=127.0.0.1,range=127.0.0.1/32 SYSTEM:'echo admitted'
	run talk "$PORT" </dev/null
	[ "$output" = admitted ]
	[ "$(grep -c refused r.log)" -eq 0 ]
}

@test "listen: range= on a dual-stack listener matches IPv4 peers" {
	start_relay r TCP-LISTEN:0,range=127.0.0.0/8,fork SYSTEM:'echo admitted'
	run talk "$PORT" </dev/null
	[ "$output" = admitted ]
	# ::1 is not in 127.0.0.0/8
	run --separate-stderr timeout 5 socat -t 5 - "TCP6:[::1]:$PORT" </dev/null
	[ -z "$output" ]
	wait_until 5 grep -q 'refused connection from \[::1\]:' r.log
}

@test "listen: range=10.0.0.0/8 refuses 127.0.0.1; without fork it waits on for an allowed peer" {
	start_relay r TCP4-LISTEN:0,bind=127.0.0.1,range=10.0.0.0/8,127.0.0.2 SYSTEM:'echo served'
	run --separate-stderr talk "$PORT" </dev/null
	# the client saw the end (EOF or reset), it did not time out
	[ "$status" -ne 124 ]
	[ -z "$output" ]
	wait_until 5 grep -qE "W TCP4-LISTEN:0,bind=127.0.0.1,range=10.0.0.0/8,127.0.0.2: refused connection from 127.0.0.1:[0-9]+ \(not in range=\)\$" r.log
	# still listening
	kill -0 "$RELAY_PID"
	run talk "$PORT" ",bind=127.0.0.2" </dev/null
	[ "$output" = served ]
	grep -q "accepted connection from 127.0.0.2:" r.log
	wait_exit "$RELAY_PID"
	[ "$EXIT" = 0 ]
}

# ---- connectors ----------------------------------------------------------------------

@test "connect: connect-timeout gives up on a connect that hangs" {
	# a listener with backlog 0 that never accepts: once one connection
	# waits in its queue, the kernel drops further SYNs and connect hangs
	start_bg python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
time.sleep(30)
' >port.txt
	wait_until 5 test -s port.txt
	local port t0 t1
	port=$(cat port.txt)
	exec 7<>"/dev/tcp/127.0.0.1/$port"
	t0=$(now_ms)
	run -1 vr "TCP:127.0.0.1:$port,connect-timeout=1" -
	t1=$(now_ms)
	exec 7>&-
	[ "$output" = "vrelay: TCP:127.0.0.1:$port,connect-timeout=1: connect: Connection timed out" ]
	[ $((t1 - t0)) -ge 900 ]
	[ $((t1 - t0)) -lt 5000 ]
}

@test "connect: connect-timeout does not hurt a connect that works" {
	start_relay s TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:'echo quick'
	run -0 vr -t 5 - "TCP:127.0.0.1:$PORT,connect-timeout=2"
	[ "$output" = quick ]
}

@test "connect: retry=50,interval=0.1 reaches a port that opens later" {
	local port
	port=$(closed_port)
	echo "late data" >in
	bg_stdin in "$VRELAY" -dd -u - "TCP:127.0.0.1:$port,retry=50,interval=0.1" 2>client.log
	local client=$LAST_PID
	wait_until 5 grep -q "retrying in 0.1 s (attempt 3)" client.log
	start_relay srv "TCP4-LISTEN:$port,bind=127.0.0.1" SYSTEM:"cat >$BATS_TEST_TMPDIR/got"
	wait_until 5 grep -qx "late data" got
	wait_exit "$client"
	[ "$EXIT" = 0 ]
	grep -q "connected to 127.0.0.1:$port" client.log
}

@test "connect: retry exhausted exits 1 with the connect error" {
	local port t0 t1
	port=$(closed_port)
	t0=$(now_ms)
	run -1 vr "TCP:127.0.0.1:$port,retry=2,interval=0.2" -
	t1=$(now_ms)
	[ "$output" = "vrelay: TCP:127.0.0.1:$port,retry=2,interval=0.2: connect: Connection refused" ]
	# two waits of 0.2 s between three attempts
	[ $((t1 - t0)) -ge 400 ]
	run -1 vr -dd "TCP:127.0.0.1:$port,retry=2,interval=0.1" -
	[ "$(grep -c "connect to 127.0.0.1:$port: Connection refused" <<<"$output")" -eq 3 ]
	[[ "$output" == *"retrying in 0.1 s (attempt 3)"* ]]
	[[ "$output" != *"attempt 4"* ]]
}

@test "connect: forever retries until the port opens" {
	local port
	port=$(closed_port)
	echo "forever data" >in
	bg_stdin in "$VRELAY" -dd -u - "TCP:127.0.0.1:$port,forever,interval=0.1" 2>client.log
	local client=$LAST_PID
	wait_until 5 grep -q "(attempt 6)" client.log
	start_relay srv "TCP4-LISTEN:$port,bind=127.0.0.1" SYSTEM:"cat >$BATS_TEST_TMPDIR/got"
	wait_until 5 grep -qx "forever data" got
	wait_exit "$client"
	[ "$EXIT" = 0 ]
}

@test "connect: SIGTERM ends a connector waiting to retry, exit 0" {
	local port t0 t1
	port=$(closed_port)
	start_bg "$VRELAY" -dd - "TCP:127.0.0.1:$port,forever,interval=30" </dev/null 2>client.log
	local client=$LAST_PID
	wait_until 5 grep -q "retrying in 30 s" client.log
	t0=$(now_ms)
	kill -TERM "$client"
	wait_exit "$client"
	[ "$EXIT" = 0 ]
	t1=$(now_ms)
	[ $((t1 - t0)) -lt 3000 ]
}

@test "connect: bind=127.0.0.2 makes the server see 127.0.0.2" {
	start_relay s TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:'echo "$VRELAY_PEERADDR $SOCAT_PEERADDR"'
	run -0 vr -t 5 - "TCP:127.0.0.1:$PORT,bind=127.0.0.2"
	[ "$output" = "127.0.0.2 127.0.0.2" ]
	grep -q "accepted connection from 127.0.0.2:" s.log
}

@test "connect: bind=127.0.0.2:PORT picks the source port too" {
	local sport
	sport=$(closed_port)
	start_relay s TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:'echo "$VRELAY_PEERADDR:$VRELAY_PEERPORT"'
	run -0 vr -t 5 - "TCP:127.0.0.1:$PORT,bind=127.0.0.2:$sport"
	[ "$output" = "127.0.0.2:$sport" ]
}

# ---- socket options ---------------------------------------------------------------------

@test "sockets: rcvbuf and sndbuf on a listener set the accepted socket's buffers" {
	start_relay s TCP4-LISTEN:0,bind=127.0.0.1,rcvbuf=100000,sndbuf=50000 SYSTEM:cat
	local line
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	echo buf >&7
	read -r -t 5 -u 7 line
	[ "$line" = buf ]
	run ss -tnm state established "( sport = :$PORT )"
	exec 7>&-
	# the kernel doubles what SO_RCVBUF/SO_SNDBUF ask for
	[[ "$output" == *"rb200000,"* ]]
	[[ "$output" == *"tb100000,"* ]]
}

@test "sockets: rcvbuf on a connector sets its socket's buffer" {
	start_relay s TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:cat
	mkfifo feed
	# open read-write first: opening a fifo for one side only blocks
	exec 7<>feed
	bg_stdin feed "$VRELAY" - "TCP:127.0.0.1:$PORT,rcvbuf=100000" >out
	echo ping >&7
	wait_until 5 grep -qx ping out
	run ss -tnm state established "( dport = :$PORT )"
	exec 7>&-
	[[ "$output" == *"rb200000,"* ]]
}

@test "sockets: keepalive arms the keepalive timer, and only with the option" {
	start_relay k TCP4-LISTEN:0,bind=127.0.0.1,fork,keepalive SYSTEM:cat
	local kport=$PORT line
	start_relay n TCP4-LISTEN:0,bind=127.0.0.1,fork SYSTEM:cat
	local nport=$PORT
	exec 7<>"/dev/tcp/127.0.0.1/$kport" 8<>"/dev/tcp/127.0.0.1/$nport"
	echo k >&7
	echo n >&8
	read -r -t 5 -u 7 line
	read -r -t 5 -u 8 line
	run ss -tno state established "( sport = :$kport )"
	[[ "$output" == *"timer:(keepalive"* ]]
	run ss -tno state established "( sport = :$nport )"
	exec 7>&- 8>&-
	[[ "$output" == *"127.0.0.1:$nport"* ]]
	[[ "$output" != *"keepalive"* ]]
}

@test "sockets: nodelay sets TCP_NODELAY (strace) and the relay works" {
	start_relay s TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:'echo delayless'
	# LeakSanitizer cannot run under ptrace: off for a sanitizer build
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		run -0 timeout 10 strace -f -o trace -e trace=setsockopt \
		"$VRELAY" -t 5 - "TCP:127.0.0.1:$PORT,nodelay,keepalive" </dev/null
	[ "$output" = delayless ]
	grep -q 'TCP_NODELAY, \[1\]' trace
	grep -q 'SO_KEEPALIVE, \[1\]' trace
}

@test "sockets: the socket options on both ends are accepted and the relay works" {
	start_relay s TCP4-LISTEN:0,bind=127.0.0.1,nodelay,keepalive,rcvbuf=64k,sndbuf=64k SYSTEM:cat
	run -0 timeout 5 "$VRELAY" -t 5 - "TCP:127.0.0.1:$PORT,nodelay=0,keepalive=1,rcvbuf=32k,sndbuf=1m" <<<"options"
	[ "$output" = options ]
	[ "$(grep -c ' [EW] ' s.log)" -eq 0 ]
}

# ---- unix sockets -----------------------------------------------------------------------

@test "unix: without unlink-early a stale file blocks the listener" {
	echo stale >s
	run -1 vr "UNIX-LISTEN:$BATS_TEST_TMPDIR/s" -
	[ "$output" = "vrelay: UNIX-LISTEN:$BATS_TEST_TMPDIR/s: bind to $BATS_TEST_TMPDIR/s: Address already in use" ]
	[ "$(cat s)" = stale ]
}

@test "unix: unlink-early removes a stale file first" {
	echo stale >s
	start_relay u "UNIX-LISTEN:$BATS_TEST_TMPDIR/s,unlink-early" SYSTEM:'echo fresh'
	[ -S s ]
	run timeout 5 socat -t 5 - "UNIX-CONNECT:$BATS_TEST_TMPDIR/s" </dev/null
	[ "$output" = fresh ]
}

@test "unix: the socket file is removed when the relay ends (unlink-close default)" {
	start_relay u "UNIX-LISTEN:$BATS_TEST_TMPDIR/s" SYSTEM:'echo bye'
	[ -S s ]
	run timeout 5 socat -t 5 - "UNIX-CONNECT:$BATS_TEST_TMPDIR/s" </dev/null
	[ "$output" = bye ]
	wait_exit "$RELAY_PID"
	[ "$EXIT" = 0 ]
	[ ! -e s ]
}

@test "unix: a listener ended by SIGTERM removes its socket file" {
	start_relay u "UNIX-LISTEN:$BATS_TEST_TMPDIR/s,fork" SYSTEM:'echo bye'
	[ -S s ]
	term "$RELAY_PID"
	[ "$EXIT" = 0 ]
	[ ! -e s ]
}

@test "unix: a fork child leaves the socket file alone; the parent removes it" {
	start_relay u "UNIX-LISTEN:$BATS_TEST_TMPDIR/s,fork" SYSTEM:cat
	local i
	for i in 1 2; do
		run timeout 5 socat -t 5 - "UNIX-CONNECT:$BATS_TEST_TMPDIR/s" <<<"fork $i"
		[ "$output" = "fork $i" ]
	done
	# both children have ended
	wait_value 5 0 count_children "$RELAY_PID"
	[ -S s ]
	run timeout 5 socat -t 5 - "UNIX-CONNECT:$BATS_TEST_TMPDIR/s" <<<"fork 3"
	[ "$output" = "fork 3" ]
	term "$RELAY_PID"
	[ "$EXIT" = 0 ]
	[ ! -e s ]
}

@test "unix: unlink-close=0 keeps the socket file" {
	start_relay u "UNIX-LISTEN:$BATS_TEST_TMPDIR/s,unlink-close=0" SYSTEM:'echo bye'
	run timeout 5 socat -t 5 - "UNIX-CONNECT:$BATS_TEST_TMPDIR/s" </dev/null
	[ "$output" = bye ]
	wait_exit "$RELAY_PID"
	[ "$EXIT" = 0 ]
	[ -S s ]
}

@test "unix: mode=0600 sets the socket file's permissions" {
	start_relay m "UNIX-LISTEN:$BATS_TEST_TMPDIR/s,mode=0600" STDIO </dev/null
	[ "$(stat -c %a s)" = 600 ]
	start_relay m2 "UNIX-LISTEN:$BATS_TEST_TMPDIR/s2,mode=0666" STDIO </dev/null
	[ "$(stat -c %a s2)" = 666 ]
}

@test "unix: user=nobody,group=nogroup set the socket file's owner" {
	[ "$(id -u)" -eq 0 ]
	start_relay o "UNIX-LISTEN:$BATS_TEST_TMPDIR/s,user=nobody,group=nogroup" STDIO </dev/null
	[ "$(stat -c %U:%G s)" = nobody:nogroup ]
	start_relay o2 "UNIX-LISTEN:$BATS_TEST_TMPDIR/s2,user=65534" STDIO </dev/null
	[ "$(stat -c %u:%g s2)" = "65534:$(id -g)" ]
}

# ---- EXEC/SYSTEM environment ----------------------------------------------------------------

@test "exec env: peer and local address reach a SYSTEM child, under both names" {
	start_relay e TCP4-LISTEN:0,bind=127.0.0.1 \
		SYSTEM:'echo "$VRELAY_PEERADDR $VRELAY_PEERPORT $SOCAT_PEERADDR $SOCAT_PEERPORT $VRELAY_SOCKADDR $VRELAY_SOCKPORT $SOCAT_SOCKPORT"'
	run talk "$PORT" </dev/null
	local cport
	cport=$(sed -n 's/.*accepted connection from 127\.0\.0\.1:\([0-9]*\)$/\1/p' e.log)
	[ -n "$cport" ]
	[ "$output" = "127.0.0.1 $cport 127.0.0.1 $cport 127.0.0.1 $PORT $PORT" ]
}

@test "exec env: a dual-stack listener shows an IPv4 peer as IPv4" {
	start_relay e TCP-LISTEN:0 SYSTEM:'echo "$VRELAY_PEERADDR $SOCAT_PEERADDR"'
	run talk "$PORT" ",bind=127.0.0.2" </dev/null
	[ "$output" = "127.0.0.2 127.0.0.2" ]
	grep -q "accepted connection from 127.0.0.2:" e.log
}

@test "exec env: an EXEC child of an IPv6 connection sees ::1 without brackets" {
	start_relay e TCP6-LISTEN:0 'EXEC:printenv VRELAY_PEERADDR'
	run timeout 5 socat -t 5 - "TCP6:[::1]:$PORT" </dev/null
	[ "$output" = "::1" ]
}

# ---- ignoreeof ---------------------------------------------------------------------------------

@test "ignoreeof: -,ignoreeof follows a growing file like tail -f" {
	echo "part one" >grow
	bg_stdin grow "$VRELAY" -u -,ignoreeof STDOUT >out
	local pid=$LAST_PID
	wait_until 5 grep -qx "part one" out
	echo "part two" >>grow
	wait_until 5 grep -qx "part two" out
	kill -0 "$pid"
	term "$pid"
	[ "$EXIT" = 0 ]
	[ "$(cat out)" = "part one
part two" ]
}

@test "ignoreeof: FD:5,ignoreeof likewise" {
	echo "part one" >grow
	start_bg "$VRELAY" -u FD:5,ignoreeof STDOUT 5<grow >out </dev/null
	local pid=$LAST_PID
	wait_until 5 grep -qx "part one" out
	echo "part two" >>grow
	wait_until 5 grep -qx "part two" out
	term "$pid"
	[ "$EXIT" = 0 ]
}

@test "ignoreeof: without it the relay ends at the end of the file" {
	echo "only part" >grow
	run -0 timeout 5 "$VRELAY" -u - STDOUT <grow
	[ "$output" = "only part" ]
}

# ---- global flags ----------------------------------------------------------------------------------

@test "global: -u relays left to right only" {
	run -0 timeout 5 "$VRELAY" -u - SYSTEM:"cat >$BATS_TEST_TMPDIR/got; echo reply" <<<"hello"
	[ -z "$output" ]
	wait_until 5 grep -qx hello got
}

@test "global: -U relays right to left only" {
	# the child answers, then listens 1 s for what never comes
	run -0 timeout 5 "$VRELAY" -U - \
		SYSTEM:"echo reply; timeout 1 cat >$BATS_TEST_TMPDIR/got; echo done >>$BATS_TEST_TMPDIR/got" <<<"hello"
	[ "$output" = reply ]
	wait_until 5 grep -qx done got
	[ "$(cat got)" = done ]
}

@test "global: -t 3: a reply 1 s after the half-close still arrives" {
	run -0 timeout 8 "$VRELAY" -t 3 - SYSTEM:'cat >/dev/null; sleep 1; echo late' <<<"q" 3>&-
	[ "$output" = late ]
}

@test "global: -t 0.2: a reply 1.5 s after the half-close is cut off" {
	local t0 t1
	skip_under_valgrind "the whole run must take under 1.4 s"
	t0=$(now_ms)
	run -0 --separate-stderr timeout 8 "$VRELAY" -t 0.2 - \
		SYSTEM:'exec 2>/dev/null; cat >/dev/null; sleep 1.5; echo late' <<<"q" 3>&-
	t1=$(now_ms)
	[ -z "$output" ]
	[ -z "$stderr" ]
	[ $((t1 - t0)) -lt 1400 ]
}

@test "global: -T 1 ends a relay after 1 s without traffic, not 1 s after the start" {
	local t0 t1
	t0=$(now_ms)
	run -0 timeout 9 "$VRELAY" -T 1 -u \
		SYSTEM:'exec 2>/dev/null; for i in 1 2 3 4 5; do echo $i; sleep 0.4; done; sleep 6' STDOUT 3>&-
	t1=$(now_ms)
	[ "$output" = "$(seq 1 5)" ]
	# five lines over ~1.6 s, then 1 s of silence
	[ $((t1 - t0)) -ge 2400 ]
	[ $((t1 - t0)) -lt 5500 ]
}

@test "global: -S prints the byte counts at the end" {
	run -0 --separate-stderr timeout 5 "$VRELAY" -S - SYSTEM:'cat >/dev/null; printf abcdefgh' < <(printf hello)
	[ "$output" = abcdefgh ]
	[ "$stderr" = "vrelay: statistics: left-to-right 5 bytes, right-to-left 8 bytes, connections 1, active 0, failed 0" ]
}

@test "global: --statistics is -S" {
	run -0 --separate-stderr timeout 5 "$VRELAY" --statistics -u - SYSTEM:'cat >/dev/null' < <(printf 0123456789)
	[ "$stderr" = "vrelay: statistics: left-to-right 10 bytes, right-to-left 0 bytes, connections 1, active 0, failed 0" ]
}

@test "global: SIGUSR1 prints the statistics while the relay runs" {
	start_relay st TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:cat
	local line
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	echo hello >&7
	read -r -t 5 -u 7 line
	[ "$line" = hello ]
	kill -USR1 "$RELAY_PID"
	wait_until 5 grep -q "statistics: left-to-right 6 bytes, right-to-left 6 bytes, connections 1, active 1, failed 0" st.log
	kill -0 "$RELAY_PID"
	echo more >&7
	read -r -t 5 -u 7 line
	[ "$line" = more ]
	exec 7>&-
}

@test "global: -lf FILE sends the messages to FILE" {
	local port
	port=$(closed_port)
	run -1 --separate-stderr vr -lf msgs "TCP:127.0.0.1:$port" -
	[ -z "$output" ]
	[ -z "$stderr" ]
	grep -qE "^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:.]+ vrelay\[[0-9]+\] E TCP:127.0.0.1:$port: connect: Connection refused\$" msgs
}

@test "global: -lf appends, and takes -dd notices too" {
	echo "old line" >msgs
	start_bg "$VRELAY" -dd -lf msgs TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:'echo x' 2>stderr.txt
	wait_until 5 grep -q "listening on 127.0.0.1:" msgs
	[ "$(head -n 1 msgs)" = "old line" ]
	[ ! -s stderr.txt ]
}

@test "global: -ly is accepted and takes the messages off stderr" {
	local port
	port=$(closed_port)
	run -1 --separate-stderr vr -ly "TCP:127.0.0.1:$port" -
	[ -z "$stderr" ]
	run -0 timeout 5 "$VRELAY" -lylocal0 - SYSTEM:cat <<<"syslogged"
	[ "$output" = syslogged ]
}

@test "global: -v dumps the traffic as text" {
	run -0 --separate-stderr timeout 5 "$VRELAY" -v - SYSTEM:'cat >/dev/null; printf abcdefgh' < <(printf hello)
	[ "$output" = abcdefgh ]
	[[ "${stderr_lines[0]}" =~ ^\>\ [0-9/]+\ [0-9:.]+\ +length=5\ from=0\ to=4$ ]]
	[ "${stderr_lines[1]}" = hello ]
	[[ "${stderr_lines[2]}" =~ ^\<\ [0-9/]+\ [0-9:.]+\ +length=8\ from=0\ to=7$ ]]
	[ "${stderr_lines[3]}" = abcdefgh ]
}

@test "global: -x dumps the traffic as hex" {
	run -0 --separate-stderr timeout 5 "$VRELAY" -x -u - SYSTEM:'cat >/dev/null' < <(printf hello)
	[[ "${stderr_lines[0]}" =~ ^\>\ .*length=5\ from=0\ to=4$ ]]
	[[ "${stderr_lines[1]}" == " 68 65 6c 6c 6f "*"hello" ]]
}

@test "global: levels as socat 1.8: errors alone with -d0, -d the notices, -dd info too" {
	local port
	port=$(closed_port)
	run -1 vr -d0 "TCP:127.0.0.1:$port" -
	[ "$output" = "vrelay: TCP:127.0.0.1:$port: connect: Connection refused" ]
	run -1 vr -d "TCP:127.0.0.1:$port" -
	[[ "$output" == *"] N TCP:127.0.0.1:$port: connecting to 127.0.0.1:$port"* ]]
	[[ "$output" =~ [0-9/]+\ [0-9:.]+\ vrelay\[[0-9]+\]\ E\ TCP:127.0.0.1:$port:\ connect:\ Connection\ refused$ ]]
	[[ "$output" != *"] I "* ]]
	run -1 vr -dd "TCP:127.0.0.1:$port" -
	[[ "$output" == *"] I TCP:127.0.0.1:$port: socket: IPv4 stream"* ]]
	run -1 vr -d2 "TCP:127.0.0.1:$port" -
	[[ "$output" == *"] I TCP:127.0.0.1:$port: socket: IPv4 stream"* ]]
}

@test "global: -dd logs listening on, accepted connection from, connecting to" {
	start_relay back TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:'echo chained'
	local bport=$PORT
	start_relay front TCP4-LISTEN:0,bind=127.0.0.1 "TCP:127.0.0.1:$bport"
	run talk "$PORT" </dev/null
	[ "$output" = chained ]
	grep -qE "vrelay\[$RELAY_PID\] N TCP4-LISTEN:0,bind=127.0.0.1: listening on 127.0.0.1:$PORT\$" front.log
	grep -qE "N TCP4-LISTEN:0,bind=127.0.0.1: accepted connection from 127.0.0.1:[0-9]+\$" front.log
	grep -qE "N TCP:127.0.0.1:$bport: connecting to 127.0.0.1:$bport\$" front.log
	grep -qE "N TCP:127.0.0.1:$bport: connected to 127.0.0.1:$bport\$" front.log
}

@test "global: -4 makes TCP-LISTEN listen on 0.0.0.0" {
	start_relay v4 -4 TCP-LISTEN:0,fork SYSTEM:'echo four'
	grep -q "listening on 0.0.0.0:$PORT\$" v4.log
	run talk "$PORT" </dev/null
	[ "$output" = four ]
	run --separate-stderr timeout 5 socat - "TCP6:[::1]:$PORT" </dev/null
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Connection refused"* ]]
}

@test "global: -6 makes TCP-LISTEN listen on [::] for IPv6 only" {
	start_relay v6 -6 TCP-LISTEN:0,fork SYSTEM:'echo six'
	grep -q "listening on \[::\]:$PORT\$" v6.log
	run timeout 5 socat -t 5 - "TCP6:[::1]:$PORT" </dev/null
	[ "$output" = six ]
	run --separate-stderr talk "$PORT" </dev/null
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Connection refused"* ]]
}

@test "global: TCP6-LISTEN listens on [::] for IPv6 only" {
	start_relay v6 TCP6-LISTEN:0 SYSTEM:'echo six'
	grep -q "listening on \[::\]:$PORT\$" v6.log
	run --separate-stderr talk "$PORT" </dev/null
	[ "$status" -ne 0 ]
}

@test "global: -6 makes TCP connect over IPv6" {
	start_relay s TCP-LISTEN:0 SYSTEM:'echo "$VRELAY_PEERADDR"'
	run -0 vr -6 -t 5 - "TCP:[::1]:$PORT"
	[ "$output" = "::1" ]
	run -2 vr -6 - "TCP:127.0.0.1:$PORT"
	[[ "$output" == "vrelay: TCP:127.0.0.1:$PORT: host: cannot resolve \"127.0.0.1\": "* ]]
}

@test "global: -b 4096 and -b 1m move 1 MiB intact (splice and buffered paths)" {
	head -c 1048576 /dev/urandom >data
	local sum
	sum=$(sha256sum <data)
	local b
	for b in 4096 1m; do
		# sockets both sides: splice through a pipe of -b bytes
		start_relay "s$b" -b "$b" TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:sha256sum
		run talk "$PORT" <data
		[ "$output" = "$sum" ]
		# a file and a pipe: the buffered path
		timeout 10 "$VRELAY" -b "$b" -u - STDOUT <data >copy
		cmp data copy
	done
}

@test "global: SIGTERM ends a listener with status 0" {
	start_relay t TCP4-LISTEN:0,bind=127.0.0.1,fork SYSTEM:cat
	term "$RELAY_PID"
	[ "$EXIT" = 0 ]
	grep -q "signal 15: exiting" t.log
}

@test "global: SIGINT ends a listener with status 0" {
	start_relay i TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:cat
	kill -INT "$RELAY_PID"
	wait_exit "$RELAY_PID"
	[ "$EXIT" = 0 ]
	grep -q "signal 2: exiting" i.log
}

@test "global: SIGTERM on a fork listener also ends its children" {
	start_relay t TCP4-LISTEN:0,bind=127.0.0.1,fork SYSTEM:cat
	local line child
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	echo hold >&7
	read -r -t 5 -u 7 line
	[ "$line" = hold ]
	child=$(pgrep -P "$RELAY_PID" | head -n 1)
	[ -n "$child" ]
	term "$RELAY_PID"
	[ "$EXIT" = 0 ]
	wait_until 5 is_gone "$child"
	# the client sees the end
	line=
	read -r -t 5 -u 7 line || true
	[ -z "$line" ]
	exec 7>&-
}
