// SPDX-License-Identifier: GPL-2.0
/* What both group threads share: waiting, the link's state, binding a bucket. */
#include <time.h>

#include "fleet/group/group_int.h"
#include "log.h"

void fleet_group_wait_locked(struct fleet_group *g, unsigned ms)
{
	struct timespec until;

	if (g->stop || !ms)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&g->cond, &g->mu, &until);
}

bool fleet_group_wait(struct fleet_group *g, unsigned ms)
{
	bool go_on;

	pthread_mutex_lock(&g->mu);
	fleet_group_wait_locked(g, ms);
	go_on = !g->stop;
	pthread_mutex_unlock(&g->mu);
	return go_on;
}

bool fleet_group_link_gen(struct fleet_group *g, uint64_t *gen)
{
	struct fleet_link *l = g->link;
	bool up;

	pthread_mutex_lock(&l->mu);
	up = l->connected;
	*gen = l->watch_gen;
	pthread_mutex_unlock(&l->mu);
	return up;
}

natsStatus fleet_group_bucket(struct fleet_group *g, jsCtx **js, kvStore **kv, const char *bucket,
			      int64_t max, bool create)
{
	return fleet_link_kv(g->link, js, kv, bucket, "perim fleet group rulesets and gateway reports", max, create);
}
