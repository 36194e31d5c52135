/* SPDX-License-Identifier: MIT */
/*
 * addr-table.c - the one list of address types
 *
 * Adding a type: write src/addr-foo.c with one const struct addr_type,
 * declare it in addr-types.h, add a row here, add tests/bats/foo.bats and a
 * section in man/vrelay.1 (see README, "Adding an address type").  Feature
 * #ifs live here and nowhere else: a type configure left out stays listed
 * as a stub that says "not built in".
 */
#include "config.h"

#include <strings.h>

#include "addr-types.h"

/* A type this binary lacks: its name still parses, to say why.  The
 * arguments are initialisers, and alias may be a list: no parentheses. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define STUB(tname, alias, tparams, n, what, why)				\
	(&(const struct addr_type){ .name = tname, .aliases = { alias }, .params = tparams, \
				    .nparams = n, .flags = ADDR_STUB, .summary = what, \
				    .unavailable = why })
/* NOLINTEND(bugprone-macro-parentheses) */
#define NOT_BUILT(lib)	"not built in (this vrelay was configured --without-" lib ")"

const struct addr_type *const addr_types[] = {
	&addr_stdio,
	&addr_stdin,
	&addr_stdout,
	&addr_fd,
	&addr_exec,
	&addr_system,
	&addr_tcp_connect,
	&addr_tcp4_connect,
	&addr_tcp6_connect,
	&addr_tcp_listen,
	&addr_tcp4_listen,
	&addr_tcp6_listen,
	&addr_unix_connect,
	&addr_unix_listen,
	&addr_abstract_connect,
	&addr_abstract_listen,
	&addr_accept_fd,
	&addr_vsock_connect,
	&addr_vsock_listen,
	&addr_vsock_mux,
	&addr_vsock_mux_listen,
	&addr_hyperkit_unix,
	&addr_hyperkit_unix_listen,
	&addr_hvsock_connect,
	&addr_hvsock_listen,
	&addr_unix_seqpacket,
	&addr_unix_seqpacket_listen,
	&addr_unix_sendto,
	&addr_unix_recvfrom,
	&addr_tap,
#ifndef WITH_OPENSSL
	STUB("OPENSSL-CONNECT", "OPENSSL", "host:port", 2, "TLS client", NOT_BUILT("openssl")),
	STUB("OPENSSL-LISTEN", "OPENSSL-L", "port", 1, "TLS server", NOT_BUILT("openssl")),
#else
	&addr_openssl_connect,
	&addr_openssl_listen,
#endif
#ifndef WITH_READLINE
	STUB("READLINE", NULL, NULL, 0, "line editing and history on the terminal", NOT_BUILT("readline")),
#else
	&addr_readline,
#endif
#ifndef WITH_SLIRP
	STUB("NAT", "SLIRP", NULL, 0, "built-in user-mode network", NOT_BUILT("slirp")),
#else
	&addr_nat,
#endif
	NULL,
};

/**
 * addr_type_find() - a type by name or alias, case-insensitive
 */
const struct addr_type *addr_type_find(const char *name)
{
	for (const struct addr_type *const *t = addr_types; *t; t++) {
		if (!strcasecmp((*t)->name, name))
			return *t;
		for (unsigned i = 0; (*t)->aliases[i]; i++)
			if (!strcasecmp((*t)->aliases[i], name))
				return *t;
	}
	return NULL;
}
