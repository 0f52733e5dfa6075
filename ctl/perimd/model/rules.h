/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule model (interfaces, limits, allow/deny prefixes), its flattening
 * into LPM trie entries, and the transactional apply of that flattening to
 * the datapath maps.
 *
 * The model is plain data, copied before a change: a command edits a copy,
 * the copy is flattened and applied, and only a successful apply makes the
 * copy the daemon's model. A failed apply rolls the maps back, so the kernel
 * and the model never disagree.
 */
#ifndef PERIM_RULES_H
#define PERIM_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perim.h"
#include "cmd.h"
#include "model/shapes.h"
#include "model/protect.h"
#include "model/syncookies.h"

#define PERIM_MAX_ACL 8192     /* allow + deny prefixes over all interfaces */

struct perim_model_iface {
	bool used;
	char dev[IF_NAMESIZE];
	enum perim_xdp_mode mode;  /* as requested (DEFAULT = native, else skb) */
};

struct perim_model_rule {
	bool used;
	uint8_t iface;             /* interface slot */
	struct perim_limit_spec spec;  /* spec.id == the rule's slot */
};

struct perim_model_acl {
	uint8_t iface;
	uint8_t verdict;           /* PERIM_ACL_ALLOW or PERIM_ACL_DENY */
	struct perim_prefix prefix;
};

/*
 * Rules and prefixes are allocated as they are added (a full model would be
 * 5 MiB, most daemons hold a few rules): rules[] has rules_end slots, by rule
 * id, [0] unused; ids are handed out lowest first, so it stays dense. Loops
 * over rule ids stop at rules_end; every id from there on is unused.
 */
struct perim_model {
	struct perim_model_iface ifaces[PERIM_MAX_IFACES];   /* by interface slot */
	struct perim_model_rule *rules;
	uint32_t rules_end;
	unsigned n_acl, acl_cap;
	struct perim_model_acl *acl;
	struct perim_model_shape shapes[PERIM_MAX_IFACES];   /* by interface slot (shapes.h) */
	struct perim_model_protect protect[PERIM_MAX_PROTECT];  /* protect.h */
	unsigned n_protect;
	struct perim_model_syn syn[PERIM_MAX_IFACES];        /* by interface slot (syncookies.h) */
	uint32_t changing_rule;    /* the rule a "limit set" adds or replaces (0: none): errors name it */
	/*
	 * Fleet block decisions (rules_fleet.c): denied on every ingress slot as
	 * PERIM_ACL_FLEET_DENY under the local lists. Not in the state file: the
	 * fleet's bucket is their source of truth.
	 */
	struct perim_prefix *fleet;    /* sorted by (masked address, length), unique */
	unsigned n_fleet;
	uint64_t fleet_lens[3];        /* bit L: some fleet prefix is L long (mapped space, 0..128) */
};

struct perim_model *perim_model_new(void);
struct perim_model *perim_model_dup(const struct perim_model *m);   /* NULL: out of memory */
void perim_model_free(struct perim_model *m);

/*
 * Model edits. Each returns 0, or PERIM_EXIT_BADINPUT with a one-line message
 * in err naming the bad token (PERIM_EXIT_FAIL: out of memory); the model is
 * unchanged on error.
 */
int perim_model_iface_find(const struct perim_model *m, const char *dev);  /* slot or -1 */
int perim_model_iface_add(struct perim_model *m, const char *dev, enum perim_xdp_mode mode,
			  int slot, char *err, size_t errlen);              /* slot -1 = assign */
void perim_model_iface_del(struct perim_model *m, int slot);        /* and its rules and ACL */
int perim_model_limit_add(struct perim_model *m, int slot, const struct perim_limit_spec *spec,
			  uint32_t *id, char *err, size_t errlen);          /* spec->id 0 = assign */
/* The rule of this slot whose selector (what it matches, not its rate or mode) equals spec's; 0: none. */
uint32_t perim_model_limit_find_selector(const struct perim_model *m, int slot,
					 const struct perim_limit_spec *spec);
/* Rule id (used) takes spec's parameters, keeping its id. */
void perim_model_limit_replace(struct perim_model *m, uint32_t id, const struct perim_limit_spec *spec);
int perim_model_limit_del(struct perim_model *m, int slot, uint32_t id, char *err, size_t errlen);
int perim_model_acl_add(struct perim_model *m, int slot, uint8_t verdict,
			const struct perim_prefix *p, char *err, size_t errlen);
int perim_model_acl_del(struct perim_model *m, int slot, uint8_t verdict,
			const struct perim_prefix *p, char *err, size_t errlen);

/* Clears the address bits past len (len in the IPv4-mapped space, 0..128). */
void perim_prefix_mask(uint8_t addr[16], unsigned len);
/* outer holds every address of inner. */
bool perim_prefix_covers(const struct perim_prefix *outer, const struct perim_prefix *inner);
/* The same prefix once the host bits are masked off. */
bool perim_prefix_equal(const struct perim_prefix *a, const struct perim_prefix *b);

/* ---- fleet decisions (rules_fleet.c) ---- */

/* Replace the model's fleet prefixes with these n (any order, duplicates merged). 0 or -ENOMEM. */
int perim_model_fleet_set(struct perim_model *m, const struct perim_prefix *p, unsigned n);
/* Whether some fleet prefix covers p (p->len or shorter). */
bool perim_model_fleet_covers(const struct perim_model *m, const struct perim_prefix *p);

/* ---- spec -> datapath rule ---- */

/* The datapath's clock granularity: clock_getres(CLOCK_MONOTONIC_COARSE). */
uint64_t perim_clock_tick_ns(void);
/* Everything but gen, which the apply step owns. */
void perim_rule_from_spec(const struct perim_limit_spec *spec, uint64_t tick_ns, struct perim_rule *out);

/* ---- flattening ---- */

/* Which trie of an interface an entry belongs in (perim.h: one pair per slot). */
enum perim_lpm_family {
	PERIM_LPM_V4 = 0,
	PERIM_LPM_V6 = 1,
	PERIM_LPM_INGRESS_FAMILIES,
	/* The egress program's tables (perim.h): destination tries, cgroup ids. */
	PERIM_LPM_EGRESS_V4 = PERIM_LPM_INGRESS_FAMILIES,
	PERIM_LPM_EGRESS_V6,
	PERIM_LPM_EGRESS_CGROUP,   /* key: prefixlen 64, addr[0..7] the cgroup id (host order) */
	/* The XDP program's exact-match copies of the ingress tries (perim.h, the fast path). */
	PERIM_LPM_FAST_V4,
	PERIM_LPM_FAST_V6,
	PERIM_LPM_FAMILIES
};

/*
 * An LPM entry's place as perimd tracks it: the slot and family pick the
 * map, prefixlen and addr are the kernel key (IPv4: addr[0..3], 0..32 bits;
 * IPv6: 0..128 bits). Compared with memcmp, so the padding stays zero.
 */
struct perim_lpm_ukey {
	uint8_t slot;
	uint8_t family;            /* enum perim_lpm_family */
	uint16_t _pad;
	uint32_t prefixlen;
	uint8_t addr[16];
};

struct perim_lpm_entry {
	struct perim_lpm_ukey key;
	struct perim_lpm_value value;
};

/* Sorted by key (memcmp), unique keys. */
struct perim_lpm_set {
	size_t n, cap;
	struct perim_lpm_entry *e;
};

void perim_lpm_set_free(struct perim_lpm_set *s);
const struct perim_lpm_entry *perim_lpm_set_find(const struct perim_lpm_set *s,
						 const struct perim_lpm_ukey *key);

/*
 * The LPM key of a prefix on an interface slot (address bits past len
 * cleared). A prefix inside ::ffff:0:0/96 goes to the IPv4 trie.
 */
void perim_lpm_key_make(struct perim_lpm_ukey *key, int slot, const struct perim_prefix *p);

/*
 * Every LPM entry the model needs. PERIM_EXIT_BADINPUT (too many candidates,
 * or more than PERIM_LPM_MAX_ENTRIES in one trie) or -errno.
 */
int perim_flatten(const struct perim_model *m, struct perim_lpm_set *out, char *err, size_t errlen);

/* ---- the fast path (rules_fast.c) ---- */

/*
 * Adds to a flattened set (sorted by key) the fast-path copy of every
 * ingress trie entry (same key and value, family PERIM_LPM_FAST_V4/6),
 * keeping it sorted. 0 or -ENOMEM.
 */
int perim_fast_mirror(struct perim_lpm_set *set);
/*
 * The descriptor (perim.h) of a slot's fast table of one family (0 IPv4,
 * 1 IPv6) holding set's entries: its lengths longest first, or
 * PERIM_FAST_USE_TRIE when more than PERIM_FAST_MAX_LENGTHS are in use.
 */
__u64 perim_fast_lens_make(const struct perim_lpm_set *set, int slot, int fam);

/* ---- transactional apply ---- */

struct perim_maps {
	/*
	 * Per slot and family, opened (or created and pinned) on first use:
	 * -1 until then. pin_root NULL: unpinned maps, created on demand (tests).
	 */
	int lpm_fd[PERIM_LPM_FAMILIES][PERIM_MAX_IFACES];
	/* The fast-path descriptors per slot: fd -1 until used, mmapped words. */
	int fast_lens_fd[PERIM_MAX_IFACES];
	__u64 *fast_lens[PERIM_MAX_IFACES];
	const char *pin_root;
	int rules_fd;
	int rule_stats_fd;         /* -1: do not reset counters of a reused slot */
};

/* Every LPM fd -1, no pin root; the caller sets rules_fd and rule_stats_fd. */
void perim_maps_init(struct perim_maps *maps);
/* Closes the LPM fds perim_maps_lpm_fd opened and the descriptors (not rules_fd, rule_stats_fd). */
void perim_maps_close(struct perim_maps *maps);
/* "<pin_root>/perim_lpm4_<slot>" or "..._lpm6_..."; -ENAMETOOLONG if it does not fit. */
int perim_lpm_pin_path(char *buf, size_t len, const char *pin_root, int family, int slot);
/*
 * The fd of a slot's trie: the cached one, else the pinned one, else (create)
 * a new map with the datapath's attributes, pinned. -ENOENT when it does not
 * exist and !create; other -errno with err set.
 */
int perim_maps_lpm_fd(struct perim_maps *maps, int family, int slot, bool create,
		      char *err, size_t errlen);

/* "<pin_root>/perim_fastlens_<slot>"; -ENAMETOOLONG if it does not fit. */
int perim_fast_lens_pin_path(char *buf, size_t len, const char *pin_root, int slot);
/*
 * A slot's descriptor pair, mapped: the cached one, else the pinned one,
 * else (create) a new pinned map. -ENOENT when absent and !create; other
 * -errno with err set.
 */
int perim_maps_fast_lens(struct perim_maps *maps, int slot, bool create, __u64 **lens,
			 char *err, size_t errlen);
/* Publishes one descriptor with one atomic store (the datapath loads it in one). */
void perim_fast_lens_store(__u64 *lens, int fam, __u64 value);

/* What is in the kernel maps right now, as perimd last wrote or read it. */
struct perim_installed {
	struct perim_lpm_set lpm;
	struct perim_rule rules[PERIM_MAX_RULES];
	__u64 fast_lens[PERIM_MAX_IFACES][PERIM_FAST_FAMILIES];  /* 0 (trie) where there is no map */
};

struct perim_installed *perim_installed_new(void);
void perim_installed_free(struct perim_installed *in);
/* Read the maps' current content (after an adopt, pins hold the old daemon's entries). */
int perim_installed_read(struct perim_installed *in, struct perim_maps *maps,
			 char *err, size_t errlen);

/*
 * Make the maps hold exactly what model m needs: write new and changed
 * entries first (tries and fast tables), then publish each interface's
 * fast-path descriptors, then delete stale entries (never clear first, so
 * enforcement has no gap). On any kernel error every write done so far is undone, `in`
 * is unchanged and err says what failed; returns PERIM_EXIT_BADINPUT for a
 * model that cannot be flattened, PERIM_EXIT_FAIL for a kernel error.
 */
int perim_apply(struct perim_maps *maps, struct perim_installed *in,
		const struct perim_model *m, char *err, size_t errlen);

#endif /* PERIM_RULES_H */
