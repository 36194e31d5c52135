#!/usr/bin/env bats
# concurrency.bats - 200 parallel clients through fork (no zombies, no
# children left, no fd leak in the listener) and 2,000 connections held at
# once by one -M process (one process, fds back to the baseline after).

load helper
load tools/lib

setup() {
	# the clients, the echo server and vrelay -M each need thousands of fds
	raise_fd_limit 16384
	[ "$(ulimit -n)" -ge 8192 ] || skip "cannot raise the fd limit to 8192"
}

# after_fork_clients PID BASELINE - the fork listener is back to idle
after_fork_clients() {
	local pid=$1 base=$2
	wait_value 20 0 count_children "$pid"
	[ "$(zombies_of "$pid")" -eq 0 ]
	wait_value 10 "$base" fd_count "$pid"
	[ "$(fd_count "$pid")" -eq "$base" ]
	# still serving
	kill -0 "$pid"
}

@test "fork: 200 parallel clients through EXEC:cat each get their own payload back" {
	start_relay r TCP-LISTEN:0,bind=127.0.0.1,fork EXEC:cat
	local base
	base=$(fd_count "$RELAY_PID")
	run -0 timeout 90 python3 "$VNET" --timeout 60 many tcp:127.0.0.1:"$PORT" -n 200 --size 3000 --halfclose
	[ "$output" = "verified 200 of 200" ]
	after_fork_clients "$RELAY_PID" "$base"
	# one more client is served as well afterwards
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$PORT" --text "after the storm"
	[ "$output" = "after the storm" ]
	after_fork_clients "$RELAY_PID" "$base"
	term_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "fork: 200 parallel clients through a TCP echo server each get their own payload back" {
	start_vnet echo echo tcp:127.0.0.1:0
	start_relay r TCP-LISTEN:0,bind=127.0.0.1,fork TCP:127.0.0.1:"$SRV_PORT"
	local base
	base=$(fd_count "$RELAY_PID")
	run -0 timeout 90 python3 "$VNET" --timeout 60 many tcp:127.0.0.1:"$PORT" -n 200 --size 3000 --halfclose
	[ "$output" = "verified 200 of 200" ]
	after_fork_clients "$RELAY_PID" "$base"
	term_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}

@test "-M: 2,000 connections held at once by one process, each echo verified, fds back to the baseline" {
	local hold="$BATS_TEST_TMPDIR/hold" go="$BATS_TEST_TMPDIR/go" out="$BATS_TEST_TMPDIR/many.out"
	start_vnet echo echo tcp:127.0.0.1:0
	start_relay r -M TCP-LISTEN:0,bind=127.0.0.1 TCP:127.0.0.1:"$SRV_PORT"
	local base base_nonpipes held
	base=$(fd_count "$RELAY_PID")
	base_nonpipes=$(fd_nonpipes "$RELAY_PID")
	# open all 2,000 first, then a unique payload on each, check each echo,
	# then hold them all until we say "go"
	start_bg python3 "$VNET" --timeout 90 many tcp:127.0.0.1:"$PORT" -n 2000 --size 200 \
		--hold "$hold" --go "$go" >"$out"
	local client=$LAST_PID
	wait_until 90 test -s "$hold"
	[ "$(cat "$hold")" -eq 2000 ]
	# while they are all held: one process, with a client fd and a server fd
	# per connection
	held=$(fd_count "$RELAY_PID")
	echo "# vrelay -M fds: baseline $base, while holding 2000 connections $held" >&3
	[ "$held" -ge $((base + 4000)) ]
	[ "$(count_children "$RELAY_PID")" -eq 0 ]
	touch "$go"
	wait_exit "$client" 60
	[ "$STATUS" = 0 ]
	grep -qx "verified 2000 of 2000" "$out"
	grep -qx "closed 2000" "$out"
	# every connection was logged by the one process we started
	[ "$(relay_pids "$BATS_TEST_TMPDIR/r.log")" = "$RELAY_PID" ]
	[ "$(grep -c "accepted connection" "$BATS_TEST_TMPDIR/r.log")" -eq 2000 ]
	# sockets: back to exactly the baseline; pipes: the baseline plus at
	# most the 64 idle pipes (128 fds) pump.c keeps pooled for reuse
	wait_value 20 "$base_nonpipes" fd_nonpipes "$RELAY_PID"
	[ "$(fd_nonpipes "$RELAY_PID")" -eq "$base_nonpipes" ]
	echo "# vrelay -M fds after the clients closed: $(fd_count "$RELAY_PID") ($(fd_pipes "$RELAY_PID") pipes)" >&3
	[ "$(fd_count "$RELAY_PID")" -le $((base + 128)) ]
	[ "$(count_children "$RELAY_PID")" -eq 0 ]
	term_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
}
