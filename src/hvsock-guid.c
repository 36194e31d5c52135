/* SPDX-License-Identifier: MIT */
/*
 * hvsock-guid.c - Hyper-V socket GUIDs: parsing, printing, the well-known
 *		   VmIds and the vsock port template
 *
 * The one place that knows GUIDs; tests/unit/test-hvsock-guid.c tests it.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hvsock-guid.h"

static const struct {
	const char *name;
	struct hv_guid guid;
} vmids[] = {
	{ "wildcard", { 0, 0, 0, { 0 } } },
	{ "children", { 0x90db8b89, 0x0d35, 0x4f79, { 0x8c, 0xe9, 0x49, 0xea, 0x0a, 0xc8, 0xb7, 0xcd } } },
	{ "loopback", { 0xe0e16197, 0xdd56, 0x4a10, { 0x91, 0x95, 0x5e, 0xe7, 0xa1, 0x55, 0xa8, 0x38 } } },
	{ "parent", { 0xa42e7cda, 0xd03f, 0x480c, { 0x9c, 0xc2, 0xa4, 0xde, 0x20, 0xab, 0xb8, 0x78 } } },
};

/* The vsock template: data1 is the port */
static const struct hv_guid vsock_template = {
	0, 0xfacb, 0x11e6, { 0xbd, 0x58, 0x64, 0x00, 0x6a, 0x79, 0x86, 0xd3 }
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* @n hex digits of @s into @out (most significant first) */
static int hex_field(const char *s, int n, uint64_t *out)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++) {
		int h = hexval(s[i]);

		if (h < 0)
			return -EINVAL;
		v = v << 4 | (uint64_t)h;
	}
	*out = v;
	return 0;
}

/**
 * hv_guid_parse() - "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", hex digits in
 *		     either case, optionally in braces as Windows prints them
 * Return: 0 or -EINVAL
 */
int hv_guid_parse(const char *text, struct hv_guid *g)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	size_t len = strlen(text);
	uint64_t f[5];
	const char *p = text;

	if (len == 38 && text[0] == '{' && text[37] == '}')
		p++;
	else if (len != 36)
		return -EINVAL;
	for (int i = 0; i < 5; i++) {
		if (hex_field(p, groups[i], &f[i]) < 0)
			return -EINVAL;
		p += groups[i];
		if (i < 4 && *p++ != '-')
			return -EINVAL;
	}
	g->data1 = (uint32_t)f[0];
	g->data2 = (uint16_t)f[1];
	g->data3 = (uint16_t)f[2];
	g->data4[0] = (uint8_t)(f[3] >> 8);
	g->data4[1] = (uint8_t)f[3];
	for (int i = 0; i < 6; i++)
		g->data4[2 + i] = (uint8_t)(f[4] >> (8 * (5 - i)));
	return 0;
}

void hv_guid_format(const struct hv_guid *g, char out[HV_GUID_STRLEN])
{
	snprintf(out, HV_GUID_STRLEN, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g->data1, g->data2, g->data3, g->data4[0], g->data4[1], g->data4[2],
		 g->data4[3], g->data4[4], g->data4[5], g->data4[6], g->data4[7]);
}

bool hv_guid_equal(const struct hv_guid *a, const struct hv_guid *b)
{
	return a->data1 == b->data1 && a->data2 == b->data2 && a->data3 == b->data3 &&
	       !memcmp(a->data4, b->data4, sizeof(a->data4));
}

int hv_vmid_by_name(const char *name, struct hv_guid *g)
{
	for (size_t i = 0; i < sizeof(vmids) / sizeof(vmids[0]); i++) {
		if (!strcasecmp(name, vmids[i].name)) {
			*g = vmids[i].guid;
			return 0;
		}
	}
	return -ENOENT;
}

const char *hv_vmid_name(const struct hv_guid *g)
{
	for (size_t i = 0; i < sizeof(vmids) / sizeof(vmids[0]); i++)
		if (hv_guid_equal(g, &vmids[i].guid))
			return vmids[i].name;
	return NULL;
}

bool hv_service_to_port(const struct hv_guid *g, uint32_t *port)
{
	struct hv_guid t = vsock_template;

	t.data1 = g->data1;
	if (!hv_guid_equal(g, &t))
		return false;
	*port = g->data1;
	return true;
}

void hv_service_from_port(uint32_t port, struct hv_guid *g)
{
	*g = vsock_template;
	g->data1 = port;
}
