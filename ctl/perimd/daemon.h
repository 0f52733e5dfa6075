/* SPDX-License-Identifier: GPL-2.0 */
/* perimd's state as one object, and the execution of a parsed command against it. */
#ifndef PERIMD_DAEMON_H
#define PERIMD_DAEMON_H

#include <json-c/json.h>

#include "btf.h"
#include "cmd.h"
#include "config.h"
#include "egress.h"
#include "loader.h"
#include "loop.h"
#include "rules.h"
#include "netlink.h"
#include "nicstats.h"
#include "stats.h"
#include "tracers.h"

struct perimd {
	struct perimd_config cfg;
	struct perimd_btf btf;
	struct perim_loop *loop;
	struct perim_loader loader;
	struct perim_model *model;             /* what is applied to the maps */
	struct perim_installed *installed;     /* what the maps hold */
	struct perim_attachment att[PERIM_MAX_IFACES];   /* by interface slot */
	struct perimd_stats stats;
	struct perim_tracers *tracers;
	bool restoring;                        /* reading the state file: one apply at the end */
	struct perimd_egress egress;           /* shapers (egress.h) */
	struct perimd_netlink *nl;             /* link cache and rtnetlink queries */
	struct perimd_nicstats nic;            /* the NICs' own counters */
	struct perimd_follow *follow;          /* follow.h: re-attach as links come and go */
	struct perimd_syn *syn;                /* syn/syn.h: SYN protections, made at first use */
};

/*
 * Run one command. Returns the exit status (PERIM_EXIT_*); on success
 * *result is the result object (may be NULL), else err holds the message.
 * PERIM_CMD_EVENTS is the socket's business, not handled here.
 */
int perimd_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		char *err, size_t errlen);

/* Apply the model to the maps and write the state file (end of start-up). */
int perimd_commit_model(struct perimd *d, char *err, size_t errlen);

#endif /* PERIMD_DAEMON_H */
