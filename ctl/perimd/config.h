/* SPDX-License-Identifier: GPL-2.0 */
/* perimd's options: the command line and `--config FILE` (lines "key value", same names). */
#ifndef PERIMD_CONFIG_H
#define PERIMD_CONFIG_H

#include <limits.h>
#include <stdbool.h>

#include "cmd.h"
#include "fleet/options.h"
#include "perim.h"

#define PERIMD_STATE_DEFAULT "/var/lib/perim/state"
#define PERIMD_BTF_DIR_DEFAULT "/usr/lib/perim/btf"
#define PERIMD_KERNEL_BTF_DEFAULT "/sys/kernel/btf/vmlinux"

/*
 * --drop-sample-rate: samples per second per CPU, the datapath's rodata
 * (perim_drop_sample_rate). The cap is what the drop ring holds between two
 * drains: PERIM_DROPS_RING_BYTES / 72-byte records = 14,563 samples per
 * PERIMD_DROPS_DRAIN_MS (100 ms) = 145,000 a second; more would be lost.
 */
#define PERIMD_DROP_SAMPLE_RATE_MAX 100000
#define PERIMD_DROP_SAMPLE_RATE_MAX_STR "100000"
#define PERIMD_DROP_SAMPLE_RATE_DEFAULT_STR "1000"     /* PERIM_DROP_SAMPLE_RATE_DEFAULT, for the usage text */

struct perimd_iface_opt {
	char dev[IF_NAMESIZE];
	enum perim_xdp_mode mode;
};

#define PERIMD_MAX_PROTECT_OPTS 16

/* --protect DEV,PREFIX[,tcp|udp[,P[-Q]]]: protected access from boot on. */
struct perimd_protect_opt {
	char dev[IF_NAMESIZE];
	struct perim_protect_spec spec;
};

struct perimd_config {
	char socket[PATH_MAX];
	char group[64];            /* empty: root only */
	char pin_root[PATH_MAX];
	char state[PATH_MAX];
	struct perimd_iface_opt ifaces[PERIM_MAX_IFACES];
	int n_ifaces;
	struct perimd_protect_opt protect[PERIMD_MAX_PROTECT_OPTS];
	int n_protect;
	char btf[PATH_MAX];        /* empty: none */
	char btf_dir[PATH_MAX];
	char kernel_btf[PATH_MAX];
	unsigned src_buckets;      /* 0: the pinned map's size, else the default */
	char events[PATH_MAX];     /* empty: stdout */
	char guard_rules[PATH_MAX]; /* empty: no guard rails */
	unsigned drop_sample_rate; /* per second per CPU, 0: off */
	char metrics[64];          /* --metrics value as given; empty: no metrics endpoint */
	struct perimd_fleet_opts fleet;  /* --fleet*: empty servers, no fleet */
	int verbosity;
};

#define PERIMD_CONFIG_HELP 3   /* --help printed: exit 0 */

/* 0, PERIMD_CONFIG_HELP, or PERIM_EXIT_BADINPUT after one line naming the bad option. */
int perimd_config_parse(int argc, char **argv, struct perimd_config *cfg);

#endif /* PERIMD_CONFIG_H */
