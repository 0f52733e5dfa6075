// SPDX-License-Identifier: GPL-2.0
#include "names.h"

#include <arpa/inet.h>
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

uint64_t perim_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
