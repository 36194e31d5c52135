/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_FRAME_H
#define VRELAY_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"
#include "loop.h"
#include "opt.h"
#include "pump.h"

/* How frames travel on a byte stream (frames=) */
enum frame_codec {
	FRAME_CODEC_QEMU,	/* u32 big-endian length, then the frame */
	FRAME_CODEC_HYPERKIT,	/* u16 little-endian length, then the frame */
	FRAME_CODEC_RAW,	/* each read() is one frame (message fds) */
	FRAME_CODEC_NONE,	/* not a frame stream */
};

#define FRAME_ETH_HLEN	14
/* An MTU-sized frame: Ethernet header plus room for one 802.1Q tag */
#define FRAME_FOR_MTU(mtu) ((size_t)(mtu) + 18)
/* The longest frame anything here carries: a 65535-byte IP packet */
#define FRAME_MAX	FRAME_FOR_MTU(65535)
/* QEMU's own receive buffer (NET_BUFSIZE): a longer qemu-framed length can
 * only be a corrupt stream */
#define FRAME_QEMU_LIMIT 69632

/* Options every stream address takes for carrying frames */
extern const struct opt_desc opt_frames, opt_post, opt_accept_post;

/* What every frame pump of this process did, for -S and SIGUSR1 */
struct frame_totals {
	uint64_t frames[2], bytes[2];
	uint64_t drop_oversize, drop_malformed, drop_queue;
};
extern struct frame_totals frame_totals;

bool frame_relay_wanted(const struct addr_spec *left, const struct addr_spec *right);
int frame_pump_start(struct loop *loop, const struct pump_conf *conf,
		     struct endpoint *left, struct endpoint *right,
		     pump_done_fn done, void *arg);
void frame_pump_stop_all(void);

#endif
