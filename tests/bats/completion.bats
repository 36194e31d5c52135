#!/usr/bin/env bats
# completion.bats - the bash completion (data/bash-completion/vrelay):
# COMPREPLY for a few prefixes, with bash's own word breaks at ':' and '=',
# asked of the vrelay under test; and that "make install" puts it where
# bash-completion looks.

load helper

SCRIPT="$BATS_TEST_DIRNAME/../../data/bash-completion/vrelay"

setup() {
	T=$BATS_TEST_TMPDIR
	# shellcheck source=/dev/null
	source "$SCRIPT"
}

# complete_line LINE - what _vrelay offers with the cursor at the end of
# LINE, one candidate a line, sorted; COMP_WORDS as bash splits them
complete_line() {
	local COMP_LINE=$1 COMP_POINT=${#1} COMP_CWORD
	local COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
	local -a COMP_WORDS=()
	# bash's split: blanks separate, ':' and '=' are words of their own
	read -ra COMP_WORDS <<<"$(sed -E 's/([:=])/ \1 /g' <<<"$1")"
	COMP_WORDS[0]=$VRELAY
	[[ $1 == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_vrelay
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

# same_set EXPECTED ACTUAL - the same lines, in any order
same_set() {
	if [ "$(sort <<<"$1")" != "$(sort <<<"$2")" ]; then
		printf 'expected:\n%s\ngot:\n%s\n' "$1" "$2" >&2
		return 1
	fi
}

@test "completion: type names: vrelay VSOCK- offers the VSOCK types, each with its colon" {
	same_set "$(printf '%s\n' VSOCK-CONNECT: VSOCK-LISTEN: VSOCK-MUX: VSOCK-MUX-LISTEN: | sort)" \
		"$(complete_line 'vrelay VSOCK-')"
}

@test "completion: a type without parameters has no colon; lower case stays lower case; an alias when nothing else fits" {
	same_set "$(printf '%s\n' STDIO STDIN STDOUT | sort)" "$(complete_line 'vrelay - STD')"
	same_set "tcp-listen:" "$(complete_line 'vrelay tcp-l')"
	same_set "$(printf '%s\n' UNIXGRAM: UNIXGRAM-LISTEN:)" "$(complete_line 'vrelay UNIXG')"
}

@test "completion: options of the type: TCP-LISTEN:80,fo gives fork (bash replaces after the ':')" {
	same_set "80,fork" "$(complete_line 'vrelay TCP-LISTEN:80,fo')"
	same_set "80,fork" "$(complete_line 'vrelay tcp-l:80,fo')"
}

@test "completion: an option with a value ends in '=': OPENSSL:host:443,caf gives cafile=" {
	same_set "443,cafile=" "$(complete_line 'vrelay OPENSSL:host:443,caf')"
}

@test "completion: choice values: frames=, frames=h, tls=" {
	same_set "$(printf '%s\n' hyperkit qemu raw)" "$(complete_line 'vrelay - UNIX-CONNECT:/x,frames=')"
	same_set "hyperkit" "$(complete_line 'vrelay - UNIX-CONNECT:/x,frames=h')"
	same_set "$(printf '%s\n' auto client server)" "$(complete_line 'vrelay TCP-LISTEN:1,tls=')"
}

@test "completion: file names for FILE options, unix paths, and -r/-R" {
	mkdir "$T/dir"
	: >"$T/dir/cert.pem"
	: >"$T/dir/ca.pem"
	same_set "$T/dir/ca.pem" "$(complete_line "vrelay OPENSSL:h:1,cafile=$T/dir/c" | grep ca)"
	same_set "$(printf '%s\n' "$T/dir/ca.pem" "$T/dir/cert.pem")" \
		"$(complete_line "vrelay - UNIX-CONNECT:$T/dir/c")"
	same_set "$T/dir/" "$(complete_line "vrelay -r $T/di")"
}

@test "completion: global options: vrelay - offers -d -v -x -r -R -S among them" {
	run complete_line 'vrelay -'
	for o in -d -v -x -r -R -S --statistics -b -t -T -u -U -lf; do
		printf '%s\n' "${lines[@]}" | grep -qx -- "$o" || { echo "missing $o" >&2; return 1; }
	done
	same_set "--statistics" "$(complete_line 'vrelay --st')"
}

@test "completion: the ssh-proxy applet as the first word, and not after it" {
	same_set "ssh-proxy" "$(complete_line 'vrelay ssh')"
	same_set "" "$(complete_line 'vrelay - ssh')"
}

@test "completion: -h TYPE completes type names without a colon" {
	same_set "$(printf '%s\n' NAT)" "$(complete_line 'vrelay -h NA')"
}

@test "completion: make install puts the script in DATADIR/bash-completion/completions as vrelay" {
	local top="$BATS_TEST_DIRNAME/../.."
	[ -f "$top/Makefile" ] || skip "not a configured build tree"
	grep -q '^bashcompletiondir' "$top/Makefile" || skip "configured --with-bash-completion-dir=no"
	run -0 make -s -C "$top" install-dist_bashcompletionDATA DESTDIR="$T/dest" \
		bashcompletiondir=/usr/share/bash-completion/completions
	cmp "$SCRIPT" "$T/dest/usr/share/bash-completion/completions/vrelay"
	# and by default (no bash-completion .pc here) under the prefix's datadir
	run -0 make -s -C "$top" -n install-dist_bashcompletionDATA DESTDIR="$T/dest2"
	grep -q -- "share/bash-completion/completions" <<<"$output"
}
