/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_LOOP_H
#define VRELAY_LOOP_H

#include <stdbool.h>

#define LOOP_IN		(1u << 0)
#define LOOP_OUT	(1u << 1)

struct loop;
struct loop_watch;
struct loop_timer;

typedef void (*loop_watch_fn)(struct loop *loop, struct loop_watch *w, unsigned events);
typedef void (*loop_timer_fn)(struct loop *loop, struct loop_timer *t);
typedef void (*loop_defer_fn)(void *arg);

/**
 * struct loop_watch - interest in one fd, embedded in its owner's struct
 * @fd, @fn, @arg: set by the owner before loop_add()
 * The rest is the loop's.  Errors and hang-ups are reported as LOOP_IN and
 * LOOP_OUT, so that the owner's next read or write finds out what happened.
 */
struct loop_watch {
	int fd;
	loop_watch_fn fn;
	void *arg;
	unsigned events;
	unsigned registered;
	bool always_ready;
	bool added;
	int slot;
};

struct loop_timer {
	double when;
	loop_timer_fn fn;
	void *arg;
	int slot;	/* heap position, -1 when not armed */
};

struct loop_hook;
typedef void (*loop_hook_fn)(struct loop *loop, struct loop_hook *h);

/* see loop_hook_add(); embedded in its owner's struct */
struct loop_hook {
	loop_hook_fn prepare, check;
	void *arg;
	struct loop_hook *next;
};

struct loop *loop_new(void);
struct loop *loop_current(void);
void loop_hook_add(struct loop *loop, struct loop_hook *h);
void loop_hook_del(struct loop *loop, struct loop_hook *h);
int loop_at_free(struct loop *loop, loop_defer_fn fn, void *arg);
void loop_free(struct loop *loop);
void loop_forget_after_fork(struct loop *loop);
int loop_add(struct loop *loop, struct loop_watch *w, unsigned events);
void loop_set(struct loop *loop, struct loop_watch *w, unsigned events);
void loop_del(struct loop *loop, struct loop_watch *w);
void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *arg);
void loop_timer_arm(struct loop *loop, struct loop_timer *t, double when);
void loop_timer_cancel(struct loop *loop, struct loop_timer *t);
int loop_defer(struct loop *loop, loop_defer_fn fn, void *arg);
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);
const char *loop_backend(void);

#endif
