// SPDX-License-Identifier: GPL-2.0
/*
 * fleet_load: load for the fleet benchmark (tests/bench/sec_fleet.sh).
 *   fleet_load URL put N      N decisions (10.A.B.0/24 ...) written into the
 *                             bucket as fast as JetStream acknowledges them
 *                             (asynchronous publishes); prints "written N ns"
 *   fleet_load URL watch N    N watchers of the whole bucket in this process
 *                             (light simulated gateways), draining until killed
 *   fleet_load URL count SUBJECT...
 *                             counts the messages on the SUBJECTs until killed;
 *                             prints "received N dropped D" whenever N changed
 *                             (checked every 100 ms; D: dropped by the client)
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#define BUCKET "perim-decisions"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(const char *what, natsStatus s)
{
	fprintf(stderr, "fleet_load: %s: %s\n", what, natsStatus_GetText(s));
	return 1;
}

static int put(natsConnection *nc, int n)
{
	jsOptions jo;
	jsCtx *js = NULL;
	jsPubOptions po;
	natsStatus s;
	uint64_t t0;
	char subj[96], val[256];

	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = 4096;
	s = natsConnection_JetStream(&js, nc, &jo);
	if (s != NATS_OK)
		return fail("jetstream", s);
	t0 = now_ns();
	for (int i = 0; i < n && s == NATS_OK; i++) {
		int a = 100 + i / 256, b = i % 256;

		snprintf(subj, sizeof(subj), "$KV." BUCKET ".10.%d.%d.0/24", a, b);
		snprintf(val, sizeof(val), "{\"prefix\":\"10.%d.%d.0/24\",\"ttl\":0,\"reason\":\"bench\","
			 "\"created_ms\":%" PRIu64 ",\"author\":\"bench\"}", a, b, wall_ms());
		s = js_PublishAsync(js, subj, val, (int)strlen(val), NULL);
	}
	if (s == NATS_OK) {
		jsPubOptions_Init(&po);
		po.MaxWait = 30000;
		s = js_PublishAsyncComplete(js, &po);
	}
	if (s != NATS_OK)
		return fail("publish", s);
	printf("written %d %" PRIu64 "\n", n, now_ns() - t0);
	jsCtx_Destroy(js);
	return 0;
}

static int watch(natsConnection *nc, int n)
{
	kvWatcher **w = calloc(n, sizeof(*w));
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	natsStatus s;

	if (!w)
		return 1;
	s = natsConnection_JetStream(&js, nc, NULL);
	if (s == NATS_OK)
		s = js_KeyValue(&kv, js, BUCKET);
	for (int i = 0; i < n && s == NATS_OK; i++)
		s = kvStore_WatchAll(&w[i], kv, NULL);
	if (s != NATS_OK)
		return fail("watch", s);
	printf("watching %d\n", n);
	fflush(stdout);
	for (;;) {
		for (int i = 0; i < n; i++) {
			kvEntry *e = NULL;

			while (kvWatcher_Next(&e, w[i], 1) == NATS_OK) {
				kvEntry_Destroy(e);
				e = NULL;
			}
		}
		usleep(1000);
	}
}

static void on_counted(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	uint64_t *received = closure;

	/* Each subscription delivers on its own thread. */
	__atomic_add_fetch(received, 1, __ATOMIC_RELAXED);
	natsMsg_Destroy(msg);
}

static int count(natsConnection *nc, int n_subjects, char **subjects)
{
	natsSubscription *subs[8] = { NULL };
	uint64_t received = 0, shown = UINT64_MAX;
	natsStatus s = NATS_OK;

	if (n_subjects > 8) {
		fprintf(stderr, "fleet_load: count: at most 8 subjects\n");
		return 2;
	}
	for (int i = 0; i < n_subjects && s == NATS_OK; i++) {
		s = natsConnection_Subscribe(&subs[i], nc, subjects[i], on_counted, &received);
		/* No client-side limit: a message the counter missed must be the server's doing. */
		if (s == NATS_OK)
			s = natsSubscription_SetPendingLimits(subs[i], -1, -1);
	}
	if (s == NATS_OK)
		s = natsConnection_Flush(nc);
	if (s != NATS_OK)
		return fail("subscribe", s);
	printf("counting\n");
	fflush(stdout);
	for (;;) {
		uint64_t now = __atomic_load_n(&received, __ATOMIC_RELAXED);
		int64_t dropped = 0, d;

		if (now != shown) {
			for (int i = 0; i < n_subjects; i++)
				if (natsSubscription_GetDropped(subs[i], &d) == NATS_OK)
					dropped += d;
			printf("received %" PRIu64 " dropped %" PRId64 "\n", now, dropped);
			fflush(stdout);
			shown = now;
		}
		usleep(100000);
	}
}

int main(int argc, char **argv)
{
	bool counting = argc >= 4 && !strcmp(argv[2], "count");
	natsConnection *nc = NULL;
	natsStatus s;
	int n = 0;

	if (!counting && (argc != 4 || (n = atoi(argv[3])) <= 0 || (strcmp(argv[2], "put") && strcmp(argv[2], "watch")))) {
		fprintf(stderr, "usage: fleet_load URL put|watch N | fleet_load URL count SUBJECT...\n");
		return 2;
	}
	s = natsConnection_ConnectTo(&nc, argv[1]);
	if (s != NATS_OK)
		return fail(argv[1], s);
	if (counting)
		return count(nc, argc - 3, argv + 3);
	return !strcmp(argv[2], "put") ? put(nc, n) : watch(nc, n);
}
