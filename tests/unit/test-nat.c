/* SPDX-License-Identifier: MIT */
/*
 * test-nat.c - the NAT engine driven through nat.h alone, as a library
 * user would: a loop, an engine, a link whose frames land in a buffer.
 * No command line, no fds of our own; TAP on stdout.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "loop.h"
#include "nat.h"
#include "netpkt.h"
#include "tap.h"

/* What the engine sent the link: the last frame, and how many */
static uint8_t last[2048];
static size_t last_len;
static unsigned nout;

static int take(void *arg, const uint8_t *frame, size_t len)
{
	if (len <= sizeof(last)) {
		memcpy(last, frame, len);
		last_len = len;
	}
	nout++;
	return 0;
}

static const uint8_t guest_mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static size_t dhcp_discover(uint8_t *out, size_t cap)
{
	uint8_t b[300] = { 0 };
	struct in_addr any = { 0 }, all = { INADDR_BROADCAST };
	size_t n = 240;

	b[0] = 1;	/* BOOTREQUEST, Ethernet, 6-byte addresses */
	b[1] = 1;
	b[2] = 6;
	b[4] = 0x12;	/* xid */
	b[7] = 0x34;
	memcpy(b + 28, guest_mac, 6);
	memcpy(b + 236, "\x63\x82\x53\x63", 4);
	b[n++] = 53;	/* DHCPDISCOVER */
	b[n++] = 1;
	b[n++] = 1;
	b[n++] = 255;
	return netpkt_udp4_build(bcast, guest_mac, any, all, 68, 67, b, sizeof(b), out, cap);
}

static size_t arp_who_has(const char *ip, uint8_t *out)
{
	struct in_addr tip, sip;

	inet_pton(AF_INET, ip, &tip);
	inet_pton(AF_INET, "192.168.127.2", &sip);
	memcpy(out, bcast, 6);
	memcpy(out + 6, guest_mac, 6);
	memcpy(out + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
	memcpy(out + 22, guest_mac, 6);
	memcpy(out + 28, &sip, 4);
	memset(out + 32, 0, 6);
	memcpy(out + 38, &tip, 4);
	return 42;
}

int main(void)
{
	struct loop *loop = loop_new();
	struct nat_config conf;
	struct nat_stats st;
	struct nat_fwd fwd = { .host_port = 0 }, list[4];
	struct errbuf err;
	struct netpkt p;
	struct nat *nat;
	struct nat_link *link;
	uint8_t frame[2048];
	size_t n;

	nat_config_defaults(&conf);
	ok(conf.mtu == 1500 && conf.ipv6, "defaults: MTU 1500, IPv6 on");
	nat = nat_new(loop, &conf, &err);
	ok(nat != NULL, "nat_new with the defaults");
	if (!nat)
		return 1;
	link = nat_link_new(nat, take, NULL);
	ok(link != NULL, "a link attaches");

	/* DHCP: the first lease, from the gateway */
	n = dhcp_discover(frame, sizeof(frame));
	nout = 0;
	nat_link_input(link, frame, n);
	ok(nout == 1 && netpkt_parse(last, last_len, &p) == 0 && p.proto == IPPROTO_UDP &&
	   p.sport == 67 && p.dport == 68, "a DISCOVER is answered at once (UDP 67 -> 68)");
	ok(p.plen > 20 && !memcmp(p.payload + 16, "\xc0\xa8\x7f\x02", 4),
	   "the offer is 192.168.127.2");
	ok(p.src4.s_addr == conf.gateway.s_addr, "from the gateway");

	/* ARP: vrelay answers for the gateway, libslirp for the host alias */
	nout = 0;
	nat_link_input(link, frame, arp_who_has("192.168.127.1", frame));
	ok(nout == 1 && last_len >= 42 && last[21] == 2 &&
	   !memcmp(last + 28, "\xc0\xa8\x7f\x01", 4), "ARP for the gateway is answered");
	nout = 0;
	nat_link_input(link, frame, arp_who_has("192.168.127.254", frame));
	ok(nout == 1 && last[21] == 2 && !memcmp(last + 28, "\xc0\xa8\x7f\xfe", 4),
	   "ARP for the host alias is answered");
	nout = 0;
	nat_link_input(link, frame, arp_who_has("192.168.127.99", frame));
	ok(nout == 0, "ARP for a free address is not");

	/* bad frames are counted, not fatal */
	nat_link_input(link, frame, 10);
	memset(frame, 0, 1600);
	nat_link_input(link, frame, 1600);
	nat_get_stats(nat, &st);
	ok(st.drop_malformed == 1 && st.drop_oversize == 1,
	   "a runt and an oversize frame are counted (%llu malformed, %llu oversize)",
	   (unsigned long long)st.drop_malformed, (unsigned long long)st.drop_oversize);
	ok(st.dhcp_replies == 1 && st.links == 1, "statistics: one DHCP reply, one link");

	/* forwards through the API functions */
	inet_pton(AF_INET, "127.0.0.1", &fwd.host_addr);
	inet_pton(AF_INET, "192.168.127.2", &fwd.guest_addr);
	fwd.guest_port = 22;
	for (fwd.host_port = 40000; fwd.host_port < 40100; fwd.host_port++)
		if (nat_expose(nat, &fwd, &err) == 0)
			break;
	ok(nat_forwards(nat, list, 4) == 1 && list[0].guest_port == 22, "a forward is listed");
	ok(nat_expose(nat, &fwd, &err) == -EEXIST, "the same host port twice: -EEXIST");
	ok(nat_unexpose(nat, &fwd, &err) == 0 && nat_forwards(nat, list, 4) == 0,
	   "unexposed: the list is empty");
	ok(nat_unexpose(nat, &fwd, &err) == -ENOENT, "unexposed twice: -ENOENT");

	nat_link_free(link);
	nat_get_stats(nat, &st);
	ok(st.links == 0, "the link detaches");
	nat_free(nat);
	loop_free(loop);
	return tap_end();
}
