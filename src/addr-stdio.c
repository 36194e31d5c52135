/* SPDX-License-Identifier: MIT */
/*
 * addr-stdio.c - STDIO ("-"), STDIN, STDOUT and FD:n: fds we already have
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>

#include "addr.h"
#include "addr-types.h"

static int stdio_open(struct addr_spec *spec, const struct peer_info *peer,
		      struct endpoint *ep)
{
	const struct addr_type *t = spec->type;

	ep->rfd = (t->flags & ADDR_WRONLY) ? -1 : 0;
	ep->wfd = (t->flags & ADDR_RDONLY) ? -1 : 1;
	return 0;
}

/* prepare() stored the fd number in priv: it was checked to be open */
static int fd_prepare(struct addr_spec *spec, struct errbuf *err)
{
	unsigned long long fd;

	if (util_check_number(err, "fd", spec->params[0], 0, 1048575, &fd) < 0)
		return -1;
	if (fcntl((int)fd, F_GETFD) < 0)
		return err_set(err, "fd %llu is not open", fd);
	spec->priv = (void *)(uintptr_t)fd;
	return 0;
}

static int fd_open(struct addr_spec *spec, const struct peer_info *peer,
		   struct endpoint *ep)
{
	endpoint_set_fd(ep, (int)(uintptr_t)spec->priv, 0);
	return 0;
}

static void fd_cleanup(struct addr_spec *spec)
{
	spec->priv = NULL;
}

const struct addr_type addr_stdio = {
	.name = "STDIO",
	.aliases = { "-" },
	.summary = "standard input and output",
	.open = stdio_open,
};

const struct addr_type addr_stdin = {
	.name = "STDIN",
	.flags = ADDR_RDONLY,
	.summary = "standard input only (a one-way relay towards the other address)",
	.open = stdio_open,
};

const struct addr_type addr_stdout = {
	.name = "STDOUT",
	.flags = ADDR_WRONLY,
	.summary = "standard output only",
	.open = stdio_open,
};

const struct addr_type addr_fd = {
	.name = "FD",
	.params = "n",
	.nparams = 1,
	.summary = "an inherited file descriptor, read and written",
	.prepare = fd_prepare,
	.open = fd_open,
	.cleanup = fd_cleanup,
};
