// SPDX-License-Identifier: GPL-2.0
/* protect add|del|list: an edit of a model copy, committed like every change. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "control/commands.h"
#include "control/protect.h"
#include "daemon.h"
#include "json_add.h"
#include "model/protect.h"
#include "model/rules.h"

static struct json_object *entry_json(const struct perim_model *m, const struct perim_model_protect *e)
{
	struct json_object *o = json_object_new_object();
	char buf[64];

	json_add_str(o, "dev", m->ifaces[e->iface].dev);
	perim_prefix_format(&e->spec.prefix, buf, sizeof(buf));
	json_add_str(o, "prefix", buf);
	json_add_str(o, "proto", e->spec.proto == IPPROTO_TCP ? "tcp" : e->spec.proto == IPPROTO_UDP ? "udp" : "any");
	if (e->spec.dport_lo != e->spec.dport_hi)
		snprintf(buf, sizeof(buf), "%u-%u", e->spec.dport_lo, e->spec.dport_hi);
	else
		snprintf(buf, sizeof(buf), "%u", e->spec.dport_lo);
	json_add_str(o, "dport", e->spec.dport_lo ? buf : NULL);
	return o;
}

static int do_list(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		   char *err, size_t errlen)
{
	struct json_object *list = json_object_new_array();
	int slot = -1;

	if (cmd->dev[0] && (slot = perim_model_iface_find(d->model, cmd->dev)) < 0) {
		json_object_put(list);
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: perim is not attached to this interface",
			 cmd->dev);
		return PERIM_EXIT_BADINPUT;
	}
	for (unsigned i = 0; i < d->model->n_protect; i++)
		if (slot < 0 || d->model->protect[i].iface == slot)
			json_object_array_add(list, entry_json(d->model, &d->model->protect[i]));
	*result = json_object_new_object();
	json_object_object_add(*result, "protected", list);
	return 0;
}

static int do_change(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		     char *err, size_t errlen)
{
	int slot = perim_model_iface_find(d->model, cmd->dev), ret;
	struct perim_model *next;
	char line[160];

	if (slot < 0) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: perim is not attached to this interface",
			 cmd->dev);
		return PERIM_EXIT_BADINPUT;
	}
	next = perimd_model_copy(d, err, errlen);
	if (!next)
		return PERIM_EXIT_FAIL;
	ret = cmd->kind == PERIM_CMD_PROTECT_ADD ? perim_model_protect_add(next, slot, &cmd->protect, err, errlen)
						 : perim_model_protect_del(next, slot, &cmd->protect, err, errlen);
	if (ret) {
		perimd_model_discard(d, next);
		return ret;
	}
	ret = perimd_commit(d, next, err, errlen);
	if (ret)
		return ret;
	perim_protect_format(cmd->dev, &cmd->protect, line, sizeof(line));
	*result = json_object_new_object();
	json_add_str(*result, "dev", cmd->dev);
	json_add_str(*result, "entry", line + strlen("protect add "));
	json_add_str(*result, "done", cmd->kind == PERIM_CMD_PROTECT_ADD ? "added" : "removed");
	return 0;
}

int perimd_protect_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			char *err, size_t errlen)
{
	if (cmd->kind == PERIM_CMD_PROTECT_LIST)
		return do_list(d, cmd, result, err, errlen);
	return do_change(d, cmd, result, err, errlen);
}
