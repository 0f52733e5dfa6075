// SPDX-License-Identifier: GPL-2.0
/*
 * The state file loader (ctl/perimd/state_load.c): an input is the file.
 * What loads is replayed into a model, as perimd's start does (without the
 * kernel), and flattened into LPM entries. The model is then rendered,
 * loaded and replayed again: what perimd writes must read back to the same
 * file.
 */
#include "fuzz_util.h"
#include "model/rules.h"
#include "state/state.h"
#include "state/state_format.h"

static int to_model(void *ctx, const struct perim_cmd *cmd, char *err, size_t errlen)
{
	struct perim_model *m = ctx;
	uint8_t verdict = cmd->kind == PERIM_CMD_ALLOW_ADD ? PERIM_ACL_ALLOW : PERIM_ACL_DENY;
	int slot = cmd->kind == PERIM_CMD_ATTACH ? -1 : perim_model_iface_find(m, cmd->dev);
	uint32_t id;

	if (cmd->kind != PERIM_CMD_ATTACH && slot < 0) {
		snprintf(err, errlen, "%s is not attached", cmd->dev);
		return PERIM_EXIT_BADINPUT;
	}
	switch (cmd->kind) {
	case PERIM_CMD_ATTACH:
		return perim_model_iface_add(m, cmd->dev, cmd->mode, cmd->slot, err, errlen);
	case PERIM_CMD_LIMIT_SET:
		return perim_model_limit_add(m, slot, &cmd->limit, &id, err, errlen);
	case PERIM_CMD_ALLOW_ADD:
	case PERIM_CMD_DENY_ADD:
		return perim_model_acl_add(m, slot, verdict, &cmd->prefix, err, errlen);
	case PERIM_CMD_SHAPE_SET:
		return 0;   /* egress.c's: the kernel's qdiscs, nothing in the model */
	default:
		snprintf(err, errlen, "not a state command");
		return PERIM_EXIT_BADINPUT;
	}
}

static void flatten(const struct perim_model *m)
{
	struct perim_lpm_set set = { 0 };
	char err[512] = "";

	if (perim_flatten(m, &set, err, sizeof(err)) == 0)
		perim_fast_mirror(&set);
	perim_lpm_set_free(&set);
}

/* Renders m, writes it with its trailer to path; the rendered body in *body. */
static void write_rendered(const struct perim_model *m, const char *path, char **body, size_t *len)
{
	char trailer[PERIMD_STATE_TRAILER_MAX];
	char *file;

	if (perimd_state_render(m, body, len))
		abort();
	perimd_state_trailer(*body, *len, trailer);
	file = malloc(*len + strlen(trailer));
	if (!file)
		abort();
	memcpy(file, *body, *len);
	memcpy(file + *len, trailer, strlen(trailer));
	fuzz_write(path, file, *len + strlen(trailer));
	free(file);
}

/* A model perimd would write must load, replay and render to the same bytes. */
static void check_reads_back(const struct perim_model *m, const char *path)
{
	struct perim_model *again = perim_model_new();
	struct perimd_state_file sf;
	char err[1024] = "", *body, *body2;
	size_t len, len2;

	if (!again)
		abort();
	write_rendered(m, path, &body, &len);
	if (perimd_state_load(path, &sf, err, sizeof(err)) ||
	    perimd_state_replay(&sf, path, to_model, again, err, sizeof(err))) {
		fprintf(stderr, "a rendered state file does not read back: %s\n---\n%.*s---\n", err, (int)len, body);
		abort();
	}
	if (perimd_state_render(again, &body2, &len2))
		abort();
	if (len != len2 || memcmp(body, body2, len)) {
		fprintf(stderr, "state changes on a round trip:\n%.*s---\n%.*s---\n", (int)len, body, (int)len2, body2);
		abort();
	}
	free(body);
	free(body2);
	perimd_state_file_free(&sf);
	perim_model_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perim_model *m = perim_model_new();
	struct perimd_state_file sf;
	char path[PATH_MAX], again[PATH_MAX], err[1024] = "";
	int ret;

	if (!m)
		abort();
	fuzz_path(path, sizeof(path), "state");
	fuzz_path(again, sizeof(again), "state.again");
	fuzz_write(path, data, size);
	ret = perimd_state_load(path, &sf, err, sizeof(err));
	if (ret && !err[0])
		abort();   /* a refused file is named with its reason */
	if (!ret) {
		ret = perimd_state_replay(&sf, path, to_model, m, err, sizeof(err));
		if (ret && !err[0])
			abort();
		perimd_state_unchanged(&sf, m);
		perimd_state_file_free(&sf);
	}
	/* A replay stops at the first refused line: what came before stands, as a model. */
	flatten(m);
	check_reads_back(m, again);
	perim_model_free(m);
	return 0;
}
