/* SPDX-License-Identifier: GPL-2.0 */
/* The 10 s drop summary a gateway publishes to perim.drops.<name>. */
#ifndef PERIMD_FLEET_DROPS_SUMMARY_H
#define PERIMD_FLEET_DROPS_SUMMARY_H

#include <json-c/json.h>

struct perimd;

/*
 * {"name","time_ms","interfaces":[{"dev","dropped":{"<reason>":packets,...},
 *  "top":[...the top sources of `perimctl top`, at most 10...]}]}
 */
struct json_object *fleet_drops_summary(struct perimd *d, const char *name);

#endif /* PERIMD_FLEET_DROPS_SUMMARY_H */
