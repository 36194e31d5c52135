/* SPDX-License-Identifier: MIT */
/*
 * frame.c - relaying Ethernet frames: codecs on streams, message fds, NAT
 *
 * DOC: Theory of operation
 *
 * A frame relay joins two sides that each deliver whole frames:
 *
 * - a message fd (a frame address type): a TAP device, a datagram or
 *   seqpacket socket; one read() or recv() is one frame;
 * - a byte stream with a codec (frames=qemu: u32 big-endian length;
 *   frames=hyperkit: u16 little-endian length; frames=raw: each read is a
 *   frame), decoded from an input buffer that collects partial frames;
 * - the NAT engine (EP_NAT), which takes frames by a call and hands its
 *   own out through a callback.
 *
 * Frames from one side go into the other side's output queue, which is
 * flushed with one write() for many frames on a stream and one send() per
 * frame on a message fd.  While that queue lacks room for one more frame
 * the source is not read (backpressure, as in the byte pump).  The NAT
 * cannot be held back - libslirp produces frames when its sockets have
 * data - so a frame for a full queue is dropped and counted, as a real NIC
 * does; TCP inside the virtual network retransmits it.
 *
 * A frame longer than either side allows (its MTU, or the codec's limit)
 * is dropped and counted, never cut.  A stream whose length prefix cannot
 * be a frame at all has lost its framing: that link ends with one error
 * line.  Frames have no half-close: the first side to end ends the link
 * once what was queued for the other side is written (or -t passes).
 *
 * post=PATH and accept-post carry gvproxy's "/connect" exchange: the
 * client (gvforwarder) writes an HTTP POST request, with no body, before
 * its first frame, and the server reads it and answers nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "dump.h"
#include "frame.h"
#include "log.h"
#include "nat.h"
#include "util.h"

#define QUEUE_CAP	((size_t)1024 * 1024)	/* per side: ~700 full-size frames */
#define RXBUF_CAP	((size_t)256 * 1024)	/* stream input: many frames per read */
#define FRAMES_PER_RUN	128		/* message reads per wake-up */

const struct opt_desc opt_frames = {
	"frames", OPT_CHOICE, 0, 0, 0, "qemu|hyperkit|raw",
	"carry Ethernet frames on this stream with this length prefix",
};
const struct opt_desc opt_post = {
	"post", OPT_STRING, 0, 0, 0, "PATH",
	"send an HTTP POST of PATH before the frames (gvforwarder's /connect)",
};
const struct opt_desc opt_accept_post = {
	"accept-post", OPT_FLAG, 0, 0, 0, NULL,
	"read and drop the HTTP request a gvforwarder sends before its frames",
};

struct frame_totals frame_totals;

/* Without libslirp no endpoint is ever EP_NAT: these are never called */
#ifdef WITH_SLIRP
#define link_new	nat_link_new
#define link_free	nat_link_free
#define link_input	nat_link_input
#else
static struct nat_link *link_new(void *nat, nat_output_fn out, void *arg)
{
	return NULL;
}

static void link_free(struct nat_link *link)
{
}

static void link_input(struct nat_link *link, const uint8_t *frame, size_t len)
{
}
#endif

struct fpump;

struct fside {
	struct fpump *fp;
	int index;
	struct endpoint ep;
	enum frame_codec codec;	/* FRAME_CODEC_NONE: a message fd or the NAT */
	size_t frame_max;
	struct nat_link *nat;
	/* stream input: [rpos, rlen) is received but not yet delivered */
	uint8_t *rbuf;
	size_t rpos, rlen;
	bool msgsock;		/* datagram or seqpacket: recv(MSG_TRUNC) sees
				 * a frame's true length */
	bool dgram;		/* no EOF: an empty datagram is just a bad frame */
	bool want_post;		/* accept-post: the request is still to come */
	bool eof;
	uint64_t nframes;	/* frames from this side relayed, for dumps */
	/* output queue: encoded bytes on a stream; [u32 length][frame]
	 * records for a message fd */
	uint8_t *q;
	size_t qhead, qlen;
	bool flush_deferred;
	struct loop_watch rw, ww;
};

struct fpump {
	struct loop *loop;
	const struct pump_conf *conf;
	struct fside side[2];
	uint8_t *scratch;	/* one frame read from a message fd */
	struct loop_timer linger;
	pump_done_fn done;
	void *arg;
	bool finished;
	struct fpump *prev, *next;
};

static struct fpump *live;

static bool is_frame_type(const struct addr_spec *s)
{
	return s->type->flags & ADDR_FRAMES;
}

/**
 * frame_relay_wanted() - do LEFT and RIGHT relay frames rather than bytes?
 *
 * Yes when either is a frame address (TAP, NAT, datagram, seqpacket) or
 * either stream says frames=.
 */
bool frame_relay_wanted(const struct addr_spec *left, const struct addr_spec *right)
{
	const struct addr_spec *s[] = { left, left->dual, right, right->dual };

	for (size_t i = 0; i < ARRAY_SIZE(s); i++)
		if (s[i] && (is_frame_type(s[i]) || opt_find(s[i], &opt_frames)))
			return true;
	return false;
}

/* ---- the output queue ---------------------------------------------------- */

/* Bytes one frame of @len takes in @s's queue */
static size_t record_len(const struct fside *s, size_t len)
{
	if (s->codec == FRAME_CODEC_QEMU || s->codec == FRAME_CODEC_HYPERKIT)
		return frame_header_len(s->codec) + len;
	return 4 + len;
}

static bool queue_room(struct fside *s, size_t need)
{
	if (!s->q) {
		s->q = malloc(QUEUE_CAP);
		if (!s->q)
			return false;
	}
	if (QUEUE_CAP - s->qlen >= need)
		return true;
	if (s->qhead) {
		memmove(s->q, s->q + s->qhead, s->qlen - s->qhead);
		s->qlen -= s->qhead;
		s->qhead = 0;
	}
	return QUEUE_CAP - s->qlen >= need;
}

static bool queue_empty(const struct fside *s)
{
	return s->qlen == s->qhead;
}

/* Room for the longest frame @s takes: may its source be read? */
static bool can_take_frame(struct fside *s)
{
	if (s->ep.flags & EP_NAT)
		return true;
	return queue_room(s, record_len(s, s->frame_max));
}

static int enqueue(struct fside *s, const uint8_t *frame, size_t len)
{
	uint8_t *p;

	if (!queue_room(s, record_len(s, len)))
		return -ENOBUFS;
	p = s->q + s->qlen;
	if (s->codec == FRAME_CODEC_QEMU || s->codec == FRAME_CODEC_HYPERKIT) {
		p += frame_header_put(s->codec, len, p);
	} else {
		uint32_t l = (uint32_t)len;

		memcpy(p, &l, 4);
		p += 4;
	}
	memcpy(p, frame, len);
	s->qlen += record_len(s, len);
	return 0;
}

static void fpump_finish(struct fpump *fp, int status);
static void update_watches(struct fpump *fp);

static void side_fail(struct fside *s, const char *what, int err)
{
	log_err("%s: %s: %s", s->ep.spec->text, what, strerror(err));
	fpump_finish(s->fp, 1);
}

/* Write what @s has queued.  Return: false if the pump ended */
static bool flush(struct fside *s)
{
	while (!queue_empty(s)) {
		ssize_t n;

		if (s->codec == FRAME_CODEC_QEMU || s->codec == FRAME_CODEC_HYPERKIT) {
			n = write(s->ep.wfd, s->q + s->qhead, s->qlen - s->qhead);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return true;
				side_fail(s, "write", errno);
				return false;
			}
			s->qhead += (size_t)n;
		} else {
			uint32_t len;

			memcpy(&len, s->q + s->qhead, 4);
			n = write(s->ep.wfd, s->q + s->qhead + 4, len);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)
					return true;
				if (errno == EMSGSIZE || errno == EINVAL || errno == EIO) {
					/* this one frame cannot go (too long for the
					 * socket, or the device is down): drop it */
					frame_totals.drop_oversize += errno == EMSGSIZE;
					frame_totals.drop_queue += errno != EMSGSIZE;
				} else {
					side_fail(s, "write", errno);
					return false;
				}
			}
			s->qhead += 4 + len;
		}
	}
	s->qhead = s->qlen = 0;
	return true;
}

static void deferred_flush(void *arg)
{
	struct fside *s = arg;

	s->flush_deferred = false;
	if (s->fp->finished)
		return;
	if (flush(s))
		update_watches(s->fp);
}

/* -v/-x/-r/-R see each frame that goes on, numbered per direction */
static void inspect(struct fside *from, const uint8_t *frame, size_t len)
{
	from->nframes++;
	if (pump_conf_inspects(from->fp->conf))
		dump_frame(from->fp->conf, from->index, from->nframes, frame, len);
}

/* One frame from @from for the other side */
static void deliver(struct fside *from, const uint8_t *frame, size_t len)
{
	struct fside *to = &from->fp->side[1 - from->index];
	int d = from->index;

	if (len < FRAME_ETH_HLEN || len > from->frame_max || len > to->frame_max) {
		if (len < FRAME_ETH_HLEN)
			frame_totals.drop_malformed++;
		else
			frame_totals.drop_oversize++;
		log_debug("%s: dropped a %zu-byte frame (%s)", from->ep.spec->text, len,
			  len < FRAME_ETH_HLEN ? "shorter than an Ethernet header" : "too long");
		/* the NAT counts (and captures) what it is sent, even this */
		if (to->ep.flags & EP_NAT)
			link_input(to->nat, frame, len);
		return;
	}
	if (from->fp->conf->only_dir >= 0 && from->fp->conf->only_dir != d)
		return;
	if (!(to->ep.flags & EP_NAT) && enqueue(to, frame, len) < 0) {
		/* counted as dropped, not as relayed */
		frame_totals.drop_queue++;
		return;
	}
	frame_totals.frames[d]++;
	frame_totals.bytes[d] += len;
	inspect(from, frame, len);
	if (to->ep.flags & EP_NAT)
		link_input(to->nat, frame, len);
}

/* The NAT engine's frames for the side across from it */
static int nat_output(void *arg, const uint8_t *frame, size_t len)
{
	struct fside *nat_side = arg;
	struct fside *to = &nat_side->fp->side[1 - nat_side->index];

	if (nat_side->fp->finished)
		return -ENOBUFS;
	if (len > to->frame_max) {
		frame_totals.drop_oversize++;
		return 0;
	}
	if (enqueue(to, frame, len) < 0) {
		frame_totals.drop_queue++;
		return -ENOBUFS;
	}
	frame_totals.frames[nat_side->index]++;
	frame_totals.bytes[nat_side->index] += len;
	inspect(nat_side, frame, len);
	/* many frames come in one engine run: one write for all of them */
	if (!to->flush_deferred && loop_defer(nat_side->fp->loop, deferred_flush, to) == 0)
		to->flush_deferred = true;
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

/* accept-post: drop the request head.  Return: 1 done, 0 need more, -1 bad */
static int skip_post(struct fside *s)
{
	long n = frame_post_head(s->rbuf + s->rpos, s->rlen - s->rpos);

	if (n == -EPROTO) {
		log_err("%s: accept-post: expected an HTTP POST request, got other data",
			s->ep.spec->text);
		return -1;
	}
	if (n < 0) {
		log_err("%s: accept-post: request head longer than %d bytes", s->ep.spec->text,
			FRAME_POST_MAX);
		return -1;
	}
	if (n == 0)
		return 0;
	s->rpos += (size_t)n;
	s->want_post = false;
	log_info("%s: accepted the frame request (%ld bytes)", s->ep.spec->text, n);
	return 1;
}

/* Deliver the whole frames in @s's input buffer while the other side has
 * room.  Return: false if the pump ended */
static bool decode(struct fside *s)
{
	struct fside *to = &s->fp->side[1 - s->index];

	if (s->want_post) {
		int rc = skip_post(s);

		if (rc < 0) {
			fpump_finish(s->fp, 1);
			return false;
		}
		if (!rc)
			return true;
	}
	while (can_take_frame(to)) {
		const uint8_t *p = s->rbuf + s->rpos;
		size_t off = 0, len = 0;
		enum frame_scan scan = frame_decode(s->codec, p, s->rlen - s->rpos, &off, &len);

		if (scan == FRAME_SCAN_MORE)
			break;
		if (scan == FRAME_SCAN_CORRUPT) {
			log_err("%s: frames=qemu: corrupt stream: a frame length of %zu bytes "
				"(at most %d): ending this link", s->ep.spec->text, len,
				FRAME_QEMU_LIMIT);
			/* the frames before it were good: hand them on first */
			if (!(to->ep.flags & EP_NAT) && !flush(to))
				return false;
			fpump_finish(s->fp, 1);
			return false;
		}
		deliver(s, p + off, len);
		s->rpos += off + len;
	}
	if (s->rpos == s->rlen)
		s->rpos = s->rlen = 0;
	return true;
}

/* Read what @s has now.  Return: false if the pump ended */
static bool side_read(struct fside *s)
{
	struct fside *to = &s->fp->side[1 - s->index];

	if (s->codec == FRAME_CODEC_QEMU || s->codec == FRAME_CODEC_HYPERKIT) {
		if (!s->rbuf && !(s->rbuf = malloc(RXBUF_CAP))) {
			side_fail(s, "read", ENOMEM);
			return false;
		}
		if (!decode(s))
			return false;
		for (int round = 0; round < 4 && !s->eof && can_take_frame(to); round++) {
			ssize_t n;

			if (s->rpos) {
				memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
				s->rlen -= s->rpos;
				s->rpos = 0;
			}
			n = read(s->ep.rfd, s->rbuf + s->rlen, RXBUF_CAP - s->rlen);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				side_fail(s, "read", errno);
				return false;
			}
			if (n == 0) {
				s->eof = true;
				if (s->rlen)
					log_notice("%s: end of input inside a frame (%zu bytes "
						   "dropped)", s->ep.spec->text, s->rlen);
				break;
			}
			s->rlen += (size_t)n;
			if (!decode(s))
				return false;
			if ((size_t)n < RXBUF_CAP / 2)
				break;	/* the socket is most likely empty now */
		}
		return true;
	}
	/* one frame per read: TAP, datagram, seqpacket, frames=raw */
	for (int i = 0; i < FRAMES_PER_RUN && can_take_frame(to); i++) {
		ssize_t n;

		if (s->msgsock)
			n = recv(s->ep.rfd, s->fp->scratch, FRAME_MAX, MSG_TRUNC);
		else
			n = read(s->ep.rfd, s->fp->scratch, FRAME_MAX);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* a datagram peer that went away */
			if (errno == ECONNREFUSED && s->dgram)
				continue;
			side_fail(s, "read", errno);
			return false;
		}
		if (n == 0 && !s->dgram) {
			s->eof = true;
			break;
		}
		if (n > (ssize_t)FRAME_MAX) {
			frame_totals.drop_oversize++;
			continue;
		}
		deliver(s, s->fp->scratch, (size_t)n);
	}
	return true;
}

/* ---- the pump ------------------------------------------------------------ */

static void linger_over(struct loop *loop, struct loop_timer *t)
{
	fpump_finish(t->arg, 0);
}

/* A side ended: the link ends once the other side has what was queued */
static void check_end(struct fpump *fp)
{
	for (int i = 0; i < 2; i++) {
		struct fside *s = &fp->side[i], *o = &fp->side[1 - i];

		if (!s->eof)
			continue;
		log_info("%s: end of input: ending the link", s->ep.spec->text);
		if (queue_empty(o) || (o->ep.flags & EP_NAT)) {
			fpump_finish(fp, 0);
		} else if (fp->linger.slot < 0) {
			loop_timer_arm(fp->loop, &fp->linger, util_now() + fp->conf->linger);
		}
		return;
	}
}

static void update_watches(struct fpump *fp)
{
	for (int i = 0; i < 2; i++) {
		struct fside *s = &fp->side[i], *o = &fp->side[1 - i];
		unsigned r = 0, w = 0;

		if (s->ep.flags & EP_NAT)
			continue;
		if (!s->eof && !o->eof && can_take_frame(o) &&
		    (fp->conf->only_dir < 0 || fp->conf->only_dir == i))
			r = LOOP_IN;
		if (!queue_empty(s))
			w = LOOP_OUT;
		if (s->ep.rfd == s->ep.wfd) {
			loop_set(fp->loop, &s->rw, r | w);
		} else {
			loop_set(fp->loop, &s->rw, r);
			loop_set(fp->loop, &s->ww, w);
		}
	}
}

static void side_event(struct loop *loop, struct loop_watch *w, unsigned events)
{
	struct fside *s = w->arg;
	struct fpump *fp = s->fp;
	struct fside *o = &fp->side[1 - s->index];

	if ((events & LOOP_OUT) && !flush(s))
		return;
	/* room again: the other side may have frames waiting in its buffer */
	if (o->rlen > o->rpos && !(o->ep.flags & EP_NAT) && !decode(o))
		return;
	if ((events & LOOP_IN) && w == &s->rw && !side_read(s))
		return;
	if (!queue_empty(o) && !flush(o))
		return;
	check_end(fp);
	if (!fp->finished)
		update_watches(fp);
}

static void fpump_free(void *arg)
{
	struct fpump *fp = arg;

	for (int i = 0; i < 2; i++) {
		free(fp->side[i].q);
		free(fp->side[i].rbuf);
	}
	free(fp->scratch);
	free(fp);
}

static void fpump_finish(struct fpump *fp, int status)
{
	if (fp->finished)
		return;
	fp->finished = true;
	if (fp->prev)
		fp->prev->next = fp->next;
	else
		live = fp->next;
	if (fp->next)
		fp->next->prev = fp->prev;
	loop_timer_cancel(fp->loop, &fp->linger);
	for (int i = 0; i < 2; i++) {
		struct fside *s = &fp->side[i];

		if (s->nat)
			link_free(s->nat);
		s->nat = NULL;
		loop_del(fp->loop, &s->rw);
		loop_del(fp->loop, &s->ww);
		endpoint_close(&s->ep);
	}
	pump_totals.finished++;
	if (status)
		pump_totals.failed++;
	if (fp->done)
		fp->done(NULL, status, fp->arg);
	loop_defer(fp->loop, fpump_free, fp);
}

void frame_pump_stop_all(void)
{
	while (live)
		fpump_finish(live, 0);
}

static size_t codec_limit(enum frame_codec c)
{
	return c == FRAME_CODEC_HYPERKIT ? 65535 : FRAME_MAX;
}

static const char *const codec_names[] = { "qemu", "hyperkit", "raw", "one per message" };

/* One frame per message by its nature: its address type says so (for an
 * accepted seqpacket socket, its listener's) */
static bool is_message_endpoint(const struct endpoint *ep)
{
	return is_frame_type(ep->spec);
}

/* Which codec @ep uses: its own frames=, else the other side's, else qemu */
static enum frame_codec pick_codec(const struct endpoint *ep, const struct endpoint *other)
{
	const struct opt_value *v = opt_find(ep->spec, &opt_frames);

	if (is_message_endpoint(ep))
		return FRAME_CODEC_NONE;
	if (v)
		return (enum frame_codec)v->num;
	v = opt_find(other->spec, &opt_frames);
	if (v && !is_message_endpoint(other))
		return (enum frame_codec)v->num;
	return FRAME_CODEC_QEMU;
}

static int side_setup(struct fpump *fp, int i, struct endpoint *ep, const struct endpoint *other)
{
	struct fside *s = &fp->side[i];
	const char *post;

	s->fp = fp;
	s->index = i;
	s->ep = *ep;
	s->codec = pick_codec(ep, other);
	s->frame_max = ep->frame_max ? ep->frame_max : codec_limit(s->codec);
	if (s->codec == FRAME_CODEC_RAW || s->codec == FRAME_CODEC_NONE)
		s->frame_max = s->frame_max < FRAME_MAX ? s->frame_max : FRAME_MAX;
	s->rw = (struct loop_watch){ .fd = ep->rfd, .fn = side_event, .arg = s };
	s->ww = (struct loop_watch){ .fd = ep->wfd, .fn = side_event, .arg = s };
	if ((ep->flags & EP_SOCKET) && ep->rfd >= 0) {
		int type = 0;
		socklen_t tl = sizeof(type);

		if (getsockopt(ep->rfd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0) {
			s->dgram = type == SOCK_DGRAM;
			s->msgsock = s->dgram || type == SOCK_SEQPACKET;
		}
	}
	s->want_post = opt_get_flag(ep->spec, &opt_accept_post, false);
	if ((s->want_post || opt_find(ep->spec, &opt_post)) &&
	    s->codec != FRAME_CODEC_QEMU && s->codec != FRAME_CODEC_HYPERKIT) {
		log_err("%s: post= and accept-post need a stream with frames=qemu or hyperkit",
			ep->spec->text);
		return -EINVAL;
	}
	log_info("%s: carrying frames (%s, up to %zu bytes)", ep->spec->text,
		 (ep->flags & EP_NAT) ? "NAT" : codec_names[s->codec], s->frame_max);
	if (ep->flags & EP_NAT) {
		s->nat = link_new(ep->priv, nat_output, s);
		return s->nat ? 0 : -ENOSPC;
	}
	if (ep->rfd >= 0) {
		util_set_nonblock(ep->rfd, true);
		loop_add(fp->loop, &s->rw, 0);
	}
	if (ep->wfd >= 0 && ep->wfd != ep->rfd) {
		util_set_nonblock(ep->wfd, true);
		loop_add(fp->loop, &s->ww, 0);
	}
	post = opt_get_str(ep->spec, &opt_post);
	if (post) {
		char req[FRAME_POST_MAX];
		int n = snprintf(req, sizeof(req),
				 "POST %s HTTP/1.1\r\nHost: vrelay\r\nContent-Length: 0\r\n\r\n", post);

		if (n < 0 || (size_t)n >= sizeof(req) || !queue_room(s, (size_t)n))
			return -EINVAL;
		/* raw bytes ahead of the first frame, in the queue's own format */
		memcpy(s->q + s->qlen, req, (size_t)n);
		s->qlen += (size_t)n;
	}
	return 0;
}

/**
 * frame_pump_start() - relay frames between @left and @right until one ends
 *
 * Same contract as pump_start(); @done gets a NULL pump.
 */
int frame_pump_start(struct loop *loop, const struct pump_conf *conf,
		     struct endpoint *left, struct endpoint *right,
		     pump_done_fn done, void *arg)
{
	struct fpump *fp = calloc(1, sizeof(*fp));
	int rc;

	if (!fp || !(fp->scratch = malloc(FRAME_MAX + 1))) {
		free(fp);
		endpoint_close(left);
		endpoint_close(right);
		return -ENOMEM;
	}
	fp->loop = loop;
	fp->conf = conf;
	fp->done = done;
	fp->arg = arg;
	loop_timer_init(&fp->linger, linger_over, fp);
	rc = side_setup(fp, 0, left, right);
	if (rc == 0)
		rc = side_setup(fp, 1, right, left);
	if (rc < 0) {
		log_err("cannot start relaying frames: %s",
			rc == -ENOSPC ? "the NAT has no room for another link" : strerror(-rc));
		goto fail;
	}
	fp->next = live;
	if (live)
		live->prev = fp;
	live = fp;
	pump_totals.started++;
	update_watches(fp);
	return 0;
fail:
	for (int i = 0; i < 2; i++)
		if (fp->side[i].nat)
			link_free(fp->side[i].nat);
	for (int i = 0; i < 2; i++)
		loop_del(loop, &fp->side[i].rw), loop_del(loop, &fp->side[i].ww);
	endpoint_close(left);
	endpoint_close(right);
	fpump_free(fp);
	return rc;
}
