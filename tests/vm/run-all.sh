#!/bin/bash
# run-all.sh - every guest suite (tests/vm/suites/*.bats) in one boot of the
# test guest, with the binaries they need.  Called by tests/run-tests.sh;
# prints the guest's TAP stream and "vm: N passed, N failed".
#   VRELAY  the binary under test
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# built here: the guest has no compiler
cc -O2 -Wall -Wextra -o "$work/listen-fd" "$here/tools/listen-fd.c"

bins=(-b "$work/listen-fd")
for b in ssh sshd ssh-keygen sha256sum; do
	p=$(command -v "$b" || true)
	[ -z "$p" ] && [ -x "/usr/sbin/$b" ] && p=/usr/sbin/$b
	[ -n "$p" ] && bins+=(-b "$p")
done
exec "$here/run-suites.sh" "${bins[@]}" "$here"/suites/*.bats
