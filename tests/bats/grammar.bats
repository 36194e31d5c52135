#!/usr/bin/env bats
# grammar.bats - the address grammar and the error catalogue: every usage
# error exits 2 with one line "vrelay: ADDRESS: PROBLEM" and opens nothing;
# runtime failures exit 1 with one line; quoting, aliases, dual addresses,
# help and applet dispatch.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# vr ARGS... - vrelay with nothing on stdin and a time limit, so that a
# usage error that is not caught shows up as status 124, not as a hang
vr() {
	timeout 10 "$VRELAY" "$@" </dev/null
}

# closed_port - a loopback TCP port nobody listens on (a vrelay listener
# picked it and has gone away again)
closed_port() {
	start_relay closed TCP4-LISTEN:0,bind=127.0.0.1 STDIO </dev/null >/dev/null
	stop_pid "$RELAY_PID"
	[ "$STATUS" = 0 ]
	echo "$PORT"
}

# ---- unknown types and parameter counts -------------------------------

@test "usage: unknown address type" {
	run -2 vr FOO:x -
	[ "$output" = 'vrelay: FOO:x: unknown address type "FOO" (vrelay -h lists them)' ]
}

@test "usage: unknown address type as the second address" {
	run -2 vr - NOSUCH
	[ "$output" = 'vrelay: NOSUCH: unknown address type "NOSUCH" (vrelay -h lists them)' ]
}

@test "usage: missing address type before ':'" {
	run -2 vr :x -
	[ "$output" = 'vrelay: :x: missing address type' ]
}

@test "usage: TCP-CONNECT with too few parameters" {
	run -2 vr TCP:127.0.0.1 -
	[ "$output" = 'vrelay: TCP:127.0.0.1: wrong number of parameters (1 given, TCP-CONNECT takes 2: TCP-CONNECT:host:port)' ]
}

@test "usage: TCP-CONNECT with too many parameters" {
	run -2 vr TCP:127.0.0.1:80:9 -
	[ "$output" = 'vrelay: TCP:127.0.0.1:80:9: wrong number of parameters (3 given, TCP-CONNECT takes 2: TCP-CONNECT:host:port)' ]
}

@test "usage: UNIX-LISTEN without its path" {
	run -2 vr - UNIX-LISTEN
	[ "$output" = 'vrelay: UNIX-LISTEN: wrong number of parameters (0 given, UNIX-LISTEN takes 1: UNIX-LISTEN:path)' ]
}

@test "usage: TCP-LISTEN with two parameters" {
	run -2 vr TCP-LISTEN:0:1 -
	[ "$output" = 'vrelay: TCP-LISTEN:0:1: wrong number of parameters (2 given, TCP-LISTEN takes 1: TCP-LISTEN:port)' ]
}

@test "usage: a parameter on STDIO" {
	run -2 vr STDIO:x -
	[ "$output" = 'vrelay: STDIO:x: wrong number of parameters (1 given, STDIO takes none)' ]
}

@test "usage: a parameter on STDOUT" {
	run -2 vr - STDOUT:1
	[ "$output" = 'vrelay: STDOUT:1: wrong number of parameters (1 given, STDOUT takes none)' ]
}

# ---- options a type does not take -------------------------------------

@test "usage: fork on TCP-CONNECT" {
	run -2 vr TCP:127.0.0.1:80,fork -
	[ "$output" = 'vrelay: TCP:127.0.0.1:80,fork: unknown option "fork" for TCP-CONNECT (see vrelay -h TCP-CONNECT)' ]
}

@test "usage: range on UNIX-LISTEN" {
	run -2 vr UNIX-LISTEN:s,range=127.0.0.1 -
	[ "$output" = 'vrelay: UNIX-LISTEN:s,range=127.0.0.1: unknown option "range" for UNIX-LISTEN (see vrelay -h UNIX-LISTEN)' ]
}

@test "usage: nodelay on UNIX-CONNECT" {
	run -2 vr UNIX:s,nodelay -
	[ "$output" = 'vrelay: UNIX:s,nodelay: unknown option "nodelay" for UNIX-CONNECT (see vrelay -h UNIX-CONNECT)' ]
}

@test "usage: connect-timeout on UNIX-CONNECT" {
	run -2 vr UNIX:s,connect-timeout=1 -
	[ "$output" = 'vrelay: UNIX:s,connect-timeout=1: unknown option "connect-timeout" for UNIX-CONNECT (see vrelay -h UNIX-CONNECT)' ]
}

@test "usage: ignoreeof is the only option STDIO takes" {
	run -2 vr -,nodelay -
	[ "$output" = 'vrelay: -,nodelay: unknown option "nodelay" for STDIO (see vrelay -h STDIO)' ]
}

# ---- ports ------------------------------------------------------------

@test "usage: connect to port 0" {
	run -2 vr TCP:127.0.0.1:0 -
	[ "$output" = 'vrelay: TCP:127.0.0.1:0: port: out of range (1..65535)' ]
}

@test "usage: connect to port 65536" {
	run -2 vr TCP:127.0.0.1:65536 -
	[ "$output" = 'vrelay: TCP:127.0.0.1:65536: port: out of range (1..65535)' ]
}

@test "usage: connect to port abc (no such service)" {
	run -2 vr TCP:127.0.0.1:abc -
	[ "$output" = 'vrelay: TCP:127.0.0.1:abc: port: unknown service "abc"' ]
}

@test "usage: connect to port -1" {
	run -2 vr TCP:127.0.0.1:-1 -
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == 'vrelay: TCP:127.0.0.1:-1: port: '*'"-1"'* ]]
}

@test "usage: connect to an empty port" {
	run -2 vr TCP:127.0.0.1: -
	[ "$output" = 'vrelay: TCP:127.0.0.1:: port: empty' ]
}

@test "usage: listen on port 70000" {
	run -2 vr TCP-LISTEN:70000 -
	[ "$output" = 'vrelay: TCP-LISTEN:70000: port: out of range (0..65535)' ]
}

# ---- hosts ------------------------------------------------------------

@test "usage: a bad character in the host" {
	run -2 vr 'TCP:ho$t:80' -
	[ "$output" = "vrelay: TCP:ho\$t:80: host: invalid character '\$' in \"ho\$t\"" ]
}

@test "usage: a host that does not resolve (.invalid)" {
	run -2 vr TCP:nosuch.invalid:80 -
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == 'vrelay: TCP:nosuch.invalid:80: host: cannot resolve "nosuch.invalid": '* ]]
}

@test "usage: a host name longer than 253 characters" {
	local h
	h=$(printf 'a%.0s' {1..254})
	run -2 vr "TCP:$h:80" -
	[ "$output" = "vrelay: TCP:$h:80: host: name too long (254 > 253)" ]
}

@test "usage: an empty host" {
	run -2 vr TCP::80 -
	[ "$output" = 'vrelay: TCP::80: host: empty' ]
}

@test "usage: bracketed IPv6 keeps its colons together (bad port is reported)" {
	run -2 vr 'TCP:[::1]:0' -
	[ "$output" = 'vrelay: TCP:[::1]:0: port: out of range (1..65535)' ]
}

@test "usage: bracketed text that is no IPv6 address" {
	run -2 vr 'TCP:[fe80::zz]:80' -
	[ "$output" = "vrelay: TCP:[fe80::zz]:80: host: invalid character ':' in \"fe80::zz\"" ]
}

# ---- option values ----------------------------------------------------

@test "usage: backlog=0" {
	run -2 vr TCP-LISTEN:0,backlog=0 -
	[ "$output" = 'vrelay: TCP-LISTEN:0,backlog=0: backlog: out of range (1..65535)' ]
}

@test "usage: backlog=x" {
	run -2 vr TCP-LISTEN:0,backlog=x -
	[ "$output" = 'vrelay: TCP-LISTEN:0,backlog=x: backlog: invalid number "x"' ]
}

@test "usage: max-children=0" {
	run -2 vr TCP-LISTEN:0,fork,max-children=0 -
	[ "$output" = 'vrelay: TCP-LISTEN:0,fork,max-children=0: max-children: out of range (1..1000000)' ]
}

@test "usage: connect-timeout=abc" {
	run -2 vr TCP:127.0.0.1:80,connect-timeout=abc -
	[ "$output" = 'vrelay: TCP:127.0.0.1:80,connect-timeout=abc: connect-timeout: invalid duration "abc"' ]
}

@test "usage: connect-timeout=-1" {
	run -2 vr TCP:127.0.0.1:80,connect-timeout=-1 -
	[ "$output" = 'vrelay: TCP:127.0.0.1:80,connect-timeout=-1: connect-timeout: invalid duration "-1"' ]
}

@test "usage: retry=x" {
	run -2 vr TCP:127.0.0.1:80,retry=x -
	[ "$output" = 'vrelay: TCP:127.0.0.1:80,retry=x: retry: invalid number "x"' ]
}

@test "usage: mode=999 is not octal" {
	run -2 vr UNIX-LISTEN:s,mode=999 -
	[ "$output" = 'vrelay: UNIX-LISTEN:s,mode=999: mode: invalid octal mode "999"' ]
}

@test "usage: mode=abc" {
	run -2 vr UNIX-LISTEN:s,mode=abc -
	[ "$output" = 'vrelay: UNIX-LISTEN:s,mode=abc: mode: invalid octal mode "abc"' ]
}

@test "usage: mode=17777 is out of range" {
	run -2 vr UNIX-LISTEN:s,mode=17777 -
	[ "$output" = 'vrelay: UNIX-LISTEN:s,mode=17777: mode: out of range (0..07777)' ]
}

@test "usage: user=nosuchuser" {
	run -2 vr UNIX-LISTEN:s,user=nosuchuser -
	[ "$output" = 'vrelay: UNIX-LISTEN:s,user=nosuchuser: user: no such user "nosuchuser"' ]
}

@test "usage: group=nosuchgroup" {
	run -2 vr UNIX-LISTEN:s,group=nosuchgroup -
	[ "$output" = 'vrelay: UNIX-LISTEN:s,group=nosuchgroup: group: no such group "nosuchgroup"' ]
}

@test "usage: rcvbuf=1 is below the minimum" {
	run -2 vr TCP:127.0.0.1:80,rcvbuf=1 -
	[ "$output" = 'vrelay: TCP:127.0.0.1:80,rcvbuf=1: rcvbuf: out of range (1024..1073741824)' ]
}

@test "usage: rcvbuf=1x is no size" {
	run -2 vr TCP:127.0.0.1:80,rcvbuf=1x -
	[ "$output" = 'vrelay: TCP:127.0.0.1:80,rcvbuf=1x: rcvbuf: invalid size "1x"' ]
}

@test "usage: fork=maybe (a flag with a bad value)" {
	run -2 vr TCP-LISTEN:0,fork=maybe -
	[ "$output" = 'vrelay: TCP-LISTEN:0,fork=maybe: fork: expects no value or 0/1, got "maybe"' ]
}

@test "usage: backlog= without its value" {
	run -2 vr TCP-LISTEN:0,backlog= -
	[ "$output" = 'vrelay: TCP-LISTEN:0,backlog=: backlog: missing value (backlog=N)' ]
}

@test "usage: mode without its value" {
	run -2 vr UNIX-LISTEN:s,mode -
	[ "$output" = 'vrelay: UNIX-LISTEN:s,mode: mode: missing value (mode=OCTAL)' ]
}

@test "usage: range=10.0.0.0/33" {
	run -2 vr TCP-LISTEN:0,range=10.0.0.0/33 -
	[ "$output" = 'vrelay: TCP-LISTEN:0,range=10.0.0.0/33: range: prefix length "33" not in 0..32' ]
}

@test "usage: range=foo" {
	run -2 vr TCP-LISTEN:0,range=foo -
	[ "$output" = 'vrelay: TCP-LISTEN:0,range=foo: range: invalid address "foo"' ]
}

@test "usage: bind= with a port on a listener" {
	run -2 vr TCP-LISTEN:0,bind=127.0.0.1:5 -
	[ "$output" = 'vrelay: TCP-LISTEN:0,bind=127.0.0.1:5: bind: a listener takes its port from the address, not from bind=' ]
}

# ---- the option list itself --------------------------------------------

@test "usage: an empty option (two commas)" {
	run -2 vr TCP-LISTEN:0,,fork -
	[ "$output" = 'vrelay: TCP-LISTEN:0,,fork: empty option (two commas, or a comma at the end)' ]
}

@test "usage: an empty option (trailing comma)" {
	run -2 vr TCP-LISTEN:0,fork, -
	[ "$output" = 'vrelay: TCP-LISTEN:0,fork,: empty option (two commas, or a comma at the end)' ]
}

# ---- quoting ------------------------------------------------------------

@test "usage: unterminated single quote" {
	run -2 vr "UNIX-LISTEN:'s" -
	[ "$output" = "vrelay: UNIX-LISTEN:'s: unterminated single quote" ]
}

@test "usage: unterminated double quote" {
	run -2 vr 'UNIX-LISTEN:"s' -
	[ "$output" = 'vrelay: UNIX-LISTEN:"s: unterminated double quote' ]
}

@test "usage: trailing backslash" {
	run -2 vr 'TCP:127.0.0.1:80\' -
	[ "$output" = 'vrelay: TCP:127.0.0.1:80\: trailing backslash' ]
}

@test "usage: unterminated '['" {
	run -2 vr 'TCP:[::1:80' -
	[ "$output" = "vrelay: TCP:[::1:80: unterminated '['" ]
}

# ---- unix paths -----------------------------------------------------------

@test "usage: unix path longer than 107 bytes" {
	local p
	p=$(printf 'a%.0s' {1..108})
	run -2 vr "UNIX-LISTEN:$p" -
	[ "$output" = "vrelay: UNIX-LISTEN:$p: path: too long (108 bytes, at most 107): \"$p\"" ]
	[ ! -e "$p" ]
}

@test "usage: unix path too long for UNIX-CONNECT too" {
	local p="$BATS_TEST_TMPDIR/$(printf 'b%.0s' {1..120})"
	run -2 vr - "UNIX-CONNECT:$p"
	[ "$output" = "vrelay: UNIX-CONNECT:$p: path: too long (${#p} bytes, at most 107): \"$p\"" ]
}

@test "usage: abstract name longer than 106 bytes" {
	local n
	n=$(printf 'a%.0s' {1..107})
	run -2 vr "ABSTRACT-LISTEN:$n" -
	[ "$output" = "vrelay: ABSTRACT-LISTEN:$n: name: too long (107 bytes, at most 106): \"$n\"" ]
}

@test "usage: UNIX-LISTEN in a directory that does not exist" {
	run -2 vr "UNIX-LISTEN:$BATS_TEST_TMPDIR/nodir/s" -
	[ "$output" = "vrelay: UNIX-LISTEN:$BATS_TEST_TMPDIR/nodir/s: path: directory \"$BATS_TEST_TMPDIR/nodir\" does not exist" ]
	[ ! -e "$BATS_TEST_TMPDIR/nodir" ]
}

@test "usage: UNIX-LISTEN with an empty path" {
	run -2 vr UNIX-LISTEN: -
	[ "$output" = 'vrelay: UNIX-LISTEN:: path: empty' ]
}

# ---- inherited fds --------------------------------------------------------

@test "usage: FD:99 is not open" {
	run -2 vr FD:99 -
	[ "$output" = 'vrelay: FD:99: fd 99 is not open' ]
}

@test "usage: a bare number that is no open fd" {
	run -2 vr - 98
	[ "$output" = 'vrelay: 98: fd 98 is not open' ]
}

@test "usage: FD:1048576 is out of range" {
	run -2 vr FD:1048576 -
	[ "$output" = 'vrelay: FD:1048576: fd: out of range (0..1048575)' ]
}

@test "usage: FD:abc" {
	run -2 vr FD:abc -
	[ "$output" = 'vrelay: FD:abc: fd: invalid number "abc"' ]
}

@test "usage: ACCEPT-FD on a non-socket (fd 0 from /dev/null)" {
	run -2 vr ACCEPT-FD:0 -
	[ "$output" = 'vrelay: ACCEPT-FD:0: fd 0 is not a socket' ]
}

@test "usage: ACCEPT-FD on a socket that does not listen" {
	# an unbound, unconnected TCP socket on fd 5
	run -2 timeout 10 python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
if s.fileno() != 5:
    os.dup2(s.fileno(), 5)
os.set_inheritable(5, True)
os.execv(sys.argv[1], [sys.argv[1], "ACCEPT-FD:5", "-"])
' "$VRELAY" </dev/null
	[ "$output" = 'vrelay: ACCEPT-FD:5: fd 5 is a socket, but not a listening one' ]
}

@test "usage: ACCEPT-FD on a closed fd" {
	run -2 vr ACCEPT-FD:77 -
	[ "$output" = 'vrelay: ACCEPT-FD:77: fd 77 is not open' ]
}

# ---- EXEC and SYSTEM ------------------------------------------------------

@test "usage: EXEC with an empty command" {
	run -2 vr EXEC: -
	[ "$output" = 'vrelay: EXEC:: command: empty' ]
}

@test "usage: EXEC with a command of blanks only" {
	run -2 vr 'EXEC:   ' -
	[ "$output" = 'vrelay: EXEC:   : command: empty' ]
}

@test "usage: SYSTEM with an empty command" {
	run -2 vr - SYSTEM:
	[ "$output" = 'vrelay: SYSTEM:: command: empty' ]
}

@test "usage: EXEC with an unterminated quote in the command" {
	run -2 vr "EXEC:sh -c 'echo hi" -
	[ "$output" = "vrelay: EXEC:sh -c 'echo hi: unterminated single quote" ]
}

# ---- modes and pairs --------------------------------------------------------

@test "usage: fork and multi together" {
	run -2 vr TCP-LISTEN:0,fork,multi -
	[ "$output" = 'vrelay: TCP-LISTEN:0,fork,multi: fork and multi exclude each other' ]
}

@test "usage: -M with a first address that does not listen" {
	run -2 vr -M TCP:127.0.0.1:80 -
	[ "$output" = 'vrelay: TCP:127.0.0.1:80: -M needs a listening first address' ]
}

@test "usage: -M together with fork" {
	run -2 vr -M TCP-LISTEN:0,fork -
	[ "$output" = 'vrelay: TCP-LISTEN:0,fork: fork and -M (multi) exclude each other' ]
}

@test "usage: retry on the right with -M" {
	run -2 vr -M TCP-LISTEN:0 TCP:127.0.0.1:80,retry=3
	[ "$output" = 'vrelay: TCP:127.0.0.1:80,retry=3: retry and forever do not apply in the many-connections mode' ]
}

@test "usage: forever on the right with multi" {
	run -2 vr TCP-LISTEN:0,multi TCP:127.0.0.1:80,forever
	[ "$output" = 'vrelay: TCP:127.0.0.1:80,forever: retry and forever do not apply in the many-connections mode' ]
}

@test "usage: fork on the second address" {
	run -2 vr - TCP-LISTEN:0,fork
	[ "$output" = 'vrelay: TCP-LISTEN:0,fork: fork and multi work on the first address only' ]
}

@test "usage: multi on the second address" {
	run -2 vr - UNIX-LISTEN:s,multi
	[ "$output" = 'vrelay: UNIX-LISTEN:s,multi: fork and multi work on the first address only' ]
	[ ! -e s ]
}

@test "usage: a listener as half of a dual address" {
	run -2 vr 'TCP-LISTEN:0!!STDOUT' -
	[ "$output" = 'vrelay: TCP-LISTEN:0!!STDOUT: a listening address cannot be half of a dual address' ]
}

@test "usage: STDOUT on the left of !!" {
	run -2 vr 'STDOUT!!STDOUT' -
	[ "$output" = 'vrelay: STDOUT!!STDOUT: STDOUT cannot be read from, so it cannot be the left of "!!"' ]
}

@test "usage: STDIN on the right of !!" {
	run -2 vr 'STDIN!!STDIN' -
	[ "$output" = 'vrelay: STDIN!!STDIN: STDIN cannot be written to, so it cannot be the right of "!!"' ]
}

@test "usage: an error in the right half of a dual address" {
	run -2 vr 'STDIN!!FD:abc' -
	[ "$output" = 'vrelay: STDIN!!FD:abc: fd: invalid number "abc"' ]
}

# ---- global options ----------------------------------------------------------

@test "usage: unknown option -z" {
	run -2 vr -z - -
	[ "$output" = 'vrelay: unknown option "-z" (vrelay -h shows the usage)' ]
}

@test "usage: -b without a value" {
	run -2 vr -b
	[ "$output" = 'vrelay: -b: missing value (vrelay -h shows the usage)' ]
}

@test "usage: -b 10 is below 4096" {
	run -2 vr -b 10 - -
	[ "$output" = 'vrelay: -b: block size must be 4096..64m, got "10" (vrelay -h shows the usage)' ]
}

@test "usage: -b 128m is above 64m" {
	run -2 vr -b 128m - -
	[ "$output" = 'vrelay: -b: block size must be 4096..64m, got "128m" (vrelay -h shows the usage)' ]
}

@test "usage: -b xyz" {
	run -2 vr -b xyz - -
	[ "$output" = 'vrelay: -b: block size must be 4096..64m, got "xyz" (vrelay -h shows the usage)' ]
}

@test "usage: -t abc" {
	run -2 vr -t abc - -
	[ "$output" = 'vrelay: -t: invalid duration "abc"' ]
}

@test "usage: -T -1" {
	run -2 vr -T -1 - -
	[ "$output" = 'vrelay: -T: invalid duration "-1"' ]
}

@test "usage: -t without a value" {
	run -2 vr - - -t
	[ "$output" = 'vrelay: too many arguments: "-t" (two addresses expected) (vrelay -h shows the usage)' ]
	run -2 vr -t
	[ "$output" = 'vrelay: -t: missing value (vrelay -h shows the usage)' ]
}

@test "usage: -lf into a directory that does not exist" {
	run -2 vr -lf "$BATS_TEST_TMPDIR/nodir/log" - -
	[ "$output" = "vrelay: -lf $BATS_TEST_TMPDIR/nodir/log: No such file or directory" ]
}

@test "usage: -ly with an unknown facility" {
	run -2 vr -lyfoo - -
	[ "$output" = 'vrelay: -lyfoo: unknown facility (daemon, user, local0..local7) (vrelay -h shows the usage)' ]
}

@test "usage: one address only" {
	run -2 vr -
	[ "$output" = 'vrelay: two addresses expected, 1 given (vrelay -h shows the usage)' ]
}

@test "usage: three addresses" {
	run -2 vr - - STDOUT
	[ "$output" = 'vrelay: too many arguments: "STDOUT" (two addresses expected) (vrelay -h shows the usage)' ]
}

@test "usage: no addresses" {
	run -2 vr
	[ "$output" = 'vrelay: two addresses expected, 0 given (vrelay -h shows the usage)' ]
}

# ---- a usage error opens nothing -----------------------------------------------

@test "usage error in the second address: the first listener's socket file is never made" {
	run -2 vr -dd "UNIX-LISTEN:$BATS_TEST_TMPDIR/s" TCP:127.0.0.1:99999
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"TCP:127.0.0.1:99999: port: out of range (1..65535)" ]]
	[[ "$output" != *"listening"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/s" ]
}

@test "usage error in the second address: TCP-LISTEN never listens" {
	run -2 vr -dd TCP-LISTEN:0 FOO:x
	[[ "$output" == *'FOO:x: unknown address type "FOO" (vrelay -h lists them)' ]]
	[[ "$output" != *"listening"* ]]
}

@test "usage error in the second address: EXEC on the left is never started" {
	run -2 vr -dd "EXEC:touch $BATS_TEST_TMPDIR/ran" UNIX-LISTEN:s,mode=9
	[[ "$output" == *'mode: invalid octal mode "9"' ]]
	[[ "$output" != *"starting"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
}

@test "usage error in a pair check: nothing listens" {
	run -2 vr -dd "UNIX-LISTEN:$BATS_TEST_TMPDIR/s,fork" TCP-LISTEN:0,fork
	[[ "$output" == *"fork and multi work on the first address only" ]]
	[[ "$output" != *"listening"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/s" ]
}

# ---- type names and aliases ------------------------------------------------------

@test "grammar: type names are case-insensitive (tcp-listen, Tcp-L, system)" {
	start_relay lower tcp-listen:0,bind=127.0.0.1 system:'echo lower'
	run timeout 5 socat -t 5 - "TCP:127.0.0.1:$PORT" </dev/null
	[ "$output" = lower ]

	start_relay mixed Tcp-L:0,Bind=127.0.0.1 'SyStEm:echo mixed'
	run timeout 5 socat -t 5 - "TCP:127.0.0.1:$PORT" </dev/null
	[ "$output" = mixed ]
}

@test "grammar: TCP and TCP-L are TCP-CONNECT and TCP-LISTEN" {
	start_relay l TCP-L:0,bind=127.0.0.1 SYSTEM:'echo via-alias'
	run timeout 5 "$VRELAY" -t 5 - "tcp:127.0.0.1:$PORT" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = via-alias ]
	grep -q "TCP-L:0,bind=127.0.0.1: accepted connection from 127.0.0.1:" "$BATS_TEST_TMPDIR/l.log"
}

@test "grammar: UNIX and UNIX-L are UNIX-CONNECT and UNIX-LISTEN" {
	start_relay l "UNIX-L:$BATS_TEST_TMPDIR/s" SYSTEM:'echo via-unix'
	[ -S "$BATS_TEST_TMPDIR/s" ]
	run timeout 5 "$VRELAY" -t 5 - "UNIX:$BATS_TEST_TMPDIR/s" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = via-unix ]
}

@test "grammar: ABSTRACT and ABSTRACT-L are the abstract-namespace types" {
	local name="vrelay-grammar-$$-$BATS_TEST_NUMBER"
	start_relay l "ABSTRACT-L:$name" SYSTEM:'echo via-abstract'
	grep -q "listening on @$name\$" "$BATS_TEST_TMPDIR/l.log"
	run timeout 5 "$VRELAY" -t 5 - "ABSTRACT:$name" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = via-abstract ]
}

@test "grammar: - and STDIO are standard input and output" {
	run timeout 5 "$VRELAY" - 'SYSTEM:tr a-z A-Z' <<<"dash"
	[ "$output" = DASH ]
	run timeout 5 "$VRELAY" stdio 'SYSTEM:tr a-z A-Z' <<<"stdio"
	[ "$output" = STDIO ]
}

@test "grammar: a bare number is FD:n" {
	printf 'from fd five\n' >in
	run timeout 5 "$VRELAY" -u 5 STDOUT 5<in </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "from fd five" ]
	run timeout 5 "$VRELAY" -u fd:5 STDOUT 5<in </dev/null
	[ "$output" = "from fd five" ]
}

# ---- quotes and backslashes ---------------------------------------------------------

@test "grammar: single quotes keep a comma in a path" {
	start_relay q "UNIX-LISTEN:'$BATS_TEST_TMPDIR/a,b'" SYSTEM:'echo q'
	[ -S "$BATS_TEST_TMPDIR/a,b" ]
	[ ! -e "$BATS_TEST_TMPDIR/a" ]
	run timeout 5 socat -t 5 - "UNIX-CONNECT:$BATS_TEST_TMPDIR/a\\,b" </dev/null
	[ "$output" = q ]
}

@test "grammar: double quotes keep a blank and a colon in a path" {
	start_relay q "UNIX-LISTEN:\"$BATS_TEST_TMPDIR/x y:z\"" SYSTEM:'echo q'
	[ -S "$BATS_TEST_TMPDIR/x y:z" ]
}

@test "grammar: a backslash takes the next character literally" {
	start_relay q "UNIX-LISTEN:$BATS_TEST_TMPDIR/c\\:d\\,e" SYSTEM:'echo q'
	[ -S "$BATS_TEST_TMPDIR/c:d,e" ]
}

@test "grammar: SYSTEM gets its command verbatim, quotes included (echo 'a,b')" {
	run timeout 5 "$VRELAY" -u "SYSTEM:echo 'a,b'" STDOUT
	[ "$status" -eq 0 ]
	[ "$output" = "a,b" ]
}

@test "grammar: SYSTEM with an escaped comma (echo x\\,y)" {
	run timeout 5 "$VRELAY" -u 'SYSTEM:echo x\,y' STDOUT
	[ "$output" = "x,y" ]
}

@test "grammar: SYSTEM keeps the colons of its command" {
	run timeout 5 "$VRELAY" -u 'SYSTEM:echo a:b:c' STDOUT
	[ "$output" = "a:b:c" ]
}

@test "grammar: EXEC splits words like sh: a quoted argument with a blank is one word" {
	run timeout 5 "$VRELAY" -u "EXEC:sh -c 'echo \"[\$0]\"' 'a b'" STDOUT
	[ "$status" -eq 0 ]
	[ "$output" = "[a b]" ]
}

@test "grammar: EXEC with backslash-escaped blanks" {
	run timeout 5 "$VRELAY" -u 'EXEC:echo a\ \ b' STDOUT
	[ "$output" = "a  b" ]
}

@test "grammar: an option after EXEC's command (stderr)" {
	run --separate-stderr timeout 5 "$VRELAY" -u "EXEC:sh -c 'echo to-stderr >&2',stderr" STDOUT
	[ "$status" -eq 0 ]
	[ "$output" = "to-stderr" ]
	[ -z "$stderr" ]
}

# ---- dual addresses ----------------------------------------------------------------------

@test "grammar: A!!B reads from A and writes to B" {
	# A says "from-a"; it goes right, comes back upper-cased and lands in B
	run timeout 5 "$VRELAY" "SYSTEM:echo from-a!!SYSTEM:cat >$BATS_TEST_TMPDIR/b" 'SYSTEM:tr a-z A-Z'
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	wait_until 5 grep -qx FROM-A "$BATS_TEST_TMPDIR/b"
}

@test "grammar: STDIN!!STDOUT" {
	run timeout 5 "$VRELAY" 'STDIN!!STDOUT' 'SYSTEM:tr a-z A-Z' <<<"dual"
	[ "$status" -eq 0 ]
	[ "$output" = DUAL ]
}

@test "grammar: !! inside quotes is no dual address" {
	run timeout 5 "$VRELAY" -u "SYSTEM:echo 'x!!y'" STDOUT
	[ "$status" -eq 0 ]
	[ "$output" = 'x!!y' ]
}

# ---- options --------------------------------------------------------------------------------

@test "grammar: a later option overrides an earlier one (mode)" {
	start_relay m "UNIX-LISTEN:$BATS_TEST_TMPDIR/s1,mode=0644,mode=0600" STDIO </dev/null
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/s1")" = 600 ]
	start_relay m2 "UNIX-LISTEN:$BATS_TEST_TMPDIR/s2,mode=0600,mode=0640" STDIO </dev/null
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/s2")" = 640 ]
}

@test "grammar: a later fork=0 overrides fork: the listener serves one peer only" {
	start_relay f TCP4-LISTEN:0,fork,fork=0 SYSTEM:'echo once'
	run timeout 5 socat -t 5 - "TCP:127.0.0.1:$PORT" </dev/null
	[ "$output" = once ]
	wait_until 5 bash -c "! kill -0 $RELAY_PID 2>/dev/null"
	run timeout 5 socat - "TCP:127.0.0.1:$PORT" </dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *"Connection refused"* ]]
}

@test "grammar: option names are case-insensitive" {
	start_relay m "UNIX-LISTEN:$BATS_TEST_TMPDIR/s,MODE=0600,Unlink-Early" STDIO </dev/null
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/s")" = 600 ]
}

@test "grammar: range=127.0.0.1,::1 goes on over the comma; fork after it is an option" {
	start_relay r TCP-LISTEN:0,range=127.0.0.1,::1,fork SYSTEM:'echo admitted'
	run timeout 5 socat -t 5 - "TCP6:[::1]:$PORT" </dev/null
	[ "$output" = admitted ]
	run timeout 5 socat -t 5 - "TCP4:127.0.0.1:$PORT" </dev/null
	[ "$output" = admitted ]
	run timeout 5 socat -t 5 - "TCP4:127.0.0.1:$PORT,bind=127.0.0.2" </dev/null
	[ "$output" != admitted ]
	wait_until 5 grep -q "refused connection from 127.0.0.2:" "$BATS_TEST_TMPDIR/r.log"
}

@test "grammar: a port TCP-LISTEN takes in hex (0x...), TCP-CONNECT takes too" {
	local port hex
	port=$(closed_port)
	hex=$(printf '0x%x' "$port")
	start_relay h "TCP4-LISTEN:$hex,bind=127.0.0.1" SYSTEM:'echo hex'
	grep -q "listening on 127.0.0.1:$port\$" "$BATS_TEST_TMPDIR/h.log"
	run vr -t 5 - "TCP:127.0.0.1:$hex"
	# the host is fine: an error must not blame it
	[[ "$output" != *'host: cannot resolve "127.0.0.1"'* ]]
	[ "$status" -eq 0 ]
	[ "$output" = hex ]
}

# ---- help, version, applets ---------------------------------------------------------------------

@test "help: vrelay -h lists every type with its syntax" {
	run -0 "$VRELAY" -h
	[ "${lines[0]}" = "Usage: vrelay [OPTIONS] ADDRESS ADDRESS" ]
	local syntax
	for syntax in STDIO STDIN STDOUT FD:n EXEC:command SYSTEM:command \
		TCP-CONNECT:host:port TCP4-CONNECT:host:port TCP6-CONNECT:host:port \
		TCP-LISTEN:port TCP4-LISTEN:port TCP6-LISTEN:port UNIX-CONNECT:path \
		UNIX-LISTEN:path ABSTRACT-CONNECT:name ABSTRACT-LISTEN:name ACCEPT-FD:n; do
		grep -qE "^  $syntax +[a-z]" <<<"$output" || { echo "missing: $syntax"; return 1; }
	done
	grep -qE '^  TCP-CONNECT:host:port +connect to a TCP port \[TCP\]$' <<<"$output"
	grep -qE '^  STDIO +standard input and output \[-\]$' <<<"$output"
}

@test "help: --help is -h" {
	run -0 "$VRELAY" -h
	local short=$output
	run -0 "$VRELAY" --help
	[ "$output" = "$short" ]
}

@test "help: vrelay -h tcp-listen lists its options with one line each" {
	run -0 "$VRELAY" -h tcp-listen
	[ "${lines[0]}" = "TCP-LISTEN:port" ]
	[ "${lines[2]}" = "Aliases: TCP-L" ]
	grep -qE '^  fork +serve each connection in a child process' <<<"$output"
	grep -qE '^  max-children=N +with fork.*: at most N connections at once' <<<"$output"
	grep -qE '^  range=LIST +accept only peers in LIST' <<<"$output"
	grep -qE '^  backlog=N +listen\(2\) backlog' <<<"$output"
	grep -qE '^  ignoreeof +' <<<"$output"
	# no option of another type
	[[ "$output" != *unlink-early* && "$output" != *mode=* && "$output" != *connect-timeout=* ]]
}

@test "help: vrelay -h by alias (UNIX-L) shows UNIX-LISTEN" {
	run -0 "$VRELAY" -h UNIX-L
	[ "${lines[0]}" = "UNIX-LISTEN:path" ]
	grep -qE '^  mode=OCTAL +' <<<"$output"
	grep -qE '^  unlink-close +' <<<"$output"
}

@test "help: vrelay -h NOPE exits 2" {
	run -2 "$VRELAY" -h NOPE
	[ "$output" = 'vrelay: -h: unknown address type "NOPE" (vrelay -h shows the usage)' ]
}

@test "help: vrelay -V prints the version" {
	local version
	# configure.ac is in the source tree even in a VPATH build (distcheck)
	version=$(sed -n 's/^AC_INIT(\[vrelay\], \[\([^]]*\)\].*/\1/p' "$BATS_TEST_DIRNAME/../../configure.ac")
	[ -n "$version" ]
	run -0 "$VRELAY" -V
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "vrelay $version"* ]]
	run -0 "$VRELAY" --version
	[[ "$output" == "vrelay $version"* ]]
}

@test "applets: vrelay --list prints the applets" {
	run -0 "$VRELAY" --list
	[ "${lines[0]}" = vrelay ]
}

@test "applets: an unknown applet name vrelay-nosuch exits 127" {
	ln -s "$VRELAY" "$BATS_TEST_TMPDIR/vrelay-nosuch"
	run -127 "$BATS_TEST_TMPDIR/vrelay-nosuch" -V
	[ "$output" = "vrelay: applet not found: nosuch (vrelay --list)" ]
}

@test "applets: an unknown applet name frobnicate exits 127" {
	ln -s "$VRELAY" "$BATS_TEST_TMPDIR/frobnicate"
	run -127 "$BATS_TEST_TMPDIR/frobnicate" -V
	[ "$output" = "vrelay: applet not found: frobnicate (vrelay --list)" ]
}

@test "applets: a link named vrelay elsewhere is the relay" {
	mkdir bin
	ln -s "$VRELAY" bin/vrelay
	run -0 bin/vrelay -V
	[[ "$output" == "vrelay "* ]]
}

# ---- runtime failures: exit 1, one line ----------------------------------------------------------

@test "runtime: connection refused exits 1 with one line" {
	local port
	port=$(closed_port)
	run -1 vr "TCP:127.0.0.1:$port" -
	[ "$output" = "vrelay: TCP:127.0.0.1:$port: connect: Connection refused" ]
}

@test "runtime: UNIX-CONNECT to a missing path" {
	run -1 vr "UNIX-CONNECT:$BATS_TEST_TMPDIR/nothing" -
	[ "$output" = "vrelay: UNIX-CONNECT:$BATS_TEST_TMPDIR/nothing: connect: No such file or directory" ]
}

@test "runtime: ABSTRACT-CONNECT to a name nobody listens on" {
	run -1 vr "ABSTRACT-CONNECT:vrelay-nobody-$$" -
	[ "$output" = "vrelay: ABSTRACT-CONNECT:vrelay-nobody-$$: connect: Connection refused" ]
}

@test "runtime: EXEC of a program that does not exist" {
	run -1 vr EXEC:vrelay-no-such-program -
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "vrelay: EXEC:vrelay-no-such-program: exec vrelay-no-such-program: No such file or directory" ]
}

@test "runtime: UNIX-LISTEN on a path another listener holds (EADDRINUSE)" {
	start_relay first "UNIX-LISTEN:$BATS_TEST_TMPDIR/s" SYSTEM:'echo first'
	run -1 vr "UNIX-LISTEN:$BATS_TEST_TMPDIR/s" -
	[ "$output" = "vrelay: UNIX-LISTEN:$BATS_TEST_TMPDIR/s: bind to $BATS_TEST_TMPDIR/s: Address already in use" ]
	# the loser did not remove the winner's socket file
	[ -S "$BATS_TEST_TMPDIR/s" ]
	run timeout 5 socat -t 5 - "UNIX-CONNECT:$BATS_TEST_TMPDIR/s" </dev/null
	[ "$output" = first ]
}

@test "runtime: TCP-LISTEN on a port another listener holds" {
	start_relay first TCP4-LISTEN:0,bind=127.0.0.1 SYSTEM:'echo first'
	run -1 vr "TCP4-LISTEN:$PORT,bind=127.0.0.1" -
	[ "$output" = "vrelay: TCP4-LISTEN:$PORT,bind=127.0.0.1: bind to 127.0.0.1:$PORT: Address already in use" ]
}
