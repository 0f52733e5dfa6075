/* SPDX-License-Identifier: GPL-2.0 */
/* Group rulesets inside perimd: the loop's side (group.c) and the threads (watch.c, worker.c). */
#ifndef PERIMD_FLEET_GROUP_INT_H
#define PERIMD_FLEET_GROUP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <nats/nats.h>

#include "fleet/group/group.h"
#include "fleet/inbox.h"
#include "fleet/link.h"
#include "fleet/options.h"

/* Work for the worker thread; its outcome comes back as a FLEET_MSG_REPLY on fd. */
enum group_job_kind {
	GROUP_JOB_PUBLISH,        /* value -> perim-rulesets/group; reply value: the result JSON */
	GROUP_JOB_LIST,           /* perim-gateways/group.* -> reply value: the result JSON */
};

struct group_job {
	struct group_job *next;
	enum group_job_kind kind;
	int fd;
	char group[PERIMD_FLEET_NAME_MAX];
	char file[256];            /* PUBLISH: as the operator named it */
	char *value;
};

struct fleet_group {
	struct perimd *d;
	struct fleet_link *link;
	struct fleet_inbox *inbox;       /* the threads -> the loop */
	char name[PERIMD_FLEET_NAME_MAX];
	char group[PERIMD_FLEET_NAME_MAX];   /* "" : not in a group */
	char record[4200];               /* STATE.group; "" without a state file */
	/* The loop's: */
	uint64_t revision;               /* applied (0: none yet) */
	uint64_t applied_ms;
	uint64_t bucket_revision;        /* the newest the watch delivered */
	uint64_t refused_revision;       /* the last refused, 0: the last delivery applied */
	char refusal[512];
	uint64_t applies, refusals;
	char *retry_text;                /* refused for a passing cause (exit 1): tried again */
	uint64_t retry_revision;
	int retry_timer_fd;
	/* Under mu, for the threads: */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;
	struct group_job *head, *tail;
	char *status;                    /* this gateway's report, to publish; NULL: published */
	pthread_t watcher, worker;
	bool watcher_started, worker_started;
};

void *fleet_group_watcher_main(void *arg);
void *fleet_group_worker_main(void *arg);

/* Wait up to ms for a change under g->mu; false once stopping. */
bool fleet_group_wait(struct fleet_group *g, unsigned ms);
/* The same with g->mu held (no wake-up lost between a check and the wait). */
void fleet_group_wait_locked(struct fleet_group *g, unsigned ms);
/* The link's state: up, and its watch generation (bumped by every reconnect). */
bool fleet_group_link_gen(struct fleet_group *g, uint64_t *gen);
/* Binds bucket (creating it, history 1, values up to max, when create and it is missing). */
natsStatus fleet_group_bucket(struct fleet_group *g, jsCtx **js, kvStore **kv, const char *bucket,
			      int64_t max, bool create);

#endif /* PERIMD_FLEET_GROUP_INT_H */
