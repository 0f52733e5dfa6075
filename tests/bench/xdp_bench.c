// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath cost in ns/packet through BPF_PROG_TEST_RUN: 64-byte frames run
 * `repeat` times per call, every case once per round, rounds interleaved,
 * best round kept. Prints a markdown section (table + method) on stdout.
 *
 * Cases: a trivial XDP_DROP (the floor), xdp-filter 1.3 in deny mode with
 * 100 source addresses and one port (its pass path), perim with 0, 101 and
 * 10,000 rules, one source and 1,000,000 distinct sources, IPv4 and IPv6;
 * gamemann's XDP-Firewall with 101 filters when -f names its object
 * (xdp_firewall.h; -F says why it is not there).
 * Each rule set is loaded twice, its prefixes found by the trie in one
 * instance and by the fast path (lib/fast.h: exact-match probes per prefix
 * length) in the other, so both lookups are measured in the same run; one
 * more instance uses more lengths than the fast path takes, and falls back.
 *
 * BPF_PROG_TEST_RUN repeats one frame, so distinct sources need one call per
 * packet (repeat=1); that adds a fixed per-call cost (the kernel's timer
 * reads), which the same-source calls at repeat=1 measure. The 1M-source
 * figure is the one-source ns/pkt plus (distinct - same) at repeat=1.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "perim.h"
#include "xdp/perim_xdp.skel.h"
#include "tests/bench/progs/lower_bound.skel.h"
#include "tests/bench/progs/min_limiter.skel.h"
#include "../unit/xdp_frames.h"
#include "xdp_firewall.h"

#define XDP_FILTER_OBJ "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_dny_all.o"
#define SEC_NS 1000000000ULL
#define BENCH_SLOT 0
#define FIRST_PREFIX 10              /* IPv4 10.0.0.0/8, IPv6 2001:db8:a::/48 */
#define PASS_PREFIX 11               /* the 101-rule instance's non-limiting rule */
#define N_PREFIXES 101
#define ALLOW_LEN4 16                /* the allow list: another length than the rules' */
#define ALLOW_LEN6 56
#define XDPFILT_PORT 53
#define MAX_ROUNDS 64

/* xdp-filter's map value flags (xdp-filter/common_kern_user.h). */
#define XDPFILT_FLAG_SRC (1 << 0)
#define XDPFILT_FLAG_DST (1 << 1)
#define XDPFILT_FLAG_UDP (1 << 3)

struct bench_opts {
	int rounds;
	int repeat;
	int sources;
	int source_rounds;
	const char *xdpfw_obj;       /* XDP-Firewall's object, or NULL */
	const char *baseline_obj;    /* another build's perim_xdp object, or NULL */
	const char *xdpfw_skipped;   /* why there is none */
	bool ab_only;                /* -A: only the rows an A/B against -B needs */
};

struct bench_case {
	const char *name;
	int family;
	int prog_fd;
	struct frame frame;
	int want;                    /* expected verdict */
	uint32_t best_ns;
	uint32_t round_ns[MAX_ROUNDS];  /* every round's figure, for same-round ratios */
	const char *skipped;         /* not measured, and why */
	bool omitted;                /* not measured, not reported */
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	/* .xdp_run_config and xdp-filter's "features" are libxdp's sections. */
	if (level != LIBBPF_WARN || strstr(fmt, "unrecognized data section"))
		return 0;
	return vfprintf(stderr, fmt, args);
}

static int test_run(int fd, struct frame *f, int repeat, uint32_t *duration, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->buf, .data_size_in = (uint32_t)f->len,
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(fd, &opts);

	if (err) {
		err = -errno;
		fprintf(stderr, "xdp_bench: BPF_PROG_TEST_RUN: %s\n", strerror(-err));
		return err;
	}
	*duration = opts.duration;
	*retval = opts.retval;
	return 0;
}

/* A 64-byte UDP frame to port 53 from `src`. */
static void udp_frame(struct frame *f, int family, const char *src)
{
	struct frame_spec s = { .family = family, .src = src, .proto = IPPROTO_UDP,
				.dport = XDPFILT_PORT };

	s.payload = 64 - (14 + (family == 4 ? 20 : 40) + 8);
	if (family == 6)
		s.payload = 0;          /* 14 + 40 + 8 = 62: the smallest IPv6 UDP frame */
	frame_build(f, &s);
	if (f->len < 64)
		f->len = 64;            /* Ethernet padding */
}

/* ---- the floor: return XDP_DROP ---- */

static int load_trivial(void)
{
	/* r0 = XDP_DROP; exit. Two instructions need no object file. */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_DROP },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_trivial", "GPL", insns, 2, NULL);

	if (fd < 0)
		fprintf(stderr, "xdp_bench: loading the trivial program: %s\n", strerror(errno));
	return fd;
}

/* ---- the lower bound of a per-source limiter (progs/lower_bound.bpf.c) ---- */

static void mapped_addr(int family, const char *src, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (family == 6) {
		inet_pton(AF_INET6, src, addr);
		return;
	}
	addr[10] = addr[11] = 0xff;
	inet_pton(AF_INET, src, addr + 12);
}

/* An over-limit bucket and a prefix entry for src, so both programs drop its frames. */
static int lower_bound_add(struct lower_bound *lb, int family, const char *src)
{
	struct { uint32_t prefixlen; uint8_t addr[16]; } k = { .prefixlen = 8 };
	struct { uint64_t tat, tolerance; } b = { .tat = UINT64_MAX / 2 };
	uint32_t rule = 1;
	int err;

	mapped_addr(family, src, k.addr);
	err = bpf_map__update_elem(lb->maps.lb_buckets, k.addr, 16, &b, sizeof(b), BPF_ANY);
	if (!err)
		err = bpf_map__update_elem(lb->maps.lb_prefixes, &k, sizeof(k), &rule, sizeof(rule), BPF_ANY);
	if (err)
		fprintf(stderr, "xdp_bench: lower bound maps: %s\n", strerror(-err));
	return err;
}

static struct lower_bound *load_lower_bound(void)
{
	struct lower_bound *lb = lower_bound__open_and_load();

	if (!lb)
		fprintf(stderr, "xdp_bench: loading the lower-bound programs: %s\n", strerror(errno));
	return lb;
}

/* ---- the minimal limiter (progs/min_limiter.bpf.c): the same 101 prefixes as perim's rule set ---- */

struct ml_rule {
	uint32_t id, pad;
	uint64_t interval_ns, tolerance_ns;
};

static int min_limiter_add_rule(struct min_limiter *ml, unsigned p)
{
	struct ml_rule r = { .id = p, .interval_ns = SEC_NS };
	struct { uint32_t prefixlen; uint32_t addr; } k4 = { .prefixlen = 8, .addr = htonl(p << 24) };
	struct { uint32_t prefixlen; uint8_t addr[16]; } k6 = { .prefixlen = 48 };
	char v6[64];
	int err;

	snprintf(v6, sizeof(v6), "2001:db8:%x::", p);
	inet_pton(AF_INET6, v6, k6.addr);
	err = bpf_map__update_elem(ml->maps.ml_rules4, &k4, sizeof(k4), &r, sizeof(r), BPF_ANY);
	if (!err)
		err = bpf_map__update_elem(ml->maps.ml_rules6, &k6, sizeof(k6), &r, sizeof(r), BPF_ANY);
	if (err)
		fprintf(stderr, "xdp_bench: minimal limiter rule %u: %s\n", p, strerror(-err));
	return err;
}

/* 101 rules of 1 pps, burst 1, and an over-limit bucket for src: its frames are dropped. */
static struct min_limiter *load_min_limiter(const char *src4, const char *src6, uint32_t buckets)
{
	struct min_limiter *ml = min_limiter__open();
	struct { uint32_t rule; uint32_t addr; } s4 = { .rule = FIRST_PREFIX };
	struct { uint32_t rule; uint8_t addr[16]; } s6 = { .rule = FIRST_PREFIX };
	uint64_t tat = UINT64_MAX / 2;
	int err = 0;

	if (!ml) {
		fprintf(stderr, "xdp_bench: opening the minimal limiter: %s\n", strerror(errno));
		return NULL;
	}
	err = bpf_map__set_max_entries(ml->maps.ml_src4, buckets);
	if (!err)
		err = bpf_map__set_max_entries(ml->maps.ml_src6, buckets);
	if (!err)
		err = min_limiter__load(ml);
	if (err) {
		fprintf(stderr, "xdp_bench: loading the minimal limiter: %s\n", strerror(-err));
		min_limiter__destroy(ml);
		return NULL;
	}
	for (unsigned p = FIRST_PREFIX; p < FIRST_PREFIX + N_PREFIXES && !err; p++)
		err = min_limiter_add_rule(ml, p);
	inet_pton(AF_INET, src4, &s4.addr);
	inet_pton(AF_INET6, src6, s6.addr);
	if (!err)
		err = bpf_map__update_elem(ml->maps.ml_src4, &s4, sizeof(s4), &tat, sizeof(tat), BPF_ANY);
	if (!err)
		err = bpf_map__update_elem(ml->maps.ml_src6, &s6, sizeof(s6), &tat, sizeof(tat), BPF_ANY);
	if (err) {
		fprintf(stderr, "xdp_bench: minimal limiter buckets: %s\n", strerror(-err));
		min_limiter__destroy(ml);
		return NULL;
	}
	return ml;
}

/* ---- xdp-filter: deny by default, 100 source addresses and one port listed ---- */

static int percpu_update(struct bpf_map *map, const void *key, size_t key_size, uint64_t flags)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals = calloc(ncpu, sizeof(*vals));
	int err;

	if (!vals)
		return -ENOMEM;
	for (int c = 0; c < ncpu; c++)
		vals[c] = flags;
	err = bpf_map__update_elem(map, key, key_size, vals, sizeof(*vals) * ncpu, BPF_ANY);
	if (err)
		fprintf(stderr, "xdp_bench: xdp-filter map %s: %s\n", bpf_map__name(map), strerror(-err));
	free(vals);
	return err;
}

static struct bpf_object *load_xdp_filter(void)
{
	struct bpf_object *obj = bpf_object__open_file(XDP_FILTER_OBJ, NULL);
	struct bpf_map *map, *ipv4, *ipv6, *ports;
	uint32_t port = htons(XDPFILT_PORT);
	int err;

	if (!obj) {
		fprintf(stderr, "xdp_bench: opening %s: %s\n", XDP_FILTER_OBJ, strerror(errno));
		return NULL;
	}
	bpf_object__for_each_map(map, obj)
		bpf_map__set_pin_path(map, NULL);
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "xdp_bench: loading %s: %s\n", XDP_FILTER_OBJ, strerror(-err));
		goto fail;
	}
	ipv4 = bpf_object__find_map_by_name(obj, "filter_ipv4");
	ipv6 = bpf_object__find_map_by_name(obj, "filter_ipv6");
	ports = bpf_object__find_map_by_name(obj, "filter_ports");
	if (!ipv4 || !ipv6 || !ports) {
		fprintf(stderr, "xdp_bench: %s lacks filter_ipv4/filter_ipv6/filter_ports\n", XDP_FILTER_OBJ);
		goto fail;
	}
	/* Listed sources are in 192.0.2.0/24 and 2001:db8:ffff::/48, never the benchmark's. */
	for (uint32_t i = 0; i < 100; i++) {
		uint32_t a4 = htonl(0xc0000200 + i);
		struct in6_addr a6;
		char buf[64];

		snprintf(buf, sizeof(buf), "2001:db8:ffff::%x", i + 1);
		inet_pton(AF_INET6, buf, &a6);
		if (percpu_update(ipv4, &a4, sizeof(a4), XDPFILT_FLAG_SRC) ||
		    percpu_update(ipv6, &a6, sizeof(a6), XDPFILT_FLAG_SRC))
			goto fail;
	}
	if (percpu_update(ports, &port, sizeof(port), XDPFILT_FLAG_DST | XDPFILT_FLAG_UDP))
		goto fail;
	return obj;
fail:
	bpf_object__close(obj);
	return NULL;
}

/* ---- perim instances ---- */

/* sample_drops false: perim_drop_sample_rate 0, the verifier prunes drop sampling (drop_sample.h). */
static struct perim_xdp *load_perim(uint32_t src_buckets, bool sample_drops)
{
	struct perim_xdp *skel = perim_xdp__open();
	struct bpf_map *map;
	int err;

	if (!skel) {
		fprintf(stderr, "xdp_bench: perim_xdp__open: %s\n", strerror(errno));
		return NULL;
	}
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	bpf_program__set_autoload(skel->progs.perim_xdp_compat, false);
	skel->rodata->perim_slot = BENCH_SLOT;
	if (!sample_drops)
		skel->rodata->perim_drop_sample_rate = 0;
	err = bpf_map__set_max_entries(skel->maps.perim_src, src_buckets);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.perim_src4, src_buckets);
	if (!err)
		err = perim_xdp__load(skel);
	if (err) {
		fprintf(stderr, "xdp_bench: loading perim_xdp: %s\n", strerror(-err));
		perim_xdp__destroy(skel);
		return NULL;
	}
	return skel;
}

/*
 * A perim_xdp object of another build (-B: say, main's), loaded like
 * load_perim's instances, so its rows sit beside this build's in one run.
 */
static struct bpf_object *load_baseline(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;
	int err = 0;

	if (!obj) {
		fprintf(stderr, "xdp_bench: opening %s: %s\n", path, strerror(errno));
		return NULL;
	}
	bpf_object__for_each_map(map, obj) {
		bpf_map__set_pin_path(map, NULL);
		if (!err && (!strcmp(bpf_map__name(map), "perim_src") || !strcmp(bpf_map__name(map), "perim_src4")))
			err = bpf_map__set_max_entries(map, 65536);
	}
	bpf_object__for_each_program(prog, obj)
		if (!err)
			err = bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), "perim_xdp"));
	if (!err)
		err = bpf_object__load(obj);
	if (err || !bpf_object__find_program_by_name(obj, "perim_xdp")) {
		fprintf(stderr, "xdp_bench: loading %s: %s\n", path, err ? strerror(-err) : "no perim_xdp program");
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

/* By name, so a perim_xdp object of another build (-B) is filled like the skeleton's. */
static struct bpf_map *perim_map(struct bpf_object *obj, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);

	if (!map)
		fprintf(stderr, "xdp_bench: no map %s in the perim object\n", name);
	return map;
}

static int perim_update(struct bpf_object *obj, const char *name, const void *key, size_t key_size,
			const void *value, size_t value_size)
{
	struct bpf_map *map = perim_map(obj, name);

	return map ? bpf_map__update_elem(map, key, key_size, value, value_size, BPF_ANY) : -ENOENT;
}

/*
 * Into the family's trie and its fast table, as perimd writes them (addr is
 * already masked to len). rule 0: an allow-list prefix without candidates.
 */
static int perim_add_prefix(struct bpf_object *obj, int family, const char *addr, int len, uint16_t rule)
{
	struct perim_lpm_value v = { .n_cand = 1,
				     .cand = { { .rule = rule, .proto = IPPROTO_UDP } } };

	if (!rule)
		v = (struct perim_lpm_value){ .acl = PERIM_ACL_ALLOW };
	int err;

	if (family == 4) {
		struct perim_lpm4_key k4 = { .prefixlen = len };

		inet_pton(AF_INET, addr, k4.addr);
		err = perim_update(obj, "perim_lpm4", &k4, sizeof(k4), &v, sizeof(v));
		if (!err)
			err = perim_update(obj, "perim_fast4", &k4, sizeof(k4), &v, sizeof(v));
	} else {
		struct perim_lpm6_key k6 = { .prefixlen = len };

		inet_pton(AF_INET6, addr, k6.addr);
		err = perim_update(obj, "perim_lpm6", &k6, sizeof(k6), &v, sizeof(v));
		if (!err)
			err = perim_update(obj, "perim_fast6", &k6, sizeof(k6), &v, sizeof(v));
	}
	if (err)
		fprintf(stderr, "xdp_bench: perim_lpm %s/%d: %s\n", addr, len, strerror(-err));
	return err;
}

/*
 * Per-source, burst 1 at 1 pps: after its first packet a source is dropped.
 * Aggregate (no per-source LRU): its bucket starts empty when limiting.
 */
static int perim_set_rule_as(struct bpf_object *obj, uint32_t id, bool limiting, bool per_source)
{
	struct perim_rule r = {
		.gen = 1,
		.flags = PERIM_RULE_ACTIVE | (per_source ? PERIM_RULE_PER_SOURCE : 0),
		.pkt_interval_ns = limiting ? SEC_NS : 1,
		.pkt_tolerance_ns = limiting ? 0 : SEC_NS,
	};
	struct perim_rule_state st = { .agg = { .gen = 1, .pkt_tat = limiting ? UINT64_MAX / 4 : 0 } };
	int err = perim_update(obj, "perim_rules", &id, sizeof(id), &r, sizeof(r));

	if (!err && !per_source)
		err = perim_update(obj, "perim_rule_state", &id, sizeof(id), &st, sizeof(st));

	if (err)
		fprintf(stderr, "xdp_bench: perim_rules %u: %s\n", id, strerror(-err));
	return err;
}

/* perimd publishes a route epoch once it has written the entries (perim.h): routes decide from then on. */
static int perim_set_epoch(struct bpf_object *obj, uint32_t epoch)
{
	struct perim_rule r = { .gen = epoch };
	uint32_t key = PERIM_RULE_EPOCH_SLOT;
	int err = perim_update(obj, "perim_rules", &key, sizeof(key), &r, sizeof(r));

	if (err)
		fprintf(stderr, "xdp_bench: the route epoch: %s\n", strerror(-err));
	return err;
}

static int perim_set_rule(struct bpf_object *obj, uint32_t id, bool limiting)
{
	return perim_set_rule_as(obj, id, limiting, true);
}

/*
 * Which lookup an instance uses: its descriptors (perim.h) list the lengths
 * in use longest first, or say "trie" (what a fresh map says).
 */
static int perim_set_lens(struct bpf_object *obj, int family, int n, const int *len)
{
	__u64 d = n < 0 ? PERIM_FAST_USE_TRIE : (__u64)n + 1;
	uint32_t key = family == 4 ? 0 : 1;
	int err;

	for (int i = 0; i < n; i++)
		d |= (__u64)len[i] << (8 * (i + 1));
	err = perim_update(obj, "perim_fastlens", &key, sizeof(key), &d, sizeof(d));
	if (err)
		fprintf(stderr, "xdp_bench: perim_fastlens: %s\n", strerror(-err));
	return err;
}

static int perim_use_fast(struct bpf_object *obj, int n4, const int *len4, int n6, const int *len6)
{
	return perim_set_lens(obj, 4, n4, len4) || perim_set_lens(obj, 6, n6, len6) ? -1 : 0;
}

/*
 * 101 rules: IPv4 p.0.0.0/8 and IPv6 2001:db8:p::/48 for p = 10..110, one
 * rule each, plus allow-list prefixes 111.0.0.0/16 and 2001:db8:6f::/56
 * (another length: the fast path probes /16 before /8, /56 before /48).
 * Without the allow list one length is in use: one probe.
 */
static int perim_fill_rules(struct bpf_object *obj, bool fast, bool allow_list, bool per_source)
{
	static const int len4[] = { ALLOW_LEN4, 8 }, len6[] = { ALLOW_LEN6, 48 };
	int skip = allow_list ? 0 : 1;

	if (allow_list && (perim_add_prefix(obj, 4, "111.0.0.0", ALLOW_LEN4, 0) ||
			   perim_add_prefix(obj, 6, "2001:db8:6f::", ALLOW_LEN6, 0)))
		return -1;
	for (unsigned p = FIRST_PREFIX; p < FIRST_PREFIX + N_PREFIXES; p++) {
		char v4[32], v6[64];

		snprintf(v4, sizeof(v4), "%u.0.0.0", p);
		snprintf(v6, sizeof(v6), "2001:db8:%x::", p);
		if (perim_set_rule_as(obj, p, p != PASS_PREFIX, per_source) ||
		    perim_add_prefix(obj, 4, v4, 8, p) || perim_add_prefix(obj, 6, v6, 48, p))
			return -1;
	}
	if (perim_set_epoch(obj, 1))
		return -1;
	return fast ? perim_use_fast(obj, 2 - skip, len4 + skip, 2 - skip, len6 + skip) : 0;
}

static int perim_fill_101(struct bpf_object *obj, bool fast)
{
	return perim_fill_rules(obj, fast, true, true);
}

/* As perim_fill_101 with the fast path, but no epoch: no route decides, every packet takes the prefix lookup. */
static int perim_fill_101_no_route(struct bpf_object *obj)
{
	return perim_fill_101(obj, true) || perim_set_epoch(obj, 0) ? -1 : 0;
}

/*
 * The 101-rule set plus one prefix at each of 7 more lengths (IPv4
 * 112.0.0.0/17../23, IPv6 2001:db8:70::/57../63): 9 lengths, more than
 * PERIM_FAST_MAX_LENGTHS, so perimd's descriptor says "trie". The
 * descriptors are set the way perimd sets them, so the fallback's own
 * check is in the measurement.
 */
static int perim_fill_over_cap(struct bpf_object *obj)
{
	if (perim_fill_101(obj, false))
		return -1;
	for (int i = 0; i < PERIM_FAST_MAX_LENGTHS; i++) {
		if (perim_add_prefix(obj, 4, "112.0.0.0", 17 + i, 0) ||
		    perim_add_prefix(obj, 6, "2001:db8:70::", 57 + i, 0))
			return -1;
	}
	return perim_use_fast(obj, -1, NULL, -1, NULL);
}

/* 10,000 rules: IPv4 10.x.y.0/24 and IPv6 2001:db8:i::/48, rule i + 1 each. */
static int perim_fill_10k(struct bpf_object *obj, bool fast)
{
	static const int len4[] = { 24 }, len6[] = { 48 };

	for (unsigned i = 0; i < 10000; i++) {
		char v4[32], v6[64];

		snprintf(v4, sizeof(v4), "10.%u.%u.0", i >> 8, i & 0xff);
		snprintf(v6, sizeof(v6), "2001:db8:%x::", i);
		if (perim_set_rule(obj, i + 1, true) ||
		    perim_add_prefix(obj, 4, v4, 24, i + 1) || perim_add_prefix(obj, 6, v6, 48, i + 1))
			return -1;
	}
	if (perim_set_epoch(obj, 1))
		return -1;
	return fast ? perim_use_fast(obj, 1, len4, 1, len6) : 0;
}

/* ---- measuring ---- */

static int run_rounds(struct bench_case *cases, int n, const struct bench_opts *o)
{
	uint32_t ns, ret;

	for (int i = 0; i < n; i++) {
		if (cases[i].skipped || cases[i].omitted)
			continue;
		/* Warm-up, and a check that the case takes the path it is named for. */
		if (test_run(cases[i].prog_fd, &cases[i].frame, 2, &ns, &ret))
			return -1;
		if ((int)ret != cases[i].want) {
			fprintf(stderr, "xdp_bench: %s (IPv%d): verdict %u, expected %d\n",
				cases[i].name, cases[i].family, ret, cases[i].want);
			return -1;
		}
		cases[i].best_ns = UINT32_MAX;
	}
	for (int r = 0; r < o->rounds; r++) {
		for (int i = 0; i < n; i++) {
			if (cases[i].skipped || cases[i].omitted)
				continue;
			if (test_run(cases[i].prog_fd, &cases[i].frame, o->repeat, &ns, &ret))
				return -1;
			cases[i].round_ns[r] = ns;
			if (ns < cases[i].best_ns)
				cases[i].best_ns = ns;
		}
	}
	return 0;
}

static void set_source(struct frame *f, int family, uint32_t host)
{
	if (family == 4) {
		uint32_t a = htonl((FIRST_PREFIX << 24) | (host & 0xffffff));

		memcpy(f->buf + 14 + 12, &a, 4);
	} else {
		uint32_t a = htonl(host);

		memcpy(f->buf + 14 + 8 + 12, &a, 4);
	}
}

/*
 * Mean kernel ns per call over `n` calls at repeat=1, the source varying
 * (source order[i], or i + 1 without an order) or not.
 */
static int mean_single_runs(int fd, struct frame *f, int family, int n, bool vary, const uint32_t *order,
			    double *mean)
{
	uint64_t sum = 0;
	uint32_t ns, ret;

	for (int i = 0; i < n; i++) {
		set_source(f, family, vary ? (order ? order[i] : (uint32_t)i + 1) : 1);
		if (test_run(fd, f, 1, &ns, &ret))
			return -1;
		sum += ns;
	}
	*mean = (double)sum / n;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* many[]'s index: per family, sources in the order their entries were made, then shuffled. */
#define MANY_IN_ORDER 0
#define MANY_SHUFFLED 1
#define MANY(fam, ord) ((fam) * 2 + (ord))

/* What many_sources measured for one family and order: each program's best (distinct - same) mean per call. */
struct many_sources {
	double delta;                /* perim's 101-rule fast-path instance */
	double ml_delta;             /* the minimal limiter */
	double ratio[3];             /* perim's delta / the limiter's, same round: median, min, max */
};

/* The median, minimum and maximum of v[0..n) (sorts v); zeros when n is 0. */
static void median_min_max(double *v, int n, double out[3])
{
	out[0] = out[1] = out[2] = 0;
	if (!n)
		return;
	qsort(v, n, sizeof(v[0]), cmp_double);
	out[0] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	out[1] = v[0];
	out[2] = v[n - 1];
}

/* One round of one program: mean per call with distinct sources (in `order`), then with one source. */
static int many_sources_round(int fd, int family, const struct bench_opts *o, const uint32_t *order,
			      double *vary, double *same)
{
	struct frame f;

	udp_frame(&f, family, family == 4 ? "10.0.0.1" : "2001:db8:a::1");
	if (mean_single_runs(fd, &f, family, o->sources, true, order, vary))
		return -1;
	return mean_single_runs(fd, &f, family, o->sources / 4, false, NULL, same);
}

/*
 * Sources 1..n in a fixed pseudo-random order (Fisher-Yates, xorshift): a
 * flood's sources do not arrive in the order their entries were made, and
 * entries made in order lie in order in the table's memory.
 */
static uint32_t *shuffled_sources(uint32_t n)
{
	uint32_t *v = malloc(n * sizeof(*v)), x = 2463534242u;

	if (!v)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		v[i] = i + 1;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j, t;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		j = x % (i + 1);
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	return v;
}

/*
 * Distinct sources through perim's 101-rule instance and the minimal
 * limiter: a first pass creates each one's buckets (each source's one
 * admitted packet), then rounds alternate the two programs (which one goes
 * first alternates too), so both see the same machine; each keeps its best
 * distinct-source and same-source means, and each round gives a same-round
 * ratio of their costs of a source among many.
 */
static int many_sources(int perim_fd, int ml_fd, int family, const struct bench_opts *o, const uint32_t *order,
			struct many_sources *m)
{
	double best[2][2] = { { 1e18, 1e18 }, { 1e18, 1e18 } }, ratios[MAX_ROUNDS], vary, same, d[2];
	const int fds[2] = { perim_fd, ml_fd };
	struct frame f;
	int n = 0;

	/* The entries exist after the in-order call's pass: a shuffled call reuses them. */
	for (int p = 0; p < 2 && !order; p++) {
		udp_frame(&f, family, family == 4 ? "10.0.0.1" : "2001:db8:a::1");
		if (mean_single_runs(fds[p], &f, family, o->sources, true, NULL, &vary))
			return -1;
	}
	for (int r = 0; r < o->source_rounds && r < MAX_ROUNDS; r++) {
		for (int k = 0; k < 2; k++) {
			int p = (r + k) % 2;

			if (many_sources_round(fds[p], family, o, order, &vary, &same))
				return -1;
			d[p] = vary - same;
			if (vary < best[p][0])
				best[p][0] = vary;
			if (same < best[p][1])
				best[p][1] = same;
		}
		if (d[1] > 0)
			ratios[n++] = d[0] / d[1];
	}
	m->delta = best[0][0] - best[0][1];
	m->ml_delta = best[1][0] - best[1][1];
	median_min_max(ratios, n, m->ratio);
	return 0;
}

static uint64_t map_entries(struct bpf_map *map)
{
	struct perim_src_key key, next;
	int fd = bpf_map__fd(map);
	void *prev = NULL;
	uint64_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

static uint64_t src_buckets_in_use(struct perim_xdp *skel)
{
	return map_entries(skel->maps.perim_src4) + map_entries(skel->maps.perim_src);
}

/* ---- report ---- */

enum {
	C_TRIVIAL, C_XDPFILT, C_P0, C_P0_FAST, C_ALLOW, C_ALLOW_FAST, C_DROP, C_DROP_FAST,
	C_PASS, C_PASS_FAST, C_10K_DROP, C_10K_DROP_FAST, C_OVER_CAP_DROP, C_DROP_FAST_NO_SAMPLE,
	C_DROP_FAST_ONE_LEN, C_DROP_FAST_ONE_LEN_AGG, C_DROP_FAST_NO_ROUTE,
	C_LB_BUCKET, C_LB_PREFIX_BUCKET, C_MIN_LIMITER, C_XDPFW_LAST, C_XDPFW_FIRST,
	C_BASE_DROP_FAST, C_BASE_PASS_FAST, C_PER_FAMILY
};

static const char *case_names[C_PER_FAMILY] = {
	[C_TRIVIAL] = "trivial `return XDP_DROP` (floor)",
	[C_XDPFILT] = "xdp-filter 1.3 deny mode, 100 src + 1 port: pass path",
	[C_P0] = "perim, 0 rules, trie: LPM miss, pass",
	[C_P0_FAST] = "perim, 0 rules, fast path: no length in use, pass",
	[C_ALLOW] = "perim, 101 rules, trie: allow-list hit (parse + trie walk + counter)",
	[C_ALLOW_FAST] = "perim, 101 rules, fast path: allow-list hit (parse + 1 probe + counter)",
	[C_DROP] = "perim, 101 rules per-source, one source, trie: drop path",
	[C_DROP_FAST] = "perim, 101 rules per-source, one source, fast path: **drop path**",
	[C_PASS] = "perim, 101 rules per-source, one source, trie: pass path (CAS charge)",
	[C_PASS_FAST] = "perim, 101 rules per-source, one source, fast path: pass path (CAS charge)",
	[C_10K_DROP] = "perim, 10,000 rules per-source, one source, trie: drop path",
	[C_10K_DROP_FAST] = "perim, 10,000 rules per-source, one source, fast path: drop path",
	[C_OVER_CAP_DROP] = "perim, 101 rules + 7 more lengths (over the cap: trie fallback): drop path",
	[C_DROP_FAST_NO_SAMPLE] = "perim, 101 rules per-source, one source, fast path, drop sampling off: drop path",
	[C_DROP_FAST_ONE_LEN] = "perim, 101 rules per-source, one source, fast path, no allow list (one length, one probe): drop path",
	[C_DROP_FAST_ONE_LEN_AGG] = "perim, 101 rules aggregate (no per-source LRU), fast path, one length: drop path",
	[C_DROP_FAST_NO_ROUTE] = "perim, 101 rules per-source, one source, fast path, routes off (no epoch: two prefix probes, then the bucket): drop path",
	[C_LB_BUCKET] = "lower bound: parse + per-source LRU bucket + coarse clock + counter, drop",
	[C_LB_PREFIX_BUCKET] = "lower bound + one prefix probe (which rule?), drop",
	[C_MIN_LIMITER] = "minimal limiter: parse, LPM trie (101 rules, bare address key), per-CPU rule counter, LRU bucket (rule + address key), coarse clock, drop",
	[C_XDPFW_LAST] = "XDP-Firewall, 101 filters, per-IP pps limit, matching filter last: drop",
	[C_XDPFW_FIRST] = "XDP-Firewall, 101 filters, per-IP pps limit, matching filter first: drop",
	[C_BASE_DROP_FAST] = "baseline perim build (-B), 101 rules per-source, one source, fast path: drop path",
	[C_BASE_PASS_FAST] = "baseline perim build (-B), 101 rules per-source, one source, fast path: pass path (CAS charge)",
};

static void print_row(const char *name, int family, double ns, double floor, const char *verdict)
{
	printf("| %s | IPv%d | %.1f | %+.1f | %s |\n", name, family, ns, ns - floor, verdict);
}

static double above(const struct bench_case *c, int i)
{
	return (double)c[i].best_ns - c[C_TRIVIAL].best_ns;
}

/* Cost above the trivial program, as a multiple of xdp-filter's pass path above it. */
static double rel_filter(const struct bench_case *c, int i)
{
	return above(c, i) / (above(c, C_XDPFILT) > 0 ? above(c, C_XDPFILT) : 1);
}

/*
 * The median, minimum and maximum over rounds of case a's cost above the
 * trivial program over case b's, both from the same round: a change of the
 * machine's load between rounds cancels out of each ratio.
 */
static void same_round_ratio(const struct bench_case *c, int a, int b, int rounds, double out[3])
{
	double r[MAX_ROUNDS];
	int n = 0;

	for (int i = 0; i < rounds; i++) {
		double fl = c[C_TRIVIAL].round_ns[i];
		double x = c[a].round_ns[i] - fl, y = c[b].round_ns[i] - fl;

		if (y > 0)
			r[n++] = x / y;
	}
	median_min_max(r, n, out);
}

static void print_same_round(const struct bench_case *cases, const struct bench_opts *o)
{
	static const char *const names[] = {
		"perim drop path (fast path) / minimal limiter",
		"perim drop path (fast path) / xdp-filter pass path",
		"perim drop path (fast path) / baseline perim build (-B)",
		"perim drop path (fast path) / the same, drop sampling off",
	};
	static const int against[] = { C_MIN_LIMITER, C_XDPFILT, C_BASE_DROP_FAST, C_DROP_FAST_NO_SAMPLE };

	printf("\n| same-round ratio of costs above trivial: median over %d rounds (range) | IPv4 | IPv6 |\n",
	       o->rounds);
	printf("|---|---:|---:|\n");
	for (int row = 0; row < 4; row++) {
		double r[2][3];

		if (cases[against[row]].omitted)
			continue;
		for (int fam = 0; fam < 2; fam++)
			same_round_ratio(&cases[fam * C_PER_FAMILY], C_DROP_FAST, against[row], o->rounds, r[fam]);
		printf("| %s | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) |\n", names[row], r[0][0], r[0][1], r[0][2],
		       r[1][0], r[1][1], r[1][2]);
	}
}

static void print_goal(struct bench_case *cases, const struct many_sources *many, const struct bench_opts *o)
{
	printf("\n| goal: perim drop path (101 rules, per-source) above trivial <= 0.6 x xdp-filter's pass path above trivial | ratio | met |\n");
	printf("|---|---:|---|\n");
	for (int fam = 0; fam < 2; fam++) {
		struct bench_case *c = &cases[fam * C_PER_FAMILY];
		double fast = rel_filter(c, C_DROP_FAST), trie = rel_filter(c, C_DROP);

		printf("| IPv%d, fast path (what perimd publishes) | %.2f | %s |\n", c[0].family, fast,
		       fast <= 0.6 ? "yes" : "**no**");
		printf("| IPv%d, trie | %.2f | %s |\n", c[0].family, trie, trie <= 0.6 ? "yes" : "**no**");
		printf("| IPv%d, reference: minimal limiter | %.2f | |\n", c[0].family, rel_filter(c, C_MIN_LIMITER));
		if (!c[C_BASE_DROP_FAST].omitted)
			printf("| IPv%d, baseline perim build (-B), fast path | %.2f | |\n", c[0].family,
			       rel_filter(c, C_BASE_DROP_FAST));
		if (!c[C_XDPFW_LAST].skipped)
			printf("| IPv%d, reference: XDP-Firewall, matching filter last / first | %.2f / %.2f | |\n",
			       c[0].family, rel_filter(c, C_XDPFW_LAST), rel_filter(c, C_XDPFW_FIRST));
	}
	printf("\n| goal: 1,000,000 distinct sources above trivial <= 3 x one source above trivial | ratio | met |\n");
	printf("|---|---:|---|\n");
	for (int fam = 0; fam < 2; fam++) {
		static const char *const orders[] = { "in the order their entries were made", "shuffled" };
		struct bench_case *c = &cases[fam * C_PER_FAMILY];

		for (int ord = MANY_SHUFFLED; ord >= MANY_IN_ORDER; ord--) {
			const struct many_sources *m = &many[MANY(fam, ord)];
			double one = above(c, C_DROP_FAST), r = (one + m->delta) / (one > 0 ? one : 1);

			if (ord == MANY_SHUFFLED)
				printf("| IPv%d, sources shuffled (a source among many costs perim %+.1f ns) | %.2f | %s |\n",
				       c[0].family, m->delta, r, r <= 3 ? "yes" : "**no**");
			else
				printf("| IPv%d, sources %s (a source among many costs perim %+.1f ns) | %.2f | |\n",
				       c[0].family, orders[ord], m->delta, r);
			one = above(c, C_MIN_LIMITER);
			printf("| IPv%d, %s, reference: minimal limiter (a source among many costs it %+.1f ns) | %.2f | |\n",
			       c[0].family, orders[ord], m->ml_delta, (one + m->ml_delta) / (one > 0 ? one : 1));
			printf("| IPv%d, %s, perim's cost of a source among many / the minimal limiter's, same-round "
			       "median of %d (range) | %.2f (%.2f-%.2f) | |\n", c[0].family, orders[ord],
			       o->source_rounds, m->ratio[0], m->ratio[1], m->ratio[2]);
		}
	}
	print_same_round(cases, o);
	printf("\n| reference: the lower bound of a per-source limiter / xdp-filter pass path | IPv4 | IPv6 |\n");
	printf("|---|---:|---:|\n");
	printf("| parse + one prefix probe + LRU bucket + clock + counter (a limiter with rules per prefix) | %.2f | %.2f |\n",
	       (double)cases[C_LB_PREFIX_BUCKET].best_ns / cases[C_XDPFILT].best_ns,
	       (double)cases[C_PER_FAMILY + C_LB_PREFIX_BUCKET].best_ns / cases[C_PER_FAMILY + C_XDPFILT].best_ns);
	printf("| parse + LRU bucket + clock + counter (one rule for every source) | %.2f | %.2f |\n",
	       (double)cases[C_LB_BUCKET].best_ns / cases[C_XDPFILT].best_ns,
	       (double)cases[C_PER_FAMILY + C_LB_BUCKET].best_ns / cases[C_PER_FAMILY + C_XDPFILT].best_ns);
	for (int fam = 0; fam < 2; fam++) {
		struct bench_case *c = &cases[fam * C_PER_FAMILY];

		printf("%sIPv%d: the drop path costs %u ns where the source's route decides (one lookup "
		       "for rule and bucket; the trie, one-length and 10,000-rule rows take the same path: "
		       "%u, %u and %u ns) and %u ns with routes off (%+d ns: the two prefix probes, then "
		       "the bucket; what a source's first packet costs, and a source whose rule is not "
		       "the first candidate of its entry). An allow-list hit costs %u ns (parse, a route "
		       "miss, one probe, counters); drop sampling (for `perimctl top`) %d ns of the drop "
		       "path; aggregate rules have no per-source entry, so no route: %u ns (a route miss, "
		       "then the prefix lookup).%s",
		       fam ? " " : "\n", c[0].family, c[C_DROP_FAST].best_ns, c[C_DROP].best_ns,
		       c[C_DROP_FAST_ONE_LEN].best_ns, c[C_10K_DROP_FAST].best_ns, c[C_DROP_FAST_NO_ROUTE].best_ns,
		       (int)c[C_DROP_FAST_NO_ROUTE].best_ns - (int)c[C_DROP_FAST].best_ns, c[C_ALLOW_FAST].best_ns,
		       (int)c[C_DROP_FAST].best_ns - (int)c[C_DROP_FAST_NO_SAMPLE].best_ns,
		       c[C_DROP_FAST_ONE_LEN_AGG].best_ns, fam ? "\n" : "");
	}
}

/* -A: the floor, xdp-filter, the lower bound and both builds' drop and pass paths. */
static bool ab_row(int i)
{
	return i == C_TRIVIAL || i == C_XDPFILT || i == C_LB_BUCKET || i == C_DROP_FAST || i == C_PASS_FAST ||
	       i == C_BASE_DROP_FAST || i == C_BASE_PASS_FAST;
}

static void print_ab(const struct bench_case *cases, const struct bench_opts *o)
{
	printf("## XDP datapath A/B: this build against `%s` (-B), best of %d interleaved rounds\n\n",
	       o->baseline_obj, o->rounds);
	printf("| case | family | ns/pkt | above floor | verdict |\n");
	printf("|---|---|---:|---:|---|\n");
	for (int i = 0; i < 2 * C_PER_FAMILY; i++) {
		if (!cases[i].omitted)
			print_row(cases[i].name, cases[i].family, cases[i].best_ns,
				  cases[i - i % C_PER_FAMILY].best_ns, cases[i].want == XDP_DROP ? "DROP" : "PASS");
	}
	print_same_round(cases, o);
}

static void print_report(struct bench_case *cases, const struct many_sources *many, uint64_t buckets,
			 const struct bench_opts *o)
{
	printf("## XDP datapath (BPF_PROG_TEST_RUN)\n\n");
	printf("64-byte UDP frames (IPv6: 64 bytes incl. padding), repeat %d per call, "
	       "best of %d interleaved rounds; kernel-reported ns per packet.\n\n",
	       o->repeat, o->rounds);
	printf("| case | family | ns/pkt | above floor | verdict |\n");
	printf("|---|---|---:|---:|---|\n");
	for (int fam = 0; fam < 2; fam++) {
		struct bench_case *c = &cases[fam * C_PER_FAMILY];
		double floor = c[C_TRIVIAL].best_ns;

		for (int i = 0; i < C_PER_FAMILY; i++) {
			if (c[i].omitted)
				continue;
			if (c[i].skipped)
				printf("| %s | IPv%d | skipped: %s | | |\n", c[i].name, c[i].family, c[i].skipped);
			else
				print_row(c[i].name, c[i].family, c[i].best_ns, floor,
					  c[i].want == XDP_DROP ? "DROP" : "PASS");
		}
		printf("| perim, 101 rules per-source, %d distinct sources, fast path: drop path (est.) | IPv%d | %.1f | %+.1f | DROP |\n",
		       o->sources, c[0].family, c[C_DROP_FAST].best_ns + many[MANY(fam, MANY_SHUFFLED)].delta,
		       c[C_DROP_FAST].best_ns + many[MANY(fam, MANY_SHUFFLED)].delta - floor);
		printf("| minimal limiter, %d distinct sources (est.) | IPv%d | %.1f | %+.1f | DROP |\n",
		       o->sources, c[0].family, c[C_MIN_LIMITER].best_ns + many[MANY(fam, MANY_SHUFFLED)].ml_delta,
		       c[C_MIN_LIMITER].best_ns + many[MANY(fam, MANY_SHUFFLED)].ml_delta - floor);
	}
	print_goal(cases, many, o);
	printf("\nMethod notes:\n\n");
	printf("- xdp-filter: `%s` (deny by default; listed addresses and ports pass), "
	       "100 listed IPv4 and 100 IPv6 sources (not the frame's), UDP port %d listed: "
	       "the frame misses both MAC and both address lookups and passes on its "
	       "destination port, so all of its lookups run.\n", XDP_FILTER_OBJ, XDPFILT_PORT);
	printf("- perim drop path: the source's bucket is empty (burst 1, 1 pps), so every "
	       "packet parses, looks up its source's route (include/perim.h: the per-source bucket "
	       "table's entry {interface, address}, IPv4 key 8 bytes, IPv6 24, holding the rule the "
	       "source's prefix lookup chose and that rule's bucket), which decides while its epoch "
	       "is perimd's, then the rule, fails GCRA and counts a drop. The route was made by the "
	       "source's first packet (warm-up), so the trie and fast-path rows differ only with "
	       "routes off. "
	       "Pass path: a rule of 1e9 pps, each packet charged with a compare-and-swap. The "
	       "101 rules are p.0.0.0/8 and 2001:db8:p::/48 for p = 10..110 plus one allow-list "
	       "prefix per family at another length (111.0.0.0/%d, 2001:db8:6f::/%d): 102 entries "
	       "per family in 2 lengths.\n", ALLOW_LEN4, ALLOW_LEN6);
	printf("- trie vs fast path: every perim instance holds its entries in both the family's "
	       "LPM trie (one per interface: IPv4 keys 4 bytes, IPv6 16) and its fast table (a "
	       "HASH with the trie's key, {prefixlen, masked address}); the instance's descriptor "
	       "(an ARRAY word, perim.h) decides which is used. Fast path: the lengths in use are "
	       "probed longest first, the first hit is the trie's longest match, so the 101-rule "
	       "drop path makes two probes (/%d misses, /8 hits; IPv6 /%d, /48) and the allow-list "
	       "hit one. \"0 rules, fast path\" is what perimd publishes for an interface without "
	       "entries: no probe at all. Over the cap (more than %d lengths) perimd publishes "
	       "\"trie\": that row pays the descriptor check and the trie walk (9 lengths, 109 "
	       "entries).\n", ALLOW_LEN4, ALLOW_LEN6, PERIM_FAST_MAX_LENGTHS);
	printf("- drop sampling: every row samples drops for `perimctl top` at perimd's default "
	       "rate (drop_sample.h: a per-CPU budget and a countdown per drop, a random number "
	       "only per selected drop); the \"drop sampling off\" row loads the same instance with "
	       "perim_drop_sample_rate = 0, which the verifier prunes.\n");
	printf("- lower bound (tests/bench/progs/lower_bound.bpf.c): what any per-source limiter "
	       "must do on its drop path, with every shortcut in its favour (no VLAN, IP options, "
	       "extension headers or fragments; 16-byte key; an unmasked probe key): parse to the "
	       "ports, look the source's bucket up in an LRU hash, read the coarse clock, test "
	       "GCRA, count per CPU, drop; the second row first probes a prefix table once, as a "
	       "limiter with rules per prefix must to learn which rule holds the source. perim's "
	       "drop path for a known source makes one lookup (its route); with routes off it makes "
	       "two probes (see the fast path note) and then the bucket lookup.\n");
	printf("- minimal limiter (tests/bench/progs/min_limiter.bpf.c): the least a limiter with "
	       "rules per prefix does: parse Ethernet/IP/UDP, one LPM trie lookup keyed by the bare "
	       "address (4 or 16 bytes) over the same 101 prefixes, whose value carries the rule's "
	       "rate, a per-CPU rule counter, the source's bucket in an LRU keyed by rule + address "
	       "(8 or 20 bytes), GCRA on the coarse clock, drop. No per-interface or per-reason "
	       "counters, dry run, block time, new-source admission, allow/deny lists, ports or "
	       "drop sampling.\n");
	if (o->baseline_obj)
		printf("- baseline perim build: `%s` (-B), loaded and filled like this build's fast-path "
		       "instance, measured in the same interleaved rounds.\n", o->baseline_obj);
	if (o->xdpfw_obj)
		printf("- XDP-Firewall (gamemann/XDP-Firewall, tests/bench/xdp_firewall.h): built by "
		       "tests/bench/sec_xdp.sh from the tree in PERIM_BENCH_XDPFW_SRC (`%s`) against the system's "
		       "libxdp and libbpf headers, its config.h as shipped plus its per-IP rate limit "
		       "(ENABLE_RL_IP; per-flow limiting stays on as shipped). 101 drop filters for UDP, each "
		       "with a per-IP limit of 1 pps and a source: IPv4 p.0.0.0/8, IPv6 one address (it "
		       "matches IPv6 sources exactly); 100 name other sources, the frame's matches first or "
		       "last. No block time, so every packet walks the filters (a block time would drop later "
		       "packets at its block map). A frame from a source no filter names passes "
		       "(checked before the rounds).\n",
		       getenv("PERIM_BENCH_XDPFW_SRC") ? getenv("PERIM_BENCH_XDPFW_SRC") : o->xdpfw_obj);
	printf("- %d distinct sources (the fast-path instance): BPF_PROG_TEST_RUN repeats one frame, so each source is "
	       "its own call at repeat=1 (source rewritten between calls). A first pass creates "
	       "the buckets in source order (%llu IPv4 + IPv6 buckets in the LRU afterwards); then the best of "
	       "%d rounds of the mean per-call time with distinct sources minus that with one "
	       "source, both at repeat=1 (this cancels the per-call timer cost), is added to "
	       "the one-source row: IPv4 %+.1f ns, IPv6 %+.1f ns with the sources shuffled (a fixed "
	       "pseudo-random order, as a flood's sources arrive: the goal's figure). In the order the "
	       "entries were made, consecutive sources' entries lie next to each other in the table's "
	       "memory, so the next one is often already in the cache, the more so the smaller the "
	       "entry; those rows are beside the shuffled ones. The minimal limiter's row is "
	       "measured the same way on its own LRU, its rounds alternating with perim's (which "
	       "goes first alternates), so each round also gives a same-round ratio of the two "
	       "costs of a source among many. Both programs' tables per family hold %d "
	       "entries (every source, plus room), so each pays the same page walks: what a "
	       "source among a million costs here is its entry's cache misses (the bucket array, "
	       "then the entry: a route, 32 bytes behind an 8- or 24-byte key, against the "
	       "limiter's 8-byte bucket behind 8 or 20), the rest of the path being the "
	       "one-source row's.\n",
	       o->sources, (unsigned long long)buckets, o->source_rounds,
	       many[MANY(0, MANY_SHUFFLED)].delta, many[MANY(1, MANY_SHUFFLED)].delta, o->sources + 65536);
}

/* A source no filter names walks all 101 and passes: the "last" row's filters do not match early. */
static int xdpfw_passes_unlisted(struct bpf_object *obj, int family)
{
	uint32_t ns, ret;
	struct frame f;

	udp_frame(&f, family, family == 4 ? "9.0.0.1" : "2001:db8:9::1");
	if (test_run(bpf_program__fd(bpf_object__next_program(obj, NULL)), &f, 1, &ns, &ret))
		return -1;
	if (ret != XDP_PASS) {
		fprintf(stderr, "xdp_bench: XDP-Firewall (IPv%d): verdict %u for an unlisted source, expected pass\n",
			family, ret);
		return -1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	int c;

	while ((c = getopt(argc, argv, "Ar:n:s:f:F:B:")) != -1) {
		char *end;
		long v;

		if (c == 'A') {
			o->ab_only = true;
			continue;
		}
		if (c == 'f' || c == 'F' || c == 'B') {
			*(c == 'f' ? &o->xdpfw_obj : c == 'F' ? &o->xdpfw_skipped : &o->baseline_obj) = optarg;
			continue;
		}
		v = strtol(optarg, &end, 10);

		if (*end || v <= 0 || v > 100000000 || (c == 'r' && v > MAX_ROUNDS)) {
			fprintf(stderr, "xdp_bench: argument \"%s\" is wrong: a positive count\n", optarg);
			return -1;
		}
		if (c == 'r')
			o->rounds = (int)v;
		else if (c == 'n')
			o->repeat = (int)v;
		else if (c == 's')
			o->sources = (int)v;
		else
			return -1;
	}
	if (!o->xdpfw_obj && !o->xdpfw_skipped)
		o->xdpfw_skipped = "no object given (-f)";
	if (o->ab_only && !o->baseline_obj) {
		fprintf(stderr, "xdp_bench: -A needs -B: the build to compare this one against\n");
		return -1;
	}
	return optind == argc ? 0 : -1;
}

static void pin_to_one_cpu(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpus > 1 ? cpus - 1 : 0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "xdp_bench: sched_setaffinity: %s (running unpinned)\n", strerror(errno));
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .rounds = 7, .repeat = 2000000, .sources = 1000000, .source_rounds = 5 };
	struct perim_xdp *p0 = NULL, *p0f = NULL, *p101 = NULL, *p101f = NULL, *pcap = NULL;
	struct perim_xdp *p10k = NULL, *p10kf = NULL, *pquiet = NULL, *pone = NULL, *pagg = NULL, *pnoroute = NULL;
	struct bench_case cases[2 * C_PER_FAMILY];
	struct bpf_object *xf = NULL, *fw[2][2] = { { NULL } };   /* [family][match first] */
	struct bpf_object *base = NULL;
	struct lower_bound *lb = NULL;
	struct min_limiter *ml = NULL;
	uint64_t buckets;
	struct many_sources many[4] = { 0 };
	uint32_t *shuffled = NULL;
	int trivial_fd, err = 1;

	if (parse_opts(argc, argv, &o)) {
		fprintf(stderr, "usage: xdp_bench [-r ROUNDS] [-n REPEAT] [-s SOURCES] [-f XDP_FIREWALL_OBJ | -F WHY_NOT] [-B PERIM_XDP_OBJ [-A]]\n");
		return 2;
	}
	libbpf_set_print(libbpf_print);
	pin_to_one_cpu();

	trivial_fd = load_trivial();
	xf = load_xdp_filter();
	lb = load_lower_bound();
	ml = load_min_limiter("10.0.0.1", "2001:db8:a::1", (uint32_t)o.sources + 65536);
	p0 = load_perim(1024, true);
	p0f = load_perim(1024, true);
	p101 = load_perim(65536, true);
	/*
	 * Room for every distinct source: each family has its own table, sized
	 * like the minimal limiter's (a table twice as big costs a cold lookup
	 * more page walks, which is the table's size, not perim's work).
	 */
	p101f = load_perim((uint32_t)o.sources + 65536, true);
	pquiet = load_perim(65536, false);
	pone = load_perim(65536, true);
	pagg = load_perim(65536, true);
	pnoroute = load_perim(65536, true);
	pcap = load_perim(65536, true);
	p10k = load_perim(PERIM_SRC_BUCKETS_DEFAULT, true);
	p10kf = load_perim(PERIM_SRC_BUCKETS_DEFAULT, true);
	if (trivial_fd < 0 || !xf || !lb || !ml || !p0 || !p0f || !p101 || !p101f || !pquiet || !pcap || !p10k || !p10kf ||
	    !pone || !pagg || !pnoroute)
		goto out;
	for (int fam = 0; o.xdpfw_obj && fam < 2; fam++) {
		for (int first = 0; first < 2; first++) {
			fw[fam][first] = xdpfw_load(o.xdpfw_obj, fam ? 6 : 4, fam ? "2001:db8:a::1" : "10.0.0.1", first);
			if (!fw[fam][first] || xdpfw_passes_unlisted(fw[fam][first], fam ? 6 : 4))
				goto out;
		}
	}
	if (perim_use_fast(p0f->obj, 0, NULL, 0, NULL) || perim_fill_101(p101->obj, false) ||
	    perim_fill_101(p101f->obj, true) || perim_fill_101(pquiet->obj, true) ||
	    perim_fill_rules(pone->obj, true, false, true) || perim_fill_rules(pagg->obj, true, false, false) ||
	    perim_fill_101_no_route(pnoroute->obj) || perim_fill_over_cap(pcap->obj) || perim_fill_10k(p10k->obj, false) || perim_fill_10k(p10kf->obj, true))
		goto out;
	if (o.baseline_obj) {
		base = load_baseline(o.baseline_obj);
		if (!base || perim_fill_101(base, true))
			goto out;
	}

	for (int fam = 0; fam < 2; fam++) {
		int family = fam ? 6 : 4;
		struct bench_case *c = &cases[fam * C_PER_FAMILY];
		const char *drop_src = family == 4 ? "10.0.0.1" : "2001:db8:a::1";
		const char *pass_src = family == 4 ? "11.0.0.1" : "2001:db8:b::1";
		const char *allow_src = family == 4 ? "111.0.0.1" : "2001:db8:6f::1";
		struct perim_xdp *inst[C_PER_FAMILY] = {
			[C_P0] = p0, [C_P0_FAST] = p0f, [C_ALLOW] = p101, [C_ALLOW_FAST] = p101f,
			[C_DROP] = p101, [C_DROP_FAST] = p101f, [C_PASS] = p101, [C_PASS_FAST] = p101f,
			[C_10K_DROP] = p10k, [C_10K_DROP_FAST] = p10kf, [C_OVER_CAP_DROP] = pcap,
			[C_DROP_FAST_NO_SAMPLE] = pquiet, [C_DROP_FAST_ONE_LEN] = pone, [C_DROP_FAST_ONE_LEN_AGG] = pagg,
			[C_DROP_FAST_NO_ROUTE] = pnoroute,
		};

		for (int i = 0; i < C_PER_FAMILY; i++) {
			const char *src = drop_src;

			c[i] = (struct bench_case){ .name = case_names[i], .family = family, .want = XDP_DROP };
			if (i == C_TRIVIAL)
				c[i].prog_fd = trivial_fd;
			else if (i == C_XDPFILT)
				c[i].prog_fd = bpf_program__fd(bpf_object__next_program(xf, NULL));
			else if (i == C_LB_BUCKET)
				c[i].prog_fd = bpf_program__fd(lb->progs.lb_bucket);
			else if (i == C_LB_PREFIX_BUCKET)
				c[i].prog_fd = bpf_program__fd(lb->progs.lb_prefix_bucket);
			else if (i == C_MIN_LIMITER)
				c[i].prog_fd = bpf_program__fd(ml->progs.min_limiter);
			else if (i == C_XDPFW_LAST || i == C_XDPFW_FIRST) {
				struct bpf_object *obj = fw[fam][i == C_XDPFW_FIRST];

				c[i].skipped = o.xdpfw_skipped;
				c[i].prog_fd = obj ? bpf_program__fd(bpf_object__next_program(obj, NULL)) : -1;
			} else if (i == C_BASE_DROP_FAST || i == C_BASE_PASS_FAST) {
				c[i].omitted = !base;
				c[i].prog_fd = base ? bpf_program__fd(bpf_object__find_program_by_name(base, "perim_xdp")) : -1;
			}
			else
				c[i].prog_fd = bpf_program__fd(inst[i]->progs.perim_xdp);
			if (i == C_PASS || i == C_PASS_FAST || i == C_BASE_PASS_FAST)
				src = pass_src;
			if (i == C_ALLOW || i == C_ALLOW_FAST)
				src = allow_src;
			if (i == C_XDPFILT || i == C_P0 || i == C_P0_FAST || src != drop_src)
				c[i].want = XDP_PASS;
			udp_frame(&c[i].frame, family, src);
			if (o.ab_only && !ab_row(i))
				c[i].omitted = true;
		}
		if (lower_bound_add(lb, family, drop_src))
			goto out;
	}
	if (run_rounds(cases, 2 * C_PER_FAMILY, &o))
		goto out;
	if (o.ab_only) {
		print_ab(cases, &o);
		err = 0;
		goto out;
	}
	shuffled = shuffled_sources((uint32_t)o.sources);
	if (!shuffled) {
		fprintf(stderr, "xdp_bench: %s\n", strerror(errno));
		goto out;
	}
	for (int fam = 0; fam < 2; fam++)
		for (int ord = MANY_IN_ORDER; ord <= MANY_SHUFFLED; ord++)
			if (many_sources(bpf_program__fd(p101f->progs.perim_xdp),
					 bpf_program__fd(ml->progs.min_limiter), fam ? 6 : 4, &o,
					 ord == MANY_SHUFFLED ? shuffled : NULL, &many[MANY(fam, ord)]))
				goto out;
	buckets = src_buckets_in_use(p101f);
	print_report(cases, many, buckets, &o);
	err = 0;
out:
	free(shuffled);
	perim_xdp__destroy(p10kf);
	perim_xdp__destroy(p10k);
	perim_xdp__destroy(pcap);
	perim_xdp__destroy(pquiet);
	perim_xdp__destroy(pone);
	perim_xdp__destroy(pagg);
	perim_xdp__destroy(pnoroute);
	perim_xdp__destroy(p101f);
	perim_xdp__destroy(p101);
	perim_xdp__destroy(p0f);
	perim_xdp__destroy(p0);
	bpf_object__close(xf);
	bpf_object__close(base);
	for (int fam = 0; fam < 2; fam++)
		for (int first = 0; first < 2; first++)
			bpf_object__close(fw[fam][first]);
	lower_bound__destroy(lb);
	min_limiter__destroy(ml);
	if (trivial_fd >= 0)
		close(trivial_fd);
	return err;
}
