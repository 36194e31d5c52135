/* SPDX-License-Identifier: MIT */
/*
 * fuzz-natframes.c - Ethernet frames from guests into the NAT engine
 * (nat_new() and nat_link_input() in src/nat.c: the switch, ARP, ping,
 * DHCP, static DNS zones, the port 53 rewrite, then libslirp), with the
 * event loop run so that replies come out.
 *
 * Random frames make libslirp open real host sockets (TCP connects, UDP
 * sends, DNS to the host's resolvers), so this harness runs only inside a
 * new, empty network namespace (fuzz_require_netns(): loopback down, no
 * route): nothing can leave the machine.
 *
 * Input: one config byte (bit 0: IPv6 off; bits 1-2: MTU 1500, 576, 9000
 * or 65520), then records [flags][length, u16 little-endian][frame]:
 * flags bit 0 picks one of two links, bit 1 runs the loop after the frame.
 * The loop runs once more at the end.  Every frame the engine puts out
 * must be at least an Ethernet header and at most what the MTU allows,
 * and an IPv4 header the engine made (rather than switched from another
 * guest) must be whole and have a right checksum.
 */
#include "config.h"

#include "fuzz.h"
#include "dnszone.h"
#include "frame.h"
#include "log.h"
#include "loop.h"
#include "nat.h"
#include "util.h"

#define MAX_RECORDS 64

static const unsigned mtus[] = { 1500, 576, 9000, NAT_MTU_MAX };
static size_t frame_limit;
/* the guest's frame being input: the switch may hand it on as it is */
static const uint8_t *in_frame;
static size_t in_len;
static unsigned long long nout;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_require_netns("fuzz-natframes");
	/* every message is formatted (that is code too), none is shown */
	log_to_file("/dev/null");
	log_set_level(3);
	return 0;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int out(void *arg, const uint8_t *frame, size_t len)
{
	fuzz_check(len >= FRAME_ETH_HLEN && len <= frame_limit,
		   "a %zu-byte frame out (at most %zu)", len, frame_limit);
	/* what the engine makes itself (not a guest's frame it switches) */
	if (frame[12] == 0x08 && frame[13] == 0x00 &&
	    !(len == in_len && !memcmp(frame, in_frame, len))) {
		const uint8_t *ip = frame + FRAME_ETH_HLEN;
		size_t ihl, tot;

		fuzz_check(len >= FRAME_ETH_HLEN + 20, "IPv4 frame of %zu bytes", len);
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		tot = (size_t)ip[2] << 8 | ip[3];
		fuzz_check((ip[0] >> 4) == 4 && ihl >= 20 && tot >= ihl &&
			   tot <= len - FRAME_ETH_HLEN,
			   "IPv4 header: version %u, %zu-byte header, total %zu in a %zu-byte frame",
			   ip[0] >> 4, ihl, tot, len);
		fuzz_check(ip_checksum(ip, ihl) == 0, "IPv4 header checksum");
	}
	nout++;
	/* a link that is full now and then: the engine must cope */
	return (nout % 7 == 0) ? -ENOBUFS : 0;
}

static void stop(struct loop *loop, struct loop_timer *t)
{
	loop_stop(loop);
}

/* One turn of the loop: libslirp's fds and due timers, without waiting */
static void run_once(struct loop *loop)
{
	struct loop_timer t;

	for (int i = 0; i < 2; i++) {
		loop_timer_init(&t, stop, NULL);
		loop_timer_arm(loop, &t, util_now());
		loop_run(loop);
		loop_timer_cancel(loop, &t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnszone_set *zones = NULL;
	struct nat_config conf;
	struct nat_link *link[2];
	struct errbuf err;
	struct loop *loop;
	struct nat *nat;
	size_t pos = 1;

	if (size < 1)
		return 0;
	nat_config_defaults(&conf);
	conf.ipv6 = !(data[0] & 1);
	conf.mtu = mtus[(data[0] >> 1) & 3];
	frame_limit = FRAME_FOR_MTU(conf.mtu);
	if (dnszone_add(&zones, "test.internal/www=10.1.2.3/@=10.1.2.4/v6=fd00::42", &err) < 0 ||
	    dnszone_add(&zones, "vm.test/web=192.168.127.2/web=192.168.127.3", &err) < 0) {
		fprintf(stderr, "fuzz-natframes: zones: %s\n", err.msg);
		abort();
	}
	conf.zones = zones;
	loop = loop_new();
	nat = loop ? nat_new(loop, &conf, &err) : NULL;
	fuzz_check(nat != NULL, "nat_new: %s", loop ? err.msg : "no loop");
	link[0] = nat_link_new(nat, out, NULL);
	link[1] = nat_link_new(nat, out, NULL);
	fuzz_check(link[0] && link[1], "two links");

	for (int n = 0; n < MAX_RECORDS && size - pos >= 3; n++) {
		uint8_t flags = data[pos];
		size_t len = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;

		pos += 3;
		if (len > size - pos)
			len = size - pos;
		in_frame = data + pos;
		in_len = len;
		nat_link_input(link[flags & 1], data + pos, len);
		in_len = 0;
		pos += len;
		if (flags & 2)
			run_once(loop);
	}
	run_once(loop);

	nat_link_free(link[1]);
	nat_free(nat);
	loop_free(loop);
	dnszone_free(zones);
	return 0;
}
