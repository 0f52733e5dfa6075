/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The datapath unit tests' harness (tests/unit/test_xdp_*.c): load perim_xdp
 * (no pinning, its own maps), fill its maps by hand, run frames built with
 * xdp_frames.h through BPF_PROG_TEST_RUN and read the counters back.
 *
 * Time: a test run with repeat=N takes microseconds while the buckets here
 * refill at 1 packet/s, so "burst B" admits exactly B of N back-to-back runs.
 */
#ifndef PERIM_XDP_HARNESS_H
#define PERIM_XDP_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "test.h"
#include "perim.h"
#include "xdp/perim_xdp.skel.h"
#include "xdp_frames.h"

#define SLOT 3
#define SEC_NS 1000000000ULL
#define RULE 7

static inline struct perim_xdp *load_prog(bool compat)
{
	struct perim_xdp *skel;
	struct bpf_map *map;
	int err;

	skel = perim_xdp__open();
	if (!ASSERT_OK_PTR(skel, "perim_xdp__open"))
		return NULL;
	/* No pinning: the tests must never adopt or touch a running perimd's maps. */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	bpf_map__set_max_entries(skel->maps.perim_src, 4096);
	bpf_map__set_max_entries(skel->maps.perim_src4, 4096);
	skel->rodata->perim_slot = SLOT;
	bpf_program__set_autoload(skel->progs.perim_xdp, !compat);
	bpf_program__set_autoload(skel->progs.perim_xdp_compat, compat);
	err = perim_xdp__load(skel);
	if (!ASSERT_OK(err, "perim_xdp__load")) {
		perim_xdp__destroy(skel);
		return NULL;
	}
	return skel;
}

static inline int prog_fd(struct perim_xdp *skel)
{
	int fd = bpf_program__fd(skel->progs.perim_xdp);

	return fd >= 0 ? fd : bpf_program__fd(skel->progs.perim_xdp_compat);
}

/* Runs the frame `repeat` times; returns the verdict of the last run or -errno. */
static inline int run_frame(struct perim_xdp *skel, const struct frame *f, int repeat)
{
	uint8_t out[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = f->buf, .data_size_in = (uint32_t)f->len,
		    .data_out = out, .data_size_out = sizeof(out),
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog_fd(skel), &opts);

	if (err) {
		fprintf(stderr, "  bpf_prog_test_run_opts: %s\n", strerror(errno));
		return -errno;
	}
	return (int)opts.retval;
}

static inline int run_spec(struct perim_xdp *skel, const struct frame_spec *s, int repeat)
{
	struct frame f;

	frame_build(&f, s);
	return run_frame(skel, &f, repeat);
}

/* ---- map helpers ---- */

/* An IPv4 or IPv6 prefix as the key of the family's trie. */
struct test_lpm_key {
	bool v6;
	union {
		struct perim_lpm4_key k4;
		struct perim_lpm6_key k6;
	};
};

static inline bool parse_prefix(const char *text, struct test_lpm_key *key)
{
	char buf[64];
	char *slash;
	int len;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (!slash)
		return false;
	*slash = '\0';
	len = atoi(slash + 1);
	memset(key, 0, sizeof(*key));
	if (inet_pton(AF_INET, buf, key->k4.addr) == 1) {
		key->k4.prefixlen = len;
		return true;
	}
	key->v6 = true;
	key->k6.prefixlen = len;
	return inet_pton(AF_INET6, buf, key->k6.addr) == 1;
}

static inline int lpm_update(struct perim_xdp *skel, const struct test_lpm_key *key, const struct perim_lpm_value *v)
{
	if (key->v6)
		return bpf_map__update_elem(skel->maps.perim_lpm6, &key->k6, sizeof(key->k6), v, sizeof(*v), BPF_ANY);
	return bpf_map__update_elem(skel->maps.perim_lpm4, &key->k4, sizeof(key->k4), v, sizeof(*v), BPF_ANY);
}

static inline bool lpm_add(struct perim_xdp *skel, const char *prefix, uint8_t acl,
			   const struct perim_candidate *cand, int n)
{
	struct perim_lpm_value v = { .acl = acl, .n_cand = (uint8_t)n };
	struct test_lpm_key key;

	if (!ASSERT_TRUE(parse_prefix(prefix, &key), prefix))
		return false;
	if (n)
		memcpy(v.cand, cand, sizeof(*cand) * n);
	return ASSERT_OK(lpm_update(skel, &key, &v), "lpm update");
}

static inline struct perim_candidate cand(uint16_t rule, uint8_t proto, uint16_t lo, uint16_t hi, uint8_t flags)
{
	return (struct perim_candidate){ .rule = rule, .proto = proto, .flags = flags,
					 .dport_lo = lo, .dport_hi = hi };
}

/* A rule admitting `burst` packets, then 1 packet/s. */
static inline struct perim_rule rule_burst(unsigned burst, uint32_t flags)
{
	return (struct perim_rule){
		.gen = 1,
		.flags = PERIM_RULE_ACTIVE | flags,
		.pkt_interval_ns = SEC_NS,
		.pkt_tolerance_ns = (burst - 1) * SEC_NS,
	};
}

static inline bool rule_set(struct perim_xdp *skel, uint32_t id, const struct perim_rule *r)
{
	return ASSERT_OK(bpf_map__update_elem(skel->maps.perim_rules, &id, sizeof(id),
					      r, sizeof(*r), BPF_ANY), "rule update");
}

/* One prefix, one rule matching any packet of it. */
static inline bool simple_rule(struct perim_xdp *skel, const char *prefix, const struct perim_rule *r)
{
	struct perim_candidate c = cand(RULE, PERIM_PROTO_ANY, 0, 0, 0);

	return lpm_add(skel, prefix, PERIM_ACL_NONE, &c, 1) && rule_set(skel, RULE, r);
}

/*
 * The sum over CPUs of a per-CPU row of 64-bit counters (`size` bytes) into
 * `sum`. The rows are read as arrays of words; may_alias keeps the compiler
 * from assuming those words cannot be the struct the caller returns (inlined,
 * it would otherwise return the zeroed struct).
 */
typedef uint64_t __attribute__((may_alias)) counter_word;

static inline void percpu_sum(const struct bpf_map *map, const void *key, size_t key_size,
			      void *sum, size_t size, const char *what)
{
	int ncpu = libbpf_num_possible_cpus();
	counter_word *per = calloc(ncpu, size), *d = sum;

	memset(sum, 0, size);
	if (!per || bpf_map__lookup_elem(map, key, key_size, per, size * ncpu, 0)) {
		fprintf(stderr, "  %s lookup: %s\n", what, strerror(errno));
		perim_test_failed = 1;
		free(per);
		return;
	}
	for (int c = 0; c < ncpu; c++)
		for (size_t i = 0; i < size / 8; i++)
			d[i] += per[c * size / 8 + i];
	free(per);
}

static inline struct perim_if_counters if_stats(struct perim_xdp *skel)
{
	struct perim_if_counters sum;
	uint32_t key = SLOT;

	percpu_sum(skel->maps.perim_if_stats, &key, sizeof(key), &sum, sizeof(sum), "if_stats");
	return sum;
}

static inline struct perim_rule_counters rule_stats(struct perim_xdp *skel, uint32_t rule)
{
	struct perim_rule_counters sum;

	percpu_sum(skel->maps.perim_rule_stats, &rule, sizeof(rule), &sum, sizeof(sum), "rule_stats");
	return sum;
}

/* Keys in one bucket table (any key size up to a perim_src_key). */
static inline int map_entries(struct bpf_map *map)
{
	struct perim_src_key key, next;
	int n = 0, fd = bpf_map__fd(map);
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/* Per-source buckets of both families. */
static inline int src_entries(struct perim_xdp *skel)
{
	return map_entries(skel->maps.perim_src4) + map_entries(skel->maps.perim_src);
}

#define V4(addr, pr, port) (struct frame_spec){ .family = 4, .src = (addr), .proto = (pr), .dport = (port) }
#define V6(addr, pr, port) (struct frame_spec){ .family = 6, .src = (addr), .proto = (pr), .dport = (port) }

/*
 * Parse-path check: a rule with burst 1 on the frame's source, run twice.
 * When the rule matched, the second run is dropped for rate.
 */
static inline void expect_limited(const struct frame_spec *s, const char *prefix, struct perim_candidate c,
				  bool want_match)
{
	struct perim_rule r = rule_burst(1, PERIM_RULE_PER_SOURCE);
	struct perim_xdp *skel = load_prog(false);
	struct perim_rule_counters rc;
	int ret;

	if (!skel)
		return;
	if (!lpm_add(skel, prefix, PERIM_ACL_NONE, &c, 1) || !rule_set(skel, c.rule, &r))
		goto out;
	ret = run_spec(skel, s, 2);
	ASSERT_EQ(ret, want_match ? XDP_DROP : XDP_PASS, "verdict of the second run");
	rc = rule_stats(skel, c.rule);
	ASSERT_EQ(rc.matched_packets, want_match ? 2 : 0, "rule matched");
	ASSERT_EQ(rc.dropped_packets, want_match ? 1 : 0, "rule dropped");
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_RATE_PPS], want_match ? 1 : 0, "rate drops");
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_MALFORMED], 0, "no malformed");
out:
	perim_xdp__destroy(skel);
}

static inline void expect_malformed_frame(const struct frame *f)
{
	struct perim_xdp *skel = load_prog(false);
	struct perim_if_counters ic;

	if (!skel)
		return;
	ASSERT_EQ(run_frame(skel, f, 1), XDP_DROP, "verdict");
	ic = if_stats(skel);
	ASSERT_EQ(ic.rx_packets, 1, "rx");
	ASSERT_EQ(ic.dropped_packets[PERIM_REASON_MALFORMED], 1, "malformed drops");
	ASSERT_EQ(ic.dropped_bytes[PERIM_REASON_MALFORMED], f->len, "malformed bytes");
	perim_xdp__destroy(skel);
}

/* Builds the spec, then cuts the frame to `len` bytes. */
static inline void expect_malformed(const struct frame_spec *s, size_t cut_to)
{
	struct frame f;

	frame_build(&f, s);
	if (cut_to)
		f.len = cut_to;
	expect_malformed_frame(&f);
}

#define UDP_ANY cand(RULE, PERIM_PROTO_ANY, 0, 0, 0)
#define UDP_53 cand(RULE, IPPROTO_UDP, 53, 53, 0)
#define TCP_80 cand(RULE, IPPROTO_TCP, 80, 80, 0)

#endif /* PERIM_XDP_HARNESS_H */
