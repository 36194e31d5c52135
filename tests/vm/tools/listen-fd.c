/* SPDX-License-Identifier: MIT */
/*
 * listen-fd.c - a socket-activation launcher for the guest tests:
 *	listen-fd vsock PORT COMMAND...
 * opens a listening AF_VSOCK socket on PORT as fd 3 (systemd's first
 * socket), sets LISTEN_FDS=1 and LISTEN_PID, prints "listening" on stderr
 * and execs COMMAND.  systemd-socket-activate can't be copied into the
 * busybox guest, and this is all the test needs of it.
 */
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };
	char pid[16];
	int fd;

	if (argc < 4 || strcmp(argv[1], "vsock")) {
		fprintf(stderr, "usage: listen-fd vsock PORT COMMAND...\n");
		return 2;
	}
	sa.svm_port = (unsigned)strtoul(argv[2], NULL, 10);
	fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		perror("listen-fd");
		return 1;
	}
	if (fd != 3 && (dup2(fd, 3) < 0 || close(fd) < 0)) {
		perror("listen-fd: dup2");
		return 1;
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_PID", pid, 1);
	fprintf(stderr, "listen-fd: listening on vsock port %s\n", argv[2]);
	execvp(argv[3], argv + 3);
	perror("listen-fd: exec");
	return 127;
}
