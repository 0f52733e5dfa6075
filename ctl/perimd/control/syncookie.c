// SPDX-License-Identifier: GPL-2.0
/*
 * The syncookie commands: set, del and list an interface's SYN protections.
 * A change edits a copy of the model and commits it (commands.h), whose
 * kernel step for them is syn/apply.h.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "control/commands.h"
#include "control/syncookie.h"
#include "daemon.h"
#include "json_add.h"
#include "model/rules.h"
#include "model/syncookies.h"
#include "perim.h"
#include "perim_syn.h"
#include "syn/apply.h"

static int attached_slot(struct perimd *d, const char *dev, char *err, size_t errlen)
{
	int slot = perim_model_iface_find(d->model, dev);

	if (slot < 0)
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: perim is not attached to this interface", dev);
	return slot;
}

static struct json_object *spec_json(const char *dev, const struct perim_syn_spec *s)
{
	struct json_object *o = json_object_new_object();
	char prefix[64];

	json_add_str(o, "interface", dev);
	json_add_str(o, "dst", s->has_dst && perim_prefix_format(&s->dst, prefix, sizeof(prefix)) > 0 ? prefix : NULL);
	json_add_int(o, "dport_lo", s->dport_lo);
	json_add_int(o, "dport_hi", s->dport_hi);
	json_object_object_add(o, "mss", s->mss ? json_object_new_int(s->mss) : NULL);
	json_add_int(o, "wscale", s->has_wscale ? s->wscale : PERIM_SYN_WSCALE_DEFAULT);
	json_add_bool(o, "dry_run", s->dry_run);
	return o;
}

static int syn_set(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		   char *err, size_t errlen)
{
	int slot = attached_slot(d, cmd->dev, err, errlen), ret;
	struct perim_model *next;

	if (slot < 0)
		return PERIM_EXIT_BADINPUT;
	/* While restoring, a protection this kernel cannot enforce stays in the model (syn/apply.h). */
	if (!d->restoring && (ret = perimd_syn_enforceable(d, slot, cmd->dev, err, errlen)))
		return ret;
	next = perimd_model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	ret = perim_model_syn_set(next, slot, cmd->dev, &cmd->syn, err, errlen);
	if (ret) {
		perimd_model_discard(d, next);
		return ret;
	}
	ret = perimd_commit(d, next, err, errlen);
	if (!ret)
		*result = spec_json(cmd->dev, &cmd->syn);
	return ret;
}

static int syn_del(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		   char *err, size_t errlen)
{
	int slot = attached_slot(d, cmd->dev, err, errlen), ret;
	struct perim_model *next;

	if (slot < 0)
		return PERIM_EXIT_BADINPUT;
	next = perimd_model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	ret = perim_model_syn_del(next, slot, cmd->dev, &cmd->syn, err, errlen);
	if (ret) {
		perimd_model_discard(d, next);
		return ret;
	}
	ret = perimd_commit(d, next, err, errlen);
	if (!ret) {
		*result = json_object_new_object();
		json_add_str(*result, "dev", cmd->dev);
	}
	return ret;
}

static struct json_object *list_json(struct perimd *d, int only)
{
	struct json_object *arr = json_object_new_array();

	for (int slot = 0; slot < PERIM_MAX_IFACES; slot++) {
		const struct perim_model_syn *s = perim_model_syn_of(d->model, slot);

		if (only >= 0 && slot != only)
			continue;
		for (int i = 0; i < s->n; i++)
			json_object_array_add(arr, spec_json(d->model->ifaces[slot].dev, &s->spec[i]));
	}
	return arr;
}

static int syn_list(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		    char *err, size_t errlen)
{
	int only = -1;

	if (cmd->dev[0] && (only = attached_slot(d, cmd->dev, err, errlen)) < 0)
		return PERIM_EXIT_BADINPUT;
	*result = json_object_new_object();
	json_object_object_add(*result, "syncookie", list_json(d, only));
	return 0;
}

int perimd_syncookie_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			  char *err, size_t errlen)
{
	*result = NULL;
	switch (cmd->kind) {
	case PERIM_CMD_SYN_SET:  return syn_set(d, cmd, result, err, errlen);
	case PERIM_CMD_SYN_DEL:  return syn_del(d, cmd, result, err, errlen);
	case PERIM_CMD_SYN_LIST: return syn_list(d, cmd, result, err, errlen);
	default:
		snprintf(err, errlen, "Error: this command is not a syncookie command");
		return PERIM_EXIT_BADINPUT;
	}
}

struct json_object *perimd_syncookie_status_json(struct perimd *d)
{
	struct json_object *o = json_object_new_object();

	json_add_bool(o, "available", d->loader.syn_available);
	json_add_str(o, "reason", d->loader.syn_available ? NULL : d->loader.syn_reason);
	json_add_str(o, "program", d->loader.prog_name);
	json_object_object_add(o, "protections", list_json(d, -1));
	return o;
}
