// SPDX-License-Identifier: GPL-2.0
/*
 * `top`: perimd's side of sampled drop events. The datapath submits them to
 * the pinned ring perim_drops without waking anyone (include/perim_drops.h);
 * perimd drains that ring on a PERIMD_DROPS_DRAIN_MS timer into the sliding
 * window of drops_agg.c and answers `top` from it.
 *
 * Started by the first `top`: until someone looks, perimd pays nothing and
 * the ring simply stays full (the datapath's reserve fails, which is cheap).
 * Samples older than the window are ignored, so a backlog does not skew it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "drops.h"
#include "drops_agg.h"
#include "log.h"

struct perimd_drops {
	struct perimd *d;
	struct perimd_drops_agg *agg;
	struct ring_buffer *rb;
	int ring_fd;
};

/* One per daemon; lives until perimd exits. */
static struct perimd_drops *drops;

static int on_sample(void *ctx, void *data, size_t size)
{
	struct perimd_drops *dr = ctx;

	if (size < sizeof(struct perim_drop_event))
		return 0;   /* a producer with an older, shorter event: not ours to guess */
	perimd_drops_agg_add(dr->agg, data, perimd_now_ns());
	return 0;
}

static void drain(struct perimd_drops *dr)
{
	int n = ring_buffer__consume(dr->rb);

	if (n < 0)
		pr_warn("perimd: draining %s: %s\n", PERIM_MAP_DROPS, strerror(-n));
}

static int on_drain_timer(void *ctx, int fd, uint32_t events)
{
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		pr_warn("perimd: drop sample timer: %s\n", strerror(errno));
	drain(ctx);
	return 0;
}

static void free_drops(struct perimd_drops *dr)
{
	ring_buffer__free(dr->rb);
	if (dr->ring_fd >= 0)
		close(dr->ring_fd);
	perimd_drops_agg_free(dr->agg);
	free(dr);
}

/* -ENOENT: the datapath does not sample drops (no ring pinned). */
static int start(struct perimd *d, char *err, size_t errlen)
{
	struct perimd_drops *dr = calloc(1, sizeof(*dr));
	char path[4200];
	int ret;

	if (!dr)
		return -ENOMEM;
	dr->d = d;
	snprintf(path, sizeof(path), "%s/%s", d->cfg.pin_root, PERIM_MAP_DROPS);
	dr->ring_fd = bpf_obj_get(path);
	if (dr->ring_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%.300s: %s", path, strerror(-ret));
		free_drops(dr);
		return ret;
	}
	dr->agg = perimd_drops_agg_new();
	dr->rb = ring_buffer__new(dr->ring_fd, on_sample, dr, NULL);
	if (!dr->agg || !dr->rb) {
		ret = dr->agg ? -errno : -ENOMEM;
		snprintf(err, errlen, "reading %.300s: %s", path, strerror(-ret));
		free_drops(dr);
		return ret;
	}
	ret = perim_loop_every(d->loop, PERIMD_DROPS_DRAIN_MS, on_drain_timer, dr);
	if (ret < 0) {
		snprintf(err, errlen, "drain timer: %s", strerror(-ret));
		free_drops(dr);
		return ret;
	}
	pr_info("perimd: top: draining %s every %d ms\n", path, PERIMD_DROPS_DRAIN_MS);
	drops = dr;
	return 0;
}

/* The interface's name and its dropped packets per second over the last 1 Hz sample. */
static const char *slot_info(void *ctx, int slot, double *dropped_pps)
{
	struct perimd *d = ctx;
	const struct perimd_stats *s = &d->stats;
	uint64_t a, b;

	if (slot < 0 || slot >= PERIM_MAX_IFACES || !d->model->ifaces[slot].used)
		return NULL;
	*dropped_pps = 0;
	a = s->prev->ifc[slot].dropped_packets;
	b = s->last->ifc[slot].dropped_packets;
	if (s->n_samples >= 2 && b >= a && s->last->time_ns > s->prev->time_ns)
		*dropped_pps = (b - a) * 1e9 / (s->last->time_ns - s->prev->time_ns);
	return d->model->ifaces[slot].dev;
}

static struct json_object *not_sampling(const char *why)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "sampling", json_object_new_boolean(false));
	json_object_object_add(o, "reason", json_object_new_string(why));
	json_object_object_add(o, "sources", json_object_new_array());
	return o;
}

int perimd_drops_top(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		     char *err, size_t errlen)
{
	int slot = -1, ret;
	char why[512];

	if (cmd->dev[0] && (slot = perim_model_iface_find(d->model, cmd->dev)) < 0) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: perim is not attached to this interface",
			 cmd->dev);
		return PERIM_EXIT_BADINPUT;
	}
	if (!drops) {
		ret = start(d, why, sizeof(why));
		if (ret == -ENOENT) {
			*result = not_sampling("the datapath does not sample drops (no " PERIM_MAP_DROPS " ring pinned)");
			return 0;
		}
		if (ret) {
			snprintf(err, errlen, "top: %s", why);
			return PERIM_EXIT_FAIL;
		}
	}
	drain(drops);
	*result = perimd_drops_agg_json(drops->agg, slot, PERIMD_TOP_ROWS_DEFAULT, perimd_now_ns(), slot_info, d);
	if (!*result) {
		snprintf(err, errlen, "top: out of memory");
		return PERIM_EXIT_FAIL;
	}
	json_object_object_add(*result, "sampling", json_object_new_boolean(true));
	return 0;
}
