# netns.bash - network namespaces, TAP devices and DHCP for the frame and
# NAT suites; loaded after helper.bash and tools/lib.bash:
#	load helper
#	load tools/lib
#	load tools/netns
#
# shellcheck disable=SC2034  # NS, RELAY_PID, LEASE_* ... are for the callers
#
# Every namespace is named vrt-<test number>-<shell pid>-<n> and deleted in
# teardown (ns_teardown, which first ends the test's background processes:
# a namespace lives on while a process is inside it).  Suites that use
# namespaces say "teardown() { ns_teardown; }".

VFRAME="$TOOLS/vframe.py"
DNSQ="$TOOLS/dnsq.py"
NETNS_LIST=()
NS_SEQ=0

# need_netns - skip the test unless this is root with ip netns and TAP
need_netns() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces and TAP devices)"
	command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun (TAP devices)"
}

# need_cmd CMD [PACKAGE] - skip unless CMD is installed
need_cmd() {
	command -v "$1" >/dev/null || skip "$1 is not installed (apt-get install ${2:-$1})"
}

# need_udhcpc - skip unless a busybox udhcpc is here; sets UDHCPC
need_udhcpc() {
	if command -v udhcpc >/dev/null; then
		UDHCPC=(udhcpc)
	elif busybox udhcpc --help >/dev/null 2>&1; then
		UDHCPC=(busybox udhcpc)
	else
		skip "udhcpc is not installed (apt-get install udhcpc)"
	fi
}

# ns_create - a new namespace with its loopback up; sets NS (its name)
ns_create() {
	NS_SEQ=$((NS_SEQ + 1))
	NS="vrt-${BATS_TEST_NUMBER}-$$-$NS_SEQ"
	if ! ip netns add "$NS" 2>"$BATS_TEST_TMPDIR/netns.err"; then
		skip "cannot create a network namespace: $(cat "$BATS_TEST_TMPDIR/netns.err")"
	fi
	NETNS_LIST+=("$NS")
	ip -n "$NS" link set lo up
}

# ns_delete NS - delete a namespace this test made
ns_delete() {
	local keep=() n
	ip netns del "$1" 2>/dev/null || true
	for n in "${NETNS_LIST[@]}"; do
		[ "$n" = "$1" ] || keep+=("$n")
	done
	NETNS_LIST=("${keep[@]}")
}

# ns_teardown - helper.bash's teardown (ends the background processes by
# PID), then every namespace this test made goes
ns_teardown() {
	local n
	teardown_pids
	for n in "${NETNS_LIST[@]}"; do
		ip netns del "$n" 2>/dev/null || true
	done
	NETNS_LIST=()
}

# ns_exec NS COMMAND... - run COMMAND inside NS
ns_exec() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# ns_has_dev NS DEV - DEV exists in NS
ns_has_dev() {
	ip -n "$1" link show "$2" >/dev/null 2>&1
}

# ns_dev_up NS DEV - DEV exists in NS and is administratively up
ns_dev_up() {
	ip -n "$1" -o link show "$2" 2>/dev/null | grep -q '<[^>]*\bUP\b'
}

# ns_mtu NS DEV - the MTU of DEV in NS
ns_mtu() {
	ip -n "$1" -o link show "$2" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'
}

# ns_mac NS DEV - the MAC address of DEV in NS
ns_mac() {
	ip -n "$1" -o link show "$2" | sed -n 's/.* link\/ether \([0-9a-f:]*\) .*/\1/p'
}

# ns_addr6 NS DEV PREFIX - DEV's global IPv6 address starting with PREFIX
# (e.g. "fd00:"), once it is no longer tentative
ns_addr6() {
	ip -n "$1" -6 -o addr show dev "$2" scope global 2>/dev/null |
		grep -v tentative | awk '{ print $4 }' | grep "^$3" | cut -d/ -f1 | head -n 1
}

# has_ns_addr6 NS DEV PREFIX - such an address is there
has_ns_addr6() {
	[ -n "$(ns_addr6 "$@")" ]
}

# log_has LOG PATTERN - the log file has a line matching PATTERN (grep -E)
log_has() {
	grep -Eq -- "$2" "$1"
}

# wait_log_or_exit PID LOG PATTERN [SECS] - wait until LOG matches PATTERN;
# fail at once (showing the log) if PID ends before that
wait_log_or_exit() {
	local pid=$1 log=$2 pat=$3 limit=${4:-15} i
	for ((i = 0; i < limit * 50; i++)); do
		log_has "$log" "$pat" && return 0
		if gone "$pid"; then
			echo "vrelay ended before its log said /$pat/:" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.02
	done
	echo "timed out after ${limit}s waiting for /$pat/ in $log:" >&2
	cat "$log" >&2
	return 1
}

# wait_dev_or_exit PID NS DEV [SECS] - wait until DEV exists and is up in NS;
# fail at once if PID ends first
wait_dev_or_exit() {
	local pid=$1 ns=$2 dev=$3 limit=${4:-15} i
	for ((i = 0; i < limit * 50; i++)); do
		ns_dev_up "$ns" "$dev" && return 0
		if gone "$pid"; then
			echo "vrelay ended before $dev was up in $ns" >&2
			return 1
		fi
		sleep 0.02
	done
	echo "timed out after ${limit}s waiting for $dev to be up in $ns" >&2
	return 1
}

# start_vrelay NAME ARGS... - "vrelay -dd ARGS" in the background, stderr to
# $BATS_TEST_TMPDIR/NAME.log (no wait); sets RELAY_PID and RELAY_LOG
start_vrelay() {
	local name=$1
	shift
	RELAY_LOG="$BATS_TEST_TMPDIR/$name.log"
	: >"$RELAY_LOG"
	"$VRELAY" -dd "$@" </dev/null 2>"$RELAY_LOG" &
	RELAY_PID=$!
	BG_PIDS+=("$RELAY_PID")
}

# start_nat NAME ARGS... - start_vrelay, then wait for the NAT engine's
# "ready: network" line; with NAT_NS=NS (and NAT_DEV, default tap0) also for
# that device to be up in NS
start_nat() {
	start_vrelay "$@"
	wait_log_or_exit "$RELAY_PID" "$RELAY_LOG" "ready: network" || return 1
	if [ -n "${NAT_NS:-}" ]; then
		wait_dev_or_exit "$RELAY_PID" "$NAT_NS" "${NAT_DEV:-tap0}" || return 1
	fi
}

# start_tap NAME NS DEV ARGS... - start_vrelay (ARGS make DEV in NS, e.g.
# TAP:DEV,netns=NS,up ...), wait for DEV to be up in NS and, when the other
# address connects, for its "connected to" line
start_tap() {
	local name=$1 ns=$2 dev=$3
	shift 3
	start_vrelay "$name" "$@"
	wait_dev_or_exit "$RELAY_PID" "$ns" "$dev" || { cat "$RELAY_LOG" >&2; return 1; }
	case " $* " in
	*CONNECT:* | *" UNIX:"* | *SEQPACKET:*)
		wait_log_or_exit "$RELAY_PID" "$RELAY_LOG" "connected to" || return 1
		;;
	esac
}

# udhcpc_script - write the udhcpc script that records the lease and applies
# it (address, MTU, default route); prints its path
udhcpc_script() {
	local s="$BATS_TEST_TMPDIR/udhcpc.script"
	if [ ! -x "$s" ]; then
		cat >"$s" <<-'SCRIPT'
			#!/bin/sh
			# busybox udhcpc calls this with the event as $1 and the lease
			# in the environment; VRT_LEASE is where it is recorded
			case "$1" in
			deconfig)
				ip -4 addr flush dev "$interface"
				ip link set "$interface" up
				;;
			bound | renew)
				ip -4 addr flush dev "$interface"
				ip addr add "$ip/${mask:-24}" dev "$interface"
				[ -z "$mtu" ] || ip link set dev "$interface" mtu "$mtu"
				for r in $router; do
					ip route replace default via "$r" dev "$interface"
					break
				done
				{
					echo "event=$1"
					for v in interface ip subnet mask router dns mtu serverid lease domain broadcast; do
						eval "echo $v=\"\$$v\""
					done
				} >"$VRT_LEASE.tmp"
				mv "$VRT_LEASE.tmp" "$VRT_LEASE"
				;;
			esac
			exit 0
		SCRIPT
		chmod +x "$s"
	fi
	echo "$s"
}

# ns_dhcp NS DEV - busybox udhcpc in NS on DEV: one lease, applied; the
# lease's variables go to $BATS_TEST_TMPDIR/lease-NS (LEASE), one VAR=VALUE
# a line.  Asks for the MTU option too.  Fails if no lease comes.
ns_dhcp() {
	local ns=$1 dev=$2 script
	need_udhcpc
	script=$(udhcpc_script)
	LEASE="$BATS_TEST_TMPDIR/lease-$ns"
	rm -f "$LEASE"
	VRT_LEASE=$LEASE timeout 40 ip netns exec "$ns" "${UDHCPC[@]}" -f -q -n -i "$dev" \
		-s "$script" -t 8 -T 2 -A 1 -O mtu >"$BATS_TEST_TMPDIR/udhcpc-$ns.log" 2>&1 ||
		{ cat "$BATS_TEST_TMPDIR/udhcpc-$ns.log" >&2; return 1; }
	[ -s "$LEASE" ] || { echo "udhcpc wrote no lease" >&2; return 1; }
}

# lease_get VAR [LEASE] - a variable of the lease ns_dhcp recorded
lease_get() {
	sed -n "s/^$1=//p" "${2:-$LEASE}"
}

# ns_curl NS URL [CURL ARGS...] - curl inside NS, bounded
ns_curl() {
	local ns=$1 url=$2
	shift 2
	ip netns exec "$ns" curl -sS --max-time 15 "$@" "$url"
}

# vframe ARGS... - run vframe.py
vframe() {
	python3 "$VFRAME" "$@"
}

# start_vframe NAME SUBCOMMAND ADDR [ARGS...] - a vframe.py server in the
# background; waits for its ready file; sets SRV_PID
start_vframe() {
	local name=$1 sub=$2 addr=$3
	shift 3
	local ready="$BATS_TEST_TMPDIR/$name.ready"
	rm -f "$ready"
	start_bg python3 "$VFRAME" "$sub" "$addr" --ready "$ready" "$@"
	SRV_PID=$LAST_PID
	wait_until 10 test -s "$ready" || { echo "vframe $sub $addr did not get ready" >&2; return 1; }
}

# start_ns_vnet NAME NS SUBCOMMAND ADDR [ARGS...] - start_vnet inside NS
start_ns_vnet() {
	local name=$1 ns=$2 sub=$3 addr=$4
	shift 4
	local ready="$BATS_TEST_TMPDIR/$name.ready"
	rm -f "$ready"
	start_bg ip netns exec "$ns" python3 "$VNET" "$sub" "$addr" --ready "$ready" "$@"
	SRV_PID=$LAST_PID
	wait_until 10 test -s "$ready" || { echo "vnet $sub $addr in $ns did not get ready" >&2; return 1; }
	SRV_PORT=$(cat "$ready")
}

# netns_inode PID - the network namespace PID is in (its inode)
netns_inode() {
	stat -L -c %i "/proc/$1/ns/net"
}

# stats_now PID LOG - SIGUSR1 to PID; print the new lines of LOG once the
# statistics have come (the lines after what LOG had before)
stats_now() {
	local pid=$1 log=$2 before
	before=$(wc -l <"$log")
	kill -USR1 "$pid"
	wait_until 10 stats_grew "$log" "$before" || return 1
	# the statistics are a few lines written at once; take them all
	tail -n +"$((before + 1))" "$log"
}

stats_grew() {
	[ "$(grep -c 'statistics' <(tail -n +"$(($2 + 1))" "$1"))" -gt 0 ]
}

# stat_value TEXT NAME - the count for NAME in a statistics text, written
# "N NAME" (vrelay's "dropped: 1 too long, 0 malformed, 0 queue full") or
# "NAME N" / "NAME=N" / "NAME: N"; the first one found, 0 if absent
stat_value() {
	local v
	v=$(printf '%s\n' "$1" | grep -Eo -- "[0-9]+ $2" | head -n 1 | grep -Eo '^[0-9]+')
	[ -n "$v" ] || v=$(printf '%s\n' "$1" | grep -Eo -- "$2[ =:]+[0-9]+" | head -n 1 | grep -Eo '[0-9]+$')
	echo "${v:-0}"
}
