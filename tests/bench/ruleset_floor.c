// SPDX-License-Identifier: GPL-2.0
/*
 * ruleset_floor: the work a whole-ruleset switch of N per-source /32 rules
 * cannot avoid, timed alone, as a reference beside `perimctl apply`: maps of
 * perim's shapes (the rules ARRAY, an IPv4 LPM trie and its fast-path HASH,
 * both BPF_F_NO_PREALLOC) written in batches, and the state file's N lines
 * written once and synced. Nothing is parsed, checked or undoable here.
 *
 *   ruleset_floor N ROUNDS DIR
 *
 * Prints one line per round: "same_ms disjoint_ms file_ms", where same is a
 * switch that changes every rule's parameters (N rule writes), disjoint one
 * whose rules are all new (N rule writes, N trie and N hash inserts, N of
 * each deleted, a wait for running programs, N rules deactivated) and file
 * the state file (N lines of 90 bytes, one write, fsync, rename). Above
 * 8,191 rules old and new rules do not fit side by side: disjoint is n/a.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "datapath/prog_wait.h"
#include "perim.h"

#define STATE_LINE_BYTES 90

struct floor_maps {
	int rules, trie, hash;
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int fail(const char *what)
{
	fprintf(stderr, "ruleset_floor: %s: %s\n", what, strerror(errno));
	return 1;
}

static int maps_create(struct floor_maps *m)
{
	LIBBPF_OPTS(bpf_map_create_opts, no_prealloc, .map_flags = BPF_F_NO_PREALLOC);

	m->rules = bpf_map_create(BPF_MAP_TYPE_ARRAY, "floor_rules", sizeof(__u32), sizeof(struct perim_rule),
				  PERIM_MAX_RULES, NULL);
	m->trie = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "floor_lpm4", sizeof(struct perim_lpm4_key),
				 sizeof(struct perim_lpm_value), PERIM_LPM_MAX_ENTRIES, &no_prealloc);
	m->hash = bpf_map_create(BPF_MAP_TYPE_HASH, "floor_fast4", sizeof(struct perim_lpm4_key),
				 sizeof(struct perim_lpm_value), PERIM_LPM_MAX_ENTRIES, &no_prealloc);
	return m->rules < 0 || m->trie < 0 || m->hash < 0 ? -1 : 0;
}

/* N /32 keys from 10.BASE.0.0 on, their values, N rule ids from FIRST on and their rules. */
struct floor_set {
	struct perim_lpm4_key *keys;
	struct perim_lpm_value *vals;
	__u32 *ids;
	struct perim_rule *rules;
};

static int set_make(struct floor_set *s, unsigned n, unsigned base, __u32 first)
{
	s->keys = calloc(n, sizeof(*s->keys));
	s->vals = calloc(n, sizeof(*s->vals));
	s->ids = calloc(n, sizeof(*s->ids));
	s->rules = calloc(n, sizeof(*s->rules));
	if (!s->keys || !s->vals || !s->ids || !s->rules)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		unsigned v = i + 1;

		s->keys[i].prefixlen = 32;
		s->keys[i].addr[0] = 10;
		s->keys[i].addr[1] = base + v / 65536;
		s->keys[i].addr[2] = v / 256 % 256;
		s->keys[i].addr[3] = v % 256;
		s->vals[i].n_cand = 1;
		s->ids[i] = first + i;
		s->rules[i].flags = PERIM_RULE_ACTIVE;
		s->rules[i].pkt_interval_ns = 10000000 + base;
	}
	return 0;
}

static int update(int fd, const void *keys, const void *vals, unsigned n, const char *what)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = n;

	return bpf_map_update_batch(fd, keys, vals, &count, &opts) < 0 ? fail(what) : 0;
}

static int delete(int fd, const void *keys, unsigned n, const char *what)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = n;

	return bpf_map_delete_batch(fd, keys, &count, &opts) < 0 ? fail(what) : 0;
}

static int wait_for_programs(void)
{
	char err[256];

	if (!perim_wait_for_programs(err, sizeof(err)))
		return 0;
	fprintf(stderr, "ruleset_floor: %s\n", err);
	return 1;
}

/* Rules, then entries, then stale entries gone, then (running programs done) the old rules off. */
static int switch_disjoint(const struct floor_maps *m, const struct floor_set *from, const struct floor_set *to,
			   unsigned n)
{
	struct perim_rule *off = calloc(n, sizeof(*off));
	int ret;

	if (!off)
		return fail("calloc");
	ret = update(m->rules, to->ids, to->rules, n, "rules") ||
	      update(m->trie, to->keys, to->vals, n, "trie") || update(m->hash, to->keys, to->vals, n, "hash") ||
	      delete(m->trie, from->keys, n, "trie delete") || delete(m->hash, from->keys, n, "hash delete") ||
	      wait_for_programs() || update(m->rules, from->ids, off, n, "rules off");
	free(off);
	return ret;
}

static int write_state(const char *dir, unsigned n)
{
	char path[4096], tmp[4200], *body = malloc((size_t)n * STATE_LINE_BYTES);
	int fd, ret = 0;

	if (!body)
		return fail("malloc");
	memset(body, 'x', (size_t)n * STATE_LINE_BYTES);
	for (unsigned i = 1; i <= n; i++)
		body[(size_t)i * STATE_LINE_BYTES - 1] = '\n';
	snprintf(path, sizeof(path), "%s/floor.state", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, body, (size_t)n * STATE_LINE_BYTES) != (ssize_t)n * STATE_LINE_BYTES ||
	    fsync(fd) < 0 || rename(tmp, path) < 0)
		ret = fail("state file");
	if (fd >= 0)
		close(fd);
	free(body);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned n = argc == 4 ? strtoul(argv[1], NULL, 0) : 0, rounds = argc == 4 ? strtoul(argv[2], NULL, 0) : 0;
	struct floor_set a, b;
	struct floor_maps m;
	double t0, t1, t2, t3;
	bool disjoint;

	if (!n || n >= PERIM_MAX_RULES || !rounds) {
		fprintf(stderr, "usage: ruleset_floor N(1-%d) ROUNDS DIR\n", PERIM_MAX_RULES - 1);
		return 2;
	}
	/* All new rules beside all old ones: at most half the slots each (slot 0 is never used). */
	disjoint = 2 * n < PERIM_MAX_RULES;
	if (maps_create(&m))
		return fail("creating the maps");
	if (set_make(&a, n, 100, 1) || set_make(&b, n, 150, disjoint ? n + 1 : 1))
		return fail("calloc");
	if (update(m.rules, a.ids, a.rules, n, "rules") || update(m.trie, a.keys, a.vals, n, "trie") ||
	    update(m.hash, a.keys, a.vals, n, "hash"))
		return 1;
	for (unsigned r = 0; r < rounds; r++) {
		const struct floor_set *from = r % 2 ? &b : &a, *to = r % 2 ? &a : &b;

		t0 = now_ms();
		if (update(m.rules, from->ids, to->rules, n, "rules"))
			return 1;
		t1 = now_ms();
		if (disjoint && switch_disjoint(&m, from, to, n))
			return 1;
		t2 = now_ms();
		if (write_state(argv[3], n))
			return 1;
		t3 = now_ms();
		if (disjoint)
			printf("%.2f %.2f %.2f\n", t1 - t0, t2 - t1, t3 - t2);
		else
			printf("%.2f n/a %.2f\n", t1 - t0, t3 - t2);
	}
	return 0;
}
