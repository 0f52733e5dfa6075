// SPDX-License-Identifier: GPL-2.0
/*
 * tcpconns: real TCP connections, for the SYN protection tests.
 *
 *   tcpconns server --port P [--addr ADDR] [--backlog N] [--idle-ms T] --ready-file F
 *       An echo server: accepts, reads until the peer shuts its side, writes
 *       every byte back, closes; one connection at a time. Writes its pid to
 *       F (F.tmp, rename) once listening. With --idle-ms, a connection that
 *       moves nothing for T ms is closed (its client vanished: a flood took
 *       its last segments), so it cannot hold the server from the next ones.
 *
 *   tcpconns client --dst ADDR --port P --count N [--bytes B] [--timeout-ms T]
 *                   [--give-up F]
 *       N connections one after the other, each sending B bytes (default 64),
 *       shutting its side, and reading B bytes back. Prints
 *       "ok=N failed=M elapsed_ns=T slowest_ns=S": a connection is ok when
 *       it got all of its bytes back within T ms (default 3000). With
 *       --give-up, it stops once F connections failed and counts the ones
 *       it did not make as failed (a rate search's failing step ends early).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *mode, *addr, *dst, *ready;
	unsigned port, backlog, count, timeout_ms, give_up, idle_ms;
	size_t bytes;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ADDR and port as a sockaddr; an address with ':' is IPv6. */
static int sockaddr_of(const char *addr, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1 ? 0 : -1;
	}
	a4->sin_family = AF_INET;
	a4->sin_port = htons(port);
	*len = sizeof(*a4);
	return inet_pton(AF_INET, addr, &a4->sin_addr) == 1 ? 0 : -1;
}

static int write_ready(const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
		fprintf(stderr, "tcpconns: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	if (rename(tmp, path)) {
		fprintf(stderr, "tcpconns: rename %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void echo(int fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, n - off);

			if (w <= 0)
				return;
			off += w;
		}
}

/* Reads and writes on fd give up after ms without progress. */
static int set_idle_timeout(int fd, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		fprintf(stderr, "tcpconns: setting the idle timeout: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int serve(const struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd;

	if (sockaddr_of(o->addr, o->port, &ss, &len)) {
		fprintf(stderr, "tcpconns: bad address \"%s\"\n", o->addr);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, (int)o->backlog)) {
		fprintf(stderr, "tcpconns: listening on %s port %u: %s\n", o->addr, o->port, strerror(errno));
		return 1;
	}
	if (write_ready(o->ready))
		return 1;
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "tcpconns: accept: %s\n", strerror(errno));
			return 1;
		}
		if (o->idle_ms && set_idle_timeout(c, o->idle_ms)) {
			close(c);
			return 1;
		}
		echo(c);
		close(c);
	}
}

/* Waits for fd to be ready for events until deadline; false on timeout or error. */
static bool wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t t = now_ns();

	if (t >= deadline)
		return false;
	return poll(&p, 1, (int)((deadline - t) / 1000000 + 1)) == 1 && !(p.revents & POLLNVAL);
}

static bool one_connection(const struct opts *o, const struct sockaddr_storage *ss, socklen_t len, char *buf)
{
	uint64_t deadline = now_ns() + (uint64_t)o->timeout_ms * 1000000;
	size_t sent = 0, got = 0;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	socklen_t elen = sizeof(err);
	bool ok = false;

	if (fd < 0)
		return false;
	if (connect(fd, (const struct sockaddr *)ss, len) && errno != EINPROGRESS)
		goto out;
	if (!wait_fd(fd, POLLOUT, deadline) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err)
		goto out;
	while (sent < o->bytes || got < o->bytes) {
		short ev = (sent < o->bytes ? POLLOUT : 0) | POLLIN;
		struct pollfd p = { .fd = fd, .events = ev };
		uint64_t t = now_ns();
		ssize_t n;

		if (t >= deadline || poll(&p, 1, (int)((deadline - t) / 1000000 + 1)) != 1)
			goto out;
		if ((p.revents & POLLOUT) && sent < o->bytes) {
			n = write(fd, buf + sent, o->bytes - sent);
			if (n < 0 && errno != EAGAIN)
				goto out;
			if (n > 0 && (sent += n) == o->bytes)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, buf + o->bytes + got, o->bytes - got);
			if (n == 0 || (n < 0 && errno != EAGAIN))
				goto out;
			if (n > 0)
				got += n;
		}
	}
	ok = !memcmp(buf, buf + o->bytes, o->bytes);
out:
	close(fd);
	return ok;
}

static int client(const struct opts *o)
{
	struct sockaddr_storage ss;
	uint64_t start, slowest = 0;
	unsigned ok = 0;
	socklen_t len;
	char *buf;

	if (sockaddr_of(o->dst, o->port, &ss, &len)) {
		fprintf(stderr, "tcpconns: bad address \"%s\"\n", o->dst);
		return 2;
	}
	buf = malloc(2 * o->bytes + 1);
	if (!buf) {
		fprintf(stderr, "tcpconns: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < o->bytes; i++)
		buf[i] = (char)('a' + i % 26);
	start = now_ns();
	for (unsigned i = 0; i < o->count; i++) {
		uint64_t t = now_ns();

		if (o->give_up && i - ok >= o->give_up)
			break;
		ok += one_connection(o, &ss, len, buf);
		if (now_ns() - t > slowest)
			slowest = now_ns() - t;
	}
	printf("ok=%u failed=%u elapsed_ns=%llu slowest_ns=%llu\n", ok, o->count - ok,
	       (unsigned long long)(now_ns() - start), (unsigned long long)slowest);
	free(buf);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: tcpconns server --port P [--addr ADDR] [--backlog N] [--idle-ms T] --ready-file F\n"
		"       tcpconns client --dst ADDR --port P --count N [--bytes B] [--timeout-ms T]\n"
		"                       [--give-up F]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, 0, 'p' }, { "addr", required_argument, 0, 'a' },
		{ "backlog", required_argument, 0, 'b' }, { "ready-file", required_argument, 0, 'r' },
		{ "dst", required_argument, 0, 'd' }, { "count", required_argument, 0, 'c' },
		{ "bytes", required_argument, 0, 'B' }, { "timeout-ms", required_argument, 0, 't' },
		{ "give-up", required_argument, 0, 'g' }, { "idle-ms", required_argument, 0, 'i' }, { 0 },
	};
	struct opts o = { .addr = "0.0.0.0", .backlog = 128, .bytes = 64, .timeout_ms = 3000 };
	int c;

	if (argc < 2)
		return usage();
	o.mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o.port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'a': o.addr = optarg; break;
		case 'b': o.backlog = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o.ready = optarg; break;
		case 'd': o.dst = optarg; break;
		case 'c': o.count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'B': o.bytes = strtoull(optarg, NULL, 10); break;
		case 't': o.timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'g': o.give_up = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': o.idle_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		default: return usage();
		}
	}
	if (!o.port || !o.bytes)
		return usage();
	if (!strcmp(o.mode, "server") && o.ready)
		return serve(&o);
	if (!strcmp(o.mode, "client") && o.dst && o.count)
		return client(&o);
	return usage();
}
