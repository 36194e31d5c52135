#!/usr/bin/env bats
# vsock-bench.bats - not a test: the guest half of scripts/bench-vsock.
# The same socat client pushes MIB MiB into a relay that does
# VSOCK-LISTEN -> TCP:127.0.0.1 into a sink; the relay is vrelay, socat
# (default 8 KiB blocks) or socat -b 65536, alternating, ROUNDS times.
# Results go to fd 3 as "# bench TOOL ROUND SECONDS".

load ../suites/guest
load ../../bats/helper

setup_file() { require_test_guest; }

run_one() { # run_one NAME PORT COMMAND... - start the relay, time the push
	local name=$1 port=$2
	shift 2
	"$@" 2>/dev/null &
	local pid=$!
	wait_listen vsock "$port" "$pid"
	local t0 t1
	# bash's own clock: busybox date has no sub-second format
	t0=$EPOCHREALTIME
	dd if=/dev/zero bs=1M count="${MIB:-64}" 2>/dev/null | socat -u -b 65536 - VSOCK-CONNECT:1:"$port"
	# the sink ends when the relay passes the EOF on
	wait "$SINK_PID"
	t1=$EPOCHREALTIME
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	echo "# bench $name $round $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" >&3
}

start_sink() { # a sink on TCP 9000 that exits after one connection
	socat -u -b 65536 TCP-LISTEN:9000,bind=127.0.0.1,reuseaddr OPEN:/dev/null 2>/dev/null &
	SINK_PID=$!
	wait_listen tcp 9000 "$SINK_PID"
}

@test "vsock throughput: vrelay vs socat, alternating" {
	local p=6000
	for round in $(seq "${ROUNDS:-3}"); do
		start_sink
		run_one vrelay $((p++)) "$VRELAY" VSOCK-LISTEN:$((p - 1)) TCP:127.0.0.1:9000
		start_sink
		run_one socat $((p++)) socat VSOCK-LISTEN:$((p - 1)) TCP:127.0.0.1:9000
		start_sink
		run_one socat-b65536 $((p++)) socat -b 65536 VSOCK-LISTEN:$((p - 1)) TCP:127.0.0.1:9000
	done
}
