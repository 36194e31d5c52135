# lib.bash - shared by the data-path suites (tcp, unix, stream, exec,
# concurrency, interop, acceptfd); loaded after helper.bash:
#	load helper
#	load tools/lib
#
# shellcheck disable=SC2034  # SRV_PORT, PORT, STATUS... are for the callers
#
# Servers are started with start_vnet, which waits for the server's ready
# file (written after listen()), never for a fixed time.

TOOLS="$BATS_TEST_DIRNAME/tools"
VNET="$TOOLS/vnet.py"
BIG_SIZE=268435456	# 256 MiB

# make_big - in setup_file: 256 MiB of random data and its "SHA256 BYTES"
make_big() {
	BIG="$BATS_FILE_TMPDIR/big"
	head -c "$BIG_SIZE" /dev/urandom >"$BIG"
	BIG_SUM="$(sha256sum <"$BIG" | cut -d' ' -f1) $BIG_SIZE"
	export BIG BIG_SUM
}

# sum_of FILE - "SHA256 BYTES" of FILE, the format vnet.py reports
sum_of() {
	echo "$(sha256sum <"$1" | cut -d' ' -f1) $(wc -c <"$1" | tr -d ' ')"
}

# sum_of_text TEXT - the same for a string (no newline added)
sum_of_text() {
	echo "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1) ${#1}"
}

# vnet ARGS... - run vnet.py in the foreground
vnet() {
	python3 "$VNET" "$@"
}

# start_vnet NAME SUBCOMMAND ADDR [ARGS...] - a vnet.py server in the
# background; waits for its ready file; sets SRV_PID and SRV_PORT (the TCP
# port, or the unix path)
start_vnet() {
	local name=$1 sub=$2 addr=$3
	shift 3
	local ready="$BATS_TEST_TMPDIR/$name.ready"
	rm -f "$ready"
	start_bg python3 "$VNET" "$sub" "$addr" --ready "$ready" "$@"
	SRV_PID=$LAST_PID
	if ! wait_until 10 test -s "$ready"; then
		echo "vnet $sub $addr did not get ready" >&2
		return 1
	fi
	SRV_PORT=$(cat "$ready")
}

# A command put in the background with & gets /dev/null as stdin whatever
# the caller's stdin is (bash without job control), so start_relay and
# start_bg cannot take "<file"; these two can.

# start_bg_in INFILE COMMAND... - start_bg with stdin from INFILE
start_bg_in() {
	local in=$1
	shift
	"$@" <"$in" &
	BG_PIDS+=("$!")
	LAST_PID=$!
}

# start_relay_in INFILE NAME ARGS... - start_relay with stdin from INFILE
start_relay_in() {
	local in=$1
	shift
	RELAY_STDIN=$in start_relay "$@"
}

# gone PID - PID has exited (a zombie counts: bash reaps it later)
gone() {
	[ ! -e "/proc/$1/stat" ] || [ "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" = Z ]
}

# wait_exit PID [SECS] - wait (bounded, default 20 s) for a background PID
# of this shell to end on its own; sets STATUS to its exit status, or to
# "timeout".  (Not usable in $(...): a subshell cannot wait for it.)
wait_exit() {
	STATUS=timeout
	wait_until "${2:-20}" gone "$1" 2>/dev/null || return 0
	STATUS=0
	wait "$1" 2>/dev/null || STATUS=$?
}

# term_exit PID [SECS] - SIGTERM, then wait_exit (sets STATUS).  helper.bash's
# stop_pid prints the status, but inside $(...) its wait runs in a subshell
# that cannot wait for the test shell's children.
term_exit() {
	kill -TERM "$1" 2>/dev/null || true
	wait_exit "$1" "${2:-20}"
}

# fd_pipes PID - how many of PID's fds are pipes
fd_pipes() {
	find "/proc/$1/fd" -mindepth 1 -lname 'pipe:*' 2>/dev/null | wc -l
}

# fd_nonpipes PID - how many of PID's fds are not pipes, from one look at
# the fd table (two looks, a count and then the pipes, could straddle a
# burst of closes)
fd_nonpipes() {
	find "/proc/$1/fd" -mindepth 1 ! -lname 'pipe:*' 2>/dev/null | wc -l
}

# raise_fd_limit N - this shell's open-files limit to N, or as far as the
# hard limit goes (root without CAP_SYS_RESOURCE cannot raise that)
raise_fd_limit() {
	local hard
	hard=$(ulimit -Hn)
	if [ "$hard" != unlimited ] && [ "$hard" -lt "$1" ]; then
		ulimit -Hn "$1" 2>/dev/null || true
	fi
	ulimit -n "$1" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
}

# rss_kb PID - resident memory of PID in kB (0 once it is gone)
rss_kb() {
	local v
	v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	echo "${v:-0}"
}

# fd_pos PID FD - file offset of PID's FD (0 if unknown)
fd_pos() {
	local v
	v=$(awk '/^pos:/ { print $2 }' "/proc/$1/fdinfo/$2" 2>/dev/null)
	echo "${v:-0}"
}

# watch_rss PID DONEFILE [SECS] - sample PID's RSS every 50 ms until
# DONEFILE is non-empty (at most SECS, default 60); print the maximum (kB).
# The sampling is measurement, not synchronisation.
watch_rss() {
	local pid=$1 done_file=$2 end=$((SECONDS + ${3:-60})) max=0 v
	while [ ! -s "$done_file" ] && [ "$SECONDS" -lt "$end" ]; do
		v=$(rss_kb "$pid")
		[ "$v" -gt "$max" ] && max=$v
		sleep 0.05
	done
	echo "$max"
}

# relay_pids LOG - the distinct process ids in a vrelay log ("vrelay[PID]")
relay_pids() {
	sed -n 's/.* vrelay\[\([0-9]*\)\] .*/\1/p' "$1" | sort -u
}
