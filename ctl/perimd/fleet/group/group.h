/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Group rulesets (perimd --fleet-group GROUP): a "perimctl apply" file an
 * operator publishes with "fleet apply GROUP FILE" to the bucket
 * perim-rulesets (key GROUP); every gateway of the group watches its key
 * and applies each revision through the local apply path, all or nothing,
 * and reports the revision it runs (or its refusal) in perim-gateways
 * (key GROUP.NAME). Everything NATS does runs in this module's threads.
 */
#ifndef PERIMD_FLEET_GROUP_H
#define PERIMD_FLEET_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

#include "cmd.h"

#define FLEET_GROUP_RULESETS_BUCKET "perim-rulesets"
#define FLEET_GROUP_GATEWAYS_BUCKET "perim-gateways"
/* A ruleset's cap: under nats-server's default max_payload (1 MiB), about 12,000 limit lines. */
#define FLEET_GROUP_RULESET_MAX (960u << 10)

struct perimd;
struct fleet_link;
struct fleet_group;

/*
 * group: --fleet-group ("" = none: this perimd only publishes and lists);
 * record: where the applied revision is kept ("" = nowhere). NULL with err set.
 */
struct fleet_group *fleet_group_start(struct perimd *d, struct fleet_link *link, const char *name,
				      const char *group, char *err, size_t errlen);
/* Before the link stops: joins the threads. */
void fleet_group_stop(struct fleet_group *g);

/* fleet apply, fleet gateways: takes fd and answers on it (now or once NATS has). */
void fleet_group_submit(struct fleet_group *g, const struct perim_cmd *cmd, int fd);

/* fleet status: group_revision, group_error, ... added to o. */
void fleet_group_status_add(struct fleet_group *g, struct json_object *o);
void fleet_group_metrics(struct fleet_group *g, FILE *out, const char *name);

#endif /* PERIMD_FLEET_GROUP_H */
