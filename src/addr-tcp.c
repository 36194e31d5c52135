/* SPDX-License-Identifier: MIT */
/*
 * addr-tcp.c - TCP-CONNECT, TCP-LISTEN and their TCP4-/TCP6- variants
 *
 * Connectors resolve the host in prepare(), so that a name that does not
 * resolve is a usage error before anything is opened - unless retry= or
 * forever says the name may appear later - and again for each attempt, so
 * that a long-running fork listener follows DNS.  Every address the name
 * has is tried in order.  TCP-LISTEN listens on [::] for IPv4 and IPv6 at
 * once where the kernel has IPv6, on 0.0.0.0 otherwise.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr-types.h"
#include "log.h"
#include "sock.h"

int addr_default_family = AF_UNSPEC;

static int type_family(const struct addr_type *t)
{
	if (t == &addr_tcp4_connect || t == &addr_tcp4_listen)
		return AF_INET;
	if (t == &addr_tcp6_connect || t == &addr_tcp6_listen)
		return AF_INET6;
	return addr_default_family;
}

/* "[::1]" -> "::1"; anything else as it is */
static char *strip_brackets(const char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
		return strndup(s + 1, n - 2);
	return strdup(s);
}

static int check_host(const char *host, struct errbuf *err)
{
	struct in6_addr a6;

	const char *pct = strchr(host, '%');

	if (!*host)
		return err_set(err, "host: empty");
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return 0;
	/* fe80::1%eth0: a link-local address with its interface */
	if (pct && pct[1] && strchr(host, ':')) {
		char addr[INET6_ADDRSTRLEN];

		if ((size_t)(pct - host) < sizeof(addr)) {
			memcpy(addr, host, (size_t)(pct - host));
			addr[pct - host] = '\0';
			if (inet_pton(AF_INET6, addr, &a6) == 1)
				return 0;
		}
		return err_set(err, "host: invalid scoped IPv6 address \"%s\"", host);
	}
	if (strlen(host) > 253)
		return err_set(err, "host: name too long (%zu > 253)", strlen(host));
	for (const char *p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return err_set(err, "host: invalid character '%c' in \"%s\"", *p, host);
	return 0;
}

/*
 * A port number, or a service name from /etc/services.  A number may be
 * written as the grammar allows numbers (0x50 too); it is rewritten in
 * decimal in @port, which is what getaddrinfo() understands.
 */
static int check_port(char *port, size_t size, unsigned long long min, struct errbuf *err)
{
	unsigned long long v;

	if (!*port)
		return err_set(err, "port: empty");
	if (isdigit((unsigned char)port[0]) || port[0] == '-' || port[0] == '+') {
		if (util_check_number(err, "port", port, min, 65535, &v) < 0)
			return -EINVAL;
		snprintf(port, size, "%llu", v);
		return 0;
	}
	if (!getservbyname(port, "tcp"))
		return err_set(err, "port: unknown service \"%s\"", port);
	return 0;
}

static int lookup(const char *host, const char *port, int family, int flags,
		  struct sock_target **out, size_t *n, const char **why)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM,
				  .ai_flags = flags };
	struct addrinfo *res, *ai;
	size_t count = 0;
	int rc;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		*why = rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc);
		return -ENODATA;
	}
	for (ai = res; ai; ai = ai->ai_next)
		count++;
	/* a successful getaddrinfo() has at least one result: count is never 0 */
	/* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI) */
	*out = calloc(count, sizeof(**out));
	if (!*out) {
		freeaddrinfo(res);
		*why = "out of memory";
		return -ENOMEM;
	}
	*n = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof((*out)->sa))
			continue;
		memcpy(&(*out)[*n].sa, ai->ai_addr, ai->ai_addrlen);
		(*out)[(*n)++].len = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return 0;
}

static int tcp_resolve(const struct addr_spec *spec, struct sock_target **out, size_t *n)
{
	const struct sock_priv *p = spec->priv;
	const char *why = NULL;
	int rc = lookup(p->host, p->port, p->family, 0, out, n, &why);

	if (rc < 0) {
		sock_fail("cannot resolve host \"%s\": %s", p->host, why);
		log_notice("%s: cannot resolve host \"%s\": %s", spec->text, p->host, why);
	} else if (log_enabled(LOG_LVL_INFO)) {
		char list[512], one[160];
		size_t len = 0;

		list[0] = '\0';
		for (size_t i = 0; i < *n && len < sizeof(list); i++) {
			sock_format((const struct sockaddr *)&(*out)[i].sa, (*out)[i].len, one,
				    sizeof(one));
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
						i ? ", " : "", one);
		}
		log_info("%s: %s resolves to %s", spec->text, p->host, *n ? list : "nothing");
	}
	return rc;
}

/* bind=ADDR or bind=ADDR:PORT or bind=[V6]:PORT, numeric or a name */
static int parse_bind(struct sock_priv *p, const char *text, int family, bool listen,
		      struct errbuf *err)
{
	char *host = strdup(text), *port = NULL, *close_br;
	struct sock_target *t = NULL;
	const char *why = NULL;
	size_t n = 0;
	int rc;

	if (!host)
		return err_set(err, "out of memory");
	if (host[0] == '[' && (close_br = strchr(host, ']'))) {
		*close_br = '\0';
		if (close_br[1] == ':')
			port = close_br + 2;
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else if (strchr(host, ':') == strrchr(host, ':') && strchr(host, ':')) {
		port = strchr(host, ':');
		*port++ = '\0';
	}
	if (port && listen)
		rc = err_set(err, "bind: a listener takes its port from the address, not from bind=");
	else if (port && check_port(port, strlen(port) + 1, 0, err) < 0)
		rc = -EINVAL;
	else if (lookup(*host ? host : NULL, port ? port : "0", family, AI_PASSIVE, &t, &n, &why) < 0 || !n)
		rc = err_set(err, "bind: cannot use \"%s\": %s", text, why ? why : "no address");
	else {
		memcpy(&p->bind, &t[0].sa, t[0].len);
		p->bindlen = t[0].len;
		rc = 0;
	}
	free(t);
	free(host);
	return rc;
}

static int tcp_connect_prepare(struct addr_spec *spec, struct errbuf *err)
{
	struct sock_priv *p = sock_priv_new(spec, err);
	const char *bind = opt_get_str(spec, &opt_bind), *why = NULL;

	if (!p)
		return -ENOMEM;
	p->family = type_family(spec->type);
	p->resolve = tcp_resolve;
	p->host = strip_brackets(spec->params[0]);
	p->port = strdup(spec->params[1]);
	if (!p->host || !p->port)
		return err_set(err, "out of memory");
	if (check_host(p->host, err) < 0 || check_port(p->port, strlen(p->port) + 1, 1, err) < 0)
		return -EINVAL;
	if (bind && parse_bind(p, bind, p->family, false, err) < 0)
		return -EINVAL;
	if (lookup(p->host, p->port, p->family, 0, &p->targets, &p->ntargets, &why) < 0) {
		/* a VM's name may not exist yet: with retries, try later */
		if (opt_find(spec, &opt_retry) || opt_get_flag(spec, &opt_forever, false))
			return 0;
		return err_set(err, "host: cannot resolve \"%s\": %s", p->host, why);
	}
	return 0;
}

static int tcp_connect_open(struct addr_spec *spec, const struct peer_info *peer,
			    struct endpoint *ep)
{
	return sock_connect(spec, false, ep);
}

static int tcp_connect_open_async(struct addr_spec *spec, const struct peer_info *peer,
				  struct endpoint *ep)
{
	const struct sock_priv *p = spec->priv;

	/* no name yet (retry=, forever): only a blocking lookup can help */
	return sock_connect(spec, p->ntargets > 0, ep);
}

static int tcp_listen_prepare(struct addr_spec *spec, struct errbuf *err)
{
	struct sock_priv *p = sock_priv_new(spec, err);
	const char *bind = opt_get_str(spec, &opt_bind), *range = opt_get_str(spec, &opt_range);
	int family;

	if (!p)
		return -ENOMEM;
	p->family = family = type_family(spec->type);
	p->port = strdup(spec->params[0]);
	if (!p->port)
		return err_set(err, "out of memory");
	if (check_port(p->port, strlen(p->port) + 1, 0, err) < 0)
		return -EINVAL;
	if (range && sock_parse_ip_ranges(range, &p->ranges, &p->nranges, err) < 0)
		return -EINVAL;
	if (bind) {
		if (parse_bind(p, bind, family, true, err) < 0)
			return -EINVAL;
		memcpy(&p->sa, &p->bind, p->bindlen);
		p->salen = p->bindlen;
		p->bindlen = 0;
		if (p->family == AF_UNSPEC)
			p->family = p->sa.ss_family;
	}
	return 0;
}

static void set_port(struct sockaddr_storage *ss, const char *port)
{
	struct servent *se;
	unsigned long long v = 0;
	uint16_t n;

	if (util_parse_uint(port, 0, 65535, &v) < 0 && (se = getservbyname(port, "tcp")))
		v = ntohs((uint16_t)se->s_port);
	n = htons((uint16_t)v);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = n;
	else
		((struct sockaddr_in6 *)ss)->sin6_port = n;
}

static int tcp_listen(struct addr_spec *spec, int *fd)
{
	struct sock_priv *p = spec->priv;
	struct sockaddr_storage ss;
	socklen_t len;
	int rc;

	if (p->salen) {
		memcpy(&ss, &p->sa, p->salen);
		len = p->salen;
	} else {
		memset(&ss, 0, sizeof(ss));
		if (p->family == AF_INET) {
			ss.ss_family = AF_INET;
			len = sizeof(struct sockaddr_in);
		} else {
			/* [::] takes IPv4 too unless the type said TCP6 */
			ss.ss_family = AF_INET6;
			len = sizeof(struct sockaddr_in6);
		}
	}
	set_port(&ss, p->port);
	rc = sock_listen_on(spec, (struct sockaddr *)&ss, len, SOCK_STREAM, fd);
	if (rc == -EAFNOSUPPORT && !p->salen && p->family == AF_UNSPEC) {
		/* a kernel without IPv6 */
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = AF_INET;
		set_port(&ss, p->port);
		rc = sock_listen_on(spec, (struct sockaddr *)&ss, sizeof(struct sockaddr_in),
				    SOCK_STREAM, fd);
	}
	return rc;
}

/* The arguments are a declarator and initialisers (alias may be a list):
 * no parentheses. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define TCP_CONNECT_TYPE(var, tname, alias, what, tflags)			\
	const struct addr_type var = {						\
		.name = tname,							\
		.aliases = { alias },						\
		.params = "host:port",						\
		.nparams = 2,							\
		.flags = ADDR_HOST | (tflags),					\
		.summary = what,						\
		.opts = { sock_connect_opts, sock_buf_opts, sock_tcp_opts },	\
		.prepare = tcp_connect_prepare,					\
		.open = tcp_connect_open,					\
		.open_async = tcp_connect_open_async,				\
		.cleanup = sock_priv_free,					\
	}

#define TCP_LISTEN_TYPE(var, tname, alias, what, tflags)			\
	const struct addr_type var = {						\
		.name = tname,							\
		.aliases = { alias },						\
		.params = "port",						\
		.nparams = 1,							\
		.flags = ADDR_LISTEN | (tflags),				\
		.summary = what,						\
		.opts = { sock_listen_opts, sock_ip_listen_opts, sock_buf_opts,	\
			  sock_tcp_opts },					\
		.prepare = tcp_listen_prepare,					\
		.listen = tcp_listen,						\
		.peer_allowed = sock_peer_allowed,				\
		.accepted = sock_accepted,					\
		.cleanup = sock_priv_free,					\
	}
/* NOLINTEND(bugprone-macro-parentheses) */

TCP_CONNECT_TYPE(addr_tcp_connect, "TCP-CONNECT", "TCP", "connect to a TCP port", 0);
TCP_CONNECT_TYPE(addr_tcp4_connect, "TCP4-CONNECT", "TCP4", "connect to a TCP port over IPv4", 0);
TCP_CONNECT_TYPE(addr_tcp6_connect, "TCP6-CONNECT", "TCP6", "connect to a TCP port over IPv6", 0);
TCP_LISTEN_TYPE(addr_tcp_listen, "TCP-LISTEN", "TCP-L", "listen on a TCP port (IPv6 and IPv4)", 0);
TCP_LISTEN_TYPE(addr_tcp4_listen, "TCP4-LISTEN", "TCP4-L", "listen on a TCP port over IPv4", 0);
TCP_LISTEN_TYPE(addr_tcp6_listen, "TCP6-LISTEN", "TCP6-L", "listen on a TCP port over IPv6 only", 0);
#ifdef WITH_OPENSSL
/* TCP with TLS on top (tls.c): socat's names for it */
TCP_CONNECT_TYPE(addr_openssl_connect, "OPENSSL-CONNECT", "OPENSSL",
		 "TLS client on a TCP connection", ADDR_TLS);
TCP_LISTEN_TYPE(addr_openssl_listen, "OPENSSL-LISTEN", "OPENSSL-L",
		"TLS server on a TCP port (IPv6 and IPv4)", ADDR_TLS);
#endif
