/* SPDX-License-Identifier: MIT */
/* fuzz-frame-qemu.c - frames=qemu streams (u32 big-endian lengths); see fuzz-frame.h */
#include "fuzz-frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_frames(FRAME_CODEC_QEMU, data, size);
}
