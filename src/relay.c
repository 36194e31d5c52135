/* SPDX-License-Identifier: MIT */
/*
 * relay.c - "vrelay LEFT RIGHT": open both addresses and pump between them
 *
 * DOC: Modes
 *
 * When LEFT listens, the relay accepts peers on it in one of three ways:
 *
 * - once (socat's default): accept the first permitted peer, stop
 *   listening, open RIGHT, relay, exit.
 * - fork (socat's "fork"): the parent only accepts; each connection gets
 *   a child process that opens RIGHT and relays.  max-children= pauses
 *   accepting while that many children run.
 * - multi (-M or "multi"): one process, one event loop, every connection
 *   a pump in it; RIGHT is connected without blocking where its type can.
 *   This is what holds thousands of connections in a few megabytes.
 *
 * Otherwise LEFT is opened, then RIGHT (which may listen for one peer),
 * and one pump runs.  Signals come into the loop through a self-pipe:
 * SIGTERM/SIGINT end the relay with status 0 (a fork parent passes SIGTERM
 * on to its children), SIGCHLD reaps, SIGUSR1 prints statistics.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "frame.h"
#include "log.h"
#include "loop.h"
#include "nat.h"
#include "pump.h"
#include "relay.h"
#include "sock.h"
#include "tls.h"
#include "util.h"

#define RELAY_DEFAULT_BUFSIZE ((size_t)256 * 1024)
#define ACCEPT_BATCH	64	/* accepts per wake-up before others get a turn */
#define EMFILE_PAUSE	0.1	/* out of fds: stop accepting this long */
#define CHILD_GRACE	0.2	/* at exit: how long children have to finish */

enum relay_mode { MODE_ONCE, MODE_FORK, MODE_MULTI };

struct relay {
	const struct relay_conf *conf;
	struct addr_spec *left, *right;
	struct loop *loop;
	enum relay_mode mode;
	int status;
	/* listener */
	int lfd;
	struct loop_watch lwatch;
	struct loop_timer resume_timer;
	bool paused;
	double emfile_logged;
	int spare_fd;	/* multi mode: kept for RIGHT (keep_spare_fd()) */
	/* fork mode: our children, to reap and to pass SIGTERM on to */
	pid_t *children;
	size_t nchildren, capchildren;
	unsigned long long max_children;
	/* multi mode */
	unsigned long long active;
	/* RIGHT wants to know who connected (EXEC's environment) */
	bool want_peer;
	/* Ethernet frames rather than bytes (frame.c) */
	bool frames;
	/* signals */
	struct loop_watch sigwatch;
};

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (sig == SIGTERM || sig == SIGINT)
		util_quit = 1;
	if (write(sig_pipe[1], &c, 1) < 0) {
		/* a full pipe already holds a wake-up */
	}
	errno = saved;
}

static int signals_setup(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (sig_pipe[0] >= 0) {
		close(sig_pipe[0]);
		close(sig_pipe[1]);
	}
	if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	/* no SA_RESTART: a blocking connect or sleep must see SIGTERM */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void print_stats(const struct relay *r)
{
	/* a frame relay moves frames, not a byte stream: its bytes are the
	 * frames' (without a codec's length prefixes) */
	const uint64_t *bytes = r->frames ? frame_totals.bytes : pump_totals.bytes;

	log_msg(LOG_LVL_ERR,
		"statistics: left-to-right %llu bytes, right-to-left %llu bytes, "
		"connections %llu, active %llu, failed %llu",
		(unsigned long long)bytes[0], (unsigned long long)bytes[1],
		(unsigned long long)(r->mode == MODE_FORK ? r->nchildren + pump_totals.finished
							  : pump_totals.started),
		(unsigned long long)(r->mode == MODE_FORK ? r->nchildren
							  : pump_totals.started - pump_totals.finished),
		(unsigned long long)pump_totals.failed);
	if (r->frames)
		log_msg(LOG_LVL_ERR,
			"frames: left-to-right %llu (%llu bytes), right-to-left %llu (%llu bytes), "
			"dropped: %llu too long, %llu malformed, %llu queue full",
			(unsigned long long)frame_totals.frames[0],
			(unsigned long long)frame_totals.bytes[0],
			(unsigned long long)frame_totals.frames[1],
			(unsigned long long)frame_totals.bytes[1],
			(unsigned long long)frame_totals.drop_oversize,
			(unsigned long long)frame_totals.drop_malformed,
			(unsigned long long)frame_totals.drop_queue);
#ifdef WITH_SLIRP
	nat_log_stats();
#endif
}

static void forget_child(struct relay *r, pid_t pid)
{
	for (size_t i = 0; i < r->nchildren; i++) {
		if (r->children[i] == pid) {
			r->children[i] = r->children[--r->nchildren];
			pump_totals.finished++;
			return;
		}
	}
}

static void resume_accepting(struct relay *r)
{
	if (r->paused && r->lfd >= 0) {
		r->paused = false;
		loop_set(r->loop, &r->lwatch, LOOP_IN);
	}
}

static void pause_accepting(struct relay *r)
{
	if (!r->paused) {
		r->paused = true;
		loop_set(r->loop, &r->lwatch, 0);
	}
}

/*
 * In the many-connections mode an accept() can take the last fd the
 * process may open; RIGHT's socket would then fail, and the connection be
 * lost.  So one fd (/dev/null) is kept spare: it is given up just before
 * RIGHT is opened and taken again right after.  While it cannot be taken,
 * the process is at its limit, and accepting waits as it does when
 * accept() itself says EMFILE: new peers wait in the backlog.
 *
 * keep_spare_fd() - hold the spare fd
 * Return: 0 (also when /dev/null cannot be opened for another reason: then
 *	   there is no spare), -EMFILE or -ENFILE
 */
static int keep_spare_fd(struct relay *r)
{
	if (r->mode != MODE_MULTI || r->spare_fd >= 0)
		return 0;
	r->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (r->spare_fd < 0 && (errno == EMFILE || errno == ENFILE))
		return -errno;
	return 0;
}

static void give_up_spare_fd(struct relay *r)
{
	if (r->spare_fd >= 0) {
		close(r->spare_fd);
		r->spare_fd = -1;
	}
}

/* A signal no one sends on purpose: the child crashed */
static bool crash_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	       sig == SIGABRT || sig == SIGSYS || sig == SIGTRAP;
}

static void child_ended(struct relay *r, pid_t pid, int wstatus)
{
	if (WIFSIGNALED(wstatus) && crash_signal(WTERMSIG(wstatus)))
		log_warn("child %ld killed by signal %d (%s)", (long)pid, WTERMSIG(wstatus),
			 strsignal(WTERMSIG(wstatus)));
	else if (WIFSIGNALED(wstatus))
		log_notice("child %ld killed by signal %d (%s)", (long)pid, WTERMSIG(wstatus),
			   strsignal(WTERMSIG(wstatus)));
	else
		log_info("child %ld exited with status %d", (long)pid, WEXITSTATUS(wstatus));
	if (r->mode == MODE_FORK) {
		forget_child(r, pid);
		if (WIFSIGNALED(wstatus) || WEXITSTATUS(wstatus))
			pump_totals.failed++;
	}
}

static void reap(struct relay *r)
{
	int wstatus;
	pid_t pid;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0)
		child_ended(r, pid, wstatus);
	if (r->mode == MODE_FORK && r->max_children && r->nchildren < r->max_children)
		resume_accepting(r);
}

/*
 * About to exit: an EXEC child that closed its end is a moment away from
 * ending (and a fork child that got SIGTERM): wait for them a little, so
 * that how they ended (a crash, say) is said rather than lost.  One still
 * running after CHILD_GRACE is left be.
 */
static void reap_at_exit(struct relay *r)
{
	struct timespec tick = { 0, 10L * 1000 * 1000 };
	double end = util_now() + CHILD_GRACE;
	int wstatus;
	pid_t pid;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) >= 0) {
		if (pid > 0)
			child_ended(r, pid, wstatus);
		else if (util_now() >= end)
			break;
		else
			nanosleep(&tick, NULL);
	}
}

static void signal_event(struct loop *loop, struct loop_watch *w, unsigned events)
{
	struct relay *r = w->arg;
	unsigned char sigs[64];
	ssize_t n;

	while ((n = read(sig_pipe[0], sigs, sizeof(sigs))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			switch (sigs[i]) {
			case SIGTERM:
			case SIGINT:
				log_notice("signal %d: exiting", sigs[i]);
				loop_stop(loop);
				break;
			case SIGCHLD:
				reap(r);
				break;
			case SIGUSR1:
				print_stats(r);
				break;
			}
		}
	}
}

static void pump_done(struct pump *p, int status, void *arg)
{
	struct relay *r = arg;

	if (r->mode == MODE_MULTI) {
		r->active--;
		if (r->max_children && r->active < r->max_children)
			resume_accepting(r);
		return;
	}
	r->status = status;
	loop_stop(r->loop);
}

/* Open RIGHT for a connection on LEFT and start pumping */
static int start_pump(struct relay *r, struct endpoint *left, const struct peer_info *peer)
{
	struct endpoint right;
	int rc;

	if (r->mode == MODE_MULTI && r->right->type->open_async && !r->right->dual &&
	    !r->frames) {
		endpoint_init(&right, r->right);
		rc = r->right->type->open_async(r->right, peer, &right);
	} else {
		rc = addr_open(r->right, peer, &right);
	}
	if (rc < 0) {
		endpoint_close(left);
		return rc;
	}
	/* TLS goes on before the pump starts, which runs the handshakes */
	if ((rc = tls_attach(left)) < 0 || (rc = tls_attach(&right)) < 0) {
		endpoint_close(left);
		endpoint_close(&right);
		return rc;
	}
	if (r->mode == MODE_MULTI)
		r->active++;
	if (r->frames)
		rc = frame_pump_start(r->loop, &r->conf->pump, left, &right, pump_done, r);
	else
		rc = pump_start(r->loop, &r->conf->pump, left, &right, pump_done, r);
	if (rc < 0) {
		log_err("cannot start relaying: %s", strerror(-rc));
		if (r->mode == MODE_MULTI)
			r->active--;
	}
	return rc;
}

static void accepted_endpoint(struct relay *r, int fd, struct endpoint *ep)
{
	endpoint_init(ep, r->left);
	/* sock_accept() made it non-blocking */
	endpoint_set_fd(ep, fd, EP_SOCKET | EP_OWNED_SOCKET | EP_NONBLOCK);
}

static void close_listener(struct relay *r)
{
	give_up_spare_fd(r);
	if (r->lfd < 0)
		return;
	loop_del(r->loop, &r->lwatch);
	loop_timer_cancel(r->loop, &r->resume_timer);
	if (r->left->type->close_listener)
		r->left->type->close_listener(r->left, r->lfd);
	else
		close(r->lfd);
	r->lfd = -1;
}

/* In a fork child: serve one connection, never return */
static void serve_child(struct relay *r, int fd, const struct peer_info *peer)
{
	struct endpoint left;

	/* the parent's epoll set, listener and signal pipe are not ours */
	loop_forget_after_fork(r->loop);
	close(r->lfd);
	r->lfd = -1;
	free(r->children);
	r->children = NULL;
	r->nchildren = 0;
	r->mode = MODE_ONCE;
	memset(&pump_totals, 0, sizeof(pump_totals));
	r->loop = loop_new();
	if (!r->loop || signals_setup() < 0)
		_exit(1);
	r->sigwatch = (struct loop_watch){ .fd = sig_pipe[0], .fn = signal_event, .arg = r };
	loop_add(r->loop, &r->sigwatch, LOOP_IN);
	accepted_endpoint(r, fd, &left);
	r->status = 1;
	if (start_pump(r, &left, peer) == 0 && !util_quit)
		loop_run(r->loop);
	reap_at_exit(r);
	if (r->conf->stats)
		print_stats(r);
	_exit(r->status);
}

static void fork_child(struct relay *r, int fd, const struct peer_info *peer)
{
	pid_t pid;

	if (r->nchildren == r->capchildren) {
		size_t cap = r->capchildren ? r->capchildren * 2 : 64;
		pid_t *c = realloc(r->children, cap * sizeof(*c));

		if (!c) {
			log_err("%s: out of memory: dropping a connection", r->left->text);
			close(fd);
			return;
		}
		r->children = c;
		r->capchildren = cap;
	}
	pid = fork();
	if (pid == 0)
		serve_child(r, fd, peer);
	close(fd);
	if (pid < 0) {
		log_err("%s: fork: %s", r->left->text, strerror(errno));
		return;
	}
	r->children[r->nchildren++] = pid;
	if (r->max_children && r->nchildren >= r->max_children) {
		log_info("%s: %llu children running (max-children): pausing", r->left->text,
			 r->max_children);
		pause_accepting(r);
	}
}

static void resume_timer_fired(struct loop *loop, struct loop_timer *t)
{
	struct relay *r = t->arg;

	/* the spare fd first: without it, no accept */
	if (keep_spare_fd(r) < 0) {
		loop_timer_arm(loop, t, util_now() + EMFILE_PAUSE);
		return;
	}
	resume_accepting(r);
}

/* Out of fds (or memory): stop accepting for a while; new peers wait in
 * the backlog until fds free up */
static void pause_for_fds(struct relay *r, struct loop *loop, int err)
{
	double now = util_now();

	if (now - r->emfile_logged > 1.0) {
		log_warn("%s: accept: %s: pausing", r->left->text, strerror(-err));
		r->emfile_logged = now;
	}
	pause_accepting(r);
	loop_timer_arm(loop, &r->resume_timer, now + EMFILE_PAUSE);
}

static void accept_event(struct loop *loop, struct loop_watch *w, unsigned events)
{
	struct relay *r = w->arg;

	for (int i = 0; i < ACCEPT_BATCH && r->lfd >= 0 && !r->paused; i++) {
		struct peer_info peer = { .addr = "" };
		struct endpoint left;
		int fd, rc;

		if ((rc = keep_spare_fd(r)) < 0) {
			pause_for_fds(r, loop, rc);
			return;
		}
		rc = sock_accept(r->left, r->lfd, &fd, r->want_peer ? &peer : NULL);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK)
			return;
		if (rc == -EACCES || rc == -ECONNABORTED || rc == -EINTR || rc == -EPROTO)
			continue;
		if (rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS || rc == -ENOMEM) {
			pause_for_fds(r, loop, rc);
			return;
		}
		if (rc < 0) {
			log_err("%s: accept: %s", r->left->text, strerror(-rc));
			r->status = 1;
			loop_stop(loop);
			return;
		}
		switch (r->mode) {
		case MODE_FORK:
			fork_child(r, fd, &peer);
			break;
		case MODE_MULTI:
			accepted_endpoint(r, fd, &left);
			give_up_spare_fd(r);
			start_pump(r, &left, &peer);
			/* at the limit: the next round of this loop pauses */
			keep_spare_fd(r);
			if (r->max_children && r->active >= r->max_children)
				pause_accepting(r);
			break;
		case MODE_ONCE:
			close_listener(r);
			accepted_endpoint(r, fd, &left);
			if (start_pump(r, &left, &peer) < 0) {
				r->status = 1;
				loop_stop(loop);
			}
			return;
		}
	}
}

static int run_listener(struct relay *r)
{
	int rc;

	/* what serves every connection of this process (the NAT engine and
	 * its control API) is up before the first peer comes */
	if (r->mode != MODE_FORK && r->right->type->start && r->right->type->start(r->right) < 0)
		return 1;
	/* before "listening on": a test's fd baseline counts the spare */
	keep_spare_fd(r);
	rc = r->left->type->listen(r->left, &r->lfd);
	if (rc < 0)
		return 1;
	util_set_nonblock(r->lfd, true);
	r->lwatch = (struct loop_watch){ .fd = r->lfd, .fn = accept_event, .arg = r };
	loop_timer_init(&r->resume_timer, resume_timer_fired, r);
	if (loop_add(r->loop, &r->lwatch, LOOP_IN) < 0) {
		log_err("%s: cannot watch the listener", r->left->text);
		close_listener(r);
		return 1;
	}
	if (!util_quit)
		loop_run(r->loop);
	close_listener(r);
	if (r->mode == MODE_FORK) {
		for (size_t i = 0; i < r->nchildren; i++)
			kill(r->children[i], SIGTERM);
	}
	return r->status;
}

static int run_once(struct relay *r)
{
	struct endpoint left;

	if (addr_open(r->left, NULL, &left) < 0)
		return 1;
	r->status = 1;
	if (start_pump(r, &left, NULL) < 0)
		return 1;
	if (!util_quit)
		loop_run(r->loop);
	return r->status;
}

/**
 * relay_conf_defaults() - what "vrelay A B" does without global options
 */
void relay_conf_defaults(struct relay_conf *conf)
{
	*conf = (struct relay_conf){
		.pump = { .bufsize = RELAY_DEFAULT_BUFSIZE, .linger = 0.5, .only_dir = -1,
			  .rawfd = { -1, -1 }, .splice = true },
	};
}

/**
 * relay_run() - the relay applet's work once the command line is checked
 * Return: exit status: 0 clean end, 1 runtime failure
 */
int relay_run(const struct relay_conf *conf, struct addr_spec *left, struct addr_spec *right)
{
	struct relay r = { .conf = conf, .left = left, .right = right, .lfd = -1,
			   .spare_fd = -1 };
	int status;

	for (const struct addr_spec *s = right; s; s = s->dual)
		r.want_peer |= (s->type->flags & ADDR_PEER_ENV) != 0;
	r.frames = frame_relay_wanted(left, right);
	if (signals_setup() < 0) {
		log_err("cannot set up signal handling: %s", strerror(errno));
		return 1;
	}
	r.loop = loop_new();
	if (!r.loop) {
		log_err("cannot create the event loop: %s", strerror(errno));
		return 1;
	}
	r.sigwatch = (struct loop_watch){ .fd = sig_pipe[0], .fn = signal_event, .arg = &r };
	loop_add(r.loop, &r.sigwatch, LOOP_IN);

	if (addr_is_listener(left) && !left->dual) {
		if (opt_get_flag(left, &opt_multi, false)) {
			r.mode = MODE_MULTI;
			util_raise_nofile();
		} else if (opt_get_flag(left, &opt_fork, false)) {
			r.mode = MODE_FORK;
		}
		r.max_children = opt_get_num(left, &opt_max_children, 0);
		log_info("%s: serving in %s mode (%s loop)", left->text,
			 r.mode == MODE_MULTI ? "many-connections" :
			 r.mode == MODE_FORK ? "fork" : "single", loop_backend());
		status = run_listener(&r);
	} else {
		status = run_once(&r);
	}
	/* SIGTERM with connections open: end them, so that everything is
	 * closed and freed (and -S counts them) */
	pump_stop_all();
	frame_pump_stop_all();
	reap_at_exit(&r);
	if (conf->stats)
		print_stats(&r);
	loop_free(r.loop);
	pump_release_pools();
	free(r.children);
	/* SIGTERM/SIGINT is a clean end, whatever was cut short */
	return util_quit ? 0 : status;
}
