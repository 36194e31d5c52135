/* SPDX-License-Identifier: MIT */
/*
 * addr-nat.c - NAT, the built-in user-mode network as an address
 *
 * The options become a struct nat_config at parse time, so that every
 * mistake is a usage error before anything starts.  The engine itself is
 * made at the first open and lives as long as the event loop: in the
 * many-connections mode every accepted link joins the same engine, which
 * makes it a switch for several guests.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr-types.h"
#include "dnszone.h"
#include "frame.h"
#include "log.h"
#include "loop.h"
#include "nat-api.h"
#include "nat.h"
#include "util.h"

#define NAT_MAX_FWD	32

static const struct opt_desc opt_subnet = { "subnet", OPT_STRING, 0, 0, 0, "A.B.C.D/LEN",
	"the virtual network (default 192.168.127.0/24)" };
static const struct opt_desc opt_gateway = { "gateway", OPT_STRING, 0, 0, 0, "IP",
	"router, DHCP and DNS server of the network (default: the first address)" };
static const struct opt_desc opt_host_ip = { "host-ip", OPT_STRING, 0, 0, 0, "IP",
	"the address that reaches the host's loopback (default: the last address, .254)" };
static const struct opt_desc opt_no_host_loopback = { "no-host-loopback", OPT_FLAG, 0, 0, 0,
	NULL, "guests cannot reach the host's loopback at all" };
static const struct opt_desc opt_no_ipv6 = { "no-ipv6", OPT_FLAG, 0, 0, 0, NULL,
	"IPv4 only (no router advertisements)" };
static const struct opt_desc opt_nat_mtu = { "mtu", OPT_UINT, 0, NAT_MTU_MIN, NAT_MTU_MAX, "N",
	"MTU of the virtual network (default 1500)" };
static const struct opt_desc opt_dns_zone = { "dns-zone", OPT_STRING, OPTF_REPEAT, 0, 0,
	"ZONE/NAME=IP[/NAME=IP...]", "static DNS records, answered before any lookup "
	"(repeatable)" };
static const struct opt_desc opt_forward = { "forward", OPT_STRING, OPTF_REPEAT, 0, 0,
	"tcp|udp:[HOSTADDR:]HOSTPORT:GUESTIP:GUESTPORT", "forward a host port into the "
	"network (repeatable)" };
static const struct opt_desc opt_api = { "api", OPT_STRING, 0, 0, 0, "PATH",
	"serve gvproxy's HTTP control API on this unix socket" };
static const struct opt_desc opt_pcap = { "pcap", OPT_STRING, 0, 0, 0, "FILE",
	"write every frame, both ways, to FILE (pcap, for tcpdump -r)" };

static const struct opt_desc *const nat_opts[] = {
	&opt_subnet, &opt_gateway, &opt_host_ip, &opt_no_host_loopback, &opt_no_ipv6,
	&opt_nat_mtu, &opt_dns_zone, &opt_forward, &opt_api, &opt_pcap, NULL,
};

struct nat_addr {
	struct nat_config conf;
	struct dnszone_set *zones;
	struct nat_fwd fwd[NAT_MAX_FWD];
	struct nat *nat;
	struct nat_api *api;
};

static bool in_subnet(const struct nat_config *c, struct in_addr a)
{
	return (a.s_addr & c->netmask.s_addr) == c->network.s_addr;
}

static int parse_ip4(const char *what, const char *text, struct in_addr *a, struct errbuf *err)
{
	if (inet_pton(AF_INET, text, a) != 1)
		return err_set(err, "%s: not an IPv4 address: \"%s\"", what, text);
	return 0;
}

static int parse_subnet(const char *text, struct nat_config *c, struct errbuf *err)
{
	char buf[64];
	char *slash;
	unsigned long long len;
	uint32_t mask, hostbits;

	if (strlen(text) >= sizeof(buf))
		return err_set(err, "subnet: too long: \"%s\"", text);
	strlcpy(buf, text, sizeof(buf));
	slash = strchr(buf, '/');
	if (!slash)
		return err_set(err, "subnet: expected A.B.C.D/LEN, got \"%s\"", text);
	*slash = '\0';
	if (parse_ip4("subnet", buf, &c->network, err) < 0)
		return -EINVAL;
	if (util_parse_uint(slash + 1, 8, 29, &len) < 0)
		return err_set(err, "subnet: prefix length must be 8..29, got \"%s\"", slash + 1);
	mask = len ? ~0u << (32 - len) : 0;
	c->netmask.s_addr = htonl(mask);
	if (c->network.s_addr & ~c->netmask.s_addr)
		return err_set(err, "subnet: %s has bits set past the prefix (the network "
			       "address, such as %s/%llu, is expected)", text,
			       inet_ntop(AF_INET, &(struct in_addr){ c->network.s_addr &
					 c->netmask.s_addr }, buf, sizeof(buf)), len);
	hostbits = ~mask;
	c->gateway.s_addr = htonl(ntohl(c->network.s_addr) | 1);
	c->dhcp_start.s_addr = htonl(ntohl(c->network.s_addr) | 2);
	c->host_ip.s_addr = htonl(ntohl(c->network.s_addr) | (hostbits - 1));
	return 0;
}

/* "tcp:[HOSTADDR:]HOSTPORT:GUESTIP:GUESTPORT" */
static int parse_forward(const char *text, struct nat_fwd *f, struct errbuf *err)
{
	char buf[128], *part[5];
	unsigned n = 0;
	unsigned long long port;
	char *p;

	if (strlen(text) >= sizeof(buf))
		return err_set(err, "forward: too long: \"%s\"", text);
	strlcpy(buf, text, sizeof(buf));
	for (p = buf; n < 5; ) {
		part[n++] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (p || n < 4)
		return err_set(err, "forward: expected tcp|udp:[HOSTADDR:]HOSTPORT:GUESTIP:"
			       "GUESTPORT, got \"%s\"", text);
	memset(f, 0, sizeof(*f));
	if (!strcasecmp(part[0], "udp"))
		f->udp = true;
	else if (strcasecmp(part[0], "tcp"))
		return err_set(err, "forward: protocol must be tcp or udp, got \"%s\"", part[0]);
	if (n == 5 && parse_ip4("forward: host address", part[1], &f->host_addr, err) < 0)
		return -EINVAL;
	if (util_parse_uint(part[n - 3], 1, 65535, &port) < 0)
		return err_set(err, "forward: host port must be 1..65535, got \"%s\"", part[n - 3]);
	f->host_port = (uint16_t)port;
	if (parse_ip4("forward: guest address", part[n - 2], &f->guest_addr, err) < 0)
		return -EINVAL;
	if (util_parse_uint(part[n - 1], 1, 65535, &port) < 0)
		return err_set(err, "forward: guest port must be 1..65535, got \"%s\"",
			       part[n - 1]);
	f->guest_port = (uint16_t)port;
	return 0;
}

static int nat_prepare(struct addr_spec *spec, struct errbuf *err)
{
	struct nat_addr *na = calloc(1, sizeof(*na));
	struct nat_config *c;
	const char *v;
	const struct opt_value *o = NULL;

	if (!na)
		return err_set(err, "out of memory");
	spec->priv = na;
	c = &na->conf;
	nat_config_defaults(c);
	if ((v = opt_get_str(spec, &opt_subnet)) && parse_subnet(v, c, err) < 0)
		return -EINVAL;
	if ((v = opt_get_str(spec, &opt_gateway))) {
		if (parse_ip4("gateway", v, &c->gateway, err) < 0)
			return -EINVAL;
		if (!in_subnet(c, c->gateway))
			return err_set(err, "gateway: %s is outside the subnet", v);
	}
	if ((v = opt_get_str(spec, &opt_host_ip))) {
		if (parse_ip4("host-ip", v, &c->host_ip, err) < 0)
			return -EINVAL;
		if (!in_subnet(c, c->host_ip))
			return err_set(err, "host-ip: %s is outside the subnet", v);
	}
	if (c->host_ip.s_addr == c->gateway.s_addr)
		return err_set(err, "host-ip: the same address as the gateway");
	if (c->dhcp_start.s_addr == c->gateway.s_addr || c->dhcp_start.s_addr == c->host_ip.s_addr)
		c->dhcp_start.s_addr = htonl(ntohl(c->gateway.s_addr) + 1);
	if (opt_get_flag(spec, &opt_no_host_loopback, false)) {
		c->host_loopback = false;
		c->host_ip.s_addr = 0;
	}
	c->ipv6 = !opt_get_flag(spec, &opt_no_ipv6, false);
	c->mtu = (unsigned)opt_get_num(spec, &opt_nat_mtu, 1500);
	while ((o = opt_next(spec, &opt_dns_zone, o)))
		if (dnszone_add(&na->zones, o->text, err) < 0)
			return -EINVAL;
	c->zones = na->zones;
	while ((o = opt_next(spec, &opt_forward, o))) {
		if (c->nfwd == NAT_MAX_FWD)
			return err_set(err, "forward: at most %d", NAT_MAX_FWD);
		if (parse_forward(o->text, &na->fwd[c->nfwd], err) < 0)
			return -EINVAL;
		if (!in_subnet(c, na->fwd[c->nfwd].guest_addr))
			return err_set(err, "forward: guest address of \"%s\" is outside the subnet",
				       o->text);
		c->nfwd++;
	}
	c->fwd = na->fwd;
	c->pcap_path = opt_get_str(spec, &opt_pcap);
	if ((v = opt_get_str(spec, &opt_api)) && strlen(v) >= 108)
		return err_set(err, "api: path too long: \"%s\"", v);
	return 0;
}

/* ---- the control API's view of the engine ---- */

static void api_stats(void *arg, struct nat_stats *st)
{
	nat_get_stats(arg, st);
}

static size_t api_forwards(void *arg, struct nat_fwd *out, size_t max)
{
	return nat_forwards(arg, out, max);
}

static int api_expose(void *arg, const struct nat_fwd *f, struct errbuf *err)
{
	return nat_expose(arg, f, err);
}

static int api_unexpose(void *arg, const struct nat_fwd *f, struct errbuf *err)
{
	return nat_unexpose(arg, f, err);
}

static const struct nat_api_ops api_ops = {
	.stats = api_stats,
	.forwards = api_forwards,
	.expose = api_expose,
	.unexpose = api_unexpose,
};

/* The loop is going: so is the engine that lives in it */
static void engine_stop(void *arg)
{
	struct nat_addr *na = arg;

	nat_api_stop(na->api);
	na->api = NULL;
	nat_free(na->nat);
	na->nat = NULL;
}

/* The engine and its API, once per event loop */
static int nat_start(struct addr_spec *spec)
{
	struct nat_addr *na = spec->priv;
	struct loop *loop = loop_current();
	const char *api = opt_get_str(spec, &opt_api);
	struct errbuf err;

	if (!na->nat) {
		if (!loop)
			return -EINVAL;
		na->nat = nat_new(loop, &na->conf, &err);
		if (!na->nat) {
			log_err("%s: %s", spec->text, err.msg);
			return -EINVAL;
		}
		if (api && !(na->api = nat_api_start(loop, api, &api_ops, na->nat, &err))) {
			log_err("%s: api: %s", spec->text, err.msg);
			nat_free(na->nat);
			na->nat = NULL;
			return -EINVAL;
		}
		loop_at_free(loop, engine_stop, na);
	}
	return 0;
}

static int nat_open(struct addr_spec *spec, const struct peer_info *peer, struct endpoint *ep)
{
	struct nat_addr *na = spec->priv;
	int rc = nat_start(spec);

	if (rc < 0)
		return rc;
	endpoint_init(ep, spec);
	ep->flags = EP_NAT;
	ep->priv = na->nat;
	ep->frame_max = FRAME_FOR_MTU(na->conf.mtu);
	return 0;
}

static void nat_cleanup(struct addr_spec *spec)
{
	struct nat_addr *na = spec->priv;

	if (!na)
		return;
	dnszone_free(na->zones);
	free(na);
	spec->priv = NULL;
}

const struct addr_type addr_nat = {
	.name = "NAT",
	.aliases = { "SLIRP" },
	.nparams = 0,
	.flags = ADDR_FRAMES,
	.summary = "built-in user-mode network (DHCP, DNS, NAT to host sockets; libslirp)",
	.opts = { nat_opts },
	.prepare = nat_prepare,
	.open = nat_open,
	.start = nat_start,
	.cleanup = nat_cleanup,
};
