/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place perimctl, perimd and the state file turn protocol numbers,
 * addresses and clocks into what they print. Every caller prints protocol 58
 * the same way.
 */
#ifndef PERIM_NAMES_H
#define PERIM_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Large enough for any perim_proto_name() result. */
#define PERIM_PROTO_NAME_MAX 8

/*
 * "any" (0), "icmp", "tcp", "udp", "icmpv6", else the number in decimal,
 * written to buf. Returns a string that lives as long as buf.
 */
const char *perim_proto_name(uint8_t proto, char buf[PERIM_PROTO_NAME_MAX]);

/* The ::ffff:0:0/96 prefix under which perim stores IPv4 addresses. */
extern const uint8_t perim_v4_mapped_prefix[12];

bool perim_addr_is_v4_mapped(const uint8_t addr[16]);
/* addr (4 bytes, network order) as ::ffff:a.b.c.d. */
void perim_addr_map_v4(uint8_t out[16], const void *v4);
/* The dotted quad of a mapped address, else the IPv6 text form. */
void perim_addr_format(const uint8_t addr[16], char *buf, size_t len);

/* A unit word glued to a number ("10kpps") and what it multiplies by. */
struct perim_unit {
	const char *name;
	uint64_t mult;
};

/* Ascending, ending in { NULL, 0 }: pps, kpps, mpps; kbit, mbit, gbit (1k = 1000). */
extern const struct perim_unit perim_pps_units[];
extern const struct perim_unit perim_bit_units[];

/* pps in the largest unit that expresses it exactly, as typed: "0pps", "1500pps", "2kpps". */
const char *perim_pps_text(char *buf, size_t len, uint64_t pps);
/* bits per second the same way: "8kbit", "1gbit"; not a whole kbit: "12bit". */
const char *perim_bits_text(char *buf, size_t len, uint64_t bits);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t perim_mono_ns(void);

#endif /* PERIM_NAMES_H */
