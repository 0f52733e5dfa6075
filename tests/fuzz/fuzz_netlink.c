// SPDX-License-Identifier: GPL-2.0
/*
 * The rtnetlink replies perimd parses itself (ctl/perimd/netlink.c: a
 * link's IFLA_XDP): an input is a receive buffer of netlink messages. Like
 * libnl's receive loop, only messages whose header fits are handed on.
 */
#include <netlink/msg.h>

#include "fuzz_util.h"
#include "links/netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nlmsghdr *hdr;
	int left = (int)size;
	void *buf;

	if (size > 65536)
		return -1;
	buf = malloc(size ? size : 1);   /* aligned, as a receive buffer is */
	if (!buf)
		abort();
	memcpy(buf, data, size);
	for (hdr = buf; nlmsg_ok(hdr, left); hdr = nlmsg_next(hdr, &left)) {
		struct perimd_xdp_state st;
		struct nl_msg *msg = nlmsg_convert(hdr);

		if (!msg)
			abort();
		if (perimd_netlink_parse_xdp(msg, &st))
			perimd_xdp_attached_name(st.attached);
		nlmsg_free(msg);
	}
	free(buf);
	return 0;
}
