// SPDX-License-Identifier: GPL-2.0
/* The NATS connection: options, asynchronous connect, the callbacks, the threads' start and stop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fleet/creds.h"
#include "fleet/decisions/decision.h"
#include "fleet/link.h"
#include "log.h"

#define RECONNECT_WAIT_MS 500
#define CLOSE_WAIT_S 2
/* How long the threads have to finish with the connection open; a watcher sees stop within 100 ms. */
#define STOP_GRACE_MS 500

uint64_t fleet_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fleet_link_note_error(struct fleet_link *l, const char *text)
{
	pthread_mutex_lock(&l->mu);
	snprintf(l->last_error, sizeof(l->last_error), "%s", text);
	l->last_error_ms = fleet_now_ms();
	pthread_mutex_unlock(&l->mu);
}

/* Called with the connection up: remember where, wake the threads. */
static void mark_connected(struct fleet_link *l, natsConnection *nc, bool again)
{
	char raw[256] = "", url[256], id[64] = "";

	natsConnection_GetConnectedUrl(nc, raw, sizeof(raw));
	perimd_fleet_servers_display(raw, url, sizeof(url));
	natsConnection_GetConnectedServerId(nc, id, sizeof(id));
	pthread_mutex_lock(&l->mu);
	l->connected = true;
	l->watch_gen++;
	if (again)
		l->reconnects++;
	snprintf(l->url, sizeof(l->url), "%s", url);
	snprintf(l->server_id, sizeof(l->server_id), "%s", id);
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
	pr_info("perimd: fleet: connected to %s\n", url);
}

static void on_connected(natsConnection *nc, void *closure)
{
	mark_connected(closure, nc, false);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	mark_connected(closure, nc, true);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct fleet_link *l = closure;

	pthread_mutex_lock(&l->mu);
	l->connected = false;
	l->url[0] = '\0';
	pthread_mutex_unlock(&l->mu);
	pr_warn("perimd: fleet: disconnected from NATS; enforcing what is applied, reconnecting\n");
}

/* The last callback libnats makes for a connection, from its own thread. */
static void on_closed(natsConnection *nc, void *closure)
{
	struct fleet_link *l = closure;

	pthread_mutex_lock(&l->mu);
	l->closed = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

/*
 * libnats calls back (disconnected, closed) from its thread after Close
 * returns: the link must outlive those calls. Bounded: a library that never
 * calls leaves perimd's exit a second late, not hung.
 */
static void await_closed(struct fleet_link *l)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += CLOSE_WAIT_S;
	pthread_mutex_lock(&l->mu);
	while (!l->closed && pthread_cond_timedwait(&l->cond, &l->mu, &until) == 0)
		;
	pthread_mutex_unlock(&l->mu);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus s, void *closure)
{
	const char *text = NULL;
	char line[256];

	natsConnection_GetLastError(nc, &text);
	snprintf(line, sizeof(line), "%s%s%s", natsStatus_GetText(s), text ? ": " : "", text ? text : "");
	fleet_link_note_error(closure, line);
	if (s == NATS_MISSED_HEARTBEAT) {
		/* The watch's consumer is gone (its server died): watch again, on a live one. */
		struct fleet_link *l = closure;

		pthread_mutex_lock(&l->mu);
		l->watch_gen++;
		pthread_cond_broadcast(&l->cond);
		pthread_mutex_unlock(&l->mu);
	}
	pr_warn("perimd: fleet: %s\n", line);
}

static int fail(char *err, size_t errlen, const char *what, natsStatus s)
{
	snprintf(err, errlen, "fleet: %s: %s", what, natsStatus_GetText(s));
	return -1;
}

static int build_options(natsOptions **out, const struct perimd_fleet_opts *o, const char *name,
			 struct fleet_link *l, char *err, size_t errlen)
{
	char buf[sizeof(o->servers)];
	const char *urls[PERIMD_FLEET_MAX_SERVERS];
	int n = perimd_fleet_servers_split(o->servers, buf, sizeof(buf), urls);
	natsOptions *opts = NULL;
	char why[256];
	natsStatus s;

	s = natsOptions_Create(&opts);
	if (s == NATS_OK)
		s = natsOptions_SetServers(opts, urls, n);
	if (s == NATS_OK)
		s = natsOptions_SetName(opts, name);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(opts, RECONNECT_WAIT_MS);
	/* Connect in the background too: a server down at start is one more reconnect. */
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(opts, true, on_connected, l);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(opts, on_reconnected, l);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(opts, on_disconnected, l);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(opts, on_closed, l);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(opts, on_error, l);
	if (s != NATS_OK) {
		natsOptions_Destroy(opts);
		return fail(err, errlen, "NATS options", s);
	}
	if (o->creds[0] && fleet_creds_set(opts, o->creds, why, sizeof(why)) != NATS_OK) {
		natsOptions_Destroy(opts);
		snprintf(err, errlen, "fleet: %s: %s", o->creds, why);
		return -1;
	}
	if (o->tls_ca[0] && ((s = natsOptions_SetSecure(opts, true)) != NATS_OK ||
			     (s = natsOptions_LoadCATrustedCertificates(opts, o->tls_ca)) != NATS_OK)) {
		natsOptions_Destroy(opts);
		return fail(err, errlen, o->tls_ca, s);
	}
	*out = opts;
	return 0;
}

static int start_thread(pthread_t *t, bool *started, void *(*fn)(void *), struct fleet_link *l,
			char *err, size_t errlen)
{
	int ret = pthread_create(t, NULL, fn, l);

	if (ret) {
		snprintf(err, errlen, "fleet: starting a thread: %s", strerror(ret));
		return -1;
	}
	*started = true;
	return 0;
}

int fleet_link_start(struct fleet_link *l, const struct perimd_fleet_opts *o, const char *name,
		     struct fleet_inbox *inbox, char *err, size_t errlen)
{
	natsOptions *opts;
	natsStatus s;
	int n;
	char buf[sizeof(o->servers)];
	const char *urls[PERIMD_FLEET_MAX_SERVERS];

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cond, NULL);
	l->inbox = inbox;
	n = perimd_fleet_servers_split(o->servers, buf, sizeof(buf), urls);
	/* A bucket this gateway creates is replicated over a cluster when it names one. */
	l->replicas = n >= 3 ? 3 : 1;
	if (build_options(&opts, o, name, l, err, errlen))
		return -1;
	s = natsConnection_Connect(&l->nc, opts);
	natsOptions_Destroy(opts);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
		l->nc = NULL;
		return fail(err, errlen, "connecting", s);
	}
	if (s == NATS_OK)
		mark_connected(l, l->nc, false);
	if (start_thread(&l->watcher, &l->watcher_started, fleet_watcher_main, l, err, errlen) ||
	    start_thread(&l->writer, &l->writer_started, fleet_writer_main, l, err, errlen)) {
		fleet_link_stop(l);
		return -1;
	}
	return 0;
}

/*
 * A thread still blocked on a request to an absent server when the grace
 * ends (a JetStream wait is JS_WAIT_MS) is cut short by closing the
 * connection. By then a watcher being destroyed has already taken its
 * subscription off the connection (its consumer's delete is what waits),
 * and the writer holds none.
 */
static void join_or_cut(struct fleet_link *l, pthread_t t, const struct timespec *deadline)
{
	if (pthread_timedjoin_np(t, NULL, deadline) == 0)
		return;
	natsConnection_Close(l->nc);
	pthread_join(t, NULL);
}

/*
 * The threads end (destroying their watchers, KV stores and JetStream
 * contexts) while the connection is still open: a watcher destroyed after
 * natsConnection_Close unsubscribes what the close already tore down
 * (libnats 3.4: AddressSanitizer at perimd's exit). Then the connection
 * closes, its last callback is awaited, and it is destroyed.
 */
void fleet_link_stop(struct fleet_link *l)
{
	struct fleet_request *r, *next;
	struct timespec deadline;

	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += STOP_GRACE_MS * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if (l->watcher_started)
		join_or_cut(l, l->watcher, &deadline);
	if (l->writer_started)
		join_or_cut(l, l->writer, &deadline);
	l->watcher_started = l->writer_started = false;
	if (l->nc) {
		natsConnection_Close(l->nc);
		await_closed(l);
		natsConnection_Destroy(l->nc);
		l->nc = NULL;
	}
	for (r = l->req_head; r; r = next) {
		next = r->next;
		close(r->reply_fd);
		free(r->value);
		free(r);
	}
	l->req_head = l->req_tail = NULL;
}

void fleet_link_request(struct fleet_link *l, struct fleet_request *r)
{
	r->next = NULL;
	pthread_mutex_lock(&l->mu);
	if (l->req_tail)
		l->req_tail->next = r;
	else
		l->req_head = r;
	l->req_tail = r;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

void fleet_link_status(struct fleet_link *l, struct fleet_link_status *out)
{
	pthread_mutex_lock(&l->mu);
	out->connected = l->connected;
	out->reconnects = l->reconnects;
	snprintf(out->url, sizeof(out->url), "%s", l->url);
	snprintf(out->server_id, sizeof(out->server_id), "%s", l->server_id);
	snprintf(out->last_error, sizeof(out->last_error), "%s", l->last_error);
	pthread_mutex_unlock(&l->mu);
}

bool fleet_link_wait(struct fleet_link *l, unsigned ms)
{
	struct timespec until;
	bool go_on;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->mu);
	if (!l->stop)
		pthread_cond_timedwait(&l->cond, &l->mu, &until);
	go_on = !l->stop;
	pthread_mutex_unlock(&l->mu);
	return go_on;
}

natsStatus fleet_link_kv(struct fleet_link *l, jsCtx **js, kvStore **kv, const char *bucket,
			 const char *description, int64_t max_value, bool create)
{
	jsOptions jo;
	kvConfig kc;
	natsStatus s;

	if (!*js) {
		jsOptions_Init(&jo);
		jo.Wait = FLEET_JS_WAIT_MS;
		s = natsConnection_JetStream(js, l->nc, &jo);
		if (s != NATS_OK)
			return s;
	}
	s = js_KeyValue(kv, *js, bucket);
	if (s != NATS_NOT_FOUND || !create)
		return s;
	kvConfig_Init(&kc);
	kc.Bucket = bucket;
	kc.Description = description;
	kc.History = 1;
	kc.MaxValueSize = max_value;
	kc.StorageType = js_FileStorage;
	kc.Replicas = l->replicas;
	s = js_CreateKeyValue(kv, *js, &kc);
	if (s == NATS_OK)
		pr_info("perimd: fleet: created bucket %s (%d replica%s)\n", bucket, l->replicas,
			l->replicas > 1 ? "s" : "");
	return s;
}

natsStatus fleet_link_bucket(struct fleet_link *l, jsCtx **js, kvStore **kv, bool create)
{
	return fleet_link_kv(l, js, kv, PERIMD_FLEET_BUCKET, "perim fleet block decisions: one key per prefix",
			     PERIMD_FLEET_VALUE_MAX, create);
}
