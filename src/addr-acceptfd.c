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
#include <sys/socket.h>
#include <unistd.h>

#include "addr-types.h"
#include "log.h"
#include "sock.h"

static const struct opt_desc *const acceptfd_opts[] = { &opt_range, NULL };

static int acceptfd_prepare(struct addr_spec *spec, struct errbuf *err)
{
	struct sock_priv *p = sock_priv_new(spec, err);
	const char *range = opt_get_str(spec, &opt_range);
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
	if (range && sock_parse_ip_ranges(range, &p->ranges, &p->nranges, err) < 0)
		return -EINVAL;
	p->accept_fd = (int)fd;
	util_set_cloexec(p->accept_fd);
	return 0;
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
	.opts = { sock_listen_opts, acceptfd_opts, sock_buf_opts, sock_tcp_opts },
	.prepare = acceptfd_prepare,
	.listen = acceptfd_listen,
	.peer_allowed = sock_peer_allowed,
	.accepted = sock_accepted,
	.cleanup = sock_priv_free,
};
