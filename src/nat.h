/* SPDX-License-Identifier: MIT */
/*
 * nat.h - the user-mode network engine: Ethernet frames in, host sockets out
 *
 * A small library in libslirp's manner: an opaque engine made from a config
 * struct, links that frames come in on and go out of, and the caller's
 * event loop.  The vrelay NAT address is one user of it; nothing here knows
 * about the command line.
 */
#ifndef VRELAY_NAT_H
#define VRELAY_NAT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct loop;
struct nat;
struct nat_link;
struct dnszone_set;

#define NAT_MTU_MIN	576
#define NAT_MTU_MAX	65520
#define NAT_MAX_LINKS	64	/* guests on one engine (switch mode) */
/*
 * Guest-initiated TCP flows still in their handshake.  libslirp connect()s
 * a host socket for every SYN and keeps it, with its buffers (some 100 KiB),
 * until the guest completes the handshake or 75 s pass: without a bound a
 * guest's SYN flood takes the whole process's fds and memory.  Like a
 * kernel's SYN backlog, a SYN beyond the bound is dropped and counted (the
 * guest's TCP sends it again).  A link gets half of the total, so that one
 * flooding guest in switch mode leaves room for the others.
 */
#define NAT_SYN_BACKLOG		256	/* half-open flows, all links */
#define NAT_SYN_BACKLOG_LINK	128	/* half-open flows of one link */
#define NAT_SYN_TIMEOUT		75	/* s: libslirp's own handshake limit */

/**
 * struct nat_fwd - one host port forwarded to a guest address
 * @udp:	UDP rather than TCP
 * @host_addr:	host address to listen on (INADDR_ANY: every address)
 * @host_port:	host port
 * @guest_addr, @guest_port: where connections go in the virtual network
 */
struct nat_fwd {
	bool udp;
	struct in_addr host_addr;
	uint16_t host_port;
	struct in_addr guest_addr;
	uint16_t guest_port;
};

/**
 * struct nat_config - how an engine is set up (gvproxy's defaults come
 *		       from nat_config_defaults())
 * @network, @netmask:	the virtual IPv4 network
 * @gateway:	router, DHCP server and DNS server the guests see
 * @dhcp_start:	first address DHCP hands out
 * @host_ip:	an address that reaches the host's loopback (0: none)
 * @host_loopback: whether the gateway and @host_ip reach the host's
 *		loopback at all
 * @ipv6:	IPv6 on (router advertisements, DNS over IPv6)
 * @prefix6, @prefix6_len, @gateway6, @dns6: the IPv6 side
 * @mtu:	largest IP packet on the virtual network (frames are 14 more)
 * @zones:	static DNS records answered before libslirp sees the query
 * @fwd, @nfwd:	port forwards set up at start
 * @pcap_path:	capture every frame here (NULL: none)
 */
struct nat_config {
	struct in_addr network, netmask, gateway, dhcp_start, host_ip;
	bool host_loopback;
	bool ipv6;
	struct in6_addr prefix6;
	unsigned prefix6_len;
	struct in6_addr gateway6, dns6;
	unsigned mtu;
	const struct dnszone_set *zones;
	const struct nat_fwd *fwd;
	size_t nfwd;
	const char *pcap_path;
};

/**
 * struct nat_stats - what an engine has done since it started
 * @frames_in, @bytes_in:	frames from guests
 * @frames_out, @bytes_out:	frames to guests
 * @drop_oversize:	frames longer than the MTU allows, dropped
 * @drop_malformed:	frames too short, with bad lengths or a bad IPv4
 *			header checksum, and SYNs with a bad TCP checksum,
 *			dropped
 * @drop_queue:		frames for a guest whose link was not keeping up
 * @drop_unroutable:	frames for an address of the virtual network that
 *			is no one's (they would leave for the real network)
 * @drop_syn_backlog:	TCP SYNs from guests dropped because the engine
 *			had NAT_SYN_BACKLOG half-open flows already (or the
 *			link NAT_SYN_BACKLOG_LINK)
 * @dhcp_replies, @dns_static: answered by the engine itself
 * @links:		guests attached now
 * @tcp_half_open:	guest-initiated TCP flows in their handshake now
 */
struct nat_stats {
	uint64_t frames_in, bytes_in, frames_out, bytes_out;
	uint64_t drop_oversize, drop_malformed, drop_queue;
	uint64_t drop_unroutable;
	uint64_t dhcp_replies, dns_static;
	unsigned links;
	uint64_t drop_syn_backlog;
	unsigned tcp_half_open;
};

/*
 * Called with each frame the engine has for a link.  The frame is only
 * valid during the call.  Return 0 if it was taken (sent or queued),
 * -ENOBUFS if the link had no room (the engine counts the drop).
 */
typedef int (*nat_output_fn)(void *arg, const uint8_t *frame, size_t len);

void nat_config_defaults(struct nat_config *conf);
struct nat *nat_new(struct loop *loop, const struct nat_config *conf, struct errbuf *err);
void nat_free(struct nat *nat);

struct nat_link *nat_link_new(struct nat *nat, nat_output_fn out, void *arg);
void nat_link_free(struct nat_link *link);
void nat_link_input(struct nat_link *link, const uint8_t *frame, size_t len);

int nat_expose(struct nat *nat, const struct nat_fwd *fwd, struct errbuf *err);
int nat_unexpose(struct nat *nat, const struct nat_fwd *fwd, struct errbuf *err);
size_t nat_forwards(const struct nat *nat, struct nat_fwd *out, size_t max);
void nat_get_stats(const struct nat *nat, struct nat_stats *st);
void nat_log_stats(void);

#endif
