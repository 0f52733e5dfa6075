// SPDX-License-Identifier: GPL-2.0
/* Per-CPU counters summed, sampled at 1 Hz for rates, rendered as the stats JSON. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "telemetry/stats.h"
#include "model/rules.h"
#include "perim.h"
#include "json_add.h"
#include "names.h"

/* Rules whose counters one BPF_MAP_LOOKUP_BATCH of the 1 Hz sample reads. */
#define RULE_BATCH 256

int perimd_stats_init(struct perimd_stats *s, int if_fd, int rule_fd)
{
	size_t biggest = sizeof(struct perim_if_counters);

	if (sizeof(struct perim_rule_counters) > biggest)
		biggest = sizeof(struct perim_rule_counters);
	memset(s, 0, sizeof(*s));
	s->if_fd = if_fd;
	s->rule_fd = rule_fd;
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0)
		return s->ncpus ? s->ncpus : -EINVAL;
	s->percpu = calloc(s->ncpus, biggest);
	s->batch_keys = calloc(RULE_BATCH, sizeof(*s->batch_keys));
	s->batch_vals = calloc((size_t)RULE_BATCH * s->ncpus, sizeof(struct perim_rule_counters));
	s->prev = calloc(1, sizeof(*s->prev));
	s->last = calloc(1, sizeof(*s->last));
	if (!s->percpu || !s->batch_keys || !s->batch_vals || !s->prev || !s->last) {
		perimd_stats_fini(s);
		return -ENOMEM;
	}
	return 0;
}

void perimd_stats_fini(struct perimd_stats *s)
{
	free(s->percpu);
	free(s->batch_keys);
	free(s->batch_vals);
	free(s->prev);
	free(s->last);
	s->percpu = s->batch_vals = s->prev = s->last = NULL;
	s->batch_keys = NULL;
}

/*
 * Sum ncpus copies of a struct made only of __u64 fields. Read and written
 * as __u64 (unsigned long long), the fields' own type: as uint64_t (unsigned
 * long) the compiler may assume the writes do not touch the struct, and did
 * once this was inlined.
 */
static void sum_u64(const void *percpu, int ncpus, size_t size, void *out)
{
	const __u64 *in = percpu;
	__u64 *acc = out;
	size_t n = size / sizeof(__u64);

	memset(out, 0, size);
	for (int c = 0; c < ncpus; c++)
		for (size_t i = 0; i < n; i++)
			acc[i] += in[c * n + i];
}

/* One entry of a per-CPU counter map, summed over the CPUs into out (size bytes). */
static int read_summed(struct perimd_stats *s, int fd, __u32 key, void *out, size_t size)
{
	if (bpf_map_lookup_elem(fd, &key, s->percpu) < 0)
		return -errno;
	sum_u64(s->percpu, s->ncpus, size, out);
	return 0;
}

int perimd_stats_read_if(struct perimd_stats *s, int slot, struct perim_if_counters *out)
{
	return read_summed(s, s->if_fd, slot, out, sizeof(*out));
}

int perimd_stats_read_rule(struct perimd_stats *s, uint32_t id, struct perim_rule_counters *out)
{
	return read_summed(s, s->rule_fd, id, out, sizeof(*out));
}

uint64_t perimd_if_dropped(const struct perim_if_counters *c)
{
	uint64_t n = 0;

	for (int r = 1; r < PERIM_REASON_MAX; r++)
		n += c->dropped_packets[r];
	return n;
}

uint64_t perimd_stats_if_dropped(struct perimd_stats *s, int slot)
{
	struct perim_if_counters c;

	return perimd_stats_read_if(s, slot, &c) ? 0 : perimd_if_dropped(&c);
}

static void sample_rule(struct perimd_sample *next, uint32_t id, const struct perim_rule_counters *rc)
{
	next->rule[id] = (struct perimd_rule_sample){ rc->matched_packets, rc->dropped_packets };
}

/*
 * The live rules' counters, RULE_BATCH slots per syscall (BPF_MAP_LOOKUP_BATCH,
 * 5.6+): thousands of rules cost tens of syscalls a second, not thousands.
 * -errno when the first batch fails (the caller reads rule by rule).
 */
static int sample_rules_batched(struct perimd_stats *s, const struct perim_model *m, struct perimd_sample *next)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t vsize = (size_t)s->ncpus * sizeof(struct perim_rule_counters);
	struct perim_rule_counters rc;
	__u32 in, out, count;
	bool first = true;
	int ret;

	do {
		count = RULE_BATCH;
		ret = bpf_map_lookup_batch(s->rule_fd, first ? NULL : &in, &out, s->batch_keys, s->batch_vals,
					   &count, &opts) < 0 ? -errno : 0;
		/* -ENOENT: the map ended inside this batch. A later failure keeps what was read. */
		if (ret && ret != -ENOENT)
			return first ? ret : 0;
		for (__u32 i = 0; i < count; i++) {
			uint32_t id = s->batch_keys[i];

			if (id >= m->rules_end || !m->rules[id].used)
				continue;
			sum_u64((const char *)s->batch_vals + i * vsize, s->ncpus, sizeof(rc), &rc);
			sample_rule(next, id, &rc);
		}
		in = out;
		first = false;
	} while (!ret && count && in + 1 < m->rules_end);
	return 0;
}

static void sample_rules_one_by_one(struct perimd_stats *s, const struct perim_model *m, struct perimd_sample *next)
{
	struct perim_rule_counters rc;

	for (uint32_t id = 1; id < m->rules_end; id++)
		if (m->rules[id].used && !perimd_stats_read_rule(s, id, &rc))
			sample_rule(next, id, &rc);
}

void perimd_stats_sample(struct perimd_stats *s, const struct perim_model *m)
{
	struct perimd_sample *next = s->prev;
	struct perim_if_counters ic;

	/*
	 * Reuse the older buffer for the new sample, cleared only as far as any
	 * sample ever wrote: the whole rule[] (PERIM_MAX_RULES) is 262 KiB a buffer,
	 * and clearing it all made half a MiB resident within perimd's first seconds.
	 */
	if (m->rules_end > s->rules_seen)
		s->rules_seen = m->rules_end < PERIM_MAX_RULES ? m->rules_end : PERIM_MAX_RULES;
	memset(next, 0, offsetof(struct perimd_sample, rule) + s->rules_seen * sizeof(next->rule[0]));
	next->time_ns = perim_mono_ns();
	for (int slot = 0; slot < PERIM_MAX_IFACES; slot++) {
		if (!m->ifaces[slot].used || perimd_stats_read_if(s, slot, &ic))
			continue;
		next->ifc[slot] = (struct perimd_if_sample){
			ic.rx_packets, ic.rx_bytes, ic.passed_packets, perimd_if_dropped(&ic),
		};
		memcpy(next->ifc[slot].dropped_by_reason, ic.dropped_packets, sizeof(ic.dropped_packets));
	}
	if (sample_rules_batched(s, m, next))
		sample_rules_one_by_one(s, m, next);
	s->prev = s->last;
	s->last = next;
	s->n_samples++;
}

bool perimd_rate(uint64_t t0_ns, uint64_t t1_ns, uint64_t before, uint64_t after, double *per_s)
{
	if (after < before || t1_ns <= t0_ns)
		return false;
	*per_s = (after - before) / ((t1_ns - t0_ns) / 1e9);
	return true;
}

/* Per second between the last two samples; 0 until there are two, or after a counter reset. */
static double rate(const struct perimd_stats *s, uint64_t before, uint64_t after)
{
	double r;

	if (s->n_samples < 2 || !perimd_rate(s->prev->time_ns, s->last->time_ns, before, after, &r))
		return 0;
	return r;
}

static void add_rate(struct json_object *o, const char *key, double v)
{
	json_object_object_add(o, key, json_object_new_uint64((uint64_t)(v + 0.5)));
}

static struct json_object *counters_json(const struct perim_if_counters *c)
{
	struct json_object *o = json_object_new_object(), *dropped = json_object_new_object();

	json_add_u64(o, "rx_packets", c->rx_packets);
	json_add_u64(o, "rx_bytes", c->rx_bytes);
	json_add_u64(o, "passed_packets", c->passed_packets);
	json_add_u64(o, "passed_bytes", c->passed_bytes);
	json_add_u64(o, "allowed_packets", c->allowed_packets);
	json_add_u64(o, "protected_packets", c->protected_packets);
	json_add_u64(o, "would_drop_packets", c->would_drop_packets);
	for (int r = 1; r < PERIM_REASON_MAX; r++) {
		struct json_object *d = json_object_new_object();

		json_add_u64(d, "packets", c->dropped_packets[r]);
		json_add_u64(d, "bytes", c->dropped_bytes[r]);
		json_object_object_add(dropped, perim_reason_names[r], d);
	}
	json_object_object_add(o, "dropped", dropped);
	return o;
}

static struct json_object *rule_json(struct perimd_stats *s, uint32_t id, const struct perim_rule_counters *c)
{
	struct json_object *o = json_object_new_object(), *rates = json_object_new_object();

	json_add_u64(o, "id", id);
	json_add_u64(o, "matched_packets", c->matched_packets);
	json_add_u64(o, "matched_bytes", c->matched_bytes);
	json_add_u64(o, "passed_packets", c->passed_packets);
	json_add_u64(o, "passed_bytes", c->passed_bytes);
	json_add_u64(o, "dropped_packets", c->dropped_packets);
	json_add_u64(o, "dropped_bytes", c->dropped_bytes);
	json_add_u64(o, "would_drop_packets", c->would_drop_packets);
	json_add_u64(o, "would_drop_bytes", c->would_drop_bytes);
	add_rate(rates, "matched_pps", rate(s, s->prev->rule[id].matched_packets, s->last->rule[id].matched_packets));
	add_rate(rates, "dropped_pps", rate(s, s->prev->rule[id].dropped_packets, s->last->rule[id].dropped_packets));
	json_object_object_add(o, "rates", rates);
	return o;
}

/* {reason: pps} between the last two samples. */
static struct json_object *reason_rates_json(const struct perimd_stats *s, const struct perimd_if_sample *a,
					     const struct perimd_if_sample *b)
{
	struct json_object *o = json_object_new_object();

	for (int r = 1; r < PERIM_REASON_MAX; r++)
		add_rate(o, perim_reason_names[r], rate(s, a->dropped_by_reason[r], b->dropped_by_reason[r]));
	return o;
}

int perimd_stats_iface_json(struct perimd_stats *s, const struct perim_model *m, int slot,
			    const struct perim_if_counters *c, struct json_object *obj)
{
	const struct perimd_if_sample *a = &s->prev->ifc[slot], *b = &s->last->ifc[slot];
	struct json_object *rates = json_object_new_object(), *rules = json_object_new_array();
	struct perim_rule_counters rc;

	json_object_object_add(obj, "counters", counters_json(c));
	add_rate(rates, "rx_pps", rate(s, a->rx_packets, b->rx_packets));
	add_rate(rates, "passed_pps", rate(s, a->passed_packets, b->passed_packets));
	add_rate(rates, "dropped_pps", rate(s, a->dropped_packets, b->dropped_packets));
	add_rate(rates, "rx_bps", 8 * rate(s, a->rx_bytes, b->rx_bytes));
	if (s->n_samples >= 2)
		json_object_object_add(rates, "dropped_pps_by_reason", reason_rates_json(s, a, b));
	json_object_object_add(obj, "rates", rates);
	for (uint32_t id = 1; id < m->rules_end; id++) {
		if (!m->rules[id].used || m->rules[id].iface != slot)
			continue;
		if (perimd_stats_read_rule(s, id, &rc))
			continue;
		json_object_array_add(rules, rule_json(s, id, &rc));
	}
	json_object_object_add(obj, "rules", rules);
	return 0;
}
