// SPDX-License-Identifier: GPL-2.0
/* The fleet's hand-over from libnats' threads to the event loop. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fleet/inbox.h"

struct fleet_inbox {
	pthread_mutex_t mu;
	struct fleet_msg *head, *tail;
	int efd;
};

struct fleet_inbox *fleet_inbox_new(void)
{
	struct fleet_inbox *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (in->efd < 0) {
		int err = errno;

		free(in);
		errno = err;
		return NULL;
	}
	pthread_mutex_init(&in->mu, NULL);
	return in;
}

void fleet_msg_free(struct fleet_msg *m)
{
	if (!m)
		return;
	free(m->value);
	free(m);
}

void fleet_inbox_free(struct fleet_inbox *in)
{
	struct fleet_msg *m, *next;

	if (!in)
		return;
	for (m = in->head; m; m = next) {
		next = m->next;
		fleet_msg_free(m);
	}
	close(in->efd);
	pthread_mutex_destroy(&in->mu);
	free(in);
}

int fleet_inbox_fd(const struct fleet_inbox *in)
{
	return in->efd;
}

struct fleet_msg *fleet_msg_new(enum fleet_msg_kind kind)
{
	struct fleet_msg *m = calloc(1, sizeof(*m));

	if (m) {
		m->kind = kind;
		m->fd = -1;
	}
	return m;
}

void fleet_inbox_push(struct fleet_inbox *in, struct fleet_msg *m)
{
	fleet_inbox_push_chain(in, m, m);
}

void fleet_inbox_push_chain(struct fleet_inbox *in, struct fleet_msg *head, struct fleet_msg *tail)
{
	uint64_t one = 1;
	bool was_empty;

	tail->next = NULL;
	pthread_mutex_lock(&in->mu);
	was_empty = !in->head;
	if (in->tail)
		in->tail->next = head;
	else
		in->head = head;
	in->tail = tail;
	pthread_mutex_unlock(&in->mu);
	/* EAGAIN (a full counter) still leaves the loop woken: nothing to do on failure. */
	if (was_empty && write(in->efd, &one, sizeof(one)) < 0)
		return;
}

struct fleet_msg *fleet_inbox_take(struct fleet_inbox *in)
{
	struct fleet_msg *list;
	uint64_t count;

	/* Drain the counter first: a push after this read wakes the loop again. */
	if (read(in->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return NULL;
	pthread_mutex_lock(&in->mu);
	list = in->head;
	in->head = in->tail = NULL;
	pthread_mutex_unlock(&in->mu);
	return list;
}
