// SPDX-License-Identifier: MIT
/*
 * dhcp4.c - the DHCPv4 server of one virtual network (RFC 2131, RFC 2132)
 *
 * DOC: Theory of Operation
 *
 * One lease slot per pool address, allocated once by dhcp4_new(): however
 * many clients ask, memory does not grow.  A slot is free, offered (held for
 * DHCP4_OFFER_SECS until a REQUEST confirms it), bound (until the lease
 * ends), declined (a client found the address in use; kept out of the pool
 * for a lease time) or invalid (the server's own address, the router, the
 * DNS server, the excluded host alias, the network or broadcast address).
 * An offered or bound slot whose time has passed is free again.  Slots
 * remember the last client's MAC even when free, so a client coming back
 * gets its old address unless someone else needed it; new clients take a
 * never-used slot first, then the one that has been free the longest, and
 * when none is free, the oldest offer (a flood of DISCOVERs cannot lock a
 * real client out).  When every address is bound the message is dropped
 * and counted.
 *
 * The server is authoritative for its network: a REQUEST for an address it
 * cannot give (someone else's, outside the pool) is answered with a NAK, and
 * an INIT-REBOOT request for a free pool address is granted even with no
 * record of the client (say, after a restart of vrelay).  Clients are known
 * by their chaddr; the client identifier (option 61) is not used.  Relayed
 * messages (giaddr set) are ignored: a virtual network has no relays.
 *
 * Replies to a client without an address (ciaddr 0) go to 255.255.255.255
 * and ff:ff:ff:ff:ff:ff whatever the broadcast flag says, which every client
 * accepts; replies to a client with an address (renewing, INFORM) go to it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp4.h"

#define BOOTP_FIXED	236	/* op .. file */
#define DHCP_OPTS	240	/* after the magic cookie */
#define DHCP_MIN_REPLY	300	/* BOOTP's minimum message, for old clients */
#define DHCP_MAX_REPLY	548	/* 576 less IP and UDP headers */
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DEFAULT_LEASE	3600

enum dhcp_type {
	DHCPDISCOVER = 1,
	DHCPOFFER = 2,
	DHCPREQUEST = 3,
	DHCPDECLINE = 4,
	DHCPACK = 5,
	DHCPNAK = 6,
	DHCPRELEASE = 7,
	DHCPINFORM = 8,
};

enum lease_state { L_FREE, L_OFFERED, L_BOUND, L_DECLINED, L_INVALID };

static const uint8_t magic[4] = { 99, 130, 83, 99 };

/**
 * struct lease - one pool address
 * @mac:	the client that had it last (kept when it is free again)
 * @used:	ever handed out (or declined)
 * @state:	enum lease_state
 * @expiry:	when an offer, lease or decline ends (the caller's clock)
 */
struct lease {
	uint8_t mac[6];
	bool used;
	uint8_t state;
	double expiry;
};

/**
 * struct dhcp4 - a server
 * @c:		its configuration
 * @n:		pool size
 * @exhausted:	messages dropped because no address was free
 * @now:	the time of the last message
 * @lease:	one slot per pool address
 */
struct dhcp4 {
	struct dhcp4_conf c;
	unsigned n;
	unsigned exhausted;
	double now;
	struct lease lease[];
};

/**
 * struct dhcp_msg - what the server needs of a client's message
 * @type:	option 53
 * @xid, @flags: copied into the reply (network order)
 * @ciaddr:	the client's address, if it has one
 * @chaddr:	its MAC
 * @req:	option 50, requested address (0: none)
 * @sid:	option 54, server identifier (0: none)
 */
struct dhcp_msg {
	uint8_t type;
	uint8_t xid[4], flags[2];
	struct in_addr ciaddr;
	const uint8_t *chaddr;
	struct in_addr req, sid;
};

/**
 * dhcp4_new() - make a server for one network
 * @c:		its configuration (copied)
 *
 * Return: the server, NULL if the pool is empty, too large or wraps past
 * 255.255.255.255, or memory ran out.
 */
struct dhcp4 *dhcp4_new(const struct dhcp4_conf *c)
{
	uint32_t start = ntohl(c->start.s_addr), mask = ntohl(c->netmask.s_addr);
	uint32_t net = ntohl(c->server.s_addr) & mask;
	struct dhcp4 *d;

	if (c->pool == 0 || c->pool > DHCP4_POOL_MAX || start + (uint64_t)c->pool - 1 > UINT32_MAX)
		return NULL;
	d = calloc(1, sizeof(*d) + c->pool * sizeof(d->lease[0]));
	if (!d)
		return NULL;
	d->c = *c;
	if (!d->c.lease_secs)
		d->c.lease_secs = DEFAULT_LEASE;
	d->n = c->pool;
	for (unsigned i = 0; i < d->n; i++) {
		uint32_t a = start + i, host = a & ~mask;
		struct lease *l = &d->lease[i];

		if ((a & mask) != net || a == ntohl(c->server.s_addr) ||
		    a == ntohl(c->router.s_addr) || a == ntohl(c->dns.s_addr) ||
		    a == ntohl(c->exclude.s_addr))
			l->state = L_INVALID;
		/* network and broadcast addresses, unless a /31 or /32 */
		if (~mask > 1 && (host == 0 || host == ~mask))
			l->state = L_INVALID;
	}
	return d;
}

/**
 * dhcp4_free() - free a server and its leases
 * @d:		the server (NULL: nothing)
 */
void dhcp4_free(struct dhcp4 *d)
{
	free(d);
}

static bool lease_avail(const struct dhcp4 *d, const struct lease *l)
{
	return l->state == L_FREE || (l->state != L_INVALID && l->expiry <= d->now);
}

static bool lease_owned(const struct dhcp4 *d, const struct lease *l, const uint8_t mac[6])
{
	return (l->state == L_OFFERED || l->state == L_BOUND) && l->expiry > d->now &&
	       !memcmp(l->mac, mac, 6);
}

static struct in_addr lease_addr(const struct dhcp4 *d, unsigned i)
{
	struct in_addr a = { htonl(ntohl(d->c.start.s_addr) + i) };

	return a;
}

/* The slot of a pool address, -1 if @a is not one the server hands out */
static int lease_index(const struct dhcp4 *d, struct in_addr a)
{
	uint32_t off = ntohl(a.s_addr) - ntohl(d->c.start.s_addr);

	if (!a.s_addr || off >= d->n || d->lease[off].state == L_INVALID)
		return -1;
	return (int)off;
}

/* The slot @mac holds now, -1 if none */
static int lease_find(const struct dhcp4 *d, const uint8_t mac[6])
{
	for (unsigned i = 0; i < d->n; i++)
		if (lease_owned(d, &d->lease[i], mac))
			return (int)i;
	return -1;
}

/* A slot for @mac: the one it holds, the address it asked for, the one it
 * had last, a never-used one, the one free the longest; -1 if none is free */
static int lease_pick(const struct dhcp4 *d, const uint8_t mac[6], struct in_addr want)
{
	int i = lease_find(d, mac), never = -1, oldest = -1;

	if (i >= 0)
		return i;
	i = lease_index(d, want);
	if (i >= 0 && lease_avail(d, &d->lease[i]))
		return i;
	for (unsigned j = 0; j < d->n; j++) {
		const struct lease *l = &d->lease[j];

		if (!lease_avail(d, l))
			continue;
		if (l->used && !memcmp(l->mac, mac, 6))
			return (int)j;
		if (!l->used && never < 0)
			never = (int)j;
		if (l->used && (oldest < 0 || l->expiry < d->lease[oldest].expiry))
			oldest = (int)j;
	}
	if (never >= 0 || oldest >= 0)
		return never >= 0 ? never : oldest;
	/* Nothing free: an offer is only a promise, and a flood of DISCOVERs
	 * that never REQUEST must not starve a client that will.  Take back
	 * the oldest one; only bound leases are kept to their end. */
	for (unsigned j = 0; j < d->n; j++) {
		const struct lease *l = &d->lease[j];

		if (l->state == L_OFFERED && (oldest < 0 || l->expiry < d->lease[oldest].expiry))
			oldest = (int)j;
	}
	return oldest;
}

/* Give slot @i to @mac, and free any other slot it held: one per client */
static void lease_set(struct dhcp4 *d, unsigned i, const uint8_t mac[6], enum lease_state st,
		      double secs)
{
	for (unsigned j = 0; j < d->n; j++)
		if (j != i && lease_owned(d, &d->lease[j], mac))
			d->lease[j].state = L_FREE;
	memcpy(d->lease[i].mac, mac, 6);
	d->lease[i].used = true;
	d->lease[i].state = (uint8_t)st;
	d->lease[i].expiry = d->now + secs;
}

/* Read the fixed part and the options of a client's message; -1 if it is
 * malformed or not one for this server */
static int msg_parse(const uint8_t *b, size_t n, struct dhcp_msg *m)
{
	size_t i = DHCP_OPTS;

	memset(m, 0, sizeof(*m));
	if (n < DHCP_OPTS || b[0] != 1 || b[1] != 1 || b[2] != 6 || memcmp(b + 236, magic, 4))
		return -1;
	/* giaddr: relayed, not from our own link */
	if (b[24] | b[25] | b[26] | b[27])
		return -1;
	memcpy(m->xid, b + 4, 4);
	memcpy(m->flags, b + 10, 2);
	memcpy(&m->ciaddr, b + 12, 4);
	m->chaddr = b + 28;
	while (i < n && b[i] != 255) {
		uint8_t code = b[i], len;

		if (code == 0) {
			i++;
			continue;
		}
		if (n - i < 2 || n - i - 2 < b[i + 1])
			return -1;
		len = b[i + 1];
		if ((code == 50 || code == 54) && len != 4)
			return -1;
		if (code == 53 && len != 1)
			return -1;
		if (code == 53)
			m->type = b[i + 2];
		else if (code == 50)
			memcpy(&m->req, b + i + 2, 4);
		else if (code == 54)
			memcpy(&m->sid, b + i + 2, 4);
		i += 2 + (size_t)len;
	}
	return m->type ? 0 : -1;
}

static uint8_t *opt_u8(uint8_t *o, uint8_t code, uint8_t v)
{
	o[0] = code;
	o[1] = 1;
	o[2] = v;
	return o + 3;
}

static uint8_t *opt_u32(uint8_t *o, uint8_t code, uint32_t v)
{
	o[0] = code;
	o[1] = 4;
	v = htonl(v);
	memcpy(o + 2, &v, 4);
	return o + 6;
}

static uint8_t *opt_addr(uint8_t *o, uint8_t code, struct in_addr a)
{
	return opt_u32(o, code, ntohl(a.s_addr));
}

/**
 * reply() - build the server's answer to @m as a frame
 * @d:		the server
 * @m:		the client's message
 * @type:	DHCPOFFER, DHCPACK or DHCPNAK
 * @yiaddr:	the client's address (0 for NAK and the ACK of an INFORM)
 * @lease:	send the lease time options
 * @server_mac, @out, @cap: as for dhcp4_input()
 *
 * Return: the frame's length, 0 if @cap is too small
 */
static size_t reply(const struct dhcp4 *d, const struct dhcp_msg *m, uint8_t type,
		    struct in_addr yiaddr, bool lease, const uint8_t server_mac[6], uint8_t *out,
		    size_t cap)
{
	uint8_t b[DHCP_MAX_REPLY] = { 0 }, *o = b + DHCP_OPTS;
	struct in_addr dst = { INADDR_BROADCAST }, ciaddr = { 0 };
	const uint8_t *dst_mac = NULL;
	uint32_t secs = d->c.lease_secs;

	if (type != DHCPNAK)
		ciaddr = m->ciaddr;
	b[0] = 2;
	b[1] = 1;
	b[2] = 6;
	memcpy(b + 4, m->xid, 4);
	memcpy(b + 10, m->flags, 2);
	memcpy(b + 12, &ciaddr, 4);
	memcpy(b + 16, &yiaddr, 4);
	memcpy(b + 28, m->chaddr, 16);
	memcpy(b + BOOTP_FIXED, magic, 4);
	o = opt_u8(o, 53, type);
	o = opt_addr(o, 54, d->c.server);
	if (type != DHCPNAK) {
		if (lease) {
			o = opt_u32(o, 51, secs);
			o = opt_u32(o, 58, secs / 2);
			o = opt_u32(o, 59, (uint32_t)((uint64_t)secs * 7 / 8));
		}
		o = opt_addr(o, 1, d->c.netmask);
		if (d->c.router.s_addr)
			o = opt_addr(o, 3, d->c.router);
		if (d->c.dns.s_addr)
			o = opt_addr(o, 6, d->c.dns);
		if (d->c.mtu) {
			o[0] = 26;
			o[1] = 2;
			o[2] = (uint8_t)(d->c.mtu >> 8);
			o[3] = (uint8_t)d->c.mtu;
			o += 4;
		}
	}
	*o++ = 255;
	if (ciaddr.s_addr) {
		dst = ciaddr;
		dst_mac = m->chaddr;
	}
	return netpkt_udp4_build(dst_mac, server_mac, d->c.server, dst, DHCP_SERVER_PORT,
				 DHCP_CLIENT_PORT, b,
				 o - b < DHCP_MIN_REPLY ? DHCP_MIN_REPLY : (size_t)(o - b), out, cap);
}

/* DHCPREQUEST: ACK, NAK or (for another server's offer) nothing */
static size_t request(struct dhcp4 *d, const struct dhcp_msg *m, const uint8_t server_mac[6],
		      uint8_t *out, size_t cap)
{
	struct in_addr want = m->req.s_addr ? m->req : m->ciaddr;
	int i;

	if (m->sid.s_addr && m->sid.s_addr != d->c.server.s_addr) {
		/* SELECTING another server's offer: ours is free again */
		i = lease_find(d, m->chaddr);
		if (i >= 0 && d->lease[i].state == L_OFFERED)
			d->lease[i].state = L_FREE;
		return 0;
	}
	if (!want.s_addr)
		return 0;
	i = lease_index(d, want);
	if (i < 0 || !(lease_owned(d, &d->lease[i], m->chaddr) || lease_avail(d, &d->lease[i])))
		return reply(d, m, DHCPNAK, (struct in_addr){ 0 }, false, server_mac, out, cap);
	lease_set(d, (unsigned)i, m->chaddr, L_BOUND, d->c.lease_secs);
	return reply(d, m, DHCPACK, want, true, server_mac, out, cap);
}

/**
 * dhcp4_input() - answer one message from a client
 * @d:		the server
 * @p:		a parsed UDP frame to port 67
 * @server_mac:	source MAC of the reply
 * @now:	the time, in seconds on any monotonic clock
 * @out, @cap:	where to build the reply frame
 *
 * DISCOVER gets an OFFER, REQUEST an ACK or a NAK, INFORM an ACK without an
 * address; RELEASE and DECLINE change the leases and get no reply.
 *
 * Return: the length of the reply frame, 0 for none (also for malformed
 * messages and when no address is free).
 */
size_t dhcp4_input(struct dhcp4 *d, const struct netpkt *p, const uint8_t server_mac[6],
		   double now, uint8_t *out, size_t cap)
{
	struct dhcp_msg m;
	int i;

	if (now > d->now)
		d->now = now;
	if (p->ipver != 4 || p->proto != IPPROTO_UDP || p->dport != DHCP_SERVER_PORT ||
	    !p->payload || msg_parse(p->payload, p->plen, &m) < 0)
		return 0;
	switch (m.type) {
	case DHCPDISCOVER:
		i = lease_pick(d, m.chaddr, m.req);
		if (i < 0) {
			d->exhausted++;
			return 0;
		}
		/* a client that is bound keeps its lease; an offer is held */
		if (!lease_owned(d, &d->lease[i], m.chaddr) || d->lease[i].state != L_BOUND)
			lease_set(d, (unsigned)i, m.chaddr, L_OFFERED, DHCP4_OFFER_SECS);
		return reply(d, &m, DHCPOFFER, lease_addr(d, (unsigned)i), true, server_mac, out,
			     cap);
	case DHCPREQUEST:
		return request(d, &m, server_mac, out, cap);
	case DHCPDECLINE:
		if (m.sid.s_addr && m.sid.s_addr != d->c.server.s_addr)
			return 0;
		i = lease_index(d, m.req);
		if (i >= 0 && !memcmp(d->lease[i].mac, m.chaddr, 6) &&
		    d->lease[i].state != L_FREE) {
			memset(d->lease[i].mac, 0, 6);
			d->lease[i].state = L_DECLINED;
			d->lease[i].expiry = d->now + d->c.lease_secs;
		}
		return 0;
	case DHCPRELEASE:
		i = lease_index(d, m.ciaddr);
		if (i >= 0 && lease_owned(d, &d->lease[i], m.chaddr)) {
			d->lease[i].state = L_FREE;
			d->lease[i].expiry = d->now;
		}
		return 0;
	case DHCPINFORM:
		return reply(d, &m, DHCPACK, (struct in_addr){ 0 }, false, server_mac, out, cap);
	default:
		return 0;
	}
}

/**
 * dhcp4_leases() - how many leases are bound
 * @d:		the server
 *
 * Return: bound leases not expired at the time of the last message.
 */
unsigned dhcp4_leases(const struct dhcp4 *d)
{
	unsigned n = 0;

	for (unsigned i = 0; i < d->n; i++)
		if (d->lease[i].state == L_BOUND && d->lease[i].expiry > d->now)
			n++;
	return n;
}

/**
 * dhcp4_exhausted() - how many DISCOVERs found no free address
 * @d:		the server
 *
 * Return: the count since dhcp4_new().
 */
unsigned dhcp4_exhausted(const struct dhcp4 *d)
{
	return d->exhausted;
}
