// SPDX-License-Identifier: GPL-2.0
/*
 * The group worker thread: publishes rulesets (fleet apply), reads the
 * group's gateway reports (fleet gateways), and publishes this gateway's
 * own report whenever it changes and again after every reconnect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cmd.h"
#include "fleet/group/group_int.h"
#include "json_add.h"
#include "log.h"

#define IDLE_MS 500
#define LIST_NEXT_MS 2000
#define REPORT_MAX 4096
/* A refusal the server sent this recently explains a failed write. */
#define ERROR_RECENT_MS 5000

struct worker {
	struct fleet_group *g;
	jsCtx *js;
	kvStore *rulesets, *gateways;
	char *report;             /* the last report taken from the loop */
	bool report_due;
	uint64_t report_gen;      /* the link generation it was last published in */
};

static struct group_job *next_work(struct fleet_group *g, char **report)
{
	struct group_job *j;

	pthread_mutex_lock(&g->mu);
	if (!g->head && !g->status)
		fleet_group_wait_locked(g, IDLE_MS);
	j = g->stop ? NULL : g->head;
	if (j) {
		g->head = j->next;
		if (!g->head)
			g->tail = NULL;
	} else if (g->status && !g->stop) {
		*report = g->status;
		g->status = NULL;
	}
	pthread_mutex_unlock(&g->mu);
	return j;
}

/* A failed call drops the binding: the next one binds (or creates) again. */
static void unbind_on_error(kvStore **kv, natsStatus s)
{
	if (s != NATS_OK && s != NATS_TIMEOUT && *kv) {
		kvStore_Destroy(*kv);
		*kv = NULL;
	}
}

static void explain(struct fleet_group *g, const char *what, natsStatus s, char *text, size_t len)
{
	struct fleet_link *l = g->link;
	char recent[256] = "";

	pthread_mutex_lock(&l->mu);
	if (l->last_error[0] && fleet_now_ms() - l->last_error_ms < ERROR_RECENT_MS)
		snprintf(recent, sizeof(recent), " (server: %.200s)", l->last_error);
	pthread_mutex_unlock(&l->mu);
	snprintf(text, len, "fleet: %s: %.40s%.200s", what, natsStatus_GetText(s), recent);
}

static void reply(struct fleet_group *g, int fd, int status, const char *text, struct json_object *result)
{
	struct fleet_msg *m = fleet_msg_new(FLEET_MSG_REPLY);

	if (!m) {
		close(fd);
		json_object_put(result);
		return;
	}
	m->fd = fd;
	m->status = status;
	snprintf(m->text, sizeof(m->text), "%s", text ? text : "");
	if (result)
		m->value = strdup(json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN));
	json_object_put(result);
	fleet_inbox_push(g->inbox, m);
}

static void publish(struct worker *w, struct group_job *j)
{
	struct fleet_group *g = w->g;
	struct json_object *r;
	uint64_t rev = 0;
	char why[256];
	natsStatus s = NATS_OK;

	if (!w->rulesets)
		s = fleet_group_bucket(g, &w->js, &w->rulesets, FLEET_GROUP_RULESETS_BUCKET, FLEET_GROUP_RULESET_MAX,
				       true);
	if (s == NATS_OK)
		s = kvStore_Put(&rev, w->rulesets, j->group, j->value, strlen(j->value));
	unbind_on_error(&w->rulesets, s);
	if (s != NATS_OK) {
		explain(g, "the ruleset was not published", s, why, sizeof(why));
		reply(g, j->fd, PERIM_EXIT_FAIL, why, NULL);
		return;
	}
	pr_info("perimd: fleet: %s published to %s/%s as revision %llu\n", j->file, FLEET_GROUP_RULESETS_BUCKET,
		j->group, (unsigned long long)rev);
	r = json_object_new_object();
	json_add_str(r, "group", j->group);
	json_add_str(r, "file", j->file);
	json_add_str(r, "bucket", FLEET_GROUP_RULESETS_BUCKET);
	json_add_str(r, "key", j->group);
	json_add_u64(r, "bytes", strlen(j->value));
	json_add_u64(r, "revision", rev);
	reply(g, j->fd, PERIM_EXIT_OK, NULL, r);
}

static int by_name(const void *a, const void *b)
{
	struct json_object *x = *(struct json_object *const *)a, *y = *(struct json_object *const *)b, *nx, *ny;

	json_object_object_get_ex(x, "name", &nx);
	json_object_object_get_ex(y, "name", &ny);
	return strcmp(json_object_get_string(nx) ?: "", json_object_get_string(ny) ?: "");
}

/* Every report under GROUP.*: a watch of the current values, ended by its NULL entry. */
static natsStatus read_reports(struct worker *w, const char *group, struct json_object *list)
{
	char filter[PERIMD_FLEET_NAME_MAX + 4];
	kvWatchOptions wo;
	kvWatcher *kw = NULL;
	kvEntry *e;
	natsStatus s;

	snprintf(filter, sizeof(filter), "%s.*", group);
	kvWatchOptions_Init(&wo);
	wo.IgnoreDeletes = true;
	s = kvStore_Watch(&kw, w->gateways, filter, &wo);
	while (s == NATS_OK) {
		struct json_object *o;

		e = NULL;
		s = kvWatcher_Next(&e, kw, LIST_NEXT_MS);
		if (s != NATS_OK || !e)
			break;
		o = json_tokener_parse(kvEntry_ValueString(e));
		if (!o || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = json_object_new_object();
			json_add_str(o, "name", strchr(kvEntry_Key(e), '.') + 1);
			json_add_str(o, "error", "its report is not perim's JSON");
		}
		json_object_array_add(list, o);
		kvEntry_Destroy(e);
	}
	kvWatcher_Destroy(kw);
	json_object_array_sort(list, by_name);
	return s;
}

static void list(struct worker *w, struct group_job *j)
{
	struct fleet_group *g = w->g;
	struct json_object *r = json_object_new_object(), *gws = json_object_new_array();
	kvEntry *e = NULL;
	const char *what = "reading the group's revision in " FLEET_GROUP_RULESETS_BUCKET;
	char why[256];
	natsStatus s = NATS_OK;

	json_add_str(r, "group", j->group);
	json_object_object_add(r, "gateways", gws);
	if (!w->rulesets)
		s = fleet_group_bucket(g, &w->js, &w->rulesets, FLEET_GROUP_RULESETS_BUCKET, 0, false);
	if (s == NATS_OK)
		s = kvStore_Get(&e, w->rulesets, j->group);
	json_add_u64(r, "bucket_revision", s == NATS_OK ? kvEntry_Revision(e) : 0);
	kvEntry_Destroy(e);
	unbind_on_error(&w->rulesets, s == NATS_NOT_FOUND ? NATS_OK : s);
	if (s == NATS_OK || s == NATS_NOT_FOUND) {
		what = "reading the group's reports in " FLEET_GROUP_GATEWAYS_BUCKET;
		s = w->gateways ? NATS_OK
				: fleet_group_bucket(g, &w->js, &w->gateways, FLEET_GROUP_GATEWAYS_BUCKET, 0, false);
		if (s == NATS_OK)
			s = read_reports(w, j->group, gws);
		unbind_on_error(&w->gateways, s == NATS_NOT_FOUND ? NATS_OK : s);
	}
	if (s != NATS_OK && s != NATS_NOT_FOUND) {
		explain(g, what, s, why, sizeof(why));
		json_object_put(r);
		reply(g, j->fd, PERIM_EXIT_FAIL, why, NULL);
		return;
	}
	reply(g, j->fd, PERIM_EXIT_OK, NULL, r);
}

/* This gateway's report, under GROUP.NAME: when it changed, and again in each new connection. */
static void report(struct worker *w)
{
	struct fleet_group *g = w->g;
	char key[2 * PERIMD_FLEET_NAME_MAX];
	uint64_t gen, rev;
	natsStatus s = NATS_OK;

	if (!w->report || !fleet_group_link_gen(g, &gen) || (!w->report_due && gen == w->report_gen))
		return;
	if (!w->gateways)
		s = fleet_group_bucket(g, &w->js, &w->gateways, FLEET_GROUP_GATEWAYS_BUCKET, REPORT_MAX, true);
	snprintf(key, sizeof(key), "%s.%s", g->group, g->name);
	if (s == NATS_OK)
		s = kvStore_PutString(&rev, w->gateways, key, w->report);
	unbind_on_error(&w->gateways, s);
	if (s != NATS_OK) {
		pr_debug("perimd: fleet: report %s/%s: %s\n", FLEET_GROUP_GATEWAYS_BUCKET, key, natsStatus_GetText(s));
		return;
	}
	w->report_due = false;
	w->report_gen = gen;
}

void *fleet_group_worker_main(void *arg)
{
	struct worker w = { .g = arg };
	struct group_job *j;
	char *fresh = NULL;

	while (fleet_group_wait(w.g, 0)) {
		j = next_work(w.g, &fresh);
		if (fresh) {
			free(w.report);
			w.report = fresh;
			w.report_due = true;
			fresh = NULL;
		}
		if (j && j->kind == GROUP_JOB_PUBLISH)
			publish(&w, j);
		else if (j)
			list(&w, j);
		if (j) {
			free(j->value);
			free(j);
		}
		report(&w);
	}
	free(w.report);
	kvStore_Destroy(w.rulesets);
	kvStore_Destroy(w.gateways);
	jsCtx_Destroy(w.js);
	return NULL;
}
