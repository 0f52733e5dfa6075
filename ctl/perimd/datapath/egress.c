// SPDX-License-Identifier: GPL-2.0
/*
 * perimd's egress side: the shapers of the model put in the kernel (the
 * commit's step, and again when a link comes back), and the egress program
 * that enforces dir egress limits (tc.h), kept attached while a slot has
 * such limits.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "datapath/egress.h"
#include "log.h"
#include "procs/cgroup_path.h"
#include "links/shaper.h"
#include "model/rules.h"
#include "model/shapes.h"
#include "datapath/tc.h"
#include "cmd.h"
#include "perim.h"
#include "json_add.h"

struct json_object *perimd_egress_shaper_json(struct perimd *d, int slot, bool with_counters)
{
	const struct perim_shape_spec *s = &d->model->shapes[slot].spec;
	const char *dev = d->model->ifaces[slot].dev;
	struct perim_qdisc_info root, child;
	struct json_object *o = json_object_new_object();
	int ifindex = if_nametoindex(dev);
	char err[256];

	json_add_str(o, "dev", dev);
	json_add_int(o, "rate_bits", s->rate_bits);
	json_add_int(o, "burst_bytes", s->burst_bytes);
	json_add_int(o, "latency_ms", s->latency_ms ? s->latency_ms : PERIM_SHAPE_LATENCY_MS_DEFAULT);
	if (!ifindex || perim_shaper_read(ifindex, &root, &child, err, sizeof(err))) {
		json_object_object_add(o, "installed", json_object_new_boolean(false));
		json_add_str(o, "root", NULL);
		return o;
	}
	json_object_object_add(o, "installed",
			       json_object_new_boolean(perim_shaper_owner(&root) == PERIM_ROOT_PERIM));
	json_object_object_add(o, "root", perim_qdisc_json(&root));
	json_add_str(o, "queue", child.present ? child.kind : "tbf-fifo");
	if (with_counters)
		json_object_object_add(o, "child", perim_qdisc_json(&child));
	return o;
}

/*
 * Shapers of every slot whose shaper `to` changes from `from` (NULL: none
 * installed) into the kernel; a device not present gets its shaper when it
 * appears (perimd_egress_link_back). On failure the slots already changed
 * are put back as `from` has them.
 */
static int apply_shapes(const struct perim_model *from, const struct perim_model *to, int upto,
			char *err, size_t errlen)
{
	for (int s = 0; s < upto; s++) {
		const char *dev;
		int ifindex, ret;

		if (!perim_model_shape_changed(from, to, s))
			continue;
		dev = (to->ifaces[s].used ? to : from)->ifaces[s].dev;
		ifindex = if_nametoindex(dev);
		if (!ifindex)
			continue;
		if (to->ifaces[s].used && to->shapes[s].used)
			ret = perim_shaper_apply(dev, ifindex, &to->shapes[s].spec, err, errlen);
		else
			ret = perim_shaper_remove(dev, ifindex, err, errlen);
		if (ret) {
			char undo_err[256];

			if (from && apply_shapes(to, from, s, undo_err, sizeof(undo_err)))
				pr_warn("perimd: undoing a shaper change: %s\n", undo_err);
			return ret;
		}
	}
	return 0;
}

int perimd_egress_shapes_apply(const struct perim_model *from, const struct perim_model *to,
			       char *err, size_t errlen)
{
	return apply_shapes(from, to, PERIM_MAX_IFACES, err, errlen);
}

/* ---- the egress program ---- */

static bool slot_has_egress_rules(const struct perimd *d, int slot)
{
	for (uint32_t id = 1; id < d->model->rules_end; id++)
		if (d->model->rules[id].used && d->model->rules[id].iface == slot && d->model->rules[id].spec.egress)
			return true;
	return false;
}

static int tc_ensure(struct perimd *d, int slot, char *err, size_t errlen)
{
	struct perim_tc_attachment *a = &d->egress.tc[slot];
	const char *dev = d->model->ifaces[slot].dev;
	int ifindex = if_nametoindex(dev);

	if (!ifindex) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: no such interface", dev);
		return PERIM_EXIT_BADINPUT;
	}
	/* Ours and still there (not lost with a re-created NIC or a removed clsact): nothing to do. */
	if (a->attached && a->ifindex == ifindex && perim_tc_query(ifindex) == a->prog_id)
		return 0;
	if (perim_tc_attach(&d->loader, dev, ifindex, slot, a, err, errlen))
		return PERIM_EXIT_FAIL;
	pr_info("perimd: %s: egress program attached (prog id %u)\n", dev, a->prog_id);
	return 0;
}

int perimd_egress_limit_prepare(struct perimd *d, int slot, struct perim_limit_spec *spec,
				char *err, size_t errlen)
{
	int ret;

	if (spec->cgroup[0]) {
		ret = perimd_cgroup_resolve(spec->cgroup, spec->cgroup, &spec->cgroup_id, err, errlen);
		if (ret && d->restoring) {
			pr_warn("perimd: %s; the rule matches nothing until it is set again\n", err);
			spec->cgroup_id = 0;
			ret = 0;
		}
		if (ret)
			return ret;
	}
	return d->restoring ? 0 : tc_ensure(d, slot, err, errlen);
}

void perimd_egress_sync(struct perimd *d, int slot)
{
	const char *dev = d->model->ifaces[slot].dev;
	char err[512];

	if (d->model->ifaces[slot].used && slot_has_egress_rules(d, slot)) {
		if (if_nametoindex(dev) && tc_ensure(d, slot, err, sizeof(err)))
			pr_warn("perimd: %s: %s\n", dev, err);
		return;
	}
	if (d->egress.tc[slot].attached && perim_tc_detach(&d->egress.tc[slot], err, sizeof(err)))
		pr_warn("perimd: %s: %s\n", dev, err);
}

void perimd_egress_sync_all(struct perimd *d)
{
	for (int s = 0; s < PERIM_MAX_IFACES; s++)
		perimd_egress_sync(d, s);
}

/* The egress program's counters of slot, summed over the CPUs; -errno. */
static int egress_counters(struct perimd *d, int slot, struct perim_if_counters *out)
{
	int ncpus = libbpf_num_possible_cpus(), fd, ret = 0;
	struct perim_if_counters *percpu;
	char path[4200];
	__u32 key = slot;

	memset(out, 0, sizeof(*out));
	if (ncpus <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", d->cfg.pin_root, PERIM_MAP_EGRESS_IF_STATS);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	percpu = calloc(ncpus, sizeof(*percpu));
	if (!percpu)
		ret = -ENOMEM;
	else if (bpf_map_lookup_elem(fd, &key, percpu) < 0)
		ret = -errno;
	for (int c = 0; !ret && c < ncpus; c++) {
		const __u64 *in = (const __u64 *)&percpu[c];
		__u64 *acc = (__u64 *)out;

		for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
			acc[i] += in[i];
	}
	free(percpu);
	close(fd);
	return ret;
}

static struct json_object *egress_json(struct perimd *d, int slot)
{
	const struct perim_tc_attachment *a = &d->egress.tc[slot];
	struct json_object *o = json_object_new_object(), *c, *dropped;
	struct perim_if_counters ic;

	json_object_object_add(o, "attached", json_object_new_boolean(a->attached));
	json_add_int(o, "prog_id", a->attached ? perim_tc_query(a->ifindex) : 0);
	if (egress_counters(d, slot, &ic)) {
		json_object_object_add(o, "counters", NULL);
		return o;
	}
	c = json_object_new_object();
	dropped = json_object_new_object();
	json_add_int(c, "tx_packets", ic.rx_packets);
	json_add_int(c, "tx_bytes", ic.rx_bytes);
	json_add_int(c, "passed_packets", ic.passed_packets);
	json_add_int(c, "passed_bytes", ic.passed_bytes);
	json_add_int(c, "would_drop_packets", ic.would_drop_packets);
	for (int r = 1; r < PERIM_REASON_MAX; r++) {
		struct json_object *one = json_object_new_object();

		json_add_int(one, "packets", ic.dropped_packets[r]);
		json_add_int(one, "bytes", ic.dropped_bytes[r]);
		json_object_object_add(dropped, perim_reason_names[r], one);
	}
	json_object_object_add(c, "dropped", dropped);
	json_object_object_add(o, "counters", c);
	return o;
}

void perimd_egress_stats_json(struct perimd *d, int slot, struct json_object *iface)
{
	json_object_object_add(iface, "shaper", d->model->shapes[slot].used ? perimd_egress_shaper_json(d, slot, true) : NULL);
	json_object_object_add(iface, "egress", egress_json(d, slot));
}

void perimd_egress_link_back(struct perimd *d, int slot)
{
	const char *dev = d->model->ifaces[slot].dev;
	char err[512];
	int ifindex;

	if (!d->model->ifaces[slot].used)
		return;
	perimd_egress_sync(d, slot);
	ifindex = if_nametoindex(dev);
	if (!ifindex || !d->model->shapes[slot].used)
		return;
	if (perim_shaper_apply(dev, ifindex, &d->model->shapes[slot].spec, err, sizeof(err)))
		pr_warn("perimd: %s: re-installing the shaper: %s\n", dev, err);
	else
		pr_info("perimd: %s: shaper re-installed\n", dev);
}

void perimd_egress_forget(struct perimd *d, int slot)
{
	const char *dev = d->model->ifaces[slot].dev;
	char err[512];

	if (perim_tc_detach(&d->egress.tc[slot], err, sizeof(err)))
		pr_warn("perimd: %s: removing the egress program on detach: %s\n", dev, err);
}
