/* SPDX-License-Identifier: MIT */
/*
 * addr-vsockmux.c - hybrid vsock: VSOCK-MUX:udspath:port (host -> guest)
 *		     and VSOCK-MUX-LISTEN:udspath:port (guest -> host)
 *
 * Firecracker, cloud-hypervisor and vhost-device-vsock expose a guest's
 * vsock ports on one unix socket.  To reach guest port P, connect to it,
 * write "CONNECT P\n" and read one line: "OK <n>\n" means connected (n is
 * a host-side port for Firecracker, the guest port for vhost-device-vsock:
 * either is fine); the VMM closing without a word means no guest listens
 * there ("connection refused", which retry=/forever wait out while a guest
 * boots).  Very old VMMs send no OK line at all: with no-reply-ok, silence
 * until reply-timeout counts as connected, and bytes that are not an OK
 * line are the guest's and stay in the socket (found with MSG_PEEK).
 *
 * The other way, the VMM connects to "<udspath>_<port>" for a guest that
 * connects to host port P, so VSOCK-MUX-LISTEN listens there.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr-types.h"
#include "addr-unix.h"
#include "addr-vsock.h"
#include "log.h"
#include "sock.h"
#include "vmm-proto.h"

#define REPLY_MAX 64	/* "OK 4294967295\n" is 14; anything near this is garbage */

static const struct opt_desc opt_reply_timeout = { "reply-timeout", OPT_SECS, 0, 0, 3600,
	"SECONDS", "wait this long for the VMM's OK line (default 10)" };
static const struct opt_desc opt_no_reply_ok = { "no-reply-ok", OPT_FLAG, 0, 0, 0, NULL,
	"a VMM that sends no OK line: silence or guest data count as connected" };
static const struct opt_desc *const mux_opts[] = { &opt_reply_timeout, &opt_no_reply_ok, NULL };

struct mux_conf {
	uint32_t port;
};

static int wait_readable(int fd, double deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		double left = deadline - util_now();
		int rc;

		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (rc > 0)
			return 0;
		if (rc == 0)
			return -ETIMEDOUT;
		if (errno != EINTR || util_quit)
			return -errno;
	}
}

static int mux_handshake(const struct addr_spec *spec, int fd)
{
	const struct mux_conf *mc = ((const struct sock_priv *)spec->priv)->family_conf;
	bool lenient = opt_get_flag(spec, &opt_no_reply_ok, false);
	double timeout = opt_get_secs(spec, &opt_reply_timeout, 10.0);
	double deadline = util_now() + timeout;
	char cmd[32], buf[REPLY_MAX + 1], shown[4 * REPLY_MAX + 8];
	size_t len = 0;
	int cmdlen = snprintf(cmd, sizeof(cmd), "CONNECT %u\n", mc->port);

	if (send(fd, cmd, (size_t)cmdlen, MSG_NOSIGNAL) != cmdlen) {
		log_notice("%s: sending CONNECT: %s", spec->text, strerror(errno));
		return errno ? -errno : -EIO;
	}
	for (;;) {
		enum vmm_mux_reply reply;
		size_t line = 0, want;
		ssize_t n;

		if (wait_readable(fd, deadline) < 0) {
			if (util_quit)
				return -EINTR;
			if (lenient && len == 0) {
				log_notice("%s: no reply from the VMM in %g s: taking the "
					   "connection as made (no-reply-ok)", spec->text, timeout);
				return 0;
			}
			vmm_quote(buf, len, shown, sizeof(shown));
			sock_fail("no complete reply from the VMM within %g s%s%s%s", timeout,
				  len ? " (got \"" : "", len ? shown : "", len ? "\")" : "");
			return -ETIMEDOUT;
		}
		/* peek: bytes that are no OK line may be the guest's to keep */
		n = recv(fd, buf + len, REPLY_MAX - len, MSG_PEEK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (len == 0) {
				log_notice("%s: the VMM closed without a reply: nothing listens on "
					   "guest port %u", spec->text, mc->port);
				return -ECONNREFUSED;
			}
			vmm_quote(buf, len, shown, sizeof(shown));
			sock_fail("truncated reply from the VMM: \"%s\"", shown);
			return -EPROTO;
		}
		reply = vmm_mux_reply(buf, len + (size_t)n, REPLY_MAX, &line);
		if (reply == VMM_MUX_NOT_OK) {
			if (lenient && len == 0) {
				log_notice("%s: no OK line: the VMM is an old one, this is guest data",
					   spec->text);
				return 0;
			}
			vmm_quote(buf, len + (size_t)n, shown, sizeof(shown));
			sock_fail("unexpected reply from the VMM: \"%s\"", shown);
			return -EPROTO;
		}
		/* it is the reply: consume it, up to its newline only */
		want = reply == VMM_MUX_OK || reply == VMM_MUX_MALFORMED ? line : len + (size_t)n;
		n = recv(fd, buf + len, want - len, 0);
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;
		len += (size_t)n;
		if (len < want)
			continue;
		if (reply == VMM_MUX_OK) {
			buf[len - 1] = '\0';
			log_notice("%s: the VMM says \"%s\": connected to guest port %u", spec->text,
				   buf, mc->port);
			return 0;
		}
		if (reply == VMM_MUX_MALFORMED) {
			vmm_quote(buf, len, shown, sizeof(shown));
			sock_fail("malformed reply from the VMM: \"%s\"", shown);
			return -EPROTO;
		}
		if (reply == VMM_MUX_TOO_LONG) {
			vmm_quote(buf, len, shown, sizeof(shown));
			sock_fail("oversized reply from the VMM (no newline in %d bytes): \"%s\"",
				  REPLY_MAX, shown);
			return -EPROTO;
		}
	}
}

static int mux_connect_prepare(struct addr_spec *spec, struct errbuf *err)
{
	struct sock_priv *p;
	struct mux_conf *mc;
	uint32_t port;

	if (vsock_parse_port(spec->params[1], &port, err) < 0 ||
	    unix_prepare_path(spec, spec->params[0], false, false, err) < 0)
		return -EINVAL;
	if (opt_find(spec, &opt_reply_timeout) && opt_get_secs(spec, &opt_reply_timeout, 0) <= 0)
		return err_set(err, "reply-timeout: must be more than 0 seconds");
	p = spec->priv;
	mc = calloc(1, sizeof(*mc));
	if (!mc)
		return err_set(err, "out of memory");
	mc->port = port;
	p->family_conf = mc;
	p->handshake = mux_handshake;
	return 0;
}

static int mux_listen_prepare(struct addr_spec *spec, struct errbuf *err)
{
	char path[4096];
	uint32_t port;

	if (vsock_parse_port(spec->params[1], &port, err) < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s_%u", spec->params[0], port);
	return unix_prepare_path(spec, path, false, true, err);
}

const struct addr_type addr_vsock_mux = {
	.name = "VSOCK-MUX",
	.aliases = { "VSOCK-MUX-CONNECT" },
	.params = "udspath:port",
	.nparams = 2,
	.summary = "guest vsock port through a Firecracker/cloud-hypervisor unix socket",
	.opts = { unix_connect_opts, mux_opts, sock_buf_opts },
	.prepare = mux_connect_prepare,
	.open = unix_connect_open,
	.cleanup = sock_priv_free,
};

const struct addr_type addr_vsock_mux_listen = {
	.name = "VSOCK-MUX-LISTEN",
	.params = "udspath:port",
	.nparams = 2,
	.flags = ADDR_LISTEN,
	.summary = "take a guest's connections to host port (listens on udspath_port)",
	.opts = { sock_listen_opts, unix_listen_opts, sock_buf_opts },
	.prepare = mux_listen_prepare,
	.listen = unix_listen,
	.accepted = sock_accepted,
	.close_listener = unix_close_listener,
	.cleanup = sock_priv_free,
};
