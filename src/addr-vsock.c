/* SPDX-License-Identifier: MIT */
/*
 * addr-vsock.c - VSOCK-CONNECT:cid:port and VSOCK-LISTEN:port (AF_VSOCK)
 *
 * CIDs and ports are both u32.  CIDs may be named: hypervisor (0), local
 * (1, loopback; Linux >= 5.6 with vsock_loopback), host (2), any.  range=
 * on a listener is an allow-list of peer CIDs ("3-10,42"), which is how a
 * host can serve some guests and not others.  buffer-size= sets
 * SO_VM_SOCKETS_BUFFER_SIZE (and the maximum, which caps it).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef HAVE_LINUX_VM_SOCKETS_H
#include <linux/vm_sockets.h>
#endif

#include "addr-types.h"
#include "addr-vsock.h"
#include "log.h"
#include "sock.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static const struct opt_desc opt_buffer_size = { "buffer-size", OPT_SIZE, 0, 4096, 1ULL << 31,
	"BYTES", "SO_VM_SOCKETS_BUFFER_SIZE (and its maximum) for the connection" };
static const struct opt_desc opt_vsock_bind = { "bind", OPT_STRING, 0, 0, 0, "[CID][:PORT]",
	"local CID (listeners), or CID and/or port to connect from" };
static const struct opt_desc opt_vsock_range = { "range", OPT_STRING, OPTF_LIST, 0, 0, "CIDS",
	"accept only peers with these CIDs: N or N-M entries, comma-separated" };

const struct opt_desc *const vsock_connect_opts[] = {
	&opt_connect_timeout, &opt_retry, &opt_interval, &opt_forever, &opt_vsock_bind,
	&opt_buffer_size, NULL,
};
const struct opt_desc *const vsock_listen_opts[] = {
	&opt_fork, &opt_multi, &opt_max_children, &opt_backlog, &opt_vsock_bind,
	&opt_vsock_range, &opt_buffer_size, NULL,
};

static const struct { const char *name; uint32_t cid; } cid_names[] = {
	{ "hypervisor", VSOCK_CID_HYPERVISOR },
	{ "local", VSOCK_CID_LOCAL },
	{ "host", VSOCK_CID_HOST },
	{ "any", VSOCK_CID_ANY },
};

/**
 * vsock_parse_cid() - a CID number (0..4294967295) or name
 */
int vsock_parse_cid(const char *text, uint32_t *cid, struct errbuf *err)
{
	unsigned long long v;
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(cid_names); i++) {
		if (!strcasecmp(text, cid_names[i].name)) {
			*cid = cid_names[i].cid;
			return 0;
		}
	}
	rc = util_parse_uint(text, 0, 0xffffffffULL, &v);
	if (rc == -ERANGE)
		return err_set(err, "cid: out of range (0..4294967295)");
	if (rc)
		return err_set(err, "cid: invalid \"%s\" (a number, or host, local, any, hypervisor)",
			       text);
	*cid = (uint32_t)v;
	return 0;
}

/**
 * vsock_vsock_parse_port() - a vsock port: a u32, as every vsock-like family has
 */
int vsock_parse_port(const char *text, uint32_t *port, struct errbuf *err)
{
	unsigned long long v;

	if (util_check_number(err, "port", text, 0, 0xffffffffULL, &v) < 0)
		return -EINVAL;
	*port = (uint32_t)v;
	return 0;
}

static void fill_sa(struct sockaddr_storage *ss, socklen_t *len, uint32_t cid, uint32_t port)
{
	struct sockaddr_vm *vm = (struct sockaddr_vm *)ss;

	memset(ss, 0, sizeof(*ss));
	vm->svm_family = AF_VSOCK;
	vm->svm_cid = cid;
	vm->svm_port = port;
	*len = sizeof(*vm);
}

/* "3-10,42,host" */
int vsock_parse_cid_ranges(struct sock_priv *p, const char *text, struct errbuf *err)
{
	char *copy = strdup(text), *save = NULL, *item;
	size_t count = 1;
	int rc = 0;

	for (const char *c = text; *c; c++)
		count += *c == ',';
	p->cids = calloc(count, sizeof(*p->cids));
	if (!copy || !p->cids) {
		free(copy);
		return err_set(err, "out of memory");
	}
	for (item = strtok_r(copy, ",", &save); item && !rc; item = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(item, '-');
		uint32_t lo, hi;

		if (dash)
			*dash = '\0';
		rc = vsock_parse_cid(item, &lo, err);
		hi = lo;
		if (!rc && dash)
			rc = vsock_parse_cid(dash + 1, &hi, err);
		if (!rc && hi < lo)
			rc = err_set(err, "%u-%u is empty", lo, hi);
		if (!rc) {
			p->cids[p->ncids][0] = lo;
			p->cids[p->ncids++][1] = hi;
		}
	}
	free(copy);
	return rc ? err_prefix(err, "range") : 0;
}

static void log_local_cid(const struct addr_spec *spec)
{
#ifdef IOCTL_VM_SOCKETS_GET_LOCAL_CID
	unsigned int cid;
	int fd;

	if (!log_enabled(LOG_LVL_NOTICE) || getenv("VRELAY_FORBID_VSOCK"))
		return;
	/* an ioctl on /dev/vsock only asks the local transport; it connects
	 * nowhere */
	fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_notice("%s: no /dev/vsock: %s", spec->text, strerror(errno));
		return;
	}
	if (ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) == 0)
		log_notice("%s: local CID is %u", spec->text, cid);
	close(fd);
#endif
}

static void vsock_apply(const struct addr_spec *spec, int fd)
{
	const struct opt_value *v = opt_find(spec, &opt_buffer_size);
	unsigned long long size;

	if (!v)
		return;
	size = v->num;
	/* the maximum first, or the kernel clamps the size to the old one */
	if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &size, sizeof(size)) < 0 ||
	    setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &size, sizeof(size)) < 0)
		log_warn("%s: buffer-size: %s", spec->text, strerror(errno));
}

static int vsock_resolve(const struct addr_spec *spec, struct sock_target **out, size_t *n)
{
	const struct sock_priv *p = spec->priv;

	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	**out = p->targets[0];
	*n = 1;
	return 0;
}

/**
 * vsock_setup() - the sock_priv of a vsock address: the peer (connect) or
 *		   the port to listen on, bind= and range=
 */
int vsock_setup(struct addr_spec *spec, uint32_t cid, uint32_t port, struct errbuf *err)
{
	struct sock_priv *p = sock_priv_new(spec, err);
	const char *bind = opt_get_str(spec, &opt_vsock_bind);
	const char *range = opt_get_str(spec, &opt_vsock_range);

	if (!p)
		return -ENOMEM;
	p->family = AF_VSOCK;
	p->apply = vsock_apply;
	p->resolve = vsock_resolve;
	p->targets = calloc(1, sizeof(*p->targets));
	if (!p->targets)
		return err_set(err, "out of memory");
	p->ntargets = 1;
	if (addr_is_listener(spec)) {
		uint32_t bcid = VSOCK_CID_ANY;

		if (bind && strchr(bind, ':'))
			return err_set(err, "bind: a listener takes its port from the address; "
				       "bind= gives only the CID");
		if (bind && *bind && vsock_parse_cid(bind, &bcid, err) < 0)
			return err_prefix(err, "bind");
		fill_sa(&p->sa, &p->salen, bcid, port);
	} else {
		fill_sa(&p->targets[0].sa, &p->targets[0].len, cid, port);
		if (bind) {
			char *copy = strdup(bind), *colon = copy ? strchr(copy, ':') : NULL;
			uint32_t bcid = VSOCK_CID_ANY, bport = 0xffffffffu;
			int rc = 0;

			if (!copy)
				return err_set(err, "out of memory");
			if (colon)
				*colon = '\0';
			if (*copy)
				rc = vsock_parse_cid(copy, &bcid, err);
			if (!rc && colon)
				rc = vsock_parse_port(colon + 1, &bport, err);
			free(copy);
			if (rc)
				return err_prefix(err, "bind");
			fill_sa(&p->bind, &p->bindlen, bcid, bport);
		}
	}
	if (range && vsock_parse_cid_ranges(p, range, err) < 0)
		return -EINVAL;
	return 0;
}

/**
 * vsock_allow_only() - restrict a listener's peers to @cid (HVSOCK-LISTEN
 *			with a VmId other than wildcard); with range= too, the
 *			CID must be in it: both limits hold
 */
int vsock_allow_only(struct addr_spec *spec, uint32_t cid, struct errbuf *err)
{
	struct sock_priv *p = spec->priv;
	bool in_range = p->ncids == 0;

	for (size_t i = 0; i < p->ncids; i++)
		if (cid >= p->cids[i][0] && cid <= p->cids[i][1])
			in_range = true;
	if (!in_range)
		return err_set(err, "range: the VmId's CID %u is not in it: no peer could connect", cid);
	free(p->cids);
	p->cids = calloc(1, sizeof(*p->cids));
	if (!p->cids)
		return err_set(err, "out of memory");
	p->cids[0][0] = p->cids[0][1] = cid;
	p->ncids = 1;
	return 0;
}

static int vsock_connect_prepare(struct addr_spec *spec, struct errbuf *err)
{
	uint32_t cid, port;

	if (vsock_parse_cid(spec->params[0], &cid, err) < 0 ||
	    vsock_parse_port(spec->params[1], &port, err) < 0)
		return -EINVAL;
	if (cid == VSOCK_CID_ANY)
		return err_set(err, "cid: \"any\" is for listening; connect to a CID");
	return vsock_setup(spec, cid, port, err);
}

static int vsock_listen_prepare(struct addr_spec *spec, struct errbuf *err)
{
	uint32_t port;

	if (vsock_parse_port(spec->params[0], &port, err) < 0)
		return -EINVAL;
	return vsock_setup(spec, VSOCK_CID_ANY, port, err);
}

/*
 * A machine that is itself a VM may have a /dev/vsock that leads to its
 * own infrastructure.  VRELAY_FORBID_VSOCK makes every AF_VSOCK open
 * refuse there; the project's host-side tests set it, so a test that
 * reached for vsock by mistake fails instead of touching the host.
 */
static int vsock_forbidden(const struct addr_spec *spec)
{
	if (!getenv("VRELAY_FORBID_VSOCK"))
		return 0;
	log_err("%s: AF_VSOCK is forbidden here (VRELAY_FORBID_VSOCK is set)", spec->text);
	return -EPERM;
}

int vsock_connect_open(struct addr_spec *spec, const struct peer_info *peer,
		       struct endpoint *ep)
{
	if (vsock_forbidden(spec))
		return -EPERM;
	log_local_cid(spec);
	return sock_connect(spec, false, ep);
}

int vsock_connect_open_async(struct addr_spec *spec, const struct peer_info *peer,
			     struct endpoint *ep)
{
	if (vsock_forbidden(spec))
		return -EPERM;
	return sock_connect(spec, true, ep);
}

int vsock_listen(struct addr_spec *spec, int *fd)
{
	struct sock_priv *p = spec->priv;

	if (vsock_forbidden(spec))
		return -EPERM;
	log_local_cid(spec);
	return sock_listen_on(spec, (struct sockaddr *)&p->sa, p->salen, SOCK_STREAM, fd);
}

bool vsock_peer_allowed(const struct addr_spec *spec, const struct sockaddr *sa,
			socklen_t len)
{
	const struct sock_priv *p = spec->priv;
	uint32_t cid;

	if (!p->ncids)
		return true;
	if (sa->sa_family != AF_VSOCK)
		return false;
	cid = ((const struct sockaddr_vm *)(const void *)sa)->svm_cid;
	for (size_t i = 0; i < p->ncids; i++)
		if (cid >= p->cids[i][0] && cid <= p->cids[i][1])
			return true;
	return false;
}

const struct addr_type addr_vsock_connect = {
	.name = "VSOCK-CONNECT",
	.aliases = { "VSOCK" },
	.params = "cid:port",
	.nparams = 2,
	.summary = "connect to an AF_VSOCK port of a VM (or the host: cid 2)",
	.opts = { vsock_connect_opts },
	.prepare = vsock_connect_prepare,
	.open = vsock_connect_open,
	.open_async = vsock_connect_open_async,
	.cleanup = sock_priv_free,
};

const struct addr_type addr_vsock_listen = {
	.name = "VSOCK-LISTEN",
	.aliases = { "VSOCK-L" },
	.params = "port",
	.nparams = 1,
	.flags = ADDR_LISTEN,
	.summary = "listen on an AF_VSOCK port",
	.opts = { vsock_listen_opts },
	.prepare = vsock_listen_prepare,
	.listen = vsock_listen,
	.peer_allowed = vsock_peer_allowed,
	.accepted = sock_accepted,
	.cleanup = sock_priv_free,
};
