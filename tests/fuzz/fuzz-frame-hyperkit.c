/* SPDX-License-Identifier: MIT */
/* fuzz-frame-hyperkit.c - frames=hyperkit streams (u16 little-endian lengths); see fuzz-frame.h */
#include "fuzz-frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_frames(FRAME_CODEC_HYPERKIT, data, size);
}
