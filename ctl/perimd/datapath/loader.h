/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The XDP side of perimd: loads perim_xdp (one skeleton instance per
 * interface, its slot in rodata), pins the maps by name under the pin root,
 * hands each instance to libxdp to attach, adopts an attachment a previous
 * perimd left behind, and detaches only perim's own program.
 */
#ifndef PERIMD_LOADER_H
#define PERIMD_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cmd.h"
#include "model/rules.h"

struct perim_xdp;
struct xdp_program;

struct perim_loader {
	char pin_root[4096];
	const char *btf_custom_path;   /* NULL: the kernel's own BTF */
	unsigned src_buckets;          /* perim_src and perim_src4 size of every instance */
	unsigned drop_sample_rate;     /* every instance's perim_drop_sample_rate (per s per CPU, 0: off) */
	const char *prog_name;         /* perim_xdp_syn, perim_xdp, or perim_xdp_compat before 5.12 */
	bool syn_available;            /* perim_xdp_syn: the kernel has the SYN-cookie helpers and kfuncs */
	char syn_reason[384];          /* why not, when not */
	struct perim_xdp *base;        /* loaded, never attached: holds the pinned maps */
	struct perim_maps maps;
	int if_stats_fd;
	bool mounted_bpffs;            /* /sys/fs/bpf was not a bpffs: perimd mounted a fresh one */
};

/* One interface's attachment as perimd knows it. */
struct perim_attachment {
	bool attached;
	bool adopted;                  /* found attached at start, kept as it was */
	bool foreign_maps;             /* attach refused: the program found there uses other maps */
	int ifindex;
	uint32_t prog_id;
	enum perim_xdp_mode mode;      /* what is in effect: NATIVE or SKB */
	long long drop_sample_rate;    /* in effect: drop samples per s per CPU; -1 unknown (adopted) */
	struct perim_xdp *skel;        /* NULL when adopted */
	struct xdp_program *prog;
};

/*
 * Mount bpffs if needed, create the pin root, load the base instance. Every
 * instance perimd loads samples drop_sample_rate drops per second and CPU; an
 * adopted one keeps the rate it was loaded with. 0 or -errno (err set).
 */
int perim_loader_open(struct perim_loader *l, const char *pin_root, const char *btf_custom_path,
		      unsigned src_buckets, unsigned drop_sample_rate, char *err, size_t errlen);
void perim_loader_close(struct perim_loader *l);

/*
 * Attach to dev (ifindex, resolved by the caller over netlink; 0: no such
 * interface) with the given slot, or adopt perim's program already attached
 * there, if it uses the maps perimd writes (else a->foreign_maps is set and
 * the attach fails). Returns 0, PERIM_EXIT_BADINPUT (no such interface) or
 * PERIM_EXIT_FAIL, with err set.
 */
int perim_loader_attach(struct perim_loader *l, const char *dev, int ifindex, int slot,
			enum perim_xdp_mode mode, struct perim_attachment *a, char *err, size_t errlen);
/* Detach perim's program only; other programs on the NIC stay. */
int perim_loader_detach(struct perim_loader *l, struct perim_attachment *a, char *err, size_t errlen);
/* Forget the attachment without touching the NIC (exit: enforcement continues). */
void perim_loader_release(struct perim_attachment *a);

/*
 * Fill obj with "mode", "dispatcher" ("multiprog" or "single"), "reason"
 * (single only) and "programs" [{name, priority, chain_call_actions}] as the
 * kernel reports them for ifindex (null, null and [] when nothing is
 * attached). 0, or -errno with err set when the kernel could not be asked
 * (e.g. at the fd limit): then obj must not be reported.
 */
int perim_loader_describe(int ifindex, struct json_object *obj, char *err, size_t errlen);

#endif /* PERIMD_LOADER_H */
