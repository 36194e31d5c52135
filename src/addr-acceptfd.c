/* SPDX-License-Identifier: MIT */
/*
 * addr-acceptfd.c - ACCEPT-FD:n, a listening socket we inherited
 *
 * For socket activation: systemd (ListenStream=, Accept=no) or inetd
 * opens the listening socket, vrelay accepts on it.  With systemd the
 * first socket is fd 3 (SD_LISTEN_FDS_START).  Any family the kernel has
 * works; range= applies to IP peers.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

#include "addr-types.h"
#include "addr-vsock.h"
#include "log.h"
#include "sock.h"

static const struct opt_desc opt_acceptfd_range = { "range", OPT_STRING, OPTF_LIST, 0, 0, "LIST",
	"accept only these peers: ADDR[/PREFIX] entries for an IP socket, CIDs "
	"(N, N-M) for a vsock one" };

/* the launcher chose the backlog: no backlog= here */
static const struct opt_desc *const acceptfd_opts[] = {
	&opt_fork, &opt_multi, &opt_max_children, &opt_acceptfd_range, NULL,
};

static int acceptfd_prepare(struct addr_spec *spec, struct errbuf *err)
{
	struct sock_priv *p = sock_priv_new(spec, err);
	const char *range = opt_get_str(spec, &opt_acceptfd_range);
	unsigned long long fd;
	int listening = 0;
	socklen_t len = sizeof(listening);

	if (!p)
		return -ENOMEM;
	if (util_check_number(err, "fd", spec->params[0], 0, 1048575, &fd) < 0)
		return -EINVAL;
	if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) {
		if (errno == EBADF)
			return err_set(err, "fd %llu is not open", fd);
		return err_set(err, "fd %llu is not a socket", fd);
	}
	if (!listening)
		return err_set(err, "fd %llu is a socket, but not a listening one", fd);
	if (range) {
		struct sockaddr_storage ss = { 0 };
		socklen_t sl = sizeof(ss);

		/* range= means what it means for the socket's family */
		if (getsockname((int)fd, (struct sockaddr *)&ss, &sl) < 0)
			return err_set(err, "fd %llu: %s", fd, strerror(errno));
		p->family = ss.ss_family;
		if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
			if (sock_parse_ip_ranges(range, &p->ranges, &p->nranges, err) < 0)
				return -EINVAL;
		} else if (ss.ss_family == AF_VSOCK) {
			if (vsock_parse_cid_ranges(p, range, err) < 0)
				return -EINVAL;
		} else {
			return err_set(err, "range: fd %llu is not an IP or vsock socket", fd);
		}
	}
	p->accept_fd = (int)fd;
	util_set_cloexec(p->accept_fd);
	return 0;
}

static bool acceptfd_peer_allowed(const struct addr_spec *spec, const struct sockaddr *sa,
				  socklen_t len)
{
	const struct sock_priv *p = spec->priv;

	if (p->family == AF_VSOCK)
		return vsock_peer_allowed(spec, sa, len);
	return sock_peer_allowed(spec, sa, len);
}

static int acceptfd_listen(struct addr_spec *spec, int *fd)
{
	const struct sock_priv *p = spec->priv;

	log_notice("%s: listening on inherited fd %d", spec->text, p->accept_fd);
	*fd = p->accept_fd;
	return 0;
}

const struct addr_type addr_accept_fd = {
	.name = "ACCEPT-FD",
	.params = "n",
	.nparams = 1,
	.flags = ADDR_LISTEN,
	.summary = "accept on an inherited listening socket (systemd, inetd)",
	.opts = { acceptfd_opts, sock_buf_opts, sock_tcp_opts },
	.prepare = acceptfd_prepare,
	.listen = acceptfd_listen,
	.peer_allowed = acceptfd_peer_allowed,
	.accepted = sock_accepted,
	.cleanup = sock_priv_free,
};
