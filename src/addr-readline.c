/* SPDX-License-Identifier: MIT */
/*
 * addr-readline.c - READLINE: line editing and history on the terminal
 *
 * DOC: Theory of operation
 *
 * READLINE is a layer on standard input and output, not a new fd: GNU
 * readline's callback interface edits a line as keys arrive, and only a
 * finished line, plus "\n", goes to the other address.  The pump drives it
 * through struct endpoint_ops:
 *
 * - read: stdin is readable; feed readline every key that is there (never
 *   waiting for more), then hand out finished lines from a queue.  Lines
 *   left in the queue show through @pending, since stdin no longer does.
 *   Ctrl-D at an empty line is EOF: the other address is half-closed and
 *   its output still comes.
 * - write: the other address's output.  The line being edited is taken
 *   off the screen, the output written, and the line put back with the
 *   cursor where it was, so that output never lands inside the line.
 *
 * The prompt: by default it is the other address's last incomplete line
 * ("ftp> ", "Password: "), as socat does, so that readline can redraw it
 * with the line; prompt=TEXT shows TEXT instead (an incomplete line is
 * then held back until it is complete or the relay ends), and noprompt
 * shows no prompt at all (an incomplete line stays on the screen, and the
 * edited text follows it).
 *
 * readline keeps its state in globals, and its line handler has no
 * argument: there is one READLINE per process (rl_active).  Its signal
 * handlers stay off: SIGINT and SIGTERM are the relay's, which ends the
 * pump, whose close puts the terminal back; a new terminal size is looked
 * for before readline draws.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "addr-types.h"
#include "frame.h"
#include "log.h"
#include "util.h"

#define RL_HISTORY_MAX	500		/* entries kept in memory and in the file */
#define RL_QUEUE_MAX	65536		/* finished lines held before stdin waits */
#define RL_PARTIAL_MAX	1024		/* longest incomplete peer line kept as prompt */

static const struct opt_desc opt_history = { "history", OPT_STRING, 0, 0, 0, "FILE",
	"load the line history from FILE at start and save it there at the end" };
static const struct opt_desc opt_prompt = { "prompt", OPT_STRING, 0, 0, 0, "TEXT",
	"show TEXT as the prompt (default: the peer's last incomplete line)" };
static const struct opt_desc opt_noprompt = { "noprompt", OPT_FLAG, 0, 0, 0, NULL,
	"show no prompt at all, not even the peer's incomplete line" };

static const struct opt_desc *const readline_opts[] = {
	&opt_history, &opt_prompt, &opt_noprompt, NULL,
};

enum rl_prompt_mode {
	RL_PROMPT_PEER,		/* the peer's incomplete line (socat's default) */
	RL_PROMPT_FIXED,	/* prompt=TEXT */
	RL_PROMPT_NONE,		/* noprompt */
};

/* What prepare() makes of the options */
struct rl_conf {
	enum rl_prompt_mode mode;
	const char *prompt;	/* prompt=, owned by the spec */
	const char *history;	/* history=, owned by the spec */
};

/**
 * struct rl_ctx - an open READLINE endpoint
 * @conf:	its options
 * @spec:	its address, for messages
 * @queue:	finished lines, each ending in "\n", not yet read by the pump
 * @qhead, @qlen, @qcap: where they start in @queue, how many bytes, room
 * @partial:	the peer's output after its last "\n", @plen bytes
 * @installed:	readline's line handler is in place (terminal in raw mode)
 * @eof:	Ctrl-D was typed (or stdin ended): no more lines
 * @col0:	our last output to the terminal ended a line
 * @added:	lines added to the history, for append_history()
 */
struct rl_ctx {
	const struct rl_conf *conf;
	const struct addr_spec *spec;
	char *queue;
	size_t qhead, qlen, qcap;
	char partial[RL_PARTIAL_MAX + 1];
	size_t plen;
	bool installed;
	bool eof;
	bool col0;
	int added;
};

/* readline's line handler takes no argument: the one open READLINE */
static struct rl_ctx *rl_active;
/* READLINE addresses on the command line: readline is one per process */
static unsigned rl_specs;

/* ---- terminal output ---------------------------------------------------- */

/*
 * A resized terminal: readline's own SIGWINCH handler is off with the
 * rest (it would be installed only while a key is read), so look each time
 * readline is about to draw; it then redraws the line for the new width.
 */
static void rl_check_size(void)
{
	struct winsize ws;
	int rows, cols;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || !ws.ws_col)
		return;
	rl_get_screen_size(&rows, &cols);
	if (ws.ws_col != cols || ws.ws_row != rows)
		rl_resize_terminal();
}

/* The prompt readline shows now, in @c's mode */
static const char *rl_current_prompt(const struct rl_ctx *c)
{
	switch (c->conf->mode) {
	case RL_PROMPT_PEER:
		return c->partial;
	case RL_PROMPT_FIXED:
		return c->conf->prompt;
	case RL_PROMPT_NONE:
		break;
	}
	return "";
}

/* noprompt: the peer's incomplete line is on the screen as it came, not
 * drawn by readline as its prompt nor held back behind prompt= */
static bool rl_partial_printed(const struct rl_ctx *c)
{
	return c->conf->mode == RL_PROMPT_NONE;
}

/*
 * Print the peer's @buf, whatever the terminal shows.  With the line
 * handler installed, readline's line (prompt and text) comes off the
 * screen first and goes back after, where readline expects it.
 */
static int rl_show_output(struct rl_ctx *c, const char *buf, size_t len)
{
	const char *nl = memrchr(buf, '\n', len);
	size_t head = nl ? (size_t)(nl + 1 - buf) : 0;	/* ends a line */
	size_t tail = len - head;			/* does not */
	size_t keep = (nl ? 0 : c->plen) + tail;	/* the next incomplete line */
	char *line;
	int point, rc = 0;

	if (!c->installed) {
		rc = util_write_all(STDOUT_FILENO, buf, len);
		if (len)
			c->col0 = buf[len - 1] == '\n';
		return rc;
	}
	rl_check_size();
	line = rl_copy_text(0, rl_end);
	point = rl_point;
	/* this clears from column 0, so an incomplete line we printed goes
	 * too: it is printed again below */
	rl_clear_visible_line();
	fflush(rl_outstream);
	if (rl_partial_printed(c) || nl)
		rc = util_write_all(STDOUT_FILENO, c->partial, c->plen);
	if (rc == 0)
		rc = util_write_all(STDOUT_FILENO, buf, rl_partial_printed(c) ? len : head);
	if (keep > RL_PARTIAL_MAX) {
		/* too long for a prompt: print it and let it go */
		if (rc == 0 && !rl_partial_printed(c) && !nl)
			rc = util_write_all(STDOUT_FILENO, c->partial, c->plen);
		if (rc == 0 && !rl_partial_printed(c))
			rc = util_write_all(STDOUT_FILENO, buf + head, tail);
		c->plen = 0;
	} else {
		if (nl)
			c->plen = 0;
		memcpy(c->partial + c->plen, buf + head, tail);
		c->plen += tail;
	}
	c->partial[c->plen] = '\0';
	if (c->conf->mode == RL_PROMPT_PEER)
		rl_set_prompt(c->partial);
	rl_on_new_line();
	rl_replace_line(line ? line : "", 0);
	rl_point = point <= rl_end ? point : rl_end;
	rl_redisplay();
	free(line);
	return rc;
}

/* Take readline off the terminal: the line handler goes, the terminal is
 * restored, and what the peer left incomplete is shown */
static void rl_stop_editing(struct rl_ctx *c)
{
	if (!c->installed)
		return;
	rl_clear_visible_line();
	rl_callback_handler_remove();
	c->installed = false;
	fflush(rl_outstream);
	c->col0 = !c->plen;
	if (c->plen)
		util_write_all(STDOUT_FILENO, c->partial, c->plen);
	c->plen = 0;
	c->partial[0] = '\0';
}

/* ---- lines -------------------------------------------------------------- */

static int rl_queue_line(struct rl_ctx *c, const char *line)
{
	size_t n = strlen(line);

	if (c->qhead && c->qhead + c->qlen + n + 1 > c->qcap) {
		memmove(c->queue, c->queue + c->qhead, c->qlen);
		c->qhead = 0;
	}
	if (c->qlen + n + 1 > c->qcap) {
		size_t cap = c->qcap ? c->qcap : 256;
		char *q;

		while (cap < c->qlen + n + 1)
			cap *= 2;
		q = realloc(c->queue, cap);
		if (!q)
			return -ENOMEM;
		c->queue = q;
		c->qcap = cap;
	}
	memcpy(c->queue + c->qhead + c->qlen, line, n);
	c->queue[c->qhead + c->qlen + n] = '\n';
	c->qlen += n + 1;
	return 0;
}

/* readline's line handler: a finished line, or NULL at EOF */
static void rl_line_done(char *line)
{
	struct rl_ctx *c = rl_active;

	if (!c) {
		free(line);
		return;
	}
	if (!line) {
		c->eof = true;
		rl_stop_editing(c);
		return;
	}
	if (*line) {
		add_history(line);
		c->added++;
	}
	if (rl_queue_line(c, line) < 0) {
		log_err("%s: out of memory: line dropped", c->spec->text);
		c->eof = true;
	}
	free(line);
	/* the answer was typed: the peer's incomplete line is used up, the
	 * next prompt comes from the peer again */
	c->plen = 0;
	c->partial[0] = '\0';
	c->col0 = true;
	if (c->conf->mode == RL_PROMPT_PEER)
		rl_set_prompt("");
}

/* ---- endpoint ops ------------------------------------------------------- */

static bool stdin_has_input(void)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };

	/* POLLHUP and POLLERR count: readline's read then says EOF */
	return poll(&pfd, 1, 0) > 0;
}

static ssize_t readline_read(struct endpoint *ep, void *buf, size_t len)
{
	struct rl_ctx *c = ep->priv;
	size_t n;

	if (c->installed && !c->eof)
		rl_check_size();
	/* every key that is there, but never a wait for the next one */
	while (c->installed && !c->eof && c->qlen < RL_QUEUE_MAX && stdin_has_input())
		rl_callback_read_char();
	if (c->qlen) {
		n = c->qlen < len ? c->qlen : len;
		memcpy(buf, c->queue + c->qhead, n);
		c->qhead += n;
		c->qlen -= n;
		if (!c->qlen)
			c->qhead = 0;
		return (ssize_t)n;
	}
	return c->eof ? 0 : -EAGAIN;
}

static bool readline_pending(const struct endpoint *ep)
{
	const struct rl_ctx *c = ep->priv;

	return c->qlen > 0 || c->eof;
}

static ssize_t readline_write(struct endpoint *ep, const void *buf, size_t len)
{
	struct rl_ctx *c = ep->priv;
	int rc;

	rc = rl_show_output(c, buf, len);
	return rc < 0 ? rc : (ssize_t)len;
}

/* A terminal has no half-close: the user still reads what comes */
static int readline_shutdown_wr(struct endpoint *ep)
{
	return 0;
}

static void rl_save_history(struct rl_ctx *c)
{
	const char *file = c->conf->history;
	int n = c->added < history_length ? c->added : history_length;
	int rc;

	if (!file || n <= 0)
		return;
	/* append and trim, as bash does: two sessions at once both keep
	 * their lines */
	if (access(file, F_OK) == 0)
		rc = append_history(n, file);
	else
		rc = write_history(file);
	if (rc == 0)
		rc = history_truncate_file(file, RL_HISTORY_MAX);
	if (rc)
		log_warn("%s: history: cannot write %s: %s", c->spec->text, file, strerror(rc));
}

static void readline_close(struct endpoint *ep)
{
	struct rl_ctx *c = ep->priv;

	if (!c)
		return;
	rl_stop_editing(c);
	/* the shell's prompt must not start behind ours */
	if (!c->col0)
		util_write_all(STDOUT_FILENO, "\n", 1);
	rl_save_history(c);
	clear_history();
	free(c->queue);
	free(c);
	rl_active = NULL;
	ep->priv = NULL;
	ep->ops = NULL;
}

static const struct endpoint_ops readline_ops = {
	.read = readline_read,
	.write = readline_write,
	.shutdown_wr = readline_shutdown_wr,
	.close = readline_close,
	.pending = readline_pending,
};

/* ---- the address type --------------------------------------------------- */

static int readline_prepare(struct addr_spec *spec, struct errbuf *err)
{
	struct rl_conf *conf;

	if (opt_find(spec, &opt_prompt) && opt_get_flag(spec, &opt_noprompt, false))
		return err_set(err, "prompt= and noprompt: choose one");
	if (!isatty(STDIN_FILENO))
		return err_set(err, "stdin is not a terminal (use STDIO or -)");
	if (rl_specs)
		return err_set(err, "only one READLINE per relay: there is one terminal");
	conf = calloc(1, sizeof(*conf));
	if (!conf)
		return err_set(err, "out of memory");
	conf->history = opt_get_str(spec, &opt_history);
	conf->prompt = opt_get_str(spec, &opt_prompt);
	if (conf->prompt)
		conf->mode = RL_PROMPT_FIXED;
	else if (opt_get_flag(spec, &opt_noprompt, false))
		conf->mode = RL_PROMPT_NONE;
	spec->priv = conf;
	rl_specs++;
	return 0;
}

static int readline_open(struct addr_spec *spec, const struct peer_info *peer,
			 struct endpoint *ep)
{
	const struct rl_conf *conf = spec->priv;
	struct rl_ctx *c;
	int rc;

	/* the many-connections mode could open it twice in one process */
	if (rl_active) {
		log_err("%s: the terminal is already in use by another connection", spec->text);
		return -EBUSY;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_err("%s: out of memory", spec->text);
		return -ENOMEM;
	}
	c->conf = conf;
	c->spec = spec;
	c->col0 = true;

	rl_readline_name = "vrelay";	/* "$if vrelay" in ~/.inputrc */
	rl_instream = stdin;
	rl_outstream = stdout;
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;		/* see rl_check_size() */
	rl_change_environment = 0;	/* no LINES/COLUMNS for EXEC children */
	/* a tab goes to the peer; local file names mean nothing there (an
	 * inputrc may bind it otherwise) */
	rl_bind_key('\t', rl_insert);

	using_history();
	stifle_history(RL_HISTORY_MAX);
	if (conf->history) {
		rc = read_history(conf->history);
		if (rc && rc != ENOENT)
			log_warn("%s: history: cannot read %s: %s", spec->text, conf->history,
				 strerror(rc));
	}

	rl_active = c;
	rl_callback_handler_install(rl_current_prompt(c), rl_line_done);
	c->installed = true;

	ep->rfd = STDIN_FILENO;
	ep->wfd = STDOUT_FILENO;
	/* the terminal stays blocking: readline draws with stdio, which loses
	 * output on EAGAIN, and reads keys with read(2), which would take
	 * EAGAIN for EOF; the pump leaves EP_NONBLOCK fds as they are */
	ep->flags |= EP_NONBLOCK;
	ep->ops = &readline_ops;
	ep->priv = c;
	return 0;
}

static void readline_cleanup(struct addr_spec *spec)
{
	if (!spec->priv)
		return;
	free(spec->priv);
	spec->priv = NULL;
	rl_specs--;
}

const struct addr_type addr_readline = {
	.name = "READLINE",
	.flags = ADDR_OWN_LAYER,
	.summary = "line editing and history on the terminal",
	.opts = { readline_opts },
	.prepare = readline_prepare,
	.open = readline_open,
	.cleanup = readline_cleanup,
};
