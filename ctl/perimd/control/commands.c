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

#include "control/commands.h"
#include "control/shapes.h"
#include "control/ruleset.h"
#include "control/confirm.h"
#include "control/protect.h"
#include "control/syncookie.h"
#include "daemon.h"
#include "tracing/tracers.h"
#include "telemetry/drops.h"
#include "fleet/fleet.h"
#include "log.h"
#include "state/state.h"
#include "model/rules.h"
#include "model/shapes.h"
#include "telemetry/stats.h"
#include "links/nicstats.h"
#include "telemetry/if_snapshot.h"
#include "telemetry/src_tables.h"
#include "links/netlink.h"
#include "procs/proctable.h"
#include "datapath/loader.h"
#include "datapath/egress.h"
#include "syn/counters.h"
#include "cmd.h"
#include "perim.h"
#include "json_add.h"
#include "names.h"

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

/* ---- JSON helpers ---- */

/* The device's name now, from the link cache: differs from "dev" after a rename away. */
static void kernel_name_json(struct perimd *d, const struct perim_attachment *a, struct json_object *o)
{
	char name[IF_NAMESIZE];

	json_add_str(o, "kernel_name", a->attached && d->nl && perimd_netlink_cached_name(d->nl, a->ifindex, name)
		? name : NULL);
}

/*
 * {"dev","ifindex","slot","attached","kernel_name","mode","dispatcher","programs"[,"reason"]},
 * or NULL with err set when the kernel could not say what is attached.
 */
static struct json_object *iface_json(struct perimd *d, int slot, char *err, size_t errlen)
{
	struct json_object *o = json_object_new_object();
	const struct perim_attachment *a = &d->att[slot];
	char why[256];

	json_add_str(o, "dev", d->model->ifaces[slot].dev);
	json_add_int(o, "ifindex", a->ifindex);
	json_add_int(o, "slot", slot);
	json_add_bool(o, "attached", a->attached);
	json_add_bool(o, "adopted", a->adopted);
	kernel_name_json(d, a, o);
	if (a->attached && a->drop_sample_rate >= 0)
		json_add_u64(o, "drop_sample_rate", a->drop_sample_rate);
	else
		json_add_str(o, "drop_sample_rate", NULL);
	if (!a->attached) {
		json_add_str(o, "mode", NULL);
		json_add_str(o, "dispatcher", NULL);
	} else if (perim_loader_describe(a->ifindex, o, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", d->model->ifaces[slot].dev, why);
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* After an attach, which took effect: the reply says so even when the description failed. */
static struct json_object *attached_json(struct perimd *d, int slot)
{
	struct json_object *o;
	char err[320];

	o = iface_json(d, slot, err, sizeof(err));
	if (o)
		return o;
	pr_warn("perimd: %s\n", err);
	o = json_object_new_object();
	json_add_str(o, "dev", d->model->ifaces[slot].dev);
	json_add_int(o, "slot", slot);
	json_add_bool(o, "attached", d->att[slot].attached);
	json_add_str(o, "describe_error", err);
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
	*result = attached_json(d, slot);
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
	next = perimd_model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	ret = perim_model_iface_add(next, cmd->dev, cmd->mode, cmd->slot, err, errlen);
	if (ret) {
		perimd_model_discard(d, next);
		return ret;
	}
	slot = perim_model_iface_find(next, cmd->dev);
	/* The NIC-vs-perim drop comparison starts at the attach, not at the first stats call. */
	perimd_nicstats_rebase(&d->nic, slot, perimd_netlink_ifindex(d->nl, cmd->dev),
			       perimd_stats_if_dropped(&d->stats, slot));
	ret = perim_loader_attach(&d->loader, cmd->dev, perimd_netlink_ifindex(d->nl, cmd->dev), slot,
				  cmd->mode, &a, err, errlen);
	if (ret && d->restoring && !a.foreign_maps) {
		/* A NIC missing at start keeps its slot and rules; attach it again later. */
		pr_warn("perimd: %s\n", err);
		memset(&a, 0, sizeof(a));
		ret = 0;
	}
	if (ret) {
		perimd_model_discard(d, next);
		return ret;
	}
	ret = perimd_commit(d, next, err, errlen);
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
		*result = attached_json(d, slot);
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
	next = perimd_model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	perimd_egress_forget(d, slot);
	perim_model_iface_del(next, slot);
	ret = perimd_commit(d, next, err, errlen);
	if (ret)
		return ret;
	*result = json_object_new_object();
	json_add_str(*result, "dev", cmd->dev);
	json_add_bool(*result, "was_attached", was.attached);
	json_add_int(*result, "ifindex", was.ifindex);
	json_add_int(*result, "prog_id", was.prog_id);
	json_add_str(*result, "mode", !was.attached ? NULL : was.mode == PERIM_MODE_SKB ? "skb" : "native");
	pr_info("perimd: %s: detached (ifindex %d, prog id %u)\n", cmd->dev, was.ifindex, was.prog_id);
	return 0;
}

/* ---- limits ---- */

/*
 * "limit set" with the selector of an existing rule replaces that rule in
 * place (same id, counters kept), so a client that lost the reply can simply
 * retry. An explicit id naming another rule than the one with this selector
 * is refused, except from an old state file, whose duplicates are restored as
 * they were.
 */
static int limit_add_or_replace(struct perimd *d, struct perim_model *next, int slot,
				const struct perim_limit_spec *spec, uint32_t *id, bool *replaced,
				char *err, size_t errlen)
{
	uint32_t same = perim_model_limit_find_selector(next, slot, spec);

	*replaced = same && (!spec->id || spec->id == same);
	if (*replaced) {
		perim_model_limit_replace(next, same, spec);
		*id = same;
		return 0;
	}
	if (same && !d->restoring) {
		snprintf(err, errlen, "Error: argument \"%u\" is wrong: rule %u on %s already has this "
			 "selector; set it without id to replace it", spec->id, same, d->model->ifaces[slot].dev);
		return PERIM_EXIT_BADINPUT;
	}
	return perim_model_limit_add(next, slot, spec, id, err, errlen);
}

static int do_limit_set(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			char *err, size_t errlen)
{
	struct perim_limit_spec spec = cmd->limit;
	struct perim_model *next;
	int slot = slot_of(d, cmd->dev, err, errlen), ret;
	bool replaced;
	uint32_t id;

	if (slot < 0)
		return -slot;
	if (spec.egress && (ret = perimd_egress_limit_prepare(d, slot, &spec, err, errlen)))
		return ret;
	next = perimd_model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	ret = limit_add_or_replace(d, next, slot, &spec, &id, &replaced, err, errlen);
	if (ret) {
		perimd_model_discard(d, next);
		perimd_egress_sync(d, slot);
		return ret;
	}
	next->changing_rule = id;
	ret = perimd_commit(d, next, err, errlen);
	if (ret && !d->restoring)
		perimd_egress_sync(d, slot);
	if (ret)
		return ret;
	d->model->changing_rule = 0;
	*result = json_object_new_object();
	json_add_str(*result, "dev", cmd->dev);
	json_add_int(*result, "id", id);
	json_add_bool(*result, "replaced", replaced);
	return 0;
}

static int do_limit_del(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			char *err, size_t errlen)
{
	struct perim_model *next;
	int slot = slot_of(d, cmd->dev, err, errlen), ret;

	if (slot < 0)
		return -slot;
	next = perimd_model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	ret = perim_model_limit_del(next, slot, cmd->rule_id, err, errlen);
	if (ret) {
		perimd_model_discard(d, next);
		return ret;
	}
	ret = perimd_commit(d, next, err, errlen);
	if (ret)
		return ret;
	perimd_egress_sync(d, slot);
	*result = json_object_new_object();
	json_add_str(*result, "dev", cmd->dev);
	json_add_int(*result, "id", cmd->rule_id);
	return 0;
}

/*
 * Why a rule matches nothing, or NULL: a cgroup rule restored from the state
 * file whose cgroup directory was gone has no cgroup id until it is set again.
 */
static const char *rule_inactive_reason(const struct perim_limit_spec *s)
{
	return s->cgroup[0] && !s->cgroup_id ? "cgroup missing" : NULL;
}

static struct json_object *limit_json(struct perimd *d, const struct perim_model_rule *r)
{
	const struct perim_limit_spec *s = &r->spec;
	struct json_object *o = json_object_new_object();
	char buf[64], proto[PERIM_PROTO_NAME_MAX];

	json_add_str(o, "dev", d->model->ifaces[r->iface].dev);
	json_add_int(o, "id", s->id);
	if (s->has_src)
		perim_prefix_format(&s->src, buf, sizeof(buf));
	json_add_str(o, "src", s->has_src ? buf : NULL);
	json_add_str(o, "proto", perim_proto_name(s->proto, proto));
	if (s->dport_lo && s->dport_lo != s->dport_hi)
		snprintf(buf, sizeof(buf), "%u-%u", s->dport_lo, s->dport_hi);
	else
		snprintf(buf, sizeof(buf), "%u", s->dport_lo);
	json_add_str(o, "dport", s->dport_lo ? buf : NULL);
	json_add_bool(o, "syn", s->syn_only);
	json_add_int(o, "rate_pps", s->rate_pps);
	json_add_int(o, "burst", s->burst ? s->burst : s->rate_pps);
	json_add_int(o, "bytes_per_s", s->bytes_per_s);
	json_add_str(o, "mode", !s->per_source ? "aggregate" : s->egress ? "per-destination" : "per-source");
	json_add_int(o, "block_s", s->block_s);
	json_add_bool(o, "dry_run", s->dry_run);
	json_add_str(o, "dir", s->egress ? "egress" : "ingress");
	if (s->has_dst)
		perim_prefix_format(&s->dst, buf, sizeof(buf));
	json_add_str(o, "dst", s->has_dst ? buf : NULL);
	json_add_str(o, "cgroup", s->cgroup[0] ? s->cgroup : NULL);
	json_add_bool(o, "active", !rule_inactive_reason(s));
	json_add_str(o, "inactive_reason", rule_inactive_reason(s));
	return o;
}

/* status: the rules that match nothing, each with why. */
static struct json_object *inactive_rules_json(struct perimd *d)
{
	struct json_object *list = json_object_new_array();

	for (uint32_t id = 1; id < d->model->rules_end; id++) {
		const struct perim_model_rule *r = &d->model->rules[id];
		struct json_object *o;

		if (!r->used || !rule_inactive_reason(&r->spec))
			continue;
		o = json_object_new_object();
		json_add_str(o, "dev", d->model->ifaces[r->iface].dev);
		json_add_int(o, "id", id);
		json_add_str(o, "reason", rule_inactive_reason(&r->spec));
		json_object_array_add(list, o);
	}
	return list;
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
	next = perimd_model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	ret = add ? perim_model_acl_add(next, slot, verdict, &cmd->prefix, err, errlen)
		  : perim_model_acl_del(next, slot, verdict, &cmd->prefix, err, errlen);
	if (ret) {
		perimd_model_discard(d, next);
		return ret;
	}
	ret = perimd_commit(d, next, err, errlen);
	if (ret)
		return ret;
	perim_prefix_format(&cmd->prefix, text, sizeof(text));
	*result = json_object_new_object();
	json_add_str(*result, "dev", cmd->dev);
	json_add_str(*result, "prefix", text);
	json_add_str(*result, "list", verdict == PERIM_ACL_ALLOW ? "allow" : "deny");
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
		json_add_str(o, "dev", d->model->ifaces[a->iface].dev);
		json_add_str(o, "prefix", text);
		json_add_str(o, "list", verdict == PERIM_ACL_ALLOW ? "allow" : "deny");
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
		struct perimd_if_snapshot snap;
		struct json_object *o;

		if (!d->model->ifaces[s].used || (slot >= 0 && s != slot))
			continue;
		ret = perimd_if_snapshot(d, s, &snap);
		if (ret) {
			snprintf(err, errlen, "reading the counters of %s: %s", d->model->ifaces[s].dev,
				 strerror(-ret));
			json_object_put(ifaces);
			return PERIM_EXIT_FAIL;
		}
		o = iface_json(d, s, err, errlen);
		if (!o) {
			json_object_put(ifaces);
			return PERIM_EXIT_FAIL;
		}
		perimd_egress_stats_json(d, s, o);
		ret = perimd_syn_stats_json(d, s, o);
		if (!ret)
			ret = perimd_stats_iface_json(&d->stats, d->model, s, &snap.c, o);
		if (ret) {
			snprintf(err, errlen, "reading the counters of %s: %s", d->model->ifaces[s].dev,
				 strerror(-ret));
			json_object_put(o);
			json_object_put(ifaces);
			return PERIM_EXIT_FAIL;
		}
		if (d->nl)
			perimd_nicstats_json(&d->nic, s, d->att[s].attached ? d->att[s].ifindex : 0, &snap, o);
		json_object_array_add(ifaces, o);
	}
	*result = json_object_new_object();
	json_add_int(*result, "time_ns", perim_mono_ns());
	json_object_object_add(*result, "interfaces", ifaces);
	return 0;
}

/* {"path","writable","error"}: whether changes can be persisted, and why not. */
static struct json_object *state_json(struct perimd *d)
{
	struct json_object *o = json_object_new_object();

	json_add_str(o, "path", d->cfg.state);
	json_add_bool(o, "writable", !d->state_error[0]);
	json_add_str(o, "error", d->state_error[0] ? d->state_error : NULL);
	return o;
}

/* The process table events are enriched from: its size and what it refused or evicted. */
static struct json_object *processes_json(const struct perimd *d)
{
	struct perim_proctable_stats st;
	struct json_object *o;

	if (!d->procs)
		return NULL;
	perim_proctable_stats(d->procs, &st);
	o = json_object_new_object();
	json_add_u64(o, "tracked", st.procs);
	json_add_u64(o, "exited", st.exited);
	json_add_u64(o, "exes", st.exes);
	json_add_u64(o, "argvs", st.argvs);
	json_add_u64(o, "dropped", st.dropped);
	json_add_u64(o, "evicted", st.evicted);
	return o;
}

static int do_status(struct perimd *d, struct json_object **result, char *err, size_t errlen)
{
	struct json_object *btf, *ifaces, *hooks, *o;
	struct perimd_src_table src[PERIMD_SRC_TABLES];

	if (perimd_src_tables_read(&d->loader, src, err, errlen))
		return PERIM_EXIT_FAIL;
	ifaces = json_object_new_array();
	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		if (!d->model->ifaces[s].used)
			continue;
		o = iface_json(d, s, err, errlen);
		if (!o) {
			json_object_put(ifaces);
			return PERIM_EXIT_FAIL;
		}
		json_object_array_add(ifaces, o);
	}
	hooks = d->tracers ? perim_tracers_hooks_json(d->tracers) : NULL;
	btf = json_object_new_object();
	*result = json_object_new_object();
	json_add_int(*result, "pid", getpid());
	json_add_str(*result, "version", PERIMD_VERSION);
	json_add_str(*result, "pin_root", d->cfg.pin_root);
	json_object_object_add(*result, "drop_samples", perimd_drops_status_json(d));
	json_add_str(btf, "path", d->btf.path);
	json_add_str(btf, "source", d->btf.source);
	json_object_object_add(*result, "btf", btf);
	json_object_object_add(*result, "interfaces", ifaces);
	json_object_object_add(*result, "hooks", hooks ? hooks : json_object_new_array());
	json_object_object_add(*result, "syncookie", perimd_syncookie_status_json(d));
	json_object_object_add(*result, "source_tables", perimd_src_tables_json(src));
	json_object_object_add(*result, "state", state_json(d));
	json_object_object_add(*result, "processes", processes_json(d));
	json_object_object_add(*result, "inactive_rules", inactive_rules_json(d));
	json_object_object_add(*result, "confirm", perimd_confirm_json(d));
	return 0;
}

/* Attach and detach, and every change of the configuration (cmd.h). */
static bool changes_state(const struct perim_cmd *cmd)
{
	return cmd->kind == PERIM_CMD_ATTACH || cmd->kind == PERIM_CMD_DETACH || perim_cmd_changes_config(cmd);
}

/*
 * A state file known not to be writable refuses a change before anything
 * is touched; rewriting the current model first tells whether it is again.
 */
static int state_writable(struct perimd *d, char *err, size_t errlen)
{
	return d->state_error[0] && !d->restoring ? perimd_persist(d, d->model, err, errlen) : 0;
}

static int exec_one(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		    char *err, size_t errlen)
{
	*result = NULL;
	if (changes_state(cmd) && state_writable(d, err, errlen))
		return PERIM_EXIT_FAIL;
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
	case PERIM_CMD_STATUS:     return do_status(d, result, err, errlen);
	case PERIM_CMD_SHAPE_SET:
	case PERIM_CMD_SHAPE_DEL:
	case PERIM_CMD_SHAPE_LIST: return perimd_shape_exec(d, cmd, result, err, errlen);
	case PERIM_CMD_SYN_SET:
	case PERIM_CMD_SYN_DEL:
	case PERIM_CMD_SYN_LIST:   return perimd_syncookie_exec(d, cmd, result, err, errlen);
	case PERIM_CMD_FLEET_LIST:
	case PERIM_CMD_FLEET_STATUS: return perimd_fleet_exec(d, cmd, result, err, errlen);
	case PERIM_CMD_SHOW:
	case PERIM_CMD_APPLY:
	case PERIM_CMD_DIFF:       return perimd_ruleset_exec(d, cmd, result, err, errlen);
	case PERIM_CMD_PROTECT_ADD:
	case PERIM_CMD_PROTECT_DEL:
	case PERIM_CMD_PROTECT_LIST: return perimd_protect_exec(d, cmd, result, err, errlen);
	default:
		snprintf(err, errlen, "Error: this command is not served by perimd");
		return PERIM_EXIT_BADINPUT;
	}
}

/* Every command passes the confirm-or-roll-back gate (control/confirm.c). */
int perimd_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		char *err, size_t errlen)
{
	bool changing = changes_state(cmd);

	*result = NULL;
	if (cmd->kind == PERIM_CMD_CONFIRM || cmd->kind == PERIM_CMD_ROLLBACK)
		return perimd_confirm_exec(d, cmd, result, err, errlen);
	if (perimd_confirm_refuse(d, cmd, changing, err, errlen))
		return PERIM_EXIT_FAIL;
	return perimd_confirm_run(d, cmd, exec_one, result, err, errlen);
}
