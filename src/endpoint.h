/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_ENDPOINT_H
#define VRELAY_ENDPOINT_H

#include <stdbool.h>
#include <sys/types.h>

struct addr_spec;
struct endpoint;

/* Set on struct endpoint.flags */
#define EP_SOCKET	(1u << 0)	/* shutdown(2) half-closes the write side */
#define EP_CONNECTING	(1u << 1)	/* non-blocking connect still in flight */
#define EP_NONBLOCK	(1u << 3)	/* already O_NONBLOCK */
#define EP_NAT		(1u << 6)	/* no fd: @priv is the NAT engine */
#define EP_OWNED_SOCKET	(1u << 4)	/* a socket no other fd refers to (accepted or
					 * connected here): close() sends its FIN */
#define EP_HANDSHAKE	(1u << 7)	/* a layer (TLS) must finish ops->handshake
					 * before any data flows either way */

/* struct endpoint.want: what a layer waits for after it said -EAGAIN */
#define EP_WANT_READ	(1u << 0)	/* @rfd readable */
#define EP_WANT_WRITE	(1u << 1)	/* @wfd writable */

/**
 * struct endpoint_ops - for endpoints that are more than plain fds
 *
 * Plain endpoints (sockets, pipes, terminals, files) leave ops NULL and
 * the pump uses read/write/splice.  Layers that transform bytes (TLS,
 * readline) provide these; they return the byte count, 0 at EOF, or a
 * negative errno.  -EAGAIN means "call again once @ep->want is ready": a
 * layer's read may wait for its fd to be writable and its write for it
 * to be readable (TLS), so it says which in @ep->want; a layer that
 * leaves @want 0 waits for the obvious (read: readable, write: writable).
 *
 * @handshake:	optional; while EP_HANDSHAKE is set the pump calls it
 *		instead of moving data: 0 done, -EAGAIN (with @want), or
 *		another negative errno after logging why (the relay fails)
 * @pending:	optional; true when @read has data that the fd's readiness
 *		does not show (a decrypted record, a queued line)
 * @strerror:	optional; what went wrong in the layer's last failed call,
 *		for the pump's one error line, instead of strerror(-@err)
 */
struct endpoint_ops {
	ssize_t (*read)(struct endpoint *ep, void *buf, size_t len);
	ssize_t (*write)(struct endpoint *ep, const void *buf, size_t len);
	int (*shutdown_wr)(struct endpoint *ep);
	void (*close)(struct endpoint *ep);
	int (*handshake)(struct endpoint *ep);
	bool (*pending)(const struct endpoint *ep);
	const char *(*strerror)(struct endpoint *ep, int err);
};

/**
 * struct endpoint - what an opened address is to the pump
 * @rfd:	fd the pump reads from, -1 if the address is write-only
 * @wfd:	fd the pump writes to, -1 if the address is read-only;
 *		often the same fd as @rfd
 * @flags:	EP_*
 * @pid:	child process to reap on close (EXEC, SYSTEM), or 0
 * @extra_fd:	fds the endpoint owns but the pump does not use (the
 *		unused halves of a dual address), closed with it
 * @ops, @priv:	see struct endpoint_ops
 * @want:	EP_WANT_*, set by @ops when they return -EAGAIN
 * @spec:	the address it was opened from, for messages
 * @frame_max:	frame addresses: the longest frame it takes (its MTU
 *		plus the Ethernet header), 0 for the codec's own limit
 */
struct endpoint {
	int rfd, wfd;
	unsigned flags;
	pid_t pid[2];
	int extra_fd[2];
	const struct endpoint_ops *ops;
	void *priv;
	unsigned want;
	const struct addr_spec *spec;
	size_t frame_max;
};

void endpoint_init(struct endpoint *ep, const struct addr_spec *spec);
void endpoint_set_fd(struct endpoint *ep, int fd, unsigned flags);
int endpoint_shutdown_wr(struct endpoint *ep);
void endpoint_close(struct endpoint *ep);

#endif
