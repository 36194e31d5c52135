/* SPDX-License-Identifier: MIT */
/*
 * nat.c - the user-mode network engine around libslirp
 *
 * DOC: Theory of operation
 *
 * libslirp is the TCP/IP stack: it turns the guests' TCP, UDP and ICMP
 * flows into ordinary host sockets and answers NDP and router
 * solicitations.  This file owns everything around it:
 *
 * - the event loop: before each wait, libslirp names the fds it wants
 *   (slirp_pollfds_fill) and we keep one watch per fd in vrelay's loop;
 *   after the callbacks, slirp_pollfds_poll() reads what they saw.  Its
 *   timers are loop timers;
 * - a switch: every link (one guest each, or a bridge to several) gets the
 *   frames for the MAC addresses learned on it; broadcasts go to every
 *   link and to the engine;
 * - what vrelay answers itself, before libslirp sees the frame: DHCPv4
 *   (dhcp4.c: per-MAC leases, the MTU, a bounded table), DNS queries for
 *   static zones (dnszone.c), ARP and ping for the host alias (.254);
 * - gvproxy's addresses.  libslirp would send every connection to its DNS
 *   address to the host's resolver, whatever the port, so the gateway
 *   cannot also be the DNS server inside libslirp.  The engine gives
 *   libslirp a hidden DNS address (.253, kept out of the DHCP pool) and
 *   rewrites port 53 between it and the gateway in both directions;
 * - a SYN backlog.  libslirp connect()s a host socket for each guest SYN
 *   and holds it until the handshake completes or 75 s pass, so the engine
 *   keeps a bounded table of the guest's flows in their handshake (keyed as
 *   libslirp sees them) and drops SYNs beyond it, as a kernel does.  A flow
 *   leaves the table when the guest ACKs libslirp's SYN-ACK, when libslirp
 *   resets it or says it is unreachable, when its link goes, or - when a
 *   SYN needs the room - after NAT_SYN_TIMEOUT; the last two with a RST
 *   from the guest's side, so that libslirp lets go of it too;
 * - port forwards (slirp_add_hostfwd) and their list for the API, the
 *   pcap capture and the statistics.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "dhcp4.h"
#include "dnszone.h"
#include "frame.h"
#include "log.h"
#include "loop.h"
#include "nat.h"
#include "netpkt.h"
#include "pcap.h"
#include "util.h"

#define MACS_PER_LINK	16	/* a link may bridge a few guests */
#define DHCP_LEASE_SECS	3600

struct nat_link {
	struct nat *nat;
	nat_output_fn out;
	void *arg;
	uint8_t macs[MACS_PER_LINK][6];
	unsigned nmacs, next_mac;
	unsigned half_open;	/* its entries in nat->syn */
};

/*
 * A guest's TCP flow in its handshake, as libslirp knows it: the guest's
 * address and port, the destination libslirp was given (the hidden DNS
 * address for the gateway's port 53), IPv4 as v4-mapped IPv6
 */
struct syn_entry {
	struct nat_link *link;
	struct in6_addr guest, dst;
	uint16_t gport, dport;
	uint32_t next_seq;	/* the guest's ISN + 1: a RST there is in window */
	uint32_t slirp_seq;	/* libslirp's ISN, once its SYN-ACK went out */
	uint8_t guest_mac[6], dst_mac[6];
	bool v4;
	bool acked;		/* libslirp has sent its SYN-ACK */
	double since;
};

struct nat_pollfd {
	struct nat *nat;
	struct loop_watch w;
	int events;	/* SLIRP_POLL_* libslirp asked for */
	int revents;
	bool seen;
};

struct nat_timer {
	struct nat *nat;
	struct loop_timer t;
	SlirpTimerId id;
	void *cb_opaque;
};

struct nat {
	struct loop *loop;
	struct nat_config conf;
	Slirp *slirp;
	struct loop_hook hook;
	struct nat_link *links[NAT_MAX_LINKS];
	unsigned nlinks;
	/* libslirp's fds: poll entries, and fd -> entry index + 1 */
	struct nat_pollfd **pfd;
	size_t npfd, cappfd;
	int *fdmap;
	size_t capfdmap;
	struct loop_timer wake;
	struct nat_fwd *fwd;
	size_t nfwd, capfwd;
	struct nat_stats st;
	struct dhcp4 *dhcp;
	struct in_addr dns_hidden;
	struct in_addr vhost;	/* libslirp's host address: the host alias */
	uint8_t gw_mac[6], host_mac[6];
	int pcap;		/* pcap= capture file, or -1 */
	uint8_t *reply;		/* frames the engine answers itself */
	uint8_t *txbuf;		/* libslirp's frames that need an edit */
	struct syn_entry syn[NAT_SYN_BACKLOG];
	unsigned nsyn;
	struct nat *next_engine;	/* for nat_log_stats() */
};

static struct nat *engines;

/* ---- addresses ------------------------------------------------------------- */

static struct in_addr host_part(const struct nat_config *c, uint32_t n)
{
	struct in_addr a = { htonl(ntohl(c->network.s_addr) | n) };

	return a;
}

/**
 * nat_config_defaults() - gvproxy's network: 192.168.127.0/24, gateway .1,
 *			   first lease .2, the host at .254, MTU 1500, IPv6
 *			   fd00::/64 with the host at fd00::1, DNS at fd00::3
 */
void nat_config_defaults(struct nat_config *c)
{
	memset(c, 0, sizeof(*c));
	inet_pton(AF_INET, "192.168.127.0", &c->network);
	inet_pton(AF_INET, "255.255.255.0", &c->netmask);
	c->gateway = host_part(c, 1);
	c->dhcp_start = host_part(c, 2);
	c->host_ip = host_part(c, 254);
	c->host_loopback = true;
	c->ipv6 = true;
	inet_pton(AF_INET6, "fd00::", &c->prefix6);
	c->prefix6_len = 64;
	inet_pton(AF_INET6, "fd00::1", &c->gateway6);
	inet_pton(AF_INET6, "fd00::3", &c->dns6);
	c->mtu = 1500;
}

/* libslirp's own MAC for an address of its: 52:55 and the IPv4 address */
static void slirp_mac(struct in_addr a, uint8_t mac[6])
{
	mac[0] = 0x52;
	mac[1] = 0x55;
	memcpy(mac + 2, &a.s_addr, 4);
}

/* ---- capture ---------------------------------------------------------------- */

static void capture(struct nat *nat, const uint8_t *frame, size_t len)
{
	int rc;

	if (nat->pcap < 0)
		return;
	rc = pcap_write(nat->pcap, frame, len);
	if (rc < 0) {
		log_warn("NAT: pcap: %s: capture stopped", strerror(-rc));
		close(nat->pcap);
		nat->pcap = -1;
	}
}

/* ---- the switch -------------------------------------------------------------- */

static bool mac_is_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

static struct nat_link *link_of_mac(const struct nat *nat, const uint8_t *mac)
{
	for (unsigned i = 0; i < nat->nlinks; i++)
		for (unsigned j = 0; j < nat->links[i]->nmacs; j++)
			if (!memcmp(nat->links[i]->macs[j], mac, 6))
				return nat->links[i];
	return NULL;
}

static void learn(struct nat_link *link, const uint8_t *mac)
{
	struct nat *nat = link->nat;
	struct nat_link *owner;

	if (mac_is_group(mac) || !memcmp(mac, nat->gw_mac, 6) || !memcmp(mac, nat->host_mac, 6))
		return;
	owner = link_of_mac(nat, mac);
	if (owner == link)
		return;
	if (owner) {
		/* the guest moved (reconnected on a new link) */
		for (unsigned j = 0; j < owner->nmacs; j++)
			if (!memcmp(owner->macs[j], mac, 6))
				memcpy(owner->macs[j], owner->macs[--owner->nmacs], 6);
	}
	if (link->nmacs < MACS_PER_LINK) {
		memcpy(link->macs[link->nmacs++], mac, 6);
	} else {
		memcpy(link->macs[link->next_mac], mac, 6);
		link->next_mac = (link->next_mac + 1) % MACS_PER_LINK;
	}
}

static void to_link(struct nat *nat, struct nat_link *link, const uint8_t *frame, size_t len)
{
	if (link->out(link->arg, frame, len) < 0) {
		nat->st.drop_queue++;
		return;
	}
	nat->st.frames_out++;
	nat->st.bytes_out += len;
}

/* A frame for the guests: to the link that has its destination, or to
 * every link but @except */
static void switch_out(struct nat *nat, const uint8_t *frame, size_t len,
		       const struct nat_link *except)
{
	struct nat_link *link = mac_is_group(frame) ? NULL : link_of_mac(nat, frame);

	capture(nat, frame, len);
	if (link) {
		to_link(nat, link, frame, len);
		return;
	}
	for (unsigned i = 0; i < nat->nlinks; i++)
		if (nat->links[i] != except)
			to_link(nat, nat->links[i], frame, len);
}

/* ---- checksums ------------------------------------------------------------------- */

static uint64_t csum_add(uint64_t sum, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint64_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint64_t)b[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* An IPv4 header whose checksum fails would be dropped by libslirp
 * without a word (and answered by the engine's own services): count it.
 * netpkt_parse() has checked that the header is in the frame. */
static bool ip4_header_ok(const uint8_t *frame, const struct netpkt *p)
{
	const uint8_t *ip = frame + p->l3_off;

	return csum_fold(csum_add(0, ip, (size_t)(ip[0] & 0x0f) * 4)) == 0;
}

/* ---- the SYN backlog ------------------------------------------------------------- */

#define TH_FIN	0x01
#define TH_SYN	0x02
#define TH_RST	0x04
#define TH_ACK	0x10

static void addr_key(const struct netpkt *p, bool src, const struct in_addr *v4,
		     struct in6_addr *a)
{
	if (p->ipver == 6) {
		*a = src ? p->src6 : p->dst6;
		return;
	}
	memset(a, 0, sizeof(*a));
	a->s6_addr[10] = a->s6_addr[11] = 0xff;
	memcpy(a->s6_addr + 12, v4 ? v4 : src ? &p->src4 : &p->dst4, 4);
}

static struct syn_entry *syn_find(struct nat *nat, const struct in6_addr *guest, uint16_t gport,
				  const struct in6_addr *dst, uint16_t dport)
{
	for (unsigned i = 0; i < nat->nsyn; i++) {
		struct syn_entry *e = &nat->syn[i];

		if (e->gport == gport && e->dport == dport && !memcmp(&e->guest, guest, 16) &&
		    !memcmp(&e->dst, dst, 16))
			return e;
	}
	return NULL;
}

static void syn_remove(struct nat *nat, struct syn_entry *e)
{
	e->link->half_open--;
	*e = nat->syn[--nat->nsyn];
	nat->st.tcp_half_open = nat->nsyn;
}

/* End a flow on the guest's behalf: a RST at the sequence number libslirp
 * expects next makes it close the flow and its host socket */
static void syn_reset(struct nat *nat, const struct syn_entry *e)
{
	uint8_t f[NETPKT_ETH_HLEN + 40 + 20] = { 0 };
	uint8_t *ip = f + NETPKT_ETH_HLEN, *tcp;
	size_t iphl;
	uint64_t sum;

	memcpy(f, e->dst_mac, 6);
	memcpy(f + 6, e->guest_mac, 6);
	if (e->v4) {
		put16(f + 12, NETPKT_ETHERTYPE_IP);
		iphl = 20;
		ip[0] = 0x45;
		put16(ip + 2, 20 + 20);
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, e->guest.s6_addr + 12, 4);
		memcpy(ip + 16, e->dst.s6_addr + 12, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, iphl)));
		sum = csum_add(0, ip + 12, 8);
	} else {
		put16(f + 12, NETPKT_ETHERTYPE_IPV6);
		iphl = 40;
		ip[0] = 0x60;
		put16(ip + 4, 20);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, &e->guest, 16);
		memcpy(ip + 24, &e->dst, 16);
		sum = csum_add(0, ip + 8, 32);
	}
	tcp = ip + iphl;
	put16(tcp, e->gport);
	put16(tcp + 2, e->dport);
	put16(tcp + 4, (uint16_t)(e->next_seq >> 16));
	put16(tcp + 6, (uint16_t)e->next_seq);
	tcp[12] = 5 << 4;
	tcp[13] = TH_RST;
	put16(tcp + 16, csum_fold(csum_add(sum + IPPROTO_TCP + 20, tcp, 20)));
	capture(nat, f, NETPKT_ETH_HLEN + iphl + 20);
	slirp_input(nat->slirp, f, (int)(NETPKT_ETH_HLEN + iphl + 20));
}

/* Reset and forget the flows older than NAT_SYN_TIMEOUT (all of @link's,
 * when it goes: nobody is left to complete them).  libslirp has mostly
 * timed them out itself; not if the guest sent the SYN again after the
 * SYN-ACK, which restarts libslirp's timer for two hours. */
static void syn_expire(struct nat *nat, double now, const struct nat_link *link)
{
	for (unsigned i = nat->nsyn; i-- > 0;) {
		struct syn_entry e;

		/* a reset may have made libslirp answer, and the answer
		 * may have taken entries out */
		if (i >= nat->nsyn)
			continue;
		if (link ? nat->syn[i].link != link : now - nat->syn[i].since < NAT_SYN_TIMEOUT)
			continue;
		e = nat->syn[i];
		syn_remove(nat, &nat->syn[i]);
		syn_reset(nat, &e);
	}
}

/* The TCP checksum of a (short) segment: checked for SYNs only, before
 * they take a place in the backlog */
static bool tcp_csum_ok(const uint8_t *frame, const struct netpkt *p)
{
	const uint8_t *ip = frame + p->l3_off, *tcp = frame + p->l4_off;
	size_t n = (size_t)(p->payload - tcp) + p->plen;
	uint64_t sum = IPPROTO_TCP + n;

	sum += p->ipver == 4 ? csum_add(0, ip + 12, 8) : csum_add(0, ip + 8, 32);
	return csum_fold(csum_add(sum, tcp, n)) == 0;
}

/*
 * syn_admit() - a guest's TCP segment on its way to libslirp: a new SYN
 * takes a place in the backlog, the guest's ACK of libslirp's SYN-ACK
 * frees it.  @dst4 is the destination libslirp will see (NULL: the frame's).
 * Return: false if the segment is a SYN that finds no place or has a bad
 * checksum (dropped and counted)
 */
static bool syn_admit(struct nat *nat, struct nat_link *link, const struct netpkt *p,
		      const uint8_t *frame, const struct in_addr *dst4)
{
	const uint8_t *tcp = frame + p->l4_off;
	struct in6_addr guest, dst;
	struct syn_entry *e;
	uint8_t flags;

	if (p->proto != IPPROTO_TCP || p->frag || (p->ipver != 4 && p->ipver != 6))
		return true;
	flags = tcp[13] & (TH_FIN | TH_SYN | TH_RST | TH_ACK);
	if (flags != TH_SYN && !nat->nsyn)
		return true;
	addr_key(p, true, NULL, &guest);
	addr_key(p, false, dst4, &dst);
	e = syn_find(nat, &guest, p->sport, &dst, p->dport);
	if (flags != TH_SYN) {
		/* only what libslirp takes as the end of the handshake:
		 * before its SYN-ACK it ignores the guest entirely */
		if (e && e->acked && (flags & TH_ACK) && get32(tcp + 8) == e->slirp_seq + 1)
			syn_remove(nat, e);
		return true;
	}
	if (e)
		return true;	/* the guest's TCP sends its SYN again */
	if (!tcp_csum_ok(frame, p)) {
		/* libslirp would drop it; it must not take a place either */
		nat->st.drop_malformed++;
		return false;
	}
	if (link->half_open >= NAT_SYN_BACKLOG_LINK || nat->nsyn == NAT_SYN_BACKLOG)
		syn_expire(nat, util_now(), NULL);
	if (link->half_open >= NAT_SYN_BACKLOG_LINK || nat->nsyn == NAT_SYN_BACKLOG) {
		nat->st.drop_syn_backlog++;
		return false;
	}
	e = &nat->syn[nat->nsyn++];
	*e = (struct syn_entry){ .link = link, .guest = guest, .dst = dst, .gport = p->sport,
				 .dport = p->dport, .next_seq = get32(tcp + 4) + 1,
				 .v4 = p->ipver == 4, .since = util_now() };
	memcpy(e->guest_mac, p->src_mac, 6);
	memcpy(e->dst_mac, p->dst_mac, 6);
	link->half_open++;
	nat->st.tcp_half_open = nat->nsyn;
	return true;
}

/* A frame from libslirp: its SYN-ACK, or the end of a flow in the backlog
 * (a RST, or ICMP unreachable when the host connect failed) */
static void syn_from_slirp(struct nat *nat, const uint8_t *frame, const struct netpkt *p)
{
	struct in6_addr guest, dst;
	struct syn_entry *e;

	if (!nat->nsyn || p->frag)
		return;
	if (p->proto == IPPROTO_TCP) {
		const uint8_t *tcp = frame + p->l4_off;

		addr_key(p, false, NULL, &guest);
		addr_key(p, true, NULL, &dst);
		e = syn_find(nat, &guest, p->dport, &dst, p->sport);
		if (!e)
			return;
		if (tcp[13] & TH_RST) {
			syn_remove(nat, e);
		} else if ((tcp[13] & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
			e->acked = true;
			e->slirp_seq = get32(tcp + 4);
		}
		return;
	}
	/* ICMP(v6) destination unreachable quotes the guest's packet */
	if ((p->proto == IPPROTO_ICMP && p->ipver == 4 && p->plen >= 8 + 20 + 4 &&
	     p->payload[0] == 3) ||
	    (p->proto == IPPROTO_ICMPV6 && p->ipver == 6 && p->plen >= 8 + 40 + 4 &&
	     p->payload[0] == 1)) {
		const uint8_t *in = p->payload + 8, *l4;

		memset(&guest, 0, sizeof(guest));
		memset(&dst, 0, sizeof(dst));
		if (p->ipver == 4) {
			size_t ihl = (size_t)(in[0] & 0x0f) * 4;

			if (in[9] != IPPROTO_TCP || ihl < 20 || p->plen < 8 + ihl + 4)
				return;
			guest.s6_addr[10] = guest.s6_addr[11] = 0xff;
			dst.s6_addr[10] = dst.s6_addr[11] = 0xff;
			memcpy(guest.s6_addr + 12, in + 12, 4);
			memcpy(dst.s6_addr + 12, in + 16, 4);
			l4 = in + ihl;
		} else {
			if (in[6] != IPPROTO_TCP)
				return;
			memcpy(&guest, in + 8, 16);
			memcpy(&dst, in + 24, 16);
			l4 = in + 40;
		}
		e = syn_find(nat, &guest, (uint16_t)(l4[0] << 8 | l4[1]), &dst,
			     (uint16_t)(l4[2] << 8 | l4[3]));
		if (e)
			syn_remove(nat, e);
	}
}

/* ---- libslirp's callbacks ------------------------------------------------------- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct nat *nat = opaque;
	const uint8_t *frame = buf;
	struct netpkt p;

	if (len > FRAME_MAX || netpkt_parse(frame, len, &p) < 0) {
		switch_out(nat, frame, len, NULL);
		return (ssize_t)len;
	}
	syn_from_slirp(nat, frame, &p);
	/* answers from the hidden DNS address come from the gateway */
	if (p.ipver == 4 && p.src4.s_addr == nat->dns_hidden.s_addr && p.sport == 53) {
		memcpy(nat->txbuf, frame, len);
		netpkt_rewrite4(nat->txbuf, len, false, nat->dns_hidden, nat->conf.gateway);
		frame = nat->txbuf;
	}
	switch_out(nat, frame, len, NULL);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	log_info("NAT: guest error: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	return (int64_t)(util_now() * 1e9);
}

static void timer_fired(struct loop *loop, struct loop_timer *t)
{
	struct nat_timer *nt = t->arg;

	slirp_handle_timer(nt->nat->slirp, nt->id, nt->cb_opaque);
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct nat_timer *nt = calloc(1, sizeof(*nt));

	if (!nt)
		return NULL;
	nt->nat = opaque;
	nt->id = id;
	nt->cb_opaque = cb_opaque;
	loop_timer_init(&nt->t, timer_fired, nt);
	return nt;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct nat_timer *nt = timer;

	if (!nt)
		return;
	loop_timer_cancel(nt->nat->loop, &nt->t);
	free(nt);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct nat_timer *nt = timer;

	if (nt)
		loop_timer_arm(nt->nat->loop, &nt->t, (double)expire_ms / 1000.0);
}

static void cb_register_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
}

static void cb_unregister_poll_fd(int fd, void *opaque);

static const SlirpCb slirp_callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
	.timer_new_opaque = cb_timer_new_opaque,
};

/* ---- libslirp's fds in vrelay's loop ----------------------------------------------- */

static void pfd_event(struct loop *loop, struct loop_watch *w, unsigned events)
{
	struct nat_pollfd *e = w->arg;

	/* the loop folds errors and hang-ups into IN and OUT, and libslirp's
	 * next read or write finds out which it was.  Never PRI: libslirp
	 * would read ordinary data as urgent */
	if (events & LOOP_IN)
		e->revents |= SLIRP_POLL_IN;
	if (events & LOOP_OUT)
		e->revents |= SLIRP_POLL_OUT;
}

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct nat *nat = opaque;
	struct nat_pollfd *e;
	size_t idx;

	if (fd < 0)
		return -1;
	if ((size_t)fd >= nat->capfdmap) {
		size_t cap = nat->capfdmap ? nat->capfdmap : 64;
		int *m;

		while (cap <= (size_t)fd)
			cap *= 2;
		m = realloc(nat->fdmap, cap * sizeof(*m));
		if (!m)
			return -1;
		memset(m + nat->capfdmap, 0, (cap - nat->capfdmap) * sizeof(*m));
		nat->fdmap = m;
		nat->capfdmap = cap;
	}
	if (nat->fdmap[fd]) {
		idx = (size_t)nat->fdmap[fd] - 1;
		e = nat->pfd[idx];
		/* libslirp may ask twice for one fd in one round */
		e->events = e->seen ? e->events | events : events;
	} else {
		if (nat->npfd == nat->cappfd) {
			size_t cap = nat->cappfd ? nat->cappfd * 2 : 64;
			/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
			struct nat_pollfd **a = realloc(nat->pfd, cap * sizeof(*a));

			if (!a)
				return -1;
			nat->pfd = a;
			nat->cappfd = cap;
		}
		e = calloc(1, sizeof(*e));
		if (!e)
			return -1;
		e->nat = nat;
		e->w = (struct loop_watch){ .fd = fd, .fn = pfd_event, .arg = e };
		loop_add(nat->loop, &e->w, 0);
		idx = nat->npfd++;
		nat->pfd[idx] = e;
		nat->fdmap[fd] = (int)idx + 1;
		e->events = events;
	}
	e->seen = true;
	return (int)idx;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct nat *nat = opaque;

	if (idx < 0 || (size_t)idx >= nat->npfd)
		return 0;
	return nat->pfd[idx]->revents;
}

static void pfd_remove(struct nat *nat, size_t idx)
{
	struct nat_pollfd *e = nat->pfd[idx];

	if (e->w.fd >= 0) {
		nat->fdmap[e->w.fd] = 0;
		loop_del(nat->loop, &e->w);
	}
	/* the loop may still hold it in this batch's event list: free later */
	loop_defer(nat->loop, free, e);
	nat->pfd[idx] = nat->pfd[--nat->npfd];
	if (idx < nat->npfd && nat->pfd[idx]->w.fd >= 0)
		nat->fdmap[nat->pfd[idx]->w.fd] = (int)idx + 1;
}

/*
 * libslirp is about to close @fd.  Leave epoll now, while the fd is still
 * the file we registered: the number may come back at once as a new
 * socket, which must not inherit this entry.  The entry itself stays in
 * its slot until the round is over, because libslirp holds its index.
 */
static void cb_unregister_poll_fd(int fd, void *opaque)
{
	struct nat *nat = opaque;
	struct nat_pollfd *e;

	if (fd < 0 || (size_t)fd >= nat->capfdmap || !nat->fdmap[fd])
		return;
	e = nat->pfd[nat->fdmap[fd] - 1];
	loop_del(nat->loop, &e->w);
	nat->fdmap[fd] = 0;
	e->w.fd = -1;
	e->seen = false;
}

static void wake_up(struct loop *loop, struct loop_timer *t)
{
	/* nothing: the check hook after this batch calls libslirp */
}

/* Before the loop waits: which fds does libslirp want, and for what? */
static void nat_prepare(struct loop *loop, struct loop_hook *h)
{
	struct nat *nat = h->arg;
	uint32_t timeout = UINT32_MAX;

	for (size_t i = 0; i < nat->npfd; i++) {
		nat->pfd[i]->seen = false;
		nat->pfd[i]->revents = 0;
	}
	slirp_pollfds_fill(nat->slirp, &timeout, cb_add_poll, nat);
	/* indexes must stay as libslirp was told until nat_check() */
	for (size_t i = 0; i < nat->npfd; i++) {
		struct nat_pollfd *e = nat->pfd[i];
		unsigned want = 0;

		if (e->w.fd < 0)
			continue;
		if (e->seen && (e->events & SLIRP_POLL_IN))
			want |= LOOP_IN;
		if (e->seen && (e->events & SLIRP_POLL_OUT))
			want |= LOOP_OUT;
		loop_set(loop, &e->w, want);
	}
	if (timeout != UINT32_MAX)
		loop_timer_arm(loop, &nat->wake, util_now() + timeout / 1000.0);
}

/* After the callbacks: let libslirp do its reads, writes and timeouts,
 * then drop the entries of fds it no longer asks about */
static void nat_check(struct loop *loop, struct loop_hook *h)
{
	struct nat *nat = h->arg;

	slirp_pollfds_poll(nat->slirp, 0, cb_get_revents, nat);
	for (size_t i = nat->npfd; i-- > 0;)
		if (!nat->pfd[i]->seen || nat->pfd[i]->w.fd < 0)
			pfd_remove(nat, i);
}

/* ---- frames from the guests ------------------------------------------------------- */

static bool for_gateway_dns(const struct nat *nat, const struct netpkt *p)
{
	if (p->dport != 53 || (p->proto != IPPROTO_UDP && p->proto != IPPROTO_TCP))
		return false;
	if (p->ipver == 4)
		return p->dst4.s_addr == nat->conf.gateway.s_addr;
	return p->ipver == 6 && nat->conf.ipv6 &&
	       !memcmp(&p->dst6, &nat->conf.dns6, sizeof(p->dst6));
}

/* Answered here rather than by libslirp?  Then the reply is sent back */
static bool answer_here(struct nat *nat, struct nat_link *link, const struct netpkt *p,
			const uint8_t *frame, size_t len)
{
	const struct nat_config *c = &nat->conf;
	size_t n = 0;

	if (p->ethertype == 0x0806 && p->arp_op == 1 &&
	    p->arp_tip.s_addr == c->gateway.s_addr) {
		n = netpkt_arp_reply(p, nat->gw_mac, nat->reply, FRAME_MAX);
	} else if (p->ipver == 4 && p->proto == IPPROTO_ICMP &&
		   p->dst4.s_addr == c->gateway.s_addr) {
		n = netpkt_icmp4_echo_reply(frame, len, p, nat->gw_mac, nat->reply, FRAME_MAX);
		if (!n)
			return true;	/* other ICMP to the gateway: dropped */
	} else if (p->ipver == 4 && p->proto == IPPROTO_UDP && p->dport == 67) {
		n = dhcp4_input(nat->dhcp, p, nat->gw_mac, util_now(), nat->reply, FRAME_MAX);
		if (n)
			nat->st.dhcp_replies++;
		else
			return true;	/* not for us, or the pool is full: dropped */
	} else if (p->proto == IPPROTO_UDP && for_gateway_dns(nat, p) && c->zones) {
		uint8_t msg[1500];
		size_t m = dnszone_answer(c->zones, p->payload, p->plen, msg, sizeof(msg));

		if (!m)
			return false;
		nat->st.dns_static++;
		n = netpkt_udp_reply(p, p->ipver == 4 ? nat->gw_mac : p->dst_mac, msg, m,
				     nat->reply, FRAME_MAX);
	} else {
		return false;
	}
	if (n) {
		capture(nat, nat->reply, n);
		to_link(nat, link, nat->reply, n);
	}
	return true;
}

/*
 * May this frame go on to libslirp?  libslirp sends a flow to an address
 * of the virtual network that is none of its own out to the real network
 * under that same address - somebody else's host.  Only the host alias,
 * broadcasts and (rewritten) DNS are meant for it; the gateway's other
 * ports and unknown guests are a dead end.
 */
static bool slirp_may_see(const struct nat *nat, const struct netpkt *p)
{
	const struct nat_config *c = &nat->conf;

	if (p->ipver == 4) {
		uint32_t bcast = c->network.s_addr | ~c->netmask.s_addr;
		uint8_t first = ((const uint8_t *)&p->dst4.s_addr)[0];

		/* 127/8 and 0/8 would be the host's own: the way to the
		 * host's loopback is the host alias, and only while
		 * host-loopback is on */
		if (first == 127 || first == 0)
			return false;
		if ((p->dst4.s_addr & c->netmask.s_addr) != c->network.s_addr)
			return true;
		/* the hidden DNS address is reached through the gateway's
		 * port 53 only (rewritten before this) */
		return p->dst4.s_addr == nat->vhost.s_addr || p->dst4.s_addr == bcast;
	}
	if (p->ipver == 6 && (IN6_IS_ADDR_LOOPBACK(&p->dst6) || IN6_IS_ADDR_UNSPECIFIED(&p->dst6) ||
			      IN6_IS_ADDR_V4MAPPED(&p->dst6)))
		return false;
	if (p->ipver == 6 && p->dst6.s6_addr[0] != 0xff && p->dst6.s6_addr[0] != 0xfe) {
		struct in6_addr a = p->dst6;
		unsigned len = c->prefix6_len;

		for (unsigned i = 0; i < 16; i++) {
			unsigned bits = len >= 8 ? 8 : len;

			a.s6_addr[i] &= (uint8_t)(0xff00 >> bits);
			len -= bits;
		}
		if (memcmp(&a, &c->prefix6, sizeof(a)))
			return true;
		return !memcmp(&p->dst6, &c->gateway6, sizeof(a)) ||
		       !memcmp(&p->dst6, &c->dns6, sizeof(a));
	}
	return true;
}

/**
 * nat_link_input() - a frame from a guest on @link
 */
void nat_link_input(struct nat_link *link, const uint8_t *frame, size_t len)
{
	struct nat *nat = link->nat;
	struct nat_link *dst;
	struct netpkt p;

	nat->st.frames_in++;
	nat->st.bytes_in += len;
	capture(nat, frame, len);
	if (len > FRAME_FOR_MTU(nat->conf.mtu)) {
		nat->st.drop_oversize++;
		return;
	}
	if (netpkt_parse(frame, len, &p) < 0 || (p.ipver == 4 && !ip4_header_ok(frame, &p))) {
		nat->st.drop_malformed++;
		return;
	}
	learn(link, p.src_mac);
	/* the switch: a frame for another guest goes only there */
	if (!mac_is_group(p.dst_mac)) {
		dst = link_of_mac(nat, p.dst_mac);
		if (dst) {
			if (dst != link)
				to_link(nat, dst, frame, len);
			return;
		}
	} else if (nat->nlinks > 1) {
		for (unsigned i = 0; i < nat->nlinks; i++)
			if (nat->links[i] != link)
				to_link(nat, nat->links[i], frame, len);
	}
	if (answer_here(nat, link, &p, frame, len))
		return;
	/* libslirp (4.7.0 at least) crashes on the last fragment of a
	 * datagram it holds no other fragment of: one frame would end the
	 * engine.  Guests on a link with an MTU fragment next to nothing (TCP
	 * sets DF), so IPv4 fragments go no further */
	if (p.ipver == 4 && p.frag) {
		nat->st.drop_malformed++;
		return;
	}
	if (p.ipver == 4 && for_gateway_dns(nat, &p)) {
		if (!syn_admit(nat, link, &p, frame, &nat->dns_hidden))
			return;
		/* libslirp's frame is its own copy: rewrite into ours */
		memcpy(nat->reply, frame, len);
		netpkt_rewrite4(nat->reply, len, true, nat->conf.gateway, nat->dns_hidden);
		slirp_input(nat->slirp, nat->reply, (int)len);
		return;
	}
	if (!slirp_may_see(nat, &p)) {
		nat->st.drop_unroutable++;
		return;
	}
	if (!syn_admit(nat, link, &p, frame, NULL))
		return;
	slirp_input(nat->slirp, frame, (int)len);
}

/**
 * nat_link_new() - attach a guest link: frames for it go to @out(@arg)
 * Return: the link, or NULL when NAT_MAX_LINKS are attached
 */
struct nat_link *nat_link_new(struct nat *nat, nat_output_fn out, void *arg)
{
	struct nat_link *link;

	if (nat->nlinks == NAT_MAX_LINKS || !(link = calloc(1, sizeof(*link))))
		return NULL;
	link->nat = nat;
	link->out = out;
	link->arg = arg;
	nat->links[nat->nlinks++] = link;
	nat->st.links = nat->nlinks;
	log_info("NAT: link attached (%u now)", nat->nlinks);
	return link;
}

void nat_link_free(struct nat_link *link)
{
	struct nat *nat;

	if (!link)
		return;
	nat = link->nat;
	for (unsigned i = 0; i < nat->nlinks; i++) {
		if (nat->links[i] == link) {
			nat->links[i] = nat->links[--nat->nlinks];
			break;
		}
	}
	/* out of the switch first: nothing libslirp says now goes to it */
	syn_expire(nat, 0, link);
	nat->st.links = nat->nlinks;
	log_info("NAT: link detached (%u left)", nat->nlinks);
	free(link);
}

/* ---- forwards ----------------------------------------------------------------------- */

static ssize_t fwd_find(const struct nat *nat, const struct nat_fwd *f)
{
	for (size_t i = 0; i < nat->nfwd; i++)
		if (nat->fwd[i].udp == f->udp && nat->fwd[i].host_port == f->host_port &&
		    nat->fwd[i].host_addr.s_addr == f->host_addr.s_addr)
			return (ssize_t)i;
	return -1;
}

static void fwd_format(const struct nat_fwd *f, char *buf, size_t size)
{
	char h[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &f->host_addr, h, sizeof(h));
	inet_ntop(AF_INET, &f->guest_addr, g, sizeof(g));
	snprintf(buf, size, "%s:%s:%u -> %s:%u", f->udp ? "udp" : "tcp", h, f->host_port, g,
		 f->guest_port);
}

/**
 * nat_expose() - forward a host port to a guest address
 * Return: 0, -EEXIST if that host port is forwarded already, or a negative
 *	   errno with the message in @err
 */
int nat_expose(struct nat *nat, const struct nat_fwd *f, struct errbuf *err)
{
	char what[128];

	fwd_format(f, what, sizeof(what));
	if (fwd_find(nat, f) >= 0) {
		err_set(err, "forward %s: that host port is forwarded already", what);
		return -EEXIST;
	}
	if ((f->guest_addr.s_addr & nat->conf.netmask.s_addr) != nat->conf.network.s_addr) {
		err_set(err, "forward %s: the guest address is outside the virtual network", what);
		return -EINVAL;
	}
	if (nat->nfwd == nat->capfwd) {
		size_t cap = nat->capfwd ? nat->capfwd * 2 : 8;
		struct nat_fwd *a = realloc(nat->fwd, cap * sizeof(*a));

		if (!a) {
			err_set(err, "out of memory");
			return -ENOMEM;
		}
		nat->fwd = a;
		nat->capfwd = cap;
	}
	errno = 0;
	if (slirp_add_hostfwd(nat->slirp, f->udp, f->host_addr, f->host_port, f->guest_addr,
			      f->guest_port) < 0) {
		int e = errno ? errno : EADDRINUSE;

		err_set(err, "forward %s: cannot listen on the host port: %s", what, strerror(e));
		return -e;
	}
	nat->fwd[nat->nfwd++] = *f;
	log_notice("NAT: forwarding %s", what);
	return 0;
}

/**
 * nat_unexpose() - stop forwarding the host port of @f (its guest side is
 *		    not compared)
 * Return: 0, or -ENOENT if it was not forwarded
 */
int nat_unexpose(struct nat *nat, const struct nat_fwd *f, struct errbuf *err)
{
	ssize_t i = fwd_find(nat, f);
	char what[128];

	if (i < 0) {
		fwd_format(f, what, sizeof(what));
		err_set(err, "forward %s: not forwarded", what);
		return -ENOENT;
	}
	slirp_remove_hostfwd(nat->slirp, f->udp, f->host_addr, f->host_port);
	fwd_format(&nat->fwd[i], what, sizeof(what));
	log_notice("NAT: no longer forwarding %s", what);
	nat->fwd[i] = nat->fwd[--nat->nfwd];
	return 0;
}

size_t nat_forwards(const struct nat *nat, struct nat_fwd *out, size_t max)
{
	size_t n = nat->nfwd < max ? nat->nfwd : max;

	if (n)
		memcpy(out, nat->fwd, n * sizeof(*out));
	return nat->nfwd;
}

void nat_get_stats(const struct nat *nat, struct nat_stats *st)
{
	*st = nat->st;
}

/**
 * nat_log_stats() - one line of counters for each engine of the process
 *		     (for -S and SIGUSR1, next to the relay's own)
 */
void nat_log_stats(void)
{
	for (const struct nat *nat = engines; nat; nat = nat->next_engine) {
		const struct nat_stats *st = &nat->st;

		log_msg(LOG_LVL_ERR,
			"NAT: frames from guests %llu, to guests %llu; dropped: %llu too long, "
			"%llu malformed, %llu queue full, %llu unroutable, %llu SYN backlog full; "
			"%u half-open TCP, %u links",
			(unsigned long long)st->frames_in, (unsigned long long)st->frames_out,
			(unsigned long long)st->drop_oversize,
			(unsigned long long)st->drop_malformed, (unsigned long long)st->drop_queue,
			(unsigned long long)st->drop_unroutable,
			(unsigned long long)st->drop_syn_backlog, st->tcp_half_open, st->links);
	}
}

/* ---- the engine ----------------------------------------------------------------------- */

/**
 * nat_new() - start an engine in @loop
 * Return: the engine, or NULL with a one-line message in @err
 */
struct nat *nat_new(struct loop *loop, const struct nat_config *conf, struct errbuf *err)
{
	struct nat *nat = calloc(1, sizeof(*nat));
	uint32_t hostbits;
	SlirpConfig sc = { .version = 4 };
	struct dhcp4_conf dc = { 0 };
	char net[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];

	if (!nat) {
		err_set(err, "out of memory");
		return NULL;
	}
	nat->pcap = -1;	/* before any failure: nat_free() looks at it */
	if (!(nat->reply = malloc(FRAME_MAX)) || !(nat->txbuf = malloc(FRAME_MAX))) {
		err_set(err, "out of memory");
		goto fail;
	}
	nat->loop = loop;
	nat->conf = *conf;
	loop_timer_init(&nat->wake, wake_up, nat);
	hostbits = ~ntohl(conf->netmask.s_addr);
	if (hostbits < 7) {
		err_set(err, "subnet: too small (at least a /29)");
		goto fail;
	}
	/* the hidden DNS address: the last but one below the broadcast that
	 * is neither the gateway nor the host alias */
	for (uint32_t n = hostbits - 1; n > 1; n--) {
		struct in_addr a = host_part(conf, n);

		if (a.s_addr != conf->gateway.s_addr && a.s_addr != conf->host_ip.s_addr &&
		    a.s_addr != conf->dhcp_start.s_addr && n != hostbits - 1) {
			nat->dns_hidden = a;
			break;
		}
	}
	/* libslirp's own address is the host alias: it answers its ARP and
	 * pings, and sends its flows to the host's loopback.  The gateway is
	 * vrelay's (ARP, ping, DHCP, DNS) */
	nat->vhost = conf->host_ip.s_addr ? conf->host_ip : host_part(conf, hostbits - 1);
	slirp_mac(conf->gateway, nat->gw_mac);
	slirp_mac(nat->vhost, nat->host_mac);

	sc.in_enabled = true;
	sc.vnetwork = conf->network;
	sc.vnetmask = conf->netmask;
	sc.vhost = nat->vhost;
	sc.vdhcp_start = conf->dhcp_start;
	sc.vnameserver = nat->dns_hidden;
	sc.in6_enabled = conf->ipv6;
	sc.vprefix_addr6 = conf->prefix6;
	sc.vprefix_len = (uint8_t)conf->prefix6_len;
	sc.vhost6 = conf->gateway6;
	sc.vnameserver6 = conf->dns6;
	sc.if_mtu = conf->mtu;
	sc.if_mru = conf->mtu;
	sc.disable_host_loopback = !conf->host_loopback;
	sc.disable_dhcp = true;
	nat->slirp = slirp_new(&sc, &slirp_callbacks, nat);
	if (!nat->slirp) {
		err_set(err, "libslirp would not start with this configuration");
		goto fail;
	}

	dc.server = conf->gateway;
	dc.netmask = conf->netmask;
	dc.router = conf->gateway;
	dc.dns = conf->gateway;
	dc.start = conf->dhcp_start;
	/* up to the hidden DNS address, which is handed to no one */
	dc.pool = ntohl(nat->dns_hidden.s_addr) > ntohl(conf->dhcp_start.s_addr) ?
		  ntohl(nat->dns_hidden.s_addr) - ntohl(conf->dhcp_start.s_addr) : 1;
	if (dc.pool > DHCP4_POOL_MAX)
		dc.pool = DHCP4_POOL_MAX;
	dc.lease_secs = DHCP_LEASE_SECS;
	dc.mtu = conf->mtu;
	dc.exclude = conf->host_ip;
	nat->dhcp = dhcp4_new(&dc);
	if (!nat->dhcp) {
		err_set(err, "out of memory");
		goto fail;
	}
	if (conf->pcap_path) {
		nat->pcap = pcap_open(conf->pcap_path, false);
		if (nat->pcap < 0) {
			err_set(err, "pcap: %s: %s", conf->pcap_path, strerror(-nat->pcap));
			goto fail;
		}
	}
	nat->hook = (struct loop_hook){ .prepare = nat_prepare, .check = nat_check, .arg = nat };
	loop_hook_add(loop, &nat->hook);
	nat->next_engine = engines;
	engines = nat;
	for (size_t i = 0; i < conf->nfwd; i++)
		if (nat_expose(nat, &conf->fwd[i], err) < 0)
			goto fail;
	inet_ntop(AF_INET, &conf->network, net, sizeof(net));
	inet_ntop(AF_INET, &conf->gateway, gw, sizeof(gw));
	log_notice("NAT: ready: network %s/%d, gateway %s, MTU %u%s", net,
		   32 - __builtin_popcount(hostbits), gw, conf->mtu,
		   conf->ipv6 ? ", IPv6 on" : "");
	return nat;
fail:
	nat_free(nat);
	return NULL;
}

void nat_free(struct nat *nat)
{
	if (!nat)
		return;
	for (struct nat **pp = &engines; *pp; pp = &(*pp)->next_engine) {
		if (*pp == nat) {
			*pp = nat->next_engine;
			break;
		}
	}
	while (nat->nlinks)
		/* links[0]->nat is nat: nat_link_free() takes it out of the
		 * array before it frees it */
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		nat_link_free(nat->links[0]);
	if (nat->slirp) {
		loop_hook_del(nat->loop, &nat->hook);
		slirp_cleanup(nat->slirp);
	}
	while (nat->npfd)
		pfd_remove(nat, nat->npfd - 1);
	if (nat->loop)
		loop_timer_cancel(nat->loop, &nat->wake);
	free(nat->pfd);
	free(nat->fdmap);
	free(nat->fwd);
	dhcp4_free(nat->dhcp);
	if (nat->pcap >= 0)
		close(nat->pcap);
	free(nat->reply);
	free(nat->txbuf);
	free(nat);
}
