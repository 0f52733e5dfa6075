// SPDX-License-Identifier: GPL-2.0
/*
 * Group rulesets on the event loop's side: each revision the watcher
 * delivers goes through perimd_exec as an "apply" (the same parse, the same
 * commit, all or nothing, the same confirm gate); the applied revision is
 * recorded beside the state file; a refusal is counted, logged with its key
 * and revision, and reported. fleet apply is checked here as "apply
 * --check" before the worker publishes it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "control/commands.h"
#include "control/ctlsock.h"
#include "daemon.h"
#include "fleet/group/group_int.h"
#include "fleet/group/record.h"
#include "json_add.h"
#include "log.h"
#include "loop.h"
#include "proto.h"

/* A revision refused for a passing cause (a change awaiting confirmation, no writable state file): retried so often. */
#define RETRY_MS 5000

static void answer(int fd, int status, struct json_object *result, const char *error)
{
	char *text;

	/* The response takes result on success only. */
	if (status) {
		json_object_put(result);
		result = NULL;
	}
	text = perimd_ctlsock_response(status, result, error);
	if (text && perim_proto_send(fd, text, strlen(text)) < 0)
		pr_debug("perimd: fleet: the client left before its answer\n");
	free(text);
	close(fd);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* This gateway's report, handed to the worker (which publishes the newest). */
static void report(struct fleet_group *g)
{
	struct json_object *o = json_object_new_object();
	char *text;

	if (!g->group[0]) {
		json_object_put(o);
		return;
	}
	json_add_str(o, "name", g->name);
	json_add_str(o, "group", g->group);
	json_add_u64(o, "revision", g->revision);
	json_add_u64(o, "applied_ms", g->applied_ms);
	json_add_u64(o, "refused_revision", g->refused_revision);
	json_add_str(o, "error", g->refusal[0] ? g->refusal : NULL);
	json_add_u64(o, "refusals", g->refusals);
	json_add_u64(o, "updated_ms", fleet_now_ms());
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (!text)
		return;
	pthread_mutex_lock(&g->mu);
	free(g->status);
	g->status = text;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->mu);
}

static void forget_retry(struct fleet_group *g)
{
	free(g->retry_text);
	g->retry_text = NULL;
	g->retry_revision = 0;
}

static void refuse(struct fleet_group *g, uint64_t rev, const char *why)
{
	g->refusals++;
	g->refused_revision = rev;
	snprintf(g->refusal, sizeof(g->refusal), "%s", why);
	pr_warn("perimd: fleet: group ruleset %s/%s revision %llu refused, still running revision %llu: %s\n",
		FLEET_GROUP_RULESETS_BUCKET, g->group, (unsigned long long)rev, (unsigned long long)g->revision, why);
	report(g);
}

static void keep_record(struct fleet_group *g, const char *text)
{
	struct group_record r = { .revision = g->revision, .applied_ms = g->applied_ms };
	char err[512];

	if (!g->record[0])
		return;
	snprintf(r.group, sizeof(r.group), "%s", g->group);
	if (fleet_group_record_write(g->record, &r, text, err, sizeof(err)))
		pr_warn("perimd: fleet: revision %llu is applied but not recorded: %s\n",
			(unsigned long long)g->revision, err);
}

/* The one "apply" of a revision. A retry that fails again is neither counted nor logged again. */
static int apply_text(struct fleet_group *g, uint64_t rev, const char *text, size_t len, struct json_object **res,
		      char *err, size_t errlen)
{
	struct perim_cmd cmd;

	if (len > FLEET_GROUP_RULESET_MAX) {
		snprintf(err, errlen, "%zu bytes, over the cap of %u", len, FLEET_GROUP_RULESET_MAX);
		return PERIM_EXIT_BADINPUT;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.kind = PERIM_CMD_APPLY;
	snprintf(cmd.file, sizeof(cmd.file), "%s/%s@%llu", FLEET_GROUP_RULESETS_BUCKET, g->group,
		 (unsigned long long)rev);
	cmd.text = text;
	return perimd_exec(g->d, &cmd, res, err, errlen);
}

static void applied(struct fleet_group *g, uint64_t rev, const char *text, struct json_object *res)
{
	bool same = rev == g->revision;

	g->applies++;
	if (!same || json_object_get_boolean(get(res, "changed"))) {
		g->revision = rev;
		g->applied_ms = fleet_now_ms();
		pr_info("perimd: fleet: group %s revision %llu applied: %d added, %d removed, %d replaced\n", g->group,
			(unsigned long long)rev, json_object_get_int(get(res, "added")),
			json_object_get_int(get(res, "removed")), json_object_get_int(get(res, "replaced")));
		keep_record(g, text);
	}
	g->refused_revision = 0;
	g->refusal[0] = '\0';
	report(g);
}

static void apply_revision(struct fleet_group *g, uint64_t rev, const char *text, size_t len)
{
	struct json_object *res = NULL;
	char err[512];
	int ret;

	forget_retry(g);
	ret = apply_text(g, rev, text, len, &res, err, sizeof(err));
	if (!ret)
		applied(g, rev, text, res);
	json_object_put(res);
	if (!ret)
		return;
	if (ret == PERIM_EXIT_FAIL && (g->retry_text = strdup(text)))
		g->retry_revision = rev;
	refuse(g, rev, err);
}

static int on_retry_tick(void *ctx, int fd, uint32_t events)
{
	struct fleet_group *g = ctx;
	struct json_object *res = NULL;
	char err[512];

	if (!g->retry_text)
		return 0;
	if (!apply_text(g, g->retry_revision, g->retry_text, strlen(g->retry_text), &res, err, sizeof(err))) {
		applied(g, g->retry_revision, g->retry_text, res);
		forget_retry(g);
	}
	json_object_put(res);
	return 0;
}

static void take_entry(struct fleet_group *g, const struct fleet_msg *m)
{
	if (strcmp(m->key, g->group))
		return;
	g->bucket_revision = m->revision;
	if (m->deleted) {
		forget_retry(g);
		pr_warn("perimd: fleet: group ruleset %s/%s deleted (revision %llu): still running revision %llu\n",
			FLEET_GROUP_RULESETS_BUCKET, g->group, (unsigned long long)m->revision,
			(unsigned long long)g->revision);
		return;
	}
	apply_revision(g, m->revision, m->value ? m->value : "", m->value_len);
}

static void take_reply(const struct fleet_msg *m)
{
	struct json_object *r = m->value ? json_tokener_parse(m->value) : NULL;

	answer(m->fd, m->status, r, m->status ? m->text : NULL);
}

static int on_inbox(void *ctx, int fd, uint32_t events)
{
	struct fleet_group *g = ctx;
	struct fleet_msg *m = fleet_inbox_take(g->inbox), *next;

	for (; m; m = next) {
		next = m->next;
		if (m->kind == FLEET_MSG_REPLY)
			take_reply(m);
		else if (m->kind == FLEET_MSG_ENTRY)
			take_entry(g, m);
		fleet_msg_free(m);
	}
	return 0;
}

static void queue_job(struct fleet_group *g, struct group_job *j)
{
	pthread_mutex_lock(&g->mu);
	if (g->tail)
		g->tail->next = j;
	else
		g->head = j;
	g->tail = j;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->mu);
}

static bool connected(struct fleet_group *g)
{
	uint64_t gen;

	return fleet_group_link_gen(g, &gen);
}

/* The file checked exactly as "perimctl apply --check FILE" here. */
static int check_here(struct fleet_group *g, const struct perim_cmd *cmd, struct json_object **res,
		      char *err, size_t errlen)
{
	struct perim_cmd check;
	size_t len = cmd->text ? strlen(cmd->text) : 0;

	if (len > FLEET_GROUP_RULESET_MAX) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %zu bytes; a group ruleset is at most %u",
			 cmd->file, len, FLEET_GROUP_RULESET_MAX);
		return PERIM_EXIT_BADINPUT;
	}
	memset(&check, 0, sizeof(check));
	check.kind = PERIM_CMD_APPLY;
	check.check = true;
	memcpy(check.file, cmd->file, sizeof(check.file));
	check.text = cmd->text;
	return perimd_exec(g->d, &check, res, err, errlen);
}

static void submit_apply(struct fleet_group *g, const struct perim_cmd *cmd, int fd)
{
	struct json_object *res = NULL;
	struct group_job *j;
	char err[512];
	int ret = check_here(g, cmd, &res, err, sizeof(err));

	if (ret) {
		json_object_put(res);
		answer(fd, ret, NULL, err);
		return;
	}
	if (cmd->check) {
		json_add_str(res, "group", cmd->fleet.group);
		json_add_u64(res, "revision", 0);
		answer(fd, 0, res, NULL);
		return;
	}
	json_object_put(res);
	if (!connected(g)) {
		answer(fd, PERIM_EXIT_FAIL, NULL, "fleet: not connected to NATS; nothing was published");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j || !(j->value = strdup(cmd->text))) {
		free(j);
		answer(fd, PERIM_EXIT_FAIL, NULL, "fleet: out of memory");
		return;
	}
	j->kind = GROUP_JOB_PUBLISH;
	j->fd = fd;
	snprintf(j->group, sizeof(j->group), "%s", cmd->fleet.group);
	snprintf(j->file, sizeof(j->file), "%s", cmd->file);
	queue_job(g, j);
}

static void submit_list(struct fleet_group *g, const struct perim_cmd *cmd, int fd)
{
	struct group_job *j;

	if (!connected(g)) {
		answer(fd, PERIM_EXIT_FAIL, NULL, "fleet: not connected to NATS, which holds the gateways' reports");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		answer(fd, PERIM_EXIT_FAIL, NULL, "fleet: out of memory");
		return;
	}
	j->kind = GROUP_JOB_LIST;
	j->fd = fd;
	snprintf(j->group, sizeof(j->group), "%s", cmd->fleet.group);
	queue_job(g, j);
}

void fleet_group_submit(struct fleet_group *g, const struct perim_cmd *cmd, int fd)
{
	if (cmd->kind == PERIM_CMD_FLEET_APPLY)
		submit_apply(g, cmd, fd);
	else
		submit_list(g, cmd, fd);
}

/* The revision the restored configuration is, when the record is this group's. */
static void read_record(struct fleet_group *g)
{
	struct group_record r;
	char err[512];
	int ret;

	if (!g->record[0] || !g->group[0])
		return;
	ret = fleet_group_record_read(g->record, &r, err, sizeof(err));
	if (ret < 0)
		pr_warn("perimd: fleet: %s\n", err);
	if (ret || strcmp(r.group, g->group))
		return;
	g->revision = r.revision;
	g->applied_ms = r.applied_ms;
	pr_info("perimd: fleet: group %s: running revision %llu (recorded in %s)\n", g->group,
		(unsigned long long)g->revision, g->record);
}

static int start_thread(pthread_t *t, bool *started, void *(*fn)(void *), struct fleet_group *g,
			char *err, size_t errlen)
{
	int ret = pthread_create(t, NULL, fn, g);

	if (ret) {
		snprintf(err, errlen, "fleet: starting a group thread: %s", strerror(ret));
		return -1;
	}
	*started = true;
	return 0;
}

struct fleet_group *fleet_group_start(struct perimd *d, struct fleet_link *link, const char *name,
				      const char *group, char *err, size_t errlen)
{
	struct fleet_group *g = calloc(1, sizeof(*g));
	int ret;

	if (!g) {
		snprintf(err, errlen, "fleet: out of memory");
		return NULL;
	}
	g->d = d;
	g->link = link;
	g->retry_timer_fd = -1;
	snprintf(g->name, sizeof(g->name), "%s", name);
	snprintf(g->group, sizeof(g->group), "%s", group);
	if (d->cfg.state[0])
		snprintf(g->record, sizeof(g->record), "%s%s", d->cfg.state, FLEET_GROUP_RECORD_SUFFIX);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->inbox = fleet_inbox_new();
	if (!g->inbox) {
		snprintf(err, errlen, "fleet: eventfd: %s", strerror(errno));
		fleet_group_stop(g);
		return NULL;
	}
	ret = perim_loop_add(d->loop, fleet_inbox_fd(g->inbox), EPOLLIN, on_inbox, g);
	if (ret) {
		snprintf(err, errlen, "fleet: event loop: %s", strerror(-ret));
		fleet_inbox_free(g->inbox);
		g->inbox = NULL;
		fleet_group_stop(g);
		return NULL;
	}
	ret = perim_loop_every(d->loop, RETRY_MS, on_retry_tick, g);
	if (ret < 0) {
		snprintf(err, errlen, "fleet: group retry timer: %s", strerror(-ret));
		fleet_group_stop(g);
		return NULL;
	}
	g->retry_timer_fd = ret;
	read_record(g);
	report(g);
	if (start_thread(&g->worker, &g->worker_started, fleet_group_worker_main, g, err, errlen) ||
	    (g->group[0] && start_thread(&g->watcher, &g->watcher_started, fleet_group_watcher_main, g, err, errlen))) {
		fleet_group_stop(g);
		return NULL;
	}
	return g;
}

void fleet_group_stop(struct fleet_group *g)
{
	struct group_job *j, *jn;
	struct fleet_msg *m, *mn;

	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->mu);
	if (g->watcher_started)
		pthread_join(g->watcher, NULL);
	if (g->worker_started)
		pthread_join(g->worker, NULL);
	for (j = g->head; j; j = jn) {
		jn = j->next;
		close(j->fd);
		free(j->value);
		free(j);
	}
	if (g->inbox) {
		for (m = fleet_inbox_take(g->inbox); m; m = mn) {
			mn = m->next;
			if (m->kind == FLEET_MSG_REPLY)
				close(m->fd);
			fleet_msg_free(m);
		}
		perim_loop_del(g->d->loop, fleet_inbox_fd(g->inbox));
		fleet_inbox_free(g->inbox);
	}
	if (g->retry_timer_fd >= 0)
		perim_loop_del(g->d->loop, g->retry_timer_fd);
	forget_retry(g);
	free(g->status);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

void fleet_group_status_add(struct fleet_group *g, struct json_object *o)
{
	if (!g)
		return;
	json_add_str(o, "group_bucket", FLEET_GROUP_RULESETS_BUCKET);
	json_add_u64(o, "group_revision", g->revision);
	json_add_u64(o, "group_applied_ms", g->applied_ms);
	json_add_u64(o, "group_bucket_revision", g->bucket_revision);
	json_add_u64(o, "group_refused_revision", g->refused_revision);
	json_add_str(o, "group_error", g->refusal[0] ? g->refusal : NULL);
	json_add_u64(o, "group_applies", g->applies);
	json_add_u64(o, "group_refusals", g->refusals);
}

void fleet_group_metrics(struct fleet_group *g, FILE *out, const char *name)
{
	if (!g || !g->group[0])
		return;
	fprintf(out, "# HELP perim_fleet_group_revision group ruleset revision running\n"
		"# TYPE perim_fleet_group_revision gauge\nperim_fleet_group_revision{fleet_name=\"%s\",group=\"%s\"} %llu\n",
		name, g->group, (unsigned long long)g->revision);
	fprintf(out, "# HELP perim_fleet_group_refusals_total group ruleset revisions refused\n"
		"# TYPE perim_fleet_group_refusals_total counter\n"
		"perim_fleet_group_refusals_total{fleet_name=\"%s\",group=\"%s\"} %llu\n",
		name, g->group, (unsigned long long)g->refusals);
}
