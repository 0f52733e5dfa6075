// SPDX-License-Identifier: GPL-2.0
/* Control protocol framing over a socketpair: round trip, bad lengths, early EOF, connect errors. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto.h"
#include "test.h"

static bool make_pair(int sv[2])
{
	return ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
}

static void test_round_trip(void)
{
	const char *msg = "{\"argv\":[\"status\"]}";
	char *got = NULL;
	size_t len = 0;
	int sv[2];

	if (!make_pair(sv))
		return;
	ASSERT_OK(perim_proto_send(sv[0], msg, strlen(msg)), "send");
	ASSERT_OK(perim_proto_send(sv[0], "{}", 2), "second message");
	if (ASSERT_OK(perim_proto_recv(sv[1], &got, &len), "recv")) {
		ASSERT_EQ(len, strlen(msg), "length");
		ASSERT_STREQ(got, msg, "payload, NUL-terminated");
	}
	free(got);
	if (ASSERT_OK(perim_proto_recv(sv[1], &got, &len), "recv second"))
		ASSERT_STREQ(got, "{}", "messages stay apart");
	free(got);
	close(sv[0]);
	close(sv[1]);
}

/* A message larger than the socket buffer goes through partial writes and reads. */
static void test_large_message(void)
{
	size_t size = 4u << 20;
	char *big = malloc(size + 1), *got = NULL;
	size_t len = 0;
	int sv[2], status;
	pid_t child;

	if (!ASSERT_OK_PTR(big, "malloc") || !make_pair(sv)) {
		free(big);
		return;
	}
	memset(big, 'x', size);
	big[size] = '\0';
	child = fork();
	if (child == 0) {
		close(sv[1]);
		_exit(perim_proto_send(sv[0], big, size) ? 1 : 0);
	}
	close(sv[0]);
	if (ASSERT_OK(perim_proto_recv(sv[1], &got, &len), "recv")) {
		ASSERT_EQ(len, size, "length");
		ASSERT_TRUE(!memcmp(got, big, size), "payload");
	}
	ASSERT_EQ(waitpid(child, &status, 0), child, "waitpid");
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sender succeeded");
	free(got);
	free(big);
	close(sv[1]);
}

static void send_raw(int fd, uint32_t hdr, const char *body, size_t len)
{
	ASSERT_EQ(write(fd, &hdr, sizeof(hdr)), sizeof(hdr), "write header");
	if (len)
		ASSERT_EQ(write(fd, body, len), len, "write body");
}

static void test_bad_lengths(void)
{
	char *got = (char *)1;
	size_t len = 1;
	int sv[2];

	if (!make_pair(sv))
		return;
	send_raw(sv[0], 0, NULL, 0);
	ASSERT_EQ(perim_proto_recv(sv[1], &got, &len), -EPROTO, "zero length");
	ASSERT_TRUE(got == NULL && len == 0, "outputs cleared");
	send_raw(sv[0], PERIM_PROTO_MAX + 1, NULL, 0);
	ASSERT_EQ(perim_proto_recv(sv[1], &got, &len), -EPROTO, "over the maximum");
	ASSERT_EQ(perim_proto_send(sv[0], "", 0), -EMSGSIZE, "empty message refused");
	ASSERT_EQ(perim_proto_send(sv[0], "x", PERIM_PROTO_MAX + 1), -EMSGSIZE, "oversized refused");
	close(sv[0]);
	close(sv[1]);
}

static void test_early_eof(void)
{
	char *got = NULL;
	size_t len;
	int sv[2];

	if (!make_pair(sv))
		return;
	send_raw(sv[0], 10, "abc", 3);
	close(sv[0]);
	ASSERT_EQ(perim_proto_recv(sv[1], &got, &len), -ECONNRESET, "truncated body");
	ASSERT_TRUE(got == NULL, "nothing returned");
	ASSERT_EQ(perim_proto_recv(sv[1], &got, &len), -ECONNRESET, "closed before a header");
	close(sv[1]);
	if (!make_pair(sv))
		return;
	close(sv[1]);
	ASSERT_EQ(perim_proto_send(sv[0], "{}", 2), -EPIPE, "peer gone: EPIPE, no SIGPIPE");
	close(sv[0]);
}

static void test_connect_errors(void)
{
	char path[200];

	ASSERT_EQ(perim_proto_connect("/nonexistent/perim/perimd.sock"), -ENOENT, "no such socket");
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	ASSERT_EQ(perim_proto_connect(path), -ENAMETOOLONG, "path longer than sun_path");
}
