// SPDX-License-Identifier: GPL-2.0
/*
 * The writer thread: block and unblock requests, each a KV put or delete
 * the server acknowledges (or refuses) before the client hears back.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "fleet/decisions/decision.h"
#include "fleet/link.h"
#include "log.h"

/* A refusal the server sent this recently explains a timed-out write. */
#define ERROR_RECENT_MS 5000
/*
 * A write JetStream did not acknowledge within FLEET_JS_WAIT_MS may have been
 * stored all the same (its acknowledgement late or lost): it is sent again,
 * the same value (storing it twice changes only its revision), so an
 * acknowledgement says for sure. A write the server refused is not retried.
 */
#define WRITE_TRIES 2
/* A write slower than this is logged with its time. */
#define WRITE_SLOW_MS 1000

static struct fleet_request *next_request(struct fleet_link *l)
{
	struct fleet_request *r = NULL;

	pthread_mutex_lock(&l->mu);
	while (!l->stop && !l->req_head)
		pthread_cond_wait(&l->cond, &l->mu);
	if (!l->stop) {
		r = l->req_head;
		l->req_head = r->next;
		if (!l->req_head)
			l->req_tail = NULL;
	}
	pthread_mutex_unlock(&l->mu);
	return r;
}

/*
 * The server's recent complaint, " (server: ...)" or ""; refused: one sent
 * since since_ms refuses a publish to the bucket's subjects.
 */
static void recent_error(struct fleet_link *l, uint64_t since_ms, char *text, size_t len, bool *refused)
{
	text[0] = '\0';
	*refused = false;
	pthread_mutex_lock(&l->mu);
	if (l->last_error[0] && fleet_now_ms() - l->last_error_ms < ERROR_RECENT_MS) {
		snprintf(text, len, " (server: %.200s)", l->last_error);
		*refused = l->last_error_ms >= since_ms && strstr(l->last_error, "Permissions Violation") &&
			   strstr(l->last_error, "\"$KV." PERIMD_FLEET_BUCKET ".");
	}
	pthread_mutex_unlock(&l->mu);
}

/* written: the put or delete was sent (a timeout then leaves its fate unknown). */
static void explain(struct fleet_link *l, natsStatus s, bool written, uint64_t since_ms, char *text, size_t len)
{
	char recent[256];
	bool refused;

	recent_error(l, since_ms, recent, sizeof(recent), &refused);
	if (s == NATS_TIMEOUT && written && !refused)
		snprintf(text, len, "fleet: JetStream did not acknowledge the write in %d x %d ms: the decision may"
			 " still be stored (`perimctl fleet list` shows it)%.90s", WRITE_TRIES, FLEET_JS_WAIT_MS, recent);
	else
		snprintf(text, len, "fleet: the decision was not stored: %.40s%.170s", natsStatus_GetText(s), recent);
}

static natsStatus write_once(kvStore *kv, const struct fleet_request *r, uint64_t *rev)
{
	if (r->value)
		return kvStore_PutString(rev, kv, r->key, r->value);
	return kvStore_Delete(kv, r->key);
}

/* The write, again after a timeout that no refusal explains. */
static natsStatus write_acknowledged(struct fleet_link *l, kvStore *kv, const struct fleet_request *r,
				     uint64_t *rev)
{
	uint64_t t0 = fleet_now_ms(), ms;
	natsStatus s = NATS_TIMEOUT;
	char recent[256];
	bool refused = false;
	int tries;

	for (tries = 1; tries <= WRITE_TRIES && s == NATS_TIMEOUT && !refused; tries++) {
		s = write_once(kv, r, rev);
		if (s == NATS_TIMEOUT)
			recent_error(l, t0, recent, sizeof(recent), &refused);
	}
	ms = fleet_now_ms() - t0;
	if (ms >= WRITE_SLOW_MS)
		pr_warn("perimd: fleet: %s of %s took %llu ms, %d tr%s: %s\n", r->value ? "put" : "delete", r->key,
			(unsigned long long)ms, tries - 1, tries - 1 > 1 ? "ies" : "y", natsStatus_GetText(s));
	return s;
}

static void serve(struct fleet_link *l, struct fleet_request *r, jsCtx **js, kvStore **kv)
{
	struct fleet_msg *m = fleet_msg_new(FLEET_MSG_REPLY);
	uint64_t rev = 0, since_ms = fleet_now_ms();
	natsStatus s = NATS_OK;
	bool written = false;

	if (!*kv)
		s = fleet_link_bucket(l, js, kv, false);
	if (s == NATS_OK) {
		s = write_acknowledged(l, *kv, r, &rev);
		written = true;
	}
	if (s != NATS_OK && *kv && s != NATS_TIMEOUT) {
		kvStore_Destroy(*kv);
		*kv = NULL;
	}
	if (!m) {
		close(r->reply_fd);
		return;
	}
	snprintf(m->key, sizeof(m->key), "%s", r->key);
	m->fd = r->reply_fd;
	m->revision = rev;
	m->status = s == NATS_OK ? PERIM_EXIT_OK : PERIM_EXIT_FAIL;
	if (s != NATS_OK)
		explain(l, s, written, since_ms, m->text, sizeof(m->text));
	fleet_inbox_push(l->inbox, m);
}

void *fleet_writer_main(void *arg)
{
	struct fleet_link *l = arg;
	struct fleet_request *r;
	jsCtx *js = NULL;
	kvStore *kv = NULL;

	while ((r = next_request(l))) {
		serve(l, r, &js, &kv);
		free(r->value);
		free(r);
	}
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
	return NULL;
}
