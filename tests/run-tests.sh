#!/bin/bash
# run-tests.sh - the whole test suite, as "make check" and CI run it.
#
# Runs every tests/bats/*.bats with bats' TAP output, then the vsock
# suites in the QEMU guest (tests/vm) when qemu-system-x86_64 is here, and
# ends with one line "N passed, N failed[, N skipped]".
#   VRELAY           the binary under test (default: ../vrelay)
#   VRELAY_SUITES    space-separated suite names to run (default: all)
#   VRELAY_NO_VM=1   skip the guest suites
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${VRELAY:=$(cd "$here/.." && pwd)/vrelay}"
export VRELAY
[ -x "$VRELAY" ] || { echo "run-tests: $VRELAY is not built" >&2; exit 2; }
command -v bats >/dev/null || { echo "run-tests: bats is not installed (apt-get install bats)" >&2; exit 2; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT

suites=()
if [ -n "${VRELAY_SUITES:-}" ]; then
	for s in $VRELAY_SUITES; do suites+=("$here/bats/$s.bats"); done
else
	suites=("$here"/bats/*.bats)
fi

rc=0
# unit tests of pure logic (built by "make check"): TAP, prefixed so that
# the numbering of the bats run stays bats'
unit_dir=${VRELAY_UNIT_DIR:-$here/unit}
if [ -z "${VRELAY_SUITES:-}" ]; then
	for t in "$unit_dir"/test-*; do
		[ -x "$t" ] || continue
		echo "# unit: ${t##*/}"
		"$t" | tee -a "$out" || rc=1
	done
fi

# host side: any vsock use here would reach the machine's own hypervisor
VRELAY_FORBID_VSOCK=1 bats --tap "${suites[@]}" | tee -a "$out" || rc=1

if [ "${VRELAY_NO_VM:-0}" != 1 ] && [ -x "$here/vm/run-all.sh" ]; then
	if command -v qemu-system-x86_64 >/dev/null; then
		"$here/vm/run-all.sh" | tee -a "$out" || rc=1
	else
		echo "# vm: qemu-system-x86_64 not installed: the vsock suites did not run"
	fi
fi

passed=$(grep -cE '^ok [0-9]+' "$out" | tr -d ' ')
skipped=$(grep -cE '^ok [0-9]+ .*# skip' "$out" | tr -d ' ')
failed=$(grep -cE '^not ok [0-9]+' "$out" | tr -d ' ')
passed=$((passed - skipped))
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] || rc=1
exit $rc
