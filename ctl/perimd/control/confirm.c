// SPDX-License-Identifier: GPL-2.0
/*
 * Confirm or roll back. The previous configuration is a model copy taken
 * before the change; rolling back commits it like any change (one switch of
 * the maps, shapers, the state file). The deadline is wall-clock time so
 * that it means the same to a perimd started later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "control/commands.h"
#include "control/confirm.h"
#include "daemon.h"
#include "datapath/egress.h"
#include "json_add.h"
#include "log.h"
#include "loop.h"
#include "model/rules.h"
#include "model/shapes.h"
#include "procs/cgroup_path.h"
#include "state/state.h"
#include "state/state_format.h"

#define TICK_MS 100

struct pending {
	struct perim_model *prev;  /* NULL: nothing pending */
	uint64_t deadline_ms;
	int timer_fd;              /* -1: not armed */
};

/* One perimd per process: the pending rollback is the daemon's, like its state file. */
static struct pending pending = { .timer_fd = -1 };

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_text(uint64_t ms, char *buf, size_t len)
{
	time_t secs = ms / 1000;
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void set_pending(struct perim_model *prev, uint64_t deadline_ms)
{
	pending.prev = prev;
	pending.deadline_ms = deadline_ms;
	perimd_state_set_pending(prev, deadline_ms);
}

static void disarm(struct perimd *d)
{
	if (pending.timer_fd >= 0)
		perim_loop_del(d->loop, pending.timer_fd);
	pending.timer_fd = -1;
}

/* The previous configuration back; pending cleared first so the commit writes a state without it. */
static int roll_back(struct perimd *d, const char *why, char *err, size_t errlen)
{
	struct perim_model *prev = pending.prev, *next = perim_model_dup(prev);
	uint64_t deadline = pending.deadline_ms;
	int ret;

	/* Fleet decisions are not configuration: the ones in force now stay. */
	if (!next || perim_model_fleet_set(next, d->model->fleet, d->model->n_fleet)) {
		perim_model_free(next);
		snprintf(err, errlen, "out of memory rolling back");
		return PERIM_EXIT_FAIL;
	}
	set_pending(NULL, 0);
	ret = perimd_commit(d, next, err, errlen);
	if (ret) {
		set_pending(prev, deadline);
		return ret;
	}
	perimd_egress_sync_all(d);
	perim_model_free(prev);
	disarm(d);
	pr_info("perimd: %s: rolled back to the configuration before the change\n", why);
	return 0;
}

static int on_tick(void *ctx, int fd, uint32_t events)
{
	struct perimd *d = ctx;
	char err[512];

	(void)fd;
	(void)events;
	if (!pending.prev || wall_ms() < pending.deadline_ms)
		return 0;
	if (roll_back(d, "confirmation window ended", err, sizeof(err)))
		pr_warn("perimd: rolling back at the end of the confirmation window: %s; retrying\n", err);
	return 0;
}

static int arm(struct perimd *d, char *err, size_t errlen)
{
	int fd;

	if (pending.timer_fd >= 0)
		return 0;
	fd = perim_loop_every(d->loop, TICK_MS, on_tick, d);
	if (fd < 0) {
		snprintf(err, errlen, "arming the rollback timer: %s", strerror(-fd));
		return PERIM_EXIT_FAIL;
	}
	pending.timer_fd = fd;
	return 0;
}

int perimd_confirm_refuse(struct perimd *d, const struct perim_cmd *cmd, bool changing, char *err, size_t errlen)
{
	char when[32];

	if (!pending.prev || d->restoring || !(changing || cmd->confirm_s))
		return 0;
	deadline_text(pending.deadline_ms, when, sizeof(when));
	snprintf(err, errlen, "a change awaits confirmation until %s: \"perimctl confirm\" keeps it, \"perimctl "
		 "rollback\" undoes it; until then other changes are refused", when);
	return PERIM_EXIT_FAIL;
}

/* Did the command change the configuration? An apply that found nothing to change did not. */
static bool changed(struct json_object *result)
{
	struct json_object *applied;

	return !result || !json_object_object_get_ex(result, "applied", &applied) ||
	       json_object_get_boolean(applied);
}

int perimd_confirm_run(struct perimd *d, const struct perim_cmd *cmd, perimd_exec_fn exec,
		       struct json_object **result, char *err, size_t errlen)
{
	struct perim_model *prev;
	char why[512], when[32];
	int ret;

	if (!cmd->confirm_s || d->restoring)
		return exec(d, cmd, result, err, errlen);
	prev = perim_model_dup(d->model);
	if (!prev) {
		snprintf(err, errlen, "out of memory");
		return PERIM_EXIT_FAIL;
	}
	ret = exec(d, cmd, result, err, errlen);
	if (ret || !changed(*result)) {
		perim_model_free(prev);
		return ret;
	}
	set_pending(prev, wall_ms() + (uint64_t)cmd->confirm_s * 1000);
	ret = arm(d, why, sizeof(why));
	if (!ret)
		ret = perimd_persist(d, d->model, why, sizeof(why));
	if (ret) {
		/* Unrecorded, the rollback could be lost: take the change back now. */
		json_object_put(*result);
		*result = NULL;
		if (roll_back(d, "the pending rollback could not be recorded", err, errlen))
			pr_warn("perimd: %s\n", err);
		snprintf(err, errlen, "%s: the change is rolled back", why);
		return PERIM_EXIT_FAIL;
	}
	deadline_text(pending.deadline_ms, when, sizeof(when));
	if (*result) {
		json_add_str(*result, "confirm_deadline", when);
		json_add_int(*result, "confirm_deadline_unix_ms", pending.deadline_ms);
	}
	pr_info("perimd: change awaits confirmation until %s\n", when);
	return 0;
}

/* ---- confirm, rollback ---- */

int perimd_confirm_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			char *err, size_t errlen)
{
	int ret;

	if (!pending.prev) {
		snprintf(err, errlen, "no change awaits confirmation");
		return PERIM_EXIT_FAIL;
	}
	if (cmd->kind == PERIM_CMD_ROLLBACK) {
		ret = roll_back(d, "perimctl rollback", err, errlen);
		if (ret)
			return ret;
	} else {
		struct perim_model *prev = pending.prev;
		uint64_t deadline = pending.deadline_ms;

		set_pending(NULL, 0);
		ret = perimd_persist(d, d->model, err, errlen);
		if (ret) {
			set_pending(prev, deadline);
			return ret;
		}
		perim_model_free(prev);
		disarm(d);
		pr_info("perimd: change confirmed\n");
	}
	*result = json_object_new_object();
	json_add_str(*result, "done", cmd->kind == PERIM_CMD_ROLLBACK ? "rolled back" : "confirmed");
	return 0;
}

/* ---- the pending rollback from the state file ---- */

/* One rollback-to line into the previous configuration (the model edit its command makes). */
static int restore_line(void *ctx, const struct perim_cmd *cmd, char *err, size_t errlen)
{
	struct perim_model *prev = ctx;
	struct perim_limit_spec spec;
	int slot;
	uint32_t id;

	if (cmd->kind == PERIM_CMD_ATTACH)
		return perim_model_iface_add(prev, cmd->dev, cmd->mode, cmd->slot, err, errlen);
	slot = perim_model_iface_find(prev, cmd->dev);
	if (slot < 0) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: " PERIMD_STATE_ROLLBACK_TO " names an "
			 "interface before its attach line", cmd->dev);
		return PERIM_EXIT_BADINPUT;
	}
	switch (cmd->kind) {
	case PERIM_CMD_LIMIT_SET:
		spec = cmd->limit;
		if (spec.cgroup[0] && perimd_cgroup_resolve(spec.cgroup, spec.cgroup, &spec.cgroup_id, err, errlen))
			spec.cgroup_id = 0;   /* inactive until set again, as on any restore */
		return perim_model_limit_add(prev, slot, &spec, &id, err, errlen);
	case PERIM_CMD_ALLOW_ADD:
	case PERIM_CMD_DENY_ADD:
		return perim_model_acl_add(prev, slot, cmd->kind == PERIM_CMD_ALLOW_ADD ? PERIM_ACL_ALLOW
					   : PERIM_ACL_DENY, &cmd->prefix, err, errlen);
	case PERIM_CMD_SHAPE_SET:
		perim_model_shape_set(prev, slot, &cmd->shape);
		return 0;
	case PERIM_CMD_PROTECT_ADD:
		return perim_model_protect_add(prev, slot, &cmd->protect, err, errlen);
	default:
		snprintf(err, errlen, "Error: not a configuration line");
		return PERIM_EXIT_BADINPUT;
	}
}

int perimd_confirm_restore(struct perimd *d, const struct perimd_state_file *sf, char *err, size_t errlen)
{
	struct perim_model *prev = perim_model_new();
	uint64_t deadline_ms;
	int ret;

	if (!prev) {
		snprintf(err, errlen, "out of memory");
		return PERIM_EXIT_FAIL;
	}
	ret = perimd_state_replay_rollback(sf, d->cfg.state, &deadline_ms, restore_line, prev, err, errlen);
	if (ret || !deadline_ms) {
		perim_model_free(prev);
		return ret;
	}
	set_pending(prev, deadline_ms);
	return 0;
}

void perimd_confirm_resume(struct perimd *d)
{
	char err[512], when[32];

	if (!pending.prev)
		return;
	deadline_text(pending.deadline_ms, when, sizeof(when));
	if (wall_ms() >= pending.deadline_ms) {
		if (!roll_back(d, "the confirmation window ended while perimd was down", err, sizeof(err)))
			return;
		pr_warn("perimd: rolling back a change whose window ended: %s; retrying\n", err);
	} else {
		pr_info("perimd: a change awaits confirmation until %s\n", when);
	}
	if (arm(d, err, sizeof(err)))
		pr_warn("perimd: %s\n", err);
}

struct json_object *perimd_confirm_json(struct perimd *d)
{
	struct json_object *o = json_object_new_object();
	char when[32];
	uint64_t now = wall_ms();

	(void)d;
	json_add_bool(o, "pending", pending.prev != NULL);
	if (pending.prev) {
		deadline_text(pending.deadline_ms, when, sizeof(when));
		json_add_str(o, "deadline", when);
		json_add_int(o, "deadline_unix_ms", pending.deadline_ms);
		json_add_int(o, "ms_left", pending.deadline_ms > now ? pending.deadline_ms - now : 0);
	}
	return o;
}
