/* SPDX-License-Identifier: MIT */
/*
 * tls.c - TLS by OpenSSL, on any stream address
 *
 * DOC: Theory of operation
 *
 * TLS is a layer, not a transport: OPENSSL-CONNECT is TCP-CONNECT with
 * "tls", OPENSSL-LISTEN is TCP-LISTEN with "tls", and the same option puts
 * TLS on a vsock, unix, VSOCK-MUX or EXEC stream.  The role follows the
 * address (a listener's connections are servers, everything else a
 * client) unless tls=client or tls=server says otherwise.
 *
 * Everything that can be wrong with the options or the files they name is
 * found by tls_prepare() when the command line is checked: one SSL_CTX per
 * address, made before any socket exists (exit status 2).  tls_attach()
 * then gives each opened endpoint an SSL object and endpoint_ops; the pump
 * runs the handshake (EP_HANDSHAKE) before it moves a byte either way, so
 * a failed handshake closes the plaintext side without sending it
 * anything.  SSL_read may need the socket writable and SSL_write may need
 * it readable (a TLS 1.3 KeyUpdate, a post-handshake message): the ops say
 * which in endpoint.want, and the pump watches for that.  A close_notify
 * is the peer's EOF in that direction only, and our EOF becomes our
 * close_notify plus shutdown(SHUT_WR): TLS half-close.  Renegotiation is
 * refused (TLS 1.2); TLS 1.3 has none.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "addr.h"
#include "frame.h"
#include "log.h"
#include "tls.h"
#include "util.h"

#define TLS_SHUTDOWN_WAIT_MS	2000	/* for room to send our close_notify */

enum tls_role { TLS_AUTO, TLS_CLIENT, TLS_SERVER };

const struct opt_desc opt_tls = {
	"tls", OPT_CHOICE, OPTF_BARE, 0, 0, "auto|client|server",
	"TLS on this stream: client when connecting, server when listening",
};
const struct opt_desc opt_tls_cert = {
	"cert", OPT_STRING, 0, 0, 0, "FILE",
	"TLS: PEM certificate (and chain) to present; a server needs one",
};
const struct opt_desc opt_tls_key = {
	"key", OPT_STRING, 0, 0, 0, "FILE",
	"TLS: PEM private key of cert= (default: in the cert= file)",
};
const struct opt_desc opt_tls_cafile = {
	"cafile", OPT_STRING, 0, 0, 0, "FILE",
	"TLS: trust these CAs (default: the system's); a server then requires client certs",
};
const struct opt_desc opt_tls_capath = {
	"capath", OPT_STRING, 0, 0, 0, "DIR",
	"TLS: trust the CAs in this c_rehash directory (as cafile=)",
};
const struct opt_desc opt_tls_verify = {
	"verify", OPT_FLAG, 0, 0, 0, NULL,
	"TLS: check the peer's certificate (default: 1 for clients, 1 for servers with cafile=)",
};
const struct opt_desc opt_tls_commonname = {
	"commonname", OPT_STRING, 0, 0, 0, "NAME",
	"TLS client: the name the server's certificate must have, and the SNI (default: the host)",
};
const struct opt_desc opt_tls_no_sni = {
	"no-sni", OPT_FLAG, 0, 0, 0, NULL,
	"TLS client: send no server name indication",
};
const struct opt_desc opt_tls_min_version = {
	"min-version", OPT_STRING, 0, 0, 0, "1.0|1.1|1.2|1.3",
	"TLS: the oldest protocol version allowed (default 1.2)",
};
const struct opt_desc opt_tls_ciphers = {
	"ciphers", OPT_STRING, 0, 0, 0, "LIST",
	"TLS: OpenSSL cipher list for TLS 1.2 and older (TLS 1.3 keeps OpenSSL's suites)",
};
const struct opt_desc opt_tls_alpn = {
	"alpn", OPT_STRING, OPTF_LIST, 0, 0, "PROTO[,PROTO...]",
	"TLS: offer (client) or accept (server) these ALPN protocols, in preference order",
};

const struct opt_desc *const tls_opts[] = {
	&opt_tls, &opt_tls_cert, &opt_tls_key, &opt_tls_cafile, &opt_tls_capath,
	&opt_tls_verify, &opt_tls_commonname, &opt_tls_no_sni, &opt_tls_min_version,
	&opt_tls_ciphers, &opt_tls_alpn, NULL,
};

/* What every connection opened from one address shares */
struct tls_conf {
	SSL_CTX *ctx;
	bool server;
	bool verify;
	char *name;		/* client: the name to check and send as SNI */
	bool name_is_ip;
	bool sni;
	unsigned char *alpn;	/* wire format: length-prefixed names */
	size_t alpn_len;
};

/* One connection */
struct tls_conn {
	SSL *ssl;
	const struct tls_conf *conf;
	bool fds_set;
	int err;		/* a failure seen after data was returned */
	bool eof;		/* ... or the end of the peer's data */
	bool retry;		/* ... or a wait the pump has not heard of */
	char why[256];		/* what went wrong, for ops->strerror */
};

/* ---- preparing: options and files, checked before anything is opened ---- */

static bool tls_wanted(const struct addr_spec *spec)
{
	return (spec->type->flags & ADDR_TLS) || opt_find(spec, &opt_tls);
}

/* The first error OpenSSL queued, for a one-line message */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown OpenSSL error";
}

static int parse_version(const char *text, int *out)
{
	static const struct { const char *name; int v; } versions[] = {
		{ "1", TLS1_VERSION }, { "1.0", TLS1_VERSION }, { "1.1", TLS1_1_VERSION },
		{ "1.2", TLS1_2_VERSION }, { "1.3", TLS1_3_VERSION },
	};

	if (!strncasecmp(text, "tlsv", 4))
		text += 4;
	else if (!strncasecmp(text, "tls", 3))
		text += 3;
	for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
		if (!strcmp(text, versions[i].name)) {
			*out = versions[i].v;
			return 0;
		}
	}
	return -EINVAL;
}

/* "h2,http/1.1" -> ALPN wire format */
static int parse_alpn(struct tls_conf *c, const char *list, struct errbuf *err)
{
	size_t n = 0, len = strlen(list);

	c->alpn = malloc(len + 1);
	if (!c->alpn)
		return err_set(err, "out of memory");
	for (const char *p = list; *p;) {
		size_t w = strcspn(p, ",");

		if (w == 0 || w > 255)
			return err_set(err, "alpn: protocol names are 1..255 bytes, got \"%s\"", list);
		c->alpn[n++] = (unsigned char)w;
		memcpy(c->alpn + n, p, w);
		n += w;
		p += w;
		if (*p)
			p++;
	}
	c->alpn_len = n;
	return 0;
}

/* Server: the first of our protocols that the client offered */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned inlen, void *arg)
{
	const struct tls_conf *c = arg;
	unsigned char *sel;

	(void)ssl;
	if (SSL_select_next_proto(&sel, outlen, c->alpn, (unsigned)c->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;	/* RFC 7301: no_application_protocol */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static bool is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static void conf_free(struct tls_conf *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c->name);
	free(c->alpn);
	free(c);
}

static int load_credentials(struct tls_conf *c, const struct addr_spec *spec,
			    struct errbuf *err)
{
	const char *cert = opt_get_str(spec, &opt_tls_cert);
	const char *key = opt_get_str(spec, &opt_tls_key);

	if (!cert) {
		if (key)
			return err_set(err, "key= needs cert=");
		if (c->server)
			return err_set(err, "a TLS server needs cert=FILE (and key=FILE)");
		return 0;
	}
	if (SSL_CTX_use_certificate_chain_file(c->ctx, cert) != 1)
		return err_set(err, "cert: cannot load \"%s\": %s", cert, ssl_reason());
	if (SSL_CTX_use_PrivateKey_file(c->ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1)
		return err_set(err, "key: cannot load \"%s\": %s", key ? key : cert, ssl_reason());
	if (SSL_CTX_check_private_key(c->ctx) != 1)
		return err_set(err, "key: \"%s\" does not belong to cert \"%s\"",
			       key ? key : cert, cert);
	return 0;
}

static int load_trust(struct tls_conf *c, const struct addr_spec *spec, struct errbuf *err)
{
	const char *cafile = opt_get_str(spec, &opt_tls_cafile);
	const char *capath = opt_get_str(spec, &opt_tls_capath);
	bool trust = cafile || capath;

	c->verify = opt_get_flag(spec, &opt_tls_verify, c->server ? trust : true);
	if (trust && SSL_CTX_load_verify_locations(c->ctx, cafile, capath) != 1)
		return err_set(err, "%s: cannot load \"%s\": %s", cafile ? "cafile" : "capath",
			       cafile ? cafile : capath, ssl_reason());
	if (c->server) {
		if (c->verify && !trust)
			return err_set(err, "verify on a TLS server needs cafile= or capath= "
				       "(the CAs that sign client certificates)");
		if (c->verify)
			SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER |
					   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		return 0;
	}
	if (c->verify) {
		if (!trust && SSL_CTX_set_default_verify_paths(c->ctx) != 1)
			return err_set(err, "cannot load the system's CA certificates: %s",
				       ssl_reason());
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	}
	return 0;
}

/**
 * tls_prepare() - check @spec's TLS options and build its SSL_CTX, if the
 *		   address wants TLS
 * Return: 0 (also when no TLS is wanted), or -EINVAL with @err set
 */
int tls_prepare(struct addr_spec *spec, struct errbuf *err)
{
	const struct opt_value *role = opt_find(spec, &opt_tls);
	const char *name = opt_get_str(spec, &opt_tls_commonname);
	const char *v = opt_get_str(spec, &opt_tls_min_version);
	const char *ciphers = opt_get_str(spec, &opt_tls_ciphers);
	const char *alpn = opt_get_str(spec, &opt_tls_alpn);
	struct tls_conf *c;
	int min = TLS1_2_VERSION;

	if (!tls_wanted(spec)) {
		for (const struct opt_desc *const *o = tls_opts; *o; o++)
			if (opt_find(spec, *o))
				return err_set(err, "%s= is a TLS option: add tls (or use OPENSSL)",
					       (*o)->name);
		return 0;
	}
	if (opt_find(spec, &opt_frames))
		return err_set(err, "frames= and tls exclude each other");
	if (v && parse_version(v, &min) < 0)
		return err_set(err, "min-version: unknown TLS version \"%s\" (1.0, 1.1, 1.2, 1.3)",
			       v);
	c = calloc(1, sizeof(*c));
	if (!c)
		return err_set(err, "out of memory");
	spec->tls = c;
	c->server = role && role->num != TLS_AUTO ? role->num == TLS_SERVER
						   : addr_is_listener(spec);
	if (c->server && (name || opt_find(spec, &opt_tls_no_sni)))
		return err_set(err, "commonname= and no-sni are for TLS clients");
	ERR_clear_error();
	c->ctx = SSL_CTX_new(c->server ? TLS_server_method() : TLS_client_method());
	if (!c->ctx)
		return err_set(err, "cannot create a TLS context: %s", ssl_reason());
	/* an older floor needs the lower security level those versions need */
	if (min < TLS1_2_VERSION)
		SSL_CTX_set_security_level(c->ctx, 0);
	SSL_CTX_set_min_proto_version(c->ctx, min);
	SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (ciphers && SSL_CTX_set_cipher_list(c->ctx, ciphers) != 1)
		return err_set(err, "ciphers: no cipher in \"%s\": %s", ciphers, ssl_reason());
	if (load_credentials(c, spec, err) < 0 || load_trust(c, spec, err) < 0)
		return -EINVAL;
	if (alpn) {
		if (parse_alpn(c, alpn, err) < 0)
			return -EINVAL;
		if (c->server)
			SSL_CTX_set_alpn_select_cb(c->ctx, alpn_select, c);
		else if (SSL_CTX_set_alpn_protos(c->ctx, c->alpn, (unsigned)c->alpn_len) != 0)
			return err_set(err, "alpn: %s", ssl_reason());
	}
	if (!c->server) {
		/* the host the user gave is the name to check, unless told */
		if (!name && (spec->type->flags & ADDR_HOST) && spec->nparams)
			name = spec->params[0];
		if (name) {
			c->name = strdup(name);
			if (!c->name)
				return err_set(err, "out of memory");
			c->name_is_ip = is_ip_literal(name);
		}
		c->sni = c->name && !c->name_is_ip && !opt_get_flag(spec, &opt_tls_no_sni, false);
		if (c->verify && !c->name)
			log_warn("%s: checking the server's certificate chain only: give "
				 "commonname= to check its name too", spec->text);
	}
	return 0;
}

void tls_cleanup(struct addr_spec *spec)
{
	conf_free(spec->tls);
	spec->tls = NULL;
}

/* ---- a connection ---------------------------------------------------------- */

static const char *version_name(int v)
{
	switch (v) {
	case TLS1_VERSION: return "1.0";
	case TLS1_1_VERSION: return "1.1";
	case TLS1_2_VERSION: return "1.2";
	case TLS1_3_VERSION: return "1.3";
	}
	return "?";
}

/*
 * Turn the outcome of an SSL call into the pump's terms: -EAGAIN with
 * ep->want, 0 for the peer's close_notify, or a negative errno with the
 * reason in conn->why.
 */
static int ssl_outcome(struct endpoint *ep, int rc)
{
	struct tls_conn *t = ep->priv;
	int e = SSL_get_error(t->ssl, rc);
	long vr;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		ep->want = EP_WANT_READ;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		ep->want = EP_WANT_WRITE;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno && ERR_peek_error() == 0) {
			snprintf(t->why, sizeof(t->why), "%s", strerror(errno));
			return -errno;
		}
		break;
	}
	if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		snprintf(t->why, sizeof(t->why),
			 "the peer closed the connection without a TLS close_notify");
		return -ECONNRESET;
	}
	vr = SSL_get_verify_result(t->ssl);
	if (vr != X509_V_OK && t->conf->verify)
		snprintf(t->why, sizeof(t->why), "certificate verify failed: %s",
			 X509_verify_cert_error_string(vr));
	else if (ERR_peek_error())
		snprintf(t->why, sizeof(t->why), "%s", ssl_reason());
	else
		snprintf(t->why, sizeof(t->why), "the peer closed the connection");
	ERR_clear_error();
	return -EPROTO;
}

static void log_session(const struct endpoint *ep)
{
	const struct tls_conn *t = ep->priv;
	const unsigned char *proto = NULL;
	unsigned plen = 0;
	char subject[256] = "none";
	X509 *peer;

	if (!log_enabled(LOG_LVL_NOTICE))
		return;
	peer = SSL_get1_peer_certificate(t->ssl);
	if (peer) {
		X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof(subject));
		X509_free(peer);
	}
	SSL_get0_alpn_selected(t->ssl, &proto, &plen);
	log_notice("%s: TLS %s %s, peer certificate %s%s%.*s", ep->spec->text,
		   version_name(SSL_version(t->ssl)), SSL_get_cipher_name(t->ssl), subject,
		   plen ? ", ALPN " : "", (int)plen, proto ? (const char *)proto : "");
}

static int tls_handshake(struct endpoint *ep)
{
	struct tls_conn *t = ep->priv;
	int rc;

	if (!t->fds_set) {
		/* only now: a connect that failed over to another address has
		 * a new fd by the time its handshake starts */
		if (SSL_set_rfd(t->ssl, ep->rfd) != 1 || SSL_set_wfd(t->ssl, ep->wfd) != 1) {
			log_err("%s: TLS: %s", ep->spec->text, ssl_reason());
			return -ENOMEM;
		}
		t->fds_set = true;
		/* a TLS 1.3 server sends its session tickets as small writes
		 * after the handshake; with Nagle on, the second one (and the
		 * first reply behind it) waits for the client's delayed ACK,
		 * some 40 ms a connection.  Not TCP (unix, vsock): no effect */
		setsockopt(ep->wfd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		log_info("%s: TLS handshake as %s", ep->spec->text,
			 t->conf->server ? "server" : "client");
	}
	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(t->ssl);
	if (rc == 1) {
		log_session(ep);
		return 0;
	}
	rc = ssl_outcome(ep, rc);
	if (rc == -EAGAIN)
		return rc;
	if (rc == 0)
		snprintf(t->why, sizeof(t->why), "the peer closed the connection");
	log_err("%s: TLS handshake failed: %s", ep->spec->text, t->why);
	return rc ? rc : -EPROTO;
}

static ssize_t tls_read(struct endpoint *ep, void *buf, size_t len)
{
	struct tls_conn *t = ep->priv;
	size_t got = 0;

	/* what stopped the last read, now that its data is out */
	if (t->eof)
		return 0;
	if (t->err) {
		int rc = t->err;

		t->err = 0;
		return rc;
	}
	t->retry = false;
	while (got < len) {
		size_t n = 0;
		int rc;

		ERR_clear_error();
		errno = 0;
		if (SSL_read_ex(t->ssl, (char *)buf + got, len - got, &n) == 1) {
			got += n;
			continue;
		}
		rc = ssl_outcome(ep, 0);
		if (rc == -ECONNRESET) {
			/* many servers close without it: EOF, but say so */
			log_warn("%s: %s (the data may be cut short)", ep->spec->text, t->why);
			rc = 0;
		}
		if (!got)
			return rc;
		/* hand over what came first; say the rest next time */
		if (rc == 0)
			t->eof = true;
		else if (rc == -EAGAIN)
			t->retry = ep->want != EP_WANT_READ;
		else
			t->err = rc;
		break;
	}
	return (ssize_t)got;
}

static ssize_t tls_write(struct endpoint *ep, const void *buf, size_t len)
{
	struct tls_conn *t = ep->priv;
	size_t n = 0;

	ERR_clear_error();
	errno = 0;
	if (SSL_write_ex(t->ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	return ssl_outcome(ep, 0);
}

static bool tls_pending(const struct endpoint *ep)
{
	const struct tls_conn *t = ep->priv;

	return t->err || t->eof || t->retry || SSL_pending(t->ssl) > 0;
}

/* Our EOF: close_notify, then the socket's FIN; the peer may go on sending */
static int tls_shutdown_wr(struct endpoint *ep)
{
	struct tls_conn *t = ep->priv;
	int rc;

	for (int tries = 0; tries < 3; tries++) {
		ERR_clear_error();
		rc = SSL_shutdown(t->ssl);
		if (rc >= 0)
			break;
		if (SSL_get_error(t->ssl, rc) != SSL_ERROR_WANT_WRITE)
			break;
		/* the alert is a few dozen bytes: a full send buffer drains
		 * soon, or the peer is gone and the wait ends */
		struct pollfd pfd = { .fd = ep->wfd, .events = POLLOUT };

		if (poll(&pfd, 1, TLS_SHUTDOWN_WAIT_MS) <= 0)
			break;
	}
	ERR_clear_error();
	/* a pipe or terminal stays open: OpenSSL may still have to write on
	 * it, and the close_notify already told the peer */
	if (ep->flags & EP_SOCKET || util_is_socket(ep->wfd))
		return shutdown(ep->wfd, SHUT_WR) < 0 && errno != ENOTCONN ? -errno : 0;
	return 0;
}

static void tls_close(struct endpoint *ep)
{
	struct tls_conn *t = ep->priv;

	/* no close_notify here: one went out at our EOF, and one now
	 * would claim a clean end of a relay that failed */
	SSL_free(t->ssl);
	free(t);
	ep->priv = NULL;
	ep->ops = NULL;
}

static const char *tls_strerror(struct endpoint *ep, int err)
{
	struct tls_conn *t = ep->priv;

	(void)err;
	return t->why[0] ? t->why : NULL;
}

static const struct endpoint_ops tls_ops = {
	.read = tls_read,
	.write = tls_write,
	.shutdown_wr = tls_shutdown_wr,
	.close = tls_close,
	.handshake = tls_handshake,
	.pending = tls_pending,
	.strerror = tls_strerror,
};

/**
 * tls_attach() - put TLS on an opened endpoint whose address wants it
 * Return: 0 (also when it wants none), or -ENOMEM (logged)
 */
int tls_attach(struct endpoint *ep)
{
	const struct tls_conf *c = ep->spec ? ep->spec->tls : NULL;
	struct tls_conn *t;

	if (!c)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->ssl = SSL_new(c->ctx))) {
		free(t);
		log_err("%s: TLS: out of memory", ep->spec->text);
		return -ENOMEM;
	}
	t->conf = c;
	if (c->server) {
		SSL_set_accept_state(t->ssl);
	} else {
		SSL_set_connect_state(t->ssl);
		if (c->sni)
			SSL_set_tlsext_host_name(t->ssl, c->name);
		if (c->verify && c->name) {
			X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);

			if (c->name_is_ip)
				X509_VERIFY_PARAM_set1_ip_asc(vp, c->name);
			else
				X509_VERIFY_PARAM_set1_host(vp, c->name, 0);
		}
	}
	ep->ops = &tls_ops;
	ep->priv = t;
	ep->flags |= EP_HANDSHAKE;
	return 0;
}
