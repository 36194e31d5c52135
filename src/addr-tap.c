/* SPDX-License-Identifier: MIT */
/*
 * addr-tap.c - TAP:name, a Linux TAP device: one read or write, one frame
 *
 * netns= makes the device inside another network namespace while the rest
 * of vrelay - the NAT's host sockets above all - stays in the caller's,
 * the way slirp4netns attaches a namespace to the host: enter the
 * namespace, open /dev/net/tun and configure the device there, come back.
 * The fd keeps working from outside, since it belongs to the device, not
 * to a namespace.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr-types.h"
#include "frame.h"
#include "log.h"
#include "util.h"

static const struct opt_desc opt_mac = { "mac", OPT_STRING, 0, 0, 0, "XX:XX:XX:XX:XX:XX",
	"hardware address of the device" };
static const struct opt_desc opt_tap_mtu = { "mtu", OPT_UINT, 0, 68, 65521, "N",
	"MTU of the device (default: as created, 1500)" };
static const struct opt_desc opt_up = { "up", OPT_FLAG, 0, 0, 0, NULL,
	"bring the device up" };
static const struct opt_desc opt_persist = { "persist", OPT_FLAG, 0, 0, 0, NULL,
	"keep the device when vrelay ends (TUNSETPERSIST)" };
static const struct opt_desc opt_netns = { "netns", OPT_STRING, 0, 0, 0, "NAME|PATH",
	"create the device in this network namespace (a name from ip netns, or a path "
	"such as /proc/PID/ns/net)" };

static const struct opt_desc *const tap_opts[] = {
	&opt_mac, &opt_tap_mtu, &opt_up, &opt_persist, &opt_netns, NULL,
};

struct tap_conf {
	unsigned char mac[6];
	bool has_mac;
	char netns[256];
};

static int parse_mac(const char *s, unsigned char mac[6])
{
	unsigned v[6];
	char end;

	/* NOLINTNEXTLINE(cert-err34-c): %2x cannot overflow; strlen() checks the rest */
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6 || strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	return 0;
}

static int tap_prepare(struct addr_spec *spec, struct errbuf *err)
{
	const char *name = spec->params[0];
	const char *mac = opt_get_str(spec, &opt_mac);
	const char *ns = opt_get_str(spec, &opt_netns);
	struct tap_conf *c;
	struct stat st;

	if (!*name)
		return err_set(err, "empty device name");
	if (strlen(name) >= IFNAMSIZ)
		return err_set(err, "device name too long (at most %d bytes): \"%s\"",
			       IFNAMSIZ - 1, name);
	if (strchr(name, '/') || strchr(name, ' '))
		return err_set(err, "not a device name: \"%s\"", name);
	c = calloc(1, sizeof(*c));
	if (!c)
		return err_set(err, "out of memory");
	spec->priv = c;
	if (mac) {
		if (parse_mac(mac, c->mac) < 0)
			return err_set(err, "mac: not a hardware address (XX:XX:XX:XX:XX:XX): \"%s\"",
				       mac);
		if (c->mac[0] & 1)
			return err_set(err, "mac: %s is a multicast address", mac);
		c->has_mac = true;
	}
	if (ns) {
		if (strchr(ns, '/'))
			snprintf(c->netns, sizeof(c->netns), "%s", ns);
		else
			snprintf(c->netns, sizeof(c->netns), "/run/netns/%s", ns);
		if (stat(c->netns, &st) < 0)
			return err_set(err, "netns: %s: %s", c->netns, strerror(errno));
	}
	return 0;
}

/* Create and set up the device in the namespace we are in now */
static int tap_create(const struct addr_spec *spec, const struct tap_conf *c, int *mtu)
{
	struct ifreq ifr = { 0 };
	int fd, sk = -1, e;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		log_err("%s: /dev/net/tun: %s", spec->text, strerror(e));
		return -e;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", spec->params[0]);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		log_err("%s: cannot create the device: %s%s", spec->text, strerror(e),
			e == EPERM ? " (needs CAP_NET_ADMIN)" : "");
		goto fail;
	}
	if (opt_get_flag(spec, &opt_persist, false) && ioctl(fd, TUNSETPERSIST, 1) < 0) {
		e = errno;
		log_err("%s: persist: %s", spec->text, strerror(e));
		goto fail;
	}
	/* the device's settings go through an ordinary socket in its namespace */
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0) {
		e = errno;
		log_err("%s: socket: %s", spec->text, strerror(e));
		goto fail;
	}
	if (c->has_mac) {
		ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(ifr.ifr_hwaddr.sa_data, c->mac, 6);
		if (ioctl(sk, SIOCSIFHWADDR, &ifr) < 0) {
			e = errno;
			log_err("%s: mac: %s", spec->text, strerror(e));
			goto fail;
		}
	}
	if (opt_find(spec, &opt_tap_mtu)) {
		ifr.ifr_mtu = (int)opt_get_num(spec, &opt_tap_mtu, 1500);
		if (ioctl(sk, SIOCSIFMTU, &ifr) < 0) {
			e = errno;
			log_err("%s: mtu %d: %s", spec->text, ifr.ifr_mtu, strerror(e));
			goto fail;
		}
	}
	if (ioctl(sk, SIOCGIFMTU, &ifr) < 0) {
		e = errno;
		log_err("%s: cannot read the MTU: %s", spec->text, strerror(e));
		goto fail;
	}
	*mtu = ifr.ifr_mtu;
	if (opt_get_flag(spec, &opt_up, false)) {
		if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0) {
			e = errno;
			log_err("%s: up: %s", spec->text, strerror(e));
			goto fail;
		}
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0) {
			e = errno;
			log_err("%s: up: %s", spec->text, strerror(e));
			goto fail;
		}
	}
	close(sk);
	return fd;
fail:
	if (sk >= 0)
		close(sk);
	close(fd);
	return -e;
}

static int tap_open(struct addr_spec *spec, const struct peer_info *peer, struct endpoint *ep)
{
	const struct tap_conf *c = spec->priv;
	int home = -1, ns = -1, fd, mtu = 1500, e;

	if (c->netns[0]) {
		home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		ns = open(c->netns, O_RDONLY | O_CLOEXEC);
		if (home < 0 || ns < 0) {
			e = errno;
			log_err("%s: netns %s: %s", spec->text, home < 0 ? "/proc/self/ns/net" :
				c->netns, strerror(e));
			goto fail;
		}
		if (setns(ns, CLONE_NEWNET) < 0) {
			e = errno;
			log_err("%s: cannot enter the namespace %s: %s", spec->text, c->netns,
				strerror(e));
			goto fail;
		}
	}
	fd = tap_create(spec, c, &mtu);
	if (home >= 0 && setns(home, CLONE_NEWNET) < 0) {
		/* everything else would be opened in the wrong namespace */
		e = errno;
		log_err("%s: cannot return to our own namespace: %s", spec->text, strerror(e));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	if (fd < 0) {
		e = -fd;
		goto fail;
	}
	if (home >= 0)
		close(home);
	if (ns >= 0)
		close(ns);
	endpoint_set_fd(ep, fd, EP_NONBLOCK);
	ep->frame_max = FRAME_FOR_MTU(mtu);
	log_notice("%s: device %s ready (mtu %d%s%s)", spec->text, spec->params[0], mtu,
		   c->netns[0] ? ", in " : "", c->netns);
	return 0;
fail:
	if (home >= 0)
		close(home);
	if (ns >= 0)
		close(ns);
	return -e;
}

static void tap_cleanup(struct addr_spec *spec)
{
	free(spec->priv);
	spec->priv = NULL;
}

const struct addr_type addr_tap = {
	.name = "TAP",
	.params = "name",
	.nparams = 1,
	.flags = ADDR_FRAMES,
	.summary = "a Linux TAP device (created if needed); one frame per read",
	.opts = { tap_opts },
	.prepare = tap_prepare,
	.open = tap_open,
	.cleanup = tap_cleanup,
};
