// SPDX-License-Identifier: GPL-2.0
/*
 * tcplisten: a TCP listener for tests that need a real process on a port.
 *
 *   tcplisten --port P [--addr ADDR] --ready-file F
 *       Binds ADDR (default 0.0.0.0; an IPv6 address listens on IPv6),
 *       listens, then writes its pid to F (atomically: F.tmp, rename) and
 *       waits for a signal. Accepts nothing: SYNs queue in the backlog.
 *       P 0: the kernel chooses the port (bind without one, so the kernel
 *       also releases it on close); F then holds "PID PORT".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_on(const char *addr, unsigned port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd, v6 = strchr(addr, ':') != NULL;

	if (v6 ? inet_pton(AF_INET6, addr, &a6.sin6_addr) != 1 : inet_pton(AF_INET, addr, &a4.sin_addr) != 1) {
		fprintf(stderr, "tcplisten: bad address \"%s\"\n", addr);
		return -1;
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6)) : bind(fd, (struct sockaddr *)&a4, sizeof(a4))) ||
	    listen(fd, 16)) {
		fprintf(stderr, "tcplisten: %s port %u: %s\n", addr, port, strerror(errno));
		return -1;
	}
	return fd;
}

/* The port fd is bound to, 0 when it cannot be read. */
static unsigned bound_port(int fd)
{
	struct sockaddr_in6 a = { 0 };
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len)) {
		fprintf(stderr, "tcplisten: getsockname: %s\n", strerror(errno));
		return 0;
	}
	/* sin_port and sin6_port lie at the same offset. */
	return ntohs(a.sin6_port);
}

/* chosen: the kernel's port, written after the pid; 0 when the caller named it. */
static int write_ready(const char *path, unsigned chosen)
{
	char tmp[4096];
	int n;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	n = !f ? -1 : chosen ? fprintf(f, "%d %u\n", getpid(), chosen) : fprintf(f, "%d\n", getpid());
	if (n < 0 || fclose(f) || rename(tmp, path)) {
		fprintf(stderr, "tcplisten: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, 0, 'p' }, { "addr", required_argument, 0, 'a' },
		{ "ready-file", required_argument, 0, 'r' }, { 0 }
	};
	const char *addr = "0.0.0.0", *ready = NULL;
	unsigned port = 0, chosen = 0;
	bool port_given = false;
	char *end;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			port = strtoul(optarg, &end, 10);
			port_given = true;
			if (*end || end == optarg || port > 65535) {
				fprintf(stderr, "tcplisten: bad port \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'a': addr = optarg; break;
		case 'r': ready = optarg; break;
		default: return 2;
		}
	}
	if (!port_given || !ready) {
		fprintf(stderr, "usage: tcplisten --port P [--addr ADDR] --ready-file F\n");
		return 2;
	}
	fd = listen_on(addr, port);
	if (fd < 0 || (!port && !(chosen = bound_port(fd))) || write_ready(ready, chosen))
		return 1;
	for (;;)
		pause();
}
