// SPDX-License-Identifier: GPL-2.0
/*
 * The one commit path of every changing command: the state file first (a
 * file that cannot be written refuses the change before the maps see it),
 * then the maps (transactionally), then the shapers, then the SYN
 * protections, and only then the new model is adopted; a failed step puts
 * the kernel and the file back.
 */
#include <stdbool.h>
#include <stdio.h>

#include "control/commands.h"
#include "daemon.h"
#include "datapath/egress.h"
#include "log.h"
#include "model/rules.h"
#include "model/shapes.h"
#include "state/state.h"
#include "syn/apply.h"
#include "cmd.h"

int perimd_persist(struct perimd *d, const struct perim_model *m, char *err, size_t errlen)
{
	char why[sizeof(d->state_error)];

	if (!perimd_state_write(d->cfg.state, m, why, sizeof(why))) {
		if (d->state_error[0])
			pr_info("perimd: state file %s is writable again\n", d->cfg.state);
		d->state_error[0] = '\0';
		return 0;
	}
	snprintf(d->state_error, sizeof(d->state_error), "%s", why);
	snprintf(err, errlen, "the state file is not writable (%s): change refused, nothing changed", why);
	return PERIM_EXIT_FAIL;
}

/* The kernel and the state file back to the current model after a failed step of next's commit. */
static void undo(struct perimd *d, const struct perim_model *next, bool shapes)
{
	char undo_err[256];

	if (shapes && perimd_egress_shapes_apply(next, d->model, undo_err, sizeof(undo_err)))
		pr_warn("perimd: undoing a shaper change that did not commit: %s\n", undo_err);
	if (perim_apply(&d->loader.maps, d->installed, d->model, undo_err, sizeof(undo_err)))
		pr_warn("perimd: undoing a change that did not commit: %s\n", undo_err);
	if (perimd_state_write(d->cfg.state, d->model, undo_err, sizeof(undo_err)))
		pr_warn("perimd: undoing the state of a change that did not commit: %s\n", undo_err);
}

/*
 * Persisting first means a state file that cannot be written refuses the
 * change before the maps see it.
 */
int perimd_commit(struct perimd *d, struct perim_model *next, char *err, size_t errlen)
{
	int ret;

	if (d->restoring) {
		if (next != d->model) {
			perim_model_free(d->model);
			d->model = next;
		}
		return 0;
	}
	ret = perimd_persist(d, next, err, errlen);
	if (ret) {
		perim_model_free(next);
		return ret;
	}
	ret = perim_apply(&d->loader.maps, d->installed, next, err, errlen);
	if (ret) {
		undo(d, next, false);
	} else if ((ret = perimd_egress_shapes_apply(d->model, next, err, errlen))) {
		undo(d, next, false);
	} else if ((ret = perimd_syn_apply(d, d->model, next, err, errlen))) {
		undo(d, next, true);
	}
	if (ret) {
		perim_model_free(next);
		return ret;
	}
	perim_model_shapes_settle(next);
	perim_model_free(d->model);
	d->model = next;
	return 0;
}

/* The state file is written before (state/restore.c), so a start that fails leaves the maps alone. */
int perimd_commit_model(struct perimd *d, char *err, size_t errlen)
{
	int ret = perim_apply(&d->loader.maps, d->installed, d->model, err, errlen);

	if (!ret)
		ret = perimd_egress_shapes_apply(NULL, d->model, err, errlen);
	if (!ret)
		ret = perimd_syn_apply(d, NULL, d->model, err, errlen);
	if (!ret) {
		perim_model_shapes_settle(d->model);
		perimd_egress_sync_all(d);
	}
	return ret;
}

/*
 * The model a command edits: a copy, kept only if the change is applied and
 * persisted. While the state file is replayed nothing is applied until the
 * end and a refused line stops the start, so the model itself is edited (a
 * copy per line would make a start with N rules cost N copies of N rules).
 */
struct perim_model *perimd_model_copy(struct perimd *d, char *err, size_t errlen)
{
	struct perim_model *next = d->restoring ? d->model : perim_model_dup(d->model);

	if (!next)
		snprintf(err, errlen, "out of memory");
	return next;
}

/* A copy from perimd_model_copy whose change failed; model edits leave the model unchanged on error. */
void perimd_model_discard(struct perimd *d, struct perim_model *next)
{
	if (next != d->model)
		perim_model_free(next);
}
