// SPDX-License-Identifier: MIT
/*
 * netpkt.c - parse and build the Ethernet frames the NAT engine answers itself
 *
 * DOC: Theory of Operation
 *
 * netpkt_parse() checks every length before it reads: the Ethernet header,
 * the IP header against its own length fields and the frame, the L4 header
 * against the IP payload.  Lengths come from the IP header, so Ethernet
 * padding after a short packet is ignored, and a packet claiming more than
 * the frame holds is malformed.  The builders write fresh headers (IPv4
 * without options) into the caller's buffer and compute every checksum in
 * full; netpkt_rewrite4() is the one place that patches a frame in place and
 * updates checksums incrementally (RFC 1624).
 */
#include "config.h"

#include <string.h>

#include "netpkt.h"

#define IP4_HLEN	20
#define IP6_HLEN	40
#define UDP_HLEN	8
#define TCP_HLEN	20
#define ARP_LEN		28
#define REPLY_TTL	64
#define IP6_MAX_EXT	8	/* extension headers walked before giving up */

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* Add @n bytes as big-endian 16-bit words to a one's complement sum; an odd
 * last byte is padded with zero.  Only the last chunk of a sum may be odd. */
static uint64_t csum_add(uint64_t sum, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(b + i);
	if (i < n)
		sum += (uint64_t)b[i] << 8;
	return sum;
}

/* Fold to 16 bits and complement: the value to store in a checksum field */
static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void eth_header(uint8_t *out, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(out, dst, 6);
	memcpy(out + 6, src, 6);
	put16(out + 12, type);
}

/* A 20-byte IPv4 header, checksum included */
static void ip4_header(uint8_t *ip, uint8_t tos, uint16_t id, uint16_t total, uint8_t proto,
		       struct in_addr src, struct in_addr dst)
{
	ip[0] = 0x45;
	ip[1] = tos;
	put16(ip + 2, total);
	put16(ip + 4, id);
	put16(ip + 6, 0);
	ip[8] = REPLY_TTL;
	ip[9] = proto;
	put16(ip + 10, 0);
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, IP4_HLEN)));
}

/* Parse the L4 header at @l4 of @n bytes (the IP payload) */
static int parse_l4(const uint8_t *frame, size_t l4, size_t n, struct netpkt *p)
{
	const uint8_t *h = frame + l4;

	p->l4_off = l4;
	if (p->frag)
		return 0;
	switch (p->proto) {
	case IPPROTO_UDP: {
		uint16_t ulen;

		if (n < UDP_HLEN)
			return -1;
		ulen = get16(h + 4);
		if (ulen < UDP_HLEN || ulen > n)
			return -1;
		p->sport = get16(h);
		p->dport = get16(h + 2);
		p->payload = h + UDP_HLEN;
		p->plen = ulen - UDP_HLEN;
		break;
	}
	case IPPROTO_TCP: {
		size_t doff;

		if (n < TCP_HLEN)
			return -1;
		doff = (size_t)(h[12] >> 4) * 4;
		if (doff < TCP_HLEN || doff > n)
			return -1;
		p->sport = get16(h);
		p->dport = get16(h + 2);
		p->payload = h + doff;
		p->plen = n - doff;
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (n < 4)
			return -1;
		p->payload = h;
		p->plen = n;
		break;
	default:
		break;
	}
	return 0;
}

static int parse_arp(const uint8_t *a, size_t n, struct netpkt *p)
{
	if (n < 8)
		return -1;
	/* only Ethernet/IPv4 ARP is ours; other kinds are left unparsed */
	if (get16(a) != 1 || get16(a + 2) != NETPKT_ETHERTYPE_IP || a[4] != 6 || a[5] != 4)
		return 0;
	if (n < ARP_LEN)
		return -1;
	p->arp_op = get16(a + 6);
	p->arp_sha = a + 8;
	memcpy(&p->arp_sip, a + 14, 4);
	memcpy(&p->arp_tip, a + 24, 4);
	return 0;
}

static int parse_ip4(const uint8_t *frame, size_t len, struct netpkt *p)
{
	const uint8_t *ip = frame + NETPKT_ETH_HLEN;
	size_t avail = len - NETPKT_ETH_HLEN, ihl, total;

	if (avail < IP4_HLEN || ip[0] >> 4 != 4)
		return -1;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = get16(ip + 2);
	if (ihl < IP4_HLEN || total < ihl || total > avail)
		return -1;
	p->ipver = 4;
	p->l3_off = NETPKT_ETH_HLEN;
	p->proto = ip[9];
	memcpy(&p->src4, ip + 12, 4);
	memcpy(&p->dst4, ip + 16, 4);
	/* MF set or a fragment offset: the L4 header is not (all) here */
	p->frag = (get16(ip + 6) & 0x3fff) != 0;
	return parse_l4(frame, NETPKT_ETH_HLEN + ihl, total - ihl, p);
}

static int parse_ip6(const uint8_t *frame, size_t len, struct netpkt *p)
{
	const uint8_t *ip = frame + NETPKT_ETH_HLEN;
	size_t avail = len - NETPKT_ETH_HLEN, off, end;
	uint8_t nh;

	if (avail < IP6_HLEN || ip[0] >> 4 != 6)
		return -1;
	end = IP6_HLEN + get16(ip + 4);
	if (end > avail)
		return -1;
	p->ipver = 6;
	p->l3_off = NETPKT_ETH_HLEN;
	memcpy(&p->src6, ip + 8, 16);
	memcpy(&p->dst6, ip + 24, 16);
	nh = ip[6];
	off = IP6_HLEN;
	for (int i = 0; i < IP6_MAX_EXT; i++) {
		size_t hl;

		if (nh != 0 && nh != 43 && nh != 44 && nh != 60)
			break;
		if (end - off < 8)
			return -1;
		if (nh == 44) {
			/* offset or more-fragments: not a whole datagram */
			if (get16(ip + off + 2) & 0xfff9)
				p->frag = true;
			hl = 8;
		} else {
			hl = ((size_t)ip[off + 1] + 1) * 8;
		}
		if (hl > end - off)
			return -1;
		nh = ip[off];
		off += hl;
	}
	p->proto = nh;
	return parse_l4(frame, NETPKT_ETH_HLEN + off, end - off, p);
}

/**
 * netpkt_parse() - find the headers of an Ethernet frame
 * @frame:	the frame, from the destination MAC on (no FCS)
 * @len:	its length
 * @p:		filled in; pointers point into @frame
 *
 * Return: 0 if the frame is well formed as far as it was looked at (also for
 * types that are not IP or ARP: @ipver 0), -1 if it is malformed: truncated
 * headers, an IP length beyond the frame, a bad IHL, an inconsistent UDP
 * length.
 */
int netpkt_parse(const uint8_t *frame, size_t len, struct netpkt *p)
{
	memset(p, 0, sizeof(*p));
	if (len < NETPKT_ETH_HLEN)
		return -1;
	p->dst_mac = frame;
	p->src_mac = frame + 6;
	p->ethertype = get16(frame + 12);
	switch (p->ethertype) {
	case NETPKT_ETHERTYPE_ARP:
		return parse_arp(frame + NETPKT_ETH_HLEN, len - NETPKT_ETH_HLEN, p);
	case NETPKT_ETHERTYPE_IP:
		return parse_ip4(frame, len, p);
	case NETPKT_ETHERTYPE_IPV6:
		return parse_ip6(frame, len, p);
	default:
		return 0;
	}
}

/**
 * netpkt_arp_reply() - answer an ARP request for @req->arp_tip
 * @req:	a parsed ARP request
 * @mac:	the hardware address that has arp_tip
 * @out, @cap:	where to build the reply
 *
 * Return: length of the reply frame, 0 if @req is not an ARP request or
 * @cap is too small.
 */
size_t netpkt_arp_reply(const struct netpkt *req, const uint8_t mac[6], uint8_t *out, size_t cap)
{
	uint8_t *a = out + NETPKT_ETH_HLEN;

	if (req->arp_op != NETPKT_ARP_REQUEST || !req->arp_sha || cap < NETPKT_ETH_HLEN + ARP_LEN)
		return 0;
	eth_header(out, req->arp_sha, mac, NETPKT_ETHERTYPE_ARP);
	put16(a, 1);
	put16(a + 2, NETPKT_ETHERTYPE_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, NETPKT_ARP_REPLY);
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, &req->arp_tip, 4);
	memcpy(a + 18, req->arp_sha, 6);
	memcpy(a + 24, &req->arp_sip, 4);
	return NETPKT_ETH_HLEN + ARP_LEN;
}

/**
 * netpkt_icmp4_echo_reply() - answer an ICMP echo request
 * @frame, @len:	the request frame
 * @p:		@frame parsed
 * @mac:	source MAC of the reply
 * @out, @cap:	where to build the reply
 *
 * The reply goes from @p->dst4 to @p->src4 with a fresh IPv4 header (no
 * options) and the request's identifier, sequence and data.
 *
 * Return: length of the reply frame, 0 if @p is not an ICMP echo request or
 * @cap is too small.
 */
size_t netpkt_icmp4_echo_reply(const uint8_t *frame, size_t len, const struct netpkt *p,
			       const uint8_t mac[6], uint8_t *out, size_t cap)
{
	size_t total;
	uint8_t *ip = out + NETPKT_ETH_HLEN, *icmp = ip + IP4_HLEN;

	if (p->ipver != 4 || p->proto != IPPROTO_ICMP || p->frag || !p->payload || p->plen < 8 ||
	    p->payload[0] != 8 || p->payload[1] != 0 || len < p->l3_off + IP4_HLEN)
		return 0;
	total = IP4_HLEN + p->plen;
	if (total > 0xffff || cap < NETPKT_ETH_HLEN + total)
		return 0;
	eth_header(out, p->src_mac, mac, NETPKT_ETHERTYPE_IP);
	memmove(icmp, p->payload, p->plen);
	ip4_header(ip, frame[p->l3_off + 1], get16(frame + p->l3_off + 4), (uint16_t)total,
		   IPPROTO_ICMP, p->dst4, p->src4);
	icmp[0] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 2, csum_fold(csum_add(0, icmp, p->plen)));
	return NETPKT_ETH_HLEN + total;
}

/* UDP header and checksum over a v4 or v6 pseudo-header; @udp holds the
 * payload already */
static void udp_finish(uint8_t *udp, size_t ulen, uint16_t sport, uint16_t dport, const void *src,
		       const void *dst, size_t alen)
{
	uint8_t tail[4] = { 0, 0, 0, IPPROTO_UDP };
	uint64_t sum;
	uint16_t c;

	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)ulen);
	put16(udp + 6, 0);
	sum = csum_add(0, src, alen);
	sum = csum_add(sum, dst, alen);
	sum += ulen;	/* 16-bit length for v4, 32-bit for v6: the same sum */
	sum = csum_add(sum, tail, 4);
	sum = csum_add(sum, udp, ulen);
	c = csum_fold(sum);
	put16(udp + 6, c ? c : 0xffff);
}

/**
 * netpkt_udp_reply() - answer a UDP datagram (IPv4 or IPv6)
 * @req:	the parsed request
 * @src_mac:	source MAC of the reply (the destination is @req's source)
 * @payload, @plen: the reply's UDP payload (may not overlap @out)
 * @out, @cap:	where to build the reply
 *
 * Addresses and ports are swapped, TTL or hop limit is 64, the UDP checksum
 * is always set.
 *
 * Return: length of the reply frame, 0 if @req is not UDP over IP or @cap is
 * too small.
 */
size_t netpkt_udp_reply(const struct netpkt *req, const uint8_t src_mac[6], const uint8_t *payload,
			size_t plen, uint8_t *out, size_t cap)
{
	size_t ulen = UDP_HLEN + plen;
	uint8_t *ip = out + NETPKT_ETH_HLEN;

	if (req->proto != IPPROTO_UDP || req->frag || !req->src_mac)
		return 0;
	if (req->ipver == 4)
		return netpkt_udp4_build(req->src_mac, src_mac, req->dst4, req->src4, req->dport,
					 req->sport, payload, plen, out, cap);
	if (req->ipver != 6 || ulen > 0xffff || cap < NETPKT_ETH_HLEN + IP6_HLEN + ulen)
		return 0;
	eth_header(out, req->src_mac, src_mac, NETPKT_ETHERTYPE_IPV6);
	memcpy(ip + IP6_HLEN + UDP_HLEN, payload, plen);
	ip[0] = 0x60;
	ip[1] = ip[2] = ip[3] = 0;
	put16(ip + 4, (uint16_t)ulen);
	ip[6] = IPPROTO_UDP;
	ip[7] = REPLY_TTL;
	memcpy(ip + 8, &req->dst6, 16);
	memcpy(ip + 24, &req->src6, 16);
	udp_finish(ip + IP6_HLEN, ulen, req->dport, req->sport, ip + 8, ip + 24, 16);
	return NETPKT_ETH_HLEN + IP6_HLEN + ulen;
}

/**
 * netpkt_udp4_build() - build a UDP over IPv4 frame
 * @dst_mac, @src_mac: Ethernet addresses (NULL @dst_mac: broadcast)
 * @src, @dst:	IPv4 addresses
 * @sport, @dport: ports, host order
 * @payload, @plen: the UDP payload (may not overlap @out)
 * @out, @cap:	where to build the frame
 *
 * Return: length of the frame, 0 if @cap is too small or the datagram too
 * long for IPv4.
 */
size_t netpkt_udp4_build(const uint8_t dst_mac[6], const uint8_t src_mac[6], struct in_addr src,
			 struct in_addr dst, uint16_t sport, uint16_t dport, const uint8_t *payload,
			 size_t plen, uint8_t *out, size_t cap)
{
	size_t total = IP4_HLEN + UDP_HLEN + plen;
	uint8_t *ip = out + NETPKT_ETH_HLEN;

	if (total > 0xffff || cap < NETPKT_ETH_HLEN + total)
		return 0;
	eth_header(out, dst_mac ? dst_mac : bcast_mac, src_mac, NETPKT_ETHERTYPE_IP);
	memcpy(ip + IP4_HLEN + UDP_HLEN, payload, plen);
	ip4_header(ip, 0, 0, (uint16_t)total, IPPROTO_UDP, src, dst);
	udp_finish(ip + IP4_HLEN, UDP_HLEN + plen, sport, dport, &src, &dst, 4);
	return NETPKT_ETH_HLEN + total;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for the two 16-bit words of an
 * IPv4 address changing from @from to @to */
static uint16_t csum_replace4(uint16_t check, const uint8_t from[4], const uint8_t to[4])
{
	uint64_t sum = (uint16_t)~check;

	sum += (uint16_t)~get16(from) + (uint64_t)(uint16_t)~get16(from + 2);
	sum += (uint64_t)get16(to) + get16(to + 2);
	return csum_fold(sum);
}

/**
 * netpkt_rewrite4() - change the source or destination of an IPv4 frame
 * @frame, @len:	the frame, changed in place
 * @dst:	rewrite the destination (else the source)
 * @from:	only if the address is this one
 * @to:		the new address
 *
 * The IP header checksum and the TCP or UDP checksum (pseudo-header) are
 * updated incrementally; a UDP checksum of 0 (none) stays 0.  Only the first
 * fragment carries an L4 header to update.
 *
 * Return: true if the frame was rewritten.
 */
bool netpkt_rewrite4(uint8_t *frame, size_t len, bool dst, struct in_addr from, struct in_addr to)
{
	struct netpkt p;
	uint8_t *ip, *addr, *l4, old[4];
	size_t l4len;

	if (netpkt_parse(frame, len, &p) < 0 || p.ipver != 4)
		return false;
	ip = frame + p.l3_off;
	addr = ip + (dst ? 16 : 12);
	if (memcmp(addr, &from, 4))
		return false;
	memcpy(old, addr, 4);
	memcpy(addr, &to, 4);
	put16(ip + 10, csum_replace4(get16(ip + 10), old, addr));

	/* the L4 header is in the first fragment only */
	if (get16(ip + 6) & 0x1fff)
		return true;
	l4 = frame + p.l4_off;
	l4len = p.l3_off + get16(ip + 2) - p.l4_off;
	if (p.proto == IPPROTO_TCP && l4len >= 18) {
		put16(l4 + 16, csum_replace4(get16(l4 + 16), old, addr));
	} else if (p.proto == IPPROTO_UDP && l4len >= UDP_HLEN && get16(l4 + 6)) {
		uint16_t c = csum_replace4(get16(l4 + 6), old, addr);

		put16(l4 + 6, c ? c : 0xffff);
	}
	return true;
}
