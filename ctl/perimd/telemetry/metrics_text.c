// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus text exposition (format 0.0.4) of perimd's counters: one
 * snapshot of the per-CPU maps per scrape, then one family at a time (a
 * family's samples must be contiguous). Counters are the datapath's own
 * totals; Prometheus derives the rates.
 *
 * Label sets are chosen so that summing a family over a label means
 * something: received = passed + dropped (over reason); a rule's
 * verdict="passed" + verdict="dropped" = what it matched. Would-drop packets
 * (dry-run rules) are also in passed, so they have families of their own.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "tracing/tracers.h"
#include "telemetry/metrics.h"
#include "telemetry/src_tables.h"
#include "telemetry/stats.h"
#include "perim.h"
#include "fleet/fleet.h"
#include "log.h"
#include "syn/counters.h"

struct if_snap {
	const char *dev;
	bool attached;
	struct perim_if_counters c;
};

struct rule_snap {
	uint32_t id;
	const char *dev;
	struct perim_rule_counters c;
};

struct snapshot {
	struct if_snap ifc[PERIM_MAX_IFACES];
	int n_ifc;
	struct rule_snap *rule;
	size_t n_rule;
};

/* ---- snapshot ---- */

static void snap_ifaces(struct perimd *d, struct snapshot *s)
{
	for (int slot = 0; slot < PERIM_MAX_IFACES; slot++) {
		struct if_snap *i = &s->ifc[s->n_ifc];

		if (!d->model->ifaces[slot].used || perimd_stats_read_if(&d->stats, slot, &i->c))
			continue;
		i->dev = d->model->ifaces[slot].dev;
		i->attached = d->att[slot].attached;
		s->n_ifc++;
	}
}

static int snap_rules(struct perimd *d, struct snapshot *s)
{
	size_t n = 0;

	for (uint32_t id = 1; id < d->model->rules_end; id++)
		n += d->model->rules[id].used;
	s->rule = calloc(n ? n : 1, sizeof(*s->rule));
	if (!s->rule)
		return -ENOMEM;
	for (uint32_t id = 1; id < d->model->rules_end && s->n_rule < n; id++) {
		struct rule_snap *r = &s->rule[s->n_rule];

		if (!d->model->rules[id].used || perimd_stats_read_rule(&d->stats, id, &r->c))
			continue;
		r->id = id;
		r->dev = d->model->ifaces[d->model->rules[id].iface].dev;
		s->n_rule++;
	}
	return 0;
}

/* ---- writing ---- */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *key, const char *value, bool last)
{
	fprintf(f, "%s=\"", key);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputs(last ? "\"}" : "\",", f);
}

static const struct {
	const char *name, *help;
	size_t off;
} if_counters[] = {
	{ "perim_packets_received_total", "Packets perim's XDP program saw on the interface.",
	  offsetof(struct perim_if_counters, rx_packets) },
	{ "perim_bytes_received_total", "Bytes perim's XDP program saw on the interface.",
	  offsetof(struct perim_if_counters, rx_bytes) },
	{ "perim_packets_passed_total", "Packets perim passed on (including allowed and would-drop).",
	  offsetof(struct perim_if_counters, passed_packets) },
	{ "perim_bytes_passed_total", "Bytes perim passed on.",
	  offsetof(struct perim_if_counters, passed_bytes) },
	{ "perim_packets_allowed_total", "Packets that bypassed every rule through the allow list.",
	  offsetof(struct perim_if_counters, allowed_packets) },
	{ "perim_packets_would_drop_total", "Packets dry-run rules would have dropped (passed).",
	  offsetof(struct perim_if_counters, would_drop_packets) },
};

static void write_if_counters(FILE *f, const struct snapshot *s)
{
	for (size_t k = 0; k < sizeof(if_counters) / sizeof(if_counters[0]); k++) {
		family(f, if_counters[k].name, "counter", if_counters[k].help);
		for (int i = 0; i < s->n_ifc; i++) {
			const __u64 *v = (const void *)((const char *)&s->ifc[i].c + if_counters[k].off);

			fprintf(f, "%s{", if_counters[k].name);
			label(f, "interface", s->ifc[i].dev, true);
			fprintf(f, " %llu\n", (unsigned long long)*v);
		}
	}
}

static void write_if_drops(FILE *f, const struct snapshot *s, bool bytes)
{
	const char *name = bytes ? "perim_bytes_dropped_total" : "perim_packets_dropped_total";

	family(f, name, "counter", bytes ? "Bytes perim's XDP program dropped, by reason."
					 : "Packets perim's XDP program dropped, by reason.");
	for (int i = 0; i < s->n_ifc; i++) {
		for (int r = 1; r < PERIM_REASON_MAX; r++) {
			const struct perim_if_counters *c = &s->ifc[i].c;

			fprintf(f, "%s{", name);
			label(f, "interface", s->ifc[i].dev, false);
			label(f, "reason", perim_reason_names[r], true);
			fprintf(f, " %llu\n", (unsigned long long)(bytes ? c->dropped_bytes[r] : c->dropped_packets[r]));
		}
	}
}

static void write_attached(FILE *f, const struct snapshot *s)
{
	family(f, "perim_interface_attached", "gauge", "1 when perim's XDP program is attached to the interface.");
	for (int i = 0; i < s->n_ifc; i++) {
		fputs("perim_interface_attached{", f);
		label(f, "interface", s->ifc[i].dev, true);
		fprintf(f, " %d\n", s->ifc[i].attached);
	}
}

static void rule_labels(FILE *f, const struct rule_snap *r, const char *verdict)
{
	char id[16];

	snprintf(id, sizeof(id), "%u", r->id);
	label(f, "interface", r->dev, false);
	label(f, "rule", id, !verdict);
	if (verdict)
		label(f, "verdict", verdict, true);
}

static void write_rule_verdicts(FILE *f, const struct snapshot *s, bool bytes)
{
	const char *name = bytes ? "perim_rule_bytes_total" : "perim_rule_packets_total";

	family(f, name, "counter", bytes ? "Bytes a rule matched, by verdict (passed, dropped)."
					 : "Packets a rule matched, by verdict (passed, dropped).");
	for (size_t i = 0; i < s->n_rule; i++) {
		const struct perim_rule_counters *c = &s->rule[i].c;

		fprintf(f, "%s{", name);
		rule_labels(f, &s->rule[i], "passed");
		fprintf(f, " %llu\n", (unsigned long long)(bytes ? c->passed_bytes : c->passed_packets));
		fprintf(f, "%s{", name);
		rule_labels(f, &s->rule[i], "dropped");
		fprintf(f, " %llu\n", (unsigned long long)(bytes ? c->dropped_bytes : c->dropped_packets));
	}
}

static void write_rule_would_drop(FILE *f, const struct snapshot *s)
{
	family(f, "perim_rule_would_drop_packets_total", "counter",
	       "Packets a dry-run rule would have dropped (counted as passed).");
	for (size_t i = 0; i < s->n_rule; i++) {
		fputs("perim_rule_would_drop_packets_total{", f);
		rule_labels(f, &s->rule[i], NULL);
		fprintf(f, " %llu\n", (unsigned long long)s->rule[i].c.would_drop_packets);
	}
}

/* The tracer hooks' event counters, as perim_tracers_hooks_json reports them. */
static void write_tracer_family(FILE *f, struct json_object *hooks, const char *name, const char *key,
				const char *help)
{
	bool any = false;

	for (size_t i = 0; i < json_object_array_length(hooks); i++) {
		struct json_object *h = json_object_array_get_idx(hooks, i), *v, *hook_name;

		if (!json_object_object_get_ex(h, key, &v) || !json_object_object_get_ex(h, "name", &hook_name))
			continue;
		if (!any)
			family(f, name, "counter", help);
		any = true;
		fprintf(f, "%s{", name);
		label(f, "hook", json_object_get_string(hook_name), true);
		fprintf(f, " %llu\n", (unsigned long long)json_object_get_uint64(v));
	}
}

static void write_tracers(FILE *f, struct perimd *d)
{
	struct json_object *hooks;

	if (!d->tracers)
		return;
	hooks = perim_tracers_hooks_json(d->tracers);
	if (!hooks)
		return;
	write_tracer_family(f, hooks, "perim_tracer_events_total", "generated",
			    "Events a tracer hook generated in the kernel.");
	write_tracer_family(f, hooks, "perim_tracer_events_lost_total", "lost",
			    "Events a tracer hook lost (ring buffer full).");
	write_tracer_family(f, hooks, "perim_tracer_events_delivered_total", "delivered",
			    "Events perimd read from a tracer hook's ring buffer.");
	json_object_put(hooks);
}

/* The per-source tables' fill; left out (and logged) when the kernel could not be asked. */
static void write_source_tables(FILE *f, struct perimd *d)
{
	struct perimd_src_table t[PERIMD_SRC_TABLES];
	char err[256];

	if (perimd_src_tables_read(&d->loader, t, err, sizeof(err))) {
		pr_warn("perimd: metrics: %s\n", err);
		return;
	}
	family(f, "perim_source_table_entries", "gauge",
	       "Entries a per-source bucket table holds (an LRU: when full, it evicts).");
	for (int i = 0; i < PERIMD_SRC_TABLES; i++) {
		fputs("perim_source_table_entries{", f);
		label(f, "table", t[i].name, true);
		fprintf(f, " %u\n", t[i].entries);
	}
	family(f, "perim_source_table_max_entries", "gauge", "The size of a per-source bucket table.");
	for (int i = 0; i < PERIMD_SRC_TABLES; i++) {
		fputs("perim_source_table_max_entries{", f);
		label(f, "table", t[i].name, true);
		fprintf(f, " %u\n", t[i].max_entries);
	}
}

char *perimd_metrics_render(struct perimd *d, size_t *len)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	char *text = NULL;
	FILE *f;

	if (!s)
		return NULL;
	snap_ifaces(d, s);
	if (snap_rules(d, s))
		goto out;
	f = open_memstream(&text, len);
	if (!f)
		goto out;
	write_attached(f, s);
	write_if_counters(f, s);
	write_if_drops(f, s, false);
	write_if_drops(f, s, true);
	write_rule_verdicts(f, s, false);
	write_rule_verdicts(f, s, true);
	write_rule_would_drop(f, s);
	write_tracers(f, d);
	write_source_tables(f, d);
	perimd_fleet_metrics(d, f);
	perimd_syn_metrics(d, f);
	if (fclose(f)) {
		free(text);
		text = NULL;
	}
out:
	free(s->rule);
	free(s);
	return text;
}
