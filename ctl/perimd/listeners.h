/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who listens on a local TCP port, for attributing sampled XDP drops to the
 * process they were meant for (drops.c). Kept from the tracers' sock_state
 * events (CLOSE -> LISTEN adds the listening process, LISTEN -> CLOSE removes
 * it) and filled at start from /proc/net/tcp{,6}, each socket's inode mapped
 * to its process by one scan of /proc/<pid>/fd, so listeners opened before
 * perimd are known too.
 *
 * Only perimd's network namespace: the tracepoint sees every namespace, so a
 * LISTEN event counts only when the process's /proc/<pid>/ns/net is ours.
 * Processes are named by pid plus start time (the process table's key), so a
 * listener that exits and a new process on the same port are told apart.
 *
 * UDP is not attributed: no tracer reports bind(), and mapping a UDP port to
 * a process needs a scan of every /proc/<pid>/fd per change; UDP drops carry "listener":
 * null. Known gap: a listening socket inherited across fork stays attributed
 * to the process that called listen() until it is closed.
 */
#ifndef PERIMD_LISTENERS_H
#define PERIMD_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERIMD_LISTENERS_MAX 4096

struct perim_ev_sock;

struct perimd_listener {
	uint8_t addr[16];          /* local address, IPv4-mapped for AF_INET; zero = any */
	uint16_t port;
	uint16_t family;           /* AF_INET or AF_INET6 as the socket has it */
	uint32_t pid;
	uint64_t start_ns;         /* boot-time ns, as the tracers' events carry it */
};

struct perimd_listeners;

/* proc_root: "/proc" (tests pass another root). NULL on ENOMEM. */
struct perimd_listeners *perimd_listeners_new(const char *proc_root);
void perimd_listeners_free(struct perimd_listeners *l);

/* Add (or refresh) / remove one listener; add fails with -ENOSPC past PERIMD_LISTENERS_MAX. */
int perimd_listeners_add(struct perimd_listeners *l, const struct perimd_listener *ln);
/* Removes the exact (address, port, pid, start); false when there was none. */
bool perimd_listeners_remove(struct perimd_listeners *l, const struct perimd_listener *ln);
/* Removes every listener on (family, address, port); returns how many. */
size_t perimd_listeners_remove_all(struct perimd_listeners *l, uint16_t family, const uint8_t addr[16],
				   uint16_t port);

/*
 * The process listening for a TCP packet to (dst, dport): a listener on that
 * exact address first, else one on the wildcard address (an AF_INET6
 * wildcard also takes IPv4, as a dual-stack socket does). dst is
 * IPv4-mapped for IPv4. NULL when nobody listens.
 */
const struct perimd_listener *perimd_listeners_find(const struct perimd_listeners *l, const uint8_t dst[16],
						    uint16_t dport);

/* A tracer sock_state event: LISTEN transitions update the table. */
void perimd_listeners_on_sock_state(struct perimd_listeners *l, const struct perim_ev_sock *e);

/*
 * Reads <proc_root>/net/tcp and tcp6 (this namespace's sockets) and maps the
 * LISTEN sockets to processes through <proc_root>/<pid>/fd. Returns the
 * number of listeners added, or -errno.
 */
int perimd_listeners_scan(struct perimd_listeners *l);

size_t perimd_listeners_count(const struct perimd_listeners *l);

#endif /* PERIMD_LISTENERS_H */
