#!/bin/bash
# run-suites.sh - run bats suites inside the vrelay test guest.
#
# The guest is a throw-away QEMU VM (Debian kernel unpacked by setup.sh, a
# busybox initramfs built here in about a second) whose kernel has
# vsock_loopback, so AF_VSOCK works for real at CID 1 inside it.  QEMU gets
# no vsock device, and no NIC unless the caller adds one with -q (run-all.sh
# adds one on a vrelay NAT inside a private network namespace).
#
# Usage: tests/vm/run-suites.sh [-b BIN]... [-e KEY=VALUE]... [-q ARG]...
#                               [-t SECS] SUITE.bats...
#   -b BIN   one more host binary for the guest's /usr/local/bin, with its
#            shared libraries (repeatable; a path or a command name)
#   -e KEY=VALUE  one more variable for the suites' environment (repeatable)
#   -q ARG   one more QEMU argument, appended as is (repeatable), e.g.
#            -q -netdev -q stream,id=n0,... -q -device -q virtio-net-pci,netdev=n0
#   -t SECS  wall-clock limit for boot + suites (default $VM_TIMEOUT or 600)
# Output: the suites' TAP stream on stdout, then one line
#         "vm: N passed, N failed[, N skipped]".  Diagnostics go to stderr.
# Exit:   0 all passed, 1 a test failed, 2 usage or build error,
#         124 timeout, 125 the guest stopped without reporting (e.g. panic).
# Env:    VRELAY        binary to test (default $top_builddir/vrelay, i.e.
#                       ../../vrelay from here); in the guest it is
#                       /usr/local/bin/vrelay and $VRELAY points there
#         VM_TIMEOUT    seconds (default 600)
#         VM_ACCEL      auto|kvm|tcg (default auto: kvm only if really usable)
#         VM_KEEP_LOG   write the whole serial console log to this file
#         VM_BATS_ARGS  extra bats arguments, e.g. "--filter vsock"
#         VM_APPEND     extra kernel command line, e.g. "loglevel=7"
#         VM_CPU        QEMU -cpu model (default host with kvm, max with tcg)
#         VM_DIR        where setup.sh put the kernel (default /var/tmp/vrelay-vm)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
VM_DIR=${VM_DIR:-/var/tmp/vrelay-vm}
QEMU=qemu-system-x86_64

# Modules /init loads (after their dependencies): AF_VSOCK with the loopback
# transport and its diag module (for `ss --vsock`); virtio-net, virtio-pci
# and tun for network tests; the inet/unix diag modules so `ss -t/-u/-x`
# works.
VM_MODULES=(vsock vmw_vsock_virtio_transport_common vsock_loopback vsock_diag
    virtio_pci virtio_net tun inet_diag tcp_diag udp_diag unix_diag)
# Host tools every guest gets, ahead of busybox's applets in PATH: socat and
# iproute2 because busybox has no vsock or `ss`, a few coreutils so suites
# see the same GNU options as on the host.
GUEST_BINS=(socat ss ip timeout head tail dd stat sha256sum cmp)

log() { echo "vm: $*" >&2; }
die() { log "$*"; exit 2; }
usage() {
    echo "usage: $0 [-b BIN]... [-e KEY=VALUE]... [-q ARG]... [-t SECS] SUITE.bats..." >&2
    exit 2
}

extra_bins=() guest_env=() qemu_extra=() timeout=${VM_TIMEOUT:-600} suites=()
parse_args() {
    local opt
    while getopts b:e:q:t:h opt; do
        case $opt in
            b) extra_bins+=("$OPTARG") ;;
            e) [[ $OPTARG =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] ||
                   die "-e: not KEY=VALUE: $OPTARG"
               guest_env+=("$OPTARG") ;;
            q) qemu_extra+=("$OPTARG") ;;
            t) timeout=$OPTARG ;;
            *) usage ;;
        esac
    done
    shift $((OPTIND - 1))
    [ $# -ge 1 ] || usage
    [[ $timeout =~ ^[0-9]+$ ]] || die "-t/VM_TIMEOUT: not a number of seconds: $timeout"
    local s
    for s in "$@"; do
        [ -f "$s" ] || die "$s: no such suite"
        suites+=("$(realpath "$s")")
    done
}

# --- initramfs -------------------------------------------------------------

# A /usr-merged tree like Debian's: ldd's /lib/... and /usr/lib/... paths and
# #!/bin/bash as well as #!/usr/bin/env bash all resolve.
make_layout() {
    mkdir -p "$root"/usr/{bin,sbin,lib/modules/vm,lib64,local/bin} \
        "$root"/{etc,proc,sys,dev,tmp,run,root,vrelay/src}
    ln -s usr/bin "$root/bin"
    ln -s usr/sbin "$root/sbin"
    ln -s usr/lib "$root/lib"
    ln -s usr/lib64 "$root/lib64"
    # The kernel opens /dev/console for init before devtmpfs is mounted.
    [ "$(id -u)" != 0 ] || mknod -m 600 "$root/dev/console" c 5 1
}

add_busybox() {
    local bb
    bb=$(command -v busybox) || die "busybox not found; run tests/vm/setup.sh"
    # A dynamic busybox would need its libraries before /init can even start.
    ldd "$bb" >/dev/null 2>&1 && die "$bb is not static; install busybox-static"
    cp "$bb" "$root/usr/bin/busybox"
    ln -s busybox "$root/usr/bin/sh"
    install -m 755 "$here/guest/init" "$root/init"
}

# copy_bins DEST BIN...: each BIN (path or command name) to DEST in the
# guest, every library ldd reports (and the loader) to its host path.
# Libraries loaded with dlopen() are not seen; glibc 2.36 has the files and
# dns NSS modules built in, so name lookups still work.
copy_bins() {
    local dest=$1 b path paths=()
    shift
    for b in "$@"; do
        case $b in
            */*) path=$b ;;
            *) path=$(command -v "$b") || die "$b: not found on the host" ;;
        esac
        [ -f "$path" ] || die "$path: no such file"
        cp -L "$path" "$root$dest/${b##*/}"
        paths+=("$path")
    done
    # One ldd for all; it fails on static binaries, which need nothing.
    { ldd "${paths[@]}" 2>/dev/null || true; } |
        awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*[^:]$/ { print $1 }' |
        sort -u >"$work/libs"
    [ -s "$work/libs" ] || return 0
    xargs cp -L --parents -t "$root" <"$work/libs"
}

# The vrelay under test.  It may not be built yet: the suites then skip what
# needs it, and this says so.
add_vrelay() {
    local bin=${VRELAY:-${top_builddir:-$top_srcdir}/vrelay}
    if [ ! -f "$bin" ]; then
        log "no vrelay binary at $bin: the guest runs without it"
        return 0
    fi
    [ "$(head -c 4 "$bin" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] ||
        log "warning: $bin is not an ELF binary (a libtool wrapper?); it may not run in the guest"
    bin=$(realpath "$bin")  # a path, never a command name for copy_bins
    copy_bins /usr/local/bin "$bin"
    [ "${bin##*/}" = vrelay ] || mv "$root/usr/local/bin/${bin##*/}" "$root/usr/local/bin/vrelay"
}

# Debian's bats is /usr/bin/bats plus /usr/lib/bats-core and
# /usr/libexec/bats-core; bats finds the latter two from its own resolved
# path ($BATS_ROOT = two levels up), so the tree is copied to the same place.
# Helper libraries (bats-assert, bats-support, bats-file) live in
# /usr/lib/bats, bats' default BATS_LIB_PATH, and come along if installed.
add_bats() {
    local bats bats_root d
    bats=$(command -v bats) || die "bats not found; run tests/vm/setup.sh"
    bats=$(readlink -f "$bats")
    bats_root=${bats%/*/*}
    for d in lib/bats-core libexec/bats-core; do
        [ -d "$bats_root/$d" ] || die "bats layout: $bats_root/$d missing"
    done
    mkdir -p "$root$bats_root"/{bin,lib,libexec}
    cp "$bats" "$root$bats_root/bin/bats"
    cp -a "$bats_root/lib/bats-core" "$root$bats_root/lib/"
    cp -a "$bats_root/libexec/bats-core" "$root$bats_root/libexec/"
    [ ! -d /usr/lib/bats ] || cp -a /usr/lib/bats "$root/usr/lib/"
    # bash goes to /usr/bin so that busybox (no bash applet) never shadows it.
    copy_bins /usr/bin bash
}

# Modules in dependency order, read from the modules.dep that setup.sh made.
add_modules() {
    local moddir dep
    moddir=$(echo "$VM_DIR"/kernel/lib/modules/*)
    dep=$moddir/modules.dep
    [ -f "$dep" ] || die "no $dep; run tests/vm/setup.sh"
    declare -A seen=()
    add_mod() {  # add_mod NAME: its dependencies first, then itself
        local m=${1//-/_} rel deps d
        [ -z "${seen[$m]:-}" ] || return 0
        seen[$m]=1
        rel=$(grep -m1 -E "(^|/)${m//_/[-_]}\.ko(\.[a-z]+)?:" "$dep" | cut -d: -f1) || true
        if [ -z "$rel" ]; then
            grep -qE "/${m//_/[-_]}\.ko" "$moddir/modules.builtin" ||
                log "warning: kernel module $m not found"
            return 0
        fi
        deps=$(grep -m1 "^$rel:" "$dep" | cut -d: -f2)
        for d in $deps; do
            d=${d##*/}
            add_mod "${d%%.ko*}"
        done
        # busybox insmod cannot read compressed modules.
        case $rel in
            *.xz) xz -dc "$moddir/$rel" ;;
            *.zst) zstd -dqc "$moddir/$rel" ;;
            *.gz) gzip -dc "$moddir/$rel" ;;
            *) cat "$moddir/$rel" ;;
        esac >"$root/usr/lib/modules/vm/$m.ko"
        echo "$m" >>"$root/usr/lib/modules/vm/load.order"
    }
    : >"$root/usr/lib/modules/vm/load.order"
    local m
    for m in "${VM_MODULES[@]}"; do add_mod "$m"; done
}

# Just enough /etc for libc lookups: localhost, services, the root user;
# and a udhcpc lease script for guests that get a NIC.
add_etc() {
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    echo 'root:x:0:' >"$root/etc/group"
    printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$root/etc/hosts"
    printf 'passwd: files\ngroup: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
    local f
    for f in /etc/services /etc/protocols; do [ ! -f "$f" ] || cp "$f" "$root$f"; done
    install -D -m 755 "$here/guest/udhcpc.script" "$root/etc/udhcpc/default.script"
}

# Suites keep their path relative to the repository top, so that a suite in
# tests/bats/ can `load ../vm/suites/guest`.  Directories of suites inside
# tests/ come whole (helpers, fixtures); a suite from elsewhere brings only
# its sibling *.bash helpers.  tests/vm/suites/ always comes along.
add_suites() {
    local s rel dir i=0 gdir
    cp -a --parents tests/vm/suites "$root/vrelay/src/"  # cwd: $top_srcdir
    # the host suites' helpers, so guest suites share start_relay, the
    # TLS certificates & co.
    cp -a --parents tests/bats/helper.bash tests/bats/tools/lib.bash tests/bats/tools/tls.bash \
        data/ssh_config \
        "$root/vrelay/src/"
    : >"$root/vrelay/suites"
    for s in "${suites[@]}"; do
        dir=${s%/*}
        if [[ $s == "$top_srcdir"/tests/* ]]; then
            rel=${s#"$top_srcdir"/}
            gdir=$root/vrelay/src/${rel%/*}
            [ -d "$gdir" ] || { mkdir -p "$gdir" && cp -a "$dir/." "$gdir/"; }
        else
            i=$((i + 1))
            rel=extern/$i/${s##*/}
            gdir=$root/vrelay/src/extern/$i
            mkdir -p "$gdir"
            cp "$s" "$gdir/"
            find "$dir" -maxdepth 1 -name '*.bash' -exec cp -t "$gdir" {} +
        fi
        echo "/vrelay/src/$rel" >>"$root/vrelay/suites"
    done
}

# Settings for the suites, sourced by /init (busybox ash) with `set -a`:
# VRELAY, VM_BATS_ARGS and the -e variables, quoted by bash's %q.
add_env() {
    local kv
    {
        echo "VRELAY=/usr/local/bin/vrelay"
        printf 'VM_BATS_ARGS=%q\n' "${VM_BATS_ARGS:-}"
        for kv in ${guest_env[@]+"${guest_env[@]}"}; do
            printf '%s=%q\n' "${kv%%=*}" "${kv#*=}"
        done
    } >"$root/vrelay/env"
}

# gzip -1: the kernel unpacks it in a fraction of a second even under TCG,
# and it is 4x smaller than the plain cpio QEMU would otherwise copy in.
pack() {
    (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
        gzip -1 >"$1"
}

build_initramfs() {
    root=$work/root
    make_layout
    add_busybox
    add_bats
    copy_bins /usr/local/bin "${GUEST_BINS[@]}" ${extra_bins[@]+"${extra_bins[@]}"}
    add_vrelay
    add_modules
    add_etc
    (cd "$top_srcdir" && add_suites)
    add_env
    pack "$1"
}

# --- QEMU ------------------------------------------------------------------

# /dev/kvm is not always KVM that can run a stock kernel: on hosts whose KVM
# is kvm_pvm (no VT-x/AMD-V, as on this project's build machines) a Debian
# kernel crawls through the instruction emulator and dies.  Treat that as no
# KVM; otherwise ask QEMU whether it can open the accelerator.
kvm_usable() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    if [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_intel ] &&
        [ ! -d /sys/module/kvm_amd ]; then
        return 1
    fi
    echo quit | timeout 20 "$QEMU" -accel kvm -M none -nodefaults -display none \
        -monitor stdio >/dev/null 2>&1
}

pick_accel() {
    accel=${VM_ACCEL:-auto}
    if [ "$accel" = auto ]; then
        if kvm_usable; then accel=kvm; else accel=tcg; fi
    fi
    case $accel in
        kvm) cpu=${VM_CPU:-host} ;;
        tcg) cpu=${VM_CPU:-max} ;;
        *) die "VM_ACCEL must be auto, kvm or tcg" ;;
    esac
}

# The uncompressed vmlinux boots through PVH without in-guest decompression
# (several seconds under TCG); the bzImage is the fallback.
pick_kernel() {
    local images=("$VM_DIR"/kernel/boot/vmlinuz-*)
    kernel=$VM_DIR/kernel/vmlinux
    [ -f "$kernel" ] || kernel=${images[0]}
    [ -f "$kernel" ] || die "no kernel under $VM_DIR; run tests/vm/setup.sh"
}

# No -device vhost-vsock-pci, on purpose (-nodefaults): the guest's only
# vsock peer is itself.  No NIC either, unless -q adds one.  stdin is
# /dev/null so that QEMU never reads the caller's terminal; --foreground
# lets timeout work from a tty.
# timeout's PID is kept so that cleanup can stop QEMU if we are killed, and
# QEMU's status goes to a file because boot runs inside a pipeline.
boot() {
    timeout --foreground -k 5 "$timeout" "$QEMU" -accel "$accel" -cpu "$cpu" \
        -m 1G -smp 2 -nodefaults -no-user-config -display none -no-reboot \
        -chardev stdio,id=con,signal=off -serial chardev:con \
        -kernel "$kernel" -initrd "$1" \
        -append "console=ttyS0 quiet panic=-1 vrelay.testguest=1 ${VM_APPEND:-}" \
        ${qemu_extra[@]+"${qemu_extra[@]}"} </dev/null &
    echo $! >"$work/qemu.pid"
    local rc=0
    wait $! || rc=$?
    echo "$rc" >"$work/qemu.rc"
}

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
    local pid
    pid=$(cat "$work/qemu.pid" 2>/dev/null) || true
    # timeout passes the signal on to QEMU.
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    # Let the pipeline finish writing into $work before removing it.
    [ -z "${pipeline:-}" ] || wait "$pipeline" 2>/dev/null || true
    rm -rf "$work"
}

# Pass the guest's TAP lines to stdout and its bats stderr to stderr as they
# arrive; everything else on the console (boot messages, init chatter) only
# goes to the log.
relay_console() {
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        case $line in
            'VRELAY-TAP: '*) printf '%s\n' "${line#VRELAY-TAP: }" ;;
            'VRELAY-ERR: '*) printf '%s\n' "${line#VRELAY-ERR: }" >&2 ;;
        esac
    done
}

# --- results ---------------------------------------------------------------

# count_tap FILE: sets passed, failed, skipped, planned, reported from the
# TAP lines of the console log.
count_tap() {
    local tap
    tap=$(tr -d '\r' <"$1" | sed -n 's/^VRELAY-TAP: //p')
    passed=0 failed=0 skipped=0 planned=0 reported=0
    local line
    while IFS= read -r line; do
        case $line in
            'not ok '*) failed=$((failed + 1)) ;;
            'ok '*' # skip'*|'ok '*' # SKIP'*) skipped=$((skipped + 1)) ;;
            'ok '*) passed=$((passed + 1)) ;;
            1..*) planned=${line#1..}; planned=${planned%% *} ;;
        esac
    done <<<"$tap"
    reported=$((passed + failed + skipped))
}

main() {
    parse_args "$@"
    pick_kernel
    pick_accel
    command -v "$QEMU" >/dev/null || die "$QEMU not found; run tests/vm/setup.sh"

    work=$(mktemp -d "${TMPDIR:-/tmp}/vrelay-vm.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    local console=$work/console.log t0 t1 t2
    t0=$(date +%s.%N)
    build_initramfs "$work/initrd.gz"
    t1=$(date +%s.%N)

    # In the background with `wait`, so that INT/TERM run the traps at once
    # instead of after QEMU is done.
    local qrc
    boot "$work/initrd.gz" | tee "$console" | relay_console &
    pipeline=$!
    wait "$pipeline" || true
    pipeline=
    qrc=$(cat "$work/qemu.rc" 2>/dev/null || echo 125)
    rm -f "$work/qemu.pid"
    t2=$(date +%s.%N)
    [ -z "${VM_KEEP_LOG:-}" ] || cp "$console" "$VM_KEEP_LOG"

    local end bats_rc rc
    count_tap "$console"
    end=$(tr -d '\r' <"$console" | sed -n 's/^VRELAY-END rc=\([0-9]*\).*/\1/p' | tail -n1)
    if [ -n "$end" ]; then
        bats_rc=$end
        if [ "$failed" -eq 0 ] && [ "$bats_rc" = 0 ] && [ "$reported" -ge "$planned" ]; then
            rc=0
        else
            rc=1
        fi
    elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
        rc=124
        log "timeout after ${timeout}s (VM_TIMEOUT / -t)"
    else
        rc=125
        log "the guest stopped without reporting (qemu exit $qrc); console tail:"
        tr -d '\r' <"$console" | tail -n 25 | sed 's/^/vm|   /' >&2
    fi
    # Tests that were planned but never reported count as failed, and a run
    # that died before its plan as one failure, so that a crashed guest can
    # never look green in a summed count.
    if [ "$reported" -lt "$planned" ]; then
        failed=$((failed + planned - reported))
    elif [ "$rc" -ge 124 ] && [ "$planned" -eq 0 ]; then
        failed=$((failed + 1))
    fi
    if [ "$rc" = 1 ] && [ "$failed" -eq 0 ]; then
        log "bats exited $bats_rc without a failed test"
        failed=1
    fi

    awk -v a="$accel" -v r="$rc" -v t0="$t0" -v t1="$t1" -v t2="$t2" 'BEGIN {
        printf "vm: accel=%s exit=%s initramfs=%.2fs boot+suites=%.2fs total=%.2fs\n",
            a, r, t1 - t0, t2 - t1, t2 - t0 }' >&2
    [ "$rc" = 0 ] || [ -n "${VM_KEEP_LOG:-}" ] ||
        log "set VM_KEEP_LOG=FILE to keep the serial console log"
    local summary="vm: $passed passed, $failed failed"
    [ "$skipped" -eq 0 ] || summary+=", $skipped skipped"
    echo "$summary"
    exit "$rc"
}

main "$@"
