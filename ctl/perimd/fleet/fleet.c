// SPDX-License-Identifier: GPL-2.0
/*
 * The fleet inside perimd's event loop: start and stop, the inbox handler
 * (watcher entries become applied decisions, writer outcomes become
 * answers), the expiry timer, and the fleet commands.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "control/ctlsock.h"
#include "daemon.h"
#include "events/bus.h"
#include "events/events_json.h"
#include "fleet/export/drops_summary.h"
#include "fleet/export/export.h"
#include "fleet/fleet.h"
#include "fleet/fleet_int.h"
#include "fleet/group/group.h"
#include "log.h"
#include "loop.h"
#include "proto.h"

/* How often expired decisions are looked for: a 3 s TTL lifts within a fifth of a second. */
#define EXPIRY_TICK_MS 200
/* perim.drops.<name>: every 10 s. */
#define DROPS_SUMMARY_MS 10000
/* How long a stored block waits for this gateway's own watcher before it is answered anyway. */
#define READ_OWN_WRITE_MS 2000

static void answer(int fd, int status, struct json_object *result, const char *error)
{
	char *text = perimd_ctlsock_response(status, result, error);

	if (text && perim_proto_send(fd, text, strlen(text)) < 0)
		pr_debug("perimd: fleet: the client left before its answer\n");
	free(text);
	close(fd);
}

/* "203.0.113.0/24" from the key "203.0.113.0/24", "2001:db8::/32" from "2001_db8__/32". */
static void prefix_of_key(const char *key, char *out, size_t len)
{
	snprintf(out, len, "%s", key);
	for (char *c = out; *c; c++)
		if (*c == '_')
			*c = ':';
}

/*
 * A stored block is answered when this gateway has applied it (so the
 * operator's next command here sees it), or after READ_OWN_WRITE_MS with
 * "applied": false.
 */
static void park(struct perimd_fleet *f, int fd, uint64_t revision, struct json_object *r)
{
	struct fleet_parked *p = calloc(1, sizeof(*p));

	if (!p) {
		answer(fd, 0, r, NULL);
		return;
	}
	p->fd = fd;
	p->revision = revision;
	p->deadline_ms = fleet_now_ms() + READ_OWN_WRITE_MS;
	p->result = r;
	p->next = f->parked;
	f->parked = p;
}

static void release_parked(struct perimd_fleet *f, bool all)
{
	struct fleet_parked **pp = &f->parked, *p;
	uint64_t now = fleet_now_ms();

	while ((p = *pp)) {
		bool applied = f->decisions.seen_revision >= p->revision && !f->decisions.dirty;

		if (!applied && !all && now < p->deadline_ms) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		json_object_object_add(p->result, "applied", json_object_new_boolean(applied));
		answer(p->fd, 0, p->result, NULL);
		free(p);
	}
}

static void take_reply(struct perimd_fleet *f, const struct fleet_msg *m)
{
	struct json_object *r;
	char prefix[FLEET_KEY_MAX];

	if (m->status) {
		f->requests_failed++;
		answer(m->fd, m->status, NULL, m->text);
		return;
	}
	prefix_of_key(m->key, prefix, sizeof(prefix));
	r = json_object_new_object();
	json_object_object_add(r, "prefix", json_object_new_string(prefix));
	json_object_object_add(r, "key", json_object_new_string(m->key));
	if (!m->revision) {
		answer(m->fd, 0, r, NULL);
		return;
	}
	json_object_object_add(r, "revision", json_object_new_int64(m->revision));
	park(f, m->fd, m->revision, r);
}

static int on_inbox(void *ctx, int fd, uint32_t events)
{
	struct perimd_fleet *f = ctx;
	struct fleet_msg *m = fleet_inbox_take(f->inbox), *next;

	for (; m; m = next) {
		next = m->next;
		if (m->kind == FLEET_MSG_REPLY)
			take_reply(f, m);
		else
			fleet_decisions_take(&f->decisions, m);
		fleet_msg_free(m);
	}
	/* One transaction for everything that arrived together. */
	fleet_decisions_sync(&f->decisions, f->d);
	release_parked(f, false);
	return 0;
}

static int on_expiry_tick(void *ctx, int fd, uint32_t events)
{
	struct perimd_fleet *f = ctx;

	fleet_decisions_sync(&f->decisions, f->d);
	release_parked(f, false);
	return 0;
}

static void export_tap(void *ctx, int type, const char *json, size_t len)
{
	struct perimd_fleet *f = ctx;

	fleet_export_event(f->export, type, perim_ev_type_name(type), json, len);
}

static int on_drops_tick(void *ctx, int fd, uint32_t events)
{
	struct perimd_fleet *f = ctx;
	struct json_object *o = fleet_drops_summary(f->d, f->name);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	fleet_export_drops(f->export, text, strlen(text));
	json_object_put(o);
	return 0;
}

/* Options were checked at start: every name is a known type. */
static uint32_t export_types(const char *list)
{
	char buf[256], *save = NULL, *tok;
	uint32_t types = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (perim_ev_type_parse(tok) >= 0 && perim_ev_type_parse(tok) < 32)
			types |= 1u << perim_ev_type_parse(tok);
	return types;
}

static int export_start(struct perimd_fleet *f, char *err, size_t errlen)
{
	int ret;

	if (!f->opts->events[0])
		return 0;
	f->export = fleet_export_new(&f->link, f->name, export_types(f->opts->events));
	if (!f->export) {
		snprintf(err, errlen, "fleet: event export: %s", strerror(errno));
		return PERIM_EXIT_FAIL;
	}
	if (f->d->bus)
		perimd_bus_set_tap(f->d->bus, export_tap, f);
	else
		pr_warn("perimd: fleet: no event bus: only drop summaries are exported\n");
	ret = perim_loop_every(f->d->loop, DROPS_SUMMARY_MS, on_drops_tick, f);
	if (ret < 0) {
		snprintf(err, errlen, "fleet: drop summary timer: %s", strerror(-ret));
		return PERIM_EXIT_FAIL;
	}
	f->drops_timer_fd = ret;
	return 0;
}

static void fleet_free(struct perimd_fleet *f)
{
	release_parked(f, true);
	if (f->export && f->d->bus)
		perimd_bus_set_tap(f->d->bus, NULL, NULL);
	if (f->drops_timer_fd >= 0)
		perim_loop_del(f->d->loop, f->drops_timer_fd);
	/* Before the link: the export thread publishes on its connection. */
	fleet_export_free(f->export);
	/* Before the link: its threads use the connection. */
	fleet_group_stop(f->group);
	if (f->link_started)
		fleet_link_stop(&f->link);
	if (f->timer_fd >= 0)
		perim_loop_del(f->d->loop, f->timer_fd);
	if (f->inbox) {
		perim_loop_del(f->d->loop, fleet_inbox_fd(f->inbox));
		fleet_inbox_free(f->inbox);
	}
	fleet_decisions_free(&f->decisions);
	free(f);
}

int perimd_fleet_start(struct perimd *d, char *err, size_t errlen)
{
	const struct perimd_fleet_opts *o = &d->cfg.fleet;
	struct perimd_fleet *f;
	int ret;

	if (!o->servers[0])
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "fleet: out of memory");
		return PERIM_EXIT_FAIL;
	}
	f->d = d;
	f->opts = o;
	f->timer_fd = -1;
	f->drops_timer_fd = -1;
	fleet_decisions_init(&f->decisions);
	/* Entries recovered from the pins stay until the bucket has been read whole. */
	f->decisions.hold_for_snapshot = d->model->n_fleet > 0;
	if (o->name[0])
		snprintf(f->name, sizeof(f->name), "%s", o->name);
	else if (gethostname(f->name, sizeof(f->name) - 1) < 0 || !perimd_fleet_name_ok(f->name)) {
		snprintf(err, errlen, "fleet: the hostname \"%s\" is no NATS subject token; give --fleet-name",
			 f->name);
		free(f);
		return PERIM_EXIT_BADINPUT;
	}
	perimd_fleet_servers_display(o->servers, f->servers_shown, sizeof(f->servers_shown));
	f->inbox = fleet_inbox_new();
	if (!f->inbox) {
		snprintf(err, errlen, "fleet: eventfd: %s", strerror(errno));
		free(f);
		return PERIM_EXIT_FAIL;
	}
	ret = perim_loop_add(d->loop, fleet_inbox_fd(f->inbox), EPOLLIN, on_inbox, f);
	if (!ret) {
		ret = perim_loop_every(d->loop, EXPIRY_TICK_MS, on_expiry_tick, f);
		f->timer_fd = ret < 0 ? -1 : ret;
		ret = ret < 0 ? ret : 0;
	}
	if (ret) {
		snprintf(err, errlen, "fleet: event loop: %s", strerror(-ret));
		fleet_free(f);
		return PERIM_EXIT_FAIL;
	}
	if (fleet_link_start(&f->link, o, f->name, f->inbox, err, errlen)) {
		fleet_free(f);
		return PERIM_EXIT_FAIL;
	}
	f->link_started = true;
	f->group = fleet_group_start(d, &f->link, f->name, o->group, err, errlen);
	if (!f->group) {
		fleet_free(f);
		return PERIM_EXIT_FAIL;
	}
	ret = export_start(f, err, errlen);
	if (ret) {
		fleet_free(f);
		return ret;
	}
	d->fleet = f;
	pr_info("perimd: fleet: %s joining %s%s%s\n", f->name, f->servers_shown, o->group[0] ? ", group " : "",
		o->group);
	return 0;
}

void perimd_fleet_stop(struct perimd *d)
{
	struct timespec t0, t1;

	if (!d->fleet)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fleet_decisions_flush(&d->fleet->decisions, d);
	fleet_free(d->fleet);
	d->fleet = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pr_info("perimd: fleet: stopped in %ld ms\n",
		(long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	/* Enforcement stays: the decisions remain in the pinned maps until the next perimd applies. */
}

bool perimd_fleet_answers_later(const struct perim_cmd *cmd)
{
	return cmd->kind == PERIM_CMD_FLEET_BLOCK || cmd->kind == PERIM_CMD_FLEET_UNBLOCK ||
	       cmd->kind == PERIM_CMD_FLEET_APPLY || cmd->kind == PERIM_CMD_FLEET_GATEWAYS;
}

static int check_request(struct perimd_fleet *f, const struct perim_cmd *cmd, const char *key,
			 char *err, size_t errlen)
{
	struct fleet_link_status st;
	char prefix[64];

	perim_prefix_format(&cmd->prefix, prefix, sizeof(prefix));
	if (cmd->kind == PERIM_CMD_FLEET_UNBLOCK && !fleet_decisions_find(&f->decisions, key)) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: the fleet has no decision on this prefix",
			 prefix);
		return PERIM_EXIT_BADINPUT;
	}
	if (cmd->kind == PERIM_CMD_FLEET_BLOCK && !fleet_decisions_find(&f->decisions, key) &&
	    f->decisions.n >= PERIMD_FLEET_MAX_DECISIONS) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: the fleet holds %u decisions, the cap is %d",
			 prefix, f->decisions.n, PERIMD_FLEET_MAX_DECISIONS);
		return PERIM_EXIT_BADINPUT;
	}
	fleet_link_status(&f->link, &st);
	if (!st.connected) {
		snprintf(err, errlen, "fleet: not connected to NATS (%.300s); nothing was changed", f->servers_shown);
		return PERIM_EXIT_FAIL;
	}
	return 0;
}

static struct fleet_request *request_new(struct perimd_fleet *f, const struct perim_cmd *cmd, const char *key)
{
	struct fleet_request *r = calloc(1, sizeof(*r));
	struct perimd_fleet_decision dec = { 0 };

	if (!r)
		return NULL;
	snprintf(r->key, sizeof(r->key), "%s", key);
	if (cmd->kind == PERIM_CMD_FLEET_UNBLOCK)
		return r;
	snprintf(dec.key, sizeof(dec.key), "%s", key);
	dec.prefix = cmd->prefix;
	dec.ttl_s = cmd->fleet.ttl_s;
	dec.created_ms = fleet_now_ms();
	snprintf(dec.reason, sizeof(dec.reason), "%s", cmd->fleet.reason);
	snprintf(dec.author, sizeof(dec.author), "%s", f->name);
	r->value = perimd_fleet_decision_format(&dec);
	if (!r->value) {
		free(r);
		return NULL;
	}
	return r;
}

void perimd_fleet_submit(struct perimd *d, const struct perim_cmd *cmd, int fd)
{
	struct perimd_fleet *f = d->fleet;
	struct fleet_request *r;
	char key[FLEET_KEY_MAX], err[512];
	int ret;

	if (!f) {
		answer(fd, PERIM_EXIT_FAIL, NULL, "fleet: perimd runs without --fleet");
		return;
	}
	if (cmd->kind == PERIM_CMD_FLEET_APPLY || cmd->kind == PERIM_CMD_FLEET_GATEWAYS) {
		fleet_group_submit(f->group, cmd, fd);
		return;
	}
	perimd_fleet_key_of(&cmd->prefix, key);
	ret = check_request(f, cmd, key, err, sizeof(err));
	if (ret) {
		answer(fd, ret, NULL, err);
		return;
	}
	r = request_new(f, cmd, key);
	if (!r) {
		answer(fd, PERIM_EXIT_FAIL, NULL, "fleet: out of memory");
		return;
	}
	r->reply_fd = fd;
	f->requests++;
	fleet_link_request(&f->link, r);
}

int perimd_fleet_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		      char *err, size_t errlen)
{
	if (!d->fleet) {
		snprintf(err, errlen, "fleet: perimd runs without --fleet");
		return PERIM_EXIT_FAIL;
	}
	if (cmd->kind == PERIM_CMD_FLEET_LIST)
		*result = fleet_decisions_json(&d->fleet->decisions);
	else
		*result = fleet_status_json(d->fleet);
	return 0;
}
