#!/bin/bash
# run-all.sh - every guest suite (tests/vm/suites/*.bats) in one boot of the
# test guest, with the binaries they need and a NIC on vrelay's NAT engine.
# Called by tests/run-tests.sh; prints the guest's TAP stream and
# "vm: N passed, N failed".
#   VRELAY  the binary under test (in the guest, and the NAT on the host)
#
# The network test (suites/net.bats): as root, the whole run moves into a
# private network namespace (unshare --net) that has only lo, and there
#     python3 -m http.server on 127.0.0.1:8080 (a page and a 1 MiB blob)
#     socat, a TCP echo server on 127.0.0.1:8007
#     vrelay UNIX-LISTEN:$work/nat.sock NAT
# serve the guest, whose virtio-net NIC QEMU connects to that socket
# (-netdev stream).  All the NAT can reach is that namespace's loopback: no
# packet from the guest leaves the machine.  Without root, or with a vrelay
# whose NAT is unavailable, the guest gets no NIC and net.bats skips, saying
# why; if the host side fails to start, net.bats fails, saying why.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "${_VRELAY_VM_NETNS:-}" != 1 ] && [ "$(id -u)" = 0 ] &&
	unshare --net true 2>/dev/null; then
	exec unshare --net env _VRELAY_VM_NETNS=1 "$0" "$@"
fi
# Host side: any vsock use here would reach the machine's own hypervisor.
export VRELAY_FORBID_VSOCK=1

work=$(mktemp -d)
pids=()
# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
	local p
	for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
	for p in ${pids[@]+"${pids[@]}"}; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# built here: the guest has no compiler
cc -O2 -Wall -Wextra -o "$work/listen-fd" "$here/tools/listen-fd.c"
cc -std=gnu11 -O2 -Wall -Wextra -o "$work/loadecho" "$here/tools/loadecho.c"

bins=(-b "$work/listen-fd" -b "$work/loadecho")
for b in ssh sshd ssh-keygen sha256sum openssl; do
	p=$(command -v "$b" || true)
	[ -z "$p" ] && [ -x "/usr/sbin/$b" ] && p=/usr/sbin/$b
	[ -n "$p" ] && bins+=(-b "$p")
done

# --- the guest's network ----------------------------------------------------

HTTP_PORT=8080 ECHO_PORT=8007 CLOSED_PORT=8009

# wait_for SECS PID WHAT COMMAND...: poll COMMAND every 0.05 s until it
# succeeds; fail at once if PID (the server being started) has exited, or
# after SECS.  Readiness by observation, never a fixed sleep.
wait_for() {
	local secs=$1 pid=$2 what=$3 i
	shift 3
	for ((i = 0; i < secs * 20; i++)); do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || { net_error="$what exited at start"; return 1; }
		sleep 0.05
	done
	net_error="$what not ready after ${secs}s"
	return 1
}

# shellcheck disable=SC2317  # called through wait_for
tcp_listening() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

# start_net: start the host side and set net_args, run-suites.sh's
# arguments for the NIC and net.bats' NET_* variables; or, if the host side
# cannot or may not run here, only VM_NET_SKIP / VM_NET_ERROR.
net_args=() net_error='' net_logs=() nat_pid=''
start_net() {
	local vrelay=${VRELAY:-$here/../../vrelay} why
	if [ "${_VRELAY_VM_NETNS:-}" != 1 ]; then
		net_args=(-e "VM_NET_SKIP=no private network namespace for the NAT (needs root and unshare)")
		return 0
	fi
	[ -f "$vrelay" ] || { net_args=(-e "VM_NET_SKIP=no vrelay binary"); return 0; }
	# vrelay picks its applet by the name it runs as (vrelay-ssh-proxy):
	# whatever the file is called, run it as "vrelay".
	mkdir "$work/bin"
	ln -s "$(realpath "$vrelay")" "$work/bin/vrelay"
	vrelay=$work/bin/vrelay
	local st=0
	why=$("$vrelay" -h NAT 2>&1 </dev/null) || st=$?
	if grep -q '^ *unavailable:' <<<"$why"; then
		why=$(sed -n 's/^ *unavailable: *//p' <<<"$why" | head -n 1)
		net_args=(-e "VM_NET_SKIP=vrelay's NAT is unavailable: $why")
		return 0
	elif [ "$st" != 0 ]; then
		net_error="vrelay -h NAT failed: $(head -n 1 <<<"$why")"
		return 1
	fi
	local t
	for t in python3 socat ss; do
		command -v "$t" >/dev/null ||
			{ net_args=(-e "VM_NET_SKIP=$t not installed (tests/vm/setup.sh)"); return 0; }
	done
	ip link set lo up

	local www=$work/www page
	mkdir "$www"
	page="vrelay NAT test page $(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	printf '%s\n' "$page" >"$www/page.txt"
	head -c 1048576 /dev/urandom >"$www/blob.bin"

	python3 -m http.server --bind 127.0.0.1 --directory "$www" "$HTTP_PORT" \
		</dev/null >"$work/http.log" 2>&1 &
	pids+=($!) net_logs+=("$work/http.log")
	wait_for 20 $! "python3 http.server" tcp_listening "$HTTP_PORT" || return 1

	socat "TCP4-LISTEN:$ECHO_PORT,bind=127.0.0.1,reuseaddr,fork" EXEC:cat \
		</dev/null >"$work/echo.log" 2>&1 &
	pids+=($!) net_logs+=("$work/echo.log")
	wait_for 20 $! "socat echo server" tcp_listening "$ECHO_PORT" || return 1

	local sock=$work/nat.sock
	"$vrelay" -dd "UNIX-LISTEN:$sock" NAT </dev/null >"$work/nat.log" 2>&1 &
	nat_pid=$!
	pids+=($!) net_logs+=("$work/nat.log")
	wait_for 20 $! "vrelay UNIX-LISTEN:... NAT" grep -q "listening on" "$work/nat.log" ||
		return 1

	net_args+=(
		-q -netdev -q "stream,id=n0,server=off,addr.type=unix,addr.path=$sock"
		-q -device -q 'virtio-net-pci,netdev=n0'
		-e "NET_HTTP_PORT=$HTTP_PORT" -e "NET_PAGE=$page"
		-e "NET_BLOB_SHA256=$(sha256sum <"$www/blob.bin" | cut -d' ' -f1)"
		-e "NET_ECHO_PORT=$ECHO_PORT" -e "NET_CLOSED_PORT=$CLOSED_PORT"
	)
}

# net_diag: the host side's logs, for a run that failed.
net_diag() {
	local f
	for f in ${net_logs[@]+"${net_logs[@]}"}; do
		[ -s "$f" ] || continue
		echo "vm-net: last lines of ${f##*/}:" >&2
		tail -n 20 "$f" | sed 's/^/vm-net|   /' >&2
	done
}

if ! start_net; then
	echo "vm-net: $net_error" >&2
	net_args=(-e "VM_NET_ERROR=$net_error")
fi

# nat_check: QEMU is gone, so the NAT saw the end of its stream and should
# have ended cleanly (status 0) or be about to.  Only a warning on stderr:
# the TAP count is the guest's.
nat_check() {
	local i st=0
	[ -n "$nat_pid" ] || return 0
	for ((i = 0; i < 200; i++)); do
		kill -0 "$nat_pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$nat_pid" 2>/dev/null; then
		echo "vm-net: warning: vrelay NAT still runs 10 s after QEMU ended" >&2
		return 1
	fi
	wait "$nat_pid" || st=$?
	[ "$st" = 0 ] || { echo "vm-net: warning: vrelay NAT exited with status $st" >&2; return 1; }
}

# Under TCG the suites take 3-4 minutes here (soak.bats' 10,000
# connections 1.5-2 of them), several times that on a machine busy with
# other builds: at most 20 minutes unless VM_TIMEOUT says otherwise.
rc=0
"$here/run-suites.sh" -t "${VM_TIMEOUT:-1200}" "${bins[@]}" "${net_args[@]}" \
	"$here"/suites/*.bats || rc=$?
nat_ok=0
nat_check || nat_ok=1
if [ "$rc" != 0 ] || [ "$nat_ok" != 0 ]; then net_diag; fi
exit "$rc"
