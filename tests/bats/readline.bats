#!/usr/bin/env bats
# readline.bats - READLINE on a real terminal: vrelay runs in a detached
# tmux session (a private server per test), keys go in with send-keys, and
# what a user would check comes out: the lines the peer received, the
# screen (capture-pane), the history file, the terminal's settings after.
#
# Readiness is the terminal itself: keys are sent only once readline has
# put the pane's tty out of canonical mode, and every result is polled
# for with a bound, never slept for.

load helper

setup() {
	if "$VRELAY" -h READLINE | grep -q '^  unavailable:'; then
		skip "this vrelay has no READLINE (configured --without-readline)"
	fi
	TMUX_SOCK="$BATS_TEST_TMPDIR/tmux.sock"
	# dead panes stay for capture-pane; no status line in the way
	printf 'set -g remain-on-exit on\nset -g status off\n' >"$BATS_TEST_TMPDIR/tmux.conf"
	OUT="$BATS_TEST_TMPDIR/out"
	: >"$OUT"
}

teardown() {
	local f
	for f in "$BATS_TEST_TMPDIR"/*.pid; do
		[ -s "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	# only the server of this test, by its own socket
	[ -S "${TMUX_SOCK:-}" ] && tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
	teardown_pids
}

tm() {
	tmux -S "$TMUX_SOCK" "$@"
}

# rl_start NAME VRELAY-ARGS... - run vrelay in a new 100x20 tmux session
# NAME; NAME.status gets its exit status, NAME.stty-before/-after the
# terminal's settings around it (stty -g).  Returns once readline has the
# terminal.
rl_start() {
	local name=$1 dir=$BATS_TEST_TMPDIR tty
	shift
	command -v tmux >/dev/null || skip "tmux is not installed (apt-get install tmux)"
	{
		echo '#!/bin/bash'
		printf 'stty -g >%q\n' "$dir/$name.stty-before"
		printf 'INPUTRC=/dev/null VRELAY_FORBID_VSOCK=1 %q' "$VRELAY"
		printf ' %q' "$@"
		printf '\necho $? >%q\n' "$dir/$name.status.new"
		printf 'stty -g >%q\n' "$dir/$name.stty-after"
		printf 'mv %q %q\n' "$dir/$name.status.new" "$dir/$name.status"
		echo 'echo "== shell prompt =="'
	} >"$dir/$name.sh"
	chmod +x "$dir/$name.sh"
	if [ -S "$TMUX_SOCK" ]; then
		tm new-session -d -s "$name" -x 100 -y 20 "$dir/$name.sh"
	else
		tm -f "$dir/tmux.conf" new-session -d -s "$name" -x 100 -y 20 "$dir/$name.sh"
	fi
	tty=$(tm display-message -p -t "$name" '#{pane_tty}')
	wait_until 10 tty_raw "$tty"
}

# tty_raw TTY - readline is editing on TTY (canonical mode is off)
tty_raw() {
	stty -F "$1" -a 2>/dev/null | grep -qw -- -icanon
}

# keys NAME KEY... - type into session NAME
keys() {
	local name=$1
	shift
	tm send-keys -t "$name" "$@"
}

# screen NAME - the pane's text, trailing blank lines and spaces dropped
screen() {
	tm capture-pane -p -t "$1" | sed -e 's/ *$//' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

# screen_has NAME TEXT - a line of the pane is exactly TEXT
screen_has() {
	screen "$1" | grep -qxF -- "$2"
}

# screen_lacks NAME TEXT - no line of the pane holds TEXT (a function,
# so that a failure fails the test: bats ignores a bare "! cmd")
screen_lacks() {
	! screen "$1" | grep -qF -- "$2"
}

# out_is TEXT - the peer received exactly TEXT (printf format)
out_is() {
	# shellcheck disable=SC2059
	printf "$1" | cmp -s - "$OUT"
}

# wait_out TEXT - poll until the peer has received exactly TEXT
wait_out() {
	if ! wait_until 10 out_is "$1"; then
		echo "the peer got:" >&2
		od -c "$OUT" >&2
		return 1
	fi
}

# wait_status NAME - vrelay in session NAME ended; sets STATUS
wait_status() {
	wait_until 10 test -s "$BATS_TEST_TMPDIR/$1.status"
	STATUS=$(cat "$BATS_TEST_TMPDIR/$1.status")
}

# terminal_restored NAME - the tty settings after vrelay are the ones before
terminal_restored() {
	local d=$BATS_TEST_TMPDIR
	[ -s "$d/$1.stty-after" ] && cmp -s "$d/$1.stty-before" "$d/$1.stty-after"
}

# child_pid PARENT - the one child of PARENT (from /proc, not by name)
child_pid() {
	local p
	for p in /proc/[0-9]*/stat; do
		awk -v pp="$1" '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
			if (f[2] == pp) { print $1; exit 0 } exit 1 }' "$p" 2>/dev/null && return 0
	done
	return 1
}

# talking_peer - set PEER to an address that prints what the test appends
# to $IN (tail -f) and writes what it reads to $OUT; its tail is killed in
# teardown
talking_peer() {
	IN="$BATS_TEST_TMPDIR/in"
	: >"$IN"
	PEER="SYSTEM:tail -n +1 -f $IN & echo \$! >$BATS_TEST_TMPDIR/tail.pid; exec cat >>$OUT"
}

@test "READLINE: a line fixed with Home/End/Left/BSpace/C-a/C-e/C-w reaches the peer as edited, nothing else" {
	rl_start rl READLINE SYSTEM:"cat >>$OUT"
	keys rl 'helo wrold'
	# "helo" -> "hello": Home, after "hel", type l
	keys rl Home Right Right Right l
	# "wrold" -> "world": C-w takes the last word, retype it wrongly, fix it
	keys rl End C-w 'wrld' Left Left Left o
	keys rl Enter
	wait_out 'hello world\n'
	# C-a/C-e, BSpace and C-u (kill the line) on a second line
	keys rl 'xx second lin' C-a Delete Delete Delete C-e 'ee' BSpace Enter
	keys rl 'thrown away' C-u 'third' Enter
	wait_out 'hello world\nsecond line\nthird\n'
	# the screen shows the edited lines, not the keystrokes
	screen_has rl 'hello world'
	screen_lacks rl 'wrold'
	keys rl C-d
	wait_status rl
	[ "$STATUS" = 0 ]
}

@test "READLINE: Up recalls the last line, Enter sends it again; Up, edit, Enter sends the edited line" {
	rl_start rl READLINE SYSTEM:"cat >>$OUT"
	keys rl one Enter
	wait_out 'one\n'
	keys rl Up Enter
	wait_out 'one\none\n'
	keys rl two Enter
	wait_out 'one\none\ntwo\n'
	# two entries back is "one": "one" -> "only"
	keys rl Up Up End BSpace ly Enter
	wait_out 'one\none\ntwo\nonly\n'
	# an empty line is a line too
	keys rl Enter
	wait_out 'one\none\ntwo\nonly\n\n'
	keys rl C-d
	wait_status rl
	[ "$STATUS" = 0 ]
}

@test "READLINE,history=FILE: lines are saved at the end and a second run recalls them" {
	local hist="$BATS_TEST_TMPDIR/hist"
	rl_start one READLINE,history="$hist" SYSTEM:"cat >>$OUT"
	keys one 'first line' Enter 'second line' Enter
	wait_out 'first line\nsecond line\n'
	keys one C-d
	wait_status one
	[ "$STATUS" = 0 ]
	grep -qxF 'first line' "$hist"
	grep -qxF 'second line' "$hist"
	# private to its user: lines may hold secrets
	[ "$(stat -c %a "$hist")" = 600 ]

	: >"$OUT"
	rl_start two READLINE,history="$hist" SYSTEM:"cat >>$OUT"
	keys two Up Up Enter
	wait_out 'first line\n'
	keys two C-d
	wait_status two
	[ "$STATUS" = 0 ]
	# appended, not replaced: "first line" twice now
	[ "$(grep -cxF 'first line' "$hist")" = 2 ]
}

@test "READLINE,history=FILE: the file keeps the newest 500 lines" {
	local hist="$BATS_TEST_TMPDIR/hist"
	seq -f 'old %g' 1 600 >"$hist"
	rl_start rl READLINE,history="$hist" SYSTEM:"cat >>$OUT"
	# the newest old line is the first one back
	keys rl Up Enter 'new line' Enter
	wait_out 'old 600\nnew line\n'
	keys rl C-d
	wait_status rl
	[ "$STATUS" = 0 ]
	[ "$(wc -l <"$hist")" = 500 ]
	[ "$(tail -n 1 "$hist")" = 'new line' ]
	[ "$(grep -cxF 'old 1' "$hist")" = 0 ]
}

@test "READLINE,prompt=TEXT shows TEXT in front of the line and never sends it; by default there is no prompt" {
	rl_start p READLINE,prompt='vr> ' SYSTEM:"cat >>$OUT"
	wait_until 10 screen_has p 'vr>'
	keys p 'abc'
	wait_until 10 screen_has p 'vr> abc'
	keys p Enter
	wait_out 'abc\n'
	# the next line gets the prompt again
	wait_until 10 screen_has p 'vr>'
	keys p C-d
	wait_status p
	[ "$STATUS" = 0 ]

	: >"$OUT"
	rl_start d READLINE SYSTEM:"cat >>$OUT"
	keys d 'xyz'
	# the line starts in the first column
	wait_until 10 screen_has d 'xyz'
	keys d Enter
	wait_out 'xyz\n'
	keys d C-d
	wait_status d
	[ "$STATUS" = 0 ]
}

@test "READLINE: the peer's incomplete line is the prompt by default, prompt=TEXT replaces it, noprompt leaves it" {
	talking_peer
	rl_start d READLINE "$PEER"
	printf 'Name: ' >>"$IN"
	wait_until 10 screen_has d 'Name:'
	keys d 'bob'
	wait_until 10 screen_has d 'Name: bob'
	# C-l redraws: the peer's "Name: " is redrawn with the line
	keys d C-l
	wait_until 10 screen_has d 'Name: bob'
	keys d Enter
	wait_out 'bob\n'
	keys d C-d
	wait_status d
	kill -TERM "$(cat "$BATS_TEST_TMPDIR/tail.pid")"

	: >"$OUT"
	talking_peer
	rl_start p READLINE,prompt='vr> ' "$PEER"
	printf 'Name: ' >>"$IN"
	keys p 'bob'
	wait_until 10 screen_has p 'vr> bob'
	screen_lacks p 'Name:'
	keys p Enter
	wait_out 'bob\n'
	keys p C-d
	wait_status p
	kill -TERM "$(cat "$BATS_TEST_TMPDIR/tail.pid")"

	: >"$OUT"
	talking_peer
	rl_start n READLINE,noprompt "$PEER"
	printf 'Name: ' >>"$IN"
	wait_until 10 screen_has n 'Name:'
	keys n 'bob'
	wait_until 10 screen_has n 'Name: bob'
	# not a prompt: C-l redraws the edited text alone
	keys n C-l
	wait_until 10 screen_has n 'bob'
	screen_lacks n 'Name:'
	keys n Enter
	wait_out 'bob\n'
	keys n C-d
	wait_status n
	[ "$STATUS" = 0 ]
}

@test "READLINE: peer output while a line is half typed shows above it; the line and the cursor stay intact" {
	talking_peer
	rl_start rl READLINE "$PEER"
	keys rl 'half typed' Left Left
	wait_until 10 screen_has rl 'half typed'
	printf 'news from the peer\nsecond news\n' >>"$IN"
	wait_until 10 screen_has rl 'second news'
	# the output took the line's place, the line is redrawn below it
	[ "$(screen rl)" = "$(printf 'news from the peer\nsecond news\nhalf typed')" ]
	# the cursor is still before "ed"
	keys rl X End ' line' Enter
	wait_out 'half typXed line\n'
	screen_has rl 'half typXed line'
	[ "$(head -n 1 "$OUT")" = 'half typXed line' ]
	keys rl C-d
	wait_status rl
	[ "$STATUS" = 0 ]
	terminal_restored rl
}

@test "READLINE: after the terminal is resized, a line longer than the new width wraps and edits right" {
	rl_start rl READLINE SYSTEM:"cat >>$OUT"
	tm resize-window -t rl -x 30
	wait_value 10 30 tm display-message -p -t rl '#{pane_width}'
	keys rl abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ C-a X
	wait_until 10 screen_has rl 3456789ABCDEFGHIJ
	[ "$(screen rl)" = "$(printf 'Xabcdefghijklmnopqrstuvwxyz012\n3456789ABCDEFGHIJ')" ]
	keys rl Enter
	wait_out 'Xabcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ\n'
	keys rl C-d
	wait_status rl
	[ "$STATUS" = 0 ]
}

@test "READLINE: Ctrl-D on an empty line is EOF for the peer, vrelay exits 0, the terminal is as before" {
	local flag="$BATS_TEST_TMPDIR/flag"
	rl_start rl READLINE SYSTEM:"cat >$OUT; echo done >$flag"
	keys rl 'last words' Enter
	wait_out 'last words\n'
	# not yet: Ctrl-D on a non-empty line deletes, it does not end
	keys rl 'x' Left C-d
	keys rl 'y' Enter
	wait_out 'last words\ny\n'
	[ ! -e "$flag" ]
	keys rl C-d
	wait_until 10 test -s "$flag"
	wait_status rl
	[ "$STATUS" = 0 ]
	terminal_restored rl
	# the shell gets its turn, on a line of its own
	wait_until 10 screen_has rl '== shell prompt =='
}

@test "READLINE: SIGTERM with a line half typed: exit 0, terminal restored, the half line never sent" {
	rl_start rl READLINE SYSTEM:"cat >>$OUT"
	keys rl 'sent' Enter 'not sent'
	wait_out 'sent\n'
	wait_until 10 screen_has rl 'not sent'
	local pid
	pid=$(child_pid "$(tm display-message -p -t rl '#{pane_pid}')")
	[ -n "$pid" ]
	grep -q vrelay "/proc/$pid/cmdline"
	kill -TERM "$pid"
	wait_status rl
	[ "$STATUS" = 0 ]
	terminal_restored rl
	out_is 'sent\n'
}

@test "READLINE: Ctrl-C ends the relay cleanly and restores the terminal" {
	rl_start rl READLINE SYSTEM:"cat >>$OUT"
	keys rl 'abc' Enter
	wait_out 'abc\n'
	keys rl C-c
	wait_status rl
	[ "$STATUS" = 0 ]
	terminal_restored rl
}

@test "READLINE: stdin not a terminal is a usage error (exit 2, one line naming READLINE), nothing opened" {
	local flag="$BATS_TEST_TMPDIR/opened"
	run -2 --separate-stderr bash -c 'echo x | "$VRELAY" READLINE SYSTEM:"touch '"$flag"'"'
	[ "$stderr" = 'vrelay: READLINE: stdin is not a terminal (use STDIO or -)' ]
	[ -z "$output" ]
	[ ! -e "$flag" ]
	run -2 --separate-stderr "$VRELAY" READLINE,prompt=x STDOUT </dev/null
	[ "$stderr" = 'vrelay: READLINE,prompt=x: stdin is not a terminal (use STDIO or -)' ]
}

@test "READLINE: option and combination errors are usage errors" {
	run -2 --separate-stderr "$VRELAY" READLINE,prompt=x,noprompt STDOUT </dev/null
	[[ "$stderr" == 'vrelay: READLINE,prompt=x,noprompt: '*prompt=*noprompt* ]]
	run -2 --separate-stderr "$VRELAY" READLINE:x STDOUT </dev/null
	[[ "$stderr" == 'vrelay: READLINE:x: '* ]]
	run -2 --separate-stderr "$VRELAY" READLINE,bogus STDOUT </dev/null
	[[ "$stderr" == *bogus* ]]
	run -2 --separate-stderr "$VRELAY" 'STDIN!!READLINE' STDOUT </dev/null
	[[ "$stderr" == *'half of a dual address'* ]]
	run -2 --separate-stderr "$VRELAY" READLINE,frames=qemu STDOUT </dev/null
	[[ "$stderr" == 'vrelay: READLINE,frames=qemu: '*frames=* ]]
	# on a terminal (script(1) makes one): one terminal, one READLINE
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	run -2 script -qec "$(printf '%q ' "$VRELAY" READLINE READLINE,noprompt)" /dev/null </dev/null
	[[ "$output" == *'vrelay: READLINE,noprompt: only one READLINE per relay'* ]]
}

@test "vrelay -h READLINE lists history=, prompt= and noprompt" {
	run -0 "$VRELAY" -h READLINE
	[[ "$output" == *'history=FILE'* ]]
	[[ "$output" == *'prompt=TEXT'* ]]
	echo "$output" | grep -qE '^ +noprompt +'
	[[ "$output" != *unavailable* ]]
	run -0 "$VRELAY" -h
	echo "$output" | grep -E '^ +READLINE ' | grep -qv unavailable
}
