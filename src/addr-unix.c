/* SPDX-License-Identifier: MIT */
/*
 * addr-unix.c - UNIX-CONNECT, UNIX-LISTEN and their abstract-namespace
 *		 twins ABSTRACT-CONNECT, ABSTRACT-LISTEN
 *
 * Paths are checked against sun_path's size in prepare(): the kernel would
 * cut a longer one short, or refuse it with a less helpful message.  A
 * listener's socket file is removed when it closes (unlink-close, on by
 * default as in socat), and only by the process that made it, never by a
 * fork child.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr-types.h"
#include "addr-unix.h"
#include "log.h"
#include "sock.h"

#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static const struct opt_desc opt_unlink_early = { "unlink-early", OPT_FLAG, 0, 0, 0, NULL,
	"remove an existing file at the path before listening" };
static const struct opt_desc opt_unlink_close = { "unlink-close", OPT_FLAG, 0, 0, 0, NULL,
	"remove the socket file when done (default on; unlink-close=0 keeps it)" };
static const struct opt_desc opt_mode = { "mode", OPT_MODE, 0, 0, 0, "OCTAL",
	"permissions of the socket file, e.g. 0600" };
static const struct opt_desc opt_user = { "user", OPT_STRING, 0, 0, 0, "USER",
	"owner of the socket file (name or number)" };
static const struct opt_desc opt_group = { "group", OPT_STRING, 0, 0, 0, "GROUP",
	"group of the socket file (name or number)" };

const struct opt_desc *const unix_listen_opts[] = {
	&opt_unlink_early, &opt_unlink_close, &opt_mode, &opt_user, &opt_group, NULL,
};
/* no connect-timeout: a unix connect succeeds or fails at once (or waits
 * for room in a full backlog, which a time-out would not help) */
const struct opt_desc *const unix_connect_opts[] = {
	&opt_retry, &opt_interval, &opt_forever, NULL,
};

struct unix_ids {
	uid_t uid;
	gid_t gid;
};

static bool is_abstract(const struct addr_type *t)
{
	return t == &addr_abstract_connect || t == &addr_abstract_listen;
}

static int resolve_ids(const struct addr_spec *spec, struct unix_ids *ids, struct errbuf *err)
{
	const char *user = opt_get_str(spec, &opt_user), *group = opt_get_str(spec, &opt_group);
	unsigned long long v;

	ids->uid = (uid_t)-1;
	ids->gid = (gid_t)-1;
	if (user) {
		struct passwd *pw = getpwnam(user);

		if (pw)
			ids->uid = pw->pw_uid;
		else if (util_parse_uint(user, 0, 0x7fffffff, &v) == 0)
			ids->uid = (uid_t)v;
		else
			return err_set(err, "user: no such user \"%s\"", user);
	}
	if (group) {
		struct group *gr = getgrnam(group);

		if (gr)
			ids->gid = gr->gr_gid;
		else if (util_parse_uint(group, 0, 0x7fffffff, &v) == 0)
			ids->gid = (gid_t)v;
		else
			return err_set(err, "group: no such group \"%s\"", group);
	}
	return 0;
}

static int unix_resolve(const struct addr_spec *spec, struct sock_target **out, size_t *n)
{
	const struct sock_priv *p = spec->priv;

	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(&(*out)->sa, &p->sa, p->salen);
	(*out)->len = p->salen;
	*n = 1;
	return 0;
}

/**
 * unix_prepare_path() - set up @spec's sock_priv for the unix socket
 *			 @path (a file, or an abstract name)
 * @listener:	also check that the directory exists: binding in a missing
 *		one is a usage error, not a runtime one
 * Return: 0, or -EINVAL with the message in @err
 */
int unix_prepare_path(struct addr_spec *spec, const char *path, bool abstract,
		      bool listener, struct errbuf *err)
{
	struct sock_priv *p = sock_priv_new(spec, err);
	struct sockaddr_un *un;
	size_t len = strlen(path);
	struct unix_ids ids;

	if (!p)
		return -ENOMEM;
	un = (struct sockaddr_un *)&p->sa;
	p->family = AF_UNIX;
	p->resolve = unix_resolve;
	if (len == 0)
		return err_set(err, "%s: empty", abstract ? "name" : "path");
	if (len > SUN_PATH_MAX - abstract)
		return err_set(err, "%s: too long (%zu bytes, at most %zu): \"%s\"",
			       abstract ? "name" : "path", len, SUN_PATH_MAX - abstract, path);
	/* only a file has a path to chmod and unlink */
	if (!abstract && !(p->path = strdup(path)))
		return err_set(err, "out of memory");
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path + abstract, path, len);
	/* abstract names are counted bytes, not NUL-terminated strings */
	p->salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + len +
			       (abstract ? 0 : 1));
	if (resolve_ids(spec, &ids, err) < 0)
		return -EINVAL;
	if (listener && !abstract) {
		char *copy = strdup(path);
		struct stat st;
		const char *dir = copy ? dirname(copy) : ".";
		int bad = stat(dir, &st) < 0 || !S_ISDIR(st.st_mode);

		if (bad)
			err_set(err, "path: directory \"%s\" does not exist", dir);
		free(copy);
		if (bad)
			return -EINVAL;
	}
	p->targets = calloc(1, sizeof(*p->targets));
	if (!p->targets)
		return err_set(err, "out of memory");
	memcpy(&p->targets[0].sa, &p->sa, p->salen);
	p->targets[0].len = p->salen;
	p->ntargets = 1;
	return 0;
}

static int unix_prepare(struct addr_spec *spec, struct errbuf *err)
{
	return unix_prepare_path(spec, spec->params[0], is_abstract(spec->type),
				 addr_is_listener(spec), err);
}

int unix_connect_open(struct addr_spec *spec, const struct peer_info *peer,
			     struct endpoint *ep)
{
	return sock_connect(spec, false, ep);
}

int unix_listen(struct addr_spec *spec, int *fd)
{
	struct sock_priv *p = spec->priv;
	const char *path = p->path;
	const struct opt_value *mode = opt_find(spec, &opt_mode);
	struct unix_ids ids;
	struct errbuf err;
	mode_t old = 0;
	int rc;

	if (!path)
		return sock_listen_on(spec, (struct sockaddr *)&p->sa, p->salen, p->socktype, fd);
	if (opt_get_flag(spec, &opt_unlink_early, false) && unlink(path) == 0)
		log_info("%s: removed the old %s", spec->text, path);
	/* nobody may connect before mode= is applied */
	if (mode)
		old = umask(0177);
	rc = sock_listen_on(spec, (struct sockaddr *)&p->sa, p->salen, p->socktype, fd);
	if (mode)
		umask(old);
	if (rc < 0)
		return rc;
	if (mode && chmod(path, (mode_t)mode->num) < 0)
		log_warn("%s: chmod %s: %s", spec->text, path, strerror(errno));
	resolve_ids(spec, &ids, &err);
	if ((ids.uid != (uid_t)-1 || ids.gid != (gid_t)-1) && chown(path, ids.uid, ids.gid) < 0)
		log_warn("%s: chown %s: %s", spec->text, path, strerror(errno));
	return 0;
}

void unix_close_listener(const struct addr_spec *spec, int fd)
{
	const struct sock_priv *p = spec->priv;

	close(fd);
	if (p->path && opt_get_flag(spec, &opt_unlink_close, true) && unlink(p->path) == 0)
		log_info("%s: removed %s", spec->text, p->path);
}

const struct addr_type addr_unix_connect = {
	.name = "UNIX-CONNECT",
	.aliases = { "UNIX" },
	.params = "path",
	.nparams = 1,
	.summary = "connect to a unix stream socket",
	.opts = { unix_connect_opts, sock_buf_opts },
	.prepare = unix_prepare,
	.open = unix_connect_open,
	.cleanup = sock_priv_free,
};

const struct addr_type addr_unix_listen = {
	.name = "UNIX-LISTEN",
	.aliases = { "UNIX-L" },
	.params = "path",
	.nparams = 1,
	.flags = ADDR_LISTEN,
	.summary = "listen on a unix stream socket",
	.opts = { sock_listen_opts, unix_listen_opts, sock_buf_opts },
	.prepare = unix_prepare,
	.listen = unix_listen,
	.accepted = sock_accepted,
	.close_listener = unix_close_listener,
	.cleanup = sock_priv_free,
};

const struct addr_type addr_abstract_connect = {
	.name = "ABSTRACT-CONNECT",
	.aliases = { "ABSTRACT" },
	.params = "name",
	.nparams = 1,
	.summary = "connect to a socket in Linux's abstract unix namespace",
	.opts = { unix_connect_opts, sock_buf_opts },
	.prepare = unix_prepare,
	.open = unix_connect_open,
	.cleanup = sock_priv_free,
};

const struct addr_type addr_abstract_listen = {
	.name = "ABSTRACT-LISTEN",
	.aliases = { "ABSTRACT-L" },
	.params = "name",
	.nparams = 1,
	.flags = ADDR_LISTEN,
	.summary = "listen in Linux's abstract unix namespace",
	.opts = { sock_listen_opts, sock_buf_opts },
	.prepare = unix_prepare,
	.listen = unix_listen,
	.accepted = sock_accepted,
	.close_listener = unix_close_listener,
	.cleanup = sock_priv_free,
};
