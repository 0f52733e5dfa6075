// SPDX-License-Identifier: GPL-2.0
/*
 * The egress program's cost in ns/packet through BPF_PROG_TEST_RUN, beside
 * its floor (a trivial sched_cls `return TC_ACT_SHOT`) and beside the XDP
 * path on the very same frame: the trivial XDP_DROP and perim_xdp. One run,
 * cases interleaved round by round, best round kept. Prints a markdown
 * section on stdout.
 *
 * The frame is 64 bytes of UDP from 10.0.0.1 to 192.0.2.1. perim_tc matches
 * destinations (a rule on 192.0.2.0/24), perim_xdp sources (a rule on
 * 10.0.0.0/8); both rules are per-address at 1 pps with a burst of 1, so
 * after the warm-up every packet takes the drop path: parse, trie, rule,
 * the address's LRU bucket, GCRA, counters.
 *
 * The two hooks' test runs differ in what the kernel does around the
 * program (an skb for sched_cls, an xdp_buff for XDP), which each trivial
 * row measures: compare each program with its own floor first.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "perim.h"
#include "xdp/perim_tc.skel.h"
#include "xdp/perim_xdp.skel.h"
#include "../unit/xdp_frames.h"

#define BENCH_SLOT 0
#define BENCH_RULE 7
#define SEC_NS 1000000000ULL
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

enum { C_TC_FLOOR, C_TC_MISS, C_TC_DROP, C_XDP_FLOOR, C_XDP_MISS, C_XDP_DROP, C_COUNT };

struct bench_case {
	const char *name;
	const char *hook;
	int prog_fd;
	int want;
	uint32_t best_ns;
};

struct bench_opts {
	int rounds;
	int repeat;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* r0 = verdict; exit. */
static int load_trivial(enum bpf_prog_type type, int verdict, const char *name)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = verdict },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(type, name, "GPL", insns, 2, NULL);

	if (fd < 0)
		fprintf(stderr, "tc_bench: loading %s: %s\n", name, strerror(errno));
	return fd;
}

/* Per-address, 1 pps, burst 1: every packet after the first is dropped. */
static struct perim_rule drop_rule(void)
{
	return (struct perim_rule){
		.gen = 1, .flags = PERIM_RULE_ACTIVE | PERIM_RULE_PER_SOURCE,
		.pkt_interval_ns = SEC_NS, .pkt_tolerance_ns = 0,
		.newsrc_interval_ns = 1, .newsrc_tolerance_ns = SEC_NS,
	};
}

static int add_rule(struct bpf_map *rules, struct bpf_map *lpm4, const uint8_t addr[4], uint32_t len)
{
	struct perim_lpm4_key k = { .prefixlen = len };
	struct perim_lpm_value v = { .n_cand = 1, .cand = { { .rule = BENCH_RULE, .proto = IPPROTO_UDP } } };
	struct perim_rule r = drop_rule();
	uint32_t id = BENCH_RULE;
	int err;

	memcpy(k.addr, addr, 4);
	err = bpf_map__update_elem(rules, &id, sizeof(id), &r, sizeof(r), BPF_ANY);
	if (!err)
		err = bpf_map__update_elem(lpm4, &k, sizeof(k), &v, sizeof(v), BPF_ANY);
	if (err)
		fprintf(stderr, "tc_bench: adding the rule to %s: %s\n", bpf_map__name(lpm4), strerror(-err));
	return err;
}

/* Unpinned, so a running perimd's maps are never touched. */
static void unpin_all(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
		bpf_map__set_pin_path(map, NULL);
}

static struct perim_tc *load_tc(bool with_rule)
{
	static const uint8_t dst_net[4] = { 192, 0, 2, 0 };
	struct perim_tc *skel = perim_tc__open();
	int err;

	if (!skel) {
		fprintf(stderr, "tc_bench: perim_tc__open: %s\n", strerror(errno));
		return NULL;
	}
	unpin_all(skel->obj);
	bpf_program__set_autoload(skel->progs.perim_tc_compat, false);
	skel->rodata->perim_slot = BENCH_SLOT;
	err = bpf_map__set_max_entries(skel->maps.perim_src, 4096);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.perim_src4, 4096);
	if (!err)
		err = perim_tc__load(skel);
	if (err) {
		fprintf(stderr, "tc_bench: loading perim_tc: %s\n", strerror(-err));
		goto fail;
	}
	if (with_rule && add_rule(skel->maps.perim_rules, skel->maps.perim_lpm4, dst_net, 24))
		goto fail;
	return skel;
fail:
	perim_tc__destroy(skel);
	return NULL;
}

static struct perim_xdp *load_xdp(bool with_rule)
{
	static const uint8_t src_net[4] = { 10, 0, 0, 0 };
	struct perim_xdp *skel = perim_xdp__open();
	int err;

	if (!skel) {
		fprintf(stderr, "tc_bench: perim_xdp__open: %s\n", strerror(errno));
		return NULL;
	}
	unpin_all(skel->obj);
	bpf_program__set_autoload(skel->progs.perim_xdp_compat, false);
	skel->rodata->perim_slot = BENCH_SLOT;
	err = bpf_map__set_max_entries(skel->maps.perim_src, 4096);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.perim_src4, 4096);
	if (!err)
		err = perim_xdp__load(skel);
	if (err) {
		fprintf(stderr, "tc_bench: loading perim_xdp: %s\n", strerror(-err));
		goto fail;
	}
	if (with_rule && add_rule(skel->maps.perim_rules, skel->maps.perim_lpm4, src_net, 8))
		goto fail;
	return skel;
fail:
	perim_xdp__destroy(skel);
	return NULL;
}

static int test_run(const struct bench_case *c, struct frame *f, int repeat, uint32_t *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->buf, .data_size_in = (uint32_t)f->len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(c->prog_fd, &opts)) {
		fprintf(stderr, "tc_bench: %s: BPF_PROG_TEST_RUN: %s\n", c->name, strerror(errno));
		return -1;
	}
	if ((int)opts.retval != c->want) {
		fprintf(stderr, "tc_bench: %s: verdict %u, expected %d\n", c->name, opts.retval, c->want);
		return -1;
	}
	*ns = opts.duration;
	return 0;
}

static int run_rounds(struct bench_case *cases, struct frame *f, const struct bench_opts *o)
{
	uint32_t ns;

	/* Warm-up: the first packet of a drop case fills its bucket's one token. */
	for (int i = 0; i < C_COUNT; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, warm, .data_in = f->buf, .data_size_in = (uint32_t)f->len,
			    .repeat = 2);

		if (bpf_prog_test_run_opts(cases[i].prog_fd, &warm)) {
			fprintf(stderr, "tc_bench: %s: warm-up: %s\n", cases[i].name, strerror(errno));
			return -1;
		}
		cases[i].best_ns = UINT32_MAX;
	}
	for (int r = 0; r < o->rounds; r++) {
		for (int i = 0; i < C_COUNT; i++) {
			if (test_run(&cases[i], f, o->repeat, &ns))
				return -1;
			if (ns < cases[i].best_ns)
				cases[i].best_ns = ns;
		}
	}
	return 0;
}

static void print_report(const struct bench_case *c, const struct bench_opts *o)
{
	double tc_floor = c[C_TC_FLOOR].best_ns, xdp_floor = c[C_XDP_FLOOR].best_ns;

	printf("## Egress datapath: perim_tc beside XDP (BPF_PROG_TEST_RUN)\n\n");
	printf("One 64-byte IPv4 UDP frame (10.0.0.1 -> 192.0.2.1) through every program, repeat %d "
	       "per call, best of %d interleaved rounds; kernel-reported ns per packet.\n\n",
	       o->repeat, o->rounds);
	printf("| case | hook | ns/pkt | above its hook's floor | verdict |\n");
	printf("|---|---|---:|---:|---|\n");
	for (int i = 0; i < C_COUNT; i++) {
		bool is_tc = i < C_XDP_FLOOR;
		double floor = is_tc ? tc_floor : xdp_floor;
		bool passes = c[i].want == (is_tc ? TC_ACT_OK : XDP_PASS);

		printf("| %s | %s | %u | %+.0f | %s |\n", c[i].name, c[i].hook, c[i].best_ns,
		       c[i].best_ns - floor, passes ? "pass" : "drop");
	}
	printf("\n| ratio | value |\n|---|---:|\n");
	printf("| perim_tc drop path / trivial TC_ACT_SHOT | %.2f |\n", c[C_TC_DROP].best_ns / tc_floor);
	printf("| perim_xdp drop path / trivial XDP_DROP | %.2f |\n", c[C_XDP_DROP].best_ns / xdp_floor);
	printf("| perim_tc drop path / perim_xdp drop path | %.2f |\n",
	       (double)c[C_TC_DROP].best_ns / c[C_XDP_DROP].best_ns);
	printf("| (perim_tc - tc floor) / (perim_xdp - XDP floor): the shared code in each context | %.2f |\n",
	       (c[C_TC_DROP].best_ns - tc_floor) / (c[C_XDP_DROP].best_ns - xdp_floor));
	printf("\nBoth perim programs are one code base (xdp/lib) in two contexts; each drop case has "
	       "one per-address rule (1 pps, burst 1) whose bucket is empty after the warm-up, matched "
	       "on the destination by perim_tc and on the source by perim_xdp. The floors differ "
	       "because the kernel runs a sched_cls program on an skb and an XDP program on an "
	       "xdp_buff; the last ratio compares what perim adds above each.\n");
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	int c;

	while ((c = getopt(argc, argv, "r:n:")) != -1) {
		char *end;
		long v = strtol(optarg, &end, 10);

		if (*end || v <= 0 || v > 100000000) {
			fprintf(stderr, "tc_bench: argument \"%s\" is wrong: a positive count\n", optarg);
			return -1;
		}
		if (c == 'r')
			o->rounds = (int)v;
		else
			o->repeat = (int)v;
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
		fprintf(stderr, "tc_bench: sched_setaffinity: %s (running unpinned)\n", strerror(errno));
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .rounds = 5, .repeat = 2000000 };
	struct frame_spec spec = { .family = 4, .src = "10.0.0.1", .proto = IPPROTO_UDP, .dport = 53,
				   .payload = 64 - (14 + 20 + 8) };
	struct perim_tc *tc_miss = NULL, *tc_drop = NULL;
	struct perim_xdp *xdp_miss = NULL, *xdp_drop = NULL;
	int tc_floor, xdp_floor, err = 1;
	struct bench_case cases[C_COUNT];
	struct frame f;

	if (parse_opts(argc, argv, &o)) {
		fprintf(stderr, "usage: tc_bench [-r ROUNDS] [-n REPEAT]\n");
		return 2;
	}
	libbpf_set_print(libbpf_print);
	pin_to_one_cpu();
	frame_build(&f, &spec);

	tc_floor = load_trivial(BPF_PROG_TYPE_SCHED_CLS, TC_ACT_SHOT, "bench_tc_shot");
	xdp_floor = load_trivial(BPF_PROG_TYPE_XDP, XDP_DROP, "bench_xdp_drop");
	tc_miss = load_tc(false);
	tc_drop = load_tc(true);
	xdp_miss = load_xdp(false);
	xdp_drop = load_xdp(true);
	if (tc_floor < 0 || xdp_floor < 0 || !tc_miss || !tc_drop || !xdp_miss || !xdp_drop)
		goto out;

	cases[C_TC_FLOOR] = (struct bench_case){ "trivial `return TC_ACT_SHOT` (tc floor)", "tc", tc_floor,
						 TC_ACT_SHOT };
	cases[C_TC_MISS] = (struct bench_case){ "perim_tc, no egress rule (trie miss)", "tc",
						bpf_program__fd(tc_miss->progs.perim_tc), TC_ACT_OK };
	cases[C_TC_DROP] = (struct bench_case){ "perim_tc, per-destination rule: **drop path**", "tc",
						bpf_program__fd(tc_drop->progs.perim_tc), TC_ACT_SHOT };
	cases[C_XDP_FLOOR] = (struct bench_case){ "trivial `return XDP_DROP` (XDP floor)", "xdp", xdp_floor,
						  XDP_DROP };
	cases[C_XDP_MISS] = (struct bench_case){ "perim_xdp, no rule (trie miss)", "xdp",
						 bpf_program__fd(xdp_miss->progs.perim_xdp), XDP_PASS };
	cases[C_XDP_DROP] = (struct bench_case){ "perim_xdp, per-source rule: **drop path**", "xdp",
						 bpf_program__fd(xdp_drop->progs.perim_xdp), XDP_DROP };
	if (run_rounds(cases, &f, &o))
		goto out;
	print_report(cases, &o);
	err = 0;
out:
	perim_xdp__destroy(xdp_drop);
	perim_xdp__destroy(xdp_miss);
	perim_tc__destroy(tc_drop);
	perim_tc__destroy(tc_miss);
	if (xdp_floor >= 0)
		close(xdp_floor);
	if (tc_floor >= 0)
		close(tc_floor);
	return err;
}
