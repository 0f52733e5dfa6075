/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd's SYN protection (syncookie set/del/list): per interface slot the
 * protected destinations, applied to nftables (netfilter/synproxy.h) and
 * to the datapath's perim_syn_table (include/perim_syn.h), then persisted.
 * A change is made in the kernel first; a failure later undoes it, so a
 * command either takes effect everywhere or nowhere.
 */
#ifndef PERIMD_SYN_SYN_H
#define PERIMD_SYN_SYN_H

#include <stdio.h>

#include <json-c/json.h>

#include "cmd.h"
#include "perim.h"
#include "perim_syn.h"

struct perimd;

struct perimd_syn {
	int n[PERIM_MAX_IFACES];
	struct perim_syn_spec spec[PERIM_MAX_IFACES][PERIM_SYN_MAX_PROT];
};

/* syncookie set / del / list. 0, PERIM_EXIT_BADINPUT or PERIM_EXIT_FAIL with err set. */
int perimd_syn_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		    char *err, size_t errlen);

/* status: {"available", "reason", "program", "protections": [...]} */
struct json_object *perimd_syn_status_json(struct perimd *d);

/*
 * stats: adds "syncookie" {synack_sent, cookie_valid, cookie_bad,
 * dry_run_syns, dry_run_bad, unhandled} (summed over CPUs) to obj, when the
 * kernel has the stage. 0 or -errno.
 */
int perimd_syn_stats_json(struct perimd *d, int slot, struct json_object *obj);

/* metrics: the perim_syncookie_* families (Prometheus text), when the kernel has the stage. */
void perimd_syn_metrics(struct perimd *d, FILE *f);

/* The interface of slot is detached: its protections go, in the kernel too. */
void perimd_syn_forget_slot(struct perimd *d, int slot);

#endif /* PERIMD_SYN_SYN_H */
