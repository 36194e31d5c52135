/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_ADDR_VSOCK_H
#define VRELAY_ADDR_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define VSOCK_CID_ANY		0xffffffffu
#define VSOCK_CID_HYPERVISOR	0u
#define VSOCK_CID_LOCAL		1u
#define VSOCK_CID_HOST		2u

extern const struct opt_desc *const vsock_connect_opts[];
extern const struct opt_desc *const vsock_listen_opts[];

int vsock_parse_cid(const char *text, uint32_t *cid, struct errbuf *err);
int vsock_parse_port(const char *text, uint32_t *port, struct errbuf *err);
struct sock_priv;
int vsock_parse_cid_ranges(struct sock_priv *p, const char *text, struct errbuf *err);
int vsock_setup(struct addr_spec *spec, uint32_t cid, uint32_t port, struct errbuf *err);
int vsock_allow_only(struct addr_spec *spec, uint32_t cid, struct errbuf *err);
int vsock_connect_open(struct addr_spec *spec, const struct peer_info *peer,
		       struct endpoint *ep);
int vsock_connect_open_async(struct addr_spec *spec, const struct peer_info *peer,
			     struct endpoint *ep);
int vsock_listen(struct addr_spec *spec, int *fd);
bool vsock_peer_allowed(const struct addr_spec *spec, const struct sockaddr *sa,
			socklen_t len);

#endif
