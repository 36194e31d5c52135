/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_PCAP_H
#define VRELAY_PCAP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Classic pcap files of Ethernet frames, which tcpdump -r and wireshark
 * read: the NAT engine's pcap= and the -r/-R copies of a frame relay.
 * Each record is one writev(2), so fork children appending to one file
 * (O_APPEND) never split each other's records, and a capture can be read
 * while it grows.
 */
int pcap_open(const char *path, bool append);
int pcap_write(int fd, const void *frame, size_t len);

#endif
