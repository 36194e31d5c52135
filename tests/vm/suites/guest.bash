# guest.bash - bats helper for suites that run in the vrelay test guest.
#
# Load it with `load guest` (from tests/vm/suites/) or `load ../vm/suites/guest`
# (from tests/bats/).  Every suite that touches AF_VSOCK must start with
#
#     setup_file() { require_test_guest; }
#
# The build machines are VMs whose own /dev/vsock reaches the infrastructure
# host, so vsock traffic is allowed only inside the throw-away guest that
# tests/vm/run-suites.sh boots.  Outside it, require_test_guest FAILS the
# whole file (bats reports "not ok ... setup_file failed" and runs none of
# its tests) rather than skipping it: a vsock suite that runs somewhere else
# is a mistake someone must see, not a quiet skip.
#
# The checks only read files; nothing here opens /dev/vsock or an AF_VSOCK
# socket.

# in_test_guest: true only inside the vrelay test guest.  All three must
# hold: the kernel was booted with vrelay.testguest=1, the guest's /init
# wrote the marker, and the marker names this boot (so a copied or stale
# marker file on some other machine cannot pass).
in_test_guest() {
    local marker=/run/vrelay-testguest boot_id
    [[ " $(cat /proc/cmdline 2>/dev/null) " == *' vrelay.testguest=1 '* ]] || return 1
    [ -f "$marker" ] || return 1
    boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null) || return 1
    grep -qx "vrelay.testguest=1 boot_id=$boot_id" "$marker"
}

require_test_guest() {
    if ! in_test_guest; then
        echo "refusing to run vsock tests outside the vrelay test guest" \
            "(run them with tests/vm/run-suites.sh)" >&2
        return 1
    fi
}

# listening_on PORT: reads `ss -l` output; true if a local address ends in
# :PORT.  Scans all fields, since ss adds a Netid column for some families.
listening_on() {
    awk -v p=":$1" '{ for (i = 1; i <= NF; i++) if ($i ~ p "$") f = 1 } END { exit !f }'
}

# wait_listen KIND PORT [PID]: wait until a KIND (vsock, tcp) socket listens
# on PORT, polling `ss` for at most $WAIT_TENTHS/10 s (default 10 s; TCG
# guests are slow).  With PID, give up as soon as that process (the
# listener being started) has exited.  Readiness by observation, never a
# fixed sleep.
wait_listen() {
    local kind=$1 port=$2 pid=${3:-} tries=${WAIT_TENTHS:-100} flags
    case $kind in
        vsock) flags=(--vsock -lnH) ;;
        tcp) flags=(-tlnH) ;;
        *) echo "wait_listen: unknown kind $kind" >&2; return 2 ;;
    esac
    while [ "$tries" -gt 0 ]; do
        ss "${flags[@]}" 2>/dev/null | listening_on "$port" && return 0
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            echo "the $kind listener (pid $pid) exited before listening on $port" >&2
            return 1
        fi
        sleep 0.1
        tries=$((tries - 1))
    done
    echo "nothing listens on $kind port $port" >&2
    return 1
}

wait_vsock_listen() { wait_listen vsock "$@"; }
wait_tcp_listen() { wait_listen tcp "$@"; }
