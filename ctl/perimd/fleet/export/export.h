/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Event export (--fleet-events): the loop copies each JSON line it
 * publishes into a bounded queue (never waiting: a full queue drops the
 * line and counts it); a thread hands the queue to NATS while connected.
 * Subjects: perim.events.<name>.<type>, perim.drops.<name>.
 */
#ifndef PERIMD_FLEET_EXPORT_H
#define PERIMD_FLEET_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "fleet/link.h"

#define FLEET_EXPORT_QUEUE_MAX 4096

struct fleet_export;

struct fleet_export_counters {
	uint64_t published;        /* handed to the NATS connection */
	uint64_t dropped;          /* not queued: the queue was full */
	uint64_t queued;           /* waiting now */
};

/* types: a bit per event type (1u << type) to publish. NULL with errno. */
struct fleet_export *fleet_export_new(struct fleet_link *link, const char *name, uint32_t types);
void fleet_export_free(struct fleet_export *x);

/* The loop, for each event line: queued if its type is exported and there is room. */
void fleet_export_event(struct fleet_export *x, int type, const char *type_name, const char *json, size_t len);
/* The loop: a drop summary, to perim.drops.<name>. */
void fleet_export_drops(struct fleet_export *x, const char *json, size_t len);

/* Zeros for a NULL export. */
void fleet_export_counters(struct fleet_export *x, struct fleet_export_counters *out);

#endif /* PERIMD_FLEET_EXPORT_H */
