// SPDX-License-Identifier: GPL-2.0
/*
 * udpsend: paced UDP datagrams from an ordinary socket, for egress tests.
 *
 *   udpsend --dst ADDR --port P --rate PPS --seconds S [--size BYTES]
 *       Sends through the kernel's stack, so the traffic belongs to this
 *       process's socket (and cgroup) and passes the NIC's egress hook.
 *       A datagram the egress program drops is still "sent": UDP reports
 *       no local drop without IP_RECVERR, and the sender keeps its pace
 *       whatever happens downstream. Prints "sent=N elapsed_ns=T".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAYLOAD 1472

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int usage(void)
{
	fprintf(stderr, "usage: udpsend --dst ADDR --port P --rate PPS --seconds S [--size BYTES]\n");
	return 2;
}

static int open_socket(const char *dst, unsigned port, struct sockaddr_storage *to, socklen_t *to_len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)to;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)to;
	int fd;

	memset(to, 0, sizeof(*to));
	if (inet_pton(AF_INET, dst, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		*to_len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, dst, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		*to_len = sizeof(*v6);
	} else {
		fprintf(stderr, "udpsend: %s: not an address\n", dst);
		return -1;
	}
	fd = socket(to->ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		fprintf(stderr, "udpsend: socket: %s\n", strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' }, { "port", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' }, { "seconds", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'z' }, { NULL, 0, NULL, 0 },
	};
	char payload[MAX_PAYLOAD] = { 0 };
	const char *dst = NULL;
	unsigned port = 0, size = 16;
	double rate = 0, seconds = 0;
	struct sockaddr_storage to;
	socklen_t to_len;
	uint64_t sent = 0, start, interval, deadline;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dst = optarg; break;
		case 'p': port = strtoul(optarg, NULL, 10); break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 's': seconds = strtod(optarg, NULL); break;
		case 'z': size = strtoul(optarg, NULL, 10); break;
		default: return usage();
		}
	}
	if (!dst || !port || port > 65535 || rate <= 0 || seconds <= 0 || size > MAX_PAYLOAD)
		return usage();
	fd = open_socket(dst, port, &to, &to_len);
	if (fd < 0)
		return 1;
	interval = 1e9 / rate;
	start = now_ns();
	deadline = start + (uint64_t)(seconds * 1e9);
	for (;;) {
		uint64_t due = start + sent * interval, t = now_ns();

		if (due >= deadline)
			break;
		while (t < due)
			t = now_ns();
		if (sendto(fd, payload, size, 0, (struct sockaddr *)&to, to_len) < 0 &&
		    errno != ENOBUFS && errno != EAGAIN) {
			fprintf(stderr, "udpsend: sendto: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		sent++;
	}
	printf("sent=%llu elapsed_ns=%llu\n", (unsigned long long)sent, (unsigned long long)(now_ns() - start));
	close(fd);
	return 0;
}
