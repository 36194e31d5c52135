/* SPDX-License-Identifier: MIT */
/*
 * nat-api.h - the NAT engine's HTTP control API, compatible with gvproxy's
 *
 * The engine is reached only through a table of callbacks, so the API can
 * be tested without an engine and the engine knows nothing of HTTP.
 */
#ifndef VRELAY_NAT_API_H
#define VRELAY_NAT_API_H

#include <stddef.h>

#include "nat.h"
#include "util.h"

struct loop;
struct nat_api;

#define NAT_API_REQ_MAX		65536	/* a whole request, head and body */
#define NAT_API_RESP_MAX	65536	/* enough for NAT_API_LIST_MAX forwards */
#define NAT_API_LIST_MAX	512	/* forwards that GET .../all lists */
#define NAT_API_CLIENTS_MAX	16	/* connections served at once */
#define NAT_API_TIMEOUT		10.0	/* seconds a client has to send its request */

/**
 * struct nat_api_ops - what the API asks of the engine
 * @stats:	fill @st with the engine's counters
 * @forwards:	copy up to @max forwards into @out; return how many were copied
 * @expose:	start forwarding @f; 0 or a negative errno: -EEXIST when
 *		already forwarded, -EINVAL, -EADDRINUSE, -EACCES...; may say
 *		why in @err
 * @unexpose:	stop forwarding @f (only @udp, @host_addr and @host_port are
 *		set); 0, -ENOENT when it was not forwarded, another negative
 *		errno; may say why in @err
 */
struct nat_api_ops {
	void (*stats)(void *arg, struct nat_stats *st);
	size_t (*forwards)(void *arg, struct nat_fwd *out, size_t max);
	int (*expose)(void *arg, const struct nat_fwd *f, struct errbuf *err);
	int (*unexpose)(void *arg, const struct nat_fwd *f, struct errbuf *err);
};

size_t nat_api_handle(const struct nat_api_ops *ops, void *arg, const char *req, size_t len,
		      char *resp, size_t cap);

struct nat_api *nat_api_start(struct loop *loop, const char *path, const struct nat_api_ops *ops,
			      void *arg, struct errbuf *err);
void nat_api_stop(struct nat_api *api);

#endif
