/* SPDX-License-Identifier: MIT */
/*
 * loop.c - the event loop: fds, timers and deferred work
 *
 * DOC: Theory of operation
 *
 * Owners embed a struct loop_watch per fd and tell the loop which of
 * LOOP_IN/LOOP_OUT they want; the loop only touches the kernel's interest
 * set when that changes.  A watch that wants nothing is taken out of the
 * kernel's set altogether: epoll reports EPOLLHUP whether asked or not,
 * and a relay that paused reading for backpressure must not spin on it.
 *
 * Regular files cannot be polled (epoll_ctl says EPERM); they are always
 * ready, so the loop keeps them on a list and calls them every round with
 * a zero wait.  This is what makes "vrelay TCP-LISTEN:0 - >file" work.
 *
 * Callbacks may delete watches, including ones still pending in the
 * current batch.  Owners therefore never free a struct holding a watch
 * from inside a callback: they hand it to loop_defer(), which runs after
 * the batch, and the dispatcher skips watches that were deleted.
 *
 * Timers live in a binary heap ordered by deadline (CLOCK_MONOTONIC
 * seconds from util_now()).  Two backends sit behind this interface: epoll
 * where configure found it, poll(2) otherwise.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_EPOLL
#include <sys/epoll.h>
#endif

#include "loop.h"
#include "util.h"

struct loop_deferred {
	loop_defer_fn fn;
	void *arg;
};

struct loop {
	bool stop;
#ifdef HAVE_EPOLL
	int epfd;
#endif
	/* poll backend: every watch; epoll backend: always-ready ones only */
	struct loop_watch **watches;
	size_t nwatches, capwatches;
	struct loop_timer **heap;
	struct loop_hook *hooks;
	size_t nheap, capheap;
	struct loop_deferred *deferred;
	size_t ndeferred, capdeferred;
	struct loop_deferred *at_free;
	size_t n_at_free, cap_at_free;
};

/* The loop made last: what an address opened in it (the NAT engine)
 * attaches to, without every open() taking a loop argument */
static struct loop *current;

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

const char *loop_backend(void)
{
#ifdef HAVE_EPOLL
	return "epoll";
#else
	return "poll";
#endif
}

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
#ifdef HAVE_EPOLL
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
#endif
	current = loop;
	return loop;
}

struct loop *loop_current(void)
{
	return current;
}

/**
 * loop_at_free() - call @fn(@arg) when the loop is freed, before it goes
 *		    (for what lives as long as the loop: the NAT engine)
 */
int loop_at_free(struct loop *loop, loop_defer_fn fn, void *arg)
{
	if (grow((void **)&loop->at_free, &loop->cap_at_free, loop->n_at_free + 1,
		 sizeof(*loop->at_free)))
		return -ENOMEM;
	loop->at_free[loop->n_at_free++] = (struct loop_deferred){ fn, arg };
	return 0;
}

static void loop_release(struct loop *loop)
{
	if (current == loop)
		current = NULL;
	free(loop->at_free);
	free(loop->watches);
	free(loop->heap);
	free(loop->deferred);
	free(loop);
}

static void run_deferred(struct loop *loop);

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	/* frees that were waiting for the end of a batch */
	run_deferred(loop);
	while (loop->n_at_free) {
		loop->n_at_free--;
		loop->at_free[loop->n_at_free].fn(loop->at_free[loop->n_at_free].arg);
	}
	run_deferred(loop);
#ifdef HAVE_EPOLL
	close(loop->epfd);
#endif
	loop_release(loop);
}

/* A forked child must not touch the parent's epoll set, which it shares:
 * drop the loop without deregistering anything. */
void loop_forget_after_fork(struct loop *loop)
{
#ifdef HAVE_EPOLL
	close(loop->epfd);
#endif
	loop_release(loop);
}

static int list_add(struct loop *loop, struct loop_watch *w)
{
	if (grow((void **)&loop->watches, &loop->capwatches, loop->nwatches + 1,
		 /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
		 sizeof(*loop->watches)))
		return -ENOMEM;
	w->slot = (int)loop->nwatches;
	loop->watches[loop->nwatches++] = w;
	return 0;
}

static void list_del(struct loop *loop, struct loop_watch *w)
{
	size_t i = (size_t)w->slot;

	loop->watches[i] = loop->watches[--loop->nwatches];
	loop->watches[i]->slot = (int)i;
	w->slot = -1;
}

#ifdef HAVE_EPOLL
static void kernel_update(struct loop *loop, struct loop_watch *w, unsigned events)
{
	struct epoll_event ev = { 0 };
	int op;

	w->events = events;
	if (w->always_ready || w->registered == events)
		return;
	ev.data.ptr = w;
	ev.events = ((events & LOOP_IN) ? EPOLLIN : 0) | ((events & LOOP_OUT) ? EPOLLOUT : 0);
	if (!events)
		op = EPOLL_CTL_DEL;
	else
		op = w->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(loop->epfd, op, w->fd, &ev) < 0) {
		if (op == EPOLL_CTL_ADD && errno == EPERM) {
			/* a regular file: always ready */
			w->always_ready = true;
			list_add(loop, w);
			return;
		}
		/* an fd number that was closed and opened again behind our
		 * back (libslirp's sockets) is a new file to epoll */
		if (op == EPOLL_CTL_MOD && errno == ENOENT)
			epoll_ctl(loop->epfd, EPOLL_CTL_ADD, w->fd, &ev);
		else if (op == EPOLL_CTL_ADD && errno == EEXIST)
			epoll_ctl(loop->epfd, EPOLL_CTL_MOD, w->fd, &ev);
	}
	w->registered = events;
}
#endif

/**
 * loop_add() - start watching @w->fd for @events
 * Return: 0 or a negative errno
 */
int loop_add(struct loop *loop, struct loop_watch *w, unsigned events)
{
	w->events = 0;
	w->registered = 0;
	w->always_ready = false;
	w->added = true;
	w->slot = -1;
#ifdef HAVE_EPOLL
	/* nothing wanted yet: the kernel hears of it at the first loop_set(),
	 * which also finds out whether the fd can be polled at all */
	if (events)
		kernel_update(loop, w, events);
	return 0;
#else
	w->events = events;
	return list_add(loop, w);
#endif
}

void loop_set(struct loop *loop, struct loop_watch *w, unsigned events)
{
	if (!w->added)
		return;
#ifdef HAVE_EPOLL
	kernel_update(loop, w, events);
#else
	w->events = events;
#endif
}

void loop_del(struct loop *loop, struct loop_watch *w)
{
	if (!w->added)
		return;
#ifdef HAVE_EPOLL
	if (w->always_ready)
		list_del(loop, w);
	else if (w->registered)
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
#else
	list_del(loop, w);
#endif
	w->added = false;
	w->events = w->registered = 0;
}

/* ---- timers: a binary min-heap on ->when ---- */

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->slot = -1;
	t->when = 0;
}

static void heap_swap(struct loop *loop, size_t a, size_t b)
{
	struct loop_timer *t = loop->heap[a];

	loop->heap[a] = loop->heap[b];
	loop->heap[b] = t;
	loop->heap[a]->slot = (int)a;
	loop->heap[b]->slot = (int)b;
}

static void heap_fix(struct loop *loop, size_t i)
{
	while (i > 0 && loop->heap[(i - 1) / 2]->when > loop->heap[i]->when) {
		heap_swap(loop, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < loop->nheap && loop->heap[l]->when < loop->heap[m]->when)
			m = l;
		if (r < loop->nheap && loop->heap[r]->when < loop->heap[m]->when)
			m = r;
		if (m == i)
			return;
		heap_swap(loop, i, m);
		i = m;
	}
}

void loop_timer_cancel(struct loop *loop, struct loop_timer *t)
{
	size_t i;

	if (t->slot < 0)
		return;
	i = (size_t)t->slot;
	t->slot = -1;
	if (i == --loop->nheap)
		return;
	loop->heap[i] = loop->heap[loop->nheap];
	loop->heap[i]->slot = (int)i;
	heap_fix(loop, i);
}

/**
 * loop_timer_arm() - call @t->fn once at @when (util_now() seconds);
 *		      re-arming moves it
 */
void loop_timer_arm(struct loop *loop, struct loop_timer *t, double when)
{
	loop_timer_cancel(loop, t);
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	if (grow((void **)&loop->heap, &loop->capheap, loop->nheap + 1, sizeof(*loop->heap)))
		return;
	t->when = when;
	t->slot = (int)loop->nheap;
	loop->heap[loop->nheap++] = t;
	heap_fix(loop, (size_t)t->slot);
}

/**
 * loop_defer() - run @fn(@arg) after the current batch of callbacks
 */
int loop_defer(struct loop *loop, loop_defer_fn fn, void *arg)
{
	if (grow((void **)&loop->deferred, &loop->capdeferred, loop->ndeferred + 1,
		 sizeof(*loop->deferred)))
		return -ENOMEM;
	loop->deferred[loop->ndeferred++] = (struct loop_deferred){ fn, arg };
	return 0;
}

void loop_stop(struct loop *loop)
{
	loop->stop = true;
}

static void run_deferred(struct loop *loop)
{
	/* a deferred function may defer more: take them by index */
	for (size_t i = 0; i < loop->ndeferred; i++)
		loop->deferred[i].fn(loop->deferred[i].arg);
	loop->ndeferred = 0;
}

static void run_timers(struct loop *loop)
{
	double now = util_now();

	while (loop->nheap && loop->heap[0]->when <= now) {
		struct loop_timer *t = loop->heap[0];

		loop_timer_cancel(loop, t);
		t->fn(loop, t);
	}
}

static int next_timeout_ms(struct loop *loop)
{
	double left;

	if (!loop->nheap)
		return -1;
	left = loop->heap[0]->when - util_now();
	if (left <= 0)
		return 0;
	return left > 86400 ? 86400000 : (int)(left * 1000.0) + 1;
}

static void dispatch(struct loop_watch *w, struct loop *loop, unsigned ev)
{
	/* deleted earlier in this batch, or no longer interested */
	ev &= w->events;
	if (w->added && ev)
		w->fn(loop, w, ev);
}

#ifdef HAVE_EPOLL
static int wait_once(struct loop *loop)
{
	struct epoll_event evs[256];
	int timeout = next_timeout_ms(loop), n;

	/* regular files are always ready: don't sleep while one wants I/O */
	for (size_t i = 0; i < loop->nwatches; i++)
		if (loop->watches[i]->events)
			timeout = 0;
	n = epoll_wait(loop->epfd, evs, (int)ARRAY_SIZE(evs), timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		unsigned ev = 0;

		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			ev |= LOOP_IN;
		if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			ev |= LOOP_OUT;
		dispatch(evs[i].data.ptr, loop, ev);
	}
	for (size_t i = 0; i < loop->nwatches; i++) {
		struct loop_watch *w = loop->watches[i];

		dispatch(w, loop, LOOP_IN | LOOP_OUT);
		/* the callback may have deleted it, moving another into slot i */
		if (i < loop->nwatches && loop->watches[i] != w)
			i--;
	}
	return 0;
}
#else
static int wait_once(struct loop *loop)
{
	struct pollfd *pfd;
	struct loop_watch **snap;
	size_t n = loop->nwatches;
	int rc;

	pfd = calloc(n ? n : 1, sizeof(*pfd));
	snap = calloc(n ? n : 1, sizeof(*snap));
	if (!pfd || !snap) {
		free(pfd);
		free(snap);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		snap[i] = loop->watches[i];
		pfd[i].fd = snap[i]->events ? snap[i]->fd : -1;
		pfd[i].events = (short)(((snap[i]->events & LOOP_IN) ? POLLIN : 0) |
					((snap[i]->events & LOOP_OUT) ? POLLOUT : 0));
	}
	rc = poll(pfd, (nfds_t)n, next_timeout_ms(loop));
	if (rc < 0) {
		rc = errno == EINTR ? 0 : -errno;
	} else {
		/* a callback may delete watches of this snapshot: those are
		 * kept alive by loop_defer() and marked !added */
		for (size_t i = 0; i < n; i++) {
			unsigned ev = 0;

			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
				ev |= LOOP_IN;
			if (pfd[i].revents & (POLLOUT | POLLHUP | POLLERR | POLLNVAL))
				ev |= LOOP_OUT;
			if (ev)
				dispatch(snap[i], loop, ev);
		}
		rc = 0;
	}
	free(pfd);
	free(snap);
	return rc;
}
#endif

/**
 * loop_hook_add() - call @h->prepare before every wait and @h->check after
 *		     every batch of fd callbacks: for a library that owns
 *		     fds of its own and wants to be asked about them each
 *		     time round (libslirp's pollfds_fill/pollfds_poll)
 */
void loop_hook_add(struct loop *loop, struct loop_hook *h)
{
	h->next = loop->hooks;
	loop->hooks = h;
}

void loop_hook_del(struct loop *loop, struct loop_hook *h)
{
	for (struct loop_hook **pp = &loop->hooks; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			return;
		}
	}
}

static void run_hooks(struct loop *loop, bool prepare)
{
	for (struct loop_hook *h = loop->hooks, *next; h; h = next) {
		next = h->next;
		if (prepare && h->prepare)
			h->prepare(loop, h);
		else if (!prepare && h->check)
			h->check(loop, h);
	}
}

/**
 * loop_run() - dispatch until loop_stop()
 *
 * A loop_stop() from before the call counts: what was set up may already
 * be over (a pump whose TLS handshake failed in pump_start()), and then
 * there is nothing to wait for.
 * Return: 0, or a negative errno if waiting failed
 */
int loop_run(struct loop *loop)
{
	int rc = 0;

	while (!loop->stop) {
		run_hooks(loop, true);
		rc = wait_once(loop);
		run_deferred(loop);
		run_hooks(loop, false);
		run_deferred(loop);
		if (rc < 0)
			break;
		run_timers(loop);
		run_deferred(loop);
	}
	loop->stop = false;
	return rc < 0 ? rc : 0;
}
