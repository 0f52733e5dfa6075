/* SPDX-License-Identifier: GPL-2.0 */
/* SIGHUP: re-read perimd's options and apply those that can change while it runs. */
#ifndef PERIMD_RELOAD_H
#define PERIMD_RELOAD_H

#include "log.h"

struct perimd;

/* The log level -v / -vv / verbose lines ask for. */
enum perim_log_level perimd_log_level(int verbosity);

/*
 * Parse argv again (the command line and every --config file it names), as
 * at start. "verbose" and "events" take effect (the events file is reopened
 * even when its path is the same: log rotation); every other option that
 * changed is logged as needing a restart and left as it was. A bad config is
 * logged and changes nothing. Returns 0, or -1 when the config was refused.
 */
int perimd_reload(struct perimd *d, int argc, char **argv);

#endif /* PERIMD_RELOAD_H */
