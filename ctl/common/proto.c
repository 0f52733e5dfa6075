// SPDX-License-Identifier: GPL-2.0
/* Framing of the control protocol: a 4-byte host-order length, then JSON. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

/* MSG_NOSIGNAL: a peer that went away must be an EPIPE, not a SIGPIPE. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* 0, -errno, or -ECONNRESET when the peer closed before len bytes came. */
static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= n;
	}
	return 0;
}

int perim_proto_send(int fd, const char *json, size_t len)
{
	uint32_t hdr = len;
	int err;

	if (len == 0 || len > PERIM_PROTO_MAX)
		return -EMSGSIZE;
	err = write_all(fd, &hdr, sizeof(hdr));
	if (err)
		return err;
	return write_all(fd, json, len);
}

int perim_proto_recv(int fd, char **json, size_t *len)
{
	uint32_t hdr;
	char *buf;
	int err;

	*json = NULL;
	*len = 0;
	err = read_all(fd, &hdr, sizeof(hdr));
	if (err)
		return err;
	if (hdr == 0 || hdr > PERIM_PROTO_MAX)
		return -EPROTO;
	buf = malloc(hdr + 1);
	if (!buf)
		return -ENOMEM;
	err = read_all(fd, buf, hdr);
	if (err) {
		free(buf);
		return err;
	}
	buf[hdr] = '\0';
	*json = buf;
	*len = hdr;
	return 0;
}

int perim_proto_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}
