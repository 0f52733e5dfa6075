/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SYN-cookie stage (contract: include/perim_syn.h), compiled into
 * perim_xdp_syn only. For TCP to a protected destination of this interface:
 *  - a SYN is answered here with a SYN-ACK carrying a cookie (XDP_TX); the
 *    stack never sees it;
 *  - an ACK of a flow conntrack does not know is checked here: a valid
 *    cookie goes on (rules, then the stack, where netfilter's SYNPROXY opens
 *    the connection to the server), a bad one is dropped as bad-cookie;
 *  - everything else (established flows, SYN-ACKs, RSTs, other ports) goes on
 *    untouched.
 * Headers are copied into the stage's per-CPU work area, which is what the
 * cookie helpers take.
 *
 * The SYN-ACK is written over the SYN inside the frame as it came, never
 * grown or shrunk: a program that calls bpf_xdp_adjust_tail "changes packet
 * data", and kernels with the changes_pkt_data check (6.13, backported to
 * Debian's 6.12) refuse it as an extension of a dispatcher function that
 * does not, as libxdp's dispatcher without its 2025 fix (xdp-tools PR #509;
 * Debian 12 ships 1.3.1) is ("Extension program changes packet data, while
 * original does not", EINVAL when libxdp loads the extension at attach). The bytes past
 * the answer are zeroed and left as Ethernet padding (the IP length says
 * where the segment ends); a SYN too short for the answer or far longer
 * (data on the SYN) is left to the stack's SYNPROXY. Real clients' SYNs
 * carry at least the options the answer echoes, so it fits them.
 * Checksums of the SYN are not verified: a SYN-ACK to a corrupt SYN costs one
 * TX and opens nothing.
 */
#ifndef PERIM_XDP_SYNCOOKIE_H
#define PERIM_XDP_SYNCOOKIE_H

#include "perim_syn.h"
#include "parse.h"
#include "match.h"
#include "counters.h"
#include "drop_sample.h"
#include "tcp_opts.h"

#define PERIM_SYN_TTL 64
#define PERIM_ETH_ALEN 6
#define PERIM_IP_DF 0x4000
#define PERIM_IP_MF 0x2000
#define PERIM_IPS_CONFIRMED (1UL << 3)   /* enum ip_conntrack_status: absent from a vmlinux.h without conntrack */
#define PERIM_CT_CURRENT_NETNS (-1)
#define PERIM_ENOENT 2

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PERIM_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct perim_syn_table);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} perim_syn_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PERIM_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct perim_syn_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} perim_syn_stats SEC(".maps");

/*
 * The conntrack kfuncs, weak: on a kernel without them (5.10) libbpf leaves
 * them unresolved and the object still loads, since only perim_xdp_syn calls
 * them and perimd loads it only where a probe found them. The options struct
 * is the kfunc's 12-byte layout, declared here because vmlinux.h lacks it
 * when conntrack is a module.
 */
struct perim_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u8 reserved[2];
};

extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *xdp_ctx, struct bpf_sock_tuple *bpf_tuple,
					 __u32 len_tuple, struct perim_ct_opts *opts, __u32 len_opts) __ksym __weak;
extern void bpf_ct_release(struct nf_conn *ct) __ksym __weak;

/* The TCP segment's place in the frame and copies of its headers. */
struct perim_syn_frame {
	__u32 l3off;
	__u32 l4off;
	__u32 tcp_len;                 /* doff * 4 */
	bool v6;
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} ip;
	__u8 tcp[PERIM_TCP_BUF_LEN];
};

/* The SYN-ACK's TCP header as it is built. */
struct perim_synack {
	struct tcphdr th;
	__be32 opt[5];
};

static __always_inline __u16 perim_csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Offset of the IP header behind Ethernet and up to two VLAN tags; 0 when truncated. */
static __always_inline __u32 perim_syn_l3off(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return 0;
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < PERIM_MAX_VLANS; i++) {
		struct perim_vlan_hdr *vlan = data + off;

		if (proto != bpf_htons(PERIM_ETH_P_8021Q) && proto != bpf_htons(PERIM_ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > data_end)
			return 0;
		proto = vlan->encap_proto;
		off += sizeof(*vlan);
	}
	return off;
}

/*
 * Fills f from the frame; false when the stage cannot handle it (left to the
 * stack). Plain reads through packet pointers: bpf_xdp_load_bytes cost more
 * than the cookie helper here (a helper call and a memcpy per header).
 * Offsets stay in registers, where the verifier knows their bounds.
 */
static __always_inline bool perim_syn_locate(struct xdp_md *ctx, bool v6, struct perim_syn_frame *f)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l3off = perim_syn_l3off(data, data_end), l4off;
	struct tcphdr *th;

	if (!l3off)
		return false;
	f->v6 = v6;
	if (v6) {
		struct ipv6hdr *ip6 = data + l3off;

		if ((void *)(ip6 + 1) > data_end)
			return false;
		/* Extension headers: the stack's SYNPROXY answers those. */
		if (ip6->nexthdr != IPPROTO_TCP)
			return false;
		__builtin_memcpy(&f->ip.v6, ip6, sizeof(f->ip.v6));
		l4off = l3off + sizeof(*ip6);
	} else {
		struct iphdr *ip = data + l3off;

		if ((void *)(ip + 1) > data_end)
			return false;
		if (ip->frag_off & bpf_htons(PERIM_IP_MF | PERIM_IP_OFFSET_MASK) || ip->ihl < 5)
			return false;
		__builtin_memcpy(&f->ip.v4, ip, sizeof(f->ip.v4));
		l4off = l3off + ip->ihl * 4;
	}
	th = data + l4off;
	if ((void *)(th + 1) > data_end)
		return false;
	__builtin_memcpy(f->tcp, th, PERIM_TCP_HDR_LEN);
	f->l3off = l3off;
	f->l4off = l4off;
	f->tcp_len = th->doff * 4;
	return f->tcp_len >= PERIM_TCP_HDR_LEN;
}

/* The destination as a protection matches it: IPv4-mapped for IPv4, network order. */
static __always_inline void perim_syn_dst(const struct perim_syn_frame *f, __u32 dst[4])
{
	if (f->v6) {
		dst[0] = f->ip.v6.daddr.in6_u.u6_addr32[0];
		dst[1] = f->ip.v6.daddr.in6_u.u6_addr32[1];
		dst[2] = f->ip.v6.daddr.in6_u.u6_addr32[2];
		dst[3] = f->ip.v6.daddr.in6_u.u6_addr32[3];
	} else {
		dst[0] = 0;
		dst[1] = 0;
		dst[2] = bpf_htonl(0x0000ffff);
		dst[3] = f->ip.v4.daddr;
	}
}

/* What the stage uses of the protection that matched. */
struct perim_syn_use {
	__u16 mss;
	__u8 wscale;
	__u8 flags;
};

_Static_assert(__builtin_offsetof(struct perim_syn_prot, flags) ==
	       __builtin_offsetof(struct perim_syn_prot, mss) + 3, "perim_syn_use is the tail of perim_syn_prot");

/*
 * The first protection of t for dst and dport, its perim_syn_use copied to
 * *use; false when none. The copy is made in the loop: a pointer into
 * t->prot leaving it is one value per protection it can stop at, and the
 * verifier followed the answer once per such value.
 */
static __always_inline bool perim_syn_match(const struct perim_syn_table *t, const __u32 dst[4], __u16 dport,
					    struct perim_syn_use *use)
{
	for (__u32 i = 0; i < PERIM_SYN_MAX_PROT; i++) {
		const struct perim_syn_prot *p;
		__u64 miss, ports_ok;

		if (i >= t->n)
			break;
		p = &t->prot[i];
		/* Computed, not branched on, as candidates are (match.h). */
		miss = ((dst[0] & p->mask[0]) ^ p->addr[0]) | ((dst[1] & p->mask[1]) ^ p->addr[1]) |
		       ((dst[2] & p->mask[2]) ^ p->addr[2]) | ((dst[3] & p->mask[3]) ^ p->addr[3]);
		ports_ok = perim_eq(p->dport_hi, 0) | (perim_le(p->dport_lo, dport) & perim_le(dport, p->dport_hi));
		if (miss | (ports_ok ^ 1))
			continue;
		__builtin_memcpy(use, &p->mss, sizeof(*use));
		return true;
	}
	return false;
}

/* The pseudo-header sum of the SYN-ACK: its addresses are the SYN's, swapped (the sum does not care). */
static __always_inline __u64 perim_syn_pseudo_sum(const struct perim_syn_frame *f, __u32 tcp_len)
{
	__u64 sum = bpf_htonl(tcp_len) + bpf_htonl(IPPROTO_TCP);

	if (!f->v6)
		return sum + f->ip.v4.saddr + f->ip.v4.daddr;
#pragma unroll
	for (int i = 0; i < 4; i++)
		sum += (__u64)f->ip.v6.saddr.in6_u.u6_addr32[i] + f->ip.v6.daddr.in6_u.u6_addr32[i];
	return sum;
}

static __always_inline void perim_synack_tcp(struct perim_synack *sa, const struct perim_syn_frame *f,
					     __u32 cookie, __u32 words, bool ecn)
{
	const struct tcphdr *syn = (const struct tcphdr *)f->tcp;

	sa->th.source = syn->dest;
	sa->th.dest = syn->source;
	sa->th.seq = bpf_htonl(cookie);
	sa->th.ack_seq = bpf_htonl(bpf_ntohl(syn->seq) + 1);
	sa->th.doff = 5 + words;
	sa->th.syn = 1;
	sa->th.ack = 1;
	sa->th.ece = ecn;
	/* A zero window, as SYNPROXY sends: the server's real window comes with its own SYN-ACK. */
	sa->th.window = 0;
}

/* Most bytes past the answer that are zeroed as padding; a longer SYN goes to the stack. */
#define PERIM_SYN_MAX_SLACK 64

/* The answer the stage hands back, written to the frame by perim_syn_emit. */
struct perim_synack_out {
	__u32 l3off;
	__u32 ip_len;
	__u32 tcp_len;
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} ip;
	struct perim_synack sa;
};

/*
 * Lengths handed to helpers are bounded on the register passed, in fixed
 * steps: verifiers before 6.8 do not carry a check made on one fill of a
 * stack slot over to another fill of it (Debian's 6.1 refused the variable
 * lengths these replaced with "invalid zero-sized read").
 */
static __always_inline __u32 perim_tcp_len_bounded(__u32 len)
{
	barrier_var(len);
	if (len < PERIM_TCP_HDR_LEN)
		len = PERIM_TCP_HDR_LEN;
	if (len > PERIM_TCP_MAX_HDR_LEN)
		len = PERIM_TCP_MAX_HDR_LEN;
	return len;
}

/* The SYN's options into f->tcp behind its header, a 4-byte word at a time (doff counts words). */
static __always_inline bool perim_syn_load_opts(struct xdp_md *ctx, struct perim_syn_frame *f, __u32 tcp_len)
{
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l4off = f->l4off;
	void *th;

	/* The stage's own bound, so the verifier knows the offset's range after the fill. */
	if (l4off > PERIM_TCP_OPT_MAX_OFF)
		return false;
	th = (void *)(long)ctx->data + l4off;
#pragma unroll
	for (int i = 0; i < (PERIM_TCP_MAX_HDR_LEN - PERIM_TCP_HDR_LEN) / 4; i++) {
		__u32 off = PERIM_TCP_HDR_LEN + i * 4;

		if (off >= tcp_len)
			break;
		if (th + off + 4 > data_end)
			return false;
		__builtin_memcpy(f->tcp + off, th + off, 4);
	}
	return true;
}

/* Does the frame hold an answer of len bytes, with at most PERIM_SYN_MAX_SLACK left over? */
static __always_inline bool perim_syn_fits(struct xdp_md *ctx, __u32 len)
{
	/* volatile: computed in 64 bits, else clang subtracts the pointers in 32 (the verifier refuses). */
	volatile __s64 frame_len = (void *)(long)ctx->data_end - (void *)(long)ctx->data;

	return frame_len >= len && frame_len - len <= PERIM_SYN_MAX_SLACK;
}

/* Builds the SYN-ACK for the SYN in f into out; false when it cannot (the SYN then goes on). */
static __always_inline bool perim_syn_answer(struct xdp_md *ctx, struct perim_syn_frame *f,
					     const struct perim_syn_use *p, struct perim_synack_out *out)
{
	struct perim_synack *sa = &out->sa;
	__u32 tcp_len = f->tcp_len, words, cookie;
	__u8 flags = f->tcp[13];
	struct perim_syn_opts o;
	__s64 gen, csum;
	bool ecn;
	__u16 mss;

	if (tcp_len > PERIM_TCP_MAX_HDR_LEN)
		return false;
	__builtin_memset(out, 0, sizeof(*out));
	if (!perim_syn_load_opts(ctx, f, tcp_len))
		return false;
	/*
	 * Read again: each word the loop could stop at narrowed the register's
	 * range its own way, and the verifier followed the rest once per word.
	 */
	tcp_len = perim_tcp_len_bounded(PERIM_READ_ONCE(f->tcp_len));
	if (f->v6)
		gen = bpf_tcp_raw_gen_syncookie_ipv6(&f->ip.v6, (struct tcphdr *)f->tcp, tcp_len);
	else
		gen = bpf_tcp_raw_gen_syncookie_ipv4(&f->ip.v4, (struct tcphdr *)f->tcp, tcp_len);
	if (gen < 0)
		return false;
	cookie = (__u32)gen;

	perim_tcp_opts_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, f->l4off,
			     f->l4off + tcp_len, &o);
	ecn = o.has_ts && (flags & (PERIM_TCP_FLAG_ECE | PERIM_TCP_FLAG_CWR)) ==
				  (PERIM_TCP_FLAG_ECE | PERIM_TCP_FLAG_CWR);
	mss = p->mss ?: (f->v6 ? PERIM_SYN_MSS6_DEFAULT : PERIM_SYN_MSS4_DEFAULT);
	/* The clock only for a timestamp: a bare SYN's answer has none. */
	words = perim_synack_opts(sa->opt, &o, mss, p->wscale,
				  o.has_ts ? perim_ts_cookie(&o, ecn, bpf_ktime_get_ns()) : 0);
	out->ip_len = f->v6 ? sizeof(out->ip.v6) : sizeof(out->ip.v4);
	/*
	 * A SYN without options has no room in its frame for the MSS option
	 * (54 bytes on a veth; a NIC pads IPv4 to 60): answered without it, the
	 * client sends the default 536 (IPv6: 1220) byte segments.
	 */
	if (words == 1 && !perim_syn_fits(ctx, f->l3off + out->ip_len + PERIM_TCP_HDR_LEN + 4))
		words = 0;
	perim_synack_tcp(sa, f, cookie, words, ecn);

	out->tcp_len = PERIM_TCP_HDR_LEN + words * 4;
	if (out->tcp_len > sizeof(*sa))
		return false;
	if (!perim_syn_fits(ctx, f->l3off + out->ip_len + out->tcp_len))
		return false;
	csum = bpf_csum_diff(NULL, 0, (__be32 *)sa, out->tcp_len, 0);
	if (csum < 0)
		return false;
	sa->th.check = perim_csum_fold(perim_syn_pseudo_sum(f, out->tcp_len) + (__u32)csum);

	/* The SYN-ACK's IP header: addresses swapped, no IPv4 options. */
	out->l3off = f->l3off;
	if (f->v6) {
		*(__be32 *)&out->ip.v6 = bpf_htonl(0x60000000);
		out->ip.v6.payload_len = bpf_htons(out->tcp_len);
		out->ip.v6.nexthdr = IPPROTO_TCP;
		out->ip.v6.hop_limit = PERIM_SYN_TTL;
		out->ip.v6.saddr = f->ip.v6.daddr;
		out->ip.v6.daddr = f->ip.v6.saddr;
		return true;
	}
	out->ip.v4.version = 4;
	out->ip.v4.ihl = 5;
	out->ip.v4.tot_len = bpf_htons(out->ip_len + out->tcp_len);
	out->ip.v4.frag_off = bpf_htons(PERIM_IP_DF);
	out->ip.v4.ttl = PERIM_SYN_TTL;
	out->ip.v4.protocol = IPPROTO_TCP;
	out->ip.v4.saddr = f->ip.v4.daddr;
	out->ip.v4.daddr = f->ip.v4.saddr;
	csum = bpf_csum_diff(NULL, 0, (__be32 *)&out->ip.v4, sizeof(out->ip.v4), 0);
	if (csum < 0)
		return false;
	out->ip.v4.check = perim_csum_fold((__u32)csum);
	return true;
}

/*
 * The stage's working memory: the answer it leaves for perim_syn_emit (first,
 * so a lookup of the entry is a pointer to it) and its copy of the segment's
 * headers. A per-CPU map, not the stack, which the pipeline and the stage
 * share (512 bytes in all: 6.1 refused "combined stack size of 3 calls is
 * 544" with the headers on the stack). XDP runs to completion on its CPU, so
 * one entry per CPU is enough.
 */
struct perim_syn_work {
	struct perim_synack_out out;
	struct perim_syn_frame frame;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct perim_syn_work);
} perim_syn_scratch SEC(".maps");

/* Conntrack knows the flow (its entry is confirmed): an established flow. */
static __always_inline bool perim_syn_ct_known(struct xdp_md *ctx, const struct perim_syn_frame *f)
{
	const struct tcphdr *th = (const struct tcphdr *)f->tcp;
	struct perim_ct_opts opts = { .netns_id = PERIM_CT_CURRENT_NETNS, .l4proto = IPPROTO_TCP };
	struct bpf_sock_tuple tup = {};
	unsigned long status;
	struct nf_conn *ct;
	__u32 tup_len;

	if (f->v6) {
		__builtin_memcpy(tup.ipv6.saddr, &f->ip.v6.saddr, sizeof(tup.ipv6.saddr));
		__builtin_memcpy(tup.ipv6.daddr, &f->ip.v6.daddr, sizeof(tup.ipv6.daddr));
		tup.ipv6.sport = th->source;
		tup.ipv6.dport = th->dest;
		tup_len = sizeof(tup.ipv6);
	} else {
		tup.ipv4.saddr = f->ip.v4.saddr;
		tup.ipv4.daddr = f->ip.v4.daddr;
		tup.ipv4.sport = th->source;
		tup.ipv4.dport = th->dest;
		tup_len = sizeof(tup.ipv4);
	}
	ct = bpf_xdp_ct_lookup(ctx, &tup, tup_len, &opts, sizeof(opts));
	if (!ct)
		/* Any error but "no such flow": let the stack's conntrack decide. */
		return opts.error != -PERIM_ENOENT;
	status = ct->status;
	bpf_ct_release(ct);
	return status & PERIM_IPS_CONFIRMED;
}

static __always_inline bool perim_syn_cookie_ok(const struct perim_syn_frame *f)
{
	if (f->v6)
		return !bpf_tcp_raw_check_syncookie_ipv6((struct ipv6hdr *)&f->ip.v6, (struct tcphdr *)f->tcp);
	return !bpf_tcp_raw_check_syncookie_ipv4((struct iphdr *)&f->ip.v4, (struct tcphdr *)f->tcp);
}

/* The segment's fields the stage needs, in one argument (a BPF call has five). */
#define PERIM_SYN_SEG_V6  (1U << 16)
#define PERIM_SYN_SEG_ACK (1U << 17)
#define PERIM_SYN_SEG_DPORT(seg) ((__u16)((seg) & 0xffff))

static __always_inline __u32 perim_syn_seg(const struct perim_pkt *pkt)
{
	return pkt->dport | (pkt->is_v6 ? PERIM_SYN_SEG_V6 : 0) |
	       (pkt->tcp_flags & PERIM_TCP_FLAG_ACK ? PERIM_SYN_SEG_ACK : 0);
}

enum perim_syn_verdict {
	PERIM_SYN_CONTINUE = 0,        /* on through the pipeline */
	PERIM_SYN_ANSWER,              /* the SYN-ACK is in out: perim_syn_emit sends it */
	PERIM_SYN_BAD_COOKIE,          /* drop as bad-cookie */
	PERIM_SYN_WOULD_DROP,          /* a bad cookie under a dry-run protection: pass, counted */
};

static __always_inline int perim_syn_handle_syn(struct xdp_md *ctx, struct perim_syn_counters *sc,
						struct perim_syn_frame *f, const struct perim_syn_use *p,
						struct perim_synack_out *out)
{
	if (p->flags & PERIM_SYN_DRY_RUN) {
		sc->dry_run_syns++;
		return PERIM_SYN_CONTINUE;
	}
	if (!perim_syn_answer(ctx, f, p, out)) {
		sc->unhandled++;
		return PERIM_SYN_CONTINUE;
	}
	sc->synack_sent++;
	return PERIM_SYN_ANSWER;
}

static __always_inline int perim_syn_handle_ack(struct xdp_md *ctx, struct perim_syn_counters *sc,
						const struct perim_syn_frame *f, const struct perim_syn_use *p)
{
	if (perim_syn_ct_known(ctx, f))
		return PERIM_SYN_CONTINUE;
	if (perim_syn_cookie_ok(f)) {
		sc->cookie_valid++;
		return PERIM_SYN_CONTINUE;
	}
	if (p->flags & PERIM_SYN_DRY_RUN) {
		sc->dry_run_bad++;
		return PERIM_SYN_WOULD_DROP;
	}
	sc->cookie_bad++;
	return PERIM_SYN_BAD_COOKIE;
}

/*
 * The stage, for a bare SYN or a bare ACK (perim_syn_candidate). A global
 * function: the verifier checks it once, on its own, instead of once per
 * state of the pipeline around it (inlined, its option loop multiplies the
 * pipeline's states past the verifier's limit). It never touches the frame,
 * so the caller's packet pointers stay valid; it takes the packet's fields
 * by value, so the caller's state keeps what the verifier knows of them.
 */
__noinline int perim_syn_stage(struct xdp_md *ctx, __u32 slot, __u32 seg)
{
	__u32 zero = 0;
	struct perim_syn_work *w = bpf_map_lookup_elem(&perim_syn_scratch, &zero);
	__u16 dport = PERIM_SYN_SEG_DPORT(seg);
	bool v6 = seg & PERIM_SYN_SEG_V6;
	const struct perim_syn_table *t;
	struct perim_syn_counters *sc;
	struct perim_syn_use p;
	struct perim_syn_frame *f;
	__u32 dst[4];

	if (!w)
		return PERIM_SYN_CONTINUE;
	t = bpf_map_lookup_elem(&perim_syn_table, &slot);
	if (!t)
		return PERIM_SYN_CONTINUE;
	sc = bpf_map_lookup_elem(&perim_syn_stats, &slot);
	if (!sc)
		return PERIM_SYN_CONTINUE;

	f = &w->frame;
	if (!perim_syn_locate(ctx, v6, f))
		return PERIM_SYN_CONTINUE;
	perim_syn_dst(f, dst);
	if (!perim_syn_match(t, dst, dport, &p))
		return PERIM_SYN_CONTINUE;
	if (!(seg & PERIM_SYN_SEG_ACK))
		return perim_syn_handle_syn(ctx, sc, f, &p, &w->out);
	return perim_syn_handle_ack(ctx, sc, f, &p);
}

/* A bare SYN or a bare ACK (PSH/URG/ECE/CWR aside): everything else is the stack's. */
static __always_inline bool perim_syn_candidate(const struct perim_pkt *pkt)
{
	__u8 flags = pkt->tcp_flags & (PERIM_TCP_FLAG_SYN | PERIM_TCP_FLAG_ACK | PERIM_TCP_FLAG_RST |
				       PERIM_TCP_FLAG_FIN);

	return pkt->proto == IPPROTO_TCP && pkt->has_ports &&
	       (flags == PERIM_TCP_FLAG_SYN || flags == PERIM_TCP_FLAG_ACK);
}

/* The deepest IP header perim_syn_l3off finds: Ethernet and two VLAN tags. */
#define PERIM_SYN_MAX_L3OFF (sizeof(struct ethhdr) + PERIM_MAX_VLANS * sizeof(struct perim_vlan_hdr))

/* The SYN-ACK's TCP header and its option words at th; false when the frame ends first. */
static __always_inline bool perim_syn_put_tcp(void *th, void *data_end, const struct perim_synack *sa,
					      __u32 words)
{
	if (th + PERIM_TCP_HDR_LEN > data_end)
		return false;
	__builtin_memcpy(th, &sa->th, PERIM_TCP_HDR_LEN);
#pragma unroll
	for (int i = 0; i < (int)(sizeof(sa->opt) / sizeof(sa->opt[0])); i++) {
		__be32 *opt = th + PERIM_TCP_HDR_LEN + i * 4;

		if (i >= words)
			break;
		if ((void *)(opt + 1) > data_end)
			return false;
		__builtin_memcpy(opt, &sa->opt[i], sizeof(*opt));
	}
	return true;
}

/* Zeroes the frame from pad to its end (at most PERIM_SYN_MAX_SLACK bytes: perim_syn_fits). */
static __always_inline void perim_syn_zero_tail(__u8 *pad, void *data_end)
{
#pragma unroll
	for (int i = 0; i < PERIM_SYN_MAX_SLACK; i++) {
		if ((void *)(pad + i + 1) > data_end)
			break;
		pad[i] = 0;
	}
}

/*
 * Writes the SYN-ACK over the SYN through packet pointers (helper stores cost
 * a call and a memcpy each), zeroes what is left of the frame and swaps the
 * MACs; XDP_TX, or XDP_ABORTED when the frame does not hold what the stage
 * measured.
 */
static __always_inline int perim_syn_emit(struct xdp_md *ctx, const struct perim_synack_out *out)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l3off = out->l3off, words = (out->tcp_len - PERIM_TCP_HDR_LEN) / 4;
	__u8 mac[PERIM_ETH_ALEN];
	struct ethhdr *eth = data;
	void *ip = data, *th;

	/* Bounded here, on the register: the verifier knows nothing of a value read from a map. */
	if (l3off > PERIM_SYN_MAX_L3OFF)
		return XDP_ABORTED;
	ip += l3off;
	if (out->ip_len == sizeof(out->ip.v6)) {
		if (ip + sizeof(out->ip.v6) > data_end)
			return XDP_ABORTED;
		__builtin_memcpy(ip, &out->ip.v6, sizeof(out->ip.v6));
		th = ip + sizeof(out->ip.v6);
	} else {
		if (ip + sizeof(out->ip.v4) > data_end)
			return XDP_ABORTED;
		__builtin_memcpy(ip, &out->ip.v4, sizeof(out->ip.v4));
		th = ip + sizeof(out->ip.v4);
	}
	if (!perim_syn_put_tcp(th, data_end, &out->sa, words))
		return XDP_ABORTED;
	perim_syn_zero_tail(th + PERIM_TCP_HDR_LEN + (words & 7) * 4, data_end);
	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(mac, eth->h_source, PERIM_ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, PERIM_ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, PERIM_ETH_ALEN);
	return XDP_TX;
}

/*
 * The stage's verdict for a parsed packet: XDP_TX (answered), XDP_DROP
 * (bad cookie, counted and sampled) or -1: on through the pipeline.
 */
static __always_inline int perim_syn_guard(struct xdp_md *ctx, struct perim_if_counters *ifc,
					   const struct perim_pkt *pkt, __u32 slot, __u64 len)
{
	const struct perim_synack_out *out;
	__u32 zero = 0;

	if (!perim_syn_candidate(pkt))
		return -1;
	switch (perim_syn_stage(ctx, slot, perim_syn_seg(pkt))) {
	case PERIM_SYN_ANSWER:
		out = bpf_map_lookup_elem(&perim_syn_scratch, &zero);
		return out ? perim_syn_emit(ctx, out) : XDP_ABORTED;
	case PERIM_SYN_BAD_COOKIE:
		perim_sample_drop(slot, 0, PERIM_REASON_BAD_COOKIE, pkt, len);
		return perim_count_drop(ifc, PERIM_REASON_BAD_COOKIE, len);
	case PERIM_SYN_WOULD_DROP:
		ifc->would_drop_packets++;
		return -1;
	default:
		return -1;
	}
}

#endif /* PERIM_XDP_SYNCOOKIE_H */
