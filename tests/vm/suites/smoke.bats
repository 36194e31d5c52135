#!/usr/bin/env bats
# smoke.bats - proves the test guest: guard, real AF_VSOCK over the loopback
# transport (CID 1), a big enough /tmp, and the vrelay binary if present.
# Run it with: tests/vm/run-suites.sh tests/vm/suites/smoke.bats

load guest

# Refuses (fails) the whole file outside the test guest, before any vsock.
setup_file() { require_test_guest; }

MARKER=/run/vrelay-testguest

teardown() {
    # A listener a failed test left behind; ours, by PID.
    if [ -n "${listener:-}" ]; then kill "$listener" 2>/dev/null || true; fi
    # The guard test moves the guest's marker aside; always put it back.
    if [ -f "$MARKER.saved" ]; then mv -f "$MARKER.saved" "$MARKER"; fi
}

@test "guard: this is the vrelay test guest" {
    grep -qw 'vrelay.testguest=1' /proc/cmdline
    [ -f /run/vrelay-testguest ]
    in_test_guest
}

@test "guard: refuses without the marker, or with one from another boot" {
    mv "$MARKER" "$MARKER.saved"
    run require_test_guest
    [ "$status" -eq 1 ]
    [[ "$output" == *"refusing to run vsock tests outside the vrelay test guest"* ]]

    echo "vrelay.testguest=1 boot_id=00000000-0000-0000-0000-000000000000" >"$MARKER"
    run require_test_guest
    [ "$status" -eq 1 ]

    mv -f "$MARKER.saved" "$MARKER"
    require_test_guest
}

@test "AF_VSOCK loopback transport is loaded" {
    [ -d /sys/module/vsock ]
    [ -d /sys/module/vsock_loopback ]
    [ -d /sys/module/vsock_diag ]
}

@test "socat: one message from VSOCK-CONNECT:1:1234 to VSOCK-LISTEN:1234" {
    local got=$BATS_TEST_TMPDIR/got
    # Bounded, so that a lost client cannot hang the suite; fd 3 closed as
    # bats requires of background processes.
    timeout 30 socat -u VSOCK-LISTEN:1234 "OPEN:$got,creat,trunc" 3>&- &
    listener=$!
    wait_vsock_listen 1234 "$listener"
    echo "hello over vsock" | timeout 30 socat -u - VSOCK-CONNECT:1:1234
    wait "$listener"
    listener=
    [ "$(cat "$got")" = "hello over vsock" ]
}

@test "socat: connecting to a vsock port nobody listens on fails" {
    run timeout 30 socat -u - VSOCK-CONNECT:1:4321 </dev/null
    [ "$status" -ne 0 ]
    [ "$status" -ne 124 ]   # refused at once, not timed out
}

@test "/tmp is a tmpfs that takes a 64 MiB file" {
    [ "$(stat -f -c %T /tmp)" = tmpfs ]
    local f=/tmp/smoke-64m
    dd if=/dev/zero of="$f" bs=1M count=64 status=none
    [ "$(stat -c %s "$f")" -eq $((64 * 1024 * 1024)) ]
    rm -f "$f"
}

@test "vrelay -V prints its version" {
    [ -x "${VRELAY:-}" ] || skip "no vrelay binary in the guest (not built yet)"
    run "$VRELAY" -V
    [ "$status" -eq 0 ]
    [[ "$output" == *vrelay* ]]
}
