/* SPDX-License-Identifier: GPL-2.0 */
/* The fleet's state inside perimd, shared by fleet.c (control) and status.c. */
#ifndef PERIMD_FLEET_INT_H
#define PERIMD_FLEET_INT_H

#include <stdint.h>

#include "fleet/decisions/decisions.h"
#include "fleet/inbox.h"
#include "fleet/link.h"
#include "fleet/options.h"

/* A block the bucket stored, answered once this gateway has taken its revision too. */
struct fleet_parked {
	struct fleet_parked *next;
	int fd;
	uint64_t revision;
	uint64_t deadline_ms;
	struct json_object *result;
};

struct perimd_fleet {
	struct perimd *d;
	const struct perimd_fleet_opts *opts;
	char name[PERIMD_FLEET_NAME_MAX];
	char servers_shown[1024];      /* --fleet without passwords */
	struct fleet_inbox *inbox;
	struct fleet_link link;
	bool link_started;
	struct fleet_decisions decisions;
	int timer_fd;
	int drops_timer_fd;            /* -1 without --fleet-events */
	uint64_t requests, requests_failed;
	struct fleet_parked *parked;
	struct fleet_export *export;   /* export.c; NULL without --fleet-events */
	struct fleet_group *group;     /* group/: group rulesets and this gateway's report */
};

/* status.c: {"name","group","connected","server",...} */
struct json_object *fleet_status_json(struct perimd_fleet *f);

#endif /* PERIMD_FLEET_INT_H */
