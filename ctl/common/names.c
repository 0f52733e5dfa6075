// SPDX-License-Identifier: GPL-2.0
#include "names.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const uint8_t perim_v4_mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

const char *perim_proto_name(uint8_t proto, char buf[PERIM_PROTO_NAME_MAX])
{
	switch (proto) {
	case 0: return "any";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMPV6: return "icmpv6";
	}
	snprintf(buf, PERIM_PROTO_NAME_MAX, "%u", proto);
	return buf;
}

bool perim_addr_is_v4_mapped(const uint8_t addr[16])
{
	return !memcmp(addr, perim_v4_mapped_prefix, sizeof(perim_v4_mapped_prefix));
}

void perim_addr_map_v4(uint8_t out[16], const void *v4)
{
	memcpy(out, perim_v4_mapped_prefix, sizeof(perim_v4_mapped_prefix));
	memcpy(out + 12, v4, 4);
}

void perim_addr_format(const uint8_t addr[16], char *buf, size_t len)
{
	if (perim_addr_is_v4_mapped(addr))
		inet_ntop(AF_INET, addr + 12, buf, len);
	else
		inet_ntop(AF_INET6, addr, buf, len);
}

const struct perim_unit perim_pps_units[] = {
	{ "pps", 1 }, { "kpps", 1000 }, { "mpps", 1000000 }, { NULL, 0 },
};

const struct perim_unit perim_bit_units[] = {
	{ "kbit", 1000 }, { "mbit", 1000000 }, { "gbit", 1000000000 }, { NULL, 0 },
};

/* The largest of the ascending units that divides v, the smallest for 0, NULL if none. */
static const struct perim_unit *largest_exact_unit(const struct perim_unit *units, uint64_t v)
{
	const struct perim_unit *best = NULL;

	if (!v)
		return units;
	for (const struct perim_unit *u = units; u->name; u++)
		if (v % u->mult == 0)
			best = u;
	return best;
}

const char *perim_pps_text(char *buf, size_t len, uint64_t pps)
{
	const struct perim_unit *u = largest_exact_unit(perim_pps_units, pps);

	snprintf(buf, len, "%" PRIu64 "%s", pps / u->mult, u->name);
	return buf;
}

const char *perim_bits_text(char *buf, size_t len, uint64_t bits)
{
	const struct perim_unit *u = largest_exact_unit(perim_bit_units, bits);

	if (u)
		snprintf(buf, len, "%" PRIu64 "%s", bits / u->mult, u->name);
	else
		snprintf(buf, len, "%" PRIu64 "bit", bits);
	return buf;
}

uint64_t perim_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
