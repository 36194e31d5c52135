/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_ADDR_UNIX_H
#define VRELAY_ADDR_UNIX_H

#include <stdbool.h>

#include "addr.h"

/* For the families that are unix sockets underneath (VSOCK-MUX, HyperKit) */
extern const struct opt_desc *const unix_listen_opts[];
extern const struct opt_desc *const unix_connect_opts[];

int unix_prepare_path(struct addr_spec *spec, const char *path, bool abstract,
		      bool listener, struct errbuf *err);
int unix_connect_open(struct addr_spec *spec, const struct peer_info *peer,
		      struct endpoint *ep);
int unix_listen(struct addr_spec *spec, int *fd);
void unix_close_listener(const struct addr_spec *spec, int fd);

#endif
