/* SPDX-License-Identifier: MIT */
/*
 * fuzz-hvguid.c - Hyper-V socket GUIDs (src/hvsock-guid.c): any text into
 * hv_guid_parse(); what it takes must print back to the same GUID, and the
 * vsock port template and the VmId names must round-trip.
 */
#include "config.h"

#include <ctype.h>
#include <strings.h>

#include "fuzz.h"
#include "hvsock-guid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), out[HV_GUID_STRLEN];
	struct hv_guid g, again;
	uint32_t port = 0, back;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (hv_guid_parse(text, &g) == 0) {
		const char *digits = text[0] == '{' ? text + 1 : text;

		hv_guid_format(&g, out);
		fuzz_check(strlen(out) == 36, "\"%s\" prints as \"%s\"", text, out);
		for (size_t i = 0; i < 36; i++)
			fuzz_check(out[i] == '-' ? (i == 8 || i == 13 || i == 18 || i == 23)
						 : isxdigit((unsigned char)out[i]) &&
						   !isupper((unsigned char)out[i]),
				   "\"%s\" is not canonical", out);
		/* the same digits, only the case may differ */
		fuzz_check(!strncasecmp(digits, out, 36), "\"%s\" printed as \"%s\"", text, out);
		fuzz_check(hv_guid_parse(out, &again) == 0 && hv_guid_equal(&g, &again),
			   "\"%s\" does not parse back to itself", out);
		if (hv_service_to_port(&g, &back)) {
			hv_service_from_port(back, &again);
			fuzz_check(hv_guid_equal(&g, &again), "service %s is port %u and back",
				   out, (unsigned)back);
		}
		if (hv_vmid_name(&g)) {
			fuzz_check(hv_vmid_by_name(hv_vmid_name(&g), &again) == 0 &&
				   hv_guid_equal(&g, &again), "VmId %s by its name", out);
		}
	}
	if (hv_vmid_by_name(text, &g) == 0)
		fuzz_check(hv_vmid_name(&g) && !strcasecmp(hv_vmid_name(&g), text),
			   "VmId name \"%s\"", text);

	/* every port has its service GUID, and it is no other port's */
	memcpy(&port, data, size < sizeof(port) ? size : sizeof(port));
	hv_service_from_port(port, &g);
	fuzz_check(hv_service_to_port(&g, &back) && back == port, "port %u", (unsigned)port);
	hv_guid_format(&g, out);
	fuzz_check(hv_guid_parse(out, &again) == 0 && hv_guid_equal(&g, &again) &&
		   hv_service_to_port(&again, &back) && back == port,
		   "port %u as text \"%s\"", (unsigned)port, out);
	free(text);
	return 0;
}
