/* SPDX-License-Identifier: MIT */
/*
 * pcap.c - classic pcap capture files (see pcap.h)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "frame.h"
#include "pcap.h"
#include "util.h"

#define PCAP_LINKTYPE_ETHERNET	1

/**
 * pcap_open() - create (truncate) @path and write the file header
 * @append:	open with O_APPEND, for files that fork children share
 * Return: the fd, or a negative errno
 */
int pcap_open(const char *path, bool append)
{
	/* magic (readers tell this host's byte order by it), version 2.4,
	 * no zone, no sigfigs, a snaplen no frame exceeds, Ethernet */
	uint32_t head[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, FRAME_MAX, PCAP_LINKTYPE_ETHERNET };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (append ? O_APPEND : 0),
		      0644);
	int rc;

	if (fd < 0)
		return -errno;
	rc = util_write_all(fd, head, sizeof(head));
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

/**
 * pcap_write() - one record: now, and all of @frame
 * Return: 0, or a negative errno
 */
int pcap_write(int fd, const void *frame, size_t len)
{
	struct timeval tv;
	uint32_t rec[4];
	struct iovec iov[2] = { { rec, sizeof(rec) }, { (void *)frame, len } };

	gettimeofday(&tv, NULL);
	/* ts_sec, ts_usec, captured length, length on the wire */
	rec[0] = (uint32_t)tv.tv_sec;
	rec[1] = (uint32_t)tv.tv_usec;
	rec[2] = rec[3] = (uint32_t)len;
	return util_writev_all(fd, iov, 2);
}
