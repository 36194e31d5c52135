/* SPDX-License-Identifier: MIT */
/*
 * pump.c - the bidirectional pump between two endpoints
 *
 * DOC: Theory of operation
 *
 * A pump has two sides (left and right endpoint) and two directions
 * (left to right, right to left).  Each direction moves bytes from its
 * source's read fd to its destination's write fd, by one of two paths:
 *
 * - splice: when both fds are sockets or pipes and nothing needs to see
 *   the bytes, they go source -> pipe -> destination with splice(2) and
 *   never enter user space.  The pipe holds at most -b bytes.
 * - buffered: otherwise (terminals, files, TLS, dumps) through a buffer of
 *   -b bytes.
 *
 * Either way a direction reads only while it has room and asks the loop for
 * writability only while it holds data, so a slow reader stalls the writer
 * (backpressure) and memory stays bounded.  Pipes and buffers are taken
 * from small pools when data arrives and given back when they run empty:
 * ten thousand idle connections hold no pipes and no buffers.
 *
 * EOF on a source, once its data is out, becomes endpoint_shutdown_wr() on
 * the destination (half-close), and the other direction goes on until its
 * own EOF or until -t seconds later.  A read or write error ends the pump
 * with status 1, except that a destination which went away (EPIPE,
 * ECONNRESET on a write: a child that exited, a peer that reset) ends
 * only the direction into it: what that peer sent before it left still
 * flows the other way, and the pump ends with status 1 after it.  The
 * loop is level-triggered; a direction does a bounded amount of work per
 * callback so that one busy connection cannot starve the others in the
 * many-connections mode.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "dump.h"
#include "log.h"
#include "pump.h"
#include "sock.h"
#include "util.h"

#define DIR_WORK_MAX	16	/* read/write rounds per callback */
#define POOL_MAX	64	/* idle pipes and buffers kept for reuse */
#define EOF_POLL_SECS	0.1	/* ignoreeof: look for more input this often */

struct pump_totals pump_totals;

struct pump_side {
	struct pump *p;
	int index;
	struct endpoint ep;
	struct loop_watch rw;	/* on ep.rfd (and ep.wfd when the same) */
	struct loop_watch ww;	/* on ep.wfd when it is a different fd */
};

struct pump_dir {
	struct pump *p;
	int index;
	struct pump_side *from, *to;
	bool active;	/* this direction exists (-u/-U, read- or write-only ends) */
	bool eof;	/* the source said EOF */
	bool done;	/* ... and that was passed on */
	bool use_splice;
	bool pipe_full;	/* splice in said EAGAIN with data in the pipe */
	bool paused;	/* ignoreeof: waiting for eof_timer */
	bool gone;	/* the destination went away: this direction is over */
	unsigned fill_want;	/* EP_WANT_* the source's layer waits for to read */
	unsigned flush_want;	/* ... and the destination's to write */
	int pipefd[2];
	size_t inpipe, pipecap;
	char *buf;
	size_t off, len;
	uint64_t bytes;
	struct loop_timer eof_timer;
};

struct pump {
	struct loop *loop;
	const struct pump_conf *conf;
	struct pump_side side[2];
	struct pump_dir dir[2];
	struct loop_timer linger_timer, idle_timer, connect_timer;
	struct loop_timer kick_timer;	/* a layer holds input its fd doesn't show */
	double last_activity;
	pump_done_fn done;
	void *arg;
	bool finished;
	int status;	/* the exit status once both directions are over */
	struct pump *prev, *next;	/* live pumps, for pump_stop_all() */
};

static struct pump *live_pumps;

static void pump_finish(struct pump *p, int status);

/* ---- pools: pipes and buffers are only held while data is in flight ---- */

static int pipe_pool[POOL_MAX][2];
static size_t pipe_pool_cap[POOL_MAX];
static int npipes;
static char *buf_pool[POOL_MAX];
static int nbufs;

static int pipe_get(struct pump_dir *d)
{
	int cap;

	if (npipes) {
		npipes--;
		d->pipefd[0] = pipe_pool[npipes][0];
		d->pipefd[1] = pipe_pool[npipes][1];
		d->pipecap = pipe_pool_cap[npipes];
		return 0;
	}
	if (pipe2(d->pipefd, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	/* a bigger pipe means fewer splice calls per megabyte; the kernel may
	 * refuse (pipe-max-size, per-user limits): then keep what it gave */
	fcntl(d->pipefd[0], F_SETPIPE_SZ, (int)d->p->conf->bufsize);
	cap = fcntl(d->pipefd[0], F_GETPIPE_SZ);
	d->pipecap = cap > 0 ? (size_t)cap : 65536;
	return 0;
}

static void pipe_put(struct pump_dir *d)
{
	if (d->pipefd[0] < 0)
		return;
	if (d->inpipe == 0 && npipes < POOL_MAX) {
		pipe_pool[npipes][0] = d->pipefd[0];
		pipe_pool[npipes][1] = d->pipefd[1];
		pipe_pool_cap[npipes] = d->pipecap;
		npipes++;
	} else {
		close(d->pipefd[0]);
		close(d->pipefd[1]);
	}
	d->pipefd[0] = d->pipefd[1] = -1;
	d->inpipe = 0;
	d->pipe_full = false;
}

static char *buf_get(size_t size)
{
	return nbufs ? buf_pool[--nbufs] : malloc(size);
}

static void buf_put(struct pump_dir *d)
{
	if (!d->buf)
		return;
	if (nbufs < POOL_MAX)
		buf_pool[nbufs++] = d->buf;
	else
		free(d->buf);
	d->buf = NULL;
	d->off = d->len = 0;
}

/**
 * pump_stop_all() - end every pump still running (the process is about to
 *		     exit: SIGTERM, or a fatal listener error); each one's done
 *		     callback runs, and it is freed when the loop next runs
 *		     its deferred work or is freed
 */
void pump_stop_all(void)
{
	while (live_pumps)
		pump_finish(live_pumps, 0);
}

/**
 * pump_release_pools() - give pooled pipes and buffers back at exit (a fork
 *			  parent never pumps, so its children start with
 *			  empty pools)
 */
void pump_release_pools(void)
{
	while (npipes) {
		npipes--;
		close(pipe_pool[npipes][0]);
		close(pipe_pool[npipes][1]);
	}
	while (nbufs)
		free(buf_pool[--nbufs]);
}

/* ---- moving bytes ------------------------------------------------------------ */

static bool has_pending(const struct pump_dir *d)
{
	return d->use_splice ? d->inpipe > 0 : d->len > 0;
}

static bool has_room(const struct pump_dir *d)
{
	if (d->use_splice)
		return d->pipefd[0] < 0 || (d->inpipe < d->pipecap && !d->pipe_full);
	return !d->buf || d->off + d->len < d->p->conf->bufsize;
}

/* How much the next dir_fill() asks for */
static size_t fill_room(const struct pump_dir *d)
{
	if (d->use_splice)
		return d->pipefd[0] < 0 ? d->p->conf->bufsize : d->pipecap - d->inpipe;
	return d->buf ? d->p->conf->bufsize - d->off - d->len : d->p->conf->bufsize;
}

static void account(struct pump_dir *d, size_t n)
{
	d->bytes += n;
	pump_totals.bytes[d->index] += n;
	if (d->p->conf->idle > 0)
		d->p->last_activity = util_now();
}

/* Source -> pipe or buffer.  Return: bytes, 0 at EOF, negative errno */
/* NOLINTNEXTLINE(misc-no-recursion): once, when splice() turns out not to work */
static ssize_t dir_fill(struct pump_dir *d)
{
	struct endpoint *src = &d->from->ep;
	ssize_t n;

	if (d->use_splice) {
		if (d->pipefd[0] < 0 && (n = pipe_get(d)) < 0) {
			if (n != -EMFILE && n != -ENFILE)
				return n;
			/* out of fds for a pipe: this direction holds no pipe,
			 * so nothing is in flight; it copies through a buffer
			 * from now on rather than fail the connection */
			d->use_splice = false;
			return dir_fill(d);
		}
		n = splice(src->rfd, NULL, d->pipefd[1], NULL, d->pipecap - d->inpipe,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0) {
			n = -errno;
			/* a pipe counts slots, not bytes: it can be full early */
			if (n == -EAGAIN && d->inpipe > 0)
				d->pipe_full = true;
			if (n == -EINVAL && d->inpipe == 0 && d->bytes == 0) {
				/* this fd pair can't splice after all */
				pipe_put(d);
				d->use_splice = false;
				return dir_fill(d);
			}
			if (d->inpipe == 0)
				pipe_put(d);
			return n;
		}
		d->inpipe += (size_t)n;
		if (n == 0 && d->inpipe == 0)
			pipe_put(d);
		return n;
	}
	if (!d->buf) {
		d->buf = buf_get(d->p->conf->bufsize);
		if (!d->buf)
			return -ENOMEM;
		d->off = d->len = 0;
	}
	size_t room = d->p->conf->bufsize - d->off - d->len;
	char *at = d->buf + d->off + d->len;

	if (src->ops && src->ops->read) {
		src->want = 0;
		n = src->ops->read(src, at, room);
		d->fill_want = n == -EAGAIN && src->want ? src->want : EP_WANT_READ;
		return n;
	}
	n = read(src->rfd, at, room);
	return n < 0 ? -errno : n;
}

/* Pipe or buffer -> destination.  Return: bytes, negative errno */
static ssize_t dir_flush(struct pump_dir *d)
{
	struct endpoint *dst = &d->to->ep;
	ssize_t n;

	if (d->use_splice) {
		n = splice(d->pipefd[0], NULL, dst->wfd, NULL, d->inpipe,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0)
			return -errno;
		d->inpipe -= (size_t)n;
		d->pipe_full = false;
		account(d, (size_t)n);
		if (d->inpipe == 0)
			pipe_put(d);
		return n;
	}
	if (dst->ops && dst->ops->write) {
		dst->want = 0;
		n = dst->ops->write(dst, d->buf + d->off, d->len);
		d->flush_want = n == -EAGAIN && dst->want ? dst->want : EP_WANT_WRITE;
	} else if ((n = write(dst->wfd, d->buf + d->off, d->len)) < 0)
		n = -errno;
	if (n <= 0)
		return n;
	d->off += (size_t)n;
	d->len -= (size_t)n;
	account(d, (size_t)n);
	if (d->len == 0)
		buf_put(d);
	return n;
}

static void dir_fail(struct pump_dir *d, const char *what, ssize_t err)
{
	struct endpoint *ep = !strcmp(what, "read") ? &d->from->ep : &d->to->ep;
	const char *why = NULL;

	if (ep->ops && ep->ops->strerror)
		why = ep->ops->strerror(ep, (int)-err);
	log_err("%s: %s: %s", ep->spec ? ep->spec->text : "?", what,
		why ? why : strerror((int)-err));
	pump_finish(d->p, 1);
}

static void check_end(struct pump *p);

/*
 * The destination of @d went away (a write said EPIPE or ECONNRESET): say
 * so once, drop what was on its way there and stop reading for it.  The
 * other direction still delivers what that peer sent before it left.
 */
static void dir_gone(struct pump_dir *d, ssize_t err)
{
	struct endpoint *ep = &d->to->ep;
	const char *why = NULL;

	if (ep->ops && ep->ops->strerror)
		why = ep->ops->strerror(ep, (int)-err);
	log_err("%s: write: %s", ep->spec ? ep->spec->text : "?", why ? why : strerror((int)-err));
	d->p->status = 1;
	d->gone = d->eof = d->done = true;
	pipe_put(d);
	buf_put(d);
	check_end(d->p);
}

static void linger_expired(struct loop *loop, struct loop_timer *t)
{
	struct pump *p = t->arg;

	log_info("linger time (-t %g) over: closing", p->conf->linger);
	pump_finish(p, p->status);
}

static void check_end(struct pump *p)
{
	bool all_done = true;

	for (int i = 0; i < 2; i++)
		if (p->dir[i].active && !p->dir[i].done)
			all_done = false;
	if (all_done)
		pump_finish(p, p->status);
	else if (p->linger_timer.slot < 0)
		loop_timer_arm(p->loop, &p->linger_timer, util_now() + p->conf->linger);
}

static bool other_done(const struct pump_dir *d)
{
	const struct pump_dir *o = &d->p->dir[1 - d->index];

	return !o->active || o->done;
}

static void dir_finish(struct pump_dir *d)
{
	struct pump_side *to = d->to;

	d->done = true;
	pipe_put(d);
	buf_put(d);
	log_info("%s: end of input; shutting down the write side of %s",
		 d->from->ep.spec->text, to->ep.spec->text);
	/* a pipe or stdout is closed by the shutdown: stop watching it first */
	if (to->ww.added && !(to->ep.flags & EP_SOCKET))
		loop_del(d->p->loop, &to->ww);
	/* when the other direction is over too, close() right after sends
	 * the FIN of an owned socket: no shutdown needed, unless a layer has
	 * a goodbye of its own to send first (TLS: close_notify) */
	if (to->ep.ops || !(to->ep.flags & EP_OWNED_SOCKET) || !other_done(d))
		endpoint_shutdown_wr(&to->ep);
	check_end(d->p);
}

static void update_watches(struct pump *p);
static bool dir_run(struct pump_dir *d);

static void eof_poll(struct loop *loop, struct loop_timer *t)
{
	struct pump_dir *d = t->arg;

	d->paused = false;
	/* try the read now: a regular file is never "readable" to epoll */
	if (dir_run(d))
		update_watches(d->p);
}

/* Both sides must be connected and through their handshakes first */
#define EP_NOT_READY	(EP_CONNECTING | EP_HANDSHAKE)

static bool wants_input(const struct pump_dir *d)
{
	return d->active && !d->eof && !d->paused && has_room(d);
}

/* What the pump wants from the loop now, for both sides */
static void update_watches(struct pump *p)
{
	bool kick = false;

	for (int s = 0; s < 2; s++) {
		struct pump_side *side = &p->side[s];
		struct pump_dir *out = &p->dir[s], *in = &p->dir[1 - s];
		unsigned want = 0, r, w;

		if (side->ep.flags & EP_CONNECTING) {
			want = EP_WANT_WRITE;
		} else if (side->ep.flags & EP_HANDSHAKE) {
			want = side->ep.want;
		} else if (!(p->side[1 - s].ep.flags & EP_NOT_READY)) {
			/* a layer may read only once its fd is writable, or
			 * write once it is readable (TLS): each direction asks
			 * for what its last try waited for */
			if (wants_input(out)) {
				want |= out->fill_want;
				if (side->ep.ops && side->ep.ops->pending &&
				    side->ep.ops->pending(&side->ep))
					kick = true;
			}
			if (in->active && !in->done && has_pending(in))
				want |= in->flush_want;
		}
		r = (want & EP_WANT_READ) ? LOOP_IN : 0;
		w = (want & EP_WANT_WRITE) ? LOOP_OUT : 0;
		if (side->rw.added && side->ep.rfd == side->ep.wfd)
			loop_set(p->loop, &side->rw, r | w);
		else {
			if (side->rw.added)
				loop_set(p->loop, &side->rw, r);
			if (side->ww.added)
				loop_set(p->loop, &side->ww, w);
		}
	}
	/* input already inside a layer makes no fd readable: come back at
	 * once, from the loop, rather than recursing */
	if (kick && p->kick_timer.slot < 0)
		loop_timer_arm(p->loop, &p->kick_timer, 0);
}

/* Move what can be moved now in direction @d; false if the pump ended */
static bool dir_run(struct pump_dir *d)
{
	const struct endpoint *src = &d->from->ep;

	if (!d->active || d->done)
		return true;
	bool drained = false;

	for (int round = 0; round < DIR_WORK_MAX; round++) {
		bool progress = false;
		ssize_t n;

		if (has_pending(d)) {
			n = dir_flush(d);
			if (n > 0)
				progress = true;
			else if (n == -EPIPE || n == -ECONNRESET) {
				dir_gone(d, n);
				return !d->p->finished;
			} else if (n < 0 && n != -EAGAIN && n != -EINTR) {
				dir_fail(d, "write", n);
				return false;
			}
		}
		if (!d->eof && !d->paused && !drained && has_room(d)) {
			size_t want = fill_room(d);

			n = dir_fill(d);
			if (n > 0) {
				progress = true;
				/* a short read emptied the socket: don't ask again just
				 * to hear EAGAIN; the level-triggered loop calls back
				 * when more comes */
				drained = (size_t)n < want;
				if (!d->use_splice) {
					if (pump_conf_inspects(d->p->conf))
						dump_traffic(d->p->conf, d->index, d->bytes + d->len,
							     d->buf + d->off + d->len, (size_t)n);
					d->len += (size_t)n;
				}
			} else if (n == 0) {
				/* read where it matters, for every way an
				 * endpoint was opened */
				if (opt_get_flag(src->spec, &opt_ignoreeof, false)) {
					d->paused = true;
					loop_timer_arm(d->p->loop, &d->eof_timer, util_now() + EOF_POLL_SECS);
				} else {
					d->eof = true;
				}
			} else if (d->p->dir[1 - d->index].gone) {
				/* the peer that went away, which was said
				 * already: what it sent is in, this is its end */
				if (n != -EAGAIN && n != -EINTR)
					d->eof = true;
			} else if (n != -EAGAIN && n != -EINTR) {
				dir_fail(d, "read", n);
				return false;
			}
		}
		if (!progress)
			break;
	}
	if (d->eof && !has_pending(d))
		dir_finish(d);
	return !d->p->finished;
}

static void arm_connect_timer(struct pump *p, const struct endpoint *ep)
{
	double timeout = opt_get_secs(ep->spec, &opt_connect_timeout, 0);

	if (timeout > 0)
		loop_timer_arm(p->loop, &p->connect_timer, util_now() + timeout);
}

/* The connect in flight failed with @err: on to the next address */
static void connect_failed(struct pump *p, struct pump_side *side, int err)
{
	loop_del(p->loop, &side->rw);
	if (sock_connect_next(side->ep.spec, &side->ep, err) < 0) {
		pump_finish(p, 1);
		return;
	}
	side->rw.fd = side->ep.rfd;
	loop_add(p->loop, &side->rw, LOOP_OUT);
	arm_connect_timer(p, &side->ep);
}

/* A layer's handshake (TLS) goes one step further; false if the pump ended */
static bool side_handshake(struct pump *p, struct pump_side *side)
{
	int rc;

	side->ep.want = 0;
	rc = side->ep.ops->handshake(&side->ep);
	if (rc == -EAGAIN) {
		if (!side->ep.want)
			side->ep.want = EP_WANT_READ;
		return true;
	}
	if (rc < 0) {
		/* the layer said why; the other side gets nothing */
		pump_finish(p, 1);
		return false;
	}
	side->ep.flags &= ~EP_HANDSHAKE;
	if (!(p->side[1 - side->index].ep.flags & EP_NOT_READY))
		loop_timer_cancel(p->loop, &p->connect_timer);
	return true;
}

static void connect_done(struct pump *p, struct pump_side *side)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(side->ep.rfd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr == 0) {
		side->ep.flags &= ~EP_CONNECTING;
		log_notice("%s: connected", side->ep.spec->text);
		/* connect-timeout= covers a TLS handshake after the connect */
		if (side->ep.flags & EP_HANDSHAKE)
			side_handshake(p, side);
		else
			loop_timer_cancel(p->loop, &p->connect_timer);
		return;
	}
	connect_failed(p, side, -soerr);
}

static void connect_timeout(struct loop *loop, struct loop_timer *t)
{
	struct pump *p = t->arg;

	for (int i = 0; i < 2; i++) {
		if (p->side[i].ep.flags & EP_CONNECTING) {
			connect_failed(p, &p->side[i], -ETIMEDOUT);
			if (!p->finished)
				update_watches(p);
			return;
		}
		if (p->side[i].ep.flags & EP_HANDSHAKE) {
			log_err("%s: TLS handshake: timed out (connect-timeout=%g)",
				p->side[i].ep.spec->text,
				opt_get_secs(p->side[i].ep.spec, &opt_connect_timeout, 0));
			pump_finish(p, 1);
			return;
		}
	}
}

/* Once both sides are ready, move what is waiting; false if the pump ended */
static bool run_both(struct pump *p)
{
	return dir_run(&p->dir[0]) && dir_run(&p->dir[1]);
}

static void side_event(struct loop *loop, struct loop_watch *w, unsigned events)
{
	struct pump_side *side = w->arg;
	struct pump *p = side->p;

	if (side->ep.flags & EP_CONNECTING) {
		connect_done(p, side);
	} else if (side->ep.flags & EP_HANDSHAKE) {
		if (side_handshake(p, side) && !(side->ep.flags & EP_HANDSHAKE) &&
		    !(p->side[1 - side->index].ep.flags & EP_NOT_READY) && !run_both(p))
			return;
	} else if (p->side[1 - side->index].ep.flags & EP_NOT_READY) {
		/* an error or hang-up is reported even when nothing was asked:
		 * nothing moves until the other side is connected and through
		 * its handshake */
	} else if (side->ep.ops) {
		/* a layer's read may have waited for writability and its
		 * write for readability: any event can unblock either way */
		if (!run_both(p))
			return;
	} else {
		/* IN moves data out of this side, OUT into it */
		if ((events & LOOP_IN) && w == &side->rw && !dir_run(&p->dir[side->index]))
			return;
		if ((events & LOOP_OUT) && !dir_run(&p->dir[1 - side->index]))
			return;
	}
	if (!p->finished)
		update_watches(p);
}

static void kick_fired(struct loop *loop, struct loop_timer *t)
{
	struct pump *p = t->arg;

	if (run_both(p))
		update_watches(p);
}

static void idle_check(struct loop *loop, struct loop_timer *t)
{
	struct pump *p = t->arg;
	double now = util_now();

	if (now - p->last_activity >= p->conf->idle) {
		log_notice("no traffic for %g s (-T): closing", p->conf->idle);
		pump_finish(p, p->status);
		return;
	}
	loop_timer_arm(loop, t, p->last_activity + p->conf->idle);
}

static void pump_free(void *arg)
{
	free(arg);
}

/* Terminals and pipes we share with the shell must not stay non-blocking */
static void restore_blocking(const struct endpoint *ep)
{
	if (ep->rfd >= 0 && ep->rfd <= 2)
		util_set_nonblock(ep->rfd, false);
	if (ep->wfd >= 0 && ep->wfd <= 2)
		util_set_nonblock(ep->wfd, false);
}

static void pump_finish(struct pump *p, int status)
{
	if (p->finished)
		return;
	p->finished = true;
	if (p->prev)
		p->prev->next = p->next;
	else
		live_pumps = p->next;
	if (p->next)
		p->next->prev = p->prev;
	loop_timer_cancel(p->loop, &p->linger_timer);
	loop_timer_cancel(p->loop, &p->idle_timer);
	loop_timer_cancel(p->loop, &p->connect_timer);
	loop_timer_cancel(p->loop, &p->kick_timer);
	for (int i = 0; i < 2; i++) {
		loop_timer_cancel(p->loop, &p->dir[i].eof_timer);
		/* always an explicit EPOLL_CTL_DEL: close() alone drops the
		 * registration only once no one else holds the file (a child
		 * between fork and exec, a reader of /proc/PID/fd does), and
		 * a stale one would report events on a freed watch */
		loop_del(p->loop, &p->side[i].rw);
		loop_del(p->loop, &p->side[i].ww);
		pipe_put(&p->dir[i]);
		buf_put(&p->dir[i]);
	}
	for (int i = 0; i < 2; i++) {
		restore_blocking(&p->side[i].ep);
		endpoint_close(&p->side[i].ep);
	}
	pump_totals.finished++;
	if (status)
		pump_totals.failed++;
	if (p->done)
		p->done(p, status, p->arg);
	loop_defer(p->loop, pump_free, p);
}

static int watch_side(struct pump *p, struct pump_side *side)
{
	struct endpoint *ep = &side->ep;
	int rc;

	side->rw = (struct loop_watch){ .fd = ep->rfd, .fn = side_event, .arg = side };
	side->ww = (struct loop_watch){ .fd = ep->wfd, .fn = side_event, .arg = side };
	if (ep->rfd >= 0) {
		if (!(ep->flags & EP_NONBLOCK))
			util_set_nonblock(ep->rfd, true);
		rc = loop_add(p->loop, &side->rw, 0);
		if (rc < 0)
			return rc;
	}
	if (ep->wfd >= 0 && ep->wfd != ep->rfd) {
		if (!(ep->flags & EP_NONBLOCK))
			util_set_nonblock(ep->wfd, true);
		rc = loop_add(p->loop, &side->ww, 0);
		if (rc < 0)
			return rc;
	}
	/* a connect still in flight is watched through rw */
	if (ep->rfd < 0 && (ep->flags & EP_CONNECTING))
		return -EINVAL;
	return 0;
}

/**
 * pump_start() - relay between @left and @right until both directions end
 * @left, @right: opened endpoints; the pump takes them over (copies them
 *		and closes them at the end)
 * @done:	called once when the pump ends, with its status; that may be
 *		before pump_start() returns, if there is nothing to relay
 * Return: 0, or -ENOMEM (endpoints closed, @done not called)
 */
int pump_start(struct loop *loop, const struct pump_conf *conf,
			struct endpoint *left, struct endpoint *right,
			pump_done_fn done, void *arg)
{
	struct pump *p = calloc(1, sizeof(*p));
	bool splice_ok;

	if (!p) {
		endpoint_close(left);
		endpoint_close(right);
		return -ENOMEM;
	}
	p->loop = loop;
	p->conf = conf;
	p->done = done;
	p->arg = arg;
	p->side[0].ep = *left;
	p->side[1].ep = *right;
	loop_timer_init(&p->linger_timer, linger_expired, p);
	loop_timer_init(&p->idle_timer, idle_check, p);
	loop_timer_init(&p->connect_timer, connect_timeout, p);
	loop_timer_init(&p->kick_timer, kick_fired, p);
	for (int i = 0; i < 2; i++) {
		p->side[i].p = p;
		p->side[i].index = i;
	}
	for (int i = 0; i < 2; i++) {
		struct pump_dir *d = &p->dir[i];

		d->p = p;
		d->index = i;
		d->from = &p->side[i];
		d->to = &p->side[1 - i];
		d->pipefd[0] = d->pipefd[1] = -1;
		d->fill_want = EP_WANT_READ;
		d->flush_want = EP_WANT_WRITE;
		d->active = d->from->ep.rfd >= 0 && d->to->ep.wfd >= 0 &&
			    (conf->only_dir < 0 || conf->only_dir == i);
		splice_ok = conf->splice && !pump_conf_inspects(conf) &&
			    !d->from->ep.ops && !d->to->ep.ops;
		/* known sockets (accepted, connected, in flight) need no fstat */
		d->use_splice = splice_ok &&
			(d->from->ep.flags & EP_SOCKET || util_is_splice_capable(d->from->ep.rfd)) &&
			(d->to->ep.flags & EP_SOCKET || util_is_splice_capable(d->to->ep.wfd));
		loop_timer_init(&d->eof_timer, eof_poll, d);
	}
	pump_totals.started++;
	p->next = live_pumps;
	if (live_pumps)
		live_pumps->prev = p;
	live_pumps = p;
	for (int i = 0; i < 2; i++) {
		if (watch_side(p, &p->side[i]) < 0) {
			log_err("cannot watch the relay's fds: %s", strerror(errno));
			pump_finish(p, 1);
			return 0;
		}
	}
	if (!p->dir[0].active && !p->dir[1].active) {
		log_warn("nothing to relay: no direction has a reader and a writer");
		pump_finish(p, 0);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		struct pump_side *side = &p->side[i];

		if (side->ep.flags & EP_NOT_READY)
			arm_connect_timer(p, &side->ep);
		/* a connected layer starts its handshake now; one still
		 * connecting starts it from connect_done() */
		if ((side->ep.flags & EP_NOT_READY) == EP_HANDSHAKE && !side_handshake(p, side))
			return 0;
	}
	if (conf->idle > 0) {
		p->last_activity = util_now();
		loop_timer_arm(loop, &p->idle_timer, p->last_activity + conf->idle);
	}
	update_watches(p);
	return 0;
}
