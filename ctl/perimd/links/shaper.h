/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The egress shaper: a root TBF qdisc with fq_codel under it, installed,
 * changed, read and removed over rtnetlink (libnl-route-3's qdisc API);
 * never by running tc.
 *
 * perim recognises its own root qdisc by its handle: a TBF with major
 * PERIM_SHAPE_MAJOR. A root qdisc with handle 0 is the kernel's default
 * (noqueue, mq, pfifo_fast, fq_codel, ...) and is replaced without asking;
 * any other root qdisc was created by someone else and is replaced only
 * with force.
 */
#ifndef PERIMD_SHAPER_H
#define PERIMD_SHAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cmd.h"

#define PERIM_SHAPE_MAJOR       0x7e51u   /* root TBF "7e51:" */
#define PERIM_SHAPE_CHILD_MAJOR 0x7e52u   /* fq_codel "7e52:" under 7e51:1 */

struct perim_qdisc_info {
	bool present;
	char kind[32];
	uint32_t handle;           /* TC_HANDLE form: major << 16 */
	uint64_t sent_bytes, sent_packets, dropped, overlimits, requeues, backlog_bytes, qlen;
	uint64_t rate_bytes, burst_bytes;  /* tbf only: as the kernel reports them */
};

enum perim_root_owner {
	PERIM_ROOT_DEFAULT = 0,    /* none or the kernel's default (handle 0) */
	PERIM_ROOT_PERIM,          /* perim's TBF */
	PERIM_ROOT_FOREIGN,        /* created by someone else */
};

/* The resolved kernel parameters of a shape spec on a link with this MTU. */
struct perim_shape_params {
	uint64_t rate_bytes;       /* bytes per second */
	uint32_t burst_bytes;
	uint32_t latency_us;
	uint32_t child_limit_pkts; /* fq_codel's queue bound */
};

/* The root qdisc of ifindex and the child perim puts under its own. 0 or PERIM_EXIT_FAIL. */
int perim_shaper_read(int ifindex, struct perim_qdisc_info *root, struct perim_qdisc_info *child,
		      char *err, size_t errlen);
enum perim_root_owner perim_shaper_owner(const struct perim_qdisc_info *root);

/*
 * Install or change perim's shaper on dev. A foreign root qdisc is left in
 * place unless force: PERIM_EXIT_BADINPUT, err says which qdisc. Kernel
 * errors: PERIM_EXIT_FAIL, and a root perim had just created is removed.
 */
int perim_shaper_apply(const char *dev, int ifindex, const struct perim_shape_spec *s, char *err,
		       size_t errlen);

/* Remove perim's root qdisc; a foreign one is never touched (PERIM_EXIT_BADINPUT). None: 0. */
int perim_shaper_remove(const char *dev, int ifindex, char *err, size_t errlen);

/*
 * {"kind","handle","sent_bytes","sent_packets","dropped","overlimits","requeues","backlog_bytes","qlen"
 *  [,"rate_bits","burst_bytes" (tbf)]}, or NULL when not present.
 */
struct json_object *perim_qdisc_json(const struct perim_qdisc_info *q);

#endif /* PERIMD_SHAPER_H */
