// SPDX-License-Identifier: GPL-2.0
/* Group rulesets as perimctl prints them: fleet apply, fleet gateways, fleet status's group lines. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "perimctl.h"

static const char *str_of(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		? json_object_get_string(v) : dflt;
}

static uint64_t u64_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

void perimctl_render_fleet_apply(struct json_object *r)
{
	if (!u64_of(r, "revision")) {
		printf("%s: valid for group %s (checked here, not published)\n", str_of(r, "file", "?"),
		       str_of(r, "group", "?"));
		return;
	}
	printf("%s: published to group %s as revision %" PRIu64 " (%s/%s, %" PRIu64 " bytes)\n",
	       str_of(r, "file", "?"), str_of(r, "group", "?"), u64_of(r, "revision"),
	       str_of(r, "bucket", "?"), str_of(r, "key", "?"), u64_of(r, "bytes"));
}

/* "12 s ago" from a wall-clock ms stamp. */
static void age(uint64_t ms, char *out, size_t len)
{
	int64_t s = (int64_t)time(NULL) - (int64_t)(ms / 1000);

	if (!ms)
		snprintf(out, len, "never");
	else
		snprintf(out, len, "%" PRId64 " s ago", s < 0 ? 0 : s);
}

void perimctl_render_fleet_gateways(struct json_object *r)
{
	struct json_object *list = NULL;
	size_t n;

	json_object_object_get_ex(r, "gateways", &list);
	n = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	printf("group %s: bucket revision %" PRIu64 ", %zu gateway%s\n", str_of(r, "group", "?"),
	       u64_of(r, "bucket_revision"), n, n == 1 ? "" : "s");
	if (n)
		printf("%-24s %-9s %-14s %s\n", "GATEWAY", "REVISION", "REPORTED", "REFUSAL");
	for (size_t i = 0; i < n; i++) {
		struct json_object *g = json_object_array_get_idx(list, i);
		char when[32];

		age(u64_of(g, "updated_ms"), when, sizeof(when));
		printf("%-24s %-9" PRIu64 " %-14s %s", str_of(g, "name", "?"), u64_of(g, "revision"), when,
		       str_of(g, "error", "-"));
		if (u64_of(g, "refused_revision"))
			printf(" (revision %" PRIu64 ")", u64_of(g, "refused_revision"));
		printf("\n");
	}
}

void perimctl_render_fleet_group_status(struct json_object *r)
{
	if (!str_of(r, "group", NULL))
		return;
	printf("  group revision %" PRIu64 " running", u64_of(r, "group_revision"));
	if (u64_of(r, "group_bucket_revision"))
		printf(", bucket revision %" PRIu64, u64_of(r, "group_bucket_revision"));
	printf("; %" PRIu64 " refused\n", u64_of(r, "group_refusals"));
	if (str_of(r, "group_error", NULL))
		printf("  group revision %" PRIu64 " refused: %s\n", u64_of(r, "group_refused_revision"),
		       str_of(r, "group_error", ""));
}
