/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frames for the differential test: well-formed ones built at random from
 * every header perim parses (0-3 VLAN tags, IPv4 with options and
 * fragments, IPv6 with extension chains of every kind and length, TCP with
 * options, UDP, ICMP, others), and mutations of them (bytes flipped in the
 * headers, length fields made bogus). Deterministic for a seed.
 */
#ifndef PERIM_XDP_DIFF_GEN_H
#define PERIM_XDP_DIFF_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Below what BPF_PROG_TEST_RUN takes in one page for XDP. */
#define GEN_FRAME_MAX 3000

struct gen_frame {
	uint8_t buf[GEN_FRAME_MAX];
	size_t len;
	size_t headers;            /* bytes of headers before the payload */
};

struct gen {
	uint64_t state;
	bool probe_known;          /* this frame: TCP to rule 4 from a source with a bucket */
};

void gen_seed(struct gen *g, uint64_t seed);
uint32_t gen_u32(struct gen *g);
/* A random well-formed (or nearly: see the odds in gen.c) frame. */
void gen_frame(struct gen *g, struct gen_frame *f);
/* f mutated in its headers: bytes flipped, a length field made bogus. */
void gen_mutate(struct gen *g, struct gen_frame *f);

#endif /* PERIM_XDP_DIFF_GEN_H */
