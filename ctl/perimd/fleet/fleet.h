/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd in a fleet (--fleet): block decisions shared over a NATS JetStream
 * key-value bucket, applied on every perimeter NIC, and the fleet's status.
 * Without --fleet none of this runs and libnats is never called.
 */
#ifndef PERIMD_FLEET_H
#define PERIMD_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

#include "cmd.h"

struct perimd;
struct perimd_fleet;

/*
 * Before the first apply of a restarted perimd (--fleet only): the fleet-deny
 * entries the pins hold become the model's fleet prefixes until the bucket
 * has been read. 0 or -1 (out of memory).
 */
int perimd_fleet_recover(struct perimd *d);

/* Starts connecting (in the background) when --fleet was given. 0, or PERIM_EXIT_* with err. */
int perimd_fleet_start(struct perimd *d, char *err, size_t errlen);
void perimd_fleet_stop(struct perimd *d);

/* block and unblock are answered once the bucket acknowledged them: the fleet takes the client. */
bool perimd_fleet_answers_later(const struct perim_cmd *cmd);
/* Takes fd (a control socket client with its request read) and answers on it. */
void perimd_fleet_submit(struct perimd *d, const struct perim_cmd *cmd, int fd);

/* fleet list / fleet status. */
int perimd_fleet_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		      char *err, size_t errlen);

/* Prometheus text for the fleet's counters (nothing without --fleet). */
void perimd_fleet_metrics(struct perimd *d, FILE *f);

#endif /* PERIMD_FLEET_H */
