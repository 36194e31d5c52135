#!/bin/bash
# setup.sh - prepare the host for tests/vm/run-suites.sh.
#
# Installs the Debian packages the guest is assembled from (QEMU, busybox,
# bash, bats, socat, iproute2, ...) and unpacks a Debian kernel package into
# $VM_DIR/kernel WITHOUT installing it: the guest boots that kernel, the host
# keeps its own.  Idempotent: a second run only checks and returns (~1 s).
# Runs unattended (CI=true, no stdin) as root.
#
# Usage: tests/vm/setup.sh
# Env:   VM_DIR     artifact directory (default /var/tmp/vrelay-vm); never
#                   inside the repository, the kernel package alone is 70 MB
#        VM_KPKG    kernel package to unpack (default: the one that
#                   linux-image-amd64 depends on, e.g. linux-image-6.1.0-56-amd64)
#        VM_NO_APT=1  skip the apt-get step (packages already present)
set -euo pipefail

VM_DIR=${VM_DIR:-/var/tmp/vrelay-vm}
export DEBIAN_FRONTEND=noninteractive

# What the harness copies into the guest or runs on the host.  kmod gives
# depmod, which writes the modules.dep that run-suites.sh reads to load the
# vsock and virtio-net modules in dependency order; python3 serves the pages
# that the network test (suites/net.bats) fetches through vrelay's NAT.
PKGS=(qemu-system-x86 busybox-static bash bats socat coreutils diffutils
    iproute2 cpio gzip xz-utils zstd kmod openssh-client python3)

log() { echo "vm-setup: $*" >&2; }
die() { log "$*"; exit 1; }

# openssh-server's postinst starts sshd through invoke-rc.d unless a
# policy-rc.d forbids it (exit 101, as in container images).  An sshd left
# listening on the build machine is a side effect we do not want, so the
# package is only installed where service starts are denied.
services_blocked() {
    local rc=0
    [ -x /usr/sbin/policy-rc.d ] || return 1
    /usr/sbin/policy-rc.d ssh start >/dev/null 2>&1 || rc=$?
    [ "$rc" = 101 ]
}

missing_pkgs() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
            echo "$p"
    done
}

install_pkgs() {
    local want=("${PKGS[@]}") missing
    if services_blocked; then
        want+=(openssh-server)
    else
        log "not installing openssh-server: no policy-rc.d stops it from starting sshd here"
    fi
    missing=$(missing_pkgs "${want[@]}")
    [ -n "$missing" ] || return 0
    # A fresh machine may have no package lists yet: update only then.
    # shellcheck disable=SC2086  # word-splitting the package list is intended
    apt-cache show $missing >/dev/null 2>&1 || apt-get update -q </dev/null
    # shellcheck disable=SC2086
    log "installing:" $missing
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 \
        $missing </dev/null >/dev/null
}

kernel_pkg() {
    if [ -n "${VM_KPKG:-}" ]; then echo "$VM_KPKG"; return; fi
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# Unpack the kernel package once per package name; the stamp file makes a
# re-run cheap and a changed VM_KPKG (or a Debian point release) re-unpack.
unpack_kernel() {
    local kpkg=$1 kdir=$VM_DIR/kernel
    [ -e "$kdir/.done-$kpkg" ] && return 0
    log "fetching $kpkg"
    rm -rf "$kdir" "$VM_DIR/deb"
    mkdir -p "$VM_DIR/deb" "$kdir"
    # apt-get download writes into the cwd; the _apt sandbox user may not be
    # able to write there, so download as root.
    (cd "$VM_DIR/deb" && apt-get download -q -o APT::Sandbox::User=root "$kpkg" \
        </dev/null >/dev/null)
    dpkg -x "$VM_DIR"/deb/"$kpkg"_*.deb "$kdir"
    # The package ships no modules.dep (its postinst runs depmod); make one.
    local kver
    kver=$(basename "$(ls -d "$kdir"/lib/modules/*)")
    depmod -b "$kdir" "$kver"
    touch "$kdir/.done-$kpkg"
}

# QEMU can boot an uncompressed ELF vmlinux through its PVH entry point.
# Under TCG that skips ~4 s of in-guest decompression of the bzImage, which
# is most of the boot time.  The payload is found by its compression magic.
extract_vmlinux() {
    local kdir=$VM_DIR/kernel out=$VM_DIR/kernel/vmlinux off magic unz images vmlinuz
    [ -s "$out" ] && return 0
    images=("$kdir"/boot/vmlinuz-*)
    vmlinuz=${images[0]}
    for magic in '\xfd7zXZ\x00:xz -dc --single-stream' '\x28\xb5\x2f\xfd:zstd -dqc' \
        '\x1f\x8b\x08:gzip -dc'; do
        unz=${magic#*:}
        while read -r off; do
            # A decompressor complains about trailing data; the ELF check
            # below decides whether what came out is the kernel.
            tail -c +$((off + 1)) "$vmlinuz" | $unz >"$out.tmp" 2>/dev/null || true
            if [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
                mv "$out.tmp" "$out"
                return 0
            fi
        done < <(LC_ALL=C grep -aboP "${magic%%:*}" "$vmlinuz" | cut -d: -f1 | head -n3)
    done
    rm -f "$out.tmp"
    log "could not extract vmlinux; run-suites.sh will boot $vmlinuz (slower)"
}

main() {
    [ "$(id -u)" = 0 ] || die "run as root (apt-get, and /dev/console in the initramfs)"
    [ "${VM_NO_APT:-0}" = 1 ] || install_pkgs
    local kpkg
    kpkg=$(kernel_pkg)
    [ -n "$kpkg" ] || die "cannot resolve the kernel package (set VM_KPKG)"
    mkdir -p "$VM_DIR"
    unpack_kernel "$kpkg"
    extract_vmlinux
    log "ready: $kpkg in $VM_DIR/kernel"
}

main "$@"
