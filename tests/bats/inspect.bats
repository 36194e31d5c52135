#!/usr/bin/env bats
# inspect.bats - seeing the traffic: -v/-x dumps (exact text for a known
# exchange, only the timestamps masked), -r/-R raw copies (byte-exact, 1 MiB
# each way; pcap files for a frame relay), -S/--statistics at the end and
# on SIGUSR1 (bytes, and frames for a frame relay), and what -d -d tells
# of opening an address (and that without -d none of it shows).

load helper
load tools/lib

VFRAME="$BATS_TEST_DIRNAME/tools/vframe.py"

# start_vframe_echo - a hyperkit-framed echo server on $T/hk
start_vframe_echo() {
	start_bg python3 "$VFRAME" serve unix:"$T/hk" --codec hyperkit --echo --ready "$T/hk.ready"
	wait_until 10 test -s "$T/hk.ready"
}

setup() {
	T=$BATS_TEST_TMPDIR
}

# mask_ts - a dump header's timestamp as TS (the one thing that varies)
mask_ts() {
	sed -E 's#^([<>]) [0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}  #\1 TS  #'
}

# same_text EXPECTED ACTUAL - compare, showing both on a mismatch
same_text() {
	if [ "$1" != "$2" ]; then
		printf 'expected:\n%s\ngot:\n%s\n' "$1" "$2" >&2
		return 1
	fi
}

# records DIR FILE - the dump records of one direction ('>' or '<')
records() {
	awk -v d="$1" '/^[<>] / { keep = ($1 == d) } keep' "$2"
}

# pcap_sums FILE - "LEN SHA256[:16]" per record of a pcap file, after
# checking its header (classic magic, version 2.4, Ethernet)
pcap_sums() {
	python3 - "$1" <<-'PY'
		import hashlib, struct, sys
		data = open(sys.argv[1], "rb").read()
		magic, major, minor, _, _, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
		assert (magic, major, minor, linktype) == (0xa1b2c3d4, 2, 4, 1), "bad pcap header"
		pos = 24
		while pos < len(data):
		    _, _, incl, orig = struct.unpack("<IIII", data[pos:pos + 16])
		    assert incl == orig and incl <= snaplen
		    frame = data[pos + 16:pos + 16 + incl]
		    assert len(frame) == incl, "record cut short"
		    print("%d %s" % (incl, hashlib.sha256(frame).hexdigest()[:16]))
		    pos += 16 + incl
	PY
}

# hexdump_of FILE - what -x shows of FILE's bytes (16 a line, printable
# ASCII beside them), written independently of vrelay's code
hexdump_of() {
	python3 - "$1" <<-'PY'
		import sys
		data = open(sys.argv[1], "rb").read()
		for i in range(0, len(data), 16):
		    chunk = data[i:i + 16]
		    hexes = "".join(" %02x" % b for b in chunk) + "   " * (16 - len(chunk))
		    text = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in chunk)
		    print(hexes + "  " + text)
	PY
}

# The known exchange: the left side sends LEFT (one read: a file on stdin),
# the right side answers RIGHT once it has read everything
exchange() {
	printf 'hello\001\r\nsecond line\n' >"$T/left"
	"$VRELAY" "$@" - SYSTEM:"cat >/dev/null; printf 'ok\\tdone\\177'" <"$T/left" >"$T/out" 2>"$T/err"
}

# ---- dumps -------------------------------------------------------------------

@test "inspect: -v: the exact text dump of a known exchange, both directions, non-printables as \\xNN" {
	run -0 exchange -v
	[ "$(printf 'ok\tdone\177')" = "$(cat "$T/out")" ]
	same_text "$(printf '%s\n' \
		'> TS  length=20 from=0 to=19' \
		'hello\x01\x0d' \
		'second line' \
		'< TS  length=8 from=0 to=7')
$(printf 'ok\tdone\\x7f')" "$(mask_ts <"$T/err")"
}

@test "inspect: -x: the exact hex dump of the same exchange, both directions" {
	run -0 exchange -x
	same_text "$(printf '%s\n' \
		'> TS  length=20 from=0 to=19' \
		' 68 65 6c 6c 6f 01 0d 0a 73 65 63 6f 6e 64 20 6c  hello...second l' \
		' 69 6e 65 0a                                      ine.' \
		'< TS  length=8 from=0 to=7' \
		' 6f 6b 09 64 6f 6e 65 7f                          ok.done.')" \
		"$(mask_ts <"$T/err")"
}

@test "inspect: from= and to= count on across chunks of one direction (-b 4096, 5000 bytes)" {
	head -c 5000 /dev/zero | tr '\0' a >"$T/in"
	run -0 timeout 10 "$VRELAY" -v -b 4096 -u - SYSTEM:'cat >/dev/null' <"$T/in"
	same_text "$(printf '%s\n' '> TS  length=4096 from=0 to=4095' '> TS  length=904 from=4096 to=4999')" \
		"$(printf '%s\n' "$output" | mask_ts | grep '^[<>]')"
}

@test "inspect: -v on a frame relay: one record per frame, numbered each way; -x shows the frame's bytes" {
	start_vframe_echo
	start_relay r -x -R "$T/rl.pcap" UNIX-LISTEN:"$T/q",frames=qemu UNIX-CONNECT:"$T/hk",frames=hyperkit
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/q" --codec qemu --sizes 60,61 --expect 2
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	grep -v '] [EWNID] ' "$T/r.log" >"$T/dump"
	same_text "$(printf '%s\n' '> TS  length=60 frame=1' '> TS  length=61 frame=2')" \
		"$(records '>' "$T/dump" | mask_ts | grep '^>')"
	same_text "$(printf '%s\n' '< TS  length=60 frame=1' '< TS  length=61 frame=2')" \
		"$(records '<' "$T/dump" | mask_ts | grep '^<')"
	# the bytes under each header are the frame's: the echoed frames, taken
	# from the -R capture (checked against vframe's own sums)
	same_text "$(python3 "$VFRAME" sums --sizes 60,61)" "$(pcap_sums "$T/rl.pcap")"
	python3 - "$T/rl.pcap" "$T" <<-'PY'
		import struct, sys
		data, pos, n = open(sys.argv[1], "rb").read(), 24, 0
		while pos < len(data):
		    incl = struct.unpack("<IIII", data[pos:pos + 16])[2]
		    n += 1
		    open("%s/frame%d" % (sys.argv[2], n), "wb").write(data[pos + 16:pos + 16 + incl])
		    pos += 16 + incl
	PY
	same_text "$(hexdump_of "$T/frame1"; hexdump_of "$T/frame2")" \
		"$(records '<' "$T/dump" | grep -v '^<')"
}

# ---- raw copies --------------------------------------------------------------

@test "inspect: -r/-R copy each direction byte for byte: 1 MiB both ways at once" {
	head -c 1048576 /dev/urandom >"$T/lr"
	head -c 1048576 /dev/urandom >"$T/rl"
	# (an asynchronous list's stdin is /dev/null: the copy on fd 3 is the socket)
	timeout 30 "$VRELAY" -S -r "$T/copy-lr" -R "$T/copy-rl" \
		- SYSTEM:"exec 3<&0; cat <&3 >'$T/got-lr' & cat '$T/rl'; wait" <"$T/lr" >"$T/got-rl" 2>"$T/err"
	[ "$(sum_of "$T/copy-lr")" = "$(sum_of "$T/lr")" ]
	[ "$(sum_of "$T/copy-rl")" = "$(sum_of "$T/rl")" ]
	# and the relay itself moved the same bytes
	[ "$(sum_of "$T/got-lr")" = "$(sum_of "$T/lr")" ]
	[ "$(sum_of "$T/got-rl")" = "$(sum_of "$T/rl")" ]
	[ "$(cat "$T/err")" = "vrelay: statistics: left-to-right 1048576 bytes, right-to-left 1048576 bytes, connections 1, active 0, failed 0" ]
}

@test "inspect: -r with -x at the same time: the dump on stderr, the exact bytes in the file, nothing added" {
	run -0 exchange -x -r "$T/copy"
	cmp "$T/copy" "$T/left"
	grep -q '^> .* length=20 from=0 to=19$' "$T/err"
	# -R not given: nothing written anywhere for right to left
	[ ! -e "$T/copy-rl" ]
}

@test "inspect: -r truncates an old file; fork children append to the one file" {
	printf 'old contents, longer than the new\n' >"$T/copy"
	start_relay f -r "$T/copy" UNIX-LISTEN:"$T/s",fork SYSTEM:'cat >/dev/null'
	[ ! -s "$T/copy" ]
	printf 'first-client\n' | socat -u - UNIX-CONNECT:"$T/s"
	printf 'second-client\n' | socat -u - UNIX-CONNECT:"$T/s"
	wait_value 10 27 stat -c %s "$T/copy"
	[ "$(sort "$T/copy")" = "$(printf 'first-client\nsecond-client')" ]
}

@test "inspect: -r/-R with a path that cannot be opened: exit 2, one line naming the option and the path" {
	run -2 --separate-stderr timeout 5 "$VRELAY" -r "$T/no/such/dir" - - </dev/null
	[ "$stderr" = "vrelay: -r $T/no/such/dir: No such file or directory" ]
	run -2 --separate-stderr timeout 5 "$VRELAY" -R "$T" - - </dev/null
	[ "$stderr" = "vrelay: -R $T: Is a directory" ]
	run -2 --separate-stderr timeout 5 "$VRELAY" -r </dev/null
	[[ "$stderr" == "vrelay: -r: missing value"* ]]
}

@test "inspect: -r on a frame relay is a pcap capture of that direction (tcpdump reads it)" {
	start_vframe_echo
	start_relay r -r "$T/lr.pcap" -R "$T/rl.pcap" UNIX-LISTEN:"$T/q",frames=qemu \
		UNIX-CONNECT:"$T/hk",frames=hyperkit
	run -0 timeout 30 python3 "$VFRAME" send unix:"$T/q" --codec qemu --sizes 60,1514,61 --expect 3
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	same_text "$(python3 "$VFRAME" sums --sizes 60,1514,61)" "$(pcap_sums "$T/lr.pcap")"
	same_text "$(python3 "$VFRAME" sums --sizes 60,1514,61)" "$(pcap_sums "$T/rl.pcap")"
	if command -v tcpdump >/dev/null; then
		run -0 --separate-stderr tcpdump -n -r "$T/lr.pcap"
		# one summary line per frame (an unknown ethertype adds hex lines)
		same_text "$(printf 'length %s:\n' 60 1514 61)" \
			"$(printf '%s\n' "$output" | grep '^[0-9]' | grep -o 'length [0-9]*:')"
	fi
}

# ---- statistics --------------------------------------------------------------

@test "inspect: SIGUSR1 prints the statistics while the relay runs; -S prints them again at the end" {
	mkfifo "$T/in"
	# held open read-write here, so that the relay's open of it does not
	# wait, and its EOF comes when this shell closes it
	exec 8<>"$T/in"
	"$VRELAY" -S - SYSTEM:"cat >'$T/got'" <"$T/in" >/dev/null 2>"$T/err" 8>&- &
	local pid=$!
	BG_PIDS+=("$pid")
	printf hello >&8
	wait_value 10 5 stat -c %s "$T/got"
	kill -USR1 "$pid"
	wait_until 10 grep -q statistics "$T/err"
	[ "$(cat "$T/err")" = "vrelay: statistics: left-to-right 5 bytes, right-to-left 0 bytes, connections 1, active 1, failed 0" ]
	printf ' world' >&8
	exec 8>&-
	wait_exit "$pid"
	[ "$STATUS" = 0 ]
	[ "$(sed -n 2p "$T/err")" = "vrelay: statistics: left-to-right 11 bytes, right-to-left 0 bytes, connections 1, active 0, failed 0" ]
	[ "$(wc -l <"$T/err")" = 2 ]
}

# stats_lines LOG - the last statistics and frames lines of a -dd log,
# without the log prefix
stats_lines() {
	sed -n 's/^.*\] E \(statistics: .*\)$/\1/p' "$1" | tail -n 1
	sed -n 's/^.*\] E \(frames: .*\)$/\1/p' "$1" | tail -n 1
}

# usr1_shows PID LOG WANT - send SIGUSR1, and see whether the statistics
# it printed are WANT (for polling: the frames may still be on their way)
usr1_shows() {
	local before
	before=$(grep -c 'E frames: ' "$2")
	kill -USR1 "$1"
	wait_until 5 test "$(grep -c 'E frames: ' "$2")" -gt "$before" || return 1
	[ "$(stats_lines "$2")" = "$3" ]
}

@test "inspect: a frame relay's statistics count frames and their bytes each way, on SIGUSR1 and at the end" {
	start_vframe_echo
	start_relay r -S UNIX-LISTEN:"$T/q",frames=qemu UNIX-CONNECT:"$T/hk",frames=hyperkit
	start_bg timeout 30 python3 "$VFRAME" send unix:"$T/q" --codec qemu --sizes 60,61,1514 --expect 3 --wait-eof
	local want
	want=$(printf '%s\n' \
		'statistics: left-to-right 1635 bytes, right-to-left 1635 bytes, connections 1, active 1, failed 0' \
		'frames: left-to-right 3 (1635 bytes), right-to-left 3 (1635 bytes), dropped: 0 too long, 0 malformed, 0 queue full')
	wait_until 10 usr1_shows "$RELAY_PID" "$T/r.log" "$want"
	# the end: the client goes, the link ends, -S says it all once more
	kill -TERM "$LAST_PID"
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	same_text "${want/active 1/active 0}" "$(stats_lines "$T/r.log")"
}

# ---- -d -d: every step of opening an address -------------------------------

@test "inspect: -d -d on TCP:127.0.0.1:PORT tells the name's addresses, the socket, the connect and its outcome; no -d tells none" {
	start_relay back TCP4-LISTEN:0,bind=127.0.0.1,fork SYSTEM:'echo hi'
	local a="TCP:127.0.0.1:$PORT"
	run -0 --separate-stderr timeout 10 "$VRELAY" -d -d "$a" - </dev/null
	[ "$output" = hi ]
	printf '%s\n' "$stderr" | sed -E 's/^[0-9/]+ [0-9:.]+ vrelay\[[0-9]+\] //' >"$T/steps"
	same_text "$(printf '%s\n' \
		"I $a: 127.0.0.1 resolves to 127.0.0.1:$PORT" \
		"N $a: connecting to 127.0.0.1:$PORT" \
		"I $a: socket: IPv4 stream, fd N" \
		"N $a: connected to 127.0.0.1:$PORT")" \
		"$(grep " $a: " "$T/steps" | grep -v 'end of input' | sed -E 's/fd [0-9]+$/fd N/')"
	# -d alone: the notices, not the info lines
	run -0 --separate-stderr timeout 10 "$VRELAY" -d "$a" - </dev/null
	[[ "$stderr" == *"] N $a: connected to 127.0.0.1:$PORT"* ]]
	[[ "$stderr" != *"] I "* ]]
	run -0 --separate-stderr timeout 10 "$VRELAY" "$a" - </dev/null
	[ "$output" = hi ]
	[ -z "$stderr" ]
}

@test "inspect: -d -d on UNIX-LISTEN:path tells socket, bind, listening, the peer, the child, the unlink; no -d tells none" {
	local a="UNIX-LISTEN:$T/s"
	start_relay l "$a" SYSTEM:'echo hi'
	run -0 timeout 10 socat - UNIX-CONNECT:"$T/s" </dev/null
	[ "$output" = hi ]
	wait_exit "$RELAY_PID"
	[ "$STATUS" = 0 ]
	# whether the child's exit is reaped before the relay ends is timing
	sed -E 's/^[0-9/]+ [0-9:.]+ vrelay\[[0-9]+\] //; s/(fd|child) [0-9]+/\1 N/' "$T/l.log" |
		grep -v -e 'end of input' -e 'child N exited with status 0' >"$T/steps"
	same_text "$(printf '%s\n' \
		"I $a: serving in single mode (epoll loop)" \
		"I $a: socket: unix stream, fd N" \
		"I $a: bound to $T/s" \
		"N $a: listening on $T/s" \
		"N $a: accepted connection from (unnamed unix socket)" \
		"I $a: removed $T/s" \
		"N SYSTEM:echo hi: starting /bin/sh" \
		"I SYSTEM:echo hi: child N running")" \
		"$(sed 's/(poll loop)/(epoll loop)/' "$T/steps")"
	[ ! -e "$T/s" ]

	# no -d: not one of those lines
	"$VRELAY" "$a" SYSTEM:'echo hi' </dev/null 2>"$T/quiet.log" &
	local pid=$!
	BG_PIDS+=("$pid")
	wait_until 10 test -S "$T/s"
	run -0 timeout 10 socat - UNIX-CONNECT:"$T/s" </dev/null
	[ "$output" = hi ]
	wait_exit "$pid"
	[ "$STATUS" = 0 ]
	[ ! -s "$T/quiet.log" ]
}
