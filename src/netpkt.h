/* SPDX-License-Identifier: MIT */
/*
 * netpkt.h - parse and build the Ethernet frames the NAT engine answers itself
 *
 * Pure functions over caller buffers: no sockets, no allocation.  A parsed
 * struct netpkt points into the frame it came from and is only valid as long
 * as that frame is.
 */
#ifndef VRELAY_NETPKT_H
#define VRELAY_NETPKT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETPKT_ETH_HLEN		14
#define NETPKT_ETHERTYPE_IP	0x0800
#define NETPKT_ETHERTYPE_ARP	0x0806
#define NETPKT_ETHERTYPE_VLAN	0x8100
#define NETPKT_ETHERTYPE_IPV6	0x86dd

#define NETPKT_ARP_REQUEST	1
#define NETPKT_ARP_REPLY	2

/**
 * struct netpkt - what netpkt_parse() found in a frame
 * @dst_mac, @src_mac:	the Ethernet addresses (6 bytes each, in the frame)
 * @ethertype:		host order; 802.1Q frames are left as 0x8100, not IP
 * @ipver:		0 not IP, 4 or 6
 * @src4, @dst4:	IPv4 addresses (@ipver 4)
 * @src6, @dst6:	IPv6 addresses (@ipver 6)
 * @proto:		IPPROTO_UDP, _TCP, _ICMP, _ICMPV6 or whatever else the
 *			IP header (after IPv6 extension headers) names
 * @frag:		a fragment: @proto is known, the L4 fields are not
 *			(@sport, @dport 0, @payload NULL)
 * @sport, @dport:	UDP/TCP ports, host order
 * @l3_off, @l4_off:	offsets of the IP header and of the L4 header
 * @payload, @plen:	UDP (or TCP) payload; ICMP/ICMPv6 message from its
 *			type byte.  Bounded by the IP length, not the frame
 *			(Ethernet padding is not part of it)
 * @arp_op:		ARP over Ethernet/IPv4: operation (0: not such ARP)
 * @arp_sip, @arp_tip:	sender and target protocol addresses
 * @arp_sha:		sender hardware address (6 bytes, in the frame)
 */
struct netpkt {
	const uint8_t *dst_mac, *src_mac;
	uint16_t ethertype;
	int ipver;
	struct in_addr src4, dst4;
	struct in6_addr src6, dst6;
	uint8_t proto;
	bool frag;
	uint16_t sport, dport;
	size_t l3_off, l4_off;
	const uint8_t *payload;
	size_t plen;
	uint16_t arp_op;
	struct in_addr arp_sip, arp_tip;
	const uint8_t *arp_sha;
};

int netpkt_parse(const uint8_t *frame, size_t len, struct netpkt *p);

size_t netpkt_arp_reply(const struct netpkt *req, const uint8_t mac[6], uint8_t *out, size_t cap);
size_t netpkt_icmp4_echo_reply(const uint8_t *frame, size_t len, const struct netpkt *p,
			       const uint8_t mac[6], uint8_t *out, size_t cap);
size_t netpkt_udp_reply(const struct netpkt *req, const uint8_t src_mac[6], const uint8_t *payload,
			size_t plen, uint8_t *out, size_t cap);
size_t netpkt_udp4_build(const uint8_t dst_mac[6], const uint8_t src_mac[6], struct in_addr src,
			 struct in_addr dst, uint16_t sport, uint16_t dport, const uint8_t *payload,
			 size_t plen, uint8_t *out, size_t cap);
bool netpkt_rewrite4(uint8_t *frame, size_t len, bool dst, struct in_addr from, struct in_addr to);

#endif
