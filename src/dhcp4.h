/* SPDX-License-Identifier: MIT */
/*
 * dhcp4.h - the DHCPv4 server of one virtual network (RFC 2131, RFC 2132)
 */
#ifndef VRELAY_DHCP4_H
#define VRELAY_DHCP4_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "netpkt.h"

#define DHCP4_POOL_MAX		65536	/* addresses one server hands out */
#define DHCP4_OFFER_SECS	30	/* an OFFER holds its address this long */

/**
 * struct dhcp4_conf - what the server hands out
 * @server:	its own address (server identifier, source of replies)
 * @netmask:	option 1
 * @router:	option 3 (0: none)
 * @dns:	option 6 (0: none)
 * @start:	first address of the pool
 * @pool:	how many addresses from @start (1..DHCP4_POOL_MAX)
 * @lease_secs:	lease time, option 51 (0: one hour)
 * @mtu:	option 26 (0: not sent)
 * @exclude:	an address never handed out, such as the host alias (0: none)
 */
struct dhcp4_conf {
	struct in_addr server, netmask, router, dns, start;
	unsigned pool;
	unsigned lease_secs;
	unsigned mtu;
	struct in_addr exclude;
};

struct dhcp4;

struct dhcp4 *dhcp4_new(const struct dhcp4_conf *c);
void dhcp4_free(struct dhcp4 *d);
size_t dhcp4_input(struct dhcp4 *d, const struct netpkt *p, const uint8_t server_mac[6],
		   double now, uint8_t *out, size_t cap);
unsigned dhcp4_leases(const struct dhcp4 *d);
unsigned dhcp4_exhausted(const struct dhcp4 *d);

#endif
