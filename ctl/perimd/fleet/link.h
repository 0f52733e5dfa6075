/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NATS connection and the two threads that make its blocking calls, so
 * perimd's event loop never does: the watcher (binds or creates the
 * decisions bucket, watches every key, re-watches after a reconnect) and
 * the writer (block/unblock requests). libnats connects, and reconnects
 * forever, in its own threads; its callbacks only update this struct.
 * Everything the loop needs arrives through the inbox.
 */
#ifndef PERIMD_FLEET_LINK_H
#define PERIMD_FLEET_LINK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <nats/nats.h>

#include "fleet/inbox.h"
#include "fleet/options.h"

/* How long a JetStream request (a put, a delete, a bucket lookup) waits for its answer. */
#define FLEET_JS_WAIT_MS 3000

/* A block (value set) or unblock (value NULL) waiting for the writer. */
struct fleet_request {
	struct fleet_request *next;
	char key[FLEET_KEY_MAX];
	char *value;
	int reply_fd;
};

struct fleet_link {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	natsConnection *nc;
	struct fleet_inbox *inbox;
	int replicas;              /* of a bucket this gateway creates */
	/* Under mu: */
	bool stop;
	bool connected;
	bool closed;               /* libnats' last callback ran: the link may be freed */
	uint64_t watch_gen;        /* bumped on every (re)connect and missed heartbeat: the watcher starts over */
	uint64_t reconnects;
	char url[256];             /* the server connected to, "" when not */
	char server_id[64];
	char last_error[256];      /* the server's or library's last asynchronous complaint */
	uint64_t last_error_ms;
	struct fleet_request *req_head, *req_tail;
	/* The threads: */
	pthread_t watcher, writer;
	bool watcher_started, writer_started;
};

/*
 * Builds the options (servers, name, credentials, TLS) and starts
 * connecting in the background. 0, or -1 with err set (bad credentials
 * file, ...); nothing is left running on error.
 */
int fleet_link_start(struct fleet_link *l, const struct perimd_fleet_opts *o, const char *name,
		     struct fleet_inbox *inbox, char *err, size_t errlen);
void fleet_link_stop(struct fleet_link *l);

/* Queues a request for the writer (taking r). */
void fleet_link_request(struct fleet_link *l, struct fleet_request *r);

/* A status snapshot under the lock. */
struct fleet_link_status {
	bool connected;
	uint64_t reconnects;
	char url[256];
	char server_id[64];
	char last_error[256];
};
void fleet_link_status(struct fleet_link *l, struct fleet_link_status *out);

/* Thread bodies (watch.c, writer.c). */
void *fleet_watcher_main(void *arg);
void *fleet_writer_main(void *arg);

/* For the threads: wait up to ms for a change; false when stopping. */
bool fleet_link_wait(struct fleet_link *l, unsigned ms);
/* Binds the decisions bucket (creating it when create and it does not exist). */
natsStatus fleet_link_bucket(struct fleet_link *l, jsCtx **js, kvStore **kv, bool create);
/* Any KV bucket of the fleet, the same way (history 1, file storage, the link's replicas). */
natsStatus fleet_link_kv(struct fleet_link *l, jsCtx **js, kvStore **kv, const char *bucket,
			 const char *description, int64_t max_value, bool create);
/* Records an asynchronous error text (any thread). */
void fleet_link_note_error(struct fleet_link *l, const char *text);
uint64_t fleet_now_ms(void);

#endif /* PERIMD_FLEET_LINK_H */
