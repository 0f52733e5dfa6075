/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd's state as one object. Only the headers of the members held by
 * value are included; every other module is a pointer, declared here and
 * included by the .c files that use it.
 */
#ifndef PERIMD_DAEMON_H
#define PERIMD_DAEMON_H

#include <stdbool.h>

#include "perim.h"
#include "btf.h"
#include "config.h"
#include "datapath/egress.h"
#include "datapath/loader.h"
#include "links/nicstats.h"
#include "telemetry/stats.h"

struct perim_loop;
struct perim_model;
struct perim_installed;
struct perim_tracers;
struct perimd_bus;
struct perim_proctable;
struct perimd_listeners;
struct perimd_netlink;
struct perimd_follow;

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
	struct perimd_bus *bus;                /* events/bus.h: tracer events and XDP drop samples */
	struct perim_proctable *procs;         /* procs/: the processes events name */
	struct perimd_listeners *listeners;    /* procs/: who listens where (drop attribution) */
	bool restoring;                        /* reading the state file: one apply at the end */
	char state_error[512];                 /* why the state file cannot be written; "" if it can */
	struct perimd_egress egress;           /* egress programs (datapath/egress.h) */
	struct perimd_netlink *nl;             /* link cache and rtnetlink queries */
	struct perimd_nicstats nic;            /* the NICs' own counters */
	struct perimd_follow *follow;          /* follow.h: re-attach as links come and go */
	struct perimd_fleet *fleet;            /* fleet/fleet.h; NULL without --fleet */
};

#endif /* PERIMD_DAEMON_H */
