// SPDX-License-Identifier: GPL-2.0
/*
 * Start-up from the state file: verify it whole, replay it into the model,
 * attach the configured interfaces, persist, and only then apply to the
 * pinned maps. A start that fails before the apply leaves the datapath as
 * it found it: the maps untouched, the programs it attached detached again.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cmd.h"
#include "control/commands.h"
#include "control/confirm.h"
#include "daemon.h"
#include "datapath/loader.h"
#include "fleet/fleet.h"
#include "model/rules.h"
#include "log.h"
#include "state/restore.h"
#include "state/state.h"
#include "state/state_format.h"

static int restore_line(void *ctx, const struct perim_cmd *cmd, char *err, size_t errlen)
{
	struct perimd *d = ctx;
	struct json_object *result = NULL;
	int ret;

	ret = perimd_exec(d, cmd, &result, err, errlen);
	json_object_put(result);
	return ret;
}

static int attach_configured(struct perimd *d)
{
	struct json_object *result = NULL;
	char err[512];

	for (int i = 0; i < d->cfg.n_ifaces; i++) {
		struct perim_cmd cmd = { .kind = PERIM_CMD_ATTACH, .mode = d->cfg.ifaces[i].mode, .slot = -1 };

		if (perim_model_iface_find(d->model, d->cfg.ifaces[i].dev) >= 0)
			continue;
		snprintf(cmd.dev, sizeof(cmd.dev), "%s", d->cfg.ifaces[i].dev);
		if (perimd_exec(d, &cmd, &result, err, sizeof(err))) {
			fprintf(stderr, "perimd: --interface %s: %s\n", cmd.dev, err);
			return PERIM_EXIT_FAIL;
		}
		json_object_put(result);
	}
	return 0;
}

/* --protect entries the restored model does not have yet (the state file keeps them from then on). */
static int protect_configured(struct perimd *d)
{
	struct json_object *result = NULL;
	char err[512];

	for (int i = 0; i < d->cfg.n_protect; i++) {
		struct perim_cmd cmd = { .kind = PERIM_CMD_PROTECT_ADD, .slot = -1 };
		int slot = perim_model_iface_find(d->model, d->cfg.protect[i].dev);

		if (slot < 0) {
			fprintf(stderr, "perimd: --protect %s: perim is not attached to it (add --interface %s)\n",
				d->cfg.protect[i].dev, d->cfg.protect[i].dev);
			return PERIM_EXIT_BADINPUT;
		}
		if (perim_model_protect_has(d->model, slot, &d->cfg.protect[i].spec))
			continue;
		snprintf(cmd.dev, sizeof(cmd.dev), "%s", d->cfg.protect[i].dev);
		cmd.protect = d->cfg.protect[i].spec;
		if (perimd_exec(d, &cmd, &result, err, sizeof(err))) {
			fprintf(stderr, "perimd: --protect %s: %s\n", cmd.dev, err);
			return PERIM_EXIT_BADINPUT;
		}
		json_object_put(result);
	}
	return 0;
}

/* Programs this start attached (not adopted) come off again. */
static void undo_new_attachments(struct perimd *d)
{
	char err[256];

	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		if (!d->att[s].attached || d->att[s].adopted)
			continue;
		if (perim_loader_detach(&d->loader, &d->att[s], err, sizeof(err)))
			pr_warn("perimd: start failed; detaching what it attached: %s\n", err);
	}
}

static void report_refused(const char *path, const char *why)
{
	char prev[4200];

	snprintf(prev, sizeof(prev), "%s%s", path, PERIMD_STATE_PREV_SUFFIX);
	if (access(prev, F_OK) == 0)
		fprintf(stderr, "perimd: %s; refusing to start (the pinned datapath keeps enforcing): the last good "
			"state is %s, check it and `mv %s %s` to use it\n", why, prev, prev, path);
	else
		fprintf(stderr, "perimd: %s; refusing to start (the pinned datapath keeps enforcing): there is no "
			"%s to fall back to; remove %s to start with no rules\n", why, prev, path);
}

/*
 * An unchanged model whose file cannot be rewritten (full disk, immutable,
 * read-only mount) still starts: the maps already enforce it. A start-up
 * change (--interface, an old file) that cannot be persisted does not.
 */
static int persist_restored(struct perimd *d, const struct perimd_state_file *sf)
{
	char err[sizeof(d->state_error)];

	if (!perimd_state_write(d->cfg.state, d->model, err, sizeof(err))) {
		d->state_error[0] = '\0';
		return 0;
	}
	snprintf(d->state_error, sizeof(d->state_error), "%s", err);
	if (sf->present && !sf->legacy && perimd_state_unchanged(sf, d->model)) {
		pr_warn("perimd: %s: the state file is not writable; enforcing what it holds, "
			"changes are refused until it is writable again\n", err);
		return 0;
	}
	fprintf(stderr, "perimd: %s: the start-up state cannot be persisted; refusing to start\n", err);
	return PERIM_EXIT_FAIL;
}

static int replay(struct perimd *d, const struct perimd_state_file *sf)
{
	char err[1024];
	int ret;

	d->restoring = true;
	ret = perimd_state_replay(sf, d->cfg.state, restore_line, d, err, sizeof(err));
	if (!ret)
		ret = perimd_confirm_restore(d, sf, err, sizeof(err));
	if (ret)
		fprintf(stderr, "perimd: %s\n", err);
	if (!ret)
		ret = attach_configured(d);
	if (!ret)
		ret = protect_configured(d);
	d->restoring = false;
	return ret;
}

int perimd_restore(struct perimd *d)
{
	struct perimd_state_file sf;
	char err[1024];
	int ret;

	perimd_state_clean_temps(d->cfg.state);
	ret = perimd_state_load(d->cfg.state, &sf, err, sizeof(err));
	if (ret == PERIM_EXIT_BADINPUT)
		report_refused(d->cfg.state, err);
	else if (ret)
		fprintf(stderr, "perimd: %s\n", err);
	if (ret)
		return ret;
	if (sf.legacy)
		pr_warn("perimd: state file %s has no trailer (an older perimd wrote it): accepted once, "
			"rewritten with one\n", d->cfg.state);
	ret = replay(d, &sf);
	if (!ret)
		ret = persist_restored(d, &sf);
	/* Fleet decisions live in the pinned maps, not the state file: keep enforcing them. */
	if (!ret && perimd_fleet_recover(d)) {
		fprintf(stderr, "perimd: fleet: out of memory\n");
		ret = PERIM_EXIT_FAIL;
	}
	if (!ret && perimd_commit_model(d, err, sizeof(err))) {
		fprintf(stderr, "perimd: applying the restored rules: %s\n", err);
		ret = PERIM_EXIT_FAIL;
	}
	if (ret)
		undo_new_attachments(d);
	else
		perimd_confirm_resume(d);
	perimd_state_file_free(&sf);
	return ret;
}
