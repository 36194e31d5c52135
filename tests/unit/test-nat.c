/* SPDX-License-Identifier: MIT */
/*
 * test-nat.c - the NAT engine driven through nat.h alone, as a library
 * user would: a loop, an engine, a link whose frames land in a buffer.
 * No command line; one fd of our own, a listener on 127.0.0.1 for the
 * SYN backlog's flows to connect to.  TAP on stdout.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
	/* broadcast to, from the guest: the order is right */
	/* NOLINTNEXTLINE(readability-suspicious-call-argument) */
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

/* A SYN from 192.168.127.@host:@sport (MAC 02::@host) to the host alias's
 * @dport; @csum_ok false spoils the IPv4 header checksum.  Nobody is to
 * answer libslirp's SYN-ACK here: the flows stay half-open */
static size_t tcp_syn(uint8_t host, uint16_t sport, uint16_t dport, bool csum_ok, uint8_t *out)
{
	static const uint8_t alias_mac[6] = { 0x52, 0x55, 0xc0, 0xa8, 0x7f, 0xfe };
	uint8_t *ip = out + 14, *tcp = ip + 20;
	uint32_t sum = 0;

	memset(out, 0, 54);
	memcpy(out, alias_mac, 6);
	memcpy(out + 6, guest_mac, 6);
	out[11] = host;
	out[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, "\xc0\xa8\x7f", 3);
	ip[15] = host;
	memcpy(ip + 16, "\xc0\xa8\x7f\xfe", 4);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
	if (!csum_ok)
		ip[11] ^= 0x5a;
	tcp[0] = (uint8_t)(sport >> 8);
	tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	tcp[7] = 1;		/* ISN 1 */
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;		/* SYN */
	tcp[14] = 0xff;
	sum = IPPROTO_TCP + 20;
	for (int i = 12; i < 40; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	tcp[16] = (uint8_t)(~sum >> 8);
	tcp[17] = (uint8_t)~sum;
	return 54;
}

/* The SYN backlog: NAT_SYN_BACKLOG_LINK per link, freed when the link goes */
static void test_syn_backlog(struct nat *nat, struct nat_link *link)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = { htonl(INADDR_LOOPBACK) } };
	socklen_t salen = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct nat_link *other = nat_link_new(nat, take, NULL);
	struct nat_stats st0, st;
	uint8_t frame[64];
	uint16_t port;

	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 512) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &salen) < 0 || !other) {
		ok(false, "a listener on 127.0.0.1 and a second link");
		return;
	}
	port = ntohs(sa.sin_port);
	nat_get_stats(nat, &st0);
	for (unsigned i = 0; i < NAT_SYN_BACKLOG_LINK + 10; i++)
		nat_link_input(link, frame, tcp_syn(9, (uint16_t)(20000 + i), port, true, frame));
	/* the same SYN again is a retransmission, not a new flow */
	nat_link_input(link, frame, tcp_syn(9, 20000, port, true, frame));
	nat_get_stats(nat, &st);
	ok(st.tcp_half_open == NAT_SYN_BACKLOG_LINK && st.drop_syn_backlog == 10,
	   "SYNs of one link: %u half-open, %llu over the backlog dropped", st.tcp_half_open,
	   (unsigned long long)st.drop_syn_backlog);
	nat_link_input(other, frame, tcp_syn(10, 30000, port, true, frame));
	nat_get_stats(nat, &st);
	ok(st.tcp_half_open == NAT_SYN_BACKLOG_LINK + 1 && st.drop_syn_backlog == 10,
	   "another link's SYN still has room");
	nat_link_input(other, frame, tcp_syn(10, 30001, port, false, frame));
	nat_get_stats(nat, &st);
	ok(st.drop_malformed == st0.drop_malformed + 1 && st.tcp_half_open == NAT_SYN_BACKLOG_LINK + 1,
	   "a bad IPv4 header checksum is malformed, and takes no place");
	nat_link_free(link);
	nat_get_stats(nat, &st);
	ok(st.tcp_half_open == 1, "a link that goes takes its half-open flows with it (%u left)",
	   st.tcp_half_open);
	nat_link_free(other);
	close(ls);
}

int main(void)
{
	struct loop *loop = loop_new();
	struct nat_config conf;
	struct nat_stats st;
	struct nat_fwd fwd = { .host_port = 0 }, list[4];
	struct errbuf err;
	struct netpkt p = { 0 };	/* read below even when no frame came to parse */
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

	test_syn_backlog(nat, link);
	nat_get_stats(nat, &st);
	ok(st.links == 0 && st.tcp_half_open == 0, "the links detach");
	nat_free(nat);
	loop_free(loop);
	return tap_end();
}
