// SPDX-License-Identifier: GPL-2.0
/* The SYN-cookie stage's counters (perim_syn_stats) for stats and metrics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "syn/syn.h"
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
	json_object_object_add(o, "synack_sent", json_object_new_uint64(sum.synack_sent));
	json_object_object_add(o, "cookie_valid", json_object_new_uint64(sum.cookie_valid));
	json_object_object_add(o, "cookie_bad", json_object_new_uint64(sum.cookie_bad));
	json_object_object_add(o, "dry_run_syns", json_object_new_uint64(sum.dry_run_syns));
	json_object_object_add(o, "dry_run_bad", json_object_new_uint64(sum.dry_run_bad));
	json_object_object_add(o, "unhandled", json_object_new_uint64(sum.unhandled));
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
