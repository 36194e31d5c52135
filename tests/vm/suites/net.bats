#!/usr/bin/env bats
# net.bats - the guest's virtio-net NIC on vrelay's NAT engine.
#
# tests/vm/run-all.sh runs, in a private network namespace on the host,
#     vrelay UNIX-LISTEN:SOCK NAT
# with a python HTTP server and a socat echo server on 127.0.0.1, and boots
# the guest with
#     -netdev stream,id=n0,server=off,addr.type=unix,addr.path=SOCK
#     -device virtio-net-pci,netdev=n0
# Here, in the guest: busybox udhcpc gets a lease from the NAT's DHCP server
# and wget fetches pages from the host's 127.0.0.1 through 192.168.127.254,
# where an echo server also listens and a closed port must refuse.
#
# From run-all.sh (through run-suites.sh -e):
#   NET_HTTP_PORT     the HTTP server's port on the host's 127.0.0.1
#   NET_PAGE          the exact content of /page.txt
#   NET_BLOB_SHA256   sha256 of /blob.bin (1 MiB of random bytes)
#   NET_ECHO_PORT     a TCP echo server's port on the host's 127.0.0.1
#   NET_CLOSED_PORT   a port nothing listens on there
#   VM_NET_SKIP       why there is no NIC (vrelay without NAT, not root, ...):
#                     the tests skip
#   VM_NET_ERROR      the host side failed to start: the tests fail
# The expected addresses are vrelay NAT's defaults (gvproxy's); NET_GUEST_IP,
# NET_GATEWAY, NET_DNS, NET_HOST_IP and NET_MTU override them for another
# backend.

load guest

NET_IF=eth0
: "${NET_GUEST_IP:=192.168.127.2}" "${NET_GATEWAY:=192.168.127.1}"
: "${NET_DNS:=192.168.127.1}" "${NET_HOST_IP:=192.168.127.254}" "${NET_MTU:=1500}"

# Not a vsock suite, but it reconfigures eth0, routes and resolv.conf:
# never on the build machine.
setup_file() { require_test_guest; }

setup() {
	if [ -n "${VM_NET_ERROR:-}" ]; then
		echo "host side of the network test: $VM_NET_ERROR" >&2
		return 1
	fi
	[ -n "${NET_HTTP_PORT:-}" ] ||
		skip "no NIC: ${VM_NET_SKIP:-run it through tests/vm/run-all.sh}"
}

# need_lease: the DHCP test ran and configured eth0.
need_lease() {
	if ! ip -4 route show default | grep -q "via $NET_GATEWAY dev $NET_IF"; then
		echo "no lease on $NET_IF (see the udhcpc test)" >&2
		return 1
	fi
}

url() { echo "http://$NET_HOST_IP:$NET_HTTP_PORT/$1"; }

@test "NAT: virtio_net (with failover, net_failover) is loaded and drives eth0" {
	[ -d /sys/module/failover ]
	[ -d /sys/module/net_failover ]
	[ -d /sys/module/virtio_net ]
	[ -e "/sys/class/net/$NET_IF" ]
	[ "$(basename "$(readlink "/sys/class/net/$NET_IF/device/driver")")" = virtio_net ]
}

@test "NAT: udhcpc gets the first lease (.2/24, router and DNS .1) from the NAT" {
	# udhcpc retries forever while the NIC is down (backend not connected):
	# bounded by timeout, and judged by what it printed and configured.
	run timeout 30 udhcpc -i "$NET_IF" -n -q -t 5 -T 2 -O mtu \
		-s /etc/udhcpc/default.script
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"lease of $NET_GUEST_IP obtained from $NET_GATEWAY"* ]]
	# what the server sent (written by the lease script)
	local lease_ip='' lease_mask='' lease_router='' lease_dns='' lease_serverid='' lease_mtu=''
	# shellcheck source=/dev/null
	. "/run/udhcpc.$NET_IF"
	[ "$lease_ip" = "$NET_GUEST_IP" ]
	[ "$lease_mask" = 24 ]
	[ "$lease_router" = "$NET_GATEWAY" ]
	[ "$lease_dns" = "$NET_DNS" ]
	[ "$lease_serverid" = "$NET_GATEWAY" ]
	[ -z "$lease_mtu" ] || [ "$lease_mtu" = "$NET_MTU" ]
	# ... and what is configured
	ip -4 -o addr show dev "$NET_IF" | grep -q "inet $NET_GUEST_IP/24 "
	ip -4 route show default | grep -q "via $NET_GATEWAY dev $NET_IF"
	grep -qx "nameserver $NET_DNS" /etc/resolv.conf
	[ "$(cat "/sys/class/net/$NET_IF/mtu")" = "$NET_MTU" ]
}

@test "NAT: wget fetches a page from the host's 127.0.0.1 through 192.168.127.254" {
	need_lease
	# (Debian's busybox-static 1.35: `wget -T N` segfaults; timeout instead.)
	run timeout 30 wget -q -O - "$(url page.txt)"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$NET_PAGE" ]
}

@test "NAT: a 1 MiB download from the host arrives intact (sha256)" {
	need_lease
	local got=$BATS_TEST_TMPDIR/blob.bin
	timeout 60 wget -q -O "$got" "$(url blob.bin)"
	[ "$(stat -c %s "$got")" -eq 1048576 ]
	[ "$(sha256sum <"$got" | cut -d' ' -f1)" = "$NET_BLOB_SHA256" ]
}

@test "NAT: 1 MiB through the host's echo server comes back intact, then EOF" {
	need_lease
	local sent=$BATS_TEST_TMPDIR/sent got=$BATS_TEST_TMPDIR/got
	head -c 1048576 /dev/urandom >"$sent"
	# Our EOF must reach the echo server (a half-close) and its EOF must come
	# back: socat may wait longer for it (-t 60) than the test does, so a
	# lost FIN in either direction is a timeout (124), not a pass.
	local rc=0
	timeout 30 socat -t 60 -b 65536 - "TCP:$NET_HOST_IP:$NET_ECHO_PORT" \
		<"$sent" >"$got" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "socat exited $rc (124: no EOF came back) after $(stat -c %s "$got") bytes" >&2
		return 1
	fi
	[ "$(stat -c %s "$got")" -eq 1048576 ]
	cmp "$sent" "$got"
}

@test "NAT: a connection to a closed port on the host is refused, not left hanging" {
	need_lease
	run timeout 30 socat -u /dev/null "TCP:$NET_HOST_IP:$NET_CLOSED_PORT"
	echo "$output"
	[ "$status" -ne 124 ]
	[ "$status" -ne 0 ]
	[[ $output == *"Connection refused"* ]]
}
