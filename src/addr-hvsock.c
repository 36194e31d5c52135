/* SPDX-License-Identifier: MIT */
/*
 * addr-hvsock.c - HVSOCK:vmid:service and HVSOCK-LISTEN:vmid:service
 *
 * Hyper-V sockets name a VM by GUID and a service by GUID.  In a Linux
 * guest on Hyper-V they are AF_VSOCK (hv_sock), so these types translate:
 * VmId parent -> CID 2, loopback -> CID 1, wildcard -> any; a service
 * GUID of the template XXXXXXXX-FACB-11E6-BD58-64006A7986D3 -> vsock port
 * XXXXXXXX (a plain port number is accepted too).  Anything that has no
 * vsock meaning is an error that says why.  A listener with a VmId other
 * than wildcard accepts only that peer.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr-types.h"
#include "addr-vsock.h"
#include "hvsock-guid.h"
#include "sock.h"

static int parse_vmid(const char *text, uint32_t *cid, struct errbuf *err)
{
	struct hv_guid g;
	const char *name;

	if (hv_vmid_by_name(text, &g) < 0 && hv_guid_parse(text, &g) < 0)
		return err_set(err, "vmid: \"%s\" is neither a GUID (8-4-4-4-12 hex) nor "
			       "wildcard, children, loopback or parent", text);
	name = hv_vmid_name(&g);
	if (!name || !strcmp(name, "children")) {
		char buf[HV_GUID_STRLEN];

		hv_guid_format(&g, buf);
		return err_set(err, "vmid: %s%s%s names a VM on a Windows host; on Linux, "
			       "Hyper-V sockets are AF_VSOCK and only wildcard, loopback and "
			       "parent have a vsock CID", buf, name ? " = " : "", name ? name : "");
	}
	if (!strcmp(name, "parent"))
		*cid = VSOCK_CID_HOST;
	else if (!strcmp(name, "loopback"))
		*cid = VSOCK_CID_LOCAL;
	else
		*cid = VSOCK_CID_ANY;
	return 0;
}

static int parse_service(const char *text, uint32_t *port, struct errbuf *err)
{
	struct hv_guid g;
	unsigned long long v;

	if (hv_guid_parse(text, &g) == 0) {
		if (hv_service_to_port(&g, port))
			return 0;
		char buf[HV_GUID_STRLEN];

		hv_guid_format(&g, buf);
		return err_set(err, "service: %s is not a vsock port: on Linux a service GUID "
			       "must be XXXXXXXX-facb-11e6-bd58-64006a7986d3", buf);
	}
	if (util_parse_uint(text, 0, 0xffffffffULL, &v) == 0) {
		*port = (uint32_t)v;
		return 0;
	}
	return err_set(err, "service: \"%s\" is neither a GUID (8-4-4-4-12 hex) nor a vsock port",
		       text);
}

static int hvsock_prepare(struct addr_spec *spec, struct errbuf *err)
{
	uint32_t cid = VSOCK_CID_ANY, port = 0;

	if (parse_vmid(spec->params[0], &cid, err) < 0 ||
	    parse_service(spec->params[1], &port, err) < 0)
		return -EINVAL;
	if (!addr_is_listener(spec)) {
		if (cid == VSOCK_CID_ANY)
			return err_set(err, "vmid: wildcard is for listening; connect to parent "
				       "or loopback");
		return vsock_setup(spec, cid, port, err);
	}
	if (vsock_setup(spec, VSOCK_CID_ANY, port, err) < 0)
		return -EINVAL;
	return cid == VSOCK_CID_ANY ? 0 : vsock_allow_only(spec, cid, err);
}

const struct addr_type addr_hvsock_connect = {
	.name = "HVSOCK",
	.aliases = { "HVSOCK-CONNECT" },
	.params = "vmid:service",
	.nparams = 2,
	.summary = "Hyper-V socket by GUID (AF_VSOCK in a Linux guest)",
	.opts = { vsock_connect_opts },
	.prepare = hvsock_prepare,
	.open = vsock_connect_open,
	.open_async = vsock_connect_open_async,
	.cleanup = sock_priv_free,
};

const struct addr_type addr_hvsock_listen = {
	.name = "HVSOCK-LISTEN",
	.aliases = { "HVSOCK-L" },
	.params = "vmid:service",
	.nparams = 2,
	.flags = ADDR_LISTEN,
	.summary = "listen for Hyper-V socket peers (AF_VSOCK in a Linux guest)",
	.opts = { vsock_listen_opts },
	.prepare = hvsock_prepare,
	.listen = vsock_listen,
	.peer_allowed = vsock_peer_allowed,
	.accepted = sock_accepted,
	.cleanup = sock_priv_free,
};
