// SPDX-License-Identifier: GPL-2.0
/*
 * Events as JSON lines. Every event has
 *   type, time (UTC, µs), ts_ns (monotonic), seq, cpu, pid, tid, ppid, uid,
 *   user, gid, comm, cgroup_id
 * and, where the process table knows the process (exec, connect, accept,
 * and every other event when known), exe and argv (an array).
 * Per type:
 *   exec:       filename, argv_truncated, old_pid
 *   fork:       child_pid
 *   exit:       exit_code, signal (0 when it exited normally), core_dumped
 *   signal:     sig, signame, target_pid, target_tid, target_comm, target_state, group, result
 *   connect, accept, sock_state:
 *               flow {family "ipv4|ipv6", proto "tcp|udp|<n>", src, sport, dst, dport},
 *               result (connect: 0 or -errno), error ("ECONNREFUSED" ...), fd,
 *               sock_state: old_state, new_state ("SYN_SENT" ...)
 *   bind:       flow {family, proto (null when the bind failed), src, sport},
 *               result (0 or -errno), error ("EADDRINUSE" ...), fd, inode
 *   ptrace:     request, target_pid
 *   module:     name
 *   bpf:        cmd, cmd_name
 *   setid:      call ("setresuid" ...), ids []
 *   mount:      source, target, fstype, flags
 *   file:       op ("unlink|rename|chmod|chown|truncate|write|attr"), path,
 *               path_kind ("arg|dentry|full"), dirfd, and per op: path2,
 *               mode (octal string), flags, length; chmod, chown and attr
 *               print the file's uid and gid as the header's uid and gid
 *   creds:      old {uid,euid,gid,egid}, new {...}, escalation (non-root to root), via
 *   guard:      op ("open|exec|bpf"), mode ("audit|enforce"), denied, rule, path, bpf_cmd
 *   lost:       ring ("events|security"), cpu, count   (a sequence gap);
 *               ring "follower", count: events not sent to that reader (follower.h)
 *   xdp_drop:   a sampled drop, not a tracer event: only type, time, ts_ns,
 *               dev, reason, rule, flow, weight, len, listener (see .h)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "perim_drops.h"
#include "perim_events.h"
#include "events/events_json.h"
#include "events/json_fill.h"
#include "procs/proctable.h"
#include "names.h"

static const char *const type_names[PERIM_EV_TYPE_COUNT] = PERIM_EV_TYPE_NAMES;

static const size_t type_sizes[PERIM_EV_MAX] = {
	[PERIM_EV_EXEC] = sizeof(struct perim_ev_exec), [PERIM_EV_FORK] = sizeof(struct perim_ev_fork),
	[PERIM_EV_EXIT] = sizeof(struct perim_ev_exit), [PERIM_EV_SIGNAL] = sizeof(struct perim_ev_signal),
	[PERIM_EV_CONNECT] = sizeof(struct perim_ev_sock), [PERIM_EV_ACCEPT] = sizeof(struct perim_ev_sock),
	[PERIM_EV_SOCK_STATE] = sizeof(struct perim_ev_sock), [PERIM_EV_PTRACE] = sizeof(struct perim_ev_ptrace),
	[PERIM_EV_MODULE] = sizeof(struct perim_ev_module), [PERIM_EV_BPF] = sizeof(struct perim_ev_bpf),
	[PERIM_EV_SETID] = sizeof(struct perim_ev_setid), [PERIM_EV_MOUNT] = sizeof(struct perim_ev_mount),
	[PERIM_EV_FILE] = sizeof(struct perim_ev_file), [PERIM_EV_CREDS] = sizeof(struct perim_ev_creds),
	[PERIM_EV_GUARD] = sizeof(struct perim_ev_guard), [PERIM_EV_BIND] = sizeof(struct perim_ev_bind),
};

const char *perim_ev_type_name(int type)
{
	return type > 0 && type <= PERIM_EV_XDP_DROP_TYPE ? type_names[type] : NULL;
}

int perim_ev_type_parse(const char *name)
{
	for (int t = 1; t <= PERIM_EV_XDP_DROP_TYPE; t++)
		if (type_names[t] && !strcmp(type_names[t], name))
			return t;
	return -1;
}

size_t perim_ev_size(int type)
{
	return type > 0 && type < PERIM_EV_MAX ? type_sizes[type] : 0;
}

/* ---- small builders ---- */

static void fill_bytes(struct json_fill *f, const char *k, const char *v, size_t len, size_t cap)
{
	if (len > cap)
		len = cap;
	json_fill_str_len(f, k, v, strnlen(v, len));
}

/* uid -> user name, cached (NSS lookups are slow); misses cached as "". */
static const char *user_name(uint32_t uid)
{
	static struct { uint32_t uid; int valid; char name[64]; } cache[64];
	unsigned slot = uid % 64;
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (cache[slot].valid && cache[slot].uid == uid)
		return cache[slot].name;
	cache[slot].uid = uid;
	cache[slot].valid = 1;
	cache[slot].name[0] = '\0';
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(cache[slot].name, sizeof(cache[slot].name), "%s", res->pw_name);
	return cache[slot].name;
}

/* "YYYY-MM-DDTHH:MM:SS" of secs into tc (formatted once a second: the date calls cost more than the event). */
static const char *second_text(struct perim_ev_time_text *tc, time_t secs)
{
	struct tm tm;

	if (tc->valid && tc->secs == secs)
		return tc->text;
	gmtime_r(&secs, &tm);
	snprintf(tc->text, sizeof(tc->text), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	tc->secs = secs;
	tc->valid = true;
	return tc->text;
}

static void fill_time(struct json_fill *f, const struct perim_ev_json_ctx *ctx, uint64_t mono_ns)
{
	struct perim_ev_time_text own = { 0 }, *tc = ctx->cache ? &ctx->cache->second : &own;
	int64_t wall = (int64_t)mono_ns + ctx->realtime_minus_monotonic_ns;
	const char *date = second_text(tc, wall / 1000000000);
	long us = (long)(wall % 1000000000) / 1000;
	char buf[sizeof(tc->text) + 8];
	size_t n = strlen(date);

	memcpy(buf, date, n);
	buf[n++] = '.';
	for (int d = 5; d >= 0; d--, us /= 10)
		buf[n + d] = (char)('0' + us % 10);
	n += 6;
	buf[n++] = 'Z';
	json_fill_str_len(f, "time", buf, n);
}

/*
 * A chmod, chown or attr file event's own uid and gid print under the
 * header's "uid" and "gid" keys, in their places (json-c's add of a key
 * already there replaced its value: the line has always read so). Filling
 * them there keeps every key once (the line, written as it is filled, has
 * no object to replace a value in).
 */
static void file_ids(const struct perim_ev_hdr *h, int64_t *uid, int64_t *gid)
{
	const struct perim_ev_file *e = (const void *)h;

	if (h->type != PERIM_EV_FILE ||
	    (e->op != PERIM_FILE_CHMOD && e->op != PERIM_FILE_CHOWN && e->op != PERIM_FILE_ATTR))
		return;
	*uid = (int32_t)e->uid;
	*gid = (int32_t)e->gid;
}

static void fill_header(struct json_fill *f, const struct perim_ev_json_ctx *ctx, const struct perim_ev_hdr *h)
{
	const char *user = user_name(h->uid);
	int64_t uid = h->uid, gid = h->gid;

	file_ids(h, &uid, &gid);
	json_fill_str(f, "type", perim_ev_type_name(h->type));
	fill_time(f, ctx, h->ts_ns);
	json_fill_u64(f, "ts_ns", h->ts_ns);
	json_fill_u64(f, "seq", h->seq);
	json_fill_int(f, "cpu", h->cpu);
	json_fill_int(f, "pid", h->pid);
	json_fill_int(f, "tid", h->tid);
	json_fill_int(f, "ppid", h->ppid);
	json_fill_int(f, "uid", uid);
	json_fill_str(f, "user", user[0] ? user : NULL);
	json_fill_int(f, "gid", gid);
	fill_bytes(f, "comm", h->comm, sizeof(h->comm), sizeof(h->comm));
	json_fill_u64(f, "cgroup_id", h->cgroup_id);
}

static void fill_process(struct json_fill *f, const struct perim_ev_json_ctx *ctx, const struct perim_ev_hdr *h)
{
	struct perim_proc *p = ctx->procs ? perim_proctable_lookup(ctx->procs, h->pid, h->start_ns) : NULL;

	json_fill_str(f, "exe", p ? p->exe : NULL);
	json_fill_strings(f, "argv", p ? p->argv : NULL, p ? p->argv_len : 0);
}

/* ---- per type ---- */

static void exec_fill(struct json_fill *f, const struct perim_ev_exec *e)
{
	fill_bytes(f, "filename", e->filename, e->filename_len, sizeof(e->filename));
	json_fill_int(f, "old_pid", e->old_pid);
	json_fill_bool(f, "argv_truncated", e->argv_truncated);
}

static void exit_fill(struct json_fill *f, const struct perim_ev_exit *e)
{
	json_fill_int(f, "exit_code", (e->exit_code >> 8) & 0xff);
	json_fill_int(f, "signal", e->exit_code & 0x7f);
	json_fill_bool(f, "core_dumped", e->exit_code & 0x80);
}

static void signal_fill(struct json_fill *f, const struct perim_ev_signal *e)
{
	const char *abbrev = e->sig > 0 ? sigabbrev_np(e->sig) : NULL;
	char name[32];

	snprintf(name, sizeof(name), "SIG%s", abbrev ? abbrev : "?");
	json_fill_int(f, "sig", e->sig);
	json_fill_str(f, "signame", name);
	json_fill_int(f, "target_pid", e->target_pid);
	json_fill_int(f, "target_tid", e->target_tid);
	fill_bytes(f, "target_comm", e->target_comm, sizeof(e->target_comm), sizeof(e->target_comm));
	json_fill_int(f, "target_state", e->target_state);
	json_fill_int(f, "group", e->group);
	json_fill_int(f, "result", e->result);
}

static const char *tcp_state_name(int s)
{
	static const char *const names[] = {
		"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
		"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
	};

	return s > 0 && s < (int)(sizeof(names) / sizeof(names[0])) ? names[s] : "UNKNOWN";
}

static void fill_result(struct json_fill *f, int fd, int result)
{
	json_fill_int(f, "fd", fd);
	json_fill_int(f, "result", result);
	json_fill_str(f, "error", result < 0 ? strerrorname_np(-result) : NULL);
}

/* addr's text, from the cache's slot for it when it printed the same address last (inet_ntop is a sprintf). */
static const char *addr_text(const struct perim_ev_json_ctx *ctx, const uint8_t addr[16], char own[INET6_ADDRSTRLEN])
{
	struct perim_ev_addr_text *a;

	if (!ctx->cache) {
		perim_addr_format(addr, own, INET6_ADDRSTRLEN);
		return own;
	}
	a = &ctx->cache->addrs[(addr[15] ^ addr[13] * 7u) & (PERIM_EV_ADDR_TEXTS - 1)];
	if (!a->valid || memcmp(a->addr, addr, sizeof(a->addr))) {
		perim_addr_format(addr, a->text, sizeof(a->text));
		memcpy(a->addr, addr, sizeof(a->addr));
		a->valid = true;
	}
	return a->text;
}

static void fill_addr(struct json_fill *f, const struct perim_ev_json_ctx *ctx, const char *key,
		      const uint8_t addr[16])
{
	char own[INET6_ADDRSTRLEN];

	json_fill_str(f, key, addr_text(ctx, addr, own));
}

/* "flow": {family, proto, src, sport, dst, dport}, as connects, accepts and drops carry it. */
static void fill_flow(struct json_fill *f, const struct perim_ev_json_ctx *ctx, const char *family, unsigned proto,
		      const uint8_t src[16], unsigned sport, const uint8_t dst[16], unsigned dport)
{
	struct json_fill flow;
	char pbuf[PERIM_PROTO_NAME_MAX];

	json_fill_nested(f, "flow", &flow);
	json_fill_str(&flow, "family", family);
	json_fill_str(&flow, "proto", perim_proto_name(proto, pbuf));
	fill_addr(&flow, ctx, "src", src);
	json_fill_int(&flow, "sport", sport);
	fill_addr(&flow, ctx, "dst", dst);
	json_fill_int(&flow, "dport", dport);
	json_fill_nested_end(f, &flow);
}

static void sock_fill(struct json_fill *f, const struct perim_ev_json_ctx *ctx, const struct perim_ev_sock *e)
{
	fill_flow(f, ctx, e->family == AF_INET6 ? "ipv6" : "ipv4", e->proto, e->saddr, e->sport, e->daddr, e->dport);
	if (e->hdr.type == PERIM_EV_SOCK_STATE) {
		json_fill_str(f, "old_state", tcp_state_name(e->oldstate));
		json_fill_str(f, "new_state", tcp_state_name(e->newstate));
		return;
	}
	fill_result(f, e->fd, e->result);
}

static void bind_fill(struct json_fill *f, const struct perim_ev_json_ctx *ctx, const struct perim_ev_bind *e)
{
	struct json_fill flow;
	char pbuf[PERIM_PROTO_NAME_MAX];

	json_fill_nested(f, "flow", &flow);
	json_fill_str(&flow, "family", e->family == AF_INET6 ? "ipv6" : "ipv4");
	json_fill_str(&flow, "proto", e->proto ? perim_proto_name(e->proto, pbuf) : NULL);
	fill_addr(&flow, ctx, "src", e->addr);
	json_fill_int(&flow, "sport", e->port);
	json_fill_nested_end(f, &flow);
	fill_result(f, e->fd, e->result);
	json_fill_u64(f, "inode", e->inode);
}

static const char *bpf_cmd_name(unsigned cmd)
{
	static const char *const names[] = {
		"MAP_CREATE", "MAP_LOOKUP_ELEM", "MAP_UPDATE_ELEM", "MAP_DELETE_ELEM", "MAP_GET_NEXT_KEY",
		"PROG_LOAD", "OBJ_PIN", "OBJ_GET", "PROG_ATTACH", "PROG_DETACH", "PROG_TEST_RUN",
		"PROG_GET_NEXT_ID", "MAP_GET_NEXT_ID", "PROG_GET_FD_BY_ID", "MAP_GET_FD_BY_ID",
		"OBJ_GET_INFO_BY_FD", "PROG_QUERY", "RAW_TRACEPOINT_OPEN", "BTF_LOAD", "BTF_GET_FD_BY_ID",
		"TASK_FD_QUERY", "MAP_LOOKUP_AND_DELETE_ELEM", "MAP_FREEZE", "BTF_GET_NEXT_ID",
		"MAP_LOOKUP_BATCH", "MAP_LOOKUP_AND_DELETE_BATCH", "MAP_UPDATE_BATCH", "MAP_DELETE_BATCH",
		"LINK_CREATE", "LINK_UPDATE", "LINK_GET_FD_BY_ID", "LINK_GET_NEXT_ID", "ENABLE_STATS",
		"ITER_CREATE", "LINK_DETACH", "PROG_BIND_MAP",
	};

	return cmd < sizeof(names) / sizeof(names[0]) ? names[cmd] : "OTHER";
}

static void setid_fill(struct json_fill *f, const struct perim_ev_setid *e)
{
	static const char *const calls[] = { "", "setuid", "setgid", "setreuid", "setregid",
					     "setresuid", "setresgid", "setfsuid", "setfsgid" };
	struct json_object *ids = json_object_new_array();

	json_fill_str(f, "call", e->call < sizeof(calls) / sizeof(calls[0]) ? calls[e->call] : "?");
	for (unsigned i = 0; i < e->nargs && i < 3; i++)
		json_object_array_add(ids, json_object_new_int64((int32_t)e->id[i]));
	json_fill_value(f, "ids", ids);
}

static void mount_fill(struct json_fill *f, const struct perim_ev_mount *e)
{
	fill_bytes(f, "source", e->source, e->source_len, sizeof(e->source));
	fill_bytes(f, "target", e->target, e->target_len, sizeof(e->target));
	fill_bytes(f, "fstype", e->fstype, e->fstype_len, sizeof(e->fstype));
	json_fill_u64(f, "flags", e->flags);
}

static void file_fill(struct json_fill *f, const struct perim_ev_file *e)
{
	static const char *const ops[] = { "", "unlink", "rename", "chmod", "chown", "truncate", "write", "attr" };
	static const char *const kinds[] = { "arg", "dentry", "full" };
	char mode[16];

	json_fill_str(f, "op", e->op < sizeof(ops) / sizeof(ops[0]) ? ops[e->op] : "?");
	fill_bytes(f, "path", e->path, e->path_len, sizeof(e->path));
	json_fill_str(f, "path_kind", e->path_kind < 3 ? kinds[e->path_kind] : "?");
	json_fill_int(f, "dirfd", e->dirfd);
	switch (e->op) {
	case PERIM_FILE_RENAME:
		fill_bytes(f, "path2", e->path2, e->path2_len, sizeof(e->path2));
		break;
	case PERIM_FILE_WRITE:
		json_fill_int(f, "flags", e->mode);
		break;
	case PERIM_FILE_CHMOD:
	case PERIM_FILE_ATTR:
		snprintf(mode, sizeof(mode), "%04o", e->mode & 07777);
		json_fill_str(f, "mode", mode);
		if (e->op == PERIM_FILE_ATTR)
			json_fill_int(f, "length", e->length);
		break;
	case PERIM_FILE_TRUNCATE:
		json_fill_int(f, "length", e->length);
		break;
	}
	/* chmod, chown, attr: uid and gid are in the header's places (file_ids) */
}

static void ids_fill(struct json_fill *f, const char *key, uint32_t uid, uint32_t euid, uint32_t gid, uint32_t egid)
{
	struct json_fill ids;

	json_fill_nested(f, key, &ids);
	json_fill_int(&ids, "uid", uid);
	json_fill_int(&ids, "euid", euid);
	json_fill_int(&ids, "gid", gid);
	json_fill_int(&ids, "egid", egid);
	json_fill_nested_end(f, &ids);
}

static void creds_fill(struct json_fill *f, const struct perim_ev_creds *e)
{
	static const char *const via[] = { "", "commit_creds", "setid_exit", "exec" };
	bool was_root = !e->old_uid || !e->old_euid, is_root = !e->new_uid || !e->new_euid;

	ids_fill(f, "old", e->old_uid, e->old_euid, e->old_gid, e->old_egid);
	ids_fill(f, "new", e->new_uid, e->new_euid, e->new_gid, e->new_egid);
	json_fill_bool(f, "escalation", !was_root && is_root);
	json_fill_str(f, "via", e->via < 4 ? via[e->via] : "?");
}

static void guard_fill(struct json_fill *f, const struct perim_ev_guard *e)
{
	static const char *const ops[] = { "open", "exec", "bpf" };

	json_fill_str(f, "op", e->op < PERIM_GUARD_OP_MAX ? ops[e->op] : "?");
	json_fill_str(f, "mode", e->mode == PERIM_GUARD_ENFORCE ? "enforce" : "audit");
	json_fill_bool(f, "denied", e->mode == PERIM_GUARD_ENFORCE);
	json_fill_int(f, "rule", e->rule);
	fill_bytes(f, "path", e->path, e->path_len, sizeof(e->path));
	if (e->bpf_cmd >= 0)
		json_fill_int(f, "bpf_cmd", e->bpf_cmd);
}

static void event_fill(struct json_fill *f, const struct perim_ev_json_ctx *ctx, const void *data)
{
	const struct perim_ev_hdr *h = data;

	fill_header(f, ctx, h);
	fill_process(f, ctx, h);
	switch (h->type) {
	case PERIM_EV_EXEC:
		exec_fill(f, data);
		break;
	case PERIM_EV_FORK:
		json_fill_int(f, "child_pid", ((const struct perim_ev_fork *)data)->child_pid);
		break;
	case PERIM_EV_EXIT:
		exit_fill(f, data);
		break;
	case PERIM_EV_SIGNAL:
		signal_fill(f, data);
		break;
	case PERIM_EV_CONNECT:
	case PERIM_EV_ACCEPT:
	case PERIM_EV_SOCK_STATE:
		sock_fill(f, ctx, data);
		break;
	case PERIM_EV_PTRACE:
		json_fill_int(f, "request", ((const struct perim_ev_ptrace *)data)->request);
		json_fill_int(f, "target_pid", ((const struct perim_ev_ptrace *)data)->target_pid);
		break;
	case PERIM_EV_MODULE: {
		const struct perim_ev_module *m = data;

		fill_bytes(f, "name", m->name, m->name_len, sizeof(m->name));
		break;
	}
	case PERIM_EV_BPF:
		json_fill_int(f, "cmd", ((const struct perim_ev_bpf *)data)->cmd);
		json_fill_str(f, "cmd_name", bpf_cmd_name(((const struct perim_ev_bpf *)data)->cmd));
		break;
	case PERIM_EV_SETID:
		setid_fill(f, data);
		break;
	case PERIM_EV_MOUNT:
		mount_fill(f, data);
		break;
	case PERIM_EV_FILE:
		file_fill(f, data);
		break;
	case PERIM_EV_CREDS:
		creds_fill(f, data);
		break;
	case PERIM_EV_GUARD:
		guard_fill(f, data);
		break;
	case PERIM_EV_BIND:
		bind_fill(f, ctx, data);
		break;
	}
}

typedef void (*fill_fn)(struct json_fill *f, const struct perim_ev_json_ctx *ctx, const void *arg);

/* fill's fields in a new object. */
static struct json_object *built(const struct perim_ev_json_ctx *ctx, fill_fn fill, const void *arg)
{
	struct json_object *o = json_object_new_object();
	struct json_fill f;

	if (!o)
		return NULL;
	json_fill_begin(&f, o);
	fill(&f, ctx, arg);
	return o;
}

struct json_object *perim_ev_json(const struct perim_ev_json_ctx *ctx, const void *data, size_t size)
{
	const struct perim_ev_hdr *h = data;

	if (size < sizeof(*h) || perim_ev_size(h->type) != size)
		return NULL;
	return built(ctx, event_fill, data);
}

/* fill's line appended to pb, written as it is filled. */
static int written(const struct perim_ev_json_ctx *ctx, fill_fn fill, const void *arg, struct printbuf *pb)
{
	struct json_text_writer w;
	struct json_fill f;

	json_text_writer_begin(&w, pb, PERIM_EV_TEXT_FLAGS);
	json_fill_begin_text(&f, &w);
	fill(&f, ctx, arg);
	json_fill_end_text(&f);
	return json_text_writer_end(&w) ? -ENOMEM : 0;
}

int perim_ev_text(const struct perim_ev_json_ctx *ctx, const void *data, size_t size, struct printbuf *pb)
{
	const struct perim_ev_hdr *h = data;

	if (size < sizeof(*h) || perim_ev_size(h->type) != size)
		return -EINVAL;
	return written(ctx, event_fill, data, pb);
}

struct json_object *perim_ev_lost_json(const struct perim_ev_json_ctx *ctx, int ring, int cpu, uint64_t count)
{
	struct json_object *o = json_object_new_object();
	struct timespec now;
	struct json_fill f;

	clock_gettime(CLOCK_MONOTONIC, &now);
	json_fill_begin(&f, o);
	json_fill_str(&f, "type", "lost");
	fill_time(&f, ctx, now.tv_sec * 1000000000ull + now.tv_nsec);
	json_fill_str(&f, "ring", ring == PERIM_RING_SECURITY ? "security" : "events");
	json_fill_int(&f, "cpu", cpu);
	json_fill_u64(&f, "count", count);
	return o;
}

/* ---- sampled XDP drops ---- */

static void listener_fill(struct json_fill *f, const struct perim_ev_json_ctx *ctx, uint32_t pid, uint64_t start_ns)
{
	struct perim_proc *p = ctx->procs ? perim_proctable_lookup(ctx->procs, pid, start_ns) : NULL;
	const char *user = p ? user_name(p->uid) : "";

	json_fill_int(f, "pid", pid);
	json_fill_str(f, "comm", p && p->comm[0] ? p->comm : NULL);
	json_fill_str(f, "exe", p ? p->exe : NULL);
	if (p)
		json_fill_int(f, "uid", p->uid);
	else
		json_fill_null(f, "uid");
	json_fill_str(f, "user", user[0] ? user : NULL);
	json_fill_strings(f, "argv", p ? p->argv : NULL, p ? p->argv_len : 0);
}

struct json_object *perim_listener_json(const struct perim_ev_json_ctx *ctx, uint32_t pid, uint64_t start_ns)
{
	struct json_object *o = json_object_new_object();
	struct json_fill f;

	json_fill_begin(&f, o);
	listener_fill(&f, ctx, pid, start_ns);
	return o;
}

static void drop_flow_fill(struct json_fill *f, const struct perim_ev_json_ctx *ctx, const struct perim_drop_event *e)
{
	fill_flow(f, ctx, e->family == 6 ? "ipv6" : e->family == 4 ? "ipv4" : "unknown", e->proto, e->src, e->sport,
		  e->dst, e->dport);
}

struct drop_args {
	const struct perim_drop_event *e;
	const char *dev, *reason;
	uint32_t pid;
	uint64_t start_ns;
};

static void drop_fill(struct json_fill *f, const struct perim_ev_json_ctx *ctx, const void *arg)
{
	const struct drop_args *a = arg;
	const struct perim_drop_event *e = a->e;

	json_fill_str(f, "type", type_names[PERIM_EV_XDP_DROP_TYPE]);
	fill_time(f, ctx, e->ts);
	json_fill_u64(f, "ts_ns", e->ts);
	json_fill_str(f, "dev", a->dev);
	json_fill_str(f, "reason", a->reason);
	json_fill_u64(f, "rule", e->rule);
	if (e->family)
		drop_flow_fill(f, ctx, e);
	else
		json_fill_null(f, "flow");
	json_fill_u64(f, "weight", e->weight ? e->weight : 1);
	json_fill_u64(f, "len", e->len);
	if (a->pid) {
		struct json_fill ln;

		json_fill_nested(f, "listener", &ln);
		listener_fill(&ln, ctx, a->pid, a->start_ns);
		json_fill_nested_end(f, &ln);
	} else {
		json_fill_null(f, "listener");
	}
}

struct json_object *perim_xdp_drop_json(const struct perim_ev_json_ctx *ctx, const struct perim_drop_event *e,
					const char *dev, const char *reason, uint32_t pid, uint64_t start_ns)
{
	struct drop_args a = { e, dev, reason, pid, start_ns };

	return built(ctx, drop_fill, &a);
}

int perim_xdp_drop_text(const struct perim_ev_json_ctx *ctx, const struct perim_drop_event *e, const char *dev,
			const char *reason, uint32_t pid, uint64_t start_ns, struct printbuf *pb)
{
	struct drop_args a = { e, dev, reason, pid, start_ns };

	return written(ctx, drop_fill, &a, pb);
}
