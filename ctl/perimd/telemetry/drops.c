// SPDX-License-Identifier: GPL-2.0
/*
 * `top`: perimd's side of sampled drop events. The datapath submits them to
 * the pinned ring perim_drops without waking anyone (include/perim_drops.h);
 * perimd drains that ring on a PERIMD_DROPS_DRAIN_MS timer into the sliding
 * window of drops_agg.c and answers `top` from it.
 *
 * While the tracers run, perimd drains from the start (perimd_drops_follow)
 * and also publishes every sample as an "xdp_drop" event, attributed to the
 * local process listening on its destination (listeners.h). Without the
 * tracers the drain starts with the first `top`: until someone looks, perimd
 * pays nothing and the ring simply stays full (the datapath's reserve fails,
 * which is cheap). Samples older than the window are ignored, so a backlog
 * does not skew `top`.
 *
 * Cost: the datapath sends at most --drop-sample-rate samples (default
 * PERIM_DROP_SAMPLE_RATE_DEFAULT) per second and CPU; each costs perimd a
 * linear listener lookup and one JSON line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "events/bus.h"
#include "telemetry/drops.h"
#include "telemetry/drops_agg.h"
#include "telemetry/ring_pos.h"
#include "events/events_json.h"
#include "procs/listeners.h"
#include "log.h"
#include "loop.h"
#include "model/rules.h"
#include "telemetry/stats.h"
#include "cmd.h"
#include "perim_drops.h"
#include "perim.h"
#include "names.h"

#define RING_RETRY_NS 1000000000ull   /* no ring yet (no interface attached): look again after */

struct perimd_drops {
	struct perimd *d;
	struct perimd_drops_agg *agg;
	struct ring_buffer *rb;
	int ring_fd;
	uint64_t ring_tried_ns;
	uint64_t received;                 /* samples drained since perimd started */
};

/* One per daemon; lives until perimd exits. */
static struct perimd_drops *drops;

static const char *slot_dev(struct perimd *d, unsigned slot)
{
	return slot < PERIM_MAX_IFACES && d->model->ifaces[slot].used ? d->model->ifaces[slot].dev : NULL;
}

/* The sample as an "xdp_drop" event, naming the TCP or UDP listener it was meant for. */
static void publish_drop(struct perimd_drops *dr, const struct perim_drop_event *e)
{
	struct perimd_bus *bus = dr->d->bus;
	const struct perimd_listener *ln = NULL;

	if ((e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP) && e->dport)
		ln = perimd_listeners_find(dr->d->listeners, e->proto, e->dst, e->dport);
	perimd_bus_publish_drop(bus, e, slot_dev(dr->d, e->slot), perimd_drop_reason_name(e->reason),
				ln ? ln->pid : 0, ln ? ln->start_ns : 0);
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct perimd_drops *dr = ctx;

	if (size < sizeof(struct perim_drop_event))
		return 0;   /* a producer with an older, shorter event: not ours to guess */
	dr->received++;
	perimd_drops_agg_add(dr->agg, data, perim_mono_ns());
	if (dr->d->bus)
		publish_drop(dr, data);
	return 0;
}

static int open_ring(struct perimd_drops *dr, char *err, size_t errlen);

static void drain(struct perimd_drops *dr)
{
	char why[512];
	int n;

	if (!dr->rb) {
		if (perim_mono_ns() - dr->ring_tried_ns < RING_RETRY_NS)
			return;
		n = open_ring(dr, why, sizeof(why));
		if (n == -ENOENT)
			return;
		if (n) {
			pr_warn("perimd: drop samples: %s\n", why);
			return;
		}
	}
	n = ring_buffer__consume(dr->rb);
	if (n < 0)
		pr_warn("perimd: draining %s: %s\n", PERIM_MAP_DROPS, strerror(-n));
	if (n > 0 && dr->d->bus)
		perimd_bus_flush(dr->d->bus);
}

/* The loop has read the timerfd already (perim_loop_every). */
static int on_drain_timer(void *ctx, int fd, uint32_t events)
{
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

static void ring_path(const struct perimd *d, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", d->cfg.pin_root, PERIM_MAP_DROPS);
}

/* -ENOENT: the datapath does not sample drops (no ring pinned, yet or at all). */
static int open_ring(struct perimd_drops *dr, char *err, size_t errlen)
{
	char path[4200];
	int ret;

	dr->ring_tried_ns = perim_mono_ns();
	ring_path(dr->d, path, sizeof(path));
	dr->ring_fd = bpf_obj_get(path);
	if (dr->ring_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%.300s: %s", path, strerror(-ret));
		return ret;
	}
	dr->rb = ring_buffer__new(dr->ring_fd, on_sample, dr, NULL);
	if (!dr->rb) {
		ret = -errno;
		snprintf(err, errlen, "reading %.300s: %s", path, strerror(-ret));
		close(dr->ring_fd);
		dr->ring_fd = -1;
		return ret;
	}
	pr_info("perimd: drop samples: draining %s every %d ms%s\n", path, PERIMD_DROPS_DRAIN_MS,
		dr->d->bus ? ", publishing xdp_drop events" : "");
	return 0;
}

/*
 * The drain state and its timer. require_ring: fail (-ENOENT) without a
 * ring, as `top` wants; else the timer keeps looking for one.
 */
static int start(struct perimd *d, bool require_ring, char *err, size_t errlen)
{
	struct perimd_drops *dr = calloc(1, sizeof(*dr));
	int ret;

	if (!dr)
		return -ENOMEM;
	dr->d = d;
	dr->ring_fd = -1;
	dr->agg = perimd_drops_agg_new();
	if (!dr->agg) {
		snprintf(err, errlen, "out of memory");
		free_drops(dr);
		return -ENOMEM;
	}
	ret = open_ring(dr, err, errlen);
	if (ret && (require_ring || ret != -ENOENT)) {
		free_drops(dr);
		return ret;
	}
	ret = perim_loop_every(d->loop, PERIMD_DROPS_DRAIN_MS, on_drain_timer, dr);
	if (ret < 0) {
		snprintf(err, errlen, "drain timer: %s", strerror(-ret));
		free_drops(dr);
		return ret;
	}
	drops = dr;
	return 0;
}

void perimd_drops_follow(struct perimd *d)
{
	char why[512];
	int ret;

	if (drops || !d->bus)
		return;
	ret = start(d, false, why, sizeof(why));
	if (ret)
		pr_warn("perimd: drop samples will not be published: %s\n", why);
}

/* A ring unpinned since it was opened: the datapath no longer samples (as far as top can say). */
static bool ring_pinned(const struct perimd *d)
{
	char path[4200];

	ring_path(d, path, sizeof(path));
	return access(path, F_OK) == 0;
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

/* Each source's latest sample named the local listener it was aimed at, when one listens on it. */
static void add_targets(struct perimd *d, struct json_object *top)
{
	struct json_object *sources = json_object_object_get(top, "sources");
	for (size_t i = 0; d->listeners && d->bus && i < json_object_array_length(sources); i++) {
		struct json_object *s = json_object_array_get_idx(sources, i);
		const char *proto = json_object_get_string(json_object_object_get(s, "proto"));
		uint16_t dport = json_object_get_int(json_object_object_get(s, "dport"));
		const char *dst = json_object_get_string(json_object_object_get(s, "dst"));
		uint8_t proto_nr = !strcmp(proto, "tcp") ? IPPROTO_TCP : !strcmp(proto, "udp") ? IPPROTO_UDP : 0;
		const struct perimd_listener *ln = NULL;
		uint8_t addr[16], v4[4];

		if (inet_pton(AF_INET, dst, v4) == 1)
			perim_addr_map_v4(addr, v4);
		else if (inet_pton(AF_INET6, dst, addr) != 1)
			continue;
		if (proto_nr && dport)
			ln = perimd_listeners_find(d->listeners, proto_nr, addr, dport);
		json_object_object_add(s, "target", ln ? perim_listener_json(perimd_bus_json_ctx(d->bus), ln->pid,
									     ln->start_ns) : NULL);
	}
}

/*
 * Does any attached program sample drops? Each has the rate it was loaded
 * with (an adopted one perhaps another than --drop-sample-rate; unknown
 * counts as sampling); with none attached, the rate the next one gets.
 */
static bool datapath_samples(const struct perimd *d)
{
	bool attached = false;

	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		if (!d->model->ifaces[s].used || !d->att[s].attached)
			continue;
		attached = true;
		if (d->att[s].drop_sample_rate)
			return true;
	}
	return !attached && d->cfg.drop_sample_rate;
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
	if (!datapath_samples(d)) {
		*result = not_sampling("drop sampling is off (perimd --drop-sample-rate 0)");
		return 0;
	}
	if (!drops) {
		ret = start(d, true, why, sizeof(why));
		if (ret == -ENOENT) {
			*result = not_sampling("the datapath does not sample drops (no " PERIM_MAP_DROPS " ring pinned)");
			return 0;
		}
		if (ret) {
			snprintf(err, errlen, "top: %s", why);
			return PERIM_EXIT_FAIL;
		}
	}
	if (!ring_pinned(d)) {
		*result = not_sampling("the datapath does not sample drops (no " PERIM_MAP_DROPS " ring pinned)");
		return 0;
	}
	drain(drops);
	*result = perimd_drops_agg_json(drops->agg, slot, PERIMD_TOP_ROWS_DEFAULT, perim_mono_ns(), slot_info, d);
	if (!*result) {
		snprintf(err, errlen, "top: out of memory");
		return PERIM_EXIT_FAIL;
	}
	add_targets(d, *result);
	json_object_object_add(*result, "sampling", json_object_new_boolean(true));
	return 0;
}

/* Samples the datapath has put on the pinned ring since it was created (survives perimd), or -errno. */
static long long ring_records(const struct perimd *d)
{
	bool draining = drops && drops->ring_fd >= 0;
	char path[4200];
	uint64_t consumer, producer;
	int fd, ret;

	if (draining) {
		fd = drops->ring_fd;
	} else {
		ring_path(d, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0)
			return -errno;
	}
	ret = perim_ring_positions(fd, &consumer, &producer);
	if (!draining)
		close(fd);
	return ret ? ret : (long long)(producer / PERIM_RING_RECORD_BYTES(sizeof(struct perim_drop_event)));
}

struct json_object *perimd_drops_status_json(struct perimd *d)
{
	struct json_object *o = json_object_new_object();
	long long sent;

	if (!o)
		return NULL;            /* status then shows "drop_samples": null */
	sent = ring_records(d);
	json_object_object_add(o, "rate", json_object_new_uint64(d->cfg.drop_sample_rate));
	json_object_object_add(o, "sent", sent >= 0 ? json_object_new_int64(sent) : NULL);
	json_object_object_add(o, "received", json_object_new_uint64(drops ? drops->received : 0));
	return o;
}
