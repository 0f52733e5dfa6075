// SPDX-License-Identifier: GPL-2.0
/*
 * The shape commands: set, del and list an interface's egress shaper. A
 * change edits a copy of the model and commits it (commands.h), as the limit
 * commands do.
 */
#include <net/if.h>
#include <stdio.h>

#include "cmd.h"
#include "control/commands.h"
#include "control/shapes.h"
#include "daemon.h"
#include "datapath/egress.h"
#include "json_add.h"
#include "log.h"
#include "model/rules.h"
#include "model/shapes.h"
#include "perim.h"

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

static int shape_set(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		     char *err, size_t errlen)
{
	int slot = attached_slot(d, cmd->dev, err, errlen), ret;
	struct perim_model *next;

	if (slot < 0)
		return PERIM_EXIT_BADINPUT;
	if (!present_ifindex(cmd->dev, err, errlen)) {
		if (!d->restoring)
			return PERIM_EXIT_BADINPUT;
		/* Restored now, installed when the device appears (perimd_egress_link_back). */
		pr_warn("perimd: %s: not present; its shaper is installed when it appears\n", cmd->dev);
	}
	next = perim_model_dup(d->model);
	if (!next) {
		snprintf(err, errlen, "out of memory");
		return PERIM_EXIT_FAIL;
	}
	perim_model_shape_set(next, slot, &cmd->shape);
	ret = perimd_commit(d, next, err, errlen);
	if (ret)
		return ret;
	*result = perimd_egress_shaper_json(d, slot, false);
	return 0;
}

static int shape_del(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		     char *err, size_t errlen)
{
	int slot = attached_slot(d, cmd->dev, err, errlen), ret;
	struct perim_model *next;

	if (slot < 0)
		return PERIM_EXIT_BADINPUT;
	next = perim_model_dup(d->model);
	if (!next) {
		snprintf(err, errlen, "out of memory");
		return PERIM_EXIT_FAIL;
	}
	ret = perim_model_shape_del(next, slot, cmd->dev, err, errlen);
	if (!ret)
		ret = perimd_commit(d, next, err, errlen);
	else
		perim_model_free(next);
	if (ret)
		return ret;
	*result = json_object_new_object();
	json_add_str(*result, "dev", cmd->dev);
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
		if (d->model->ifaces[s].used && d->model->shapes[s].used && (only < 0 || s == only))
			json_object_array_add(list, perimd_egress_shaper_json(d, s, false));
	*result = json_object_new_object();
	json_object_object_add(*result, "shapers", list);
	return 0;
}

int perimd_shape_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
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
