// SPDX-License-Identifier: GPL-2.0
/*
 * Transactional apply of a flattened model to the datapath maps: write new
 * and changed entries, publish the fast-path descriptors, delete stale
 * entries, and on any kernel error undo every write already done, in
 * reverse order, so the maps hold the old set again.
 */
#include <sys/mman.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "datapath/map_batch.h"
#include "datapath/pinned_map.h"
#include "datapath/prog_wait.h"
#include "model/rules.h"
#include "cmd.h"
#include "perim.h"

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
	return memcmp(a, b, sizeof(struct perim_lpm_ukey));
}

static const char *const lpm_map_name[PERIM_LPM_FAMILIES] = {
	PERIM_MAP_LPM4, PERIM_MAP_LPM6, PERIM_MAP_EGRESS_LPM4, PERIM_MAP_EGRESS_LPM6, PERIM_MAP_EGRESS_CGROUP,
	PERIM_MAP_FAST4, PERIM_MAP_FAST6,
};
static const uint32_t lpm_key_size[PERIM_LPM_FAMILIES] = {
	sizeof(struct perim_lpm4_key), sizeof(struct perim_lpm6_key),
	sizeof(struct perim_lpm4_key), sizeof(struct perim_lpm6_key), sizeof(__u64),
	sizeof(struct perim_lpm4_key), sizeof(struct perim_lpm6_key),
};

static bool family_is_v4(int family)
{
	return family == PERIM_LPM_V4 || family == PERIM_LPM_EGRESS_V4 || family == PERIM_LPM_FAST_V4;
}

/* The egress cgroup table and the fast tables are hashes; every other family a trie. */
static enum bpf_map_type family_map_type(int family)
{
	if (family == PERIM_LPM_EGRESS_CGROUP || family == PERIM_LPM_FAST_V4 || family == PERIM_LPM_FAST_V6)
		return BPF_MAP_TYPE_HASH;
	return BPF_MAP_TYPE_LPM_TRIE;
}

static uint32_t family_max_entries(int family)
{
	return family == PERIM_LPM_EGRESS_CGROUP ? PERIM_EGRESS_CGROUP_MAX_ENTRIES : PERIM_LPM_MAX_ENTRIES;
}

/* As the datapath objects declare them (xdp/lib/maps.h, fast.h, perim_tc.bpf.c). */
static struct perim_map_shape lpm_shape(int family)
{
	return (struct perim_map_shape){
		.name = lpm_map_name[family],
		.type = family_map_type(family),
		.key_size = lpm_key_size[family],
		.value_size = sizeof(struct perim_lpm_value),
		.max_entries = family_max_entries(family),
		.map_flags = BPF_F_NO_PREALLOC,
	};
}

/* The kernel's key: {prefixlen, addr[4]}, {prefixlen, addr[16]} or a cgroup id. */
union perim_kernel_key {
	struct perim_lpm4_key k4;
	struct perim_lpm6_key k6;
	__u64 cgroup_id;
};

static const void *kernel_key(const struct perim_lpm_ukey *k, union perim_kernel_key *out)
{
	memset(out, 0, sizeof(*out));
	if (k->family == PERIM_LPM_EGRESS_CGROUP) {
		memcpy(&out->cgroup_id, k->addr, sizeof(out->cgroup_id));
	} else if (family_is_v4(k->family)) {
		out->k4.prefixlen = k->prefixlen;
		memcpy(out->k4.addr, k->addr, sizeof(out->k4.addr));
	} else {
		out->k6.prefixlen = k->prefixlen;
		memcpy(out->k6.addr, k->addr, sizeof(out->k6.addr));
	}
	return out;
}

static void ukey_from_kernel(struct perim_lpm_ukey *k, int family, int slot, const union perim_kernel_key *kk)
{
	memset(k, 0, sizeof(*k));
	k->slot = slot;
	k->family = family;
	if (family == PERIM_LPM_EGRESS_CGROUP) {
		k->prefixlen = 64;
		memcpy(k->addr, &kk->cgroup_id, sizeof(kk->cgroup_id));
	} else if (family_is_v4(family)) {
		k->prefixlen = kk->k4.prefixlen;
		memcpy(k->addr, kk->k4.addr, sizeof(kk->k4.addr));
	} else {
		k->prefixlen = kk->k6.prefixlen;
		memcpy(k->addr, kk->k6.addr, sizeof(kk->k6.addr));
	}
}

static void key_text(const struct perim_lpm_ukey *key, char *buf, size_t len)
{
	struct perim_prefix p = { .len = key->prefixlen };
	char text[64];
	__u64 id;

	if (key->family == PERIM_LPM_EGRESS_CGROUP) {
		memcpy(&id, key->addr, sizeof(id));
		snprintf(buf, len, "cgroup id %llu (interface slot %u)", (unsigned long long)id, key->slot);
		return;
	}
	if (family_is_v4(key->family)) {
		p.addr[10] = p.addr[11] = 0xff;
		memcpy(p.addr + 12, key->addr, 4);
		p.len += 96;
		p.is_v4 = true;
	} else {
		memcpy(p.addr, key->addr, 16);
	}
	perim_prefix_format(&p, text, sizeof(text));
	snprintf(buf, len, "%s (interface slot %u)", text, key->slot);
}

/* ---- the per-slot tries ---- */

void perim_maps_init(struct perim_maps *maps)
{
	memset(maps, 0, sizeof(*maps));
	for (int f = 0; f < PERIM_LPM_FAMILIES; f++)
		for (int s = 0; s < PERIM_MAX_IFACES; s++)
			maps->lpm_fd[f][s] = -1;
	for (int s = 0; s < PERIM_MAX_IFACES; s++)
		maps->fast_lens_fd[s] = -1;
	maps->rules_fd = -1;
	maps->rule_stats_fd = -1;
}

void perim_maps_close(struct perim_maps *maps)
{
	for (int f = 0; f < PERIM_LPM_FAMILIES; f++) {
		for (int s = 0; s < PERIM_MAX_IFACES; s++) {
			if (maps->lpm_fd[f][s] >= 0)
				close(maps->lpm_fd[f][s]);
			maps->lpm_fd[f][s] = -1;
		}
	}
	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		if (maps->fast_lens[s])
			munmap(maps->fast_lens[s], sysconf(_SC_PAGESIZE));
		if (maps->fast_lens_fd[s] >= 0)
			close(maps->fast_lens_fd[s]);
		maps->fast_lens[s] = NULL;
		maps->fast_lens_fd[s] = -1;
	}
}

int perim_lpm_pin_path(char *buf, size_t len, const char *pin_root, int family, int slot)
{
	return perim_slot_pin_path(buf, len, pin_root, lpm_map_name[family], slot);
}

/*
 * The fd of a slot's trie: the cached one, else the pinned one, else (create)
 * a new map with the datapath's attributes, pinned. -ENOENT when it does not
 * exist and !create; other -errno with err set.
 */
int perim_maps_lpm_fd(struct perim_maps *maps, int family, int slot, bool create,
		      char *err, size_t errlen)
{
	struct perim_map_shape shape = lpm_shape(family);
	char path[4200];
	int fd;

	if (maps->lpm_fd[family][slot] >= 0)
		return maps->lpm_fd[family][slot];
	fd = perim_slot_map_open(&shape, maps->pin_root, slot, create, path, sizeof(path), err, errlen);
	if (fd >= 0)
		maps->lpm_fd[family][slot] = fd;
	return fd;
}

static int set_push_entry(struct perim_lpm_set *set, const struct perim_lpm_entry *e)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 256;
		struct perim_lpm_entry *grown = realloc(set->e, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		set->e = grown;
		set->cap = cap;
	}
	set->e[set->n++] = *e;
	return 0;
}

/* Appends one trie's entries to set. */
static int read_lpm(struct perim_lpm_set *set, int fd, int family, int slot, char *err, size_t errlen)
{
	union perim_kernel_key key, prev;
	struct perim_lpm_entry e;
	bool first = true;
	int ret;

	while (bpf_map_get_next_key(fd, first ? NULL : &prev, &key) == 0) {
		if (bpf_map_lookup_elem(fd, &key, &e.value) == 0) {
			ukey_from_kernel(&e.key, family, slot, &key);
			if (set_push_entry(set, &e)) {
				snprintf(err, errlen, "out of memory reading the LPM maps");
				return -ENOMEM;
			}
		}
		prev = key;
		first = false;
	}
	if (errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "reading %s of interface slot %d: %s", lpm_map_name[family], slot,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

/* A slot without a descriptor map reads as "use the trie", which is what its program does. */
static int read_fast_lens(struct perim_installed *in, struct perim_maps *maps, char *err, size_t errlen)
{
	__u64 *lens;
	int ret;

	for (int slot = 0; slot < PERIM_MAX_IFACES; slot++) {
		ret = perim_maps_fast_lens(maps, slot, false, &lens, err, errlen);
		if (ret == -ENOENT) {
			memset(in->fast_lens[slot], 0, sizeof(in->fast_lens[slot]));
			continue;
		}
		if (ret)
			return ret;
		for (int fam = 0; fam < PERIM_FAST_FAMILIES; fam++)
			in->fast_lens[slot][fam] = __atomic_load_n(&lens[fam], __ATOMIC_ACQUIRE);
	}
	return 0;
}

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's answer for a map type without batch operations */
#endif

/*
 * Every slot, slot 0 included, in one syscall (BPF_MAP_LOOKUP_BATCH, 5.6+);
 * *count says how many were read. -EINVAL or -ENOTSUPP where the kernel
 * cannot; other -errno.
 */
static int read_rules_batch(struct perim_rule *rules, int fd, __u32 *count)
{
	__u32 *keys = calloc(PERIM_MAX_RULES, sizeof(*keys)), next;
	int ret;

	if (!keys)
		return -ENOMEM;
	*count = PERIM_MAX_RULES;
	ret = bpf_map_lookup_batch(fd, NULL, &next, keys, rules, count, NULL);
	free(keys);
	/* -ENOENT: the map ended first. */
	return ret == -ENOENT ? 0 : ret;
}

static int read_rules(struct perim_rule *rules, int fd, char *err, size_t errlen)
{
	__u32 count = 0;
	char batch[64];
	int ret;

	ret = read_rules_batch(rules, fd, &count);
	if (!ret && count == PERIM_MAX_RULES)
		return 0;
	if (ret && ret != -EINVAL && ret != -ENOTSUPP && ret != -EOPNOTSUPP) {
		snprintf(err, errlen, "reading %s: %s", PERIM_MAP_RULES, strerror(-ret));
		return ret;
	}
	/* A kernel without batch lookups, or a short map: rule by rule, which names the one missing. */
	if (ret)
		snprintf(batch, sizeof(batch), "%s", ret == -ENOTSUPP ? "not supported" : strerror(-ret));
	else
		snprintf(batch, sizeof(batch), "%u of %u rules", count, PERIM_MAX_RULES);
	for (uint32_t id = 1; id < PERIM_MAX_RULES; id++) {
		if (bpf_map_lookup_elem(fd, &id, &rules[id]) < 0) {
			ret = -errno;
			snprintf(err, errlen, "reading rule %u from %s: %s (batch lookup: %s)", id,
				 PERIM_MAP_RULES, strerror(-ret), batch);
			return ret;
		}
	}
	return 0;
}

int perim_installed_read(struct perim_installed *in, struct perim_maps *maps,
			 char *err, size_t errlen)
{
	struct perim_lpm_set lpm = { 0 };
	int ret = 0, fd;

	for (int slot = 0; slot < PERIM_MAX_IFACES && !ret; slot++) {
		for (int f = 0; f < PERIM_LPM_FAMILIES && !ret; f++) {
			fd = perim_maps_lpm_fd(maps, f, slot, false, err, errlen);
			if (fd == -ENOENT)
				continue;
			ret = fd < 0 ? fd : read_lpm(&lpm, fd, f, slot, err, errlen);
		}
	}
	if (!ret)
		ret = read_rules(in->rules, maps->rules_fd, err, errlen);
	if (!ret)
		ret = read_fast_lens(in, maps, err, errlen);
	if (ret) {
		perim_lpm_set_free(&lpm);
		return ret;
	}
	if (lpm.n)
		qsort(lpm.e, lpm.n, sizeof(lpm.e[0]), key_cmp);
	perim_lpm_set_free(&in->lpm);
	in->lpm = lpm;
	return 0;
}

/* ---- the undo log ---- */

enum undo_kind { UNDO_RULE, UNDO_LPM_UPDATE, UNDO_LPM_DELETE, UNDO_FAST_LENS };

struct undo {
	enum undo_kind kind;
	size_t index;              /* rule id, index into the new or installed set, slot * 2 + family */
};

struct txn {
	struct perim_maps *maps;
	const struct perim_installed *old;
	const struct perim_lpm_set *new_lpm;
	const struct perim_lpm_entry **old_of_new;  /* per new entry: the old one with its key, or NULL */
	bool *old_kept;                            /* per old entry: the new set has its key */
	struct undo *log;
	size_t n_log;
	char *err;
	size_t errlen;
};

/* Write one entry into its slot's trie, creating the trie if need be. -errno, err set. */
static int lpm_write(struct perim_maps *maps, const struct perim_lpm_entry *e, char *err, size_t errlen)
{
	union perim_kernel_key kk;
	char text[96];
	int fd, ret;

	fd = perim_maps_lpm_fd(maps, e->key.family, e->key.slot, true, err, errlen);
	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(fd, kernel_key(&e->key, &kk), &e->value, BPF_ANY) < 0) {
		ret = -errno;
		key_text(&e->key, text, sizeof(text));
		snprintf(err, errlen, "writing LPM entry %s to %s: %s", text, lpm_map_name[e->key.family],
			 strerror(-ret));
		return ret;
	}
	return 0;
}

/* Delete one entry; one that is not there (nor its trie) is already deleted. */
static int lpm_erase(struct perim_maps *maps, const struct perim_lpm_ukey *key, char *err, size_t errlen)
{
	union perim_kernel_key kk;
	char text[96];
	int fd, ret;

	fd = perim_maps_lpm_fd(maps, key->family, key->slot, false, err, errlen);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	if (bpf_map_delete_elem(fd, kernel_key(key, &kk)) < 0 && errno != ENOENT) {
		ret = -errno;
		key_text(key, text, sizeof(text));
		snprintf(err, errlen, "deleting LPM entry %s from %s: %s", text, lpm_map_name[key->family],
			 strerror(-ret));
		return ret;
	}
	return 0;
}

static int rollback_one(const struct txn *t, const struct undo *u)
{
	const struct perim_lpm_entry *e, *old;
	char scratch[256];
	uint32_t id;

	switch (u->kind) {
	case UNDO_RULE:
		id = u->index;
		if (bpf_map_update_elem(t->maps->rules_fd, &id, &t->old->rules[id], BPF_ANY) < 0)
			return -errno;
		return 0;
	case UNDO_LPM_UPDATE:
		e = &t->new_lpm->e[u->index];
		old = perim_lpm_set_find(&t->old->lpm, &e->key);
		if (old)
			return lpm_write(t->maps, old, scratch, sizeof(scratch));
		return lpm_erase(t->maps, &e->key, scratch, sizeof(scratch));
	case UNDO_LPM_DELETE:
		return lpm_write(t->maps, &t->old->lpm.e[u->index], scratch, sizeof(scratch));
	case UNDO_FAST_LENS:
		/* Mapped when it was published, so still mapped now. */
		perim_fast_lens_store(t->maps->fast_lens[u->index / PERIM_FAST_FAMILIES],
				      u->index % PERIM_FAST_FAMILIES,
				      t->old->fast_lens[u->index / PERIM_FAST_FAMILIES][u->index % PERIM_FAST_FAMILIES]);
		return 0;
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

		if (id >= m->rules_end || !m->rules[id].used) {
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

/*
 * The rules of one phase (activated or deactivated) that change, in one
 * BPF_MAP_UPDATE_BATCH: an apply of thousands of rules costs one syscall
 * here, not thousands. The order inside a phase does not matter.
 */
static int write_rules(struct txn *t, const struct perim_rule *want, bool activating)
{
	uint32_t *ids = malloc(PERIM_MAX_RULES * sizeof(*ids)), n = 0, done;
	struct perim_rule *vals = malloc(PERIM_MAX_RULES * sizeof(*vals));
	int ret = 0;

	if (!ids || !vals) {
		snprintf(t->err, t->errlen, "out of memory applying rules");
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t id = 1; id < PERIM_MAX_RULES; id++) {
		bool active = want[id].flags & PERIM_RULE_ACTIVE;

		if (active != activating || !memcmp(&want[id], &t->old->rules[id], sizeof(want[id])))
			continue;
		ids[n] = id;
		vals[n++] = want[id];
	}
	ret = perim_map_update_many(t->maps->rules_fd, ids, sizeof(*ids), vals, sizeof(*vals), n, &done);
	for (uint32_t i = 0; i < done; i++)
		log_push(t, UNDO_RULE, ids[i]);
	if (ret)
		snprintf(t->err, t->errlen, "writing rule %u to %s: %s", ids[done], PERIM_MAP_RULES, strerror(-ret));
out:
	free(ids);
	free(vals);
	return ret;
}

#define PREFIXLEN_MAX 128

/*
 * The indices of set's entries by prefix length, longest first (or shortest
 * first), entries of one length in set order: a counting sort. NULL: no memory.
 */
static size_t *by_prefixlen(const struct perim_lpm_set *set, bool longest_first)
{
	size_t count[PREFIXLEN_MAX + 2] = { 0 }, *order = malloc((set->n ? set->n : 1) * sizeof(*order));

	if (!order)
		return NULL;
	for (size_t i = 0; i < set->n; i++) {
		uint32_t len = set->e[i].key.prefixlen > PREFIXLEN_MAX ? PREFIXLEN_MAX : set->e[i].key.prefixlen;

		count[(longest_first ? PREFIXLEN_MAX - len : len) + 1]++;
	}
	for (int b = 1; b < PREFIXLEN_MAX + 2; b++)
		count[b] += count[b - 1];
	for (size_t i = 0; i < set->n; i++) {
		uint32_t len = set->e[i].key.prefixlen > PREFIXLEN_MAX ? PREFIXLEN_MAX : set->e[i].key.prefixlen;

		order[count[longest_first ? PREFIXLEN_MAX - len : len]++] = i;
	}
	return order;
}

/* old_of_new and old_kept in one walk of the two sets, both sorted by key. */
static int match_sets(struct txn *t)
{
	const struct perim_lpm_set *old = &t->old->lpm, *new = t->new_lpm;
	size_t i = 0, j = 0;
	int c;

	t->old_of_new = calloc(new->n ? new->n : 1, sizeof(*t->old_of_new));
	t->old_kept = calloc(old->n ? old->n : 1, sizeof(*t->old_kept));
	if (!t->old_of_new || !t->old_kept)
		return -ENOMEM;
	while (i < old->n && j < new->n) {
		c = key_cmp(&old->e[i].key, &new->e[j].key);
		if (c == 0) {
			t->old_of_new[j++] = &old->e[i];
			t->old_kept[i++] = true;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
	return 0;
}

static int out_of_memory(struct txn *t)
{
	snprintf(t->err, t->errlen, "out of memory applying rules");
	return -ENOMEM;
}

/* One map's entries (set->e[idx[0..n)]) as the kernel's keys, packed. NULL: no memory. */
static void *kernel_keys(const struct perim_lpm_set *set, const size_t *idx, size_t n, uint32_t key_size)
{
	char *keys = malloc((n ? n : 1) * key_size);
	union perim_kernel_key kk;

	for (size_t i = 0; keys && i < n; i++)
		memcpy(keys + i * key_size, kernel_key(&set->e[idx[i]].key, &kk), key_size);
	return keys;
}

/* The end of the run of set's entries from `from` on that share its map (slot and family). */
static size_t map_run_end(const struct perim_lpm_set *set, size_t from)
{
	size_t end = from + 1;

	while (end < set->n && set->e[end].key.slot == set->e[from].key.slot &&
	       set->e[end].key.family == set->e[from].key.family)
		end++;
	return end;
}

/* One map's new and changed entries, in the order given, in one batch; each written one logged. */
static int write_lpm_entries(struct txn *t, const size_t *idx, uint32_t n)
{
	int family = t->new_lpm->e[idx[0]].key.family, slot = t->new_lpm->e[idx[0]].key.slot, fd, ret;
	struct perim_lpm_value *vals = malloc(n * sizeof(*vals));
	void *keys = kernel_keys(t->new_lpm, idx, n, lpm_key_size[family]);
	uint32_t done = 0;
	char text[96];

	if (!keys || !vals) {
		ret = out_of_memory(t);
		goto out;
	}
	fd = perim_maps_lpm_fd(t->maps, family, slot, true, t->err, t->errlen);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		vals[i] = t->new_lpm->e[idx[i]].value;
	ret = perim_map_update_many(fd, keys, lpm_key_size[family], vals, sizeof(*vals), n, &done);
	for (uint32_t i = 0; i < done; i++)
		log_push(t, UNDO_LPM_UPDATE, idx[i]);
	if (ret) {
		key_text(&t->new_lpm->e[idx[done]].key, text, sizeof(text));
		snprintf(t->err, t->errlen, "writing LPM entry %s to %s: %s", text, lpm_map_name[family],
			 strerror(-ret));
	}
out:
	free(keys);
	free(vals);
	return ret;
}

/*
 * New and changed entries, longest prefix first. With stale entries deleted
 * afterwards shortest first, a lookup at any moment returns the entry the old
 * set or the new set returns for that address, never a third: a new entry
 * found is the new set's longest match (any longer new one was written
 * before it), an old entry found is the old set's longest match (any longer
 * old one is either still there or overwritten by a longer new one). A
 * lookup reads one map, so the order matters inside each map: the entries
 * of one map (a run of the sorted set) go in one batch, in that order.
 */
/* Writes the entries of new_lpm[from..end) (one map) the old set lacks or holds with another value. */
static int write_lpm_run(struct txn *t, size_t from, size_t end, size_t *changed)
{
	struct perim_lpm_set run = { .n = end - from, .e = t->new_lpm->e + from };
	size_t *order = by_prefixlen(&run, true);
	uint32_t n = 0;

	if (!order)
		return out_of_memory(t);
	for (size_t k = 0; k < run.n; k++) {
		const struct perim_lpm_entry *e = &run.e[order[k]];
		const struct perim_lpm_entry *old = t->old_of_new[from + order[k]];

		if (!old || memcmp(&old->value, &e->value, sizeof(e->value)))
			changed[n++] = from + order[k];
	}
	free(order);
	return n ? write_lpm_entries(t, changed, n) : 0;
}

typedef int (*map_run_fn)(struct txn *t, size_t from, size_t end, size_t *picked);

/* RUN on each map's run of SET's entries, with room for the indexes it picks. */
static int each_map_run(struct txn *t, const struct perim_lpm_set *set, map_run_fn run)
{
	size_t *picked = malloc((set->n ? set->n : 1) * sizeof(*picked));
	int ret = 0;

	if (!picked)
		return out_of_memory(t);
	for (size_t from = 0, end; from < set->n && !ret; from = end) {
		end = map_run_end(set, from);
		ret = run(t, from, end, picked);
	}
	free(picked);
	return ret;
}

static int write_lpm(struct txn *t)
{
	return each_map_run(t, t->new_lpm, write_lpm_run);
}

/*
 * Every attached interface's descriptors, computed from the new set. Slots
 * without an interface keep theirs: their entries are going.
 */
static void want_fast_lens(const struct txn *t, const struct perim_model *m, __u64 want[][PERIM_FAST_FAMILIES])
{
	for (int slot = 0; slot < PERIM_MAX_IFACES; slot++)
		for (int fam = 0; fam < PERIM_FAST_FAMILIES; fam++)
			want[slot][fam] = m->ifaces[slot].used ? perim_fast_lens_make(t->new_lpm, slot, fam)
							       : t->old->fast_lens[slot][fam];
}

/*
 * Stores, for every descriptor that changes, `during` (PERIM_FAST_USE_TRIE)
 * before the entries change, or its new value after (during 0 means final).
 * A fast table probed at the old lengths would hide new entries of new
 * lengths while showing new entries of old ones (a third verdict); the trie
 * is complete at every moment, and the write order makes each of its
 * answers an old one or a new one. The final descriptor is published once
 * the tables hold exactly the new set.
 */
static int publish_fast_lens(struct txn *t, __u64 want[][PERIM_FAST_FAMILIES], bool final)
{
	__u64 *lens, value;
	int ret;

	for (int slot = 0; slot < PERIM_MAX_IFACES; slot++) {
		if (!memcmp(want[slot], t->old->fast_lens[slot], sizeof(want[slot])))
			continue;
		ret = perim_maps_fast_lens(t->maps, slot, true, &lens, t->err, t->errlen);
		if (ret)
			return ret;
		for (int fam = 0; fam < PERIM_FAST_FAMILIES; fam++) {
			if (want[slot][fam] == t->old->fast_lens[slot][fam])
				continue;
			value = final ? want[slot][fam] : PERIM_FAST_USE_TRIE;
			if (__atomic_load_n(&lens[fam], __ATOMIC_ACQUIRE) == value)
				continue;
			perim_fast_lens_store(lens, fam, value);
			log_push(t, UNDO_FAST_LENS, slot * PERIM_FAST_FAMILIES + fam);
		}
	}
	return 0;
}

/* One map's stale entries (old->lpm.e[idx[0..n)]), in the order given, in one batch; each deleted one logged. */
static int delete_lpm_entries(struct txn *t, const size_t *idx, uint32_t n)
{
	int family = t->old->lpm.e[idx[0]].key.family, slot = t->old->lpm.e[idx[0]].key.slot, fd, ret;
	void *keys = kernel_keys(&t->old->lpm, idx, n, lpm_key_size[family]);
	uint32_t done = 0;
	char text[96];

	if (!keys)
		return out_of_memory(t);
	fd = perim_maps_lpm_fd(t->maps, family, slot, false, t->err, t->errlen);
	/* A map that is not there holds none of them. */
	ret = fd == -ENOENT ? 0 : fd < 0 ? fd : perim_map_delete_many(fd, keys, lpm_key_size[family], n, &done);
	if (fd == -ENOENT)
		done = n;
	for (uint32_t i = 0; i < done; i++)
		log_push(t, UNDO_LPM_DELETE, idx[i]);
	if (ret && fd >= 0) {
		key_text(&t->old->lpm.e[idx[done]].key, text, sizeof(text));
		snprintf(t->err, t->errlen, "deleting LPM entry %s from %s: %s", text, lpm_map_name[family],
			 strerror(-ret));
	}
	free(keys);
	return ret;
}

/* Deletes the entries of old->lpm[from..end) (one map) the new set does not have, shortest first. */
static int delete_stale_run(struct txn *t, size_t from, size_t end, size_t *stale)
{
	struct perim_lpm_set run = { .n = end - from, .e = t->old->lpm.e + from };
	size_t *order = by_prefixlen(&run, false);
	uint32_t n = 0;

	if (!order)
		return out_of_memory(t);
	for (size_t k = 0; k < run.n; k++)
		if (!t->old_kept[from + order[k]])
			stale[n++] = from + order[k];
	free(order);
	return n ? delete_lpm_entries(t, stale, n) : 0;
}

/* Stale entries, shortest prefix first in each map (see write_lpm). */
static int delete_stale_lpm(struct txn *t)
{
	return each_map_run(t, &t->old->lpm, delete_stale_run);
}

/* Counter resets per batch: a per-CPU value is ncpus times the counters, all of them zeros. */
#define RESET_BATCH 1024

static void reset_counters_of(int fd, const uint32_t *ids, uint32_t n, const void *zeros, uint32_t value_size)
{
	uint32_t chunk, done;
	int ret;

	for (uint32_t at = 0; at < n; at += chunk) {
		chunk = n - at < RESET_BATCH ? n - at : RESET_BATCH;
		ret = perim_map_update_many(fd, ids + at, sizeof(*ids), zeros, value_size, chunk, &done);
		if (ret) {
			pr_warn("resetting counters of rule %u: %s\n", ids[at + done], strerror(-ret));
			chunk = done + 1;   /* the others still get theirs */
		}
	}
}

/*
 * A reused rule slot starts with zero counters; a rule changed in place
 * ("limit set" with the selector of an active rule) keeps them. Best effort,
 * counters are not state.
 */
static void reset_counters(const struct perim_maps *maps, const struct perim_installed *in,
			   const struct perim_rule *want)
{
	int ncpus = libbpf_num_possible_cpus();
	uint32_t *ids, n = 0;
	void *zeros;

	if (maps->rule_stats_fd < 0 || ncpus <= 0)
		return;
	ids = malloc(PERIM_MAX_RULES * sizeof(*ids));
	zeros = calloc((size_t)RESET_BATCH * ncpus, sizeof(struct perim_rule_counters));
	for (uint32_t id = 1; ids && zeros && id < PERIM_MAX_RULES; id++)
		if ((want[id].flags & PERIM_RULE_ACTIVE) && want[id].gen != in->rules[id].gen &&
		    !(in->rules[id].flags & PERIM_RULE_ACTIVE))
			ids[n++] = id;
	if (n)
		reset_counters_of(maps->rule_stats_fd, ids, n, zeros, ncpus * sizeof(struct perim_rule_counters));
	free(ids);
	free(zeros);
}

/*
 * A route decides a known source's rule without a prefix lookup while its
 * epoch is perim_rules[PERIM_RULE_EPOCH_SLOT].gen (perim.h). A new epoch,
 * once the tables hold the new set (or the old one again after a rollback),
 * retires every decision the datapath recorded before: each was an answer of
 * the old set or of the new one while the entries changed.
 */
static int bump_route_epoch(const struct perim_maps *maps, char *err, size_t errlen)
{
	__u32 key = PERIM_RULE_EPOCH_SLOT;
	struct perim_rule epoch = { 0 };

	if (bpf_map_lookup_elem(maps->rules_fd, &key, &epoch) < 0) {
		snprintf(err, errlen, "reading the route epoch from %s: %s", PERIM_MAP_RULES, strerror(errno));
		return -errno;
	}
	epoch.gen = epoch.gen + 1 ? epoch.gen + 1 : 1;
	epoch.flags = 0;
	if (bpf_map_update_elem(maps->rules_fd, &key, &epoch, BPF_ANY) < 0) {
		snprintf(err, errlen, "writing the route epoch to %s: %s", PERIM_MAP_RULES, strerror(errno));
		return -errno;
	}
	return 0;
}

static int wait_for_programs(struct txn *t)
{
	return perim_wait_for_programs(t->err, t->errlen);
}

/*
 * A program that loaded the old descriptor before the trie took charge may
 * still be probing the fast tables: it must be done before they change.
 */
static int wait_if_logged(struct txn *t, size_t logged_before)
{
	return t->n_log > logged_before ? wait_for_programs(t) : 0;
}

/*
 * A program that found an old entry before it was deleted may still read
 * the rule it names: it must be done before that rule is deactivated.
 */
static bool deactivates(const struct perim_installed *in, const struct perim_rule *want)
{
	for (uint32_t id = 1; id < PERIM_MAX_RULES; id++)
		if ((in->rules[id].flags & PERIM_RULE_ACTIVE) && !(want[id].flags & PERIM_RULE_ACTIVE))
			return true;
	return false;
}

int perim_apply(struct perim_maps *maps, struct perim_installed *in,
		const struct perim_model *m, char *err, size_t errlen)
{
	size_t logged = 0, entries_from = 0;
	bool entries_changed = false;
	char undo_err[256];
	__u64 want_lens[PERIM_MAX_IFACES][PERIM_FAST_FAMILIES];
	struct perim_rule *want = NULL;
	struct perim_lpm_set new_lpm;
	struct txn t = { .maps = maps, .old = in, .err = err, .errlen = errlen };
	int ret;

	ret = perim_flatten(m, &new_lpm, err, errlen);
	if (ret)
		return ret == PERIM_EXIT_BADINPUT ? ret : PERIM_EXIT_FAIL;
	if (perim_fast_mirror(&new_lpm)) {
		snprintf(err, errlen, "out of memory applying rules");
		perim_lpm_set_free(&new_lpm);
		return PERIM_EXIT_FAIL;
	}
	t.new_lpm = &new_lpm;
	want = calloc(PERIM_MAX_RULES, sizeof(*want));
	t.log = calloc(2 * PERIM_MAX_RULES + new_lpm.n + in->lpm.n + 2 * PERIM_MAX_IFACES * PERIM_FAST_FAMILIES,
		       sizeof(*t.log));
	if (!want || !t.log || match_sets(&t)) {
		snprintf(err, errlen, "out of memory applying rules");
		ret = PERIM_EXIT_FAIL;
		goto out;
	}
	desired_rules(m, in, want, perim_clock_tick_ns());

	/*
	 * Rules before the entries that point at them; the trie in charge
	 * while entries change (publish_fast_lens); longest new entries first,
	 * shortest stale ones first (write_lpm); the new descriptors once the
	 * fast tables hold the new set; stale entries before the rules they name.
	 */
	want_fast_lens(&t, m, want_lens);
	/* Before the rules go live: a reset after would lose what they counted in between. */
	reset_counters(maps, in, want);
	ret = write_rules(&t, want, true);
	logged = t.n_log;
	if (!ret)
		ret = publish_fast_lens(&t, want_lens, false);
	if (!ret)
		ret = wait_if_logged(&t, logged);
	entries_from = t.n_log;
	if (!ret)
		ret = write_lpm(&t);
	if (!ret)
		ret = delete_stale_lpm(&t);
	entries_changed = t.n_log > entries_from;
	if (!ret)
		ret = publish_fast_lens(&t, want_lens, true);
	/* Before the wait: no program may still act on a route to a rule about to go. */
	if (!ret && entries_changed)
		ret = bump_route_epoch(maps, err, errlen);
	if (!ret && deactivates(in, want))
		ret = wait_for_programs(&t);
	if (!ret)
		ret = write_rules(&t, want, false);
	if (ret) {
		rollback(&t);
		if (entries_changed && bump_route_epoch(maps, undo_err, sizeof(undo_err)))
			pr_warn("perimd: after a rollback: %s; routes may keep deciding by the undone rules\n",
				undo_err);
		ret = PERIM_EXIT_FAIL;
		goto out;
	}

	memcpy(in->rules, want, sizeof(in->rules));
	memcpy(in->fast_lens, want_lens, sizeof(in->fast_lens));
	perim_lpm_set_free(&in->lpm);
	in->lpm = new_lpm;
	memset(&new_lpm, 0, sizeof(new_lpm));
out:
	perim_lpm_set_free(&new_lpm);
	free(t.old_of_new);
	free(t.old_kept);
	free(t.log);
	free(want);
	return ret;
}
