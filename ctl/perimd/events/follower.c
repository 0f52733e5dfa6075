// SPDX-License-Identifier: GPL-2.0
/* Non-blocking writes to one `events --follow` reader (follower.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <json-c/json.h>

#include "events/follower.h"
#include "json_add.h"
#include "log.h"

enum { SENT, NO_ROOM };

/* SENT, NO_ROOM (nothing of it went out), or -errno. */
static int flush_pending(struct perimd_follower *f)
{
	ssize_t n;

	while (f->pending) {
		n = send(f->fd, f->pending + f->pending_off, f->pending_len - f->pending_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? NO_ROOM : -errno;
		}
		f->pending_off += n;
		if (f->pending_off == f->pending_len) {
			free(f->pending);
			f->pending = NULL;
		}
	}
	return SENT;
}

/* The control protocol's frame (proto.h: a 4-byte host-order length, then JSON); a part sent is finished later. */
static int send_frame(struct perimd_follower *f, const char *json, size_t len)
{
	uint32_t hdr = len;
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)json, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t total = sizeof(hdr) + len, sent;
	ssize_t n;

	do
		n = sendmsg(f->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? NO_ROOM : -errno;
	sent = n;
	if (sent == total)
		return SENT;
	f->pending = malloc(total - sent);
	if (!f->pending)
		return -ENOMEM;  /* the stream is cut mid-frame: the reader must go */
	for (size_t i = sent; i < total; i++)
		f->pending[i - sent] = i < sizeof(hdr) ? ((char *)&hdr)[i] : json[i - sizeof(hdr)];
	f->pending_len = total - sent;
	f->pending_off = 0;
	return SENT;
}

static int announce_skipped(struct perimd_follower *f)
{
	struct json_object *o = json_object_new_object();
	const char *text;
	int ret;

	json_add_str(o, "type", "lost");
	json_add_str(o, "ring", "follower");
	json_add_u64(o, "count", f->skipped);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ret = send_frame(f, text, strlen(text));
	json_object_put(o);
	if (ret == SENT) {
		pr_info("tracers: an events --follow reader fell behind: %llu events were not sent to it "
			"(it was told with a \"lost\" event)\n", (unsigned long long)f->skipped);
		f->skipped = 0;
	}
	return ret;
}

int perimd_follower_catch_up(struct perimd_follower *f)
{
	int ret = flush_pending(f);

	if (ret == SENT && f->skipped && !f->pending)
		ret = announce_skipped(f);
	return ret < 0 ? ret : 0;
}

int perimd_follower_send(struct perimd_follower *f, const char *json, size_t len, uint64_t weight)
{
	int ret = flush_pending(f);

	if (ret == SENT && f->skipped)
		ret = announce_skipped(f);
	if (ret == SENT && !f->pending)
		ret = send_frame(f, json, len);
	else if (ret == SENT)
		ret = NO_ROOM;   /* the announcement went out in part */
	if (ret == NO_ROOM)
		f->skipped += weight;
	return ret < 0 ? ret : 0;
}

void perimd_follower_reset(struct perimd_follower *f)
{
	free(f->pending);
	f->pending = NULL;
	f->pending_len = f->pending_off = 0;
	f->skipped = 0;
	f->fd = -1;
}
