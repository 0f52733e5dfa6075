// SPDX-License-Identifier: GPL-2.0
/* A drop summary per NIC: the counters by reason and the sources dropped most (drops.c's top). */
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "telemetry/drops.h"
#include "fleet/export/drops_summary.h"
#include "fleet/link.h"

#define TOP_SOURCES 10

static struct json_object *reasons_json(struct perimd *d, int slot)
{
	struct json_object *o = json_object_new_object();
	struct perim_if_counters c;

	if (perimd_stats_read_if(&d->stats, slot, &c))
		return o;
	for (int r = 1; r < PERIM_REASON_MAX; r++)
		if (c.dropped_packets[r])
			json_object_object_add(o, perim_reason_names[r], json_object_new_int64(c.dropped_packets[r]));
	return o;
}

static struct json_object *top_json(struct perimd *d, const char *dev)
{
	struct perim_cmd cmd = { .kind = PERIM_CMD_TOP };
	struct json_object *result = NULL, *sources, *top = json_object_new_array();
	char err[256];

	snprintf(cmd.dev, sizeof(cmd.dev), "%s", dev);
	if (perimd_drops_top(d, &cmd, &result, err, sizeof(err)) || !result)
		return top;
	if (json_object_object_get_ex(result, "sources", &sources) && json_object_is_type(sources, json_type_array))
		for (size_t i = 0; i < json_object_array_length(sources) && i < TOP_SOURCES; i++)
			json_object_array_add(top, json_object_get(json_object_array_get_idx(sources, i)));
	json_object_put(result);
	return top;
}

struct json_object *fleet_drops_summary(struct perimd *d, const char *name)
{
	struct json_object *o = json_object_new_object(), *ifaces = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "time_ms", json_object_new_int64(fleet_now_ms()));
	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		struct json_object *nic;

		if (!d->model->ifaces[s].used)
			continue;
		nic = json_object_new_object();
		json_object_object_add(nic, "dev", json_object_new_string(d->model->ifaces[s].dev));
		json_object_object_add(nic, "dropped", reasons_json(d, s));
		json_object_object_add(nic, "top", top_json(d, d->model->ifaces[s].dev));
		json_object_array_add(ifaces, nic);
	}
	json_object_object_add(o, "interfaces", ifaces);
	return o;
}
