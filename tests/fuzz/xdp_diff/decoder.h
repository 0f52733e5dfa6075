/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An independent decoder of what perim's XDP parser must decide for a frame,
 * written from the protocol specifications and the datapath's documented
 * contract (xdp/lib/parse.h's header comment, include/perim.h), not from
 * its code: byte offsets, no BPF idioms.
 */
#ifndef PERIM_XDP_DIFF_DECODER_H
#define PERIM_XDP_DIFF_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum decoded_kind {
	DECODED_IP,
	DECODED_NOT_IP,            /* passed untouched */
	DECODED_MALFORMED,         /* dropped, reason malformed */
};

struct decoded {
	enum decoded_kind kind;
	bool v6;
	uint8_t src[16];           /* IPv4: IPv4-mapped */
	uint8_t proto;
	bool has_ports;            /* a TCP or UDP header was read */
	uint16_t dport;
	uint8_t tcp_flags;
	const char *why;           /* what made it malformed or not IP, for reports */
};

void decode_frame(const uint8_t *frame, size_t len, struct decoded *out);

#endif /* PERIM_XDP_DIFF_DECODER_H */
