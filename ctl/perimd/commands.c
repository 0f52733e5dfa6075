// SPDX-License-Identifier: GPL-2.0
/*
 * perimctl's commands, executed by perimd. A changing command edits a copy
 * of the model, applies it to the maps (transactionally), writes the state
 * file, and only then adopts the copy: a failure anywhere changes nothing.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "drops.h"
#include "log.h"
#include "state.h"
#include "syn/syn.h"

#define PERIMD_VERSION "0.1"

static int not_attached(const char *dev, char *err, size_t errlen)
{
	snprintf(err, errlen, "Error: argument \"%s\" is wrong: perim is not attached to this interface", dev);
	return PERIM_EXIT_BADINPUT;
}

static int slot_of(struct perimd *d, const char *dev, char *err, size_t errlen)
{
	int slot = perim_model_iface_find(d->model, dev);

	return slot < 0 ? -not_attached(dev, err, errlen) : slot;
}

/*
 * Make next the model: apply it, persist it, swap it in. On failure the maps
 * are back to the current model and next is freed.
 */
static int commit(struct perimd *d, struct perim_model *next, char *err, size_t errlen)
{
	char undo_err[256];
	int ret;

	if (d->restoring) {
		perim_model_free(d->model);
		d->model = next;
		return 0;
	}
	ret = perim_apply(&d->loader.maps, d->installed, next, err, errlen);
	if (ret) {
		perim_model_free(next);
		return ret;
	}
	ret = perimd_state_write(d->cfg.state, next, err, errlen);
	if (ret) {
		if (perim_apply(&d->loader.maps, d->installed, d->model, undo_err, sizeof(undo_err)))
			pr_warn("perimd: undoing a change whose state write failed: %s\n", undo_err);
		perim_model_free(next);
		return PERIM_EXIT_FAIL;
	}
	perim_model_free(d->model);
	d->model = next;
	return 0;
}

int perimd_commit_model(struct perimd *d, char *err, size_t errlen)
{
	int ret = perim_apply(&d->loader.maps, d->installed, d->model, err, errlen);

	if (!ret && perimd_state_write(d->cfg.state, d->model, err, errlen))
		ret = PERIM_EXIT_FAIL;
	if (!ret)
		perimd_egress_sync_all(d);
	return ret;
}

static struct perim_model *model_copy(struct perimd *d, char *err, size_t errlen)
{
	struct perim_model *next = perim_model_dup(d->model);

	if (!next)
		snprintf(err, errlen, "out of memory");
	return next;
}

/* ---- JSON helpers ---- */

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_bool(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

/* The device's name now, from the link cache: differs from "dev" after a rename away. */
static void kernel_name_json(struct perimd *d, const struct perim_attachment *a, struct json_object *o)
{
	char name[IF_NAMESIZE];

	add_str(o, "kernel_name", a->attached && d->nl && perimd_netlink_cached_name(d->nl, a->ifindex, name)
		? name : NULL);
}

/* {"dev","ifindex","slot","attached","kernel_name","mode","dispatcher","programs"[,"reason"]} */
static struct json_object *iface_json(struct perimd *d, int slot)
{
	struct json_object *o = json_object_new_object();
	const struct perim_attachment *a = &d->att[slot];

	add_str(o, "dev", d->model->ifaces[slot].dev);
	add_int(o, "ifindex", a->ifindex);
	add_int(o, "slot", slot);
	add_bool(o, "attached", a->attached);
	add_bool(o, "adopted", a->adopted);
	kernel_name_json(d, a, o);
	if (a->attached)
		perim_loader_describe(a->ifindex, o);
	else {
		add_str(o, "mode", NULL);
		add_str(o, "dispatcher", NULL);
	}
	return o;
}

/* ---- attach / detach ---- */

/*
 * A configured interface whose NIC was missing at start: attach it now with
 * its recorded slot, so the LPM entries already pinned for it apply at once.
 */
static int reattach(struct perimd *d, int slot, const struct perim_cmd *cmd, struct json_object **result,
		    char *err, size_t errlen)
{
	enum perim_xdp_mode mode = cmd->mode ? cmd->mode : d->model->ifaces[slot].mode;
	int ifindex = perimd_netlink_ifindex(d->nl, cmd->dev), ret;

	perimd_nicstats_rebase(&d->nic, slot, ifindex, perimd_stats_if_dropped(&d->stats, slot));
	ret = perim_loader_attach(&d->loader, cmd->dev, ifindex, slot, mode, &d->att[slot], err, errlen);
	if (ret)
		return ret;
	perimd_egress_link_back(d, slot);
	*result = iface_json(d, slot);
	return 0;
}

static int do_attach(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		     char *err, size_t errlen)
{
	struct perim_attachment a;
	struct perim_model *next;
	int slot, ret;

	slot = perim_model_iface_find(d->model, cmd->dev);
	if (slot >= 0 && !d->att[slot].attached && !d->restoring)
		return reattach(d, slot, cmd, result, err, errlen);
	if (slot >= 0) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: perim is already attached to this interface",
			 cmd->dev);
		return PERIM_EXIT_BADINPUT;
	}
	next = model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	ret = perim_model_iface_add(next, cmd->dev, cmd->mode, cmd->slot, err, errlen);
	if (ret) {
		perim_model_free(next);
		return ret;
	}
	slot = perim_model_iface_find(next, cmd->dev);
	/* The NIC-vs-perim drop comparison starts at the attach, not at the first stats call. */
	perimd_nicstats_rebase(&d->nic, slot, perimd_netlink_ifindex(d->nl, cmd->dev),
			       perimd_stats_if_dropped(&d->stats, slot));
	ret = perim_loader_attach(&d->loader, cmd->dev, perimd_netlink_ifindex(d->nl, cmd->dev), slot,
				  cmd->mode, &a, err, errlen);
	if (ret && d->restoring) {
		/* A NIC missing at start keeps its slot and rules; attach it again later. */
		pr_warn("perimd: %s\n", err);
		memset(&a, 0, sizeof(a));
		ret = 0;
	}
	if (ret) {
		perim_model_free(next);
		return ret;
	}
	ret = commit(d, next, err, errlen);
	if (ret) {
		char derr[256];

		if (!a.adopted && perim_loader_detach(&d->loader, &a, derr, sizeof(derr)))
			pr_warn("perimd: undoing attach of %s: %s\n", cmd->dev, derr);
		return ret;
	}
	d->att[slot] = a;
	if (!a.attached)
		pr_warn("perimd: %s: slot %d kept; perim attaches when a device of that name appears\n",
			cmd->dev, slot);
	else
		pr_info("perimd: %s: %s slot %d, ifindex %d, prog id %u, %s mode\n", cmd->dev,
			a.adopted ? "adopted" : "attached", slot, a.ifindex, a.prog_id,
			a.mode == PERIM_MODE_SKB ? "skb" : "native");
	if (result)
		*result = iface_json(d, slot);
	return 0;
}

static int do_detach(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		     char *err, size_t errlen)
{
	struct perim_model *next;
	struct perim_attachment was;
	int slot = slot_of(d, cmd->dev, err, errlen), ret;

	if (slot < 0)
		return -slot;
	was = d->att[slot];
	ret = perim_loader_detach(&d->loader, &d->att[slot], err, errlen);
	if (ret)
		return ret;
	next = model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	perimd_egress_forget(d, slot);
	perimd_syn_forget_slot(d, slot);
	perim_model_iface_del(next, slot);
	ret = commit(d, next, err, errlen);
	if (ret)
		return ret;
	*result = json_object_new_object();
	add_str(*result, "dev", cmd->dev);
	add_bool(*result, "was_attached", was.attached);
	add_int(*result, "ifindex", was.ifindex);
	add_int(*result, "prog_id", was.prog_id);
	add_str(*result, "mode", !was.attached ? NULL : was.mode == PERIM_MODE_SKB ? "skb" : "native");
	pr_info("perimd: %s: detached (ifindex %d, prog id %u)\n", cmd->dev, was.ifindex, was.prog_id);
	return 0;
}

/* ---- limits ---- */

static int do_limit_set(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			char *err, size_t errlen)
{
	struct perim_limit_spec spec = cmd->limit;
	struct perim_model *next;
	int slot = slot_of(d, cmd->dev, err, errlen), ret;
	uint32_t id;

	if (slot < 0)
		return -slot;
	if (spec.egress && (ret = perimd_egress_limit_prepare(d, slot, &spec, err, errlen)))
		return ret;
	next = model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	ret = perim_model_limit_add(next, slot, &spec, &id, err, errlen);
	if (ret) {
		perim_model_free(next);
		perimd_egress_sync(d, slot);
		return ret;
	}
	ret = commit(d, next, err, errlen);
	if (ret && !d->restoring)
		perimd_egress_sync(d, slot);
	if (ret)
		return ret;
	*result = json_object_new_object();
	add_str(*result, "dev", cmd->dev);
	add_int(*result, "id", id);
	return 0;
}

static int do_limit_del(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			char *err, size_t errlen)
{
	struct perim_model *next;
	int slot = slot_of(d, cmd->dev, err, errlen), ret;

	if (slot < 0)
		return -slot;
	next = model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	ret = perim_model_limit_del(next, slot, cmd->rule_id, err, errlen);
	if (ret) {
		perim_model_free(next);
		return ret;
	}
	ret = commit(d, next, err, errlen);
	if (ret)
		return ret;
	perimd_egress_sync(d, slot);
	*result = json_object_new_object();
	add_str(*result, "dev", cmd->dev);
	add_int(*result, "id", cmd->rule_id);
	return 0;
}

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	}
	return "any";
}

static struct json_object *limit_json(struct perimd *d, const struct perim_model_rule *r)
{
	const struct perim_limit_spec *s = &r->spec;
	struct json_object *o = json_object_new_object();
	char buf[64];

	add_str(o, "dev", d->model->ifaces[r->iface].dev);
	add_int(o, "id", s->id);
	if (s->has_src)
		perim_prefix_format(&s->src, buf, sizeof(buf));
	add_str(o, "src", s->has_src ? buf : NULL);
	add_str(o, "proto", proto_name(s->proto));
	if (s->dport_lo && s->dport_lo != s->dport_hi)
		snprintf(buf, sizeof(buf), "%u-%u", s->dport_lo, s->dport_hi);
	else
		snprintf(buf, sizeof(buf), "%u", s->dport_lo);
	add_str(o, "dport", s->dport_lo ? buf : NULL);
	add_bool(o, "syn", s->syn_only);
	add_int(o, "rate_pps", s->rate_pps);
	add_int(o, "burst", s->burst ? s->burst : s->rate_pps);
	add_int(o, "bytes_per_s", s->bytes_per_s);
	add_str(o, "mode", s->per_source ? "per-source" : "aggregate");
	add_int(o, "block_s", s->block_s);
	add_bool(o, "dry_run", s->dry_run);
	add_str(o, "dir", s->egress ? "egress" : "ingress");
	if (s->has_dst)
		perim_prefix_format(&s->dst, buf, sizeof(buf));
	add_str(o, "dst", s->has_dst ? buf : NULL);
	add_str(o, "cgroup", s->cgroup[0] ? s->cgroup : NULL);
	return o;
}

static int do_limit_list(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			 char *err, size_t errlen)
{
	struct json_object *list;
	int slot = -1;

	if (cmd->dev[0] && (slot = slot_of(d, cmd->dev, err, errlen)) < 0)
		return -slot;
	list = json_object_new_array();
	for (uint32_t id = 1; id < d->model->rules_end; id++) {
		const struct perim_model_rule *r = &d->model->rules[id];

		if (r->used && (slot < 0 || r->iface == slot))
			json_object_array_add(list, limit_json(d, r));
	}
	*result = json_object_new_object();
	json_object_object_add(*result, "limits", list);
	return 0;
}

/* ---- allow / deny ---- */

static bool is_allow(enum perim_cmd_kind k)
{
	return k == PERIM_CMD_ALLOW_ADD || k == PERIM_CMD_ALLOW_DEL || k == PERIM_CMD_ALLOW_LIST;
}

static int do_acl_change(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			 char *err, size_t errlen)
{
	uint8_t verdict = is_allow(cmd->kind) ? PERIM_ACL_ALLOW : PERIM_ACL_DENY;
	bool add = cmd->kind == PERIM_CMD_ALLOW_ADD || cmd->kind == PERIM_CMD_DENY_ADD;
	struct perim_model *next;
	int slot = slot_of(d, cmd->dev, err, errlen), ret;
	char text[64];

	if (slot < 0)
		return -slot;
	next = model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	ret = add ? perim_model_acl_add(next, slot, verdict, &cmd->prefix, err, errlen)
		  : perim_model_acl_del(next, slot, verdict, &cmd->prefix, err, errlen);
	if (ret) {
		perim_model_free(next);
		return ret;
	}
	ret = commit(d, next, err, errlen);
	if (ret)
		return ret;
	perim_prefix_format(&cmd->prefix, text, sizeof(text));
	*result = json_object_new_object();
	add_str(*result, "dev", cmd->dev);
	add_str(*result, "prefix", text);
	add_str(*result, "list", verdict == PERIM_ACL_ALLOW ? "allow" : "deny");
	return 0;
}

static int do_acl_list(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		       char *err, size_t errlen)
{
	uint8_t verdict = is_allow(cmd->kind) ? PERIM_ACL_ALLOW : PERIM_ACL_DENY;
	struct json_object *list;
	int slot = -1;
	char text[64];

	if (cmd->dev[0] && (slot = slot_of(d, cmd->dev, err, errlen)) < 0)
		return -slot;
	list = json_object_new_array();
	for (unsigned i = 0; i < d->model->n_acl; i++) {
		const struct perim_model_acl *a = &d->model->acl[i];
		struct json_object *o;

		if (a->verdict != verdict || (slot >= 0 && a->iface != slot))
			continue;
		o = json_object_new_object();
		perim_prefix_format(&a->prefix, text, sizeof(text));
		add_str(o, "dev", d->model->ifaces[a->iface].dev);
		add_str(o, "prefix", text);
		add_str(o, "list", verdict == PERIM_ACL_ALLOW ? "allow" : "deny");
		json_object_array_add(list, o);
	}
	*result = json_object_new_object();
	json_object_object_add(*result, "entries", list);
	return 0;
}

/* ---- stats / status ---- */

static int do_stats(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		    char *err, size_t errlen)
{
	struct json_object *ifaces;
	int slot = -1, ret;

	if (cmd->dev[0] && (slot = slot_of(d, cmd->dev, err, errlen)) < 0)
		return -slot;
	ifaces = json_object_new_array();
	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		struct json_object *o;

		if (!d->model->ifaces[s].used || (slot >= 0 && s != slot))
			continue;
		o = iface_json(d, s);
		perimd_egress_stats_json(d, s, o);
		ret = perimd_syn_stats_json(d, s, o);
		if (!ret)
			ret = perimd_stats_iface_json(&d->stats, d->model, s, o);
		if (ret) {
			snprintf(err, errlen, "reading the counters of %s: %s", d->model->ifaces[s].dev,
				 strerror(-ret));
			json_object_put(o);
			json_object_put(ifaces);
			return PERIM_EXIT_FAIL;
		}
		if (d->nl)
			perimd_nicstats_json(&d->nic, s, d->att[s].attached ? d->att[s].ifindex : 0,
					     perimd_stats_if_dropped(&d->stats, s), o);
		json_object_array_add(ifaces, o);
	}
	*result = json_object_new_object();
	add_int(*result, "time_ns", perimd_now_ns());
	json_object_object_add(*result, "interfaces", ifaces);
	return 0;
}

static int do_status(struct perimd *d, struct json_object **result)
{
	struct json_object *btf = json_object_new_object(), *ifaces = json_object_new_array();
	struct json_object *hooks = d->tracers ? perim_tracers_hooks_json(d->tracers) : NULL;

	*result = json_object_new_object();
	add_int(*result, "pid", getpid());
	add_str(*result, "version", PERIMD_VERSION);
	add_str(*result, "pin_root", d->cfg.pin_root);
	add_str(btf, "path", d->btf.path);
	add_str(btf, "source", d->btf.source);
	json_object_object_add(*result, "btf", btf);
	for (int s = 0; s < PERIM_MAX_IFACES; s++)
		if (d->model->ifaces[s].used)
			json_object_array_add(ifaces, iface_json(d, s));
	json_object_object_add(*result, "interfaces", ifaces);
	json_object_object_add(*result, "hooks", hooks ? hooks : json_object_new_array());
	json_object_object_add(*result, "syncookie", perimd_syn_status_json(d));
	return 0;
}

int perimd_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		char *err, size_t errlen)
{
	*result = NULL;
	switch (cmd->kind) {
	case PERIM_CMD_ATTACH:     return do_attach(d, cmd, result, err, errlen);
	case PERIM_CMD_DETACH:     return do_detach(d, cmd, result, err, errlen);
	case PERIM_CMD_LIMIT_SET:  return do_limit_set(d, cmd, result, err, errlen);
	case PERIM_CMD_LIMIT_DEL:  return do_limit_del(d, cmd, result, err, errlen);
	case PERIM_CMD_LIMIT_LIST: return do_limit_list(d, cmd, result, err, errlen);
	case PERIM_CMD_ALLOW_ADD:
	case PERIM_CMD_ALLOW_DEL:
	case PERIM_CMD_DENY_ADD:
	case PERIM_CMD_DENY_DEL:   return do_acl_change(d, cmd, result, err, errlen);
	case PERIM_CMD_ALLOW_LIST:
	case PERIM_CMD_DENY_LIST:  return do_acl_list(d, cmd, result, err, errlen);
	case PERIM_CMD_STATS:      return do_stats(d, cmd, result, err, errlen);
	case PERIM_CMD_TOP:        return perimd_drops_top(d, cmd, result, err, errlen);
	case PERIM_CMD_STATUS:     return do_status(d, result);
	case PERIM_CMD_SHAPE_SET:
	case PERIM_CMD_SHAPE_DEL:
	case PERIM_CMD_SHAPE_LIST: return perimd_egress_exec(d, cmd, result, err, errlen);
	case PERIM_CMD_SYN_SET:
	case PERIM_CMD_SYN_DEL:
	case PERIM_CMD_SYN_LIST:   return perimd_syn_exec(d, cmd, result, err, errlen);
	default:
		snprintf(err, errlen, "Error: this command is not served by perimd");
		return PERIM_EXIT_BADINPUT;
	}
}
