/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_ADDR_H
#define VRELAY_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

#include "endpoint.h"
#include "opt.h"
#include "util.h"

#define ADDR_MAX_PARAMS	4
#define ADDR_MAX_OPTS	32
#define ADDR_MAX_OPT_LISTS 5

/* struct addr_type.flags */
#define ADDR_LISTEN	(1u << 0)	/* waits for peers: fork, multi, range apply */
#define ADDR_REST	(1u << 1)	/* last parameter keeps its colons and quotes */
#define ADDR_RDONLY	(1u << 2)	/* STDIN: nothing is written to it */
#define ADDR_WRONLY	(1u << 3)	/* STDOUT: nothing is read from it */
#define ADDR_STUB	(1u << 4)	/* known, but not built into this binary */
#define ADDR_PEER_ENV	(1u << 5)	/* reads struct peer_info (EXEC's environment) */
#define ADDR_FRAMES	(1u << 6)	/* carries Ethernet frames, not bytes */
#define ADDR_TLS	(1u << 7)	/* TLS always (OPENSSL), as if given "tls" */
#define ADDR_HOST	(1u << 8)	/* params[0] is a host name: TLS checks it */
#define ADDR_OWN_LAYER	(1u << 9)	/* its endpoint is a layer (READLINE): no tls,
					 * no frames, not half of a dual address */

struct addr_spec;

/**
 * struct peer_info - who connected to a listener, handed to what is opened
 *		      next (EXEC children see it in the environment)
 */
struct peer_info {
	char addr[160];
	char port[16];
	char sockaddr[160];
	char sockport[16];
};

/**
 * struct addr_type - one address type: its grammar, options and behaviour
 * @name:	canonical upper-case name
 * @aliases:	other names (socat's), NULL-terminated
 * @params:	parameter names for usage, e.g. "host:port", or NULL
 * @nparams:	how many parameters it takes
 * @flags:	ADDR_*
 * @summary:	one line for "vrelay -h"
 * @unavailable: for ADDR_STUB types: why this binary lacks it
 * @opts:	NULL-terminated lists of the options it takes, shared lists
 *		(listen, connect, socket …) first
 * @prepare:	check parameters and options, fill @spec->priv; no I/O but
 *		name resolution.  Errors go to @err and become exit status 2.
 * @open:	connect or open; logs its own failure; 0 or negative errno
 * @open_async:	optional, for the many-connections mode: like @open, but
 *		may return with a connect in flight (EP_CONNECTING)
 * @listen:	listeners only: bind and listen, return the listening fd
 * @peer_allowed: listeners only: the range= check on an accepted peer
 * @accepted:	listeners only: per-connection setup of an accepted socket
 * @close_listener: listeners only: close the listening fd (and unlink a
 *		socket path); NULL means close(2)
 * @start:	optional: set up, in the relay's event loop, what every
 *		connection opened from this address shares (the NAT engine),
 *		before a listener on the other side takes its first peer;
 *		logs its own failure; 0 or negative errno
 * @cleanup:	free what prepare() made
 */
struct addr_type {
	const char *name;
	const char *aliases[4];
	const char *params;
	unsigned nparams;
	unsigned flags;
	const char *summary;
	const char *unavailable;
	const struct opt_desc *const *opts[ADDR_MAX_OPT_LISTS];
	int (*prepare)(struct addr_spec *spec, struct errbuf *err);
	int (*open)(struct addr_spec *spec, const struct peer_info *peer,
		    struct endpoint *ep);
	int (*open_async)(struct addr_spec *spec, const struct peer_info *peer,
			  struct endpoint *ep);
	int (*listen)(struct addr_spec *spec, int *fd);
	bool (*peer_allowed)(const struct addr_spec *spec,
			     const struct sockaddr *sa, socklen_t len);
	void (*accepted)(const struct addr_spec *spec, int fd);
	void (*close_listener)(const struct addr_spec *spec, int fd);
	int (*start)(struct addr_spec *spec);
	void (*cleanup)(struct addr_spec *spec);
};

/**
 * struct addr_spec - one address as parsed from the command line
 * @text:	the address as the user wrote it (every message starts with it)
 * @type:	its type
 * @params:	parameters, unescaped
 * @opts:	options, parsed and range-checked
 * @dual:	for "A!!B": this spec reads (A), @dual writes (B)
 * @priv:	what the type's prepare() made of it
 * @tls:	what tls_prepare() made of its TLS options, or NULL
 */
struct addr_spec {
	const char *text;
	const struct addr_type *type;
	char *params[ADDR_MAX_PARAMS];
	unsigned nparams;
	struct opt_value opts[ADDR_MAX_OPTS];
	unsigned nopts;
	struct addr_spec *dual;
	void *priv;
	void *tls;
};

/* addr-table.c */
extern const struct addr_type *const addr_types[];
const struct addr_type *addr_type_find(const char *name);

/* addr.c */
struct addr_spec *addr_parse(const char *text, struct errbuf *err);
void addr_free(struct addr_spec *spec);
int addr_open(struct addr_spec *spec, const struct peer_info *peer, struct endpoint *ep);
bool addr_is_listener(const struct addr_spec *spec);
void addr_print_types(void);
int addr_print_type_help(const char *name);

const struct opt_value *opt_find(const struct addr_spec *spec, const struct opt_desc *desc);
const struct opt_value *opt_next(const struct addr_spec *spec, const struct opt_desc *desc,
				 const struct opt_value *prev);
bool opt_get_flag(const struct addr_spec *spec, const struct opt_desc *desc, bool dflt);
unsigned long long opt_get_num(const struct addr_spec *spec, const struct opt_desc *desc,
			       unsigned long long dflt);
double opt_get_secs(const struct addr_spec *spec, const struct opt_desc *desc, double dflt);
const char *opt_get_str(const struct addr_spec *spec, const struct opt_desc *desc);

/* Options every type understands, applied by the relay rather than a type */
extern const struct opt_desc opt_ignoreeof;
extern const struct opt_desc *const addr_common_opts[];

#endif
