/* SPDX-License-Identifier: MIT */
/*
 * test-netsvc.c - unit tests of src/netpkt.c, src/dhcp4.c and src/dnszone.c,
 *		   TAP on stdout
 *
 * Frames are built here by hand, with a checksum routine of the test's own,
 * and every checksum the code under test writes is verified by recomputing
 * it in full.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp4.h"
#include "dnszone.h"
#include "netpkt.h"
#include "tap.h"

static const uint8_t mac_guest[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mac_gw[6] = { 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct in_addr ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	inet_pton(AF_INET6, s, &a);
	return a;
}

static uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void wr16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* One's complement sum of @n bytes, folded, not complemented */
static uint32_t tsum(uint32_t s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s += i & 1 ? b[i] : (uint32_t)b[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* Checksum field value for data whose checksum field is zero */
static uint16_t tcsum(uint32_t s, const uint8_t *b, size_t n)
{
	return (uint16_t)~tsum(s, b, n);
}

/* Pseudo-header sum for an L4 segment of @len bytes of @proto */
static uint32_t pseudo(const uint8_t *frame, uint8_t proto, size_t len)
{
	uint8_t t[4] = { 0, 0, 0, proto };
	uint32_t s;

	if (rd16(frame + 12) == 0x0800) {
		s = tsum(0, frame + 14 + 12, 8);
	} else {
		s = tsum(0, frame + 14 + 8, 32);
	}
	s = tsum(s, t, 4);
	t[2] = (uint8_t)(len >> 8);
	t[3] = (uint8_t)len;
	t[0] = t[1] = 0;
	return tsum(s, t + 2, 2);
}

/* The IPv4 header checksum of the frame is right */
static int ip4_csum_ok(const uint8_t *frame)
{
	const uint8_t *ip = frame + 14;

	return tsum(0, ip, (size_t)(ip[0] & 15) * 4) == 0xffff;
}

/* The L4 checksum (with pseudo-header) at @l4 of @len bytes is right;
 * offset of the field within the L4 header is implied by @proto */
static int l4_csum_ok(const uint8_t *frame, size_t l4, uint8_t proto, size_t len)
{
	return tsum(pseudo(frame, proto, len), frame + l4, len) == 0xffff;
}

/* An IPv4 header at @ip, no options, checksum set */
static void mk_ip4(uint8_t *ip, size_t total, uint8_t proto, const char *src, const char *dst)
{
	struct in_addr s = ip4(src), d = ip4(dst);

	memset(ip, 0, 20);
	ip[0] = 0x45;
	wr16(ip + 2, (unsigned)total);
	wr16(ip + 4, 0x1c46);
	wr16(ip + 6, 0x4000);	/* DF */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	wr16(ip + 10, tcsum(0, ip, 20));
}

static size_t mk_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], unsigned type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	wr16(f + 12, type);
	return 14;
}

/* A UDP/IPv4 frame; the UDP checksum is set unless @nocsum */
static size_t mk_udp4(uint8_t *f, const char *src, const char *dst, unsigned sport, unsigned dport,
		      const void *data, size_t n, int nocsum)
{
	uint8_t *u = f + 34;

	mk_eth(f, mac_gw, mac_guest, 0x0800);
	mk_ip4(f + 14, 28 + n, 17, src, dst);
	wr16(u, sport);
	wr16(u + 2, dport);
	wr16(u + 4, (unsigned)(8 + n));
	wr16(u + 6, 0);
	memcpy(u + 8, data, n);
	if (!nocsum) {
		uint16_t c = tcsum(pseudo(f, 17, 8 + n), u, 8 + n);

		wr16(u + 6, c ? c : 0xffff);
	}
	return 42 + n;
}

/* A TCP/IPv4 SYN with an MSS option and @n bytes of data */
static size_t mk_tcp4(uint8_t *f, const char *src, const char *dst, const void *data, size_t n)
{
	uint8_t *t = f + 34;

	mk_eth(f, mac_gw, mac_guest, 0x0800);
	mk_ip4(f + 14, 20 + 24 + n, 6, src, dst);
	memset(t, 0, 24);
	wr16(t, 40000);
	wr16(t + 2, 443);
	t[4] = 0x12;	/* seq */
	t[12] = 6 << 4;	/* 24-byte header */
	t[13] = 0x02;
	wr16(t + 14, 64240);
	t[20] = 2;
	t[21] = 4;
	wr16(t + 22, 1460);
	memcpy(t + 24, data, n);
	wr16(t + 16, tcsum(pseudo(f, 6, 24 + n), t, 24 + n));
	return 14 + 20 + 24 + n;
}

/* A UDP/IPv6 frame */
static size_t mk_udp6(uint8_t *f, const char *src, const char *dst, unsigned sport, unsigned dport,
		      const void *data, size_t n)
{
	uint8_t *ip = f + 14, *u = ip + 40;
	struct in6_addr s = ip6(src), d = ip6(dst);

	mk_eth(f, mac_gw, mac_guest, 0x86dd);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	wr16(ip + 4, (unsigned)(8 + n));
	ip[6] = 17;
	ip[7] = 255;
	memcpy(ip + 8, &s, 16);
	memcpy(ip + 24, &d, 16);
	wr16(u, sport);
	wr16(u + 2, dport);
	wr16(u + 4, (unsigned)(8 + n));
	wr16(u + 6, 0);
	memcpy(u + 8, data, n);
	wr16(u + 6, tcsum(pseudo(f, 17, 8 + n), u, 8 + n));
	return 62 + n;
}

/* An ICMP echo request with @n bytes of data */
static size_t mk_ping(uint8_t *f, const char *src, const char *dst, size_t n)
{
	uint8_t *m = f + 34;

	mk_eth(f, mac_gw, mac_guest, 0x0800);
	mk_ip4(f + 14, 28 + n, 1, src, dst);
	m[0] = 8;
	m[1] = 0;
	wr16(m + 2, 0);
	wr16(m + 4, 0x1234);
	wr16(m + 6, 7);
	for (size_t i = 0; i < n; i++)
		m[8 + i] = (uint8_t)(i * 7 + 1);
	wr16(m + 2, tcsum(0, m, 8 + n));
	return 42 + n;
}

static void test_parse(void)
{
	/* an ARP request as a Linux guest sends it, padded to 60 bytes */
	static const uint8_t arp[60] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
		0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 192, 168, 127, 2,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192, 168, 127, 1,
	};
	static const uint8_t vlan[64] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
		0x81, 0x00, 0x00, 0x05, 0x08, 0x00, 0x45,
	};
	uint8_t f[1600], r[1600];
	struct netpkt p, q;
	size_t n;
	int bad;

	ok(netpkt_parse(arp, sizeof(arp), &p) == 0 && p.ethertype == 0x0806 && p.ipver == 0 &&
		   p.arp_op == 1 && p.arp_sip.s_addr == ip4("192.168.127.2").s_addr &&
		   p.arp_tip.s_addr == ip4("192.168.127.1").s_addr &&
		   !memcmp(p.arp_sha, mac_guest, 6) && !memcmp(p.src_mac, mac_guest, 6) &&
		   !memcmp(p.dst_mac, mac_bcast, 6),
	   "parse an ARP request");
	n = netpkt_arp_reply(&p, mac_gw, r, sizeof(r));
	ok(n == 42 && !memcmp(r, mac_guest, 6) && !memcmp(r + 6, mac_gw, 6) &&
		   rd16(r + 12) == 0x0806 && rd16(r + 14) == 1 && rd16(r + 16) == 0x0800 &&
		   r[18] == 6 && r[19] == 4 && rd16(r + 20) == 2 && !memcmp(r + 22, mac_gw, 6) &&
		   !memcmp(r + 28, arp + 38, 4) && !memcmp(r + 32, mac_guest, 6) &&
		   !memcmp(r + 38, arp + 28, 4),
	   "ARP reply: to the asker, op 2, sender %s, target the asker", "192.168.127.1");
	ok(netpkt_parse(r, n, &q) == 0 && q.arp_op == 2 && netpkt_arp_reply(&q, mac_gw, f, 60) == 0,
	   "no ARP reply to a reply");
	ok(netpkt_arp_reply(&p, mac_gw, f, 41) == 0, "no ARP reply into 41 bytes");
	ok(netpkt_parse(arp, 30, &p) < 0, "truncated ARP rejected");
	ok(netpkt_parse(vlan, sizeof(vlan), &p) == 0 && p.ipver == 0 && p.ethertype == 0x8100,
	   "802.1Q frame: parsed, not IP");

	/* UDP/IPv4: a DNS query, then with Ethernet padding */
	n = mk_udp4(f, "192.168.127.2", "192.168.127.1", 53001, 53, "\x12\x34query", 7, 0);
	ok(netpkt_parse(f, n, &p) == 0 && p.ipver == 4 && p.proto == 17 && !p.frag &&
		   p.src4.s_addr == ip4("192.168.127.2").s_addr &&
		   p.dst4.s_addr == ip4("192.168.127.1").s_addr && p.sport == 53001 &&
		   p.dport == 53 && p.l3_off == 14 && p.l4_off == 34 && p.payload == f + 42 &&
		   p.plen == 7 && !memcmp(p.src_mac, mac_guest, 6),
	   "parse UDP/IPv4");
	memset(f + n, 0xee, 60 - n);
	ok(n < 60 && netpkt_parse(f, 60, &p) == 0 && p.plen == 7, "padding is not payload");
	bad = 0;
	for (size_t l = 0; l < n; l++)
		bad += netpkt_parse(f, l, &p) == 0;
	ok(!bad, "UDP/IPv4 truncated at every length rejected (%d accepted)", bad);
	f[14] = 0x44;
	ok(netpkt_parse(f, n, &p) < 0, "IHL 4 rejected");
	f[14] = 0x4f;
	ok(netpkt_parse(f, n, &p) < 0, "IHL beyond the total length rejected");
	f[14] = 0x45;
	wr16(f + 16, (unsigned)(n - 14 + 1));
	ok(netpkt_parse(f, n, &p) < 0, "IP total length beyond the frame rejected");
	wr16(f + 16, 19);
	ok(netpkt_parse(f, n, &p) < 0, "IP total length below the header rejected");
	wr16(f + 16, (unsigned)(n - 14));
	wr16(f + 38, 16);
	ok(netpkt_parse(f, n, &p) < 0, "UDP length beyond the IP payload rejected");
	wr16(f + 38, 7);
	ok(netpkt_parse(f, n, &p) < 0, "UDP length below 8 rejected");
	wr16(f + 38, 8);
	ok(netpkt_parse(f, n, &p) == 0 && p.plen == 0, "UDP length shorter than IP's: UDP's counts");
	f[14] = 0x65;
	ok(netpkt_parse(f, n, &p) < 0, "version 6 in an IPv4 ethertype rejected");
	f[14] = 0x45;
	wr16(f + 20, 0x2000);	/* MF */
	ok(netpkt_parse(f, n, &p) == 0 && p.frag && p.proto == 17 && p.dport == 0 && !p.payload,
	   "first fragment: proto known, no ports");

	n = mk_tcp4(f, "192.168.127.2", "1.1.1.1", "GET", 3);
	ok(netpkt_parse(f, n, &p) == 0 && p.proto == 6 && p.sport == 40000 && p.dport == 443 &&
		   p.l4_off == 34 && p.payload == f + 58 && p.plen == 3,
	   "parse TCP/IPv4 with options");
	f[34 + 12] = 0xf0;
	ok(netpkt_parse(f, n, &p) < 0, "TCP data offset beyond the segment rejected");

	n = mk_udp6(f, "fd00::2", "fd00::1", 5353, 53, "abc", 3);
	ok(netpkt_parse(f, n, &p) == 0 && p.ipver == 6 && p.proto == 17 &&
		   !memcmp(&p.src6, ip6("fd00::2").s6_addr, 16) &&
		   !memcmp(&p.dst6, ip6("fd00::1").s6_addr, 16) && p.sport == 5353 &&
		   p.dport == 53 && p.l4_off == 54 && p.plen == 3 && p.payload == f + 62,
	   "parse UDP/IPv6");
	bad = 0;
	for (size_t l = 0; l < n; l++)
		bad += netpkt_parse(f, l, &p) == 0;
	ok(!bad, "UDP/IPv6 truncated at every length rejected (%d accepted)", bad);
	/* the same datagram behind a hop-by-hop header */
	memmove(f + 62, f + 54, 11);
	memset(f + 54, 0, 8);
	f[54] = 17;
	f[20] = 0;
	wr16(f + 18, 8 + 11);
	ok(netpkt_parse(f, n + 8, &p) == 0 && p.proto == 17 && p.l4_off == 62 && p.dport == 53 &&
		   p.plen == 3,
	   "IPv6 extension header skipped");
	f[55] = 4;
	ok(netpkt_parse(f, n + 8, &p) < 0, "IPv6 extension header past the end rejected");
	ok(netpkt_parse(f, 13, &p) < 0, "13-byte frame rejected");
}

static void test_icmp(void)
{
	uint8_t f[1600], r[1600];
	struct netpkt p, q;
	size_t n, m;

	n = mk_ping(f, "192.168.127.2", "8.8.8.8", 56);
	netpkt_parse(f, n, &p);
	m = netpkt_icmp4_echo_reply(f, n, &p, mac_gw, r, sizeof(r));
	ok(m == n && netpkt_parse(r, m, &q) == 0 && q.proto == 1 &&
		   q.src4.s_addr == ip4("8.8.8.8").s_addr &&
		   q.dst4.s_addr == ip4("192.168.127.2").s_addr && !memcmp(r, mac_guest, 6) &&
		   !memcmp(r + 6, mac_gw, 6) && r[22] == 64,
	   "echo reply: addresses and MACs swapped, TTL 64");
	ok(r[34] == 0 && r[35] == 0 && !memcmp(r + 38, f + 38, 4 + 56),
	   "echo reply: type 0, id, sequence and data kept");
	ok(ip4_csum_ok(r) && tsum(0, r + 34, 64) == 0xffff, "echo reply: IP and ICMP checksums");
	/* odd length */
	n = mk_ping(f, "192.168.127.2", "8.8.8.8", 33);
	netpkt_parse(f, n, &p);
	m = netpkt_icmp4_echo_reply(f, n, &p, mac_gw, r, sizeof(r));
	ok(m == n && ip4_csum_ok(r) && tsum(0, r + 34, 41) == 0xffff,
	   "echo reply with odd length: checksums");
	m = netpkt_icmp4_echo_reply(f, n, &p, mac_gw, f, sizeof(f));
	ok(m == n && ip4_csum_ok(f) && tsum(0, f + 34, 41) == 0xffff && f[34] == 0 &&
		   !memcmp(f + 30, &p.src4, 4) && !memcmp(f, mac_guest, 6),
	   "echo reply built in place");
	ok(netpkt_icmp4_echo_reply(f, n, &p, mac_gw, r, n - 1) == 0, "no echo reply into too little");
	netpkt_parse(f, n, &p);
	ok(netpkt_icmp4_echo_reply(f, n, &p, mac_gw, r, sizeof(r)) == 0, "no echo reply to a reply");
	n = mk_udp4(f, "192.168.127.2", "8.8.8.8", 1, 2, "x", 1, 0);
	netpkt_parse(f, n, &p);
	ok(netpkt_icmp4_echo_reply(f, n, &p, mac_gw, r, sizeof(r)) == 0, "no echo reply to UDP");
}

static void test_udp(void)
{
	uint8_t f[1600], r[1600];
	struct netpkt p, q;
	size_t n, m;

	n = mk_udp4(f, "192.168.127.2", "192.168.127.1", 40001, 53, "q", 1, 0);
	netpkt_parse(f, n, &p);
	m = netpkt_udp_reply(&p, mac_gw, (const uint8_t *)"answer", 6, r, sizeof(r));
	ok(m == 48 && netpkt_parse(r, m, &q) == 0 && q.ipver == 4 &&
		   q.src4.s_addr == p.dst4.s_addr && q.dst4.s_addr == p.src4.s_addr &&
		   q.sport == 53 && q.dport == 40001 && q.plen == 6 &&
		   !memcmp(q.payload, "answer", 6) && !memcmp(r, mac_guest, 6) &&
		   !memcmp(r + 6, mac_gw, 6) && r[22] == 64,
	   "UDP/IPv4 reply: addresses, ports, MACs, TTL");
	ok(ip4_csum_ok(r) && rd16(r + 40) != 0 && l4_csum_ok(r, 34, 17, 14),
	   "UDP/IPv4 reply: IP and UDP checksums");
	ok(netpkt_udp_reply(&p, mac_gw, (const uint8_t *)"answer", 6, r, 47) == 0,
	   "no UDP reply into too little");

	n = mk_udp6(f, "fd00::2", "fd00::1", 40002, 53, "q", 1);
	netpkt_parse(f, n, &p);
	m = netpkt_udp_reply(&p, mac_gw, (const uint8_t *)"answer!", 7, r, sizeof(r));
	ok(m == 69 && netpkt_parse(r, m, &q) == 0 && q.ipver == 6 &&
		   !memcmp(&q.src6, &p.dst6, 16) && !memcmp(&q.dst6, &p.src6, 16) &&
		   q.sport == 53 && q.dport == 40002 && q.plen == 7 && r[21] == 64 &&
		   rd16(r + 12) == 0x86dd,
	   "UDP/IPv6 reply: addresses, ports, hop limit");
	ok(rd16(r + 60) != 0 && l4_csum_ok(r, 54, 17, 15), "UDP/IPv6 reply: checksum set and right");
	n = mk_tcp4(f, "192.168.127.2", "1.1.1.1", "", 0);
	netpkt_parse(f, n, &p);
	ok(netpkt_udp_reply(&p, mac_gw, (const uint8_t *)"x", 1, r, sizeof(r)) == 0,
	   "no UDP reply to TCP");

	m = netpkt_udp4_build(NULL, mac_gw, ip4("192.168.127.1"), ip4("255.255.255.255"), 67, 68,
			      (const uint8_t *)"dhcp", 4, r, sizeof(r));
	ok(m == 46 && netpkt_parse(r, m, &q) == 0 && !memcmp(r, mac_bcast, 6) &&
		   q.dst4.s_addr == 0xffffffff && q.sport == 67 && q.dport == 68 &&
		   ip4_csum_ok(r) && l4_csum_ok(r, 34, 17, 12),
	   "udp4_build: broadcast frame, checksums");
}

static void test_rewrite(void)
{
	uint8_t f[1600];
	struct netpkt p;
	size_t n;
	int good = 1;

	n = mk_tcp4(f, "192.168.127.2", "192.168.127.254", "hello", 5);
	ok(netpkt_rewrite4(f, n, true, ip4("192.168.127.254"), ip4("127.0.0.1")) &&
		   netpkt_parse(f, n, &p) == 0 && p.dst4.s_addr == ip4("127.0.0.1").s_addr &&
		   ip4_csum_ok(f) && l4_csum_ok(f, 34, 6, 29),
	   "rewrite TCP destination: IP and TCP checksums right");
	ok(netpkt_rewrite4(f, n, false, ip4("192.168.127.2"), ip4("10.0.2.15")) && ip4_csum_ok(f) &&
		   l4_csum_ok(f, 34, 6, 29),
	   "rewrite TCP source: checksums right");
	ok(!netpkt_rewrite4(f, n, false, ip4("192.168.127.2"), ip4("10.0.2.16")),
	   "no rewrite when the address differs");

	n = mk_udp4(f, "192.168.127.2", "192.168.127.254", 1000, 2000, "datagram", 8, 0);
	ok(netpkt_rewrite4(f, n, true, ip4("192.168.127.254"), ip4("127.0.0.1")) &&
		   ip4_csum_ok(f) && l4_csum_ok(f, 34, 17, 16),
	   "rewrite UDP destination: checksums right");
	n = mk_udp4(f, "192.168.127.2", "192.168.127.254", 1000, 2000, "datagram", 8, 1);
	ok(netpkt_rewrite4(f, n, true, ip4("192.168.127.254"), ip4("127.0.0.1")) &&
		   ip4_csum_ok(f) && rd16(f + 40) == 0,
	   "rewrite UDP without checksum: stays 0");

	/* many addresses and payloads: the incremental update never drifts */
	/* a fixed seed: the same "random" cases on every run, reproducible */
	/* NOLINTBEGIN(cert-msc30-c,cert-msc32-c,cert-msc50-cpp,cert-msc51-cpp) */
	srand(1);
	for (int i = 0; i < 2000 && good; i++) {
		uint8_t data[32];
		struct in_addr a, b;
		char sa[16], sb[16];
		bool tcp = i & 1;

		for (size_t k = 0; k < sizeof(data); k++)
			data[k] = (uint8_t)rand();
		a.s_addr = (uint32_t)rand() ^ (uint32_t)rand() << 16;
		b.s_addr = i % 7 ? (uint32_t)rand() ^ (uint32_t)rand() << 16 : 0;
		inet_ntop(AF_INET, &a, sa, sizeof(sa));
		if (tcp)
			n = mk_tcp4(f, sa, "10.1.2.3", data, (size_t)i % 32);
		else
			n = mk_udp4(f, "10.1.2.3", sa, 9, 10, data, (size_t)i % 32, 0);
		inet_ntop(AF_INET, &b, sb, sizeof(sb));
		good = netpkt_rewrite4(f, n, !tcp, a, b) && ip4_csum_ok(f) &&
		       (tcp ? l4_csum_ok(f, 34, 6, 24 + (size_t)i % 32)
			    : l4_csum_ok(f, 34, 17, 8 + (size_t)i % 32) && rd16(f + 40) != 0);
		if (!good)
			printf("# rewrite %s -> %s failed\n", sa, sb);
	}
	/* NOLINTEND(cert-msc30-c,cert-msc32-c,cert-msc50-cpp,cert-msc51-cpp) */
	ok(good, "2000 random rewrites keep every checksum right");
}

/* ---- DHCP ---- */

static struct dhcp4_conf dhcp_conf(unsigned pool)
{
	struct dhcp4_conf c = { .pool = pool };

	c.server = ip4("192.168.127.1");
	c.netmask = ip4("255.255.255.0");
	c.router = ip4("192.168.127.1");
	c.dns = ip4("192.168.127.1");
	c.start = ip4("192.168.127.2");
	c.lease_secs = 3600;
	c.mtu = 1500;
	c.exclude = ip4("192.168.127.254");
	return c;
}

/**
 * struct dmsg - a client message to build
 */
struct dmsg {
	uint8_t type;
	uint8_t mac[6];
	uint32_t xid;
	const char *ciaddr, *req, *sid;
	int bcast;
};

/* The DHCP payload of @m into @b; returns its length */
static size_t mk_dhcp(uint8_t *b, const struct dmsg *m)
{
	uint8_t *o = b + 240;
	struct in_addr a;

	memset(b, 0, 300);
	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	b[4] = (uint8_t)(m->xid >> 24);
	b[5] = (uint8_t)(m->xid >> 16);
	b[6] = (uint8_t)(m->xid >> 8);
	b[7] = (uint8_t)m->xid;
	if (m->bcast)
		b[10] = 0x80;
	if (m->ciaddr) {
		a = ip4(m->ciaddr);
		memcpy(b + 12, &a, 4);
	}
	memcpy(b + 28, m->mac, 6);
	memcpy(b + 236, "\x63\x82\x53\x63", 4);
	*o++ = 53;
	*o++ = 1;
	*o++ = m->type;
	*o++ = 61;	/* client id, ignored */
	*o++ = 7;
	*o++ = 1;
	memcpy(o, m->mac, 6);
	o += 6;
	if (m->req) {
		a = ip4(m->req);
		*o++ = 50;
		*o++ = 4;
		memcpy(o, &a, 4);
		o += 4;
	}
	if (m->sid) {
		a = ip4(m->sid);
		*o++ = 54;
		*o++ = 4;
		memcpy(o, &a, 4);
		o += 4;
	}
	memcpy(o, "\x37\x04\x01\x03\x06\x1a", 6);	/* parameter request list */
	o += 6;
	*o++ = 255;
	return (size_t)(o - b);
}

/**
 * struct dreply - a parsed server reply
 */
struct dreply {
	size_t len;
	struct netpkt p;
	uint8_t type;
	struct in_addr yiaddr, ciaddr, sid, mask, router, dns;
	uint32_t lease;
	unsigned mtu;
	int has_lease, ended, ok;
};

static uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Send @m to @d at @now, parse what comes back */
static struct dreply dhcp_send(struct dhcp4 *d, const struct dmsg *m, double now)
{
	static uint8_t f[1600], out[1600];
	uint8_t b[600];
	struct dreply r;
	struct netpkt p;
	size_t n = mk_dhcp(b, m), i;
	const uint8_t *x;

	memset(&r, 0, sizeof(r));
	n = mk_udp4(f, m->ciaddr ? m->ciaddr : "0.0.0.0", "255.255.255.255", 68, 67, b, n, 0);
	memcpy(f, mac_bcast, 6);
	memcpy(f + 6, m->mac, 6);
	if (netpkt_parse(f, n, &p) < 0)
		return r;
	r.len = dhcp4_input(d, &p, mac_gw, now, out, sizeof(out));
	if (!r.len || netpkt_parse(out, r.len, &r.p) < 0)
		return r;
	x = r.p.payload;
	if (r.p.plen < 240 || x[0] != 2 || rd32(x + 4) != m->xid || memcmp(x + 28, m->mac, 6) ||
	    memcmp(x + 236, "\x63\x82\x53\x63", 4))
		return r;
	memcpy(&r.ciaddr, x + 12, 4);
	memcpy(&r.yiaddr, x + 16, 4);
	for (i = 240; i < r.p.plen && x[i] != 255;) {
		const uint8_t *v = x + i + 2;

		if (x[i] == 0) {
			i++;
			continue;
		}
		if (i + 2 > r.p.plen || i + 2 + x[i + 1] > r.p.plen)
			return r;
		switch (x[i]) {
		case 53: r.type = v[0]; break;
		case 54: memcpy(&r.sid, v, 4); break;
		case 51: r.lease = rd32(v); r.has_lease = 1; break;
		case 1: memcpy(&r.mask, v, 4); break;
		case 3: memcpy(&r.router, v, 4); break;
		case 6: memcpy(&r.dns, v, 4); break;
		case 26: r.mtu = rd16(v); break;
		}
		i += 2 + (size_t)x[i + 1];
	}
	r.ended = i < r.p.plen && x[i] == 255;
	r.ok = ip4_csum_ok(out) && l4_csum_ok(out, 34, 17, r.p.plen + 8) &&
	       !memcmp(out + 6, mac_gw, 6) && r.p.sport == 67 && r.p.dport == 68 &&
	       r.p.src4.s_addr == ip4("192.168.127.1").s_addr;
	return r;
}

static int bcast_to(const struct dreply *r)
{
	return r->p.dst4.s_addr == 0xffffffff && !memcmp(r->p.dst_mac, mac_bcast, 6);
}

static void test_dhcp(void)
{
	struct dhcp4_conf c = dhcp_conf(50);
	struct dhcp4 *d = dhcp4_new(&c);
	struct dmsg m = { .type = 1, .mac = { 2, 0, 0, 0, 0, 1 }, .xid = 0xdeadbeef };
	struct dmsg m2 = { .type = 1, .mac = { 2, 0, 0, 0, 0, 2 }, .xid = 42 };
	struct dreply r, r2;
	char a1[16], a2[16];
	double t = 1000;

	r = dhcp_send(d, &m, t);
	ok(r.type == 2 && r.ok && r.ended && bcast_to(&r), "DISCOVER -> OFFER, broadcast, checksums");
	ok(ntohl(r.yiaddr.s_addr) >= ntohl(c.start.s_addr) &&
		   ntohl(r.yiaddr.s_addr) < ntohl(c.start.s_addr) + 50 && r.ciaddr.s_addr == 0,
	   "OFFER: yiaddr from the pool");
	ok(r.sid.s_addr == c.server.s_addr && r.has_lease && r.lease == 3600 &&
		   r.mask.s_addr == c.netmask.s_addr && r.router.s_addr == c.router.s_addr &&
		   r.dns.s_addr == c.dns.s_addr && r.mtu == 1500,
	   "OFFER: options 54, 51, 1, 3, 6, 26");
	ok(r.len >= 14 + 20 + 8 + 300, "reply is at least BOOTP's 300 bytes");
	ok(dhcp4_leases(d) == 0, "an offer is not a lease");
	inet_ntop(AF_INET, &r.yiaddr, a1, sizeof(a1));

	m.type = 3;
	m.req = a1;
	m.sid = "192.168.127.1";
	r = dhcp_send(d, &m, t + 1);
	ok(r.type == 5 && r.ok && r.ended && bcast_to(&r) && r.yiaddr.s_addr == ip4(a1).s_addr &&
		   r.sid.s_addr == c.server.s_addr && r.lease == 3600 &&
		   r.mask.s_addr == c.netmask.s_addr && r.router.s_addr == c.router.s_addr &&
		   r.dns.s_addr == c.dns.s_addr && r.mtu == 1500,
	   "REQUEST (selecting) -> ACK %s with all options", a1);
	ok(dhcp4_leases(d) == 1, "one lease bound");

	m.type = 1;
	m.req = m.sid = NULL;
	r = dhcp_send(d, &m, t + 2);
	ok(r.type == 2 && r.yiaddr.s_addr == ip4(a1).s_addr, "same MAC, DISCOVER again: same address");
	r2 = dhcp_send(d, &m2, t + 2);
	inet_ntop(AF_INET, &r2.yiaddr, a2, sizeof(a2));
	ok(r2.type == 2 && r2.yiaddr.s_addr != r.yiaddr.s_addr, "another MAC: another address %s",
	   a2);

	/* init-reboot */
	m.type = 3;
	m.req = "10.9.9.9";
	r = dhcp_send(d, &m, t + 3);
	ok(r.type == 6 && r.ok && bcast_to(&r) && r.yiaddr.s_addr == 0 && !r.has_lease,
	   "REQUEST for a foreign address -> NAK, broadcast");
	m.req = a2;
	r = dhcp_send(d, &m, t + 3);
	ok(r.type == 6, "REQUEST for an address offered to another MAC -> NAK");
	m.req = "192.168.127.1";
	r = dhcp_send(d, &m, t + 3);
	ok(r.type == 6, "REQUEST for the server's address -> NAK");
	m.req = "192.168.127.254";
	r = dhcp_send(d, &m, t + 3);
	ok(r.type == 6, "REQUEST for the excluded address -> NAK");
	m.req = a1;
	r = dhcp_send(d, &m, t + 3);
	ok(r.type == 5 && r.yiaddr.s_addr == ip4(a1).s_addr && bcast_to(&r),
	   "REQUEST (init-reboot) for its own address -> ACK");

	/* renewing: unicast to the client */
	m.req = NULL;
	m.ciaddr = a1;
	r = dhcp_send(d, &m, t + 1800);
	ok(r.type == 5 && r.yiaddr.s_addr == ip4(a1).s_addr && r.ciaddr.s_addr == ip4(a1).s_addr &&
		   r.p.dst4.s_addr == ip4(a1).s_addr && !memcmp(r.p.dst_mac, m.mac, 6) && r.ok,
	   "REQUEST (renewing) -> ACK unicast to the client");
	ok(dhcp4_leases(d) == 1, "still one lease (the other MAC's offer lapsed)");

	/* the other server's offer was chosen */
	m2.type = 3;
	m2.req = a2;
	m2.sid = "192.168.127.99";
	r2 = dhcp_send(d, &m2, t + 1800);
	ok(r2.len == 0, "REQUEST for another server: no reply");

	/* INFORM */
	m.type = 8;
	r = dhcp_send(d, &m, t + 1801);
	ok(r.type == 5 && r.yiaddr.s_addr == 0 && !r.has_lease && r.ok &&
		   r.p.dst4.s_addr == ip4(a1).s_addr && r.dns.s_addr == c.dns.s_addr,
	   "INFORM -> ACK without yiaddr or lease time");

	/* RELEASE, then the same address comes back */
	m.type = 7;
	r = dhcp_send(d, &m, t + 1802);
	ok(r.len == 0 && dhcp4_leases(d) == 0, "RELEASE: no reply, no lease");
	m.type = 1;
	m.ciaddr = NULL;
	r = dhcp_send(d, &m, t + 1803);
	ok(r.type == 2 && r.yiaddr.s_addr == ip4(a1).s_addr, "after RELEASE: the same address back");

	/* DECLINE: the address is not offered again */
	m.type = 4;
	m.req = a1;
	r = dhcp_send(d, &m, t + 1804);
	ok(r.len == 0, "DECLINE: no reply");
	m.type = 1;
	m.req = NULL;
	r = dhcp_send(d, &m, t + 1805);
	ok(r.type == 2 && r.yiaddr.s_addr != ip4(a1).s_addr, "declined address not offered again");

	/* lease expiry */
	m.type = 3;
	inet_ntop(AF_INET, &r.yiaddr, a1, sizeof(a1));
	m.req = a1;
	m.sid = "192.168.127.1";
	r = dhcp_send(d, &m, t + 1806);
	ok(r.type == 5 && dhcp4_leases(d) == 1, "bound again");
	m.type = 1;
	m.req = m.sid = NULL;
	dhcp_send(d, &m2, t + 1806 + 3601);
	ok(dhcp4_leases(d) == 0, "lease expired after lease_secs");
	dhcp4_free(d);
}

static void test_dhcp_flood(void)
{
	struct dhcp4_conf c = dhcp_conf(300);	/* .2 .. .301: past .255 */
	struct dhcp4 *d = dhcp4_new(&c);
	struct dmsg m = { .type = 1, .xid = 1 };
	struct dreply r;
	unsigned offers = 0, bad = 0;
	int seen[256] = { 0 }, dup = 0;

	/* .2 .. .253 minus .254 (excluded) .255 (broadcast), the rest outside */
	for (int i = 0; i < 1000; i++) {
		m.mac[0] = 2;
		m.mac[2] = (uint8_t)(i >> 8);
		m.mac[3] = (uint8_t)i;
		m.xid = (uint32_t)i;
		r = dhcp_send(d, &m, 10);
		if (r.type == 2) {
			uint32_t a = ntohl(r.yiaddr.s_addr);

			offers++;
			if ((a >> 8) != 0xc0a87f || (a & 255) < 2 || (a & 255) > 253)
				bad++;
			else if (seen[a & 255]++)
				dup++;
		}
	}
	ok(offers == 1000 && !bad, "flood of 1000 MACs: every DISCOVER offered a valid address (%u)",
	   offers);
	ok(dhcp4_exhausted(d) == 0, "flood: %u exhausted (offers are taken back, oldest first)",
	   dhcp4_exhausted(d));

	/* a real client after the flood: DISCOVER, then REQUEST what it got */
	m.mac[0] = 4;
	m.mac[2] = m.mac[3] = 0;
	m.xid = 4242;
	r = dhcp_send(d, &m, 11);
	ok(r.type == 2, "a client after the flood still gets an offer");
	{
		char want[INET_ADDRSTRLEN];
		uint32_t bound;

		inet_ntop(AF_INET, &r.yiaddr, want, sizeof(want));
		bound = ntohl(r.yiaddr.s_addr) & 255;
		m.type = 3;
		m.req = want;
		m.sid = "192.168.127.1";
		r = dhcp_send(d, &m, 12);
		ok(r.type == 5, "and binds it with a REQUEST");
		/* another flood cannot take a bound lease */
		memset(seen, 0, sizeof(seen));
		m.type = 1;
		m.req = m.sid = NULL;
		for (int i = 0; i < 1000; i++) {
			m.mac[0] = 6;
			m.mac[2] = (uint8_t)(i >> 8);
			m.mac[3] = (uint8_t)i;
			r = dhcp_send(d, &m, 13);
			if (r.type == 2)
				seen[ntohl(r.yiaddr.s_addr) & 255]++;
		}
		ok(!seen[bound], "a second flood never offers the bound address");
	}
	dhcp4_free(d);

	c.pool = 0;
	ok(dhcp4_new(&c) == NULL, "empty pool rejected");
	c.pool = 10;
	c.start = ip4("255.255.255.250");
	ok(dhcp4_new(&c) == NULL, "pool wrapping past 255.255.255.255 rejected");
}

static size_t dhcp_raw(struct dhcp4 *d, const uint8_t *b, size_t n)
{
	uint8_t out[1600];
	struct netpkt p;
	uint8_t *copy = malloc(n ? n : 1);
	size_t r;

	/* an exact-size copy, so that a read past the end is caught by ASan */
	memcpy(copy, b, n);
	memset(&p, 0, sizeof(p));
	p.ipver = 4;
	p.proto = 17;
	p.sport = 68;
	p.dport = 67;
	p.src_mac = mac_guest;
	p.payload = copy;
	p.plen = n;
	r = dhcp4_input(d, &p, mac_gw, 1, out, sizeof(out));
	free(copy);
	return r;
}

static void test_dhcp_malformed(void)
{
	struct dhcp4_conf c = dhcp_conf(50);
	struct dhcp4 *d = dhcp4_new(&c);
	struct dmsg m = { .type = 1, .mac = { 2, 0, 0, 0, 0, 9 }, .xid = 7 };
	uint8_t b[600], out[1600];
	size_t n = mk_dhcp(b, &m);
	struct netpkt p;
	int bad = 0;

	ok(dhcp_raw(d, b, n) > 0, "well-formed DISCOVER answered");
	/* options end at 243 (53), 252 (61), n - 1 (55): a message cut there
	 * lacks only the end option, which is tolerated */
	for (size_t l = 0; l < n; l++)
		bad += (dhcp_raw(d, b, l) != 0) != (l == 243 || l == 252 || l == n - 1);
	ok(!bad, "DISCOVER cut at every length: no reply unless cut between options (%d wrong)",
	   bad);
	b[236] = 0x64;
	ok(dhcp_raw(d, b, n) == 0, "bad magic cookie: no reply");
	b[236] = 0x63;
	b[241] = 40;	/* option 53's length runs past the end */
	ok(dhcp_raw(d, b, n) == 0, "option length past the end: no reply");
	b[241] = 1;
	b[244] = (uint8_t)(n - 244);	/* option 61 one byte too long */
	ok(dhcp_raw(d, b, n) == 0, "option running past the end by one: no reply");
	b[244] = 7;
	b[240] = 0;	/* no option 53: plain BOOTP */
	ok(dhcp_raw(d, b, n) == 0, "no message type: no reply");
	b[240] = 53;
	b[0] = 2;
	ok(dhcp_raw(d, b, n) == 0, "BOOTREPLY from a client: no reply");
	b[0] = 1;
	b[2] = 16;
	ok(dhcp_raw(d, b, n) == 0, "hlen 16: no reply");
	b[2] = 6;
	b[24] = 10;
	ok(dhcp_raw(d, b, n) == 0, "relayed (giaddr set): no reply");
	b[24] = 0;
	ok(dhcp_raw(d, b, n) > 0, "restored message answered again");
	memset(b + n - 1, 0, 10);	/* no end option, pad to the end */
	ok(dhcp_raw(d, b, n + 9) > 0, "options without an end option: accepted");
	memset(&p, 0, sizeof(p));
	p.ipver = 4;
	p.proto = 17;
	p.dport = 68;
	p.payload = b;
	p.plen = n;
	ok(dhcp4_input(d, &p, mac_gw, 1, out, sizeof(out)) == 0, "not to port 67: no reply");
	p.dport = 67;
	ok(dhcp4_input(d, &p, mac_gw, 1, out, 300) == 0, "no reply into too little room");
	dhcp4_free(d);
}

/* ---- DNS ---- */

/* A query for @name (dotted) of @qtype into @b */
static size_t mk_query(uint8_t *b, const char *name, unsigned qtype)
{
	size_t n = 12;

	memset(b, 0, 12);
	wr16(b, 0xbeef);
	b[2] = 0x01;	/* RD */
	wr16(b + 4, 1);
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		b[n++] = (uint8_t)l;
		memcpy(b + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	b[n++] = 0;
	wr16(b + n, qtype);
	wr16(b + n + 2, 1);
	return n + 4;
}

/**
 * struct dans - a parsed response
 */
struct dans {
	size_t len;
	int rcode, aa, tc, ancount, good;
	uint8_t addr[4][16];
	size_t alen[4];
};

static struct dans dns_ask(const struct dnszone_set *z, const char *name, unsigned qtype)
{
	uint8_t q[300], r[600];
	size_t qn = mk_query(q, name, qtype), off;
	struct dans a;

	memset(&a, 0, sizeof(a));
	a.len = dnszone_answer(z, q, qn, r, sizeof(r));
	if (!a.len)
		return a;
	a.rcode = r[3] & 15;
	a.aa = !!(r[2] & 4);
	a.tc = !!(r[2] & 2);
	a.ancount = rd16(r + 6);
	/* id, QR, RD kept, one question echoed byte for byte */
	a.good = rd16(r) == 0xbeef && (r[2] & 0x81) == 0x81 && rd16(r + 4) == 1 &&
		 !memcmp(r + 12, q + 12, qn - 12) && a.len >= qn;
	off = qn;
	for (int i = 0; i < a.ancount && i < 4; i++) {
		size_t l;

		if (off + 12 > a.len || rd16(r + off) != 0xc00c || rd16(r + off + 2) != qtype ||
		    rd16(r + off + 4) != 1 || rd32(r + off + 6) != 60) {
			a.good = 0;
			break;
		}
		l = rd16(r + off + 10);
		if (off + 12 + l > a.len || l > 16) {
			a.good = 0;
			break;
		}
		memcpy(a.addr[i], r + off + 12, l);
		a.alen[i] = l;
		off += 12 + l;
	}
	if (off != a.len)
		a.good = 0;
	return a;
}

static int has_addr(const struct dans *a, int af, const char *s)
{
	uint8_t x[16];

	inet_pton(af, s, x);
	for (int i = 0; i < a->ancount && i < 4; i++)
		if (a->alen[i] == (af == AF_INET ? 4u : 16u) && !memcmp(a->addr[i], x, a->alen[i]))
			return 1;
	return 0;
}

static void bad_spec(struct dnszone_set **z, const char *spec, const char *want)
{
	struct errbuf err = { "" };

	ok(dnszone_add(z, spec, &err) == -1 && !strcmp(err.msg, want), "bad spec \"%s\": %s", spec,
	   err.msg);
}

static void test_dns(void)
{
	struct dnszone_set *z = NULL;
	struct errbuf err = { "" };
	struct dans a;
	uint8_t q[300], r[600];
	size_t n;
	int bad;

	ok(dnszone_add(&z, "vm.test/host=192.168.127.254/gw=192.168.127.1/host=fd00::fe/"
			   "@=10.0.0.1/a.b=10.0.0.2/host=192.168.127.253",
		       &err) == 0 && z,
	   "add vm.test %s", err.msg);
	ok(dnszone_add(&z, "Other.Example./www=2001:db8::1", &err) == 0, "add Other.Example. %s",
	   err.msg);

	a = dns_ask(z, "host.vm.test", 1);
	ok(a.good && a.rcode == 0 && a.aa && a.ancount == 2 &&
		   has_addr(&a, AF_INET, "192.168.127.254") && has_addr(&a, AF_INET, "192.168.127.253"),
	   "A host.vm.test: two records, authoritative, TTL 60");
	a = dns_ask(z, "host.vm.test", 28);
	ok(a.good && a.rcode == 0 && a.ancount == 1 && has_addr(&a, AF_INET6, "fd00::fe"),
	   "AAAA host.vm.test");
	a = dns_ask(z, "gw.vm.test", 28);
	ok(a.good && a.len && a.rcode == 0 && a.aa && a.ancount == 0,
	   "AAAA of an A-only name: NOERROR, no answers");
	a = dns_ask(z, "gw.vm.test", 15);
	ok(a.good && a.len && a.rcode == 0 && a.ancount == 0, "MX of a name: NOERROR, no answers");
	a = dns_ask(z, "nope.vm.test", 1);
	ok(a.good && a.rcode == 3 && a.aa && a.ancount == 0, "unknown name in the zone: NXDOMAIN");
	a = dns_ask(z, "vm.test", 1);
	ok(a.good && a.rcode == 0 && a.ancount == 1 && has_addr(&a, AF_INET, "10.0.0.1"),
	   "apex record (@)");
	a = dns_ask(z, "b.vm.test", 1);
	ok(a.good && a.len && a.rcode == 0 && a.ancount == 0,
	   "name with only names below it: NOERROR, no answers");
	a = dns_ask(z, "a.b.vm.test", 1);
	ok(a.good && a.ancount == 1 && has_addr(&a, AF_INET, "10.0.0.2"), "multi-label NAME");
	a = dns_ask(z, "HoSt.Vm.TeSt", 1);
	ok(a.good && a.ancount == 2, "case-insensitive, question echoed in its own case");
	a = dns_ask(z, "www.other.example", 28);
	ok(a.good && a.ancount == 1 && has_addr(&a, AF_INET6, "2001:db8::1"),
	   "second zone, given with capitals and a trailing dot");
	ok(dns_ask(z, "example.com", 1).len == 0, "outside every zone: 0");
	ok(dns_ask(z, "xvm.test", 1).len == 0, "xvm.test is not in vm.test: 0");
	ok(dns_ask(z, "test", 1).len == 0, "parent of a zone: 0");

	n = mk_query(q, "host.vm.test", 1);
	wr16(q + n - 2, 3);
	ok(dnszone_answer(z, q, n, r, sizeof(r)) == 0, "class CH: 0");
	n = mk_query(q, "host.vm.test", 1);
	wr16(q + 4, 2);
	ok(dnszone_answer(z, q, n, r, sizeof(r)) == 0, "QDCOUNT 2: 0");
	wr16(q + 4, 0);
	ok(dnszone_answer(z, q, n, r, sizeof(r)) == 0, "QDCOUNT 0: 0");
	wr16(q + 4, 1);
	q[2] |= 0x80;
	ok(dnszone_answer(z, q, n, r, sizeof(r)) == 0, "a response: 0");
	q[2] = 0x28;	/* opcode UPDATE */
	ok(dnszone_answer(z, q, n, r, sizeof(r)) == 0, "opcode UPDATE: 0");
	q[2] = 0x01;
	ok(dnszone_answer(z, q, n, r, n - 1) == 0, "no answer into too little room");
	ok(dnszone_answer(z, q, n, r, n + 15) == n && (r[2] & 2) && rd16(r + 6) == 0,
	   "room for the question only: TC set");
	ok(dnszone_answer(z, q, n, r, 46) > 0 && (r[2] & 2) && rd16(r + 6) == 1,
	   "room for one answer of two: TC set");
	bad = 0;
	for (size_t l = 0; l < n; l++) {
		uint8_t *c = malloc(l ? l : 1);

		memcpy(c, q, l);
		bad += dnszone_answer(z, c, l, r, sizeof(r)) != 0;
		free(c);
	}
	ok(!bad, "query cut at every length: 0 (%d answered)", bad);

	/* compression pointers in the question */
	memcpy(q + 12, "\x01" "a\xc0\x0c", 4);	/* a, then back to itself */
	wr16(q + 16, 1);
	wr16(q + 18, 1);
	ok(dnszone_answer(z, q, 20, r, sizeof(r)) == 0, "pointer loop in the name: 0");
	memcpy(q + 12, "\xc0\x0e\x00", 3);	/* forward pointer */
	ok(dnszone_answer(z, q, 19, r, sizeof(r)) == 0, "forward pointer: 0");
	memcpy(q + 12, "\xc0", 1);
	ok(dnszone_answer(z, q, 13, r, sizeof(r)) == 0, "pointer cut in half: 0");
	memcpy(q + 12, "\x41" "a", 2);
	ok(dnszone_answer(z, q, 20, r, sizeof(r)) == 0, "extended label type: 0");
	/* 130 one-letter labels and vm.test: over 255 bytes */
	n = 12;
	memset(q, 0, 12);
	wr16(q + 4, 1);
	for (int i = 0; i < 130; i++) {
		q[n++] = 1;
		q[n++] = 'x';
	}
	memcpy(q + n, "\x02vm\x04test\x00\x00\x01\x00\x01", 13);
	ok(dnszone_answer(z, q, n + 13, r, sizeof(r)) == 0, "name over 255 bytes: 0");

	/* the spec grammar */
	bad_spec(&z, "vm.test/host=1.2.3",
		 "dns-zone: \"vm.test/host=1.2.3\": not an IPv4 or IPv6 address: \"1.2.3\"");
	bad_spec(&z, "vm.test", "dns-zone: \"vm.test\": no records (ZONE/NAME=IP...)");
	bad_spec(&z, "vm.test/", "dns-zone: \"vm.test/\": no records (ZONE/NAME=IP...)");
	bad_spec(&z, "vm.test/host", "dns-zone: \"vm.test/host\": record \"host\" is not NAME=IP");
	bad_spec(&z, "vm.test/a=1.2.3.4//b=1.2.3.5",
		 "dns-zone: \"vm.test/a=1.2.3.4//b=1.2.3.5\": empty record (ZONE/NAME=IP...)");
	bad_spec(&z, "/a=1.2.3.4", "dns-zone: \"/a=1.2.3.4\": bad zone name \"\": empty label");
	bad_spec(&z, "vm..test/a=1.2.3.4",
		 "dns-zone: \"vm..test/a=1.2.3.4\": bad zone name \"vm..test\": empty label");
	bad_spec(&z, "vm.test/a b=1.2.3.4",
		 "dns-zone: \"vm.test/a b=1.2.3.4\": bad name \"a b\": only letters, digits, "
		 "'-' and '_' are allowed");
	bad_spec(&z, "vm.test/=1.2.3.4", "dns-zone: \"vm.test/=1.2.3.4\": bad name \"\": empty label");
	bad_spec(&z, "vm.test/x=",
		 "dns-zone: \"vm.test/x=\": not an IPv4 or IPv6 address: \"\"");
	bad_spec(&z, "vm.test/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1.2.3.4",
		 "dns-zone: \"vm.test/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "=1.2.3.4\": bad name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaa\": label longer than 63 characters");
	bad_spec(&z, "new.test/a=1.2.3.4/b=300.1.1.1",
		 "dns-zone: \"new.test/a=1.2.3.4/b=300.1.1.1\": not an IPv4 or IPv6 address: "
		 "\"300.1.1.1\"");
	ok(dns_ask(z, "a.new.test", 1).len == 0, "a bad spec adds nothing");
	a = dns_ask(z, "host.vm.test", 1);
	ok(a.ancount == 2, "the set is intact after bad specs");
	{
		struct dnszone_set *z2 = NULL;

		bad_spec(&z2, "x.test/a=b", "dns-zone: \"x.test/a=b\": not an IPv4 or IPv6 address: \"b\"");
		ok(z2 == NULL, "a first bad spec leaves no set");
		ok(dnszone_answer(NULL, q, n + 13, r, sizeof(r)) == 0, "no set: 0");
	}
	ok(dnszone_add(&z, "vm.test/host=192.168.127.254/new=10.1.1.1", &err) == 0 &&
		   dns_ask(z, "host.vm.test", 1).ancount == 2 &&
		   dns_ask(z, "new.vm.test", 1).ancount == 1,
	   "a second value for a zone adds, duplicates are dropped");
	dnszone_free(z);
}

int main(void)
{
	test_parse();
	test_icmp();
	test_udp();
	test_rewrite();
	test_dhcp();
	test_dhcp_flood();
	test_dhcp_malformed();
	test_dns();
	return tap_end();
}
