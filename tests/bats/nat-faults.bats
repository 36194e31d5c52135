#!/usr/bin/env bats
# nat-faults.bats - the NAT engine under hostile guests: a SYN flood, an ARP
# flood, junk frames and a corrupt stream.  After each, a real guest (a
# network namespace on a TAP device, leased by busybox udhcpc) must still
# be served - DHCP, ping and ARP of the gateway, TCP through the host alias
# to an echo server, DNS of a static zone - and the drops must show in the
# API's /stats and in the SIGUSR1 statistics.
#
# The engine itself runs in a namespace of its own that has nothing but a
# loopback device (HOSTNS): its "host" is that loopback, so whatever a
# flood might make libslirp do cannot leave the machine.  The echo server
# listens on that loopback too.  The floods come from tools/natflood.py on
# a link of their own (the engine in switch mode, -M), and never address
# anything but the gateway (.1) and the host alias (.254).

load helper
load tools/lib
load tools/netns

NATFLOOD="$BATS_TEST_DIRNAME/tools/natflood.py"
ZONE="dns-zone=test.internal/www=10.1.2.3"

setup() {
	T=$BATS_TEST_TMPDIR
	API="$T/api.sock"
	need_netns
	need_udhcpc
	need_cmd ping iputils-ping
	ns_create
	HOSTNS=$NS
}

teardown() {
	ns_teardown
}

# engine [prlimit ARGS --] VRELAY ARGS... - "vrelay -dd ARGS" in HOSTNS,
# waiting for "listening on"; ENGINE_PID (vrelay's own: ip netns exec and
# prlimit exec it), ENGINE_LOG (not RELAY_*: start_tap sets those)
engine() {
	local pre=()
	if [ "$1" = prlimit ]; then
		while [ "$1" != -- ]; do
			pre+=("$1")
			shift
		done
		shift
	fi
	ENGINE_LOG="$T/engine.log"
	: >"$ENGINE_LOG"
	ip netns exec "$HOSTNS" "${pre[@]}" "$VRELAY" -dd "$@" </dev/null 2>"$ENGINE_LOG" &
	ENGINE_PID=$!
	BG_PIDS+=("$ENGINE_PID")
	wait_log_or_exit "$ENGINE_PID" "$ENGINE_LOG" "listening on"
}

# switch_engine [prlimit ARGS --] - the engine in switch mode at $T/sw,
# with the API and a static zone
switch_engine() {
	engine "$@" -M UNIX-LISTEN:"$T/sw" NAT,api="$API","$ZONE"
}

# host_echo - a TCP echo server on HOSTNS's 127.0.0.1 (ECHO_PORT), and a
# port there that nothing listens on (CLOSED_PORT)
host_echo() {
	local ready="$T/echo.ready"
	start_bg ip netns exec "$HOSTNS" python3 "$VNET" echo tcp:127.0.0.1:0 --ready "$ready"
	wait_until 10 test -s "$ready"
	ECHO_PORT=$(cat "$ready")
	CLOSED_PORT=$(ip netns exec "$HOSTNS" python3 "$VNET" freeport)
}

# guest - a namespace (GUEST) whose tap0 is a link of the switch; leased
guest() {
	ns_create
	GUEST=$NS
	start_tap tap "$GUEST" tap0 TAP:tap0,netns="$GUEST",up UNIX-CONNECT:"$T/sw",frames=qemu
	ns_dhcp "$GUEST" tap0
	[[ "$(lease_get ip)" == 192.168.127.* ]]
}

# guest_is_served TEXT - the guest pings and ARPs the gateway, its TCP
# through the host alias comes back from the echo server, and the static
# zone answers it
guest_is_served() {
	ip -n "$GUEST" neigh flush dev tap0
	run -0 ns_exec "$GUEST" ping -c 1 -W 5 192.168.127.1
	[[ "$output" == *"1 received"* ]]
	ip -n "$GUEST" neigh show 192.168.127.1 | grep -q 52:55:c0:a8:7f:01
	run -0 ns_exec "$GUEST" timeout 20 python3 "$VNET" client tcp:192.168.127.254:"$ECHO_PORT" --text "$1"
	[ "$output" = "$1" ]
	run -0 ns_exec "$GUEST" python3 "$DNSQ" 192.168.127.1 www.test.internal A
	[ "$output" = $'NOERROR\nA 10.1.2.3' ]
}

# api PATH - a request to the control API
api() {
	curl -sS --max-time 10 --unix-socket "$API" "http://vrelay$1"
}

# api_stat KEY - a counter from GET /stats
api_stat() {
	api /stats | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# wait_stat SECS KEY WANT - poll GET /stats until KEY is WANT, for SECS of
# wall-clock time (each poll is a curl and a python: wait_value counts
# polls, not seconds)
wait_stat() {
	local end=$((SECONDS + $1)) got=
	while [ "$SECONDS" -le "$end" ]; do
		got=$(api_stat "$2" 2>/dev/null) && [ "$got" = "$3" ] && return 0
		sleep 0.05
	done
	echo "timed out after $1s waiting for $2 to be $3 (it was ${got:-nothing})" >&2
	return 1
}

# flood KIND ARGS... - natflood.py KIND on a new link of the switch
flood() {
	local kind=$1
	shift
	timeout 120 python3 "$NATFLOOD" "$kind" unix:"$T/sw" --codec qemu "$@"
}

# ---- SYN flood -----------------------------------------------------------------

@test "NAT SYN flood: 3000 SYNs from random guests hold at most 128 host sockets; a real guest still connects; the drops are counted" {
	host_echo
	switch_engine
	guest
	local fds0 rss0 fds1 rss1 fds2
	fds0=$(fd_count "$ENGINE_PID")
	rss0=$(rss_kb "$ENGINE_PID")

	# the flooder keeps its link (and its half-open flows) until "go"
	start_bg timeout 120 python3 "$NATFLOOD" syn unix:"$T/sw" --codec qemu -n 3000 --random-src \
		--port "$ECHO_PORT" --port "$CLOSED_PORT" --drain 1 --hold "$T/go" --result "$T/flood.out"
	local flood_pid=$LAST_PID
	wait_until 60 test -s "$T/flood.out"
	cat "$T/flood.out"
	fds1=$(fd_count "$ENGINE_PID")
	rss1=$(rss_kb "$ENGINE_PID")
	echo "vrelay fds: $fds0 before, $fds1 during; RSS kB: $rss0 before, $rss1 during"
	# the flooder's link and one host socket per half-open flow, no more
	# (the SYNs still on their way can only add to what is measured later)
	[ "$fds1" -le $((fds0 + 1 + 128)) ]
	# and their memory is bounded (libslirp's buffers: ~160 KiB a flow)
	[ "$rss1" -le $((rss0 + 64 * 1024)) ]
	wait_stat 30 TCPHalfOpen 128
	[ "$(fd_count "$ENGINE_PID")" -le $((fds0 + 1 + 128)) ]

	# every SYN beyond the link's 128 was dropped and counted
	wait_stat 30 DroppedSynBacklog $((3000 - 128))
	guest_is_served "through a SYN flood"
	# the guest's own flows completed and left the backlog
	[ "$(api_stat TCPHalfOpen)" = 128 ]
	run -0 stats_now "$ENGINE_PID" "$ENGINE_LOG"
	[ "$(stat_value "$output" "SYN backlog full")" = 2872 ]
	[ "$(stat_value "$output" "half-open TCP")" = 128 ]

	# the flooder goes: the engine resets its half-open flows and closes
	# their host sockets
	touch "$T/go"
	wait_exit "$flood_pid" 30
	[ "$STATUS" = 0 ]
	wait_stat 30 TCPHalfOpen 0
	wait_value 30 "$fds0" fd_count "$ENGINE_PID"
	fds2=$(fd_count "$ENGINE_PID")
	echo "vrelay fds after: $fds2; RSS kB after: $(rss_kb "$ENGINE_PID")"
	guest_is_served "after the SYN flood"
}

@test "NAT SYN flood: with only 512 fds, 3000 SYNs leave the engine able to accept a guest and connect its flows" {
	need_cmd prlimit util-linux
	host_echo
	switch_engine prlimit --nofile=512:512 --
	start_bg timeout 120 python3 "$NATFLOOD" syn unix:"$T/sw" --codec qemu -n 3000 --random-src \
		--port "$ECHO_PORT" --drain 1 --hold "$T/go" --result "$T/flood.out"
	wait_until 60 test -s "$T/flood.out"
	# a new guest joins after the flood (an accept, a lease) and is served
	guest
	guest_is_served "with few fds"
	run ! grep -q 'Too many open files' "$ENGINE_LOG"
	[ "$(api_stat DroppedSynBacklog)" = $((3000 - 128)) ]
	[ "$(fd_count "$ENGINE_PID")" -lt 256 ]
	touch "$T/go"
}

# ---- ARP flood -----------------------------------------------------------------

@test "NAT ARP flood: 3000 requests and gratuitous replies from random MACs; every request for the gateway is answered; a real guest is still served" {
	host_echo
	switch_engine
	guest
	local rss0 rss1
	rss0=$(rss_kb "$ENGINE_PID")
	run -0 flood arp -n 3000 --dst 192.168.127.1
	echo "$output"
	[ "$output" = "sent 3000 replies 1000" ]
	rss1=$(rss_kb "$ENGINE_PID")
	echo "vrelay RSS kB: $rss0 before, $rss1 after"
	# no table grew with the MACs and addresses (16 MACs a link, libslirp's
	# ARP table 16 entries)
	[ "$rss1" -le $((rss0 + 4 * 1024)) ]
	# the flooder's link is gone, the guest's is not
	wait_stat 10 Links 1
	[ "$(api_stat FramesReceived)" -ge 3000 ]
	# a real ARP request from a new link gets the gateway's address
	run -0 timeout 30 python3 "$VFRAME" probe unix:"$T/sw" --codec qemu --mac 02:00:00:00:00:61 \
		--src 192.168.127.60 --ip 192.168.127.1 --ping-sizes 98 --wait 1
	[[ "$output" == *"arp 192.168.127.1 is-at 52:55:c0:a8:7f:01"* ]]
	[[ "$output" == *"echo-reply 1 98"* ]]
	guest_is_served "through an ARP flood"
	# and a second guest still gets a lease of its own
	local first=$GUEST
	guest
	[ "$(lease_get ip)" != "$(lease_get ip "$T/lease-$first")" ]
}

@test "NAT ARP flood, one link without -M: every request for the gateway is answered, then DHCP on that same link" {
	engine UNIX-LISTEN:"$T/one" NAT,api="$API"
	run -0 timeout 120 python3 "$NATFLOOD" arp unix:"$T/one" --codec qemu -n 3000 --dst 192.168.127.1 \
		--dhcp 02:00:00:00:00:62
	echo "$output"
	[ "$output" = $'sent 3000 replies 1000\noffer 192.168.127.2' ]
}

# ---- junk frames -----------------------------------------------------------------

@test "NAT junk: 2000 random, runt, oversize and malformed frames are dropped and counted; the engine keeps serving" {
	host_echo
	switch_engine
	guest
	run -0 flood junk -n 2000 --seed 11 --dhcp 02:00:00:00:00:64
	echo "$output"
	local random runt oversize malformed answered
	read -r _ _ _ random _ runt _ oversize _ malformed _ answered <<<"${lines[0]}"
	[ "$oversize" -gt 0 ] && [ "$malformed" -gt 0 ] && [ "$runt" -gt 0 ]
	# a DISCOVER with a bad IPv4 checksum is not answered; a good one, on
	# the same link right after all that, is
	[ "$answered" = 0 ]
	[[ "${lines[1]}" == "offer 192.168.127."* ]]
	api /stats >"$T/stats.json"
	cat "$T/stats.json"
	local got_over got_bad
	got_over=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["DroppedOversize"])' "$T/stats.json")
	got_bad=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["DroppedMalformed"])' "$T/stats.json")
	# each oversize frame once; every runt and crafted bad header (bad
	# checksum and IHL, lengths past the frame, cut TCP/UDP/ARP headers),
	# and at most the random frames on top
	[ "$got_over" = "$oversize" ]
	[ "$got_bad" -ge $((runt + malformed)) ]
	[ "$got_bad" -le $((runt + malformed + random)) ]
	kill -0 "$ENGINE_PID"
	guest_is_served "after the junk"
	# the relay's own statistics say the same of what it saw whole
	run -0 stats_now "$ENGINE_PID" "$ENGINE_LOG"
	[ "$(stat_value "$output" "too long")" = "$oversize" ]
	[[ "$output" == *"NAT: frames from guests"*"$oversize too long, $got_bad malformed"* ]]
}

@test "NAT junk: a stream that loses its framing (a qemu length of 69633) ends only that link; the guest and the engine go on" {
	host_echo
	switch_engine
	guest
	run -0 flood junk -n 200 --seed 5 --drain 0
	run -0 timeout 30 python3 "$VFRAME" garbage unix:"$T/sw" --codec qemu -n 30 --seed 3 --bad-length 69633 --wait-eof
	[ "$output" = eof ]
	grep -E 'UNIX-LISTEN:.*frames=qemu: corrupt stream: a frame length of 69633' "$ENGINE_LOG"
	kill -0 "$ENGINE_PID"
	wait_stat 10 Links 1
	guest_is_served "after a corrupt stream"
}
