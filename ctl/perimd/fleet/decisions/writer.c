// SPDX-License-Identifier: GPL-2.0
/*
 * The writer thread: block and unblock requests, each a KV put or delete
 * the server acknowledges (or refuses) before the client hears back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "fleet/link.h"

/* A refusal the server sent this recently explains a timed-out write. */
#define ERROR_RECENT_MS 5000

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

static void explain(struct fleet_link *l, natsStatus s, char *text, size_t len)
{
	char recent[256] = "";

	pthread_mutex_lock(&l->mu);
	if (l->last_error[0] && fleet_now_ms() - l->last_error_ms < ERROR_RECENT_MS)
		snprintf(recent, sizeof(recent), " (server: %.200s)", l->last_error);
	pthread_mutex_unlock(&l->mu);
	snprintf(text, len, "fleet: the decision was not stored: %.40s%.170s", natsStatus_GetText(s), recent);
}

static void serve(struct fleet_link *l, struct fleet_request *r, jsCtx **js, kvStore **kv)
{
	struct fleet_msg *m = fleet_msg_new(FLEET_MSG_REPLY);
	natsStatus s = NATS_OK;
	uint64_t rev = 0;

	if (!*kv)
		s = fleet_link_bucket(l, js, kv, false);
	if (s == NATS_OK && r->value)
		s = kvStore_PutString(&rev, *kv, r->key, r->value);
	else if (s == NATS_OK)
		s = kvStore_Delete(*kv, r->key);
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
		explain(l, s, m->text, sizeof(m->text));
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
