/* SPDX-License-Identifier: MIT */
/*
 * sock.c - what every socket family shares: options, connecting with
 *	    retries and time-outs, listening, accepting with an allow-list
 */
#include "config.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#ifdef HAVE_LINUX_VM_SOCKETS_H
#include <linux/vm_sockets.h>
#endif
#include <unistd.h>

#include "log.h"
#include "sock.h"

#define SECS_MAX 31536000ULL	/* a year: longer is surely a typo */

static char fail_why[512];

void sock_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fail_why, sizeof(fail_why), fmt, ap);
	va_end(ap);
}

const struct opt_desc opt_fork = { "fork", OPT_FLAG, 0, 0, 0, NULL,
	"serve each connection in a child process and keep listening" };
const struct opt_desc opt_multi = { "multi", OPT_FLAG, 0, 0, 0, NULL,
	"serve every connection in this one process (many-connections mode, -M)" };
const struct opt_desc opt_max_children = { "max-children", OPT_UINT, 0, 1, 1000000, "N",
	"with fork or multi: at most N connections at once; more wait in the backlog" };
const struct opt_desc opt_reuseaddr = { "reuseaddr", OPT_FLAG, 0, 0, 0, NULL,
	"SO_REUSEADDR on the listening socket (default on; reuseaddr=0 turns it off)" };
const struct opt_desc opt_backlog = { "backlog", OPT_UINT, 0, 1, 65535, "N",
	"listen(2) backlog (default 1024)" };
const struct opt_desc opt_bind = { "bind", OPT_STRING, 0, 0, 0, "ADDR",
	"local address: listen on ADDR, or connect from ADDR[:PORT]" };
const struct opt_desc opt_range = { "range", OPT_STRING, OPTF_LIST, 0, 0, "LIST",
	"accept only peers in LIST: ADDR[/PREFIX] entries, comma-separated" };
const struct opt_desc opt_connect_timeout = { "connect-timeout", OPT_SECS, 0, 0, SECS_MAX,
	"SECONDS", "give up a connect attempt after SECONDS" };
const struct opt_desc opt_retry = { "retry", OPT_UINT, 0, 0, 1000000, "N",
	"retry a failed connect N times" };
const struct opt_desc opt_interval = { "interval", OPT_SECS, 0, 0, SECS_MAX, "SECONDS",
	"wait between connect retries (default 1)" };
const struct opt_desc opt_forever = { "forever", OPT_FLAG, 0, 0, 0, NULL,
	"retry a failed connect until it succeeds" };
const struct opt_desc opt_keepalive = { "keepalive", OPT_FLAG, 0, 0, 0, NULL,
	"SO_KEEPALIVE: detect dead peers" };
const struct opt_desc opt_nodelay = { "nodelay", OPT_FLAG, 0, 0, 0, NULL,
	"TCP_NODELAY: send small writes at once" };
const struct opt_desc opt_rcvbuf = { "rcvbuf", OPT_SIZE, 0, 1024, 1ULL << 30, "BYTES",
	"SO_RCVBUF: socket receive buffer size" };
const struct opt_desc opt_sndbuf = { "sndbuf", OPT_SIZE, 0, 1024, 1ULL << 30, "BYTES",
	"SO_SNDBUF: socket send buffer size" };

const struct opt_desc *const sock_listen_opts[] = {
	&opt_fork, &opt_multi, &opt_max_children, &opt_backlog, NULL,
};
const struct opt_desc *const sock_ip_listen_opts[] = {
	&opt_reuseaddr, &opt_bind, &opt_range, NULL,
};
const struct opt_desc *const sock_connect_opts[] = {
	&opt_connect_timeout, &opt_retry, &opt_interval, &opt_forever, &opt_bind, NULL,
};
const struct opt_desc *const sock_buf_opts[] = { &opt_rcvbuf, &opt_sndbuf, NULL };
const struct opt_desc *const sock_tcp_opts[] = { &opt_keepalive, &opt_nodelay, NULL };

struct sock_priv *sock_priv_new(struct addr_spec *spec, struct errbuf *err)
{
	struct sock_priv *p = calloc(1, sizeof(*p));

	if (!p) {
		err_set(err, "out of memory");
		return NULL;
	}
	p->accept_fd = -1;
	p->socktype = SOCK_STREAM;
	spec->priv = p;
	return p;
}

void sock_priv_free(struct addr_spec *spec)
{
	struct sock_priv *p = spec->priv;

	if (!p)
		return;
	free(p->host);
	free(p->port);
	free(p->ranges);
	free(p->targets);
	free(p->path);
	free(p->cids);
	free(p->family_conf);
	free(p);
	spec->priv = NULL;
}

/**
 * sock_format() - a socket address as users write it: 1.2.3.4:80,
 *		   [::1]:80, /path/to/sock, @abstract
 */
void sock_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
		return;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		/* a dual-stack listener's IPv4 peer is ::ffff:a.b.c.d: users
		 * (and scripts written for socat) know it as a.b.c.d */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof(host));
			snprintf(buf, size, "%s:%u", host, ntohs(in6->sin6_port));
			return;
		}
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		if (in6->sin6_scope_id) {
			char ifname[IF_NAMESIZE];

			if (!if_indextoname(in6->sin6_scope_id, ifname))
				snprintf(ifname, sizeof(ifname), "%u", in6->sin6_scope_id);
			snprintf(buf, size, "[%s%%%s]:%u", host, ifname, ntohs(in6->sin6_port));
			return;
		}
		snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
		return;
	}
	case AF_UNIX: {
		const struct sockaddr_un *un = (const void *)sa;
		size_t plen = len > offsetof(struct sockaddr_un, sun_path) ?
			      len - offsetof(struct sockaddr_un, sun_path) : 0;

		if (plen == 0)
			snprintf(buf, size, "(unnamed unix socket)");
		else if (un->sun_path[0] == '\0')
			snprintf(buf, size, "@%.*s", (int)plen - 1, un->sun_path + 1);
		else
			snprintf(buf, size, "%.*s", (int)strnlen(un->sun_path, plen), un->sun_path);
		return;
	}
#ifdef HAVE_LINUX_VM_SOCKETS_H
	case AF_VSOCK: {
		const struct sockaddr_vm *vm = (const void *)sa;

		if (vm->svm_cid == VMADDR_CID_ANY)
			snprintf(buf, size, "vsock:any:%u", vm->svm_port);
		else
			snprintf(buf, size, "vsock:%u:%u", vm->svm_cid, vm->svm_port);
		return;
	}
#endif
	default:
		snprintf(buf, size, "(address family %d)", sa->sa_family);
	}
}

/* ---- range= ------------------------------------------------------------ */

static int parse_one_range(char *item, struct ip_range *r, struct errbuf *err)
{
	char *slash = strchr(item, '/');
	unsigned long long prefix;
	unsigned maxprefix;
	char *host = item;
	size_t hl;

	if (slash)
		*slash = '\0';
	hl = strlen(host);
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		host++;
	}
	if (inet_pton(AF_INET, host, r->addr) == 1) {
		r->family = AF_INET;
		maxprefix = 32;
	} else if (inet_pton(AF_INET6, host, r->addr) == 1) {
		r->family = AF_INET6;
		maxprefix = 128;
	} else {
		return err_set(err, "range: invalid address \"%s\"", host);
	}
	r->prefix = maxprefix;
	if (slash) {
		struct in_addr mask;

		/* socat also takes 10.0.0.0/255.0.0.0 */
		if (r->family == AF_INET && strchr(slash + 1, '.') &&
		    inet_pton(AF_INET, slash + 1, &mask) == 1) {
			uint32_t m = ntohl(mask.s_addr);

			r->prefix = (unsigned)__builtin_popcount(m);
			if (m != (r->prefix ? ~0U << (32 - r->prefix) : 0))
				return err_set(err, "range: non-contiguous mask \"%s\"", slash + 1);
			return 0;
		}
		if (util_parse_uint(slash + 1, 0, maxprefix, &prefix) < 0)
			return err_set(err, "range: prefix length \"%s\" not in 0..%u",
				       slash + 1, maxprefix);
		r->prefix = (unsigned)prefix;
	}
	return 0;
}

/**
 * sock_parse_ip_ranges() - parse "10.0.0.0/8,::1,192.168.1.7"
 */
int sock_parse_ip_ranges(const char *text, struct ip_range **out, size_t *n,
			 struct errbuf *err)
{
	char *copy = strdup(text), *save = NULL, *item;
	size_t count = 1;
	int rc = 0;

	for (const char *p = text; *p; p++)
		count += *p == ',';
	*out = calloc(count, sizeof(**out));
	*n = 0;
	if (!copy || !*out) {
		free(copy);
		return err_set(err, "out of memory");
	}
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		rc = parse_one_range(item, &(*out)[*n], err);
		if (rc < 0)
			break;
		(*n)++;
	}
	if (!rc && *n == 0)
		rc = err_set(err, "range: empty list");
	free(copy);
	return rc;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

bool sock_ip_allowed(const struct ip_range *r, size_t n, const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *v4 = NULL, *v6 = NULL;

	if (sa->sa_family == AF_INET) {
		v4 = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		v6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		/* a dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d */
		if (!memcmp(v6, v4mapped, sizeof(v4mapped)))
			v4 = v6 + 12;
	}
	for (size_t i = 0; i < n; i++) {
		if (r[i].family == AF_INET && v4 && prefix_match(r[i].addr, v4, r[i].prefix))
			return true;
		if (r[i].family == AF_INET6 && v6 && prefix_match(r[i].addr, v6, r[i].prefix))
			return true;
	}
	return false;
}

bool sock_peer_allowed(const struct addr_spec *spec, const struct sockaddr *sa,
		       socklen_t len)
{
	const struct sock_priv *p = spec->priv;

	if (!p || !p->nranges)
		return true;
	return sock_ip_allowed(p->ranges, p->nranges, sa);
}

/* ---- socket options ------------------------------------------------------ */

static void set_int_opt(const struct addr_spec *spec, int fd, int level, int name,
			int value, const char *what)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)) < 0)
		log_warn("%s: %s: %s", spec->text, what, strerror(errno));
}

/**
 * sock_apply_opts() - the socket options given on @spec, on @fd
 */
void sock_apply_opts(const struct addr_spec *spec, int fd)
{
	const struct sock_priv *p = spec->priv;
	const struct opt_value *v;

	if (p && p->apply)
		p->apply(spec, fd);
	if ((v = opt_find(spec, &opt_rcvbuf)))
		set_int_opt(spec, fd, SOL_SOCKET, SO_RCVBUF, (int)v->num, "rcvbuf");
	if ((v = opt_find(spec, &opt_sndbuf)))
		set_int_opt(spec, fd, SOL_SOCKET, SO_SNDBUF, (int)v->num, "sndbuf");
	if ((v = opt_find(spec, &opt_keepalive)))
		set_int_opt(spec, fd, SOL_SOCKET, SO_KEEPALIVE, (int)v->num, "keepalive");
	if ((v = opt_find(spec, &opt_nodelay)))
		set_int_opt(spec, fd, IPPROTO_TCP, TCP_NODELAY, (int)v->num, "nodelay");
}

void sock_accepted(const struct addr_spec *spec, int fd)
{
	sock_apply_opts(spec, fd);
}

/* What kind of socket @fd is, for the -d -d line that tells it was made */
static void log_socket_made(const struct addr_spec *spec, int fd, int family, int socktype)
{
	const char *fam = family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" :
			  family == AF_UNIX ? "unix" : "other";
	const char *type = socktype == SOCK_STREAM ? "stream" :
			   socktype == SOCK_SEQPACKET ? "seqpacket" :
			   socktype == SOCK_DGRAM ? "datagram" : "other";

	log_info("%s: socket: %s %s, fd %d", spec->text, fam, type, fd);
}

/* ---- connecting ------------------------------------------------------------ */

/* Sleep that ends early on SIGTERM/SIGINT */
static void sleep_interruptible(double secs)
{
	struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };

	while (!util_quit && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Wait for a non-blocking connect; 0 or a negative errno */
static int wait_connected(int fd, double timeout)
{
	double deadline = timeout > 0 ? util_now() + timeout : 0;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	for (;;) {
		int ms = -1, rc;

		if (deadline) {
			double left = deadline - util_now();

			if (left <= 0)
				return -ETIMEDOUT;
			ms = (int)(left * 1000) + 1;
		}
		rc = poll(&pfd, 1, ms);
		if (rc > 0)
			break;
		if (rc == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
		if (util_quit)
			return -EINTR;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return -errno;
	return -soerr;
}

/**
 * connect_one() - one socket, one connect
 * @async:	leave a connect in flight (-EINPROGRESS) for the event loop
 * Return: fd, or a negative errno
 */
static int connect_one(const struct addr_spec *spec, const struct sock_target *t,
		       bool async)
{
	const struct sock_priv *p = spec->priv;
	int family = t->sa.ss_family;
	int fd, rc;

	fd = socket(family, p->socktype | SOCK_CLOEXEC | (family == AF_UNIX ? 0 : SOCK_NONBLOCK), 0);
	if (fd < 0)
		return -errno;
	log_socket_made(spec, fd, family, p->socktype);
	sock_apply_opts(spec, fd);
	if (p->bindlen) {
		char b[128];

		sock_format((const struct sockaddr *)&p->bind, p->bindlen, b, sizeof(b));
		if (bind(fd, (const struct sockaddr *)&p->bind, p->bindlen) < 0) {
			rc = -errno;
			log_notice("%s: bind to %s: %s", spec->text, b, strerror(-rc));
			close(fd);
			return rc;
		}
		log_info("%s: bound to %s", spec->text, b);
	}
	/* AF_UNIX connects block only while the listener's backlog is full,
	 * and a non-blocking one would fail with EAGAIN then; the others wait
	 * in poll() so that connect-timeout works. */
	rc = connect(fd, (const struct sockaddr *)&t->sa, t->len);
	if (rc < 0 && errno == EINPROGRESS) {
		if (async)
			return fd;
		rc = wait_connected(fd, opt_get_secs(spec, &opt_connect_timeout, 0));
	} else if (rc < 0) {
		rc = -errno;
	}
	if (rc == 0 && p->handshake)
		rc = p->handshake(spec, fd);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

static int try_targets(const struct addr_spec *spec, const struct sock_target *t, size_t n,
		       size_t first, bool async, size_t *used, int *lasterr)
{
	char where[160];

	for (size_t i = first; i < n; i++) {
		int fd;

		fail_why[0] = '\0';
		where[0] = '\0';
		if (log_enabled(LOG_LVL_NOTICE) || n > 1) {
			sock_format((const struct sockaddr *)&t[i].sa, t[i].len, where, sizeof(where));
			log_notice("%s: connecting to %s", spec->text, where);
		}
		fd = connect_one(spec, &t[i], async);

		if (fd >= 0) {
			*used = i;
			return fd;
		}
		*lasterr = fd;
		if (*fail_why)
			log_notice("%s: %s: %s", spec->text, where, fail_why);
		else
			log_notice("%s: connect to %s: %s", spec->text, where, strerror(-fd));
		if (fd == -EINTR)
			break;
	}
	return -1;
}

static void connected(const struct addr_spec *spec, int fd, bool in_flight,
		      struct endpoint *ep)
{
	const struct sock_priv *p = spec->priv;
	/* connect_one() made all but unix sockets non-blocking */
	unsigned nonblock = p->targets && p->targets[0].sa.ss_family != AF_UNIX &&
			    in_flight ? EP_NONBLOCK : 0;

	if (!in_flight && log_enabled(LOG_LVL_NOTICE)) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char where[160];

		if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
			sock_format((struct sockaddr *)&ss, sl, where, sizeof(where));
			log_notice("%s: connected to %s", spec->text, where);
		}
	}
	endpoint_set_fd(ep, fd, EP_SOCKET | EP_OWNED_SOCKET | nonblock |
				(in_flight ? EP_CONNECTING : 0));
}

/**
 * sock_connect() - connect @spec, trying every resolved address, with the
 *		    connect-timeout, retry, interval and forever options
 * @async:	for the many-connections mode: use the addresses prepare()
 *		resolved, do not retry, and return with the connect in flight
 *		(EP_CONNECTING); sock_connect_next() moves on if it fails
 * Return: 0, or a negative errno after one error line
 */
int sock_connect(const struct addr_spec *spec, bool async, struct endpoint *ep)
{
	const struct sock_priv *p = spec->priv;
	bool forever = opt_get_flag(spec, &opt_forever, false);
	unsigned long long retries = opt_get_num(spec, &opt_retry, 0);
	double interval = opt_get_secs(spec, &opt_interval, 1.0);
	int lasterr = -ECONNREFUSED;
	size_t used = 0;

	if (async) {
		int fd = try_targets(spec, p->targets, p->ntargets, 0, true, &used, &lasterr);

		if (fd < 0) {
			log_err("%s: connect: %s", spec->text, strerror(-lasterr));
			return lasterr;
		}
		ep->priv = (void *)(uintptr_t)used;
		connected(spec, fd, true, ep);
		return 0;
	}
	for (unsigned long long attempt = 0;; attempt++) {
		struct sock_target *t = NULL;
		size_t n = 0;
		int rc;

		fail_why[0] = '\0';
		rc = p->resolve(spec, &t, &n);

		if (rc == 0) {
			int fd = try_targets(spec, t, n, 0, false, &used, &lasterr);

			free(t);
			if (fd >= 0) {
				connected(spec, fd, false, ep);
				return 0;
			}
		} else {
			lasterr = rc;
		}
		if (util_quit || lasterr == -EINTR)
			return -EINTR;
		if (!forever && attempt >= retries)
			break;
		log_notice("%s: retrying in %g s (attempt %llu)", spec->text, interval, attempt + 2);
		sleep_interruptible(interval);
		if (util_quit)
			return -EINTR;
	}
	if (*fail_why)
		log_err("%s: %s", spec->text, fail_why);
	else
		log_err("%s: connect: %s", spec->text, strerror(-lasterr));
	return lasterr;
}

/**
 * sock_connect_next() - an in-flight connect failed with @err: try the
 *			 next address prepare() resolved
 * Return: 0 with a new connect in flight, or a negative errno
 */
int sock_connect_next(const struct addr_spec *spec, struct endpoint *ep, int err)
{
	const struct sock_priv *p = spec->priv;
	size_t next = (size_t)(uintptr_t)ep->priv + 1, used = 0;
	int lasterr = err, fd;

	if (ep->rfd >= 0)
		close(ep->rfd);
	ep->rfd = ep->wfd = -1;
	fd = try_targets(spec, p->targets, p->ntargets, next, true, &used, &lasterr);
	if (fd < 0) {
		log_err("%s: connect: %s", spec->text, strerror(-lasterr));
		return lasterr;
	}
	ep->priv = (void *)(uintptr_t)used;
	connected(spec, fd, true, ep);
	return 0;
}

/* ---- listening ------------------------------------------------------------- */

/**
 * sock_listen_on() - socket, bind, listen, and the "listening on" line
 *		      that scripts and tests wait for
 */
int sock_listen_on(const struct addr_spec *spec, const struct sockaddr *sa,
		   socklen_t len, int socktype, int *fdp)
{
	int backlog = (int)opt_get_num(spec, &opt_backlog, 1024);
	struct sockaddr_storage bound;
	socklen_t bl = sizeof(bound);
	char where[160];
	int fd, one = 1;

	fd = socket(sa->sa_family, socktype | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_err("%s: socket: %s", spec->text, strerror(errno));
		return -errno;
	}
	log_socket_made(spec, fd, sa->sa_family, socktype);
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
		if (opt_get_flag(spec, &opt_reuseaddr, true))
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sock_priv *p = spec->priv;
		int v6only = p->family == AF_INET6;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	sock_apply_opts(spec, fd);
	sock_format(sa, len, where, sizeof(where));
	if (bind(fd, sa, len) < 0) {
		int e = errno;

		log_err("%s: bind to %s: %s", spec->text, where, strerror(e));
		close(fd);
		return -e;
	}
	log_info("%s: bound to %s", spec->text, where);
	if (socktype != SOCK_DGRAM && listen(fd, backlog) < 0) {
		int e = errno;

		log_err("%s: listen: %s", spec->text, strerror(e));
		close(fd);
		return -e;
	}
	if (getsockname(fd, (struct sockaddr *)&bound, &bl) == 0)
		sock_format((struct sockaddr *)&bound, bl, where, sizeof(where));
	log_notice("%s: listening on %s", spec->text, where);
	*fdp = fd;
	return 0;
}

static void fill_peer(int fd, const struct sockaddr *sa, socklen_t len, struct peer_info *peer)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char buf[160], *colon;

	memset(peer, 0, sizeof(*peer));
#ifdef HAVE_LINUX_VM_SOCKETS_H
	if (sa->sa_family == AF_VSOCK) {
		const struct sockaddr_vm *vm = (const void *)sa;

		snprintf(peer->addr, sizeof(peer->addr), "%u", vm->svm_cid);
		snprintf(peer->port, sizeof(peer->port), "%u", vm->svm_port);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
			vm = (const void *)&ss;
			/* getsockname() wrote it; the analyzer does not model that */
			/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
			snprintf(peer->sockaddr, sizeof(peer->sockaddr), "%u", vm->svm_cid);
			snprintf(peer->sockport, sizeof(peer->sockport), "%u", vm->svm_port);
		}
		return;
	}
#endif
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
		/* a unix peer usually has no name: then there is nothing to say */
		if (sa->sa_family != AF_UNIX || len > offsetof(struct sockaddr_un, sun_path))
			sock_format(sa, len, peer->addr, sizeof(peer->addr));
		return;
	}
	/* "1.2.3.4:80" / "[::1]:80" into address and port */
	sock_format(sa, len, buf, sizeof(buf));
	colon = strrchr(buf, ':');
	*colon = '\0';
	snprintf(peer->port, sizeof(peer->port), "%s", colon + 1);
	snprintf(peer->addr, sizeof(peer->addr), "%s",
		 buf[0] == '[' ? (buf[strlen(buf) - 1] = '\0', buf + 1) : buf);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		sock_format((struct sockaddr *)&ss, sl, buf, sizeof(buf));
		colon = strrchr(buf, ':');
		*colon = '\0';
		snprintf(peer->sockport, sizeof(peer->sockport), "%s", colon + 1);
		snprintf(peer->sockaddr, sizeof(peer->sockaddr), "%s",
			 buf[0] == '[' ? (buf[strlen(buf) - 1] = '\0', buf + 1) : buf);
	}
}

/**
 * sock_accept() - accept one connection and check it against range=
 * @peer:	filled with who connected, for EXEC's environment; NULL when
 *		nobody will read it (saves a getsockname per connection)
 * Return: 0 with the connection in @fdp; -EAGAIN when none is waiting on a
 *	   non-blocking listener; -EACCES after refusing a peer (logged,
 *	   closed); another negative errno on failure
 */
int sock_accept(const struct addr_spec *spec, int lfd, int *fdp, struct peer_info *peer)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char who[160];
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (spec->type->peer_allowed && !spec->type->peer_allowed(spec, (struct sockaddr *)&ss, sl)) {
		sock_format((struct sockaddr *)&ss, sl, who, sizeof(who));
		log_warn("%s: refused connection from %s (not in range=)", spec->text, who);
		close(fd);
		return -EACCES;
	}
	if (log_enabled(LOG_LVL_NOTICE)) {
		sock_format((struct sockaddr *)&ss, sl, who, sizeof(who));
		log_notice("%s: accepted connection from %s", spec->text, who);
	}
	if (spec->type->accepted)
		spec->type->accepted(spec, fd);
	if (peer)
		fill_peer(fd, (struct sockaddr *)&ss, sl, peer);
	*fdp = fd;
	return 0;
}

/**
 * sock_listen_accept_once() - a listener without fork: wait for the first
 *			       permitted peer, then stop listening
 */
int sock_listen_accept_once(struct addr_spec *spec, struct endpoint *ep)
{
	int lfd, fd = -1, rc;

	rc = spec->type->listen(spec, &lfd);
	if (rc < 0)
		return rc;
	do {
		rc = util_wait_input(lfd);
		if (rc == 0)
			rc = sock_accept(spec, lfd, &fd, NULL);
		if (rc == -EINTR && util_quit)
			break;
	} while (rc == -EACCES || rc == -EINTR || rc == -ECONNABORTED);
	if (spec->type->close_listener)
		spec->type->close_listener(spec, lfd);
	else
		close(lfd);
	if (rc < 0) {
		if (rc != -EINTR)
			log_err("%s: accept: %s", spec->text, strerror(-rc));
		return rc;
	}
	endpoint_set_fd(ep, fd, EP_SOCKET | EP_OWNED_SOCKET | EP_NONBLOCK);
	return 0;
}
