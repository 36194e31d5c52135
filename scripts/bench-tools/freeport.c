/* freeport - print COUNT distinct TCP ports that are currently free.
 *
 *   freeport [-c COUNT] [-l LOW] [-h HIGH]
 *
 * Picks ports in [LOW, HIGH) (default 20000..32000, below Linux's default
 * ephemeral range so outgoing connections will not grab them), checks each
 * by bind()ing 0.0.0.0:PORT and [::]:PORT without SO_REUSEADDR (which also
 * fails while a listener or TIME_WAIT socket uses the port), holds all
 * chosen ports until COUNT are found so they are distinct, then prints them
 * one per line and releases them.  Nothing is ever connected or listened on.
 */
#include "common.h"

#include <unistd.h>

static int try_bind(int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		s4->sin_port = htons((unsigned short)port);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons((unsigned short)port);
		sl = sizeof(*s6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return family == AF_INET6 ? -2 : -1; /* no IPv6: not an error */
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	int opt, found = 0, tries, i;
	long count = 1, lo = 20000, hi = 32000;
	int fds[2 * 64], ports[64], nfds = 0;

	g_prog = "freeport";
	while ((opt = getopt(argc, argv, "c:l:h:")) != -1) {
		switch (opt) {
		case 'c': count = parse_num("-c", optarg, 1, 64); break;
		case 'l': lo = parse_num("-l", optarg, 1024, 65535); break;
		case 'h': hi = parse_num("-h", optarg, 1025, 65536); break;
		default:
			fprintf(stderr, "usage: freeport [-c COUNT<=64] [-l LOW] [-h HIGH]\n");
			return 2;
		}
	}
	if (hi - lo < count)
		die("range %ld..%ld too small for %ld ports", lo, hi, count);
	srand((unsigned)(getpid() ^ (unsigned)(now_s() * 1e6)));
	for (tries = 0; found < count && tries < 10000; tries++) {
		int port = (int)(lo + rand() % (hi - lo)), f4, f6, dup = 0;

		for (i = 0; i < found; i++)
			dup |= ports[i] == port;
		if (dup)
			continue;
		f4 = try_bind(AF_INET, port);
		if (f4 < 0)
			continue;
		f6 = try_bind(AF_INET6, port);
		if (f6 == -1) {
			close(f4);
			continue;
		}
		fds[nfds++] = f4;
		if (f6 >= 0)
			fds[nfds++] = f6;
		ports[found++] = port;
	}
	if (found < count)
		die("found only %d free ports in %ld..%ld", found, lo, hi);
	for (i = 0; i < found; i++)
		printf("%d\n", ports[i]);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	return 0;
}
