// SPDX-License-Identifier: GPL-2.0
/* `perimctl fleet status` and the fleet's metrics: one set of counters, two renderings. */
#include <stdio.h>

#include "fleet/export/export.h"
#include "fleet/fleet.h"
#include "fleet/fleet_int.h"
#include "fleet/group/group.h"
#include "daemon.h"
#include "json_add.h"

/* An unset option is null, not "". */
static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

struct json_object *fleet_status_json(struct perimd_fleet *f)
{
	const struct fleet_decisions *ds = &f->decisions;
	struct json_object *o = json_object_new_object();
	struct fleet_export_counters ec = { 0 };
	struct fleet_link_status st;
	char user[64];

	fleet_link_status(&f->link, &st);
	fleet_export_counters(f->export, &ec);
	json_add_str(o, "name", nonempty(f->name));
	json_add_str(o, "group", nonempty(f->opts->group));
	json_add_str(o, "servers", nonempty(f->servers_shown));
	json_object_object_add(o, "connected", json_object_new_boolean(st.connected));
	json_add_str(o, "server", nonempty(st.url));
	json_add_str(o, "server_id", nonempty(st.server_id));
	perimd_fleet_servers_user(f->opts->servers, user, sizeof(user));
	if (!user[0])
		snprintf(user, sizeof(user), "%s", f->opts->creds_nkey);
	json_add_str(o, "user", nonempty(user));
	json_add_str(o, "creds", nonempty(f->opts->creds));
	json_object_object_add(o, "tls", json_object_new_boolean(f->opts->tls_ca[0] != '\0'));
	json_add_u64(o, "reconnects", st.reconnects);
	json_add_str(o, "last_error", nonempty(st.last_error));
	json_add_str(o, "bucket", nonempty(PERIMD_FLEET_BUCKET));
	json_add_u64(o, "decisions", ds->n_active);
	json_add_u64(o, "decisions_cap", PERIMD_FLEET_MAX_DECISIONS);
	json_add_u64(o, "last_revision", ds->last_revision);
	json_add_u64(o, "lag_entries", ds->lag_entries);
	json_add_u64(o, "last_apply_latency_ms", ds->last_latency_ms);
	json_add_u64(o, "applies", ds->applies);
	json_add_u64(o, "apply_failures", ds->apply_failures);
	json_add_u64(o, "apply_us_total", ds->apply_ns_total / 1000);
	json_add_u64(o, "rejected_malformed", ds->rejected_malformed);
	json_add_u64(o, "rejected_cap", ds->rejected_cap);
	json_add_u64(o, "removed_by_reconcile", ds->removed_by_reconcile);
	json_add_u64(o, "snapshots", ds->snapshots);
	json_add_u64(o, "catchup_ms", ds->catchup_ms);
	json_add_u64(o, "catchup_entries", ds->catchup_entries);
	json_add_u64(o, "requests", f->requests);
	json_add_u64(o, "requests_failed", f->requests_failed);
	json_add_u64(o, "events_published", ec.published);
	json_add_u64(o, "events_dropped", ec.dropped);
	json_add_u64(o, "events_queued", ec.queued);
	fleet_group_status_add(f->group, o);
	return o;
}

static void counter(FILE *out, const char *name, const char *help, const char *gw, uint64_t v, bool gauge)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n%s{fleet_name=\"%s\"} %llu\n", name, help, name,
		gauge ? "gauge" : "counter", name, gw, (unsigned long long)v);
}

void perimd_fleet_metrics(struct perimd *d, FILE *out)
{
	struct perimd_fleet *f = d->fleet;
	struct fleet_export_counters ec = { 0 };
	struct fleet_link_status st;

	if (!f)
		return;
	fleet_link_status(&f->link, &st);
	fleet_export_counters(f->export, &ec);
	counter(out, "perim_fleet_connected", "1 while connected to a NATS server", f->name, st.connected, true);
	counter(out, "perim_fleet_reconnects_total", "reconnections to NATS", f->name, st.reconnects, false);
	counter(out, "perim_fleet_decisions", "fleet block decisions in force", f->name,
		f->decisions.n_active, true);
	counter(out, "perim_fleet_last_revision", "newest decision revision applied", f->name,
		f->decisions.last_revision, true);
	counter(out, "perim_fleet_lag_entries", "bucket entries not yet delivered at the last one", f->name,
		f->decisions.lag_entries, true);
	counter(out, "perim_fleet_decisions_rejected_total", "malformed decisions rejected", f->name,
		f->decisions.rejected_malformed, false);
	counter(out, "perim_fleet_decisions_over_cap_total", "decisions rejected over the cap", f->name,
		f->decisions.rejected_cap, false);
	counter(out, "perim_fleet_apply_failures_total", "fleet applies the kernel refused", f->name,
		f->decisions.apply_failures, false);
	counter(out, "perim_fleet_events_published_total", "events handed to NATS", f->name, ec.published, false);
	counter(out, "perim_fleet_events_dropped_total", "events dropped: export buffer full", f->name,
		ec.dropped, false);
	fleet_group_metrics(f->group, out, f->name);
}
