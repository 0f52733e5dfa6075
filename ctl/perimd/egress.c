// SPDX-License-Identifier: GPL-2.0
/*
 * perimd's egress side: the shaper of an attached interface (shape
 * commands: like the limit commands, a change is made in the kernel first,
 * then persisted; a failed state write undoes the kernel change), and the
 * egress program that enforces dir egress limits (tc.h), kept attached
 * while a slot has such limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup2.h"
#include "daemon.h"
#include "egress.h"
#include "log.h"
#include "shaper.h"
#include "state.h"

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* The state file's shape lines, after the model's. */
static int write_shape_lines(void *ctx, FILE *f)
{
	struct perimd *d = ctx;
	char line[256];

	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		if (!d->egress.shaped[s] || !d->model->ifaces[s].used)
			continue;
		if (perim_shape_format(d->model->ifaces[s].dev, &d->egress.shape[s], line, sizeof(line)) < 0)
			return -EINVAL;
		fprintf(f, "%s\n", line);
	}
	return 0;
}

static int persist(struct perimd *d, char *err, size_t errlen)
{
	perimd_state_set_extra(write_shape_lines, d);
	if (d->restoring)
		return 0;
	return perimd_state_write(d->cfg.state, d->model, err, errlen) ? PERIM_EXIT_FAIL : 0;
}

static int attached_slot(struct perimd *d, const char *dev, char *err, size_t errlen)
{
	int slot = perim_model_iface_find(d->model, dev);

	if (slot < 0)
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: perim is not attached to this interface", dev);
	return slot;
}

static int present_ifindex(const char *dev, char *err, size_t errlen)
{
	int ifindex = if_nametoindex(dev);

	if (!ifindex)
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: no such interface", dev);
	return ifindex;
}

static struct json_object *shaper_json(struct perimd *d, int slot, bool with_counters)
{
	const struct perim_shape_spec *s = &d->egress.shape[slot];
	const char *dev = d->model->ifaces[slot].dev;
	struct perim_qdisc_info root, child;
	struct json_object *o = json_object_new_object();
	int ifindex = if_nametoindex(dev);
	char err[256];

	add_str(o, "dev", dev);
	add_int(o, "rate_bits", s->rate_bits);
	add_int(o, "burst_bytes", s->burst_bytes);
	add_int(o, "latency_ms", s->latency_ms ? s->latency_ms : PERIM_SHAPE_LATENCY_MS_DEFAULT);
	if (!ifindex || perim_shaper_read(ifindex, &root, &child, err, sizeof(err))) {
		json_object_object_add(o, "installed", json_object_new_boolean(false));
		add_str(o, "root", NULL);
		return o;
	}
	json_object_object_add(o, "installed",
			       json_object_new_boolean(perim_shaper_owner(&root) == PERIM_ROOT_PERIM));
	json_object_object_add(o, "root", perim_qdisc_json(&root));
	add_str(o, "queue", child.present ? child.kind : "tbf-fifo");
	if (with_counters)
		json_object_object_add(o, "child", perim_qdisc_json(&child));
	return o;
}

static int shape_set(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		     char *err, size_t errlen)
{
	int slot = attached_slot(d, cmd->dev, err, errlen), ifindex, ret;
	struct perim_shape_spec before = d->egress.shape[slot < 0 ? 0 : slot];
	bool was_shaped = slot >= 0 && d->egress.shaped[slot];
	char undo_err[256];

	if (slot < 0)
		return PERIM_EXIT_BADINPUT;
	ifindex = present_ifindex(cmd->dev, err, errlen);
	if (!ifindex && d->restoring) {
		/* Restored now, installed when the device appears (perimd_egress_link_back). */
		pr_warn("perimd: %s: not present; its shaper is installed when it appears\n", cmd->dev);
		ret = 0;
	} else if (!ifindex) {
		return PERIM_EXIT_BADINPUT;
	} else {
		ret = perim_shaper_apply(cmd->dev, ifindex, &cmd->shape, err, errlen);
	}
	if (ret)
		return ret;
	d->egress.shaped[slot] = true;
	d->egress.shape[slot] = cmd->shape;
	d->egress.shape[slot].force = false;
	ret = persist(d, err, errlen);
	if (ret) {
		d->egress.shaped[slot] = was_shaped;
		d->egress.shape[slot] = before;
		if (was_shaped ? perim_shaper_apply(cmd->dev, ifindex, &before, undo_err, sizeof(undo_err))
			       : perim_shaper_remove(cmd->dev, ifindex, undo_err, sizeof(undo_err)))
			pr_warn("perimd: undoing a shaper change whose state write failed: %s\n", undo_err);
		return ret;
	}
	*result = shaper_json(d, slot, false);
	return 0;
}

static int shape_del(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		     char *err, size_t errlen)
{
	int slot = attached_slot(d, cmd->dev, err, errlen), ifindex, ret;

	if (slot < 0)
		return PERIM_EXIT_BADINPUT;
	if (!d->egress.shaped[slot]) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: perim has no shaper on this interface",
			 cmd->dev);
		return PERIM_EXIT_BADINPUT;
	}
	ifindex = if_nametoindex(cmd->dev);
	if (ifindex) {
		ret = perim_shaper_remove(cmd->dev, ifindex, err, errlen);
		if (ret)
			return ret;
	}
	d->egress.shaped[slot] = false;
	ret = persist(d, err, errlen);
	if (ret) {
		char undo_err[256];

		d->egress.shaped[slot] = true;
		if (ifindex && perim_shaper_apply(cmd->dev, ifindex, &d->egress.shape[slot], undo_err,
						  sizeof(undo_err)))
			pr_warn("perimd: undoing a shaper removal whose state write failed: %s\n", undo_err);
		return ret;
	}
	*result = json_object_new_object();
	add_str(*result, "dev", cmd->dev);
	return 0;
}

static int shape_list(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		      char *err, size_t errlen)
{
	struct json_object *list;
	int only = -1;

	if (cmd->dev[0] && (only = attached_slot(d, cmd->dev, err, errlen)) < 0)
		return PERIM_EXIT_BADINPUT;
	list = json_object_new_array();
	for (int s = 0; s < PERIM_MAX_IFACES; s++)
		if (d->model->ifaces[s].used && d->egress.shaped[s] && (only < 0 || s == only))
			json_object_array_add(list, shaper_json(d, s, false));
	*result = json_object_new_object();
	json_object_object_add(*result, "shapers", list);
	return 0;
}

int perimd_egress_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		       char *err, size_t errlen)
{
	*result = NULL;
	switch (cmd->kind) {
	case PERIM_CMD_SHAPE_SET:  return shape_set(d, cmd, result, err, errlen);
	case PERIM_CMD_SHAPE_DEL:  return shape_del(d, cmd, result, err, errlen);
	case PERIM_CMD_SHAPE_LIST: return shape_list(d, cmd, result, err, errlen);
	default:
		snprintf(err, errlen, "Error: this command is not an egress command");
		return PERIM_EXIT_BADINPUT;
	}
}

/* ---- the egress program ---- */

/* The cgroup v2 id of a directory: its file handle, as the kernel's cgroup_id(). */
static int cgroup_id_of(const char *path, uint64_t *id, char *err, size_t errlen)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	struct statfs st;
	char mnt[256];
	int mount_id;

	if (statfs(path, &st) < 0) {
		int e = errno;

		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s", path,
			 perimd_cgroup2_mount(mnt, sizeof(mnt)) ? strerror(e) : PERIMD_NO_CGROUP2);
		return PERIM_EXIT_BADINPUT;
	}
	if (st.f_type != CGROUP2_SUPER_MAGIC) {
		if (!perimd_cgroup2_mount(mnt, sizeof(mnt)))
			snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s", path, PERIMD_NO_CGROUP2);
		else
			snprintf(err, errlen, "Error: argument \"%s\" is wrong: not in a cgroup v2 hierarchy "
				 "(it is mounted on %s)", path, mnt);
		return PERIM_EXIT_BADINPUT;
	}
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0 || h.fh.handle_bytes != sizeof(*id)) {
		snprintf(err, errlen, "reading the cgroup id of %s: %s", path, strerror(errno));
		return PERIM_EXIT_FAIL;
	}
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

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
		ret = cgroup_id_of(spec->cgroup, &spec->cgroup_id, err, errlen);
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
	add_int(o, "prog_id", a->attached ? perim_tc_query(a->ifindex) : 0);
	if (egress_counters(d, slot, &ic)) {
		json_object_object_add(o, "counters", NULL);
		return o;
	}
	c = json_object_new_object();
	dropped = json_object_new_object();
	add_int(c, "tx_packets", ic.rx_packets);
	add_int(c, "tx_bytes", ic.rx_bytes);
	add_int(c, "passed_packets", ic.passed_packets);
	add_int(c, "passed_bytes", ic.passed_bytes);
	add_int(c, "would_drop_packets", ic.would_drop_packets);
	for (int r = 1; r < PERIM_REASON_MAX; r++) {
		struct json_object *one = json_object_new_object();

		add_int(one, "packets", ic.dropped_packets[r]);
		add_int(one, "bytes", ic.dropped_bytes[r]);
		json_object_object_add(dropped, perim_reason_names[r], one);
	}
	json_object_object_add(c, "dropped", dropped);
	json_object_object_add(o, "counters", c);
	return o;
}

void perimd_egress_stats_json(struct perimd *d, int slot, struct json_object *iface)
{
	json_object_object_add(iface, "shaper", d->egress.shaped[slot] ? shaper_json(d, slot, true) : NULL);
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
	if (!ifindex || !d->egress.shaped[slot])
		return;
	if (perim_shaper_apply(dev, ifindex, &d->egress.shape[slot], err, sizeof(err)))
		pr_warn("perimd: %s: re-installing the shaper: %s\n", dev, err);
	else
		pr_info("perimd: %s: shaper re-installed\n", dev);
}

void perimd_egress_forget(struct perimd *d, int slot)
{
	const char *dev = d->model->ifaces[slot].dev;
	int ifindex = if_nametoindex(dev);
	char err[512];

	if (d->egress.shaped[slot] && ifindex && perim_shaper_remove(dev, ifindex, err, sizeof(err)))
		pr_warn("perimd: %s: removing the shaper on detach: %s\n", dev, err);
	if (perim_tc_detach(&d->egress.tc[slot], err, sizeof(err)))
		pr_warn("perimd: %s: removing the egress program on detach: %s\n", dev, err);
	d->egress.shaped[slot] = false;
	perimd_state_set_extra(write_shape_lines, d);
}
