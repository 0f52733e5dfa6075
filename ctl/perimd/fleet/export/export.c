// SPDX-License-Identifier: GPL-2.0
/* The export queue and its publishing thread. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/export/export.h"
#include "log.h"

struct item {
	char subject[160];
	size_t len;
	char *data;
};

struct fleet_export {
	struct fleet_link *link;
	char name[PERIMD_FLEET_NAME_MAX];
	uint32_t types;
	pthread_t thread;
	/* Under mu: a ring of FLEET_EXPORT_QUEUE_MAX items. */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;
	struct item ring[FLEET_EXPORT_QUEUE_MAX];
	unsigned head, count;
	uint64_t published, dropped;
};

static bool take(struct fleet_export *x, struct item *out)
{
	bool got = false;

	pthread_mutex_lock(&x->mu);
	while (!x->stop && !x->count)
		pthread_cond_wait(&x->cond, &x->mu);
	if (!x->stop && x->count) {
		*out = x->ring[x->head];
		x->head = (x->head + 1) % FLEET_EXPORT_QUEUE_MAX;
		x->count--;
		got = true;
	}
	pthread_mutex_unlock(&x->mu);
	return got;
}

/* Back to the front of the queue: the connection is down, the item waits for it. */
static void put_back(struct fleet_export *x, struct item *it)
{
	pthread_mutex_lock(&x->mu);
	if (x->count == FLEET_EXPORT_QUEUE_MAX) {
		x->dropped++;
		free(it->data);
	} else {
		x->head = (x->head + FLEET_EXPORT_QUEUE_MAX - 1) % FLEET_EXPORT_QUEUE_MAX;
		x->ring[x->head] = *it;
		x->count++;
	}
	pthread_mutex_unlock(&x->mu);
}

static bool link_up(struct fleet_link *l)
{
	bool up;

	pthread_mutex_lock(&l->mu);
	up = l->connected;
	pthread_mutex_unlock(&l->mu);
	return up;
}

static void *export_main(void *arg)
{
	struct fleet_export *x = arg;
	struct item it;
	natsStatus s;

	while (take(x, &it)) {
		/* Down: hold the line here rather than in libnats' reconnect buffer, so the bound is ours. */
		if (!link_up(x->link)) {
			put_back(x, &it);
			if (!fleet_link_wait(x->link, 200))
				break;
			continue;
		}
		s = natsConnection_Publish(x->link->nc, it.subject, it.data, (int)it.len);
		pthread_mutex_lock(&x->mu);
		if (s == NATS_OK)
			x->published++;
		else
			x->dropped++;
		pthread_mutex_unlock(&x->mu);
		free(it.data);
	}
	return NULL;
}

struct fleet_export *fleet_export_new(struct fleet_link *link, const char *name, uint32_t types)
{
	struct fleet_export *x = calloc(1, sizeof(*x));
	int ret;

	if (!x)
		return NULL;
	x->link = link;
	x->types = types;
	snprintf(x->name, sizeof(x->name), "%s", name);
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->cond, NULL);
	ret = pthread_create(&x->thread, NULL, export_main, x);
	if (ret) {
		free(x);
		errno = ret;
		return NULL;
	}
	return x;
}

void fleet_export_free(struct fleet_export *x)
{
	if (!x)
		return;
	pthread_mutex_lock(&x->mu);
	x->stop = true;
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->mu);
	pthread_join(x->thread, NULL);
	for (unsigned i = 0; i < x->count; i++)
		free(x->ring[(x->head + i) % FLEET_EXPORT_QUEUE_MAX].data);
	free(x);
}

static void enqueue(struct fleet_export *x, const char *subject, const char *json, size_t len)
{
	struct item it;

	it.data = NULL;
	pthread_mutex_lock(&x->mu);
	if (x->count < FLEET_EXPORT_QUEUE_MAX)
		it.data = malloc(len);
	if (!it.data) {
		x->dropped++;
		pthread_mutex_unlock(&x->mu);
		return;
	}
	memcpy(it.data, json, len);
	it.len = len;
	snprintf(it.subject, sizeof(it.subject), "%s", subject);
	x->ring[(x->head + x->count) % FLEET_EXPORT_QUEUE_MAX] = it;
	x->count++;
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->mu);
}

void fleet_export_event(struct fleet_export *x, int type, const char *type_name, const char *json, size_t len)
{
	char subject[160];

	if (!x || type < 0 || type >= 32 || !(x->types & (1u << type)))
		return;
	snprintf(subject, sizeof(subject), "perim.events.%s.%s", x->name, type_name);
	enqueue(x, subject, json, len);
}

void fleet_export_drops(struct fleet_export *x, const char *json, size_t len)
{
	char subject[160];

	if (!x)
		return;
	snprintf(subject, sizeof(subject), "perim.drops.%s", x->name);
	enqueue(x, subject, json, len);
}

void fleet_export_counters(struct fleet_export *x, struct fleet_export_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (!x)
		return;
	pthread_mutex_lock(&x->mu);
	out->published = x->published;
	out->dropped = x->dropped;
	out->queued = x->count;
	pthread_mutex_unlock(&x->mu);
}
