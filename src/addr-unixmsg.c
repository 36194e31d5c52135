/* SPDX-License-Identifier: MIT */
/*
 * addr-unixmsg.c - unix sockets that keep message boundaries, for frames:
 * UNIX-SEQPACKET, UNIX-SEQPACKET-LISTEN, UNIX-SENDTO, UNIX-RECVFROM
 *
 * One message is one Ethernet frame.  User-mode Linux and some VMMs speak
 * seqpacket; vfkit speaks datagrams: it binds its own socket, sends the
 * 4-byte greeting "VFKT" to the network's socket, and expects frames back
 * at the address the greeting came from - which is what UNIX-RECVFROM
 * learns from its first datagram.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr-types.h"
#include "addr-unix.h"
#include "log.h"
#include "sock.h"
#include "util.h"

#define VFKIT_GREETING	"VFKT"

static const struct opt_desc opt_dgram_bind = { "bind", OPT_STRING, 0, 0, 0, "PATH",
	"bind the sending socket to PATH, so the peer can answer (default: an "
	"automatic abstract name)" };

static const struct opt_desc *const sendto_opts[] = { &opt_dgram_bind, NULL };

static int seqpacket_prepare(struct addr_spec *spec, struct errbuf *err)
{
	int rc = unix_prepare_path(spec, spec->params[0], false, addr_is_listener(spec), err);

	if (rc == 0)
		((struct sock_priv *)spec->priv)->socktype = SOCK_SEQPACKET;
	return rc;
}

static int dgram_prepare(struct addr_spec *spec, struct errbuf *err)
{
	const char *bind_path = opt_get_str(spec, &opt_dgram_bind);
	int rc = unix_prepare_path(spec, spec->params[0], false,
				   spec->type == &addr_unix_recvfrom, err);

	if (rc < 0)
		return rc;
	((struct sock_priv *)spec->priv)->socktype = SOCK_DGRAM;
	if (bind_path && strlen(bind_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return err_set(err, "bind: path too long: \"%s\"", bind_path);
	return 0;
}

/* bind= made a socket file: it goes with the socket, or the next run
 * would find its address in use */
static void sendto_close(struct endpoint *ep)
{
	const char *bind_path = opt_get_str(ep->spec, &opt_dgram_bind);

	if (bind_path)
		unlink(bind_path);
}

static const struct endpoint_ops sendto_ops = { .close = sendto_close };

/* UNIX-SENDTO: our own address first (given, or an automatic abstract
 * one), so that frames can come back; then the peer's */
static int sendto_open(struct addr_spec *spec, const struct peer_info *peer,
		       struct endpoint *ep)
{
	const struct sock_priv *p = spec->priv;
	const char *bind_path = opt_get_str(spec, &opt_dgram_bind);
	struct sockaddr_un me = { .sun_family = AF_UNIX };
	socklen_t melen = sizeof(sa_family_t);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		log_err("%s: socket: %s", spec->text, strerror(errno));
		return -errno;
	}
	if (bind_path) {
		memcpy(me.sun_path, bind_path, strlen(bind_path));
		melen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(bind_path) + 1);
	}
	if (bind(fd, (struct sockaddr *)&me, melen) < 0) {
		int e = errno;

		log_err("%s: bind %s: %s", spec->text, bind_path ? bind_path : "(automatic)",
			strerror(e));
		close(fd);
		return -e;
	}
	if (connect(fd, (const struct sockaddr *)&p->sa, p->salen) < 0) {
		int e = errno;

		log_err("%s: connect: %s", spec->text, strerror(e));
		close(fd);
		if (bind_path)
			unlink(bind_path);
		return -e;
	}
	endpoint_set_fd(ep, fd, EP_SOCKET | EP_NONBLOCK);
	if (bind_path)
		ep->ops = &sendto_ops;
	log_notice("%s: sending frames to %s", spec->text, p->path);
	return 0;
}

static void recvfrom_close(struct endpoint *ep)
{
	const struct sock_priv *p = ep->spec->priv;

	if (p->path)
		unlink(p->path);
}

static const struct endpoint_ops recvfrom_ops = { .close = recvfrom_close };

/* UNIX-RECVFROM: bind, wait for the first datagram, answer its sender */
static int recvfrom_open(struct addr_spec *spec, const struct peer_info *peer,
			 struct endpoint *ep)
{
	struct sockaddr_un from = { 0 };
	socklen_t fromlen = sizeof(from);
	char head[sizeof(VFKIT_GREETING)];
	ssize_t n = -1;
	int fd, rc, e = EIO;

	rc = unix_listen(spec, &fd);
	if (rc < 0)
		return rc;
	endpoint_set_fd(ep, fd, EP_SOCKET);
	ep->ops = &recvfrom_ops;
	log_notice("%s: listening on %s for the first datagram", spec->text,
		   ((const struct sock_priv *)spec->priv)->path);
	for (;;) {
		rc = util_wait_input(fd);
		if (rc == -EINTR && util_quit) {
			endpoint_close(ep);
			return -EINTR;
		}
		if (rc < 0 && rc != -EINTR) {
			e = -rc;
			break;
		}
		fromlen = sizeof(from);
		n = recvfrom(fd, head, sizeof(head), MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fromlen);
		if (n >= 0)
			break;
		if (errno != EAGAIN && errno != EINTR) {
			e = errno;
			break;
		}
	}
	if (n < 0 || fromlen <= sizeof(sa_family_t)) {
		log_err("%s: %s", spec->text,
			n < 0 ? strerror(e) : "the first datagram came from an unbound socket: "
			"there is no address to send frames back to");
		endpoint_close(ep);
		return n < 0 ? -e : -EDESTADDRREQ;
	}
	if (connect(fd, (struct sockaddr *)&from, fromlen) < 0) {
		e = errno;
		log_err("%s: connect back to the sender: %s", spec->text, strerror(e));
		endpoint_close(ep);
		return -e;
	}
	if (n == (ssize_t)strlen(VFKIT_GREETING) && !memcmp(head, VFKIT_GREETING, (size_t)n)) {
		recv(fd, head, sizeof(head), 0);
		log_info("%s: dropped vfkit's \"VFKT\" greeting", spec->text);
	}
	log_notice("%s: exchanging frames with %s", spec->text,
		   from.sun_path[0] ? from.sun_path : "an abstract address");
	return 0;
}

const struct addr_type addr_unix_seqpacket = {
	.name = "UNIX-SEQPACKET",
	.aliases = { "SEQPACKET-CONNECT" },
	.params = "path",
	.nparams = 1,
	.flags = ADDR_FRAMES,
	.summary = "connect to a unix seqpacket socket; one frame per message",
	.opts = { unix_connect_opts, sock_buf_opts },
	.prepare = seqpacket_prepare,
	.open = unix_connect_open,
	.cleanup = sock_priv_free,
};

const struct addr_type addr_unix_seqpacket_listen = {
	.name = "UNIX-SEQPACKET-LISTEN",
	.aliases = { "SEQPACKET-LISTEN" },
	.params = "path",
	.nparams = 1,
	.flags = ADDR_LISTEN | ADDR_FRAMES,
	.summary = "listen on a unix seqpacket socket; one frame per message",
	.opts = { sock_listen_opts, unix_listen_opts, sock_buf_opts },
	.prepare = seqpacket_prepare,
	.listen = unix_listen,
	.accepted = sock_accepted,
	.close_listener = unix_close_listener,
	.cleanup = sock_priv_free,
};

const struct addr_type addr_unix_sendto = {
	.name = "UNIX-SENDTO",
	.aliases = { "UNIXGRAM" },
	.params = "path",
	.nparams = 1,
	.flags = ADDR_FRAMES,
	.summary = "send frames as datagrams to a unix socket (and take its answers)",
	.opts = { sendto_opts, sock_buf_opts },
	.prepare = dgram_prepare,
	.open = sendto_open,
	.cleanup = sock_priv_free,
};

const struct addr_type addr_unix_recvfrom = {
	.name = "UNIX-RECVFROM",
	.aliases = { "UNIXGRAM-LISTEN" },
	.params = "path",
	.nparams = 1,
	.flags = ADDR_FRAMES,
	.summary = "bind a unix datagram socket; frames go back to whoever sent the first",
	.opts = { unix_listen_opts, sock_buf_opts },
	.prepare = dgram_prepare,
	.open = recvfrom_open,
	.cleanup = sock_priv_free,
};
