/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How full the per-source bucket tables are (perim_src4 for IPv4 sources,
 * perim_src for IPv6): LRUs that evict silently when full, so an operator
 * sees a spoofed flood filling them in `status` and the metrics. Counted by
 * perimd when asked, never by the datapath.
 */
#ifndef PERIMD_SRC_TABLES_H
#define PERIMD_SRC_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct perim_loader;

struct perimd_src_table {
	const char *name;              /* the map's pinned name */
	const char *family;            /* "ipv4" or "ipv6" */
	uint32_t entries;
	uint32_t max_entries;
};

#define PERIMD_SRC_TABLES 2

/* Both tables, in the order above. 0, or -errno with err naming the table. */
int perimd_src_tables_read(const struct perim_loader *l, struct perimd_src_table out[PERIMD_SRC_TABLES],
			   char *err, size_t errlen);

/* [{"table","family","entries","max_entries"}] of what perimd_src_tables_read gave. */
struct json_object *perimd_src_tables_json(const struct perimd_src_table t[PERIMD_SRC_TABLES]);

#endif /* PERIMD_SRC_TABLES_H */
