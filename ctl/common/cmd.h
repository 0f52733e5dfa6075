/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The perimctl command model, parsed from argv by one parser that both
 * perimctl (to reject bad input before it leaves the shell) and perimd (for
 * the control socket and the state file) use. The state file is a list of
 * these commands, one per line, so what perimd restores is exactly what an
 * operator could have typed. The parser lives in cmd/: one file per command
 * object (its parser, help and state-file formatter) over cmd/core.c.
 */
#ifndef PERIM_CMD_H
#define PERIM_CMD_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define PERIM_EXIT_OK 0
#define PERIM_EXIT_FAIL 1      /* daemon unreachable, kernel refused, ... */
#define PERIM_EXIT_BADINPUT 2  /* one-line message names the bad token */

enum perim_cmd_kind {
	PERIM_CMD_NONE = 0,
	PERIM_CMD_ATTACH,          /* attach DEV [mode native|skb] */
	PERIM_CMD_DETACH,          /* detach DEV */
	PERIM_CMD_LIMIT_SET,       /* limit set DEV ... */
	PERIM_CMD_LIMIT_DEL,       /* limit del DEV ID */
	PERIM_CMD_LIMIT_LIST,      /* limit list [DEV] */
	PERIM_CMD_ALLOW_ADD,       /* allow add DEV PREFIX */
	PERIM_CMD_ALLOW_DEL,
	PERIM_CMD_DENY_ADD,        /* deny add DEV PREFIX */
	PERIM_CMD_DENY_DEL,
	PERIM_CMD_ALLOW_LIST,      /* allow list [DEV] */
	PERIM_CMD_DENY_LIST,       /* deny list [DEV] */
	PERIM_CMD_STATS,           /* stats [DEV] [--watch] */
	PERIM_CMD_STATUS,          /* status */
	PERIM_CMD_EVENTS,          /* events [--follow] [--type T,...] (tracers) */
	PERIM_CMD_HELP,            /* help [OBJECT], OBJECT help, -h: cmd.help holds the text */
	PERIM_CMD_SHAPE_SET,       /* shape set DEV rate N{kbit,mbit,gbit} [burst N] [latency MS] [force] */
	PERIM_CMD_SHAPE_DEL,       /* shape del DEV */
	PERIM_CMD_SHAPE_LIST,      /* shape list [DEV] */
	PERIM_CMD_TOP,             /* top [DEV] [--once]: sources dropped most (watch unless --once) */
	PERIM_CMD_FLEET_BLOCK,     /* fleet block PREFIX [ttl DURATION] [reason TEXT] (cmd_fleet.c) */
	PERIM_CMD_FLEET_UNBLOCK,   /* fleet unblock PREFIX */
	PERIM_CMD_FLEET_LIST,      /* fleet list [-j] */
	PERIM_CMD_FLEET_STATUS,    /* fleet status [-j] */
	PERIM_CMD_SYN_SET,         /* syncookie set DEV [dst PREFIX] [dport P[-Q]] [mss N] [wscale N] [dry-run] */
	PERIM_CMD_SYN_DEL,         /* syncookie del DEV [dst PREFIX] [dport P[-Q]] */
	PERIM_CMD_SYN_LIST,        /* syncookie list [DEV] */
	/* cmd/ruleset.c: a whole configuration as a file */
	PERIM_CMD_SHOW,            /* show [DEV]: the live configuration as ruleset lines */
	PERIM_CMD_APPLY,           /* apply [--check] FILE [--text TEXT] */
	PERIM_CMD_DIFF,            /* diff FILE [--text TEXT] */
	PERIM_CMD_CONFIRM,         /* confirm: keep the change awaiting confirmation */
	PERIM_CMD_ROLLBACK,        /* rollback: undo it now */
	/* cmd/protect.c: protected management access */
	PERIM_CMD_PROTECT_ADD,     /* protect add DEV PREFIX [proto tcp|udp] [dport P[-Q]] */
	PERIM_CMD_PROTECT_DEL,     /* protect del DEV PREFIX [proto tcp|udp] [dport P[-Q]] */
	PERIM_CMD_PROTECT_LIST,    /* protect list [DEV] */
	/* cmd/fleet_group.c: group rulesets */
	PERIM_CMD_FLEET_APPLY,     /* fleet apply GROUP FILE [--check] [--text TEXT] */
	PERIM_CMD_FLEET_GATEWAYS,  /* fleet gateways GROUP [-j], fleet status --group GROUP [-j] */
};

enum perim_xdp_mode {
	PERIM_MODE_DEFAULT = 0,    /* native, falling back to skb */
	PERIM_MODE_NATIVE,
	PERIM_MODE_SKB,
};

/* A cgroup v2 directory, as given (absolute, no whitespace: the state file splits on it). */
#define PERIM_CGROUP_PATH_MAX 192

/* An address prefix, IPv4 stored IPv4-mapped like in include/perim.h. */
struct perim_prefix {
	uint8_t addr[16];
	uint8_t len;               /* 0..128 in the mapped space */
	bool is_v4;                /* for printing: len - 96 is the IPv4 length */
};

struct perim_limit_spec {
	uint32_t id;               /* 0 = assign a new id; set when read back from state */
	struct perim_prefix src;   /* default ::/0 and 0.0.0.0/0 both, see has_src */
	bool has_src;
	uint8_t proto;             /* PERIM_PROTO_ANY, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP */
	uint16_t dport_lo, dport_hi; /* 0/0 = any */
	bool syn_only;
	uint64_t rate_pps;         /* required, > 0 */
	uint64_t burst;            /* packets; 0 = default (one second's worth, at least 1 tick) */
	uint64_t bytes_per_s;      /* 0 = no byte limit; parsed from kbit/mbit/gbit */
	bool per_source;           /* default true */
	uint32_t block_s;          /* 0 = none */
	bool dry_run;
	/*
	 * dir egress: enforced by the tc program on the NIC's clsact egress
	 * hook, matched on the destination; per_source then means one bucket
	 * per destination address ("per-destination").
	 */
	bool egress;
	bool has_dst;
	struct perim_prefix dst;   /* egress only; default every destination */
	char cgroup[PERIM_CGROUP_PATH_MAX]; /* egress only: "" or the sending sockets' cgroup */
	uint64_t cgroup_id;        /* perimd's: cgroup resolved when set or restored; never parsed */
};

/* shape set: a root TBF with fq_codel under it, owned by perim. */
struct perim_shape_spec {
	uint64_t rate_bits;        /* bits per second, required, > 0 */
	uint64_t burst_bytes;      /* 0 = default (10 ms of rate, at least two full frames) */
	uint32_t latency_ms;       /* 0 = default (PERIM_SHAPE_LATENCY_MS_DEFAULT) */
	bool force;                /* replace a root qdisc perim did not create (never persisted) */
};

#define PERIM_SHAPE_LATENCY_MS_DEFAULT 50

/* fleet block (cmd_fleet.c): the decision's lifetime and why. */
#define PERIM_FLEET_REASON_MAX 128
struct perim_fleet_spec {
	uint32_t ttl_s;            /* 0 = until unblocked */
	char reason[PERIM_FLEET_REASON_MAX];
	char group[64];            /* fleet apply, fleet gateways: the group */
};

/* protect: sources that pass before any deny, limit, block or SYN check. */
struct perim_protect_spec {
	struct perim_prefix prefix;
	uint8_t proto;             /* PERIM_PROTO_ANY, IPPROTO_TCP or IPPROTO_UDP */
	uint16_t dport_lo, dport_hi; /* 0/0 = any */
};

/* syncookie set/del (cmd/syncookie.c): a protected destination of an interface (include/perim_syn.h). */
struct perim_syn_spec {
	struct perim_prefix dst;   /* meaningful when has_dst */
	bool has_dst;              /* else every destination, both families */
	uint16_t dport_lo, dport_hi; /* 0/0 = every port */
	uint16_t mss;              /* 0 = the family's default (1460 IPv4, 1440 IPv6) */
	uint8_t wscale;            /* meaningful when has_wscale */
	bool has_wscale;           /* else PERIM_SYN_WSCALE_DEFAULT */
	bool dry_run;
};

struct perim_cmd {
	enum perim_cmd_kind kind;
	char dev[IF_NAMESIZE];     /* empty = all (list, stats) */
	enum perim_xdp_mode mode;
	int slot;                  /* attach: interface slot; -1 = assign (the state file records it) */
	struct perim_limit_spec limit;
	uint32_t rule_id;          /* limit del */
	struct perim_prefix prefix;/* allow/deny */
	struct perim_shape_spec shape; /* shape set */
	struct perim_protect_spec protect; /* protect add|del */
	struct perim_syn_spec syn; /* syncookie set/del */
	bool watch;                /* stats --watch (client side only) */
	bool follow;               /* events --follow */
	char types[128];           /* events --type list, as given */
	const char *help;          /* PERIM_CMD_HELP: static text to print */
	struct perim_fleet_spec fleet; /* fleet block; prefix holds its PREFIX */
	bool json_out;             /* "-j" after the command (fleet list -j): client side only */
	/*
	 * apply, diff: the file's name (for FILE:LINE) and its content, which
	 * perimctl reads and sends as "--text TEXT" (perimd never opens a
	 * client's file); NULL until then. Points into argv.
	 */
	char file[256];
	const char *text;
	bool check;                /* apply --check: validate only */
	bool counts_only;          /* apply --counts-only (perimctl without -j): no list of changes in the reply */
	/* COMMAND ... --confirm SECONDS: rolled back unless "confirm" comes in time (0: not asked) */
	uint32_t confirm_s;
};

/*
 * Parse argv (without the program name and global options such as -j).
 * On bad input returns PERIM_EXIT_BADINPUT and writes one line to err, e.g.
 *   Error: argument "12x" is wrong: rate needs a unit pps, kpps or mpps
 * Returns 0 on success.
 */
int perim_cmd_parse(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen);

/*
 * Format a limit as the argv words that perim_cmd_parse reads back
 * ("limit set DEV id N src ... rate ..."): used by the state file.
 * Returns the number of bytes written (like snprintf).
 */
int perim_limit_format(const char *dev, const struct perim_limit_spec *l, char *buf, size_t len);

/* Would perim_limit_format write the same line for a and b (on one DEV)? Cheaper than two formats. */
bool perim_limit_same_line(const struct perim_limit_spec *a, const struct perim_limit_spec *b);

/* "shape set DEV rate ... [burst N] [latency MS]" (force is never written). */
int perim_shape_format(const char *dev, const struct perim_shape_spec *s, char *buf, size_t len);

/* "syncookie set DEV [dst ...] [dport ...] [mss N] wscale N [dry-run]", for the state file. */
int perim_syn_format(const char *dev, const struct perim_syn_spec *s, char *buf, size_t len);

/* "attach DEV [mode native|skb] [slot N]" (slot when >= 0), for the state file. */
int perim_attach_format(const char *dev, enum perim_xdp_mode mode, int slot, char *buf, size_t len);

/* "allow add DEV PREFIX", or "deny add ..." when deny, for the state file. */
int perim_acl_format(const char *dev, bool deny, const struct perim_prefix *prefix, char *buf, size_t len);

/* "protect add DEV PREFIX [proto tcp|udp] [dport P[-Q]]", for the state file. */
int perim_protect_format(const char *dev, const struct perim_protect_spec *p, char *buf, size_t len);

/* cmd/ruleset.c: the kinds a ruleset file (and "perimctl show") holds. */
bool perim_cmd_ruleset_line_kind(enum perim_cmd_kind kind);
/* Does cmd change the configuration (what --confirm can roll back)? */
bool perim_cmd_changes_config(const struct perim_cmd *cmd);

int perim_prefix_parse(const char *s, struct perim_prefix *p);
int perim_prefix_format(const struct perim_prefix *p, char *buf, size_t len);

/* The help text for one object ("limit", "stats", ...) or all of them (NULL). */
const char *perim_cmd_help(const char *object);

/* cmd_fleet.c: "fleet ..." (argv[0] is "fleet"); same contract as perim_cmd_parse. */
int perim_cmd_parse_fleet(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen);
extern const char perim_cmd_fleet_help[];
/* cmd/fleet_group.c: "fleet apply ..." / "fleet gateways ..." / "fleet status --group ..." */
bool perim_cmd_fleet_group_verb(int argc, char **argv);
int perim_cmd_parse_fleet_group(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen);

#endif /* PERIM_CMD_H */
