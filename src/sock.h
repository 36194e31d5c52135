/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_SOCK_H
#define VRELAY_SOCK_H

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"

/* Option lists shared by the socket families (sock.c) */
extern const struct opt_desc opt_fork, opt_multi, opt_max_children, opt_reuseaddr,
	opt_backlog, opt_bind, opt_range, opt_connect_timeout, opt_retry,
	opt_interval, opt_forever, opt_keepalive, opt_nodelay, opt_rcvbuf, opt_sndbuf;
extern const struct opt_desc *const sock_listen_opts[];
extern const struct opt_desc *const sock_ip_listen_opts[];
extern const struct opt_desc *const sock_connect_opts[];
extern const struct opt_desc *const sock_buf_opts[];
extern const struct opt_desc *const sock_tcp_opts[];

/* One entry of a range= allow-list: an IP prefix */
struct ip_range {
	int family;
	uint8_t addr[16];
	unsigned prefix;
};

/* Why the last connect attempt failed, when errno says too little (a name
 * that does not resolve, a VMM's bad reply): set with sock_fail(), it is
 * the final error line if no later attempt succeeds */
void sock_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One address a connector tries */
struct sock_target {
	struct sockaddr_storage sa;
	socklen_t len;
};

/* Resolves the targets to try, fresh for every connect attempt; logs its
 * own failure; 0 or a negative errno */
typedef int (*sock_resolve_fn)(const struct addr_spec *spec, struct sock_target **out,
			       size_t *n);

/**
 * struct sock_priv - what prepare() makes of a socket address; one shape
 *		      for every socket family, each using its own fields
 * @family:	AF_INET, AF_INET6, AF_UNSPEC (either) or AF_UNIX
 * @socktype:	SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET
 * @host, @port: TCP: as given, brackets stripped
 * @sa, @salen:	UNIX/ABSTRACT: the socket address; listeners: bind address
 * @bind, @bindlen: the bind= option's address, if given
 * @ranges:	range= allow-list
 * @accept_fd:	ACCEPT-FD: the inherited listening socket
 * @targets:	connectors: what prepare() resolved, used by the
 *		many-connections mode, which must not block on a lookup
 * @resolve:	connectors: look the targets up afresh for each attempt
 * @path:	UNIX and the families built on it: the socket file
 * @apply:	family-specific socket options (vsock buffer-size)
 * @handshake:	after connect: a protocol preamble (VSOCK-MUX, HyperKit);
 *		logs its own failure; 0 or a negative errno
 * @cids, @ncids: vsock range=: [lo, hi] pairs of allowed peer CIDs
 * @family_conf: what a family built on these sockets needs besides
 *		(VSOCK-MUX's guest port, HyperKit's CID and port); freed
 *		with the rest
 */
struct sock_priv {
	int family;
	int socktype;
	char *host;
	char *port;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct sockaddr_storage bind;
	socklen_t bindlen;
	struct ip_range *ranges;
	size_t nranges;
	int accept_fd;
	struct sock_target *targets;
	size_t ntargets;
	sock_resolve_fn resolve;
	char *path;
	void (*apply)(const struct addr_spec *spec, int fd);
	int (*handshake)(const struct addr_spec *spec, int fd);
	uint32_t (*cids)[2];
	size_t ncids;
	void *family_conf;
};

struct sock_priv *sock_priv_new(struct addr_spec *spec, struct errbuf *err);
void sock_priv_free(struct addr_spec *spec);

int sock_parse_ip_ranges(const char *text, struct ip_range **out, size_t *n,
			 struct errbuf *err);
bool sock_ip_allowed(const struct ip_range *r, size_t n, const struct sockaddr *sa);
bool sock_peer_allowed(const struct addr_spec *spec, const struct sockaddr *sa,
		       socklen_t len);
void sock_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

void sock_apply_opts(const struct addr_spec *spec, int fd);
void sock_accepted(const struct addr_spec *spec, int fd);

int sock_connect(const struct addr_spec *spec, bool async, struct endpoint *ep);
int sock_connect_next(const struct addr_spec *spec, struct endpoint *ep, int err);
int sock_listen_on(const struct addr_spec *spec, const struct sockaddr *sa,
		   socklen_t len, int socktype, int *fdp);
int sock_accept(const struct addr_spec *spec, int lfd, int *fdp, struct peer_info *peer);
int sock_listen_accept_once(struct addr_spec *spec, struct endpoint *ep);

#endif
