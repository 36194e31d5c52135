/* SPDX-License-Identifier: MIT */
/*
 * addr-hyperkit.c - HyperKit's vsock-over-unix convention
 *
 * HYPERKIT-UNIX:dir:cid:port connects to "<dir>/connect" and writes exactly
 * 18 bytes, "%08x.%08x\n" (guest CID, port, lower-case hex); no reply
 * comes.  HYPERKIT-UNIX-LISTEN:dir:port listens on "<dir>/00000002.%08x",
 * where HyperKit connects when the guest connects to host port P.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr-types.h"
#include "addr-unix.h"
#include "addr-vsock.h"
#include "log.h"
#include "sock.h"
#include "vmm-proto.h"

struct hyperkit_conf {
	uint32_t cid, port;
};

static int hyperkit_handshake(const struct addr_spec *spec, int fd)
{
	const struct hyperkit_conf *hc =
		((const struct sock_priv *)spec->priv)->family_conf;
	char header[VMM_HYPERKIT_HEADER_LEN + 1];
	size_t hl = vmm_hyperkit_header(hc->cid, hc->port, header);

	if (send(fd, header, hl, MSG_NOSIGNAL) != (ssize_t)hl) {
		int e = errno ? errno : EIO;

		log_notice("%s: sending the header: %s", spec->text, strerror(e));
		return -e;
	}
	log_info("%s: sent header %.17s", spec->text, header);
	return 0;
}

static int hyperkit_connect_prepare(struct addr_spec *spec, struct errbuf *err)
{
	struct hyperkit_conf *hc = calloc(1, sizeof(*hc));
	struct sock_priv *p;
	char path[4096];

	if (!hc)
		return err_set(err, "out of memory");
	if (vsock_parse_cid(spec->params[1], &hc->cid, err) < 0 ||
	    vsock_parse_port(spec->params[2], &hc->port, err) < 0) {
		free(hc);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/connect", spec->params[0]);
	if (unix_prepare_path(spec, path, false, false, err) < 0) {
		free(hc);
		return -EINVAL;
	}
	p = spec->priv;
	p->family_conf = hc;
	p->handshake = hyperkit_handshake;
	return 0;
}

static int hyperkit_listen_prepare(struct addr_spec *spec, struct errbuf *err)
{
	char path[4096];
	uint32_t port;

	if (vsock_parse_port(spec->params[1], &port, err) < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/00000002.%08x", spec->params[0], port);
	return unix_prepare_path(spec, path, false, true, err);
}

const struct addr_type addr_hyperkit_unix = {
	.name = "HYPERKIT-UNIX",
	.aliases = { "HYPERKIT-UNIX-CONNECT" },
	.params = "dir:cid:port",
	.nparams = 3,
	.summary = "guest vsock port through HyperKit's <dir>/connect socket",
	.opts = { unix_connect_opts, sock_buf_opts },
	.prepare = hyperkit_connect_prepare,
	.open = unix_connect_open,
	.cleanup = sock_priv_free,
};

const struct addr_type addr_hyperkit_unix_listen = {
	.name = "HYPERKIT-UNIX-LISTEN",
	.params = "dir:port",
	.nparams = 2,
	.flags = ADDR_LISTEN,
	.summary = "take a HyperKit guest's connections to host port",
	.opts = { sock_listen_opts, unix_listen_opts, sock_buf_opts },
	.prepare = hyperkit_listen_prepare,
	.listen = unix_listen,
	.accepted = sock_accepted,
	.close_listener = unix_close_listener,
	.cleanup = sock_priv_free,
};
