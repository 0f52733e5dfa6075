// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test of the XDP parser: frames from gen.c run through the
 * real perim_xdp program (BPF_PROG_TEST_RUN), each verdict and drop reason
 * compared with what decoder.c's independent decoding and the rules below
 * say it must be.
 *
 *   xdp_diff [FRAMES [SEED]]    default 1,000,000 frames; exit 1 on any mismatch
 *
 * Each generated frame runs whole, cut at every byte of its headers, and
 * mutated. The maps make every parse outcome visible in the counters:
 *   10.66.0.0/16, 2001:db8:66::/48   deny                    -> drop "deny"
 *   10.77.0.0/16, 2001:db8:77::/48   allow                   -> pass, allowed
 *   0.0.0.0/0, ::/0, candidates in order:
 *     udp dport 53                 rule 1, bucket empty      -> drop "rate-pps"
 *     tcp syn (SYN without ACK)    rule 2, source blocked    -> drop "blocked"
 *     icmp (and icmpv6)            rule 3, byte bucket empty -> drop "rate-bytes"
 *     tcp dport 1000-2000          rule 4, per source, no
 *                                  new source admitted       -> drop "new-source"
 *                                  but 10.88.0.1 and 2001:db8:88::1 have
 *                                  a blocked bucket already  -> drop "blocked"
 *                                  (::ffff:10.88.0.1 in an IPv6 header is
 *                                  an IPv6 source: no bucket -> drop "new-source")
 *     any                          rule 5, dry run, empty    -> pass, would-drop
 * so a frame that is not IP is the only plain pass. Kernel cost is read
 * from the program's bpf_stats (BPF_ENABLE_STATS) over the whole run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "decoder.h"
#include "gen.h"
#include "perim.h"
#include "xdp/perim_xdp.skel.h"

#define SLOT 0
#define ETH_HLEN 14
#define FAR_FUTURE (UINT64_MAX / 4)
#define MUTATIONS_PER_FRAME 64
#define MISMATCHES_SHOWN 10

enum outcome {
	OUT_PASS_PLAIN,
	OUT_PASS_ALLOWED,
	OUT_PASS_WOULD_DROP,
	OUT_DROP,                  /* + reason */
};

struct verdict {
	enum outcome out;
	unsigned reason;
};

struct run {
	struct perim_xdp *skel;
	int prog_fd, ncpu;
	struct perim_if_counters last;
	struct perim_if_counters *percpu;
	unsigned long frames, mismatches, cut, mutated;
	unsigned long by_kind[3], by_reason[PERIM_REASON_MAX], passes[3];
	unsigned long known_bucket[2];     /* rule 4 frames from a source with a bucket: v4, v6 */
};

static const uint8_t known4[4] = { 10, 88, 0, 1 };
static const uint8_t known6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x88, [15] = 1 };

static int fail(const char *what, int err)
{
	fprintf(stderr, "xdp_diff: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

/* ---- the maps ---- */

static int lpm(struct run *r, bool v6, const uint8_t *addr, unsigned len, uint8_t acl,
	       const struct perim_candidate *cand, unsigned n)
{
	struct perim_lpm_value v = { .acl = acl, .n_cand = (uint8_t)n };
	struct perim_lpm4_key k4 = { .prefixlen = len };
	struct perim_lpm6_key k6 = { .prefixlen = len };

	if (n)
		memcpy(v.cand, cand, n * sizeof(*cand));
	if (v6) {
		memcpy(k6.addr, addr, 16);
		return bpf_map__update_elem(r->skel->maps.perim_lpm6, &k6, sizeof(k6), &v, sizeof(v), BPF_ANY);
	}
	memcpy(k4.addr, addr, 4);
	return bpf_map__update_elem(r->skel->maps.perim_lpm4, &k4, sizeof(k4), &v, sizeof(v), BPF_ANY);
}

static int rule(struct run *r, uint32_t id, struct perim_rule ru, struct perim_rule_state st)
{
	ru.gen = 1;
	ru.flags |= PERIM_RULE_ACTIVE;
	st.agg.gen = st.newsrc.gen = 1;
	if (bpf_map__update_elem(r->skel->maps.perim_rules, &id, sizeof(id), &ru, sizeof(ru), BPF_ANY))
		return -errno;
	return bpf_map__update_elem(r->skel->maps.perim_rule_state, &id, sizeof(id), &st, sizeof(st), BPF_ANY);
}

/* A source already known to rule 4, blocked: the family's bucket table decides. */
static int known_buckets(struct run *r)
{
	struct perim_bucket b = { .gen = 1, .blocked_until = FAR_FUTURE };
	struct perim_src4_key k4 = { .rule = 4 };
	struct perim_src_key k6 = { .rule = 4 };

	memcpy(k4.addr, known4, sizeof(k4.addr));
	memcpy(k6.addr, known6, sizeof(k6.addr));
	if (bpf_map__update_elem(r->skel->maps.perim_src4, &k4, sizeof(k4), &b, sizeof(b), BPF_ANY) ||
	    bpf_map__update_elem(r->skel->maps.perim_src, &k6, sizeof(k6), &b, sizeof(b), BPF_ANY))
		return -errno;
	return 0;
}

static bool has_known_bucket(const struct decoded *d)
{
	return d->v6 ? !memcmp(d->src, known6, 16) : !memcmp(d->src + 12, known4, 4);
}

static int setup_maps(struct run *r)
{
	static const uint8_t deny4[4] = { 10, 66 }, allow4[4] = { 10, 77 }, any[16];
	static const uint8_t deny6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x66 };
	static const uint8_t allow6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x77 };
	const struct perim_candidate cand[] = {
		{ .rule = 1, .proto = 17, .dport_lo = 53, .dport_hi = 53 },
		{ .rule = 2, .proto = 6, .flags = PERIM_CAND_SYN_ONLY },
		{ .rule = 3, .proto = 1 },
		{ .rule = 4, .proto = 6, .dport_lo = 1000, .dport_hi = 2000 },
		{ .rule = 5, .proto = PERIM_PROTO_ANY },
	};
	const uint64_t sec = 1000000000ULL;
	int err = 0;

	err = err ?: lpm(r, false, deny4, 16, PERIM_ACL_DENY, NULL, 0);
	err = err ?: lpm(r, false, allow4, 16, PERIM_ACL_ALLOW, NULL, 0);
	err = err ?: lpm(r, false, any, 0, PERIM_ACL_NONE, cand, 5);
	err = err ?: lpm(r, true, deny6, 48, PERIM_ACL_DENY, NULL, 0);
	err = err ?: lpm(r, true, allow6, 48, PERIM_ACL_ALLOW, NULL, 0);
	err = err ?: lpm(r, true, any, 0, PERIM_ACL_NONE, cand, 5);
	err = err ?: rule(r, 1, (struct perim_rule){ .pkt_interval_ns = sec },
			  (struct perim_rule_state){ .agg.pkt_tat = FAR_FUTURE });
	err = err ?: rule(r, 2, (struct perim_rule){ .pkt_interval_ns = sec, .block_ns = sec },
			  (struct perim_rule_state){ .agg.blocked_until = FAR_FUTURE });
	err = err ?: rule(r, 3, (struct perim_rule){ .byte_cost_fp16 = 1 << 16 },
			  (struct perim_rule_state){ .agg.byte_tat = FAR_FUTURE });
	err = err ?: rule(r, 4, (struct perim_rule){ .flags = PERIM_RULE_PER_SOURCE, .pkt_interval_ns = sec,
						     .newsrc_interval_ns = sec },
			  (struct perim_rule_state){ .newsrc.pkt_tat = FAR_FUTURE });
	err = err ?: rule(r, 5, (struct perim_rule){ .flags = PERIM_RULE_DRY_RUN, .pkt_interval_ns = sec },
			  (struct perim_rule_state){ .agg.pkt_tat = FAR_FUTURE });
	if (err)
		return -errno;
	return known_buckets(r);
}

static bool is_syn(const struct decoded *d)
{
	return d->proto == 6 && d->has_ports && (d->tcp_flags & 0x12) == 0x02;
}

/* The verdict these maps give a decoded frame. */
static struct verdict expected(const struct decoded *d)
{
	static const uint8_t deny6[6] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x66 };
	static const uint8_t allow6[6] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x77 };

	if (d->kind == DECODED_NOT_IP)
		return (struct verdict){ OUT_PASS_PLAIN, 0 };
	if (d->kind == DECODED_MALFORMED)
		return (struct verdict){ OUT_DROP, PERIM_REASON_MALFORMED };
	if (d->v6 ? !memcmp(d->src, deny6, 6) : (d->src[12] == 10 && d->src[13] == 66))
		return (struct verdict){ OUT_DROP, PERIM_REASON_DENY };
	if (d->v6 ? !memcmp(d->src, allow6, 6) : (d->src[12] == 10 && d->src[13] == 77))
		return (struct verdict){ OUT_PASS_ALLOWED, 0 };
	if (d->proto == 17 && d->has_ports && d->dport == 53)
		return (struct verdict){ OUT_DROP, PERIM_REASON_RATE_PPS };
	if (is_syn(d))
		return (struct verdict){ OUT_DROP, PERIM_REASON_BLOCKED };
	if (d->proto == 1 || d->proto == 58)
		return (struct verdict){ OUT_DROP, PERIM_REASON_RATE_BYTES };
	if (d->proto == 6 && d->has_ports && d->dport >= 1000 && d->dport <= 2000)
		return (struct verdict){ OUT_DROP, has_known_bucket(d) ? PERIM_REASON_BLOCKED : PERIM_REASON_NEW_SOURCE };
	return (struct verdict){ OUT_PASS_WOULD_DROP, 0 };
}

/* ---- running a frame ---- */

static int read_counters(struct run *r, struct perim_if_counters *sum)
{
	uint32_t key = SLOT;

	if (bpf_map__lookup_elem(r->skel->maps.perim_if_stats, &key, sizeof(key), r->percpu,
				 sizeof(*r->percpu) * r->ncpu, 0))
		return -errno;
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < r->ncpu; c++) {
		uint64_t *d = (uint64_t *)sum, *s = (uint64_t *)&r->percpu[c];

		for (size_t i = 0; i < sizeof(*sum) / 8; i++)
			d[i] += s[i];
	}
	return 0;
}

/* What the program did, from its return value and which counter moved. */
static int observe(struct run *r, const uint8_t *buf, size_t len, struct verdict *v, unsigned *retval)
{
	static uint8_t out[GEN_FRAME_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	struct perim_if_counters now;
	int err;

	if (bpf_prog_test_run_opts(r->prog_fd, &opts))
		return -errno;
	*retval = opts.retval;
	err = read_counters(r, &now);
	if (err)
		return err;
	v->reason = 0;
	if (now.allowed_packets != r->last.allowed_packets)
		v->out = OUT_PASS_ALLOWED;
	else if (now.would_drop_packets != r->last.would_drop_packets)
		v->out = OUT_PASS_WOULD_DROP;
	else if (now.passed_packets != r->last.passed_packets)
		v->out = OUT_PASS_PLAIN;
	else
		v->out = OUT_DROP;
	for (unsigned i = 1; i < PERIM_REASON_MAX; i++)
		if (now.dropped_packets[i] != r->last.dropped_packets[i])
			v->reason = i;
	r->last = now;
	return 0;
}

static const char *outcome_name(const struct verdict *v, char buf[64])
{
	switch (v->out) {
	case OUT_PASS_PLAIN: return "pass";
	case OUT_PASS_ALLOWED: return "pass (allowed)";
	case OUT_PASS_WOULD_DROP: return "pass (would drop)";
	default:
		snprintf(buf, 64, "drop %s", v->reason < PERIM_REASON_MAX ? perim_reason_names[v->reason] : "?");
		return buf;
	}
}

static void report_mismatch(struct run *r, const uint8_t *buf, size_t len, const struct decoded *d,
			    const struct verdict *want, const struct verdict *got, unsigned retval)
{
	char got_name[64], want_name[64];

	if (++r->mismatches > MISMATCHES_SHOWN)
		return;
	printf("mismatch: frame %lu, %zu bytes: perim_xdp %s (retval %u), decoder %s", r->frames, len,
	       outcome_name(got, got_name), retval, outcome_name(want, want_name));
	printf(" (%s%s, proto %u, ports %d, dport %u, flags 0x%02x)\n  ", d->why ? d->why : "ip",
	       d->v6 ? " v6" : "", d->proto, d->has_ports, d->dport, d->tcp_flags);
	for (size_t i = 0; i < len && i < 160; i++)
		printf("%02x%s", buf[i], i % 32 == 31 ? "\n  " : "");
	printf("\n");
}

static int check(struct run *r, const uint8_t *buf, size_t len)
{
	struct decoded d;
	struct verdict want, got = { 0 };
	unsigned retval = 0;
	int err;

	decode_frame(buf, len, &d);
	want = expected(&d);
	err = observe(r, buf, len, &got, &retval);
	if (err)
		return err;
	r->frames++;
	r->by_kind[d.kind]++;
	if (want.out == OUT_DROP)
		r->by_reason[want.reason]++;
	else
		r->passes[want.out]++;
	if (want.out == OUT_DROP && want.reason == PERIM_REASON_BLOCKED && !is_syn(&d))
		r->known_bucket[d.v6]++;
	if (want.out != got.out || want.reason != got.reason ||
	    retval != (unsigned)(got.out == OUT_DROP ? XDP_DROP : XDP_PASS))
		report_mismatch(r, buf, len, &d, &want, &got, retval);
	return 0;
}

/* A frame whole, cut at every byte of its headers (and one into its payload), mutated. */
static int check_family(struct run *r, struct gen *g, const struct gen_frame *f)
{
	struct gen_frame m;
	int err = check(r, f->buf, f->len);

	/* BPF_PROG_TEST_RUN refuses an XDP frame below ETH_HLEN: no NIC hands one over either. */
	for (size_t cut = ETH_HLEN; !err && cut < f->len && cut <= f->headers; cut++, r->cut++)
		err = check(r, f->buf, cut);
	for (int i = 0; !err && i < MUTATIONS_PER_FRAME; i++) {
		m = *f;
		gen_mutate(g, &m);
		if (m.len < ETH_HLEN)
			continue;
		err = check(r, m.buf, m.len);
		r->mutated++;
	}
	return err;
}

/* ---- setup and the report ---- */

static struct perim_xdp *load(void)
{
	struct perim_xdp *skel = perim_xdp__open();
	struct bpf_map *map;
	int err;

	if (!skel) {
		fail("perim_xdp__open", errno);
		return NULL;
	}
	/* No pinning: never touch a running perimd's maps. */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	bpf_map__set_max_entries(skel->maps.perim_src, 4096);
	bpf_map__set_max_entries(skel->maps.perim_src4, 4096);
	skel->rodata->perim_slot = SLOT;
	err = perim_xdp__load(skel);
	if (err) {
		fail("perim_xdp__load", err);
		perim_xdp__destroy(skel);
		return NULL;
	}
	return skel;
}

static void report(const struct run *r, double secs, const struct bpf_prog_info *before,
		   const struct bpf_prog_info *after)
{
	unsigned long runs = after->run_cnt - before->run_cnt;

	printf("xdp_diff: %lu frames (%lu cut inside their headers, %lu mutated) in %.1f s\n",
	       r->frames, r->cut, r->mutated, secs);
	printf("  decoder: %lu ip, %lu not ip, %lu malformed\n", r->by_kind[DECODED_IP],
	       r->by_kind[DECODED_NOT_IP], r->by_kind[DECODED_MALFORMED]);
	printf("  expected: pass %lu, pass allowed %lu, pass would-drop %lu", r->passes[OUT_PASS_PLAIN],
	       r->passes[OUT_PASS_ALLOWED], r->passes[OUT_PASS_WOULD_DROP]);
	for (unsigned i = 1; i < PERIM_REASON_MAX; i++)
		printf(", drop %s %lu", perim_reason_names[i], r->by_reason[i]);
	printf("\n");
	printf("  rule 4 sources with a bucket: %lu IPv4, %lu IPv6\n", r->known_bucket[0], r->known_bucket[1]);
	if (runs)
		printf("  kernel cost (bpf_stats): %lu runs, %.1f ns per run\n", runs,
		       (double)(after->run_time_ns - before->run_time_ns) / runs);
	else
		printf("  kernel cost: bpf_stats recorded no runs (not enabled?)\n");
	printf("  mismatches: %lu\n", r->mismatches);
}

static int prog_info(int fd, struct bpf_prog_info *info)
{
	uint32_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

int main(int argc, char **argv)
{
	unsigned long want = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x5eed;
	struct bpf_prog_info before, after;
	struct run r = { 0 };
	struct timespec t0, t1;
	struct gen_frame f;
	struct gen g;
	int stats_fd, err;

	if (argc > 3 || !want) {
		fprintf(stderr, "usage: xdp_diff [FRAMES [SEED]]\n");
		return 2;
	}
	r.ncpu = libbpf_num_possible_cpus();
	r.percpu = calloc(r.ncpu, sizeof(*r.percpu));
	r.skel = load();
	if (!r.percpu || !r.skel)
		return 1;
	r.prog_fd = bpf_program__fd(r.skel->progs.perim_xdp);
	err = setup_maps(&r);
	if (err)
		return fail("filling the maps", err);
	/* bpf_stats on while this fd is open, as kernel.bpf_stats_enabled=1 would. */
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		fprintf(stderr, "xdp_diff: BPF_ENABLE_STATS: %s (no cost figure)\n", strerror(errno));
	if (prog_info(r.prog_fd, &before))
		return fail("bpf_obj_get_info_by_fd", errno);
	gen_seed(&g, seed);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!err && r.frames < want) {
		gen_frame(&g, &f);
		err = check_family(&r, &g, &f);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (err)
		return fail("BPF_PROG_TEST_RUN", err);
	if (prog_info(r.prog_fd, &after))
		return fail("bpf_obj_get_info_by_fd", errno);
	report(&r, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, &before, &after);
	if (stats_fd >= 0)
		close(stats_fd);
	perim_xdp__destroy(r.skel);
	free(r.percpu);
	return r.mismatches ? 1 : 0;
}
