#!/usr/bin/env bats
# nat.bats - the NAT engine, seen from real guests: a private network
# namespace whose TAP device is driven by vrelay (TAP:tap0,netns=NS,up NAT),
# leased by busybox udhcpc, with curl, ping, python peers inside it and
# python servers on the host's loopback.  Then the same engine behind the
# stream codecs and the datagram/seqpacket types, as a switch for two
# namespaces, against bad input, through its control API and its pcap.
#
# Addresses are the engine's defaults (gvproxy's): 192.168.127.0/24,
# gateway .1 (router, DHCP, DNS), first lease .2, the host's 127.0.0.1 at
# .254; IPv6 fd00::/64 by router advertisement, the host's ::1 at fd00::1,
# DNS at fd00::3.  All of it lives inside namespaces this file creates.

load helper
load tools/lib
load tools/netns

setup() {
	T=$BATS_TEST_TMPDIR
	# the usage errors need no namespace and no root
	[[ "$BATS_TEST_DESCRIPTION" == "NAT usage:"* ]] && return 0
	need_netns
	need_cmd curl
}

teardown() {
	ns_teardown
}

# nat_guest [NAT OPTIONS...] - a new namespace NS whose tap0 is driven by
# "vrelay -dd TAP:tap0,netns=NS,up NAT,OPTIONS"; waits for the engine and
# the device.  RELAY_PID, RELAY_LOG (nat.log)
nat_guest() {
	local nat=NAT o
	for o in "$@"; do nat+=",$o"; done
	ns_create
	NAT_NS=$NS start_nat nat TAP:tap0,netns="$NS",up "$nat"
}

# host_http [BODY] - an HTTP server on the host's 127.0.0.1; HTTP_PORT, and
# its request log in $T/http.log
host_http() {
	start_vnet http http tcp:127.0.0.1:0 --body "${1:-hello from the host}" --log "$T/http.log"
	HTTP_PORT=$SRV_PORT
}

# api PATH [CURL ARGS...] - a request to the control API at $API
api() {
	local path=$1
	shift
	curl -sS --max-time 10 --unix-socket "$API" "$@" "http://vrelay$path"
}

# api_code PATH [CURL ARGS...] - the HTTP status; the body goes to $T/api.body
api_code() {
	local path=$1
	shift
	curl -sS --max-time 10 --unix-socket "$API" -o "$T/api.body" -w '%{http_code}' "$@" "http://vrelay$path"
}

# json_get KEY - from the JSON object on stdin, the value of KEY
json_get() {
	python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# api_stat KEY - a counter from GET /stats
api_stat() {
	api /stats | json_get "$1"
}

# lease_is NS IP - NS's tap0 has IP/24
lease_is() {
	ip -n "$1" -4 -o addr show dev tap0 | grep -q " inet $2/24 "
}

# ---- a guest on its TAP ------------------------------------------------------

@test "NAT: udhcpc in the namespace gets 192.168.127.2/24, router .1, DNS .1, MTU 1500" {
	nat_guest
	ns_dhcp "$NS" tap0
	cat "$LEASE"
	[ "$(lease_get ip)" = 192.168.127.2 ]
	[ "$(lease_get subnet)" = 255.255.255.0 ]
	[ "$(lease_get router)" = 192.168.127.1 ]
	[ "$(lease_get dns)" = 192.168.127.1 ]
	[ "$(lease_get mtu)" = 1500 ]
	[ "$(lease_get serverid)" = 192.168.127.1 ]
	lease_is "$NS" 192.168.127.2
}

@test "NAT: curl in the namespace fetches a page from the host's 127.0.0.1 through 192.168.127.254" {
	host_http "page through the NAT"
	nat_guest
	ns_dhcp "$NS" tap0
	run -0 ns_curl "$NS" "http://192.168.127.254:$HTTP_PORT/index.txt"
	[ "$output" = "page through the NAT" ]
	# the server saw a loopback client: the engine made a host socket
	grep -q '^127\.0\.0\.1 "GET /index.txt HTTP/1.1" 200' "$T/http.log"
}

@test "NAT: ping from the namespace: the gateway and .254 answer ICMP echo" {
	need_cmd ping iputils-ping
	nat_guest
	ns_dhcp "$NS" tap0
	run -0 ns_exec "$NS" ping -c 1 -W 5 192.168.127.1
	[[ "$output" == *"1 received"* ]]
	run -0 ns_exec "$NS" ping -c 1 -W 5 192.168.127.254
	[[ "$output" == *"1 received"* ]]
}

@test "NAT: dns-zone= answers A and AAAA records at the gateway, NXDOMAIN for a missing name; a second zone too" {
	nat_guest "dns-zone=test.internal/www=10.1.2.3/@=10.1.2.4/v6=fd00::42/dual=10.1.2.5/dual=fd00::45" \
		"dns-zone=example.test/api=10.9.9.9"
	ns_dhcp "$NS" tap0
	local dns
	dns=$(lease_get dns)
	run -0 ns_exec "$NS" python3 "$DNSQ" "$dns" www.test.internal A
	[ "$output" = $'NOERROR\nA 10.1.2.3' ]
	run -0 ns_exec "$NS" python3 "$DNSQ" "$dns" test.internal A
	[ "$output" = $'NOERROR\nA 10.1.2.4' ]
	run -0 ns_exec "$NS" python3 "$DNSQ" "$dns" v6.test.internal AAAA
	[ "$output" = $'NOERROR\nAAAA fd00::42' ]
	run -0 ns_exec "$NS" python3 "$DNSQ" "$dns" dual.test.internal A
	[ "$output" = $'NOERROR\nA 10.1.2.5' ]
	run -0 ns_exec "$NS" python3 "$DNSQ" "$dns" dual.test.internal AAAA
	[ "$output" = $'NOERROR\nAAAA fd00::45' ]
	run -0 ns_exec "$NS" python3 "$DNSQ" "$dns" missing.test.internal A
	[ "$output" = NXDOMAIN ]
	run -0 ns_exec "$NS" python3 "$DNSQ" "$dns" api.example.test A
	[ "$output" = $'NOERROR\nA 10.9.9.9' ]
	# names are not case-sensitive
	run -0 ns_exec "$NS" python3 "$DNSQ" "$dns" WWW.Test.Internal A
	[ "$output" = $'NOERROR\nA 10.1.2.3' ]
}

@test "NAT: forward=tcp: host 127.0.0.1:HPORT and :HPORT2 (every address) reach a server in the namespace" {
	local hport hport2 gport=8080
	hport=$(vnet freeport)
	hport2=$(vnet freeport)
	nat_guest "forward=tcp:127.0.0.1:$hport:192.168.127.2:$gport" "forward=tcp:$hport2:192.168.127.2:$gport"
	ns_dhcp "$NS" tap0
	start_ns_vnet echo "$NS" echo tcp:0.0.0.0:$gport
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$hport" --text "hello guest"
	[ "$output" = "hello guest" ]
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$hport2" --text "hello again"
	[ "$output" = "hello again" ]
}

@test "NAT: UDP echo both ways: guest -> host's 127.0.0.1 via .254, host -> guest via forward=udp" {
	local uh ug=5353 hup
	hup=$(vnet udp-freeport)
	start_vnet uecho udp-echo udp:127.0.0.1:0 --prefix "host:"
	uh=$SRV_PORT
	nat_guest "forward=udp:127.0.0.1:$hup:192.168.127.2:$ug"
	ns_dhcp "$NS" tap0
	run -0 ns_exec "$NS" timeout 20 python3 "$VNET" --timeout 15 udp-ask udp:192.168.127.254:"$uh" --text from-guest
	[ "$output" = "host:from-guest" ]
	start_ns_vnet gecho "$NS" udp-echo udp:0.0.0.0:$ug --prefix "guest:"
	run -0 timeout 20 python3 "$VNET" --timeout 15 udp-ask udp:127.0.0.1:"$hup" --text from-host
	[ "$output" = "guest:from-host" ]
}

@test "NAT: IPv6: the namespace gets an fd00::/64 address by RA; [fd00::1] reaches the host's [::1]; DNS at fd00::3" {
	[ -e /proc/net/if_inet6 ] || skip "no IPv6 in this kernel"
	start_vnet echo6 echo "tcp:[::1]:0"
	local port=$SRV_PORT
	nat_guest "dns-zone=test.internal/v6=fd00::42"
	wait_until 30 has_ns_addr6 "$NS" tap0 fd00:
	local a6
	a6=$(ns_addr6 "$NS" tap0 fd00:)
	echo "address: $a6"
	[[ "$a6" == fd00::* ]]
	run -0 ns_exec "$NS" timeout 20 python3 "$VNET" client "tcp:[fd00::1]:$port" --text "over ipv6"
	[ "$output" = "over ipv6" ]
	run -0 ns_exec "$NS" python3 "$DNSQ" fd00::3 v6.test.internal AAAA
	[ "$output" = $'NOERROR\nAAAA fd00::42' ]
}

@test "NAT: subnet=, gateway= and host-ip= move the network: lease, router and the host's address follow" {
	host_http "custom subnet"
	nat_guest subnet=10.77.0.0/24 gateway=10.77.0.1 host-ip=10.77.0.100
	grep -q "ready: network 10.77.0.0/24, gateway 10.77.0.1" "$RELAY_LOG"
	ns_dhcp "$NS" tap0
	[ "$(lease_get ip)" = 10.77.0.2 ]
	[ "$(lease_get router)" = 10.77.0.1 ]
	[ "$(lease_get dns)" = 10.77.0.1 ]
	run -0 ns_curl "$NS" "http://10.77.0.100:$HTTP_PORT/"
	[ "$output" = "custom subnet" ]
}

@test "NAT: no-host-loopback: .254 does not reach the host's 127.0.0.1" {
	host_http "must not be seen"
	nat_guest no-host-loopback
	ns_dhcp "$NS" tap0
	run ns_curl "$NS" "http://192.168.127.254:$HTTP_PORT/" --max-time 5
	[ "$status" -ne 0 ]
	[[ "$output" != *"must not be seen"* ]]
	[ ! -s "$T/http.log" ]
}

@test "NAT: mtu=9000 on both the TAP and the engine: the lease carries 9000, a large transfer works" {
	local big="$T/big"
	head -c 3000000 /dev/urandom | base64 -w 0 >"$big"
	start_vnet http http tcp:127.0.0.1:0 --body-file "$big"
	local port=$SRV_PORT
	ns_create
	NAT_NS=$NS start_nat nat TAP:tap0,netns="$NS",up,mtu=9000 NAT,mtu=9000
	ns_dhcp "$NS" tap0
	[ "$(lease_get mtu)" = 9000 ]
	[ "$(ns_mtu "$NS" tap0)" = 9000 ]
	ns_curl "$NS" "http://192.168.127.254:$port/" -o "$T/got"
	cmp "$big" "$T/got"
}

@test "NAT: pcap=FILE has the DHCP exchange and the HTTP request and reply (tcpdump -r)" {
	need_cmd tcpdump
	host_http "captured body"
	nat_guest pcap="$T/nat.pcap"
	ns_dhcp "$NS" tap0
	run -0 ns_curl "$NS" "http://192.168.127.254:$HTTP_PORT/pcap-check"
	[ "$output" = "captured body" ]
	# the capture is complete once vrelay has ended
	stop_pid "$RELAY_PID"
	[ "$STATUS" = 0 ]
	run -0 tcpdump -n -r "$T/nat.pcap" 'udp port 67 or udp port 68'
	echo "$output"
	[[ "$output" == *"192.168.127.1.67 > "*"BOOTP/DHCP, Reply"* ]]
	[[ "$output" == *"BOOTP/DHCP, Request"* ]]
	run -0 tcpdump -n -A -r "$T/nat.pcap" "tcp port $HTTP_PORT"
	[[ "$output" == *"192.168.127.2."*" > 192.168.127.254.$HTTP_PORT: Flags [S]"* ]]
	[[ "$output" == *"GET /pcap-check HTTP/1.1"* ]]
	[[ "$output" == *"captured body"* ]]
}

# ---- the control API ---------------------------------------------------------------

@test "NAT api=: the socket is mode 0600; expose, list, connect, unexpose, refused" {
	API="$T/api.sock"
	local hport gport=9090
	hport=$(vnet freeport)
	nat_guest api="$API"
	wait_until 10 test -S "$API"
	[ "$(stat -c %a "$API")" = 600 ]
	ns_dhcp "$NS" tap0
	start_ns_vnet echo "$NS" echo tcp:0.0.0.0:$gport

	run -0 api /services/forwarder/all
	[ "$output" = "[]" ]
	run -0 api_code /services/forwarder/expose -X POST \
		-d "{\"local\":\"127.0.0.1:$hport\",\"remote\":\"192.168.127.2:$gport\",\"protocol\":\"tcp\"}"
	[ "$output" = 200 ]
	run -0 api /services/forwarder/all
	[ "$output" = "[{\"local\":\"127.0.0.1:$hport\",\"remote\":\"192.168.127.2:$gport\",\"protocol\":\"tcp\"}]" ]
	run -0 timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$hport" --text "through the API"
	[ "$output" = "through the API" ]

	run -0 api_code /services/forwarder/unexpose -X POST \
		-d "{\"local\":\"127.0.0.1:$hport\",\"protocol\":\"tcp\"}"
	[ "$output" = 200 ]
	run -0 api /services/forwarder/all
	[ "$output" = "[]" ]
	run ! timeout 20 python3 "$VNET" client tcp:127.0.0.1:"$hport" --text "nobody home"
	[[ "$output" == *"Connection refused"* || "$output" == *ConnectionRefused* ]]
}

@test "NAT api=: expose with gvproxy's \":PORT\" form lists as \":PORT\"; a second expose of it is 409" {
	API="$T/api.sock"
	local hport
	hport=$(vnet freeport)
	nat_guest api="$API"
	wait_until 10 test -S "$API"
	local body="{\"local\":\":$hport\",\"remote\":\"192.168.127.2:22\",\"protocol\":\"tcp\"}"
	run -0 api_code /services/forwarder/expose -X POST -d "$body"
	[ "$output" = 200 ]
	run -0 api /services/forwarder/all
	[[ "$output" == *"{\"local\":\":$hport\",\"remote\":\"192.168.127.2:22\",\"protocol\":\"tcp\"}"* ]]
	run -0 api_code /services/forwarder/expose -X POST -d "$body"
	[ "$output" = 409 ]
	json_get error <"$T/api.body"
}

@test "NAT api=: bad JSON is 400 with a JSON error; an unknown path is 404; /stats is JSON with counters" {
	API="$T/api.sock"
	nat_guest api="$API"
	wait_until 10 test -S "$API"
	run -0 api_code /services/forwarder/expose -X POST -d '{"local": ":80", "remote":'
	[ "$output" = 400 ]
	cat "$T/api.body"
	run -0 json_get error <"$T/api.body"
	[ -n "$output" ]
	run -0 api_code /services/forwarder/expose -X POST -d '{"local":":8081","remote":"192.168.127.2:80","protocol":"sctp"}'
	[ "$output" = 400 ]
	run -0 api_code /no/such/thing
	[ "$output" = 404 ]
	run -0 json_get error <"$T/api.body"
	[ -n "$output" ]
	# a guest that has done DHCP shows up in the counters
	ns_dhcp "$NS" tap0
	api /stats >"$T/stats.json"
	cat "$T/stats.json"
	[ "$(json_get Links <"$T/stats.json")" = 1 ]
	[ "$(json_get FramesReceived <"$T/stats.json")" -gt 0 ]
	[ "$(json_get DHCPReplies <"$T/stats.json")" -ge 2 ]
	[ "$(json_get DroppedPackets <"$T/stats.json")" = 0 ]
}

# ---- the engine behind other frame transports ------------------------------------

# chain NAT_SIDE TAP_SIDE - "vrelay NAT_SIDE NAT" and, for a new namespace,
# "vrelay TAP:tap0,netns=NS,up TAP_SIDE"; then DHCP and curl through them.
# NAT_SIDE must print "listening on" or be a path that appears (RECVFROM).
chain_dhcp_curl() {
	local nat_side=$1 tap_side=$2
	host_http "through $nat_side"
	start_vrelay natside "$nat_side" NAT
	local nat_pid=$RELAY_PID
	# a listener is ready when it listens; UNIX-RECVFROM when its path is there
	wait_log_or_exit "$nat_pid" "$RELAY_LOG" "listening on|ready: network"
	case $nat_side in
	UNIX-RECVFROM:*)
		local path=${nat_side#UNIX-RECVFROM:}
		wait_until 10 test -S "${path%%,*}"
		;;
	esac
	ns_create
	start_tap tapside "$NS" tap0 TAP:tap0,netns="$NS",up "$tap_side"
	ns_dhcp "$NS" tap0
	[ "$(lease_get ip)" = 192.168.127.2 ]
	[ "$(lease_get router)" = 192.168.127.1 ]
	run -0 ns_curl "$NS" "http://192.168.127.254:$HTTP_PORT/"
	[ "$output" = "through $nat_side" ]
	kill -0 "$nat_pid"
}

@test "NAT over a stream: TAP <-> UNIX-CONNECT,frames=qemu <-> UNIX-LISTEN,frames=qemu NAT: DHCP and curl" {
	chain_dhcp_curl UNIX-LISTEN:"$T/nat.sock",frames=qemu UNIX-CONNECT:"$T/nat.sock",frames=qemu
}

@test "NAT over a stream with the default codec: a stream paired with TAP or NAT speaks qemu" {
	chain_dhcp_curl UNIX-LISTEN:"$T/nat.sock" UNIX-CONNECT:"$T/nat.sock"
}

@test "NAT over a stream: one side says frames=qemu, the other relies on the default" {
	chain_dhcp_curl UNIX-LISTEN:"$T/nat.sock" UNIX-CONNECT:"$T/nat.sock",frames=qemu
}

@test "NAT over a stream with hyperkit framing on both sides: DHCP and curl" {
	chain_dhcp_curl UNIX-LISTEN:"$T/nat.sock",frames=hyperkit UNIX-CONNECT:"$T/nat.sock",frames=hyperkit
}

@test "NAT over TCP on loopback with frames=qemu: DHCP and curl" {
	local port
	port=$(vnet freeport)
	chain_dhcp_curl TCP-LISTEN:"$port",bind=127.0.0.1,frames=qemu TCP:127.0.0.1:"$port",frames=qemu
}

@test "NAT over UNIX-SEQPACKET: TAP <-> UNIX-SEQPACKET <-> UNIX-SEQPACKET-LISTEN NAT: DHCP and curl" {
	chain_dhcp_curl UNIX-SEQPACKET-LISTEN:"$T/nat.sp" UNIX-SEQPACKET:"$T/nat.sp"
}

@test "NAT over datagrams: TAP <-> UNIX-SENDTO,bind= <-> UNIX-RECVFROM NAT: DHCP and curl" {
	chain_dhcp_curl UNIX-RECVFROM:"$T/nat.dg" UNIX-SENDTO:"$T/nat.dg",bind="$T/tap.dg"
}

@test "NAT over datagrams, vfkit style: a VFKT greeting first, then a DHCP DISCOVER gets an OFFER of .2" {
	start_vrelay nat UNIX-RECVFROM:"$T/nat.dg" NAT
	wait_until 10 test -S "$T/nat.dg"
	run -0 timeout 30 python3 "$VFRAME" dhcp dgram:"$T/nat.dg" --bind "$T/vfkit.dg" --greet VFKT \
		--mac 02:00:00:00:00:51
	[ "$output" = "offer 192.168.127.2 mask 255.255.255.0 router 192.168.127.1 dns 192.168.127.1 mtu 1500" ]
	# the greeting was not a frame: nothing was counted as malformed
	run -0 stats_now "$RELAY_PID" "$RELAY_LOG"
	[ "$(stat_value "$output" malformed)" = 0 ]
}

@test "NAT over a qemu stream without a TAP: a python DHCP client gets .2 with router, DNS and MTU" {
	start_relay nat UNIX-LISTEN:"$T/nat.sock" NAT
	run -0 timeout 30 python3 "$VFRAME" dhcp unix:"$T/nat.sock" --codec qemu --mac 02:00:00:00:00:52
	[ "$output" = "offer 192.168.127.2 mask 255.255.255.0 router 192.168.127.1 dns 192.168.127.1 mtu 1500" ]
}

# ---- switch mode: several guests on one engine ----------------------------------------

@test "NAT switch (-M): two namespaces get different leases, reach each other (ping, TCP) and the host" {
	need_cmd ping iputils-ping
	host_http "switch"
	start_relay sw -M UNIX-LISTEN:"$T/sw" NAT
	local sw_pid=$RELAY_PID ns1 ns2 ip1 ip2
	ns_create
	ns1=$NS
	start_tap t1 "$ns1" tap0 TAP:tap0,netns="$ns1",up UNIX-CONNECT:"$T/sw",frames=qemu
	ns_dhcp "$ns1" tap0
	ip1=$(lease_get ip)
	ns_create
	ns2=$NS
	start_tap t2 "$ns2" tap0 TAP:tap0,netns="$ns2",up UNIX-CONNECT:"$T/sw",frames=qemu
	ns_dhcp "$ns2" tap0
	ip2=$(lease_get ip)
	echo "leases: $ip1 $ip2"
	[ "$ip1" = 192.168.127.2 ]
	[ "$ip2" = 192.168.127.3 ]
	# guest to guest
	run -0 ns_exec "$ns1" ping -c 1 -W 5 "$ip2"
	[[ "$output" == *"1 received"* ]]
	start_ns_vnet echo2 "$ns2" echo tcp:0.0.0.0:7000
	run -0 ns_exec "$ns1" timeout 20 python3 "$VNET" client tcp:"$ip2":7000 --text "one to two"
	[ "$output" = "one to two" ]
	# both to the host
	run -0 ns_curl "$ns1" "http://192.168.127.254:$HTTP_PORT/"
	[ "$output" = switch ]
	run -0 ns_curl "$ns2" "http://192.168.127.254:$HTTP_PORT/"
	[ "$output" = switch ]
	kill -0 "$sw_pid"
}

# ---- bad input ------------------------------------------------------------------------

@test "NAT switch: garbage frames, a corrupt length and a truncated frame end only their own links; the engine keeps serving and counts the drops" {
	API="$T/api.sock"
	host_http "still serving"
	start_relay sw -M UNIX-LISTEN:"$T/sw" NAT,api="$API"
	local sw_pid=$RELAY_PID sw_log=$T/sw.log
	ns_create
	start_tap t1 "$NS" tap0 TAP:tap0,netns="$NS",up UNIX-CONNECT:"$T/sw",frames=qemu
	ns_dhcp "$NS" tap0

	# random frames, runts shorter than an Ethernet header, a bare header
	run -0 timeout 30 python3 "$VFRAME" garbage unix:"$T/sw" --codec qemu -n 60 --seed 7
	# a length no qemu peer can send: that link ends, with one clear line
	run -0 timeout 30 python3 "$VFRAME" garbage unix:"$T/sw" --codec qemu -n 3 --bad-length 4294967280 --wait-eof
	[ "$output" = eof ]
	grep -E 'UNIX-LISTEN:.*length' "$sw_log"
	# a frame cut short by EOF
	run -0 timeout 30 python3 "$VFRAME" garbage unix:"$T/sw" --codec qemu -n 0 --truncate 1000 --wait-eof
	[ "$output" = eof ]

	# the engine is still there and the first guest still works
	kill -0 "$sw_pid"
	run -0 ns_curl "$NS" "http://192.168.127.254:$HTTP_PORT/"
	[ "$output" = "still serving" ]
	api /stats >"$T/stats.json"
	cat "$T/stats.json"
	[ "$(json_get DroppedMalformed <"$T/stats.json")" -gt 0 ]
	[ "$(json_get Links <"$T/stats.json")" = 1 ]
	# and a new guest still gets a lease
	local first=$NS
	ns_create
	start_tap t2 "$NS" tap0 TAP:tap0,netns="$NS",up UNIX-CONNECT:"$T/sw",frames=qemu
	ns_dhcp "$NS" tap0
	[ "$(lease_get ip)" != "$(lease_get ip "$BATS_TEST_TMPDIR/lease-$first")" ]
	# SIGUSR1 statistics say the same
	run -0 stats_now "$sw_pid" "$sw_log"
	[ "$(stat_value "$output" malformed)" -gt 0 ]
}

@test "NAT switch: a flood of 1000 DHCP DISCOVERs from random MACs does not starve a real guest" {
	host_http "after the flood"
	start_relay sw -M UNIX-LISTEN:"$T/sw" NAT
	local sw_pid=$RELAY_PID
	run -0 timeout 120 python3 "$VFRAME" flood unix:"$T/sw" --codec qemu -n 1000
	echo "$output"
	[[ "$output" == "sent 1000 offers "* ]]
	kill -0 "$sw_pid"
	ns_create
	start_tap t1 "$NS" tap0 TAP:tap0,netns="$NS",up UNIX-CONNECT:"$T/sw",frames=qemu
	ns_dhcp "$NS" tap0
	[[ "$(lease_get ip)" == 192.168.127.* ]]
	run -0 ns_curl "$NS" "http://192.168.127.254:$HTTP_PORT/"
	[ "$output" = "after the flood" ]
}

@test "NAT: an oversize frame (9000 bytes on an MTU-1500 link) is dropped and counted; the next frame is served" {
	API="$T/api.sock"
	start_relay nat -M UNIX-LISTEN:"$T/nat.sock" NAT,api="$API"
	run -0 timeout 30 python3 "$VFRAME" dhcp unix:"$T/nat.sock" --codec qemu --before-sizes 9000 \
		--mac 02:00:00:00:00:53
	[[ "$output" == "offer 192.168.127.2 "* ]]
	kill -0 "$RELAY_PID"
	# counted in the SIGUSR1 statistics and in the API's /stats
	run -0 stats_now "$RELAY_PID" "$T/nat.log"
	[ "$(stat_value "$output" "too long")" = 1 ]
	[ "$(api_stat DroppedOversize)" = 1 ]
	[ "$(api_stat DroppedPackets)" = 1 ]
}

@test "NAT mtu=9000: a 9000-byte frame is within the limit, not counted as a drop" {
	API="$T/api.sock"
	start_relay nat -M UNIX-LISTEN:"$T/nat.sock" NAT,mtu=9000,api="$API"
	run -0 timeout 30 python3 "$VFRAME" dhcp unix:"$T/nat.sock" --codec qemu --before-sizes 9000 \
		--mac 02:00:00:00:00:54
	[ "$output" = "offer 192.168.127.2 mask 255.255.255.0 router 192.168.127.1 dns 192.168.127.1 mtu 9000" ]
	run -0 stats_now "$RELAY_PID" "$T/nat.log"
	[ "$(stat_value "$output" "too long")" = 0 ]
	[ "$(api_stat DroppedOversize)" = 0 ]
}

# ---- usage errors ------------------------------------------------------------------------

# nat_usage_error OPTIONS - "vrelay UNIX-LISTEN:$T/s NAT,OPTIONS" is exit 2
# with one line naming "NAT,OPTIONS", and the listener was never made
nat_usage_error() {
	run -2 --separate-stderr timeout 10 "$VRELAY" UNIX-LISTEN:"$T/s" "NAT,$1"
	echo "stderr: $stderr"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "vrelay: NAT,$1: "* ]]
	[ ! -e "$T/s" ]
}

@test "NAT usage: a bad subnet= is exit 2, one line" {
	nat_usage_error subnet=192.168.127.0/33
	[[ "$stderr" == *subnet* ]]
	nat_usage_error subnet=bogus
	[[ "$stderr" == *subnet* ]]
}

@test "NAT usage: mtu=70000 is exit 2, one line that gives the limit" {
	nat_usage_error mtu=70000
	[[ "$stderr" == *mtu* ]]
	[[ "$stderr" == *65520* ]]
}

@test "NAT usage: forward=sctp:... is exit 2, one line" {
	nat_usage_error forward=sctp:8080:192.168.127.2:80
	[[ "$stderr" == *forward* ]]
}

@test "NAT usage: dns-zone= without records is exit 2, one line" {
	nat_usage_error dns-zone=test.internal
	[[ "$stderr" == *dns-zone* ]]
}

@test "NAT usage: a gateway outside the subnet is exit 2, one line" {
	nat_usage_error subnet=10.77.0.0/24,gateway=192.168.127.1
	[[ "$stderr" == *gateway* ]]
}

@test "NAT usage: a fork listener before a NAT is exit 2 (every child's forwards and API would clash), one line" {
	run -2 --separate-stderr timeout 10 "$VRELAY" UNIX-LISTEN:"$T/s",fork NAT,forward=tcp:18099:192.168.127.2:80
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "vrelay: NAT,forward=tcp:18099:192.168.127.2:80: with fork "*"-M"* ]]
	[ ! -e "$T/s" ]
}

@test "NAT usage: NAT to NAT is exit 2, one line" {
	run -2 --separate-stderr timeout 10 "$VRELAY" NAT NAT,mtu=9000
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "vrelay: NAT,mtu=9000: a NAT needs a link to a guest"* ]]
}

@test "NAT usage: frames= on a frame address is exit 2, one line" {
	run -2 --separate-stderr timeout 10 "$VRELAY" UNIX-LISTEN:"$T/s" NAT,frames=qemu
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "vrelay: NAT,frames=qemu: NAT carries one frame per message"* ]]
	[ ! -e "$T/s" ]
}

@test "NAT: a guest's frames to 127.0.0.1 or to a free address of the network are dropped and counted, never sent on" {
	API="$T/api.sock"
	start_relay nat -M UNIX-LISTEN:"$T/nat.sock" NAT,api="$API"
	# the gateway answers ping; 127.0.0.1 (the host's own loopback, which
	# only the host alias may lead to) and .77 (no one's) do not
	run -0 timeout 30 python3 "$VFRAME" probe unix:"$T/nat.sock" --codec qemu \
		--src 192.168.127.9 --via 192.168.127.1 --ip 192.168.127.1 --ping-sizes 98 --wait 1
	[[ "$output" == *"echo-reply 1 98"* ]]
	run -0 timeout 30 python3 "$VFRAME" probe unix:"$T/nat.sock" --codec qemu \
		--src 192.168.127.9 --via 192.168.127.1 --ip 127.0.0.1 --ping-sizes 98 --wait 2
	[[ "$output" == *"no-reply 1"* ]]
	run -0 timeout 30 python3 "$VFRAME" probe unix:"$T/nat.sock" --codec qemu \
		--src 192.168.127.9 --via 192.168.127.1 --ip 192.168.127.77 --ping-sizes 98 --wait 2
	[[ "$output" == *"no-reply 1"* ]]
	[ "$(api_stat DroppedUnroutable)" = 2 ]
}
