/* SPDX-License-Identifier: MIT */
/*
 * endpoint.c - opening is the address types' business; half-closing and
 *		closing an opened address is the same for all of them
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "endpoint.h"
#include "util.h"

void endpoint_init(struct endpoint *ep, const struct addr_spec *spec)
{
	memset(ep, 0, sizeof(*ep));
	ep->rfd = ep->wfd = -1;
	ep->extra_fd[0] = ep->extra_fd[1] = -1;
	ep->spec = spec;
}

void endpoint_set_fd(struct endpoint *ep, int fd, unsigned flags)
{
	ep->rfd = ep->wfd = fd;
	ep->flags = flags;
}

/**
 * endpoint_shutdown_wr() - tell the peer no more data comes from us
 *
 * A socket gets shutdown(SHUT_WR) and stays open for the other direction.
 * A separate write fd (a pipe, stdout) is closed, which is EOF for its
 * reader.  A terminal or file that is also read from cannot half-close.
 */
int endpoint_shutdown_wr(struct endpoint *ep)
{
	if (ep->ops && ep->ops->shutdown_wr)
		return ep->ops->shutdown_wr(ep);
	if (ep->wfd < 0)
		return 0;
	if ((ep->flags & EP_SOCKET && ep->wfd == ep->rfd) || util_is_socket(ep->wfd))
		return shutdown(ep->wfd, SHUT_WR) < 0 && errno != ENOTCONN ? -errno : 0;
	if (ep->wfd != ep->rfd) {
		close(ep->wfd);
		ep->wfd = -1;
	}
	return 0;
}

void endpoint_close(struct endpoint *ep)
{
	if (ep->ops && ep->ops->close)
		ep->ops->close(ep);
	if (ep->rfd >= 0)
		close(ep->rfd);
	if (ep->wfd >= 0 && ep->wfd != ep->rfd)
		close(ep->wfd);
	/* children are not waited for here, so that one that ignores EOF
	 * cannot hold the relay up: the relay reaps them (SIGCHLD), and says
	 * how each one ended */
	for (int i = 0; i < 2; i++)
		if (ep->extra_fd[i] >= 0)
			close(ep->extra_fd[i]);
	ep->rfd = ep->wfd = ep->extra_fd[0] = ep->extra_fd[1] = -1;
	ep->pid[0] = ep->pid[1] = 0;
}
