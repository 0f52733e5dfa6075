/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who listens on a local TCP or UDP port, for attributing sampled XDP drops
 * to the process they were meant for (drops.c). Filled at start from
 * /proc/net/{tcp,tcp6,udp,udp6}, each socket's inode mapped to its process by
 * one scan of /proc/<pid>/fd, so sockets opened before perimd are known too.
 *
 * TCP: kept from the tracers' sock_state events (CLOSE -> LISTEN adds the
 * listening process, LISTEN -> CLOSE removes it).
 *
 * UDP: a socket bound to a port, and not connected, is its "listener". The
 * tracers' bind events add it. No tracepoint tells when a UDP socket closes
 * (inet_sock_set_state is TCP's; sys_enter_close runs for every fd of every
 * process, and one close of a dup'ed or inherited fd does not close the
 * socket), so an entry carries the socket's inode and a lookup that hits an
 * entry not checked for PERIMD_LISTENERS_UDP_RECHECK_NS re-reads this
 * namespace's /proc/net/udp{,6}: a socket no longer listed is forgotten and
 * the lookup goes on. That costs one read per hot port and second, only while
 * drops to it are sampled; a drop within that second after a close may still
 * name the old process. A full table first forgets every UDP entry the kernel
 * no longer lists. Misses do not rescan /proc (a flood to closed ports would
 * pay a walk of every /proc/<pid>/fd per sample): a UDP socket bound while
 * the bind hook is unavailable stays unattributed until perimd restarts.
 *
 * Only perimd's network namespace: the tracepoints see every namespace, so an
 * event counts only when the process's /proc/<pid>/ns/net is ours.
 * Processes are named by pid plus start time (the process table's key), so a
 * listener that exits and a new process on the same port are told apart.
 * Known gap: a socket inherited across fork stays attributed to the process
 * that called listen() or bind() until it is closed.
 */
#ifndef PERIMD_LISTENERS_H
#define PERIMD_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERIMD_LISTENERS_MAX 4096

#define PERIMD_LISTENERS_UDP_RECHECK_NS 1000000000ull

struct perim_ev_sock;
struct perim_ev_bind;

struct perimd_listener {
	uint8_t addr[16];          /* local address, IPv4-mapped for AF_INET; zero = any */
	uint16_t port;
	uint16_t family;           /* AF_INET or AF_INET6 as the socket has it */
	uint32_t pid;
	uint64_t start_ns;         /* boot-time ns, as the tracers' events carry it */
	uint8_t proto;             /* IPPROTO_TCP or IPPROTO_UDP */
	uint64_t inode;            /* UDP: the socket's inode, re-checked in /proc/net/udp{,6}; 0 = unknown */
	uint64_t checked_ns;       /* UDP: CLOCK_MONOTONIC when the kernel last listed it */
};

struct perimd_listeners;

/* proc_root: "/proc" (tests pass another root). NULL on ENOMEM. */
struct perimd_listeners *perimd_listeners_new(const char *proc_root);
void perimd_listeners_free(struct perimd_listeners *l);

/* Add (or refresh) / remove one listener; add fails with -ENOSPC past PERIMD_LISTENERS_MAX. */
int perimd_listeners_add(struct perimd_listeners *l, const struct perimd_listener *ln);

/*
 * The process listening for a proto (IPPROTO_TCP or IPPROTO_UDP) packet to
 * (dst, dport): a listener on that exact address first, else one on the
 * wildcard address (an AF_INET6 wildcard also takes IPv4, as a dual-stack
 * socket does). dst is IPv4-mapped for IPv4. NULL when nobody listens. May
 * re-check (and forget) UDP entries, see above: the pointer is valid until
 * the next call.
 */
const struct perimd_listener *perimd_listeners_find(struct perimd_listeners *l, uint8_t proto,
						    const uint8_t dst[16], uint16_t dport);

/* A tracer sock_state event: LISTEN transitions update the table. */
void perimd_listeners_on_sock_state(struct perimd_listeners *l, const struct perim_ev_sock *e);

/* A tracer bind event: a successful UDP bind in this namespace adds its process. */
void perimd_listeners_on_bind(struct perimd_listeners *l, const struct perim_ev_bind *e);

/* Tests: how long a UDP entry is trusted before a hit re-checks it (default PERIMD_LISTENERS_UDP_RECHECK_NS). */
void perimd_listeners_set_udp_recheck_ns(struct perimd_listeners *l, uint64_t ns);

/*
 * Reads <proc_root>/net/{tcp,tcp6,udp,udp6} (this namespace's sockets) and
 * maps the LISTEN TCP sockets and the bound, unconnected UDP sockets to
 * processes through <proc_root>/<pid>/fd. Returns the number of listeners
 * added, or -errno.
 */
int perimd_listeners_scan(struct perimd_listeners *l);

size_t perimd_listeners_count(const struct perimd_listeners *l);

#endif /* PERIMD_LISTENERS_H */
