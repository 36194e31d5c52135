#!/usr/bin/env bats
# acceptfd.bats - ACCEPT-FD: a listening socket handed over by a launcher
# (systemd-socket-activate for TCP, a small python launcher for a unix
# socket), once and with fork, and range= refusing clients.

load helper
load tools/lib

# activate NAME VRELAY-ARGS... - systemd-socket-activate on a free port on
# 127.0.0.1 that execs "vrelay -dd VRELAY-ARGS" at the first connection;
# waits for "Listening on"; sets SA_PID (vrelay's PID once it has exec'd)
# and SA_PORT; the log is $BATS_TEST_TMPDIR/NAME.log
activate() {
	local name=$1
	shift
	command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate is not installed"
	SA_PORT=$(vnet freeport)
	local log="$BATS_TEST_TMPDIR/$name.log"
	: >"$log"
	start_bg systemd-socket-activate -l 127.0.0.1:"$SA_PORT" "$VRELAY" -dd "$@" 2>"$log"
	SA_PID=$LAST_PID
	wait_until 10 grep -q "Listening on 127.0.0.1:$SA_PORT" "$log"
}

@test "ACCEPT-FD:3 from systemd-socket-activate: one client, echoed by EXEC:cat" {
	activate sa ACCEPT-FD:3 EXEC:cat
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$SA_PORT" --text "socket activated"
	[ "$output" = "socket activated" ]
	grep -q "ACCEPT-FD:3: listening on inherited fd 3" "$BATS_TEST_TMPDIR/sa.log"
	# once mode: it ends after this client
	wait_exit "$SA_PID"
	[ "$STATUS" = 0 ]
}

@test "ACCEPT-FD:3,fork from systemd-socket-activate serves several clients, one after another and at once" {
	activate sa ACCEPT-FD:3,fork EXEC:cat
	local c
	for c in 1 2 3; do
		run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$SA_PORT" --text "client $c"
		[ "$output" = "client $c" ]
	done
	is_vrelay "$SA_PID"
	run -0 timeout 60 python3 "$VNET" many tcp:127.0.0.1:"$SA_PORT" -n 20 --halfclose
	[ "$output" = "verified 20 of 20" ]
	[ "$(grep -c "accepted connection" "$BATS_TEST_TMPDIR/sa.log")" -eq 23 ]
	wait_value 20 0 count_children "$SA_PID"
	[ "$(zombies_of "$SA_PID")" -eq 0 ]
	term_exit "$SA_PID"
	[ "$STATUS" = 0 ]
}

@test "ACCEPT-FD:3,fork on a unix socket passed by a python launcher" {
	local sock="$BATS_TEST_TMPDIR/act.sock" log="$BATS_TEST_TMPDIR/launch.log"
	start_bg python3 "$VNET" fd-launch unix:"$sock" --fd 3 -- \
		"$VRELAY" -dd ACCEPT-FD:3,fork EXEC:"wc -c" 2>"$log"
	local pid=$LAST_PID
	wait_until 10 grep -q "ACCEPT-FD:3,fork: listening on inherited fd 3" "$log"
	run -0 timeout 20 python3 "$VNET" client unix:"$sock" --text "twelve bytes"
	[ "$output" = 12 ]
	run -0 timeout 20 python3 "$VNET" client unix:"$sock" --text "and now seventeen"
	[ "$output" = 17 ]
	# the launcher exec'd vrelay: same PID
	is_vrelay "$pid"
	grep -q "accepted connection from (unnamed unix socket)" "$log"
	wait_value 20 0 count_children "$pid"
	term_exit "$pid"
	[ "$STATUS" = 0 ]
}

@test "ACCEPT-FD range=: a client outside the range is refused, the relay keeps waiting for one inside" {
	activate sa ACCEPT-FD:3,range=10.0.0.0/8 EXEC:cat
	# refused: the connection is closed at once (a served client would wait
	# here: it sends nothing, and EXEC:cat has nothing to say)
	run -0 timeout 20 python3 "$VNET" --timeout 10 client tcp:127.0.0.1:"$SA_PORT" --read-first
	[ -z "$output" ]
	wait_until 10 grep -q "refused connection from 127.0.0.1" "$BATS_TEST_TMPDIR/sa.log"
	run ! grep -q "EXEC:cat: starting" "$BATS_TEST_TMPDIR/sa.log"
	# once mode still waits for an acceptable client
	kill -0 "$SA_PID"
	term_exit "$SA_PID"
	[ "$STATUS" = 0 ]
}

@test "ACCEPT-FD range=: a client inside the range is served" {
	activate sa ACCEPT-FD:3,fork,range=10.0.0.0/8,127.0.0.0/8 EXEC:cat
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$SA_PORT" --text "in range"
	[ "$output" = "in range" ]
	run ! grep -q "refused" "$BATS_TEST_TMPDIR/sa.log"
	term_exit "$SA_PID"
	[ "$STATUS" = 0 ]
}

@test "ACCEPT-FD: an fd that is not open, or not a listening socket, is a usage error" {
	run -2 --separate-stderr "$VRELAY" ACCEPT-FD:7 EXEC:cat 7<&-
	[[ "$stderr" == *"fd 7 is not open"* ]]
	run -2 --separate-stderr "$VRELAY" ACCEPT-FD:7 EXEC:cat 7</dev/null
	[[ "$stderr" == *"fd 7 is not a socket"* ]]
}

@test "ACCEPT-FD range= on a unix socket: no unix peer is ever served" {
	# The man page says a peer of another family is refused; vrelay since
	# "ACCEPT-FD range by family" refuses to start instead (usage error).
	# Either way a unix client must not reach EXEC:cat.
	local sock="$BATS_TEST_TMPDIR/act.sock" log="$BATS_TEST_TMPDIR/launch.log"
	start_bg python3 "$VNET" fd-launch unix:"$sock" --fd 3 -- \
		"$VRELAY" -dd ACCEPT-FD:3,fork,range=127.0.0.0/8 EXEC:cat 2>"$log"
	local pid=$LAST_PID
	wait_until 10 grep -q "listening on inherited fd 3\|range: fd 3 is not an IP" "$log"
	if grep -q "range: fd 3 is not an IP" "$log"; then
		wait_exit "$pid"
		[ "$STATUS" = 2 ]
		return 0
	fi
	run -0 timeout 20 python3 "$VNET" --timeout 10 client unix:"$sock" --read-first
	[ -z "$output" ]
	wait_until 10 grep -q "refused connection from (unnamed unix socket)" "$log"
	run ! grep -q "EXEC:cat: starting" "$log"
	term_exit "$pid"
	[ "$STATUS" = 0 ]
}

@test "ACCEPT-FD:3,multi: one process serves every client; EXEC programs do not inherit the listening socket" {
	activate sa ACCEPT-FD:3,multi SYSTEM:'cat; if [ -e /proc/self/fd/3 ]; then echo fd3-inherited; else echo fd3-closed; fi'
	local c
	for c in 1 2; do
		run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$SA_PORT" --text $'hi\n'
		[ "$output" = $'hi\nfd3-closed' ]
	done
	[ "$(relay_pids "$BATS_TEST_TMPDIR/sa.log")" = "$SA_PID" ]
	term_exit "$SA_PID"
	[ "$STATUS" = 0 ]
}
