/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What libnats' threads hand to perimd's event loop: a mutex-protected FIFO
 * and an eventfd the loop watches. Pushing never blocks on the loop (only on
 * the mutex, held for a pointer swap); the loop takes the whole list at once.
 */
#ifndef PERIMD_FLEET_INBOX_H
#define PERIMD_FLEET_INBOX_H

#include <stddef.h>
#include <stdint.h>

enum fleet_msg_kind {
	FLEET_MSG_ENTRY,           /* a KV entry: key, op, revision, delta, value */
	FLEET_MSG_SNAPSHOT_BEGIN,  /* a new watcher: what follows is the bucket's whole state */
	FLEET_MSG_SNAPSHOT_END,    /* the bucket's current values are all in */
	FLEET_MSG_REPLY,           /* a block/unblock request's outcome for the client on fd */
};

#define FLEET_KEY_MAX 64

struct fleet_msg {
	struct fleet_msg *next;
	enum fleet_msg_kind kind;
	char key[FLEET_KEY_MAX];
	/* ENTRY */
	int deleted;               /* a delete or purge marker, not a value */
	uint64_t revision;
	uint64_t delta;            /* entries the watcher still has to deliver */
	/* SNAPSHOT_BEGIN */
	uint64_t watch_start_ms;   /* wall clock when the watcher asked for the bucket's state */
	size_t value_len;
	char *value;               /* NUL-terminated copy */
	/* REPLY */
	int fd;
	int status;                /* PERIM_EXIT_* */
	char text[256];            /* the error, when status != 0 */
};

struct fleet_inbox;

struct fleet_inbox *fleet_inbox_new(void);   /* NULL with errno */
void fleet_inbox_free(struct fleet_inbox *in);
int fleet_inbox_fd(const struct fleet_inbox *in);

struct fleet_msg *fleet_msg_new(enum fleet_msg_kind kind);   /* zeroed; NULL: out of memory */
void fleet_msg_free(struct fleet_msg *m);

/* Any thread: appends m (owned by the inbox from now on) and wakes the loop. */
void fleet_inbox_push(struct fleet_inbox *in, struct fleet_msg *m);
/* The same for a chain head..tail (linked by next): one lock, one wake-up for them all. */
void fleet_inbox_push_chain(struct fleet_inbox *in, struct fleet_msg *head, struct fleet_msg *tail);
/* The loop: every message pushed so far, oldest first (the caller frees them). */
struct fleet_msg *fleet_inbox_take(struct fleet_inbox *in);

#endif /* PERIMD_FLEET_INBOX_H */
