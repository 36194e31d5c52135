# helper.bash - shared by every suite: where vrelay is, starting relays in
# the background and waiting for them to be ready, cleaning up by PID.
#
# Readiness is never a bare sleep: a listener is ready when its log says
# "listening on", a file is ready when it exists; the waits poll that
# condition for a bounded time.

: "${VRELAY:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/vrelay}"
export VRELAY

# This machine's /dev/vsock may lead to the infrastructure that runs it:
# on the host side every vsock open must fail (vrelay honours this).  Only
# inside the QEMU test guest (tests/vm), proven by its boot-bound marker,
# is vsock allowed.
if [[ " $(cat /proc/cmdline 2>/dev/null) " == *' vrelay.testguest=1 '* ]] &&
	grep -qx "vrelay.testguest=1 boot_id=$(cat /proc/sys/kernel/random/boot_id)" \
		/run/vrelay-testguest 2>/dev/null; then
	unset VRELAY_FORBID_VSOCK
else
	export VRELAY_FORBID_VSOCK=1
fi

bats_require_minimum_version 1.5.0

# Under scripts/valgrind (VRELAY_UNDER_VALGRIND=1) every vrelay runs inside
# memcheck, ~20x slower and with memcheck as /proc/PID/exe.
# skip_under_valgrind WHY: skip a test whose timing cannot hold then.
# is_vrelay PID: PID runs the vrelay under test.
skip_under_valgrind() {
	if [ "${VRELAY_UNDER_VALGRIND:-0}" = 1 ]; then skip "under valgrind: $1"; fi
}
is_vrelay() {
	local exe
	exe=$(readlink "/proc/$1/exe")
	[ "$exe" = "$(readlink -f "$VRELAY")" ] ||
		{ [ "${VRELAY_UNDER_VALGRIND:-0}" = 1 ] && [[ $exe == */valgrind/memcheck-* ]]; }
}

# PIDs this test started, killed in teardown
BG_PIDS=()

# wait_until SECONDS COMMAND... - poll COMMAND until it succeeds
wait_until() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 50; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	echo "timed out after ${limit}s waiting for: $*" >&2
	return 1
}

# wait_value SECONDS WANT COMMAND... - run COMMAND until it prints WANT.
# (wait_until test "$(cmd)" -eq N would expand $(cmd) once, before the
# first try, and then compare that one stale value over and over.)
wait_value() {
	local limit=$1 want=$2 i got=
	shift 2
	for ((i = 0; i < limit * 50; i++)); do
		got=$("$@") && [ "$got" = "$want" ] && return 0
		sleep 0.02
	done
	echo "timed out after ${limit}s waiting for: $* to print $want (it printed ${got:-nothing})" >&2
	return 1
}

# start_relay NAME ARGS... - run "vrelay -dd ARGS" in the background,
# stderr to $BATS_TEST_TMPDIR/NAME.log; wait for "listening on"; sets
# RELAY_PID and PORT (the TCP port, or empty for a unix path).  Its stdin
# is $RELAY_STDIN (default /dev/null): a background job's "<file" is lost.
start_relay() {
	local name=$1
	shift
	local log="$BATS_TEST_TMPDIR/$name.log"
	: >"$log"
	"$VRELAY" -dd "$@" <"${RELAY_STDIN:-/dev/null}" 2>"$log" &
	RELAY_PID=$!
	BG_PIDS+=("$RELAY_PID")
	if ! wait_until 10 grep -q "listening on" "$log"; then
		cat "$log" >&2
		return 1
	fi
	PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$log" | head -n 1)
}

# start_bg COMMAND... - any background helper process to clean up later
start_bg() {
	"$@" &
	BG_PIDS+=("$!")
	LAST_PID=$!
}

# exit_status PID - wait for PID (a background job of this test) and set
# STATUS to its exit status (128+N if killed by signal N).  Call it
# directly, not inside $(...): a subshell cannot wait for its parent's job.
exit_status() {
	STATUS=0
	wait "$1" 2>/dev/null || STATUS=$?
}

# stop_pid PID - SIGTERM, then exit_status: "stop_pid $P; [ $STATUS = 0 ]"
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	exit_status "$1"
}

# children_of PID [STATE] - how many children PID has (in STATE, e.g. Z)
children_of() {
	local n=0 p
	for p in /proc/[0-9]*/stat; do
		# field 4 is the parent pid, 3 the state; the comm field may hold spaces
		awk -v pp="$1" -v st="${2:-}" '{ sub(/^.*\) /, "")
			if ($2 == pp && (st == "" || $1 == st)) exit 0; exit 1 }' "$p" 2>/dev/null &&
			n=$((n + 1))
	done
	echo "$n"
}

# count_children PID - live children of PID (zombies included)
count_children() {
	children_of "$1"
}

# zombies_of PID - zombie children of PID
zombies_of() {
	children_of "$1" Z
}

# fd_count PID - open fds of PID
fd_count() {
	ls "/proc/$1/fd" | wc -l
}

# teardown_pids - SIGTERM to every background process of the test, then
# reap them (suites with a teardown of their own call it too)
teardown_pids() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${BG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	BG_PIDS=()
}

teardown() {
	teardown_pids
}

# sshd_start DIR PORT - a throw-away sshd for root on 127.0.0.1:PORT:
# host key and client key (DIR/id) made in DIR; sets SSHD_PID once it
# logs that it listens
sshd_start() {
	local dir=$1 port=$2 sshd
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$dir/id"
	cp "$dir/id.pub" "$dir/authorized_keys"
	cat >"$dir/sshd_config" <<-CONF
		ListenAddress 127.0.0.1
		Port $port
		HostKey $dir/host_key
		PidFile $dir/sshd.pid
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		AuthorizedKeysFile $dir/authorized_keys
	CONF
	# sshd re-executes itself: it wants its absolute path
	"$sshd" -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
	SSHD_PID=$!
	wait_until 20 grep -q "Server listening on 127.0.0.1 port $port" "$dir/sshd.log"
}

# ssh_opts DIR - ssh options for sshd_start's server: its key, no config,
# no host key checks, no prompts
ssh_opts() {
	echo -F /dev/null -i "$1/id" -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
}
