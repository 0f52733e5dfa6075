// SPDX-License-Identifier: GPL-2.0
/*
 * The listener table: a flat array (a gateway listens on tens of ports, not
 * thousands), searched linearly per sampled drop, which the datapath bounds
 * at --drop-sample-rate per CPU and second.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "perim_events.h"
#include "procs/listeners.h"
#include "log.h"
#include "procs/proctable.h"
#include "names.h"

#define TCP_ESTABLISHED_STATE_LISTEN 10   /* TCP_LISTEN, as the kernel and /proc/net/tcp number it */
#define TCP_STATE_CLOSE 7                 /* also an unconnected UDP socket's state in /proc/net/udp */

struct perimd_listeners {
	char *proc_root;
	ino_t netns;                   /* perimd's network namespace; 0 when unknown */
	uint64_t tick_ns;
	uint64_t udp_recheck_ns;
	size_t n;
	struct perimd_listener *v;     /* PERIMD_LISTENERS_MAX entries */
};

static ino_t netns_of(const char *proc_root, const char *who)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/ns/net", proc_root, who);
	return stat(path, &st) ? 0 : st.st_ino;
}

struct perimd_listeners *perimd_listeners_new(const char *proc_root)
{
	struct perimd_listeners *l = calloc(1, sizeof(*l));
	long hz = sysconf(_SC_CLK_TCK);

	if (!l)
		return NULL;
	l->proc_root = strdup(proc_root);
	l->v = calloc(PERIMD_LISTENERS_MAX, sizeof(*l->v));
	if (!l->proc_root || !l->v) {
		perimd_listeners_free(l);
		return NULL;
	}
	l->netns = netns_of(proc_root, "self");
	l->tick_ns = 1000000000ull / (hz > 0 ? hz : 100);
	l->udp_recheck_ns = PERIMD_LISTENERS_UDP_RECHECK_NS;
	return l;
}

void perimd_listeners_free(struct perimd_listeners *l)
{
	if (!l)
		return;
	free(l->proc_root);
	free(l->v);
	free(l);
}

size_t perimd_listeners_count(const struct perimd_listeners *l)
{
	return l->n;
}

void perimd_listeners_set_udp_recheck_ns(struct perimd_listeners *l, uint64_t ns)
{
	l->udp_recheck_ns = ns;
}

static bool same_socket(const struct perimd_listener *a, const struct perimd_listener *b)
{
	return a->port == b->port && a->proto == b->proto && a->family == b->family &&
	       !memcmp(a->addr, b->addr, 16);
}

static bool same_process(const struct perimd_listener *a, const struct perimd_listener *b)
{
	return a->pid == b->pid && a->start_ns == b->start_ns;
}

static void remove_at(struct perimd_listeners *l, size_t i)
{
	l->v[i] = l->v[--l->n];
}

static size_t forget_closed_udp(struct perimd_listeners *l);

int perimd_listeners_add(struct perimd_listeners *l, const struct perimd_listener *ln)
{
	for (size_t i = 0; i < l->n; i++) {
		if (same_socket(&l->v[i], ln) && same_process(&l->v[i], ln)) {
			l->v[i] = *ln;      /* a re-bind: the newer socket's inode */
			return 0;
		}
	}
	if (l->n >= PERIMD_LISTENERS_MAX && !forget_closed_udp(l))
		return -ENOSPC;
	l->v[l->n++] = *ln;
	return 0;
}

/* Removes the exact (address, port, pid, start); false when there was none. */
static bool perimd_listeners_remove(struct perimd_listeners *l, const struct perimd_listener *ln)
{
	for (size_t i = 0; i < l->n; i++) {
		if (same_socket(&l->v[i], ln) && same_process(&l->v[i], ln)) {
			remove_at(l, i);
			return true;
		}
	}
	return false;
}

/* Removes every listener on (proto, family, address, port); returns how many. */
static size_t perimd_listeners_remove_all(struct perimd_listeners *l, uint8_t proto, uint16_t family,
					  const uint8_t addr[16], uint16_t port)
{
	struct perimd_listener key = { .port = port, .family = family, .proto = proto };
	size_t removed = 0;

	memcpy(key.addr, addr, 16);
	for (size_t i = 0; i < l->n;) {
		if (same_socket(&l->v[i], &key)) {
			remove_at(l, i);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}

static bool is_any(const struct perimd_listener *ln)
{
	static const uint8_t zero[16];

	if (ln->family == AF_INET)
		return perim_addr_is_v4_mapped(ln->addr) && !memcmp(ln->addr + 12, zero, 4);
	return !memcmp(ln->addr, zero, 16);
}

/* The newest match wins: it is the one added last (a re-listen after a restart). */
static struct perimd_listener *find_entry(struct perimd_listeners *l, uint8_t proto, const uint8_t dst[16],
					  uint16_t dport)
{
	bool dst_v4 = perim_addr_is_v4_mapped(dst);
	struct perimd_listener *wild = NULL;

	for (size_t i = l->n; i-- > 0;) {
		struct perimd_listener *ln = &l->v[i];

		if (ln->port != dport || ln->proto != proto)
			continue;
		if (!memcmp(ln->addr, dst, 16))
			return ln;
		if (!wild && is_any(ln) && (ln->family == AF_INET6 || dst_v4))
			wild = ln;
	}
	return wild;
}

static int udp_socket_listed(const struct perimd_listeners *l, uint64_t inode);

const struct perimd_listener *perimd_listeners_find(struct perimd_listeners *l, uint8_t proto,
						    const uint8_t dst[16], uint16_t dport)
{
	struct perimd_listener *ln;
	uint64_t now;

	while ((ln = find_entry(l, proto, dst, dport))) {
		if (proto != IPPROTO_UDP || !ln->inode)
			return ln;
		now = perim_mono_ns();
		if (now - ln->checked_ns < l->udp_recheck_ns)
			return ln;
		/* An error reading /proc keeps the entry: a wrong name beats none here. */
		if (udp_socket_listed(l, ln->inode) != 0) {
			ln->checked_ns = now;
			return ln;
		}
		remove_at(l, ln - l->v);
	}
	return NULL;
}

/* ---- /proc/net/{tcp,udp}{,6} ---- */

/* The kernel prints each __be32 of the address as a %08X of its raw value. */
static bool parse_hex_addr(const char *hex, size_t words, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (words == 1)
		memcpy(addr, perim_v4_mapped_prefix, sizeof(perim_v4_mapped_prefix));
	for (size_t w = 0; w < words; w++) {
		char word[9];
		uint32_t v;
		char *end;

		memcpy(word, hex + 8 * w, 8);
		word[8] = '\0';
		v = strtoul(word, &end, 16);
		if (*end)
			return false;
		memcpy(addr + (words == 1 ? 12 : 4 * w), &v, 4);
	}
	return true;
}

struct sock_row {
	uint8_t addr[16];
	uint16_t port;
	uint16_t family;
	uint8_t proto;
	unsigned long inode;
};

/*
 * Calls fn for each listening row of <proc_root>/net/<file>: TCP in LISTEN,
 * UDP bound to a port and unconnected (state CLOSE, no remote port).
 */
static int each_listen_row(const struct perimd_listeners *l, const char *file, uint8_t proto, uint16_t family,
			   bool (*fn)(void *ctx, const struct sock_row *r), void *ctx)
{
	unsigned want = proto == IPPROTO_TCP ? TCP_ESTABLISHED_STATE_LISTEN : TCP_STATE_CLOSE;
	size_t words = family == AF_INET ? 1 : 4;
	char path[256], line[512], hex[33];
	unsigned port, rport, state;
	struct sock_row r;
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/%s", l->proc_root, file);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;   /* no IPv6 in this kernel */
	if (!fgets(line, sizeof(line), f)) {       /* the header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %x %*s %*s %*s %*s %*s %lu", hex, &port,
			   &rport, &state, &r.inode) != 5 || strlen(hex) != 8 * words)
			continue;
		if (state != want || !port || (proto == IPPROTO_UDP && rport) || !parse_hex_addr(hex, words, r.addr))
			continue;
		r.port = port;
		r.family = family;
		r.proto = proto;
		if (!fn(ctx, &r))
			break;
	}
	fclose(f);
	return 0;
}

static int each_listen_socket(const struct perimd_listeners *l, uint8_t proto,
			      bool (*fn)(void *ctx, const struct sock_row *r), void *ctx)
{
	bool tcp = proto == IPPROTO_TCP;
	int err = each_listen_row(l, tcp ? "tcp" : "udp", proto, AF_INET, fn, ctx);

	return err ? err : each_listen_row(l, tcp ? "tcp6" : "udp6", proto, AF_INET6, fn, ctx);
}

struct still_ctx {
	const struct perimd_listener *key;
	bool found;
};

static bool match_still(void *ctx, const struct sock_row *r)
{
	struct still_ctx *c = ctx;

	if (r->port == c->key->port && r->family == c->key->family && !memcmp(r->addr, c->key->addr, 16))
		c->found = true;
	return !c->found;
}

/* Does this namespace still have a LISTEN socket on (family, addr, port)? Errors say yes. */
static bool still_listening(const struct perimd_listeners *l, const struct perimd_listener *key)
{
	struct still_ctx c = { key, false };

	if (each_listen_socket(l, IPPROTO_TCP, match_still, &c))
		return true;
	return c.found;
}

/* ---- UDP: is a socket (by inode) still there? ---- */

struct udp_inodes {
	uint64_t *v;                   /* sorted */
	size_t n, cap;
};

static bool collect_inode(void *ctx, const struct sock_row *r)
{
	struct udp_inodes *u = ctx;

	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 256;
		uint64_t *v = realloc(u->v, cap * sizeof(*v));

		if (!v)
			return false;
		u->v = v;
		u->cap = cap;
	}
	u->v[u->n++] = r->inode;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The inodes of this namespace's bound, unconnected UDP sockets, sorted. */
static int listed_udp_inodes(const struct perimd_listeners *l, struct udp_inodes *u)
{
	int err = each_listen_socket(l, IPPROTO_UDP, collect_inode, u);

	if (!err && u->n && !u->v)
		err = -ENOMEM;
	if (!err && u->n)   /* no sockets: u->v is NULL, which qsort must not be given */
		qsort(u->v, u->n, sizeof(*u->v), cmp_u64);
	return err;
}

static bool inode_in(const struct udp_inodes *u, uint64_t inode)
{
	return u->n && bsearch(&inode, u->v, u->n, sizeof(*u->v), cmp_u64);
}

/* 1 when the kernel lists the UDP socket, 0 when not, -errno when /proc cannot tell. */
static int udp_socket_listed(const struct perimd_listeners *l, uint64_t inode)
{
	struct udp_inodes u = { 0 };
	int err = listed_udp_inodes(l, &u);

	if (!err)
		err = inode_in(&u, inode);
	free(u.v);
	return err;
}

/* Forgets every UDP entry whose socket the kernel no longer lists; returns how many. */
static size_t forget_closed_udp(struct perimd_listeners *l)
{
	struct udp_inodes u = { 0 };
	uint64_t now = perim_mono_ns();
	size_t removed = 0;

	if (listed_udp_inodes(l, &u)) {
		free(u.v);
		return 0;
	}
	for (size_t i = 0; i < l->n;) {
		struct perimd_listener *ln = &l->v[i];

		if (ln->proto == IPPROTO_UDP && ln->inode && !inode_in(&u, ln->inode)) {
			remove_at(l, i);
			removed++;
			continue;
		}
		if (ln->proto == IPPROTO_UDP)
			ln->checked_ns = now;
		i++;
	}
	free(u.v);
	return removed;
}

/* ---- inode -> process, by one walk over /proc/<pid>/fd ---- */

struct pending {
	struct sock_row *rows;
	size_t n, cap;
	uint32_t *pid;                 /* per row, 0 = not found yet */
};

static bool collect_row(void *ctx, const struct sock_row *r)
{
	struct pending *p = ctx;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct sock_row *rows = realloc(p->rows, cap * sizeof(*rows));

		if (!rows)
			return false;
		p->rows = rows;
		p->cap = cap;
	}
	p->rows[p->n++] = *r;
	return p->n < PERIMD_LISTENERS_MAX;
}

static size_t match_inode(struct pending *p, unsigned long inode, uint32_t pid)
{
	size_t hits = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (!p->pid[i] && p->rows[i].inode == inode) {
			p->pid[i] = pid;
			hits++;
		}
	}
	return hits;
}

/* Maps the pending rows' inodes to pids; returns how many rows are still without one. */
static size_t scan_fds(const struct perimd_listeners *l, struct pending *p, size_t missing)
{
	DIR *proc = opendir(l->proc_root);
	struct dirent *de;

	if (!proc)
		return missing;
	while (missing && (de = readdir(proc))) {
		uint32_t pid = strtoul(de->d_name, NULL, 10);
		char dir[300], link[600], target[64];
		struct dirent *fe;
		DIR *fds;

		if (!pid)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s/fd", l->proc_root, de->d_name);
		fds = opendir(dir);
		if (!fds)
			continue;   /* gone, or a kernel thread */
		while (missing && (fe = readdir(fds))) {
			unsigned long inode;
			ssize_t n;

			snprintf(link, sizeof(link), "%s/%s", dir, fe->d_name);
			n = readlink(link, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			if (sscanf(target, "socket:[%lu]", &inode) == 1)
				missing -= match_inode(p, inode, pid);
		}
		closedir(fds);
	}
	closedir(proc);
	return missing;
}

/* The process's start time in boot-time ns, from field 22 of /proc/<pid>/stat. */
static int start_ns_of(const struct perimd_listeners *l, uint32_t pid, uint64_t *start_ns)
{
	char path[256];
	uint64_t ticks;
	int err;

	snprintf(path, sizeof(path), "%s/%u/stat", l->proc_root, pid);
	err = perim_proc_start_ticks(path, &ticks);
	if (!err)
		*start_ns = ticks * l->tick_ns;
	return err;
}

int perimd_listeners_scan(struct perimd_listeners *l)
{
	struct pending p = { 0 };
	uint64_t now = perim_mono_ns();
	int err, added = 0;

	err = each_listen_socket(l, IPPROTO_TCP, collect_row, &p);
	if (!err)
		err = each_listen_socket(l, IPPROTO_UDP, collect_row, &p);
	if (err || !p.n) {
		free(p.rows);
		return err;
	}
	p.pid = calloc(p.n, sizeof(*p.pid));
	if (!p.pid) {
		free(p.rows);
		return -ENOMEM;
	}
	scan_fds(l, &p, p.n);
	for (size_t i = 0, had; i < p.n; i++) {
		struct perimd_listener ln = { .port = p.rows[i].port, .family = p.rows[i].family, .pid = p.pid[i],
					      .proto = p.rows[i].proto };

		if (ln.proto == IPPROTO_UDP) {
			ln.inode = p.rows[i].inode;
			ln.checked_ns = now;
		}

		memcpy(ln.addr, p.rows[i].addr, 16);
		if (!ln.pid || start_ns_of(l, ln.pid, &ln.start_ns))
			continue;   /* no process holds it (closing), or it just exited */
		had = l->n;
		/* A row seen twice (a re-bind, SO_REUSEPORT) refreshes its entry: not one more. */
		if (perimd_listeners_add(l, &ln) == 0 && l->n > had)
			added++;
	}
	free(p.pid);
	free(p.rows);
	return added;
}

/* ---- tracer events ---- */

static bool in_our_netns(const struct perimd_listeners *l, uint32_t pid)
{
	char who[16];

	snprintf(who, sizeof(who), "%u", pid);
	return l->netns && netns_of(l->proc_root, who) == l->netns;
}

void perimd_listeners_on_sock_state(struct perimd_listeners *l, const struct perim_ev_sock *e)
{
	struct perimd_listener ln = {
		.port = e->sport, .family = e->family, .pid = e->hdr.pid, .start_ns = e->hdr.start_ns,
		.proto = IPPROTO_TCP,
	};
	int err;

	if (e->proto != IPPROTO_TCP)
		return;
	memcpy(ln.addr, e->saddr, 16);
	if (e->newstate == TCP_ESTABLISHED_STATE_LISTEN) {
		/* listen() runs in the owner's context; a process already gone cannot be checked. */
		if (!in_our_netns(l, ln.pid))
			return;
		err = perimd_listeners_add(l, &ln);
		if (err)
			pr_warn("perimd: listener table full (%d): port %u not attributed\n", PERIMD_LISTENERS_MAX,
				ln.port);
		return;
	}
	if (e->oldstate != TCP_ESTABLISHED_STATE_LISTEN || e->newstate != TCP_STATE_CLOSE)
		return;
	/*
	 * Closed by its owner: exact. Closed by another process (an inherited
	 * socket) or in another namespace: forget the port only when the kernel
	 * no longer lists it here.
	 */
	if (!perimd_listeners_remove(l, &ln) && !still_listening(l, &ln))
		perimd_listeners_remove_all(l, IPPROTO_TCP, ln.family, ln.addr, ln.port);
}

void perimd_listeners_on_bind(struct perimd_listeners *l, const struct perim_ev_bind *e)
{
	struct perimd_listener ln = {
		.port = e->port, .family = e->family, .pid = e->hdr.pid, .start_ns = e->hdr.start_ns,
		.proto = IPPROTO_UDP, .inode = e->inode, .checked_ns = perim_mono_ns(),
	};

	/* TCP listens are sock_state's; a failed bind took nothing. */
	if (e->proto != IPPROTO_UDP || e->result != 0 || !e->port)
		return;
	/* bind() runs in the owner's context; a process already gone cannot be checked. */
	if (!in_our_netns(l, ln.pid))
		return;
	memcpy(ln.addr, e->addr, 16);
	if (perimd_listeners_add(l, &ln))
		pr_warn("perimd: listener table full (%d): UDP port %u not attributed\n", PERIMD_LISTENERS_MAX,
			ln.port);
}
