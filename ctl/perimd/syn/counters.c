// SPDX-License-Identifier: GPL-2.0
/* The SYN-cookie stage's counters (perim_syn_stats) for stats and metrics (counters.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "json_add.h"
#include "model/rules.h"
#include "names.h"
#include "perim_syn.h"
#include "syn/counters.h"
#include "telemetry/stats.h"
#include "xdp/perim_xdp.skel.h"

/* slot's counters summed over the CPUs. 0 or -errno. */
static int syn_sum(struct perimd *d, int slot, struct perim_syn_counters *sum)
{
	int ncpu = libbpf_num_possible_cpus(), fd, ret = 0;
	struct perim_syn_counters *rows;
	__u32 key = slot;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	rows = calloc(ncpu, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	fd = bpf_map__fd(d->loader.base->maps.perim_syn_stats);
	if (bpf_map_lookup_elem(fd, &key, rows))
		ret = -errno;
	*sum = (struct perim_syn_counters){ 0 };
	for (int i = 0; !ret && i < ncpu; i++) {
		sum->synack_sent += rows[i].synack_sent;
		sum->cookie_valid += rows[i].cookie_valid;
		sum->cookie_bad += rows[i].cookie_bad;
		sum->dry_run_syns += rows[i].dry_run_syns;
		sum->dry_run_bad += rows[i].dry_run_bad;
		sum->unhandled += rows[i].unhandled;
	}
	free(rows);
	return ret;
}

/*
 * The last two 1 Hz samples of every slot's counters, for the rates beside
 * the totals (as telemetry/stats.h keeps the interface's).
 */
struct syn_sample {
	uint64_t time_ns;
	struct perim_syn_counters c[PERIM_MAX_IFACES];
};

static struct syn_sample samples[2];
static unsigned n_samples;

void perimd_syn_sample(struct perimd *d)
{
	struct syn_sample *next = &samples[n_samples % 2];

	if (!d->loader.syn_available)
		return;
	next->time_ns = perim_mono_ns();
	for (int slot = 0; slot < PERIM_MAX_IFACES; slot++)
		if (!d->model->ifaces[slot].used || syn_sum(d, slot, &next->c[slot]))
			memset(&next->c[slot], 0, sizeof(next->c[slot]));
	n_samples++;
}

/* {synack_sent, cookie_valid, cookie_bad}: per second between the last two samples. */
static struct json_object *rates_json(int slot)
{
	const struct syn_sample *a = &samples[n_samples % 2], *b = &samples[(n_samples + 1) % 2];
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{ "synack_sent", offsetof(struct perim_syn_counters, synack_sent) },
		{ "cookie_valid", offsetof(struct perim_syn_counters, cookie_valid) },
		{ "cookie_bad", offsetof(struct perim_syn_counters, cookie_bad) },
	};
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t before = *(const uint64_t *)((const char *)&a->c[slot] + fields[i].off);
		uint64_t after = *(const uint64_t *)((const char *)&b->c[slot] + fields[i].off);
		double per_s = 0;

		perimd_rate(a->time_ns, b->time_ns, before, after, &per_s);
		json_add_u64(o, fields[i].key, (uint64_t)(per_s + 0.5));
	}
	return o;
}

int perimd_syn_stats_json(struct perimd *d, int slot, struct json_object *obj)
{
	struct perim_syn_counters sum;
	struct json_object *o;
	int ret;

	if (!d->loader.syn_available)
		return 0;
	ret = syn_sum(d, slot, &sum);
	if (ret)
		return ret;
	o = json_object_new_object();
	json_add_u64(o, "synack_sent", sum.synack_sent);
	json_add_u64(o, "cookie_valid", sum.cookie_valid);
	json_add_u64(o, "cookie_bad", sum.cookie_bad);
	json_add_u64(o, "dry_run_syns", sum.dry_run_syns);
	json_add_u64(o, "dry_run_bad", sum.dry_run_bad);
	json_add_u64(o, "unhandled", sum.unhandled);
	if (n_samples >= 2)
		json_object_object_add(o, "rates", rates_json(slot));
	json_object_object_add(obj, "syncookie", o);
	return 0;
}

/* An interface label value, escaped as the exposition format wants. */
static void interface_label(FILE *f, const char *dev)
{
	fputs("{interface=\"", f);
	for (const char *p = dev; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputs("\"}", f);
}

static const struct {
	const char *name, *help;
	size_t off;
} syn_families[] = {
	{ "perim_syncookie_synacks_sent_total", "SYNs perim answered from XDP with a SYN cookie.",
	  offsetof(struct perim_syn_counters, synack_sent) },
	{ "perim_syncookie_cookies_valid_total", "ACKs of unknown flows whose SYN cookie was valid (passed on).",
	  offsetof(struct perim_syn_counters, cookie_valid) },
	{ "perim_syncookie_cookies_bad_total", "ACKs of unknown flows with a bad SYN cookie (dropped as bad-cookie).",
	  offsetof(struct perim_syn_counters, cookie_bad) },
};

void perimd_syn_metrics(struct perimd *d, FILE *f)
{
	struct perim_syn_counters sum[PERIM_MAX_IFACES];
	bool have[PERIM_MAX_IFACES] = { false };

	if (!d->loader.syn_available)
		return;
	for (int slot = 0; slot < PERIM_MAX_IFACES; slot++)
		have[slot] = d->model->ifaces[slot].used && !syn_sum(d, slot, &sum[slot]);
	for (size_t k = 0; k < sizeof(syn_families) / sizeof(syn_families[0]); k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", syn_families[k].name, syn_families[k].help,
			syn_families[k].name);
		for (int slot = 0; slot < PERIM_MAX_IFACES; slot++) {
			if (!have[slot])
				continue;
			fputs(syn_families[k].name, f);
			interface_label(f, d->model->ifaces[slot].dev);
			fprintf(f, " %llu\n", *(const unsigned long long *)((const char *)&sum[slot] +
									     syn_families[k].off));
		}
	}
}
