/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perim's datapath ABI: the map layouts shared by the XDP program (xdp/) and
 * perimd (ctl/). Plain C, fixed-width fields, explicit padding, no pointers:
 * this header compiles for -target bpf and for the host alike.
 *
 * Source prefixes live in one LPM trie per interface and family (4-byte
 * IPv4 keys, 16-byte IPv6 keys: a short key is a cheap trie walk), and for
 * the XDP program also in an exact-match copy probed per prefix length
 * (the fast path, below), which it uses unless told to walk the trie.
 * Per-source buckets live in one table per family: IPv4 keys are 8 bytes
 * (rule + address), IPv6 keys 24, because the key is hashed on every packet.
 */
#ifndef PERIM_H
#define PERIM_H

#ifdef __bpf__
/* vmlinux.h (or linux/types.h) is included first by the BPF side. */
#else
#include <linux/types.h>
#endif

#define PERIM_PIN_ROOT_DEFAULT "/sys/fs/bpf/perim"

#define PERIM_MAX_IFACES 64           /* interface slots (counter rows, LPM map pins) */
#define PERIM_MAX_RULES 16384         /* rule slots; slot 0 is no rule (the route epoch) */
#define PERIM_MAX_CANDIDATES 16       /* rules one LPM entry can point at */
#define PERIM_MAX_PROTECT_CAND 4      /* protect candidates one entry can have (first of its candidates) */
#define PERIM_LPM_MAX_ENTRIES 65536   /* per LPM map, i.e. per interface and family */
#define PERIM_SRC_BUCKETS_DEFAULT 262144 /* per-source LRU size (set at load) */
#define PERIM_MAX_IPV6_EXT_HDRS 6     /* extension headers skipped, bounded loop */

/*
 * Pinned map names (LIBBPF_PIN_BY_NAME under the pin root): the datapath state
 * that outlives perimd, so a restarted daemon adopts it without a gap.
 * The LPM maps are the exception: every skeleton instance (one per
 * interface) has its own pair, which perimd pins per interface slot as
 * PERIM_MAP_LPM4 "_<slot>" and PERIM_MAP_LPM6 "_<slot>", e.g. perim_lpm4_0.
 */
#define PERIM_MAP_LPM4       "perim_lpm4"
#define PERIM_MAP_LPM6       "perim_lpm6"
#define PERIM_MAP_RULES      "perim_rules"
#define PERIM_MAP_RULE_STATE "perim_rule_state"
#define PERIM_MAP_SRC        "perim_src"    /* IPv6 buckets (and IPv4-mapped IPv6) */
#define PERIM_MAP_SRC4       "perim_src4"   /* IPv4 buckets */
#define PERIM_MAP_IF_STATS   "perim_if_stats"
#define PERIM_MAP_RULE_STATS "perim_rule_stats"
#define PERIM_XDP_PROG_NAME  "perim_xdp"

/*
 * Egress (xdp/perim_tc.bpf.c on the clsact egress hook): the same rule,
 * bucket and rule-counter maps as ingress (rule ids are shared), its own
 * per-interface counters and, per slot, a trie pair keyed by destination
 * and a cgroup table: "<pin root>/perim_elpm4_<slot>", "..._elpm6_...",
 * "..._ecgroup_<slot>" (HASH: __u64 cgroup v2 id -> struct perim_lpm_value,
 * whose acl is unused). perimd re-points the object's perim_lpm4/6 and
 * perim_if_stats at these pins before load.
 */
#define PERIM_MAP_EGRESS_LPM4     "perim_elpm4"
#define PERIM_MAP_EGRESS_LPM6     "perim_elpm6"
#define PERIM_MAP_EGRESS_CGROUP   "perim_ecgroup"
#define PERIM_MAP_EGRESS_IF_STATS "perim_eif_stats"
#define PERIM_EGRESS_CGROUP_MAX_ENTRIES 4096
#define PERIM_TC_PROG_NAME        "perim_tc"
/* The egress filter's tc handle and priority: how perimd finds its own filter. */
#define PERIM_TC_HANDLE   0x7e51
#define PERIM_TC_PRIORITY 0x7e51

/* XDP dispatcher slot: perim runs before most filters and chains on PASS. */
#define PERIM_XDP_PRIORITY 10

/*
 * Drop reasons: a stable enum. Retired numbers stay reserved, never reused.
 * Index 0 means "not dropped".
 */
enum perim_reason {
	PERIM_REASON_NONE = 0,
	PERIM_REASON_RATE_PPS = 1,     /* packet token bucket empty */
	PERIM_REASON_RATE_BYTES = 2,   /* byte token bucket empty */
	PERIM_REASON_NEW_SOURCE = 3,   /* per-source rule: new-source admission exhausted */
	PERIM_REASON_BLOCKED = 4,      /* source inside its block time */
	PERIM_REASON_DENY = 5,         /* deny list */
	PERIM_REASON_MALFORMED = 6,    /* truncated or malformed headers */
	PERIM_REASON_FLEET_DENY = 7,   /* a fleet block decision (PERIM_ACL_FLEET_DENY) */
	PERIM_REASON_BAD_COOKIE = 8,   /* ACK of an unknown flow to a SYN-protected destination, bad SYN cookie */
	PERIM_REASON_MAX
};

#ifndef __bpf__
/*
 * The names operators see (stats JSON keys, metrics labels, events, the
 * CLI): as stable as the numbers. A new reason gets its name here.
 */
static const char *const perim_reason_names[PERIM_REASON_MAX] = {
	[PERIM_REASON_NONE] = "none",
	[PERIM_REASON_RATE_PPS] = "rate-pps",
	[PERIM_REASON_RATE_BYTES] = "rate-bytes",
	[PERIM_REASON_NEW_SOURCE] = "new-source",
	[PERIM_REASON_BLOCKED] = "blocked",
	[PERIM_REASON_DENY] = "deny",
	[PERIM_REASON_MALFORMED] = "malformed",
	[PERIM_REASON_FLEET_DENY] = "fleet-deny",
	[PERIM_REASON_BAD_COOKIE] = "bad-cookie",
};
#endif

/* ---- LPM tries, one pair per interface: source prefix -> ACL verdict + rule candidates ---- */

/*
 * prefixlen counts address bits only: IPv4 0..32, IPv6 0..128. Both maps are
 * BPF_F_NO_PREALLOC with PERIM_LPM_MAX_ENTRIES entries; perimd creates a
 * slot's pair with exactly these attributes when no instance has yet, so
 * the loader can reuse the pins. IPv4-mapped IPv6 sources (::ffff:0:0/96 in
 * an IPv6 header) are looked up in the IPv6 trie like any IPv6 source.
 */
struct perim_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct perim_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

enum perim_acl {
	PERIM_ACL_NONE = 0,
	PERIM_ACL_ALLOW = 1,           /* bypasses every rule */
	PERIM_ACL_DENY = 2,            /* dropped, PERIM_REASON_DENY */
	/* A fleet decision, not a local deny entry: dropped, PERIM_REASON_FLEET_DENY. */
	PERIM_ACL_FLEET_DENY = 3,
};
/*
 * Set in perim_lpm_value.acl beside the verdict: the entry's candidates
 * start with protected-access ones (PERIM_CAND_PROTECT, rule 0): a packet
 * matching one passes before the deny list and every rule, counted as
 * protected_packets. Entries without it cost the datapath nothing more.
 */
#define PERIM_ACL_PROTECTED 0x80
#define PERIM_ACL_VERDICT(acl) ((acl) & 0x7f)

#define PERIM_CAND_SYN_ONLY (1 << 0) /* TCP with SYN set and ACK clear */
#define PERIM_CAND_PROTECT  (1 << 1) /* protected management access: pass (rule is 0) */

#define PERIM_PROTO_ANY 0
/* proto uses IPPROTO_ numbers; IPPROTO_ICMP (1) also matches ICMPv6 (58). */

struct perim_candidate {
	__u16 rule;                    /* slot in perim_rules */
	__u8 proto;                    /* PERIM_PROTO_ANY or IPPROTO_TCP/UDP/ICMP */
	__u8 flags;                    /* PERIM_CAND_* */
	__u16 dport_lo;                /* host order; 0/0 = any port */
	__u16 dport_hi;
};

/*
 * User space flattens overlapping prefixes: an entry lists the rules of its
 * own prefix and of every covering prefix, most specific first, and carries
 * the ACL verdict of the longest covering ACL prefix. The datapath applies
 * the first candidate that matches the packet: one trie lookup per packet.
 */
struct perim_lpm_value {
	__u8 acl;                      /* enum perim_acl */
	__u8 n_cand;                   /* <= PERIM_MAX_CANDIDATES */
	__u16 _pad0;
	__u32 _pad1;
	struct perim_candidate cand[PERIM_MAX_CANDIDATES];
};

/*
 * ---- the fast path beside each ingress trie ("tuple space") ----
 *
 * A trie walk costs one node visit per prefix bit that branches; an exact
 * match costs one hash. perimd keeps, per interface slot, a HASH per family
 * holding exactly the trie's entries under the trie's key ({prefixlen,
 * address with the bits past prefixlen cleared}: perim_lpm4_key,
 * perim_lpm6_key, BPF_F_NO_PREALLOC, PERIM_LPM_MAX_ENTRIES), and a
 * descriptor of the prefix lengths in use. The datapath probes those lengths
 * longest first; the first hit is the entry the trie would return. Pinned
 * per slot like the tries: PERIM_MAP_FAST4 "_<slot>", PERIM_MAP_FAST6
 * "_<slot>", PERIM_MAP_FAST_LENS "_<slot>". The egress program keeps the trie.
 */
#define PERIM_MAP_FAST4      "perim_fast4"
#define PERIM_MAP_FAST6      "perim_fast6"
#define PERIM_MAP_FAST_LENS  "perim_fastlens"
#define PERIM_FAST_MAX_LENGTHS 7      /* more distinct lengths: the trie is used */
#define PERIM_FAST_FAMILIES 2         /* descriptor index: 0 IPv4, 1 IPv6 */
#define PERIM_FAST_USE_TRIE 0         /* descriptor state of a fresh map */

/*
 * The descriptor: ARRAY (PERIM_FAST_FAMILIES entries, BPF_F_MMAPABLE) of
 * __u64 indexed by family. Bits 0-7: the state, PERIM_FAST_USE_TRIE or
 * 1 + the number of lengths; bits 8(i+1) to 8(i+1)+7: the i-th length in
 * use, longest first. One word on purpose: perimd publishes a descriptor
 * with one atomic 8-byte store through mmap and the datapath loads it in
 * one, so a packet never sees half of an old list and half of a new one.
 */
#define PERIM_FAST_STATE(d)  ((__u32)((d) & 0xff))
#define PERIM_FAST_LEN(d, i) ((__u32)(((d) >> (8 * ((i) + 1))) & 0xff))

/* ---- rules: ARRAY indexed by rule slot ---- */

/*
 * perim_rules[PERIM_RULE_EPOCH_SLOT] is no rule (never active): its gen is
 * the route epoch, which perimd bumps (never to 0) after every apply that
 * changes prefix entries, once the new set is complete, and after a rollback.
 * 0: no route decides (a map nobody manages).
 */
#define PERIM_RULE_EPOCH_SLOT 0

#define PERIM_RULE_ACTIVE     (1 << 0)
#define PERIM_RULE_PER_SOURCE (1 << 1) /* else aggregate: the prefix shares one bucket */
#define PERIM_RULE_DRY_RUN    (1 << 2) /* count "would drop", pass */

/*
 * Token buckets are GCRA ("virtual scheduling"): a bucket stores its
 * theoretical arrival time (tat, ns). A packet conforms when
 * tat <= now + tolerance; it then advances tat to max(tat, now) + cost.
 * A dropped packet consumes nothing.
 */
struct perim_rule {
	__u32 gen;                     /* bumped when a slot is reused: stale buckets reset */
	__u32 flags;                   /* PERIM_RULE_* */
	__u64 pkt_interval_ns;         /* 1e9 / pps; 0 = no packet limit */
	__u64 pkt_tolerance_ns;        /* (burst - 1) * interval, at least one clock tick */
	__u64 byte_cost_fp16;          /* (1e9 / bytes_per_s) << 16; 0 = no byte limit */
	__u64 byte_tolerance_ns;
	__u64 block_ns;                /* 0 = no block time */
	__u64 newsrc_interval_ns;      /* per-source: admission of unseen sources */
	__u64 newsrc_tolerance_ns;
};

struct perim_bucket {
	__u64 pkt_tat;
	__u64 byte_tat;
	__u64 blocked_until;           /* ns; 0 = not blocked */
	__u32 gen;                     /* perim_rule.gen this state belongs to */
	__u32 _pad;
};

/* Aggregate state of a rule: ARRAY indexed by rule slot. */
struct perim_rule_state {
	struct perim_bucket agg;       /* the bucket of an aggregate rule */
	struct perim_bucket newsrc;    /* per-source rule: admission of unseen sources */
};

/*
 * Per-source state: LRU_HASH, bounded at load time, one per family. Both
 * tables get the same size (perimd's src_buckets). IPv4-mapped addresses in
 * an IPv6 header are IPv6 sources: their buckets are in perim_src.
 */
struct perim_src4_key {
	__u32 rule;
	__u8 addr[4];                  /* network order */
};

struct perim_src_key {
	__u32 rule;
	__u32 _pad;
	__u8 addr[16];
};

/*
 * Routes (XDP ingress only): the bucket tables also hold, per interface slot
 * and source, the entry key {PERIM_SRC_ROUTE | slot, address} whose value is a
 * perim_src_route: the rule the source's last lookup chose and, for a rule
 * without a byte limit, that rule's bucket for the source (its only home
 * then; every other rule's bucket keeps its {rule, address} key). When the
 * route's epoch is the current one and its candidate fits the packet, the
 * route decides without a prefix lookup: recorded only when the candidate was
 * the first of an entry without ACL verdict or protect candidates, so it is
 * the first candidate to fit any packet of that source.
 */
#define PERIM_SRC_ROUTE 0x80000000u

struct perim_src_route {
	__u64 pkt_tat;                 /* as perim_bucket */
	struct perim_candidate cand;   /* where a perim_bucket has byte_tat */
	__u64 blocked_until;
	__u32 gen;
	__u32 epoch;                   /* the route epoch it decides in; 0: it does not */
};

/* ---- counters: PERCPU_ARRAYs ---- */

/* indexed by interface slot */
struct perim_if_counters {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 passed_packets;
	__u64 passed_bytes;
	__u64 allowed_packets;         /* passed through the allow list (also in passed) */
	__u64 would_drop_packets;      /* dry-run rules (also in passed) */
	__u64 dropped_packets[PERIM_REASON_MAX]; /* [0] unused */
	__u64 dropped_bytes[PERIM_REASON_MAX];
	__u64 protected_packets;       /* passed by a protect entry, before deny and rules (also in passed) */
};

/* indexed by rule slot */
struct perim_rule_counters {
	__u64 matched_packets;
	__u64 matched_bytes;
	__u64 passed_packets;
	__u64 passed_bytes;
	__u64 dropped_packets;
	__u64 dropped_bytes;
	__u64 would_drop_packets;
	__u64 would_drop_bytes;
};

#ifndef __bpf__
_Static_assert(sizeof(struct perim_lpm4_key) == 8, "perim_lpm4_key layout");
_Static_assert(sizeof(struct perim_lpm6_key) == 20, "perim_lpm6_key layout");
_Static_assert(sizeof(struct perim_candidate) == 8, "perim_candidate layout");
_Static_assert(sizeof(struct perim_lpm_value) == 8 + 8 * PERIM_MAX_CANDIDATES, "perim_lpm_value layout");
_Static_assert(sizeof(struct perim_rule) == 64, "perim_rule layout");
_Static_assert(sizeof(struct perim_bucket) == 32, "perim_bucket layout");
_Static_assert(sizeof(struct perim_src_key) == 24, "perim_src_key layout");
_Static_assert(sizeof(struct perim_src4_key) == 8, "perim_src4_key layout");
_Static_assert(sizeof(struct perim_src_route) == sizeof(struct perim_bucket) &&
	       __builtin_offsetof(struct perim_src_route, pkt_tat) == __builtin_offsetof(struct perim_bucket, pkt_tat) &&
	       __builtin_offsetof(struct perim_src_route, blocked_until) ==
		       __builtin_offsetof(struct perim_bucket, blocked_until) &&
	       __builtin_offsetof(struct perim_src_route, gen) == __builtin_offsetof(struct perim_bucket, gen),
	       "perim_src_route shares perim_bucket's packet fields");
#endif

#endif /* PERIM_H */
