#!/usr/bin/env bats
# frames.bats - Ethernet frames without the NAT engine: the stream codecs
# (frames=qemu: u32 big-endian length; frames=hyperkit: u16 little-endian)
# converted into each other, frames on datagram and seqpacket sockets, the
# limits (an oversize frame is dropped and counted, a corrupt length ends
# the link with one clear line), gvproxy's POST /connect preamble, and TAP
# devices in a private network namespace.
#
# The peers are tools/vframe.py: each frame has deterministic content and
# is compared as "LEN SHA256[:16]" on both sides.

load helper
load tools/lib
load tools/netns

setup() {
	T=$BATS_TEST_TMPDIR
}

teardown() {
	ns_teardown
}

# same_lines EXPECTED ACTUAL - compare two texts, showing both on mismatch
same_lines() {
	if [ "$1" != "$2" ]; then
		printf 'expected:\n%s\ngot:\n%s\n' "$1" "$2" >&2
		return 1
	fi
}

# frame_log FILE - the frame summaries a vframe server logged (no "end" line)
frame_log() {
	grep -v '^end ' "$1" || true
}

# ---- codecs ---------------------------------------------------------------

@test "frames: qemu <-> hyperkit: frames of every size cross between the codecs intact, both ways" {
	local sizes=60,64,1514,9014,65535,61
	start_vframe hk serve unix:"$T/hk" --codec hyperkit --echo --log "$T/hk.frames"
	start_relay r UNIX-LISTEN:"$T/q",frames=qemu UNIX-CONNECT:"$T/hk",frames=hyperkit
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/q" --codec qemu --sizes "$sizes" --expect 6
	# the qemu client got each frame back (hyperkit -> qemu) ...
	same_lines "$(vframe sums --sizes "$sizes")" "$output"
	# ... and the hyperkit server decoded each one as the client sent it
	same_lines "$(vframe sums --sizes "$sizes")" "$(frame_log "$T/hk.frames")"
}

@test "frames: hyperkit <-> qemu the other way round (the listener speaks hyperkit)" {
	local sizes=1514,60,4000
	start_vframe q serve unix:"$T/qs" --codec qemu --echo --log "$T/q.frames"
	start_relay r UNIX-LISTEN:"$T/h",frames=hyperkit UNIX-CONNECT:"$T/qs",frames=qemu
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/h" --codec hyperkit --sizes "$sizes" --expect 3
	same_lines "$(vframe sums --sizes "$sizes")" "$output"
	same_lines "$(vframe sums --sizes "$sizes")" "$(frame_log "$T/q.frames")"
}

@test "frames: a frame written a few bytes at a time arrives whole; many frames in one write arrive one by one" {
	start_vframe hk serve unix:"$T/hk" --codec hyperkit --echo --log "$T/hk.frames"
	start_relay r UNIX-LISTEN:"$T/q",frames=qemu UNIX-CONNECT:"$T/hk",frames=hyperkit
	# 3-byte writes: the length header itself is split
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/q" --codec qemu --sizes 60,200,1514 --chunk 3 --expect 3
	same_lines "$(vframe sums --sizes 60,200,1514)" "$output"
	stop_pid "$RELAY_PID"

	# a new relay: 40 frames in one write
	local sizes
	sizes=$(seq -s, 60 20 840)
	: >"$T/hk2.frames"
	start_vframe hk2 serve unix:"$T/hk2" --codec hyperkit --echo --log "$T/hk2.frames"
	start_relay r2 UNIX-LISTEN:"$T/q2",frames=qemu UNIX-CONNECT:"$T/hk2",frames=hyperkit
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/q2" --codec qemu --sizes "$sizes" --one-write --expect 40
	same_lines "$(vframe sums --sizes "$sizes")" "$output"
	same_lines "$(vframe sums --sizes "$sizes")" "$(frame_log "$T/hk2.frames")"
}

@test "frames: a frame too long for hyperkit's u16 length (66000 bytes) is dropped and counted; the next one passes" {
	start_vframe hk serve unix:"$T/hk" --codec hyperkit --echo --log "$T/hk.frames"
	start_relay r -S UNIX-LISTEN:"$T/q",frames=qemu UNIX-CONNECT:"$T/hk",frames=hyperkit
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/q" --codec qemu --sizes 60,66000,61 --expect 2
	# frames 1 and 3 came back; frame 2 neither arrived nor was cut short
	same_lines "$(vframe sums --sizes 60,66000,61 | sed 2d)" "$output"
	same_lines "$(vframe sums --sizes 60,66000,61 | sed 2d)" "$(frame_log "$T/hk.frames")"
	# the drop did not end the link: the relay ends cleanly with the client,
	# and its -S statistics count the frame
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	grep 'frames:' "$T/r.log"
	[ "$(stat_value "$(grep 'frames:' "$T/r.log")" "too long")" = 1 ]
}

@test "frames: a corrupt qemu length (0xfffffff0) ends the link with one clear line naming the address; earlier frames were delivered" {
	start_vframe hk serve unix:"$T/hk" --codec hyperkit --log "$T/hk.frames"
	start_relay r UNIX-LISTEN:"$T/q",frames=qemu UNIX-CONNECT:"$T/hk",frames=hyperkit
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/q" --codec qemu --sizes 60,100 \
		--raw-hex fffffff0deadbeefdeadbeef --wait-eof
	[ "$output" = eof ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 1 ]
	# the error names the address as written and says what was wrong
	grep -E "UNIX-LISTEN:$T/q,frames=qemu: .*length" "$T/r.log"
	# both good frames went through, nothing of the corrupt one
	wait_until 10 grep -q '^end ' "$T/hk.frames"
	same_lines "$(vframe sums --sizes 60,100)" "$(frame_log "$T/hk.frames")"
}

@test "frames: a qemu frame cut short by EOF is not delivered in part" {
	start_vframe hk serve unix:"$T/hk" --codec hyperkit --log "$T/hk.frames"
	start_relay r UNIX-LISTEN:"$T/q",frames=qemu UNIX-CONNECT:"$T/hk",frames=hyperkit
	# two whole frames, then a header for 1000 bytes, 10 bytes, and EOF
	run -0 timeout 30 python3 "$VFRAME" garbage unix:"$T/q" --codec qemu -n 0 --truncate 1000 --wait-eof
	[ "$output" = eof ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" != timeout ]
	[ "$STATUS" -lt 128 ]
	wait_until 10 grep -q '^end ' "$T/hk.frames"
	[ "$(cat "$T/hk.frames")" = "end 0" ]
	# a user is told that the stream ended inside a frame
	grep -Ei "UNIX-LISTEN:$T/q,frames=qemu: .*(truncat|short|inside a frame|partial|incomplete)" "$T/r.log"
}

# ---- gvproxy /connect preamble ---------------------------------------------

@test "frames: post=/connect sends gvforwarder's POST request head before the frames" {
	start_vframe gv serve unix:"$T/gv" --codec hyperkit --expect-post --echo --log "$T/gv.frames"
	start_relay r UNIX-LISTEN:"$T/q",frames=qemu UNIX-CONNECT:"$T/gv",frames=hyperkit,post=/connect
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/q" --codec qemu --sizes 60,1514 --expect 2
	same_lines "$(vframe sums --sizes 60,1514)" "$output"
	grep -qx 'request POST /connect HTTP/1.1' "$T/gv.frames"
	same_lines "$(vframe sums --sizes 60,1514)" "$(grep -Ev '^(request|header|end) ' "$T/gv.frames")"
}

@test "frames: accept-post takes a client's POST /connect request head, then frames" {
	start_vframe q serve unix:"$T/qs" --codec qemu --echo --log "$T/q.frames"
	start_relay r UNIX-LISTEN:"$T/gv",frames=hyperkit,accept-post UNIX-CONNECT:"$T/qs",frames=qemu
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/gv" --codec hyperkit --post /connect --sizes 60,1514 --expect 2
	same_lines "$(vframe sums --sizes 60,1514)" "$output"
	# the request head did not leak into the frames
	same_lines "$(vframe sums --sizes 60,1514)" "$(frame_log "$T/q.frames")"
}

# ---- datagram and seqpacket sockets: one frame per message -------------------

@test "frames: UNIX-RECVFROM takes vfkit's VFKT greeting and drops it; frames go both ways with a qemu stream" {
	start_vframe q serve unix:"$T/qs" --codec qemu --echo --log "$T/q.frames"
	start_vrelay r UNIX-RECVFROM:"$T/d" UNIX-CONNECT:"$T/qs",frames=qemu
	wait_until 10 test -S "$T/d"
	run -0 timeout 30 python3 "$VFRAME" send dgram:"$T/d" --bind "$T/me" --greet VFKT --sizes 60,1514,9014 --expect 3
	same_lines "$(vframe sums --sizes 60,1514,9014)" "$output"
	# exactly the three frames reached the stream: no 4-byte "VFKT" frame
	same_lines "$(vframe sums --sizes 60,1514,9014)" "$(frame_log "$T/q.frames")"
}

@test "frames: UNIX-SENDTO with bind=: a qemu stream's frames go out as datagrams and the answers come back" {
	start_vframe d serve dgram:"$T/d" --echo --log "$T/d.frames"
	start_relay r UNIX-LISTEN:"$T/q",frames=qemu UNIX-SENDTO:"$T/d",bind="$T/me"
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/q" --codec qemu --sizes 60,1514,9014 --expect 3
	same_lines "$(vframe sums --sizes 60,1514,9014)" "$output"
	same_lines "$(vframe sums --sizes 60,1514,9014)" "$(frame_log "$T/d.frames")"
	# the answers came back to the bind= path, which goes with the link
	wait_exit "$RELAY_PID" 20
	[ "$STATUS" = 0 ]
	[ ! -e "$T/me" ]
}

@test "frames: UNIX-SEQPACKET client: hyperkit stream <-> seqpacket messages" {
	start_vframe sp serve seqpacket:"$T/sp" --echo --log "$T/sp.frames"
	start_relay r UNIX-LISTEN:"$T/h",frames=hyperkit UNIX-SEQPACKET:"$T/sp"
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/h" --codec hyperkit --sizes 60,1514,20000 --expect 3
	same_lines "$(vframe sums --sizes 60,1514,20000)" "$output"
	same_lines "$(vframe sums --sizes 60,1514,20000)" "$(frame_log "$T/sp.frames")"
}

@test "frames: UNIX-SEQPACKET-LISTEN: seqpacket messages <-> qemu stream" {
	start_vframe q serve unix:"$T/qs" --codec qemu --echo --log "$T/q.frames"
	start_relay r UNIX-SEQPACKET-LISTEN:"$T/sp" UNIX-CONNECT:"$T/qs",frames=qemu
	run -0 timeout 30 python3 "$VFRAME" send seqpacket:"$T/sp" --sizes 60,1514,20000 --expect 3
	same_lines "$(vframe sums --sizes 60,1514,20000)" "$output"
	same_lines "$(vframe sums --sizes 60,1514,20000)" "$(frame_log "$T/q.frames")"
}

@test "frames: a datagram longer than any frame (66000 bytes) is dropped and counted, the next passes" {
	start_vframe q serve unix:"$T/qs" --codec qemu --echo --log "$T/q.frames"
	start_relay r -S UNIX-SEQPACKET-LISTEN:"$T/sp" UNIX-CONNECT:"$T/qs",frames=qemu
	run -0 timeout 30 python3 "$VFRAME" send seqpacket:"$T/sp" --sizes 60,66000,61 --expect 2
	same_lines "$(vframe sums --sizes 60,66000,61 | sed 2d)" "$output"
	same_lines "$(vframe sums --sizes 60,66000,61 | sed 2d)" "$(frame_log "$T/q.frames")"
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	grep 'frames:' "$T/r.log"
	[ "$(stat_value "$(grep 'frames:' "$T/r.log")" "too long")" = 1 ]
}

# ---- usage errors -------------------------------------------------------------

# usage_error ARGS... - vrelay must exit 2 with one line on stderr
usage_error() {
	run -2 --separate-stderr timeout 10 "$VRELAY" "$@"
	echo "stderr: $stderr"
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "frames: usage: frames=bogus is exit 2, one line naming the address and the option; nothing is opened" {
	usage_error UNIX-LISTEN:"$T/s",frames=bogus UNIX-CONNECT:"$T/x",frames=qemu
	[[ "$stderr" == "vrelay: UNIX-LISTEN:$T/s,frames=bogus: "*frames* ]]
	[ ! -e "$T/s" ]
}

@test "frames: usage: TAP with a bad mac= or mtu= is exit 2, one line naming the address" {
	usage_error TAP:vrt0,mac=zz:00:00:00:00:01 UNIX-LISTEN:"$T/s"
	[[ "$stderr" == "vrelay: TAP:vrt0,mac=zz:00:00:00:00:01: "*mac* ]]
	usage_error TAP:vrt0,mtu=70000 UNIX-LISTEN:"$T/s"
	[[ "$stderr" == "vrelay: TAP:vrt0,mtu=70000: "*mtu* ]]
	[ ! -e "$T/s" ]
	! ip link show vrt0 2>/dev/null
}

# ---- TAP in a private namespace ----------------------------------------------

@test "TAP: netns=NAME makes the device in that namespace only, with mac= and mtu=; vrelay stays in the caller's namespace" {
	need_netns
	ns_create
	start_tap r "$NS" vt0 TAP:vt0,netns="$NS",up,mac=02:12:34:56:78:9a,mtu=1400 UNIX-LISTEN:"$T/s"
	[ "$(ns_mac "$NS" vt0)" = 02:12:34:56:78:9a ]
	[ "$(ns_mtu "$NS" vt0)" = 1400 ]
	ns_dev_up "$NS" vt0
	# not in the caller's namespace, and vrelay itself is still there
	run ! ip link show vt0 2>/dev/null
	[ "$(netns_inode "$RELAY_PID")" = "$(netns_inode $$)" ]
	# the listener is in the caller's namespace too: its socket is reachable
	wait_until 10 test -S "$T/s"
}

@test "TAP: netns=PATH (/run/netns/NAME) works like netns=NAME" {
	need_netns
	ns_create
	start_tap r "$NS" vt1 TAP:vt1,netns=/run/netns/"$NS",up UNIX-LISTEN:"$T/s"
	ns_has_dev "$NS" vt1
	! ip link show vt1 2>/dev/null
}

@test "TAP <-> UNIX-LISTEN with the default codec (qemu): a peer on the socket ARPs and pings the namespace" {
	need_netns
	ns_create
	start_tap r "$NS" tap0 TAP:tap0,netns="$NS",up,mac=02:aa:bb:cc:dd:01 UNIX-LISTEN:"$T/s"
	ip -n "$NS" addr add 10.231.0.1/24 dev tap0
	run -0 timeout 30 python3 "$VFRAME" probe unix:"$T/s" --codec qemu --src 10.231.0.2 --ip 10.231.0.1 \
		--ping-sizes 98,1514 --wait 5
	[ "${lines[0]}" = "arp 10.231.0.1 is-at 02:aa:bb:cc:dd:01" ]
	[ "${lines[1]}" = "echo-reply 1 98" ]
	[ "${lines[2]}" = "echo-reply 2 1514" ]
}

@test "TAP <-> UNIX-LISTEN,frames=hyperkit: the same with hyperkit framing" {
	need_netns
	ns_create
	start_tap r "$NS" tap0 TAP:tap0,netns="$NS",up UNIX-LISTEN:"$T/s",frames=hyperkit
	ip -n "$NS" addr add 10.231.0.1/24 dev tap0
	# (the device goes when vrelay ends with the probe's connection)
	local mac
	mac=$(ns_mac "$NS" tap0)
	run -0 timeout 30 python3 "$VFRAME" probe unix:"$T/s" --codec hyperkit --src 10.231.0.2 --ip 10.231.0.1 \
		--ping-sizes 98 --wait 5
	[ "${lines[0]}" = "arp 10.231.0.1 is-at $mac" ]
	[ "${lines[1]}" = "echo-reply 1 98" ]
}

@test "TAP <-> UNIX-SEQPACKET-LISTEN: one frame per message" {
	need_netns
	ns_create
	start_vrelay r TAP:tap0,netns="$NS",up UNIX-SEQPACKET-LISTEN:"$T/sp"
	wait_dev_or_exit "$RELAY_PID" "$NS" tap0
	wait_log_or_exit "$RELAY_PID" "$RELAY_LOG" "listening on"
	ip -n "$NS" addr add 10.231.0.1/24 dev tap0
	run -0 timeout 30 python3 "$VFRAME" probe seqpacket:"$T/sp" --src 10.231.0.2 --ip 10.231.0.1 \
		--ping-sizes 1514 --wait 5
	[ "${lines[1]}" = "echo-reply 1 1514" ]
}

@test "TAP mtu=1500: a 9000-byte frame from the socket is dropped and counted, never written to the device; the next frame passes" {
	need_netns
	ns_create
	# persist: the device and its counters stay when vrelay ends with the probe
	start_tap r "$NS" tap0 -S TAP:tap0,netns="$NS",up,mtu=1500,persist UNIX-LISTEN:"$T/s"
	ip -n "$NS" addr add 10.231.0.1/24 dev tap0
	local rx0 rx1
	rx0=$(ip netns exec "$NS" cat /sys/class/net/tap0/statistics/rx_bytes)
	run -0 timeout 30 python3 "$VFRAME" probe unix:"$T/s" --src 10.231.0.2 --ip 10.231.0.1 \
		--ping-sizes 9000,98 --wait 2
	[ "${lines[1]}" = "echo-reply 2 98" ]
	[ "${lines[2]}" = "no-reply 1" ]
	# the device received the ARP and the small echo request, not 9000 bytes
	rx1=$(ip netns exec "$NS" cat /sys/class/net/tap0/statistics/rx_bytes)
	echo "rx bytes: $rx0 -> $rx1"
	[ $((rx1 - rx0)) -lt 9000 ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	grep 'frames:' "$T/r.log"
	[ "$(stat_value "$(grep 'frames:' "$T/r.log")" "too long")" = 1 ]
}

@test "TAP persist: the device outlives vrelay; without persist it goes with vrelay" {
	need_netns
	ns_create
	local p1
	start_tap r "$NS" pt0 TAP:pt0,netns="$NS",up,persist UNIX-LISTEN:"$T/s"
	p1=$RELAY_PID
	start_tap r2 "$NS" pt1 TAP:pt1,netns="$NS",up UNIX-LISTEN:"$T/s2"
	stop_pid "$p1"
	[ "$STATUS" = 0 ]
	stop_pid "$RELAY_PID"
	[ "$STATUS" = 0 ]
	ns_has_dev "$NS" pt0
	wait_until 10 bash -c "! ip -n $NS link show pt1 >/dev/null 2>&1"
}

@test "TAP: an unprivileged user cannot open /dev/net/tun: exit 1, one line naming the address" {
	need_netns
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
	# (an abstract socket: the test's directory is not open to that user)
	run --separate-stderr timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$VRELAY" TAP:vrtnoroot0 ABSTRACT-LISTEN:vrt-noroot-$$
	echo "status $status, stderr: $stderr"
	[ "$status" = 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "vrelay: TAP:vrtnoroot0: "* ]]
	! ip link show vrtnoroot0 2>/dev/null
}

@test "TAP: netns= naming no namespace: an error exit, one line naming the address" {
	need_netns
	run --separate-stderr timeout 10 "$VRELAY" TAP:tap0,netns=vrt-none-$$ UNIX-LISTEN:"$T/s"
	echo "status $status, stderr: $stderr"
	[ "$status" = 1 ] || [ "$status" = 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "vrelay: TAP:tap0,netns=vrt-none-$$: "* ]]
	[ ! -e "$T/s" ]
}
