// SPDX-License-Identifier: GPL-2.0
/* The sliding window behind `perimctl top`: ranking, window expiry, the source bound. */
#include <arpa/inet.h>
#include <stdlib.h>

#include "perim.h"
#include "telemetry/drops_agg.h"
#include "test.h"

#define SEC 1000000000ULL
#define T0 (1000 * SEC)

static const char *const devs[] = { "eth0", "eth1" };

static const char *info(void *ctx, int slot, double *dropped_pps)
{
	*dropped_pps = ctx ? *(double *)ctx : 0;
	return slot < 2 ? devs[slot] : NULL;
}

static struct perim_drop_event ev4(int slot, const char *src, uint64_t ts)
{
	struct perim_drop_event e = { .ts = ts, .slot = slot, .rule = 7, .reason = PERIM_REASON_RATE_PPS,
				      .family = 4, .proto = 17, .dport = 53 };

	e.src[10] = e.src[11] = 0xff;
	inet_pton(AF_INET, src, e.src + 12);
	return e;
}

static void add_n(struct perimd_drops_agg *a, struct perim_drop_event e, int n, uint64_t now)
{
	while (n--)
		perimd_drops_agg_add(a, &e, now);
}

static struct json_object *source(struct json_object *top, size_t i)
{
	struct json_object *sources;

	json_object_object_get_ex(top, "sources", &sources);
	return i < json_object_array_length(sources) ? json_object_array_get_idx(sources, i) : NULL;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static int64_t num(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

static void test_ranks_by_samples_with_estimate(void)
{
	struct perimd_drops_agg *a = perimd_drops_agg_new();
	double pps = 900;
	struct json_object *top;

	if (!ASSERT_OK_PTR(a, "new"))
		return;
	add_n(a, ev4(0, "10.0.0.2", T0), 30, T0);
	add_n(a, ev4(0, "10.0.0.1", T0), 50, T0);
	add_n(a, ev4(0, "10.0.0.3", T0 - 3 * SEC), 10, T0);
	top = perimd_drops_agg_json(a, -1, 20, T0, info, &pps);
	ASSERT_STREQ(str(source(top, 0), "src"), "10.0.0.1", "first");
	ASSERT_STREQ(str(source(top, 1), "src"), "10.0.0.2", "second");
	ASSERT_STREQ(str(source(top, 2), "src"), "10.0.0.3", "third");
	ASSERT_EQ(num(source(top, 0), "samples"), 50, "samples");
	ASSERT_EQ(num(source(top, 0), "est_drops"), 50, "unweighted samples stand for one drop each");
	ASSERT_EQ(num(source(top, 0), "est_pps"), 5, "over the 10 s window");
	ASSERT_STREQ(str(source(top, 0), "dev"), "eth0", "dev");
	ASSERT_STREQ(str(source(top, 0), "reason"), "rate-pps", "reason");
	ASSERT_STREQ(str(source(top, 0), "proto"), "udp", "proto");
	ASSERT_EQ(num(source(top, 0), "rule"), 7, "rule");
	json_object_put(top);
	top = perimd_drops_agg_json(a, -1, 2, T0, info, &pps);
	ASSERT_TRUE(source(top, 1) && !source(top, 2), "rows bound the list");
	json_object_put(top);
	perimd_drops_agg_free(a);
}

/* A source seen on a busy CPU (few samples, heavy) outranks one sampled in full on an idle CPU. */
static void test_ranks_by_weight_not_sample_count(void)
{
	struct perimd_drops_agg *a = perimd_drops_agg_new();
	struct perim_drop_event heavy = ev4(0, "10.0.0.1", T0), light = ev4(0, "10.0.0.2", T0);
	struct json_object *top;

	if (!ASSERT_OK_PTR(a, "new"))
		return;
	heavy.weight = 40;
	light.weight = 1;
	add_n(a, heavy, 10, T0);
	add_n(a, light, 30, T0);
	top = perimd_drops_agg_json(a, -1, 20, T0, info, NULL);
	ASSERT_STREQ(str(source(top, 0), "src"), "10.0.0.1", "heavier first");
	ASSERT_EQ(num(source(top, 0), "est_drops"), 400, "weights summed");
	ASSERT_EQ(num(source(top, 0), "samples"), 10, "its samples");
	ASSERT_EQ(num(source(top, 1), "est_drops"), 30, "the light one");
	json_object_put(top);
	perimd_drops_agg_free(a);
}

static void test_window_expires_old_samples(void)
{
	struct perimd_drops_agg *a = perimd_drops_agg_new();
	struct json_object *top;

	if (!ASSERT_OK_PTR(a, "new"))
		return;
	add_n(a, ev4(0, "10.0.0.1", T0 - PERIMD_TOP_WINDOW_S * SEC), 5, T0);  /* already outside */
	add_n(a, ev4(0, "10.0.0.2", T0), 5, T0);
	top = perimd_drops_agg_json(a, -1, 20, T0, info, NULL);
	ASSERT_STREQ(str(source(top, 0), "src"), "10.0.0.2", "only the recent source");
	ASSERT_TRUE(!source(top, 1), "the old one is not counted");
	json_object_put(top);
	top = perimd_drops_agg_json(a, -1, 20, T0 + (PERIMD_TOP_WINDOW_S - 1) * SEC, info, NULL);
	ASSERT_EQ(num(source(top, 0), "samples"), 5, "still inside at the window's last second");
	json_object_put(top);
	top = perimd_drops_agg_json(a, -1, 20, T0 + PERIMD_TOP_WINDOW_S * SEC, info, NULL);
	ASSERT_TRUE(!source(top, 0), "aged out");
	json_object_put(top);
	perimd_drops_agg_free(a);
}

static void test_filters_interface_and_formats_ipv6(void)
{
	struct perimd_drops_agg *a = perimd_drops_agg_new();
	struct perim_drop_event e = ev4(1, "10.9.9.9", T0);
	struct json_object *top;

	if (!ASSERT_OK_PTR(a, "new"))
		return;
	memset(e.src, 0, sizeof(e.src));
	inet_pton(AF_INET6, "2001:db8::7", e.src);
	e.reason = PERIM_REASON_DENY;
	add_n(a, e, 3, T0);
	add_n(a, ev4(0, "10.0.0.1", T0), 9, T0);
	top = perimd_drops_agg_json(a, 1, 20, T0, info, NULL);
	ASSERT_STREQ(str(source(top, 0), "src"), "2001:db8::7", "IPv6 source");
	ASSERT_STREQ(str(source(top, 0), "dev"), "eth1", "dev");
	ASSERT_STREQ(str(source(top, 0), "reason"), "deny", "reason");
	ASSERT_TRUE(!source(top, 1), "eth0's source filtered out");
	json_object_put(top);
	perimd_drops_agg_free(a);
}

static void test_source_table_is_bounded(void)
{
	struct perimd_drops_agg *a = perimd_drops_agg_new();
	struct json_object *top, *totals, *t;
	char ip[32];
	int n = PERIMD_TOP_MAX_SOURCES + 100;

	if (!ASSERT_OK_PTR(a, "new"))
		return;
	for (int i = 0; i < n; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 250, i % 250);
		add_n(a, ev4(0, ip, T0), 1, T0);
	}
	top = perimd_drops_agg_json(a, 0, 20, T0, info, NULL);
	json_object_object_get_ex(top, "totals", &totals);
	t = json_object_array_get_idx(totals, 0);
	ASSERT_EQ(num(t, "samples"), n, "every sample counted");
	ASSERT_EQ(num(t, "untracked"), 100, "samples beyond the table");
	json_object_put(top);
	/* Once the flood has aged out, the table has room again. */
	add_n(a, ev4(0, "192.0.2.1", T0 + PERIMD_TOP_WINDOW_S * SEC), 4, T0 + PERIMD_TOP_WINDOW_S * SEC);
	top = perimd_drops_agg_json(a, 0, 20, T0 + PERIMD_TOP_WINDOW_S * SEC, info, NULL);
	ASSERT_STREQ(str(source(top, 0), "src"), "192.0.2.1", "tracked after the sweep");
	ASSERT_EQ(num(source(top, 0), "samples"), 4, "its samples");
	json_object_put(top);
	perimd_drops_agg_free(a);
}
