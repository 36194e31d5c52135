/* SPDX-License-Identifier: MIT */
/*
 * fuzz-hyperkit.c - HyperKit's connect header (vmm_hyperkit_header() in
 * src/vmm-proto.h, what HYPERKIT-UNIX writes to <dir>/connect).
 *
 * The input's first eight bytes are a guest CID and port: the header must
 * be exactly 18 bytes, "%08x.%08x\n" in lower-case hex, and read back by
 * a strict parser (HyperKit's view of it) as the same two numbers.  The
 * whole input is also offered to that parser as a header a guest-side
 * peer could send: it must take only what the formatter can make.
 * (HYPERKIT-UNIX-LISTEN and VSOCK-MUX-LISTEN read nothing before the
 * guest's own bytes, so there is no listener-side parser to fuzz.)
 */
#include "config.h"

#include "fuzz.h"
#include "vmm-proto.h"

/* HyperKit's side: 8 hex digits, '.', 8 hex digits, '\n' */
static int parse_header(const char *h, size_t len, uint32_t *cid, uint32_t *port)
{
	uint32_t v[2] = { 0, 0 };

	if (len != VMM_HYPERKIT_HEADER_LEN || h[8] != '.' || h[17] != '\n')
		return -1;
	for (int f = 0; f < 2; f++) {
		for (int i = 0; i < 8; i++) {
			char c = h[f * 9 + i];
			unsigned d;

			if (c >= '0' && c <= '9')
				d = (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				d = (unsigned)(c - 'a' + 10);
			else
				return -1;
			v[f] = v[f] << 4 | d;
		}
	}
	*cid = v[0];
	*port = v[1];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t nums[8] = { 0 };
	uint32_t cid, port, c2, p2;
	char h[VMM_HYPERKIT_HEADER_LEN + 1];
	size_t hl;

	memcpy(nums, data, size < sizeof(nums) ? size : sizeof(nums));
	cid = (uint32_t)nums[0] << 24 | (uint32_t)nums[1] << 16 | (uint32_t)nums[2] << 8 | nums[3];
	port = (uint32_t)nums[4] << 24 | (uint32_t)nums[5] << 16 | (uint32_t)nums[6] << 8 | nums[7];
	hl = vmm_hyperkit_header(cid, port, h);
	fuzz_check(hl == VMM_HYPERKIT_HEADER_LEN && strlen(h) == hl, "header of %zu bytes", hl);
	fuzz_check(parse_header(h, hl, &c2, &p2) == 0 && c2 == cid && p2 == port,
		   "cid %u port %u wrote \"%.17s\"", (unsigned)cid, (unsigned)port, h);

	if (parse_header((const char *)data, size, &c2, &p2) == 0) {
		vmm_hyperkit_header(c2, p2, h);
		fuzz_check(!memcmp(h, data, VMM_HYPERKIT_HEADER_LEN),
			   "a header the formatter would not write was taken");
	}
	return 0;
}
