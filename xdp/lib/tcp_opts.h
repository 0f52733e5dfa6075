/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TCP options for the SYN-cookie stage (syncookie.h): what a client's SYN
 * asked for, read from the frame, and the options of the SYN-ACK answering it.
 *
 * A SYN cookie has room for the MSS only. The rest travels in the SYN-ACK's
 * timestamp value, whose low bits netfilter's SYNPROXY (and the kernel's own
 * cookie code) decode from the echo in the client's ACK: bits 0-3 the
 * client's window scale (0xf: none), bit 4 SACK permitted, bit 5 ECN, the
 * bits above them the time in ms. A client without timestamps gets the MSS
 * option only, as the kernel does.
 */
#ifndef PERIM_XDP_TCP_OPTS_H
#define PERIM_XDP_TCP_OPTS_H

#define PERIM_TCP_HDR_LEN      20
#define PERIM_TCP_MAX_HDR_LEN  60
#define PERIM_TCP_BUF_LEN      64      /* a power of two: option reads are masked into it */

#define PERIM_TCPOPT_EOL       0
#define PERIM_TCPOPT_NOP       1
#define PERIM_TCPOPT_MSS       2
#define PERIM_TCPOPT_WINDOW    3
#define PERIM_TCPOPT_SACK_PERM 4
#define PERIM_TCPOPT_TIMESTAMP 8
#define PERIM_TCPOLEN_MSS       4
#define PERIM_TCPOLEN_WINDOW    3
#define PERIM_TCPOLEN_SACK_PERM 2
#define PERIM_TCPOLEN_TIMESTAMP 10

#define PERIM_TS_WSCALE_NONE   0xf
#define PERIM_TS_SACK          (1 << 4)
#define PERIM_TS_ECN           (1 << 5)
#define PERIM_TS_LOW_BITS      6
#define PERIM_TCP_MAX_WSCALE   14

#define PERIM_TCP_FLAG_FIN 0x01
#define PERIM_TCP_FLAG_RST 0x04
#define PERIM_TCP_FLAG_ECE 0x40
#define PERIM_TCP_FLAG_CWR 0x80

/* What the client's SYN carried. */
struct perim_syn_opts {
	__u8 wscale;                   /* PERIM_TS_WSCALE_NONE when absent */
	bool sack;
	bool has_ts;
	__be32 tsval;                  /* the client's, echoed as our tsecr */
};

/* The walk over a SYN's options in the frame, one bpf_loop step per option. */
struct perim_tcp_opt_walk {
	void *data;
	void *data_end;
	__u32 off;                     /* the next option, from data */
	__u32 end;                     /* the end of the TCP header, from data */
	struct perim_syn_opts *o;
};

/* A bound the verifier needs on a packet offset (it gives up past 0xffff with the bytes read). */
#define PERIM_TCP_OPT_MAX_OFF 0x3fff

/*
 * One option; 1 stops the walk. A callback, reading the frame: the
 * verifier checks it without tracking each offset as a constant, so it
 * does not walk every possible layout of options.
 */
static int perim_tcp_opt_step(__u32 index, void *ctx)
{
	struct perim_tcp_opt_walk *w = ctx;
	struct perim_syn_opts *o = w->o;
	__u32 off = w->off;
	__u8 *opt, kind, size;

	if (off >= w->end || off > PERIM_TCP_OPT_MAX_OFF)
		return 1;
	opt = w->data + off;
	/* Else clang checks a copy of the pointer and reads through the other. */
	barrier_var(opt);
	if ((void *)(opt + 1) > w->data_end)
		return 1;
	kind = opt[0];
	if (kind == PERIM_TCPOPT_EOL)
		return 1;
	if (kind == PERIM_TCPOPT_NOP) {
		w->off = off + 1;
		return 0;
	}
	if ((void *)(opt + 2) > w->data_end)
		return 1;
	size = opt[1];
	if (size < 2 || off + size > w->end)
		return 1;
	if (kind == PERIM_TCPOPT_WINDOW && size == PERIM_TCPOLEN_WINDOW) {
		if ((void *)(opt + PERIM_TCPOLEN_WINDOW) > w->data_end)
			return 1;
		o->wscale = opt[2] < PERIM_TCP_MAX_WSCALE ? opt[2] : PERIM_TCP_MAX_WSCALE;
	} else if (kind == PERIM_TCPOPT_SACK_PERM && size == PERIM_TCPOLEN_SACK_PERM) {
		o->sack = true;
	} else if (kind == PERIM_TCPOPT_TIMESTAMP && size == PERIM_TCPOLEN_TIMESTAMP) {
		if ((void *)(opt + PERIM_TCPOLEN_TIMESTAMP) > w->data_end)
			return 1;
		o->has_ts = true;
		o->tsval = (__be32)opt[2] | (__be32)opt[3] << 8 | (__be32)opt[4] << 16 | (__be32)opt[5] << 24;
	}
	w->off = off + size;
	return 0;
}

/* The options of the TCP header at [start, end) of the frame. */
static __always_inline void perim_tcp_opts_parse(void *data, void *data_end, __u32 start, __u32 end,
						 struct perim_syn_opts *o)
{
	struct perim_tcp_opt_walk w = {
		.data = data, .data_end = data_end, .off = start + PERIM_TCP_HDR_LEN, .end = end, .o = o,
	};

	o->wscale = PERIM_TS_WSCALE_NONE;
	o->sack = false;
	o->has_ts = false;
	o->tsval = 0;
	/* At most 40 option bytes, each option at least one. */
	bpf_loop(PERIM_TCP_MAX_HDR_LEN - PERIM_TCP_HDR_LEN, perim_tcp_opt_step, &w, 0);
}

/* The SYN-ACK's timestamp value: the time in ms with the client's options in its low bits. */
static __always_inline __u32 perim_ts_cookie(const struct perim_syn_opts *o, bool ecn, __u64 now_ns)
{
	__u32 ts = (__u32)(now_ns / 1000000) & ~((1U << PERIM_TS_LOW_BITS) - 1);

	ts |= o->wscale & PERIM_TS_WSCALE_NONE;
	if (o->sack)
		ts |= PERIM_TS_SACK;
	if (ecn)
		ts |= PERIM_TS_ECN;
	return ts;
}

/*
 * The SYN-ACK's options into opt[] (room for 5 words); returns the number of
 * 4-byte words written: 1 (MSS), 4 (+ SACK-permitted/timestamps) or 5
 * (+ window scale, only when the client sent one).
 */
static __always_inline __u32 perim_synack_opts(__be32 *opt, const struct perim_syn_opts *o, __u16 mss,
					       __u8 wscale, __u32 ts_cookie)
{
	opt[0] = bpf_htonl(PERIM_TCPOPT_MSS << 24 | PERIM_TCPOLEN_MSS << 16 | mss);
	if (!o->has_ts)
		return 1;
	opt[1] = bpf_htonl((o->sack ? (PERIM_TCPOPT_SACK_PERM << 24 | PERIM_TCPOLEN_SACK_PERM << 16)
				    : (PERIM_TCPOPT_NOP << 24 | PERIM_TCPOPT_NOP << 16)) |
			   PERIM_TCPOPT_TIMESTAMP << 8 | PERIM_TCPOLEN_TIMESTAMP);
	opt[2] = bpf_htonl(ts_cookie);
	opt[3] = o->tsval;
	if (o->wscale == PERIM_TS_WSCALE_NONE)
		return 4;
	opt[4] = bpf_htonl(PERIM_TCPOPT_NOP << 24 | PERIM_TCPOPT_WINDOW << 16 | PERIM_TCPOLEN_WINDOW << 8 | wscale);
	return 5;
}

#endif /* PERIM_XDP_TCP_OPTS_H */
