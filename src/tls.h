/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_TLS_H
#define VRELAY_TLS_H

#include "addr.h"
#include "endpoint.h"

/* The TLS options every stream address takes (tls, cert=, cafile= ...) */
extern const struct opt_desc *const tls_opts[];

#ifdef WITH_OPENSSL
int tls_prepare(struct addr_spec *spec, struct errbuf *err);
void tls_cleanup(struct addr_spec *spec);
int tls_attach(struct endpoint *ep);
#else
static inline int tls_prepare(struct addr_spec *spec, struct errbuf *err)
{
	(void)spec;
	(void)err;
	return 0;
}
static inline void tls_cleanup(struct addr_spec *spec) { (void)spec; }
static inline int tls_attach(struct endpoint *ep) { (void)ep; return 0; }
#endif

#endif
