/* SPDX-License-Identifier: MIT */
/*
 * test-hvsock-guid.c - unit tests of src/hvsock-guid.c, TAP on stdout
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hvsock-guid.h"
#include "tap.h"

static void roundtrip(const char *in, const char *want)
{
	struct hv_guid g;
	char out[HV_GUID_STRLEN] = "";

	ok(hv_guid_parse(in, &g) == 0, "parse %s", in);
	hv_guid_format(&g, out);
	ok(!strcmp(out, want), "format %s -> %s (got %s)", in, want, out);
}

int main(void)
{
	static const char *const bad[] = {
		"", "0", "00000000-0000-0000-0000-00000000000",	/* one digit short */
		"00000000-0000-0000-0000-0000000000000",		/* one too many */
		"00000000_0000-0000-0000-000000000000", "0000000g-0000-0000-0000-000000000000",
		"{00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-00000000000}",
		"000000000000-0000-0000-0000-00000000", " 0000000-0000-0000-0000-000000000000",
	};
	struct hv_guid g, h;
	uint32_t port = 0;

	printf("1..%d\n", 32);
	roundtrip("a42e7cda-d03f-480c-9cc2-a4de20abb878", "a42e7cda-d03f-480c-9cc2-a4de20abb878");
	roundtrip("A42E7CDA-D03F-480C-9CC2-A4DE20ABB878", "a42e7cda-d03f-480c-9cc2-a4de20abb878");
	roundtrip("{E0E16197-DD56-4A10-9195-5EE7A155A838}", "e0e16197-dd56-4a10-9195-5ee7a155a838");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(hv_guid_parse(bad[i], &g) != 0, "reject \"%s\"", bad[i]);

	/* the well-known VmIds, both ways */
	static const char *const names[] = { "wildcard", "children", "loopback", "parent" };
	static const char *const guids[] = {
		"00000000-0000-0000-0000-000000000000", "90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd",
		"e0e16197-dd56-4a10-9195-5ee7a155a838", "a42e7cda-d03f-480c-9cc2-a4de20abb878",
	};
	for (int i = 0; i < 4; i++) {
		char out[HV_GUID_STRLEN];

		ok(hv_vmid_by_name(names[i], &g) == 0, "vmid name %s", names[i]);
		hv_guid_format(&g, out);
		ok(!strcmp(out, guids[i]) && hv_guid_parse(guids[i], &h) == 0 &&
		   !strcmp(hv_vmid_name(&h), names[i]), "%s is %s", names[i], guids[i]);
	}
	ok(hv_vmid_by_name("PARENT", &g) == 0, "vmid names are case-insensitive");
	ok(hv_vmid_by_name("sibling", &g) != 0, "unknown vmid name rejected");

	/* vsock template */
	hv_guid_parse("00000016-FACB-11E6-BD58-64006A7986D3", &g);
	ok(hv_service_to_port(&g, &port) && port == 22, "template GUID -> port 22");
	hv_guid_parse("ffffffff-facb-11e6-bd58-64006a7986d3", &g);
	ok(hv_service_to_port(&g, &port) && port == 0xffffffffu, "template GUID -> port 4294967295");
	hv_guid_parse("00000016-facb-11e6-bd58-64006a7986d4", &g);
	ok(!hv_service_to_port(&g, &port), "last byte off: not a vsock port");
	hv_guid_parse("00000016-facc-11e6-bd58-64006a7986d3", &g);
	ok(!hv_service_to_port(&g, &port), "second field off: not a vsock port");
	hv_service_from_port(1024, &g);
	{
		char out[HV_GUID_STRLEN];

		hv_guid_format(&g, out);
		ok(!strcmp(out, "00000400-facb-11e6-bd58-64006a7986d3"), "port 1024 -> %s", out);
	}
	ok(hv_guid_equal(&g, &g) && !hv_guid_equal(&g, &h), "equality");
	printf("# %d tests, %d failed\n", ntest, nfail);
	return nfail != 0 || ntest != 32;
}
