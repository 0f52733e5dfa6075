// SPDX-License-Identifier: GPL-2.0
/*
 * Transactional apply of a flattened model to the datapath maps: write new
 * and changed entries, delete stale ones, and on any kernel error undo every
 * write already done, in reverse order, so the maps hold the old set again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "rules.h"

struct perim_installed *perim_installed_new(void)
{
	return calloc(1, sizeof(struct perim_installed));
}

void perim_installed_free(struct perim_installed *in)
{
	if (!in)
		return;
	perim_lpm_set_free(&in->lpm);
	free(in);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct perim_lpm_key));
}

static void key_text(const struct perim_lpm_key *key, char *buf, size_t len)
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct perim_prefix p = { .len = key->prefixlen - 32 };
	char text[64];

	memcpy(p.addr, key->addr, 16);
	p.is_v4 = p.len >= 96 && !memcmp(key->addr, v4_mapped, 12);
	perim_prefix_format(&p, text, sizeof(text));
	snprintf(buf, len, "%s (interface slot %u)", text, key->slot);
}

static int read_lpm(struct perim_lpm_set *set, int fd, char *err, size_t errlen)
{
	struct perim_lpm_entry e;
	struct perim_lpm_key *prev = NULL, cur;

	memset(set, 0, sizeof(*set));
	while (bpf_map_get_next_key(fd, prev, &e.key) == 0) {
		if (bpf_map_lookup_elem(fd, &e.key, &e.value) == 0) {
			if (set->n == set->cap) {
				size_t cap = set->cap ? 2 * set->cap : 256;
				struct perim_lpm_entry *grown = realloc(set->e, cap * sizeof(*grown));

				if (!grown) {
					snprintf(err, errlen, "out of memory reading the LPM map");
					perim_lpm_set_free(set);
					return -ENOMEM;
				}
				set->e = grown;
				set->cap = cap;
			}
			set->e[set->n++] = e;
		}
		cur = e.key;
		prev = &cur;
	}
	if (errno != ENOENT) {
		int ret = -errno;

		snprintf(err, errlen, "reading the LPM map: %s", strerror(-ret));
		perim_lpm_set_free(set);
		return ret;
	}
	if (set->n)
		qsort(set->e, set->n, sizeof(set->e[0]), key_cmp);
	return 0;
}

int perim_installed_read(struct perim_installed *in, const struct perim_maps *maps,
			 char *err, size_t errlen)
{
	struct perim_lpm_set lpm;
	int ret;

	ret = read_lpm(&lpm, maps->lpm_fd, err, errlen);
	if (ret)
		return ret;
	for (uint32_t id = 1; id < PERIM_MAX_RULES; id++) {
		if (bpf_map_lookup_elem(maps->rules_fd, &id, &in->rules[id]) < 0) {
			ret = -errno;
			snprintf(err, errlen, "reading rule %u from %s: %s", id, PERIM_MAP_RULES, strerror(-ret));
			perim_lpm_set_free(&lpm);
			return ret;
		}
	}
	perim_lpm_set_free(&in->lpm);
	in->lpm = lpm;
	return 0;
}

/* ---- the undo log ---- */

enum undo_kind { UNDO_RULE, UNDO_LPM_UPDATE, UNDO_LPM_DELETE };

struct undo {
	enum undo_kind kind;
	size_t index;              /* rule id, index into the new set or into the installed set */
};

struct txn {
	const struct perim_maps *maps;
	const struct perim_installed *old;
	const struct perim_lpm_set *new_lpm;
	struct undo *log;
	size_t n_log;
	char *err;
	size_t errlen;
};

static int rollback_one(const struct txn *t, const struct undo *u)
{
	const struct perim_lpm_entry *e, *old;
	uint32_t id;

	switch (u->kind) {
	case UNDO_RULE:
		id = u->index;
		return bpf_map_update_elem(t->maps->rules_fd, &id, &t->old->rules[id], BPF_ANY);
	case UNDO_LPM_UPDATE:
		e = &t->new_lpm->e[u->index];
		old = perim_lpm_set_find(&t->old->lpm, &e->key);
		if (old)
			return bpf_map_update_elem(t->maps->lpm_fd, &old->key, &old->value, BPF_ANY);
		if (bpf_map_delete_elem(t->maps->lpm_fd, &e->key) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	case UNDO_LPM_DELETE:
		old = &t->old->lpm.e[u->index];
		return bpf_map_update_elem(t->maps->lpm_fd, &old->key, &old->value, BPF_ANY);
	}
	return -EINVAL;
}

static void rollback(struct txn *t)
{
	size_t len;
	int ret;

	while (t->n_log > 0) {
		ret = rollback_one(t, &t->log[--t->n_log]);
		if (ret) {
			len = strlen(t->err);
			snprintf(t->err + len, t->errlen - len, "; rollback failed too: %s", strerror(-ret));
			return;
		}
	}
}

static void log_push(struct txn *t, enum undo_kind kind, size_t index)
{
	t->log[t->n_log].kind = kind;
	t->log[t->n_log].index = index;
	t->n_log++;
}

/* ---- the steps ---- */

static bool same_rule_params(const struct perim_rule *a, const struct perim_rule *b)
{
	return !memcmp((const char *)a + sizeof(a->gen), (const char *)b + sizeof(b->gen),
		       sizeof(*a) - sizeof(a->gen));
}

static void desired_rules(const struct perim_model *m, const struct perim_installed *in,
			  struct perim_rule *want, uint64_t tick)
{
	for (uint32_t id = 1; id < PERIM_MAX_RULES; id++) {
		const struct perim_rule *cur = &in->rules[id];

		if (!m->rules[id].used) {
			/* Deactivated, gen kept: the next user of the slot bumps it. */
			want[id] = *cur;
			want[id].flags = 0;
			continue;
		}
		perim_rule_from_spec(&m->rules[id].spec, tick, &want[id]);
		/* The same parameters keep their buckets; anything else starts afresh. */
		if ((cur->flags & PERIM_RULE_ACTIVE) && same_rule_params(cur, &want[id]))
			want[id].gen = cur->gen;
		else
			want[id].gen = cur->gen + 1;
	}
}

static int write_rules(struct txn *t, const struct perim_rule *want, bool activating)
{
	for (uint32_t id = 1; id < PERIM_MAX_RULES; id++) {
		bool active = want[id].flags & PERIM_RULE_ACTIVE;

		if (active != activating || !memcmp(&want[id], &t->old->rules[id], sizeof(want[id])))
			continue;
		if (bpf_map_update_elem(t->maps->rules_fd, &id, &want[id], BPF_ANY) < 0) {
			int ret = -errno;

			snprintf(t->err, t->errlen, "writing rule %u to %s: %s", id, PERIM_MAP_RULES,
				 strerror(-ret));
			return ret;
		}
		log_push(t, UNDO_RULE, id);
	}
	return 0;
}

static int write_lpm(struct txn *t)
{
	char text[96];

	for (size_t i = 0; i < t->new_lpm->n; i++) {
		const struct perim_lpm_entry *e = &t->new_lpm->e[i];
		const struct perim_lpm_entry *old = perim_lpm_set_find(&t->old->lpm, &e->key);

		if (old && !memcmp(&old->value, &e->value, sizeof(e->value)))
			continue;
		if (bpf_map_update_elem(t->maps->lpm_fd, &e->key, &e->value, BPF_ANY) < 0) {
			int ret = -errno;

			key_text(&e->key, text, sizeof(text));
			snprintf(t->err, t->errlen, "writing LPM entry %s to %s: %s", text, PERIM_MAP_LPM,
				 strerror(-ret));
			return ret;
		}
		log_push(t, UNDO_LPM_UPDATE, i);
	}
	return 0;
}

static int delete_stale_lpm(struct txn *t)
{
	char text[96];

	for (size_t i = 0; i < t->old->lpm.n; i++) {
		const struct perim_lpm_entry *old = &t->old->lpm.e[i];

		if (perim_lpm_set_find(t->new_lpm, &old->key))
			continue;
		if (bpf_map_delete_elem(t->maps->lpm_fd, &old->key) < 0 && errno != ENOENT) {
			int ret = -errno;

			key_text(&old->key, text, sizeof(text));
			snprintf(t->err, t->errlen, "deleting LPM entry %s from %s: %s", text, PERIM_MAP_LPM,
				 strerror(-ret));
			return ret;
		}
		log_push(t, UNDO_LPM_DELETE, i);
	}
	return 0;
}

/* A reused rule slot starts with zero counters; best effort, counters are not state. */
static void reset_counters(const struct perim_maps *maps, const struct perim_installed *in,
			   const struct perim_rule *want)
{
	int ncpus = libbpf_num_possible_cpus();
	struct perim_rule_counters *zero;

	if (maps->rule_stats_fd < 0 || ncpus <= 0)
		return;
	zero = calloc(ncpus, sizeof(*zero));
	if (!zero)
		return;
	for (uint32_t id = 1; id < PERIM_MAX_RULES; id++) {
		if (!(want[id].flags & PERIM_RULE_ACTIVE) || want[id].gen == in->rules[id].gen)
			continue;
		if (bpf_map_update_elem(maps->rule_stats_fd, &id, zero, BPF_ANY) < 0)
			pr_warn("resetting counters of rule %u: %s\n", id, strerror(errno));
	}
	free(zero);
}

int perim_apply(const struct perim_maps *maps, struct perim_installed *in,
		const struct perim_model *m, char *err, size_t errlen)
{
	struct perim_rule *want = NULL;
	struct perim_lpm_set new_lpm;
	struct txn t = { .maps = maps, .old = in, .err = err, .errlen = errlen };
	int ret;

	ret = perim_flatten(m, &new_lpm, err, errlen);
	if (ret)
		return ret == PERIM_EXIT_BADINPUT ? ret : PERIM_EXIT_FAIL;
	t.new_lpm = &new_lpm;
	want = calloc(PERIM_MAX_RULES, sizeof(*want));
	t.log = calloc(2 * PERIM_MAX_RULES + new_lpm.n + in->lpm.n, sizeof(*t.log));
	if (!want || !t.log) {
		snprintf(err, errlen, "out of memory applying rules");
		ret = PERIM_EXIT_FAIL;
		goto out;
	}
	desired_rules(m, in, want, perim_clock_tick_ns());

	/* Rules before the entries that point at them, stale entries before the rules they name. */
	ret = write_rules(&t, want, true);
	if (!ret)
		ret = write_lpm(&t);
	if (!ret)
		ret = delete_stale_lpm(&t);
	if (!ret)
		ret = write_rules(&t, want, false);
	if (ret) {
		rollback(&t);
		ret = PERIM_EXIT_FAIL;
		goto out;
	}

	reset_counters(maps, in, want);
	memcpy(in->rules, want, sizeof(in->rules));
	perim_lpm_set_free(&in->lpm);
	in->lpm = new_lpm;
	memset(&new_lpm, 0, sizeof(new_lpm));
out:
	perim_lpm_set_free(&new_lpm);
	free(t.log);
	free(want);
	return ret;
}
