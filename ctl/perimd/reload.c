// SPDX-License-Identifier: GPL-2.0
/*
 * SIGHUP: perimd re-reads its options. Two of them can change in place: the
 * log verbosity and the events file. The others decide what was loaded,
 * attached, pinned or listened on at start; changing them under a running
 * datapath would leave half of it on the old value, so they are refused
 * with one log line each and wait for a restart.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "reload.h"
#include "events/bus.h"
#include "log.h"

#define STR_OPT(name, field) { name, offsetof(struct perimd_config, field) }

/* String options that need a restart, by their config-file name. */
static const struct {
	const char *name;
	size_t offset;
} restart_strings[] = {
	STR_OPT("socket", socket),         STR_OPT("group", group),
	STR_OPT("pin-root", pin_root),     STR_OPT("state", state),
	STR_OPT("btf", btf),               STR_OPT("btf-dir", btf_dir),
	STR_OPT("kernel-btf", kernel_btf), STR_OPT("guard-rules", guard_rules),
	STR_OPT("metrics", metrics),
	STR_OPT("fleet", fleet.servers),   STR_OPT("fleet-name", fleet.name),
	STR_OPT("fleet-group", fleet.group), STR_OPT("fleet-creds", fleet.creds),
	STR_OPT("fleet-tls-ca", fleet.tls_ca), STR_OPT("fleet-events", fleet.events),
};

enum perim_log_level perimd_log_level(int verbosity)
{
	return verbosity >= 2 ? PERIM_LOG_DEBUG : verbosity == 1 ? PERIM_LOG_INFO : PERIM_LOG_WARN;
}

static const char *field(const struct perimd_config *cfg, size_t offset)
{
	return (const char *)cfg + offset;
}

static void refuse(const char *name)
{
	pr_warn("perimd: SIGHUP: \"%s\" changed: it needs a restart, not applied\n", name);
}

static void refuse_restart_only(const struct perimd_config *now, const struct perimd_config *next)
{
	for (size_t i = 0; i < sizeof(restart_strings) / sizeof(restart_strings[0]); i++)
		if (strcmp(field(now, restart_strings[i].offset), field(next, restart_strings[i].offset)))
			refuse(restart_strings[i].name);
	if (now->n_ifaces != next->n_ifaces ||
	    memcmp(now->ifaces, next->ifaces, sizeof(now->ifaces[0]) * now->n_ifaces))
		refuse("interface");
	if (now->src_buckets != next->src_buckets)
		refuse("src-buckets");
	if (now->drop_sample_rate != next->drop_sample_rate)
		refuse("drop-sample-rate");
}

static int apply_events(struct perimd *d, const char *path)
{
	int err;

	if (!d->bus)
		return 0;
	err = perimd_bus_reopen(d->bus, path[0] ? path : NULL);
	if (err) {
		pr_warn("perimd: SIGHUP: events file %s not opened (%s), the previous one stays\n",
			path[0] ? path : "(stdout)", strerror(-err));
		return -1;
	}
	return 0;
}

int perimd_reload(struct perimd *d, int argc, char **argv)
{
	struct perimd_config *next = malloc(sizeof(*next));

	if (!next) {
		pr_warn("perimd: SIGHUP: config not re-read: out of memory\n");
		return -1;
	}
	if (perimd_config_parse(argc, argv, next)) {
		pr_warn("perimd: SIGHUP: config not re-read (the line above says why); nothing changed\n");
		free(next);
		return -1;
	}
	refuse_restart_only(&d->cfg, next);
	if (next->verbosity != d->cfg.verbosity) {
		perim_log_set_level(perimd_log_level(next->verbosity));
		d->cfg.verbosity = next->verbosity;
	}
	if (!apply_events(d, next->events))
		strcpy(d->cfg.events, next->events);
	pr_info("perimd: SIGHUP: config re-read, events file reopened\n");
	free(next);
	return 0;
}
