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
 *               mode (octal string), flags, uid, gid, length
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
#include "procs/proctable.h"
#include "json_add.h"
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

static void add_bytes(struct json_object *o, const char *k, const char *v, size_t len, size_t cap)
{
	if (len > cap)
		len = cap;
	len = strnlen(v, len);
	json_object_object_add(o, k, json_object_new_string_len(v, len));
}

static struct json_object *argv_array(const char *argv, size_t len)
{
	struct json_object *a = json_object_new_array();
	size_t i = 0;

	while (i < len) {
		size_t n = strnlen(argv + i, len - i);

		json_object_array_add(a, json_object_new_string_len(argv + i, n));
		i += n + 1;
	}
	return a;
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

static void add_time(struct json_object *o, const struct perim_ev_json_ctx *ctx, uint64_t mono_ns)
{
	int64_t wall = (int64_t)mono_ns + ctx->realtime_minus_monotonic_ns;
	time_t secs = wall / 1000000000;
	struct tm tm;
	char buf[48];

	gmtime_r(&secs, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(wall % 1000000000) / 1000);
	json_add_str(o, "time", buf);
}

static void add_header(struct json_object *o, const struct perim_ev_json_ctx *ctx, const struct perim_ev_hdr *h)
{
	const char *user = user_name(h->uid);

	json_add_str(o, "type", perim_ev_type_name(h->type));
	add_time(o, ctx, h->ts_ns);
	json_add_u64(o, "ts_ns", h->ts_ns);
	json_add_u64(o, "seq", h->seq);
	json_add_int(o, "cpu", h->cpu);
	json_add_int(o, "pid", h->pid);
	json_add_int(o, "tid", h->tid);
	json_add_int(o, "ppid", h->ppid);
	json_add_int(o, "uid", h->uid);
	json_object_object_add(o, "user", user[0] ? json_object_new_string(user) : NULL);
	json_add_int(o, "gid", h->gid);
	add_bytes(o, "comm", h->comm, sizeof(h->comm), sizeof(h->comm));
	json_add_u64(o, "cgroup_id", h->cgroup_id);
}

static void add_process(struct json_object *o, const struct perim_ev_json_ctx *ctx, const struct perim_ev_hdr *h)
{
	struct perim_proc *p = ctx->procs ? perim_proctable_lookup(ctx->procs, h->pid, h->start_ns) : NULL;

	json_object_object_add(o, "exe", p && p->exe ? json_object_new_string(p->exe) : NULL);
	json_object_object_add(o, "argv", p && p->argv ? argv_array(p->argv, p->argv_len) : NULL);
}

/* ---- per type ---- */

static void exec_json(struct json_object *o, const struct perim_ev_exec *e)
{
	add_bytes(o, "filename", e->filename, e->filename_len, sizeof(e->filename));
	json_add_int(o, "old_pid", e->old_pid);
	json_object_object_add(o, "argv_truncated", json_object_new_boolean(e->argv_truncated));
}

static void exit_json(struct json_object *o, const struct perim_ev_exit *e)
{
	json_add_int(o, "exit_code", (e->exit_code >> 8) & 0xff);
	json_add_int(o, "signal", e->exit_code & 0x7f);
	json_object_object_add(o, "core_dumped", json_object_new_boolean(e->exit_code & 0x80));
}

static void signal_json(struct json_object *o, const struct perim_ev_signal *e)
{
	const char *abbrev = e->sig > 0 ? sigabbrev_np(e->sig) : NULL;
	char name[32];

	snprintf(name, sizeof(name), "SIG%s", abbrev ? abbrev : "?");
	json_add_int(o, "sig", e->sig);
	json_add_str(o, "signame", name);
	json_add_int(o, "target_pid", e->target_pid);
	json_add_int(o, "target_tid", e->target_tid);
	add_bytes(o, "target_comm", e->target_comm, sizeof(e->target_comm), sizeof(e->target_comm));
	json_add_int(o, "target_state", e->target_state);
	json_add_int(o, "group", e->group);
	json_add_int(o, "result", e->result);
}

static const char *tcp_state_name(int s)
{
	static const char *const names[] = {
		"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
		"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
	};

	return s > 0 && s < (int)(sizeof(names) / sizeof(names[0])) ? names[s] : "UNKNOWN";
}

static void add_result(struct json_object *o, int fd, int result)
{
	json_add_int(o, "fd", fd);
	json_add_int(o, "result", result);
	json_object_object_add(o, "error", result < 0 && strerrorname_np(-result) ?
				json_object_new_string(strerrorname_np(-result)) : NULL);
}

static void sock_json(struct json_object *o, const struct perim_ev_sock *e)
{
	struct json_object *flow = json_object_new_object();
	char addr[INET6_ADDRSTRLEN], pbuf[16];

	json_add_str(flow, "family", e->family == AF_INET6 ? "ipv6" : "ipv4");
	json_add_str(flow, "proto", perim_proto_name(e->proto, pbuf));
	perim_addr_format(e->saddr, addr, sizeof(addr));
	json_add_str(flow, "src", addr);
	json_add_int(flow, "sport", e->sport);
	perim_addr_format(e->daddr, addr, sizeof(addr));
	json_add_str(flow, "dst", addr);
	json_add_int(flow, "dport", e->dport);
	json_object_object_add(o, "flow", flow);
	if (e->hdr.type == PERIM_EV_SOCK_STATE) {
		json_add_str(o, "old_state", tcp_state_name(e->oldstate));
		json_add_str(o, "new_state", tcp_state_name(e->newstate));
		return;
	}
	add_result(o, e->fd, e->result);
}

static void bind_json(struct json_object *o, const struct perim_ev_bind *e)
{
	struct json_object *flow = json_object_new_object();
	char addr[INET6_ADDRSTRLEN], pbuf[16];

	json_add_str(flow, "family", e->family == AF_INET6 ? "ipv6" : "ipv4");
	json_object_object_add(flow, "proto", e->proto ? json_object_new_string(perim_proto_name(e->proto, pbuf))
						     : NULL);
	perim_addr_format(e->addr, addr, sizeof(addr));
	json_add_str(flow, "src", addr);
	json_add_int(flow, "sport", e->port);
	json_object_object_add(o, "flow", flow);
	add_result(o, e->fd, e->result);
	json_add_u64(o, "inode", e->inode);
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

static void setid_json(struct json_object *o, const struct perim_ev_setid *e)
{
	static const char *const calls[] = { "", "setuid", "setgid", "setreuid", "setregid",
					     "setresuid", "setresgid", "setfsuid", "setfsgid" };
	struct json_object *ids = json_object_new_array();

	json_add_str(o, "call", e->call < sizeof(calls) / sizeof(calls[0]) ? calls[e->call] : "?");
	for (unsigned i = 0; i < e->nargs && i < 3; i++)
		json_object_array_add(ids, json_object_new_int64((int32_t)e->id[i]));
	json_object_object_add(o, "ids", ids);
}

static void mount_json(struct json_object *o, const struct perim_ev_mount *e)
{
	add_bytes(o, "source", e->source, e->source_len, sizeof(e->source));
	add_bytes(o, "target", e->target, e->target_len, sizeof(e->target));
	add_bytes(o, "fstype", e->fstype, e->fstype_len, sizeof(e->fstype));
	json_add_u64(o, "flags", e->flags);
}

static void file_json(struct json_object *o, const struct perim_ev_file *e)
{
	static const char *const ops[] = { "", "unlink", "rename", "chmod", "chown", "truncate", "write", "attr" };
	static const char *const kinds[] = { "arg", "dentry", "full" };
	char mode[16];

	json_add_str(o, "op", e->op < sizeof(ops) / sizeof(ops[0]) ? ops[e->op] : "?");
	add_bytes(o, "path", e->path, e->path_len, sizeof(e->path));
	json_add_str(o, "path_kind", e->path_kind < 3 ? kinds[e->path_kind] : "?");
	json_add_int(o, "dirfd", e->dirfd);
	switch (e->op) {
	case PERIM_FILE_RENAME:
		add_bytes(o, "path2", e->path2, e->path2_len, sizeof(e->path2));
		break;
	case PERIM_FILE_WRITE:
		json_add_int(o, "flags", e->mode);
		break;
	case PERIM_FILE_CHMOD:
	case PERIM_FILE_ATTR:
		snprintf(mode, sizeof(mode), "%04o", e->mode & 07777);
		json_add_str(o, "mode", mode);
		/* fall through */
	case PERIM_FILE_CHOWN:
		json_add_int(o, "uid", (int32_t)e->uid);
		json_add_int(o, "gid", (int32_t)e->gid);
		if (e->op != PERIM_FILE_ATTR)
			break;
		/* fall through */
	case PERIM_FILE_TRUNCATE:
		json_add_int(o, "length", e->length);
		break;
	}
}

static struct json_object *ids_json(uint32_t uid, uint32_t euid, uint32_t gid, uint32_t egid)
{
	struct json_object *o = json_object_new_object();

	json_add_int(o, "uid", uid);
	json_add_int(o, "euid", euid);
	json_add_int(o, "gid", gid);
	json_add_int(o, "egid", egid);
	return o;
}

static void creds_json(struct json_object *o, const struct perim_ev_creds *e)
{
	static const char *const via[] = { "", "commit_creds", "setid_exit", "exec" };
	bool was_root = !e->old_uid || !e->old_euid, is_root = !e->new_uid || !e->new_euid;

	json_object_object_add(o, "old", ids_json(e->old_uid, e->old_euid, e->old_gid, e->old_egid));
	json_object_object_add(o, "new", ids_json(e->new_uid, e->new_euid, e->new_gid, e->new_egid));
	json_object_object_add(o, "escalation", json_object_new_boolean(!was_root && is_root));
	json_add_str(o, "via", e->via < 4 ? via[e->via] : "?");
}

static void guard_json(struct json_object *o, const struct perim_ev_guard *e)
{
	static const char *const ops[] = { "open", "exec", "bpf" };

	json_add_str(o, "op", e->op < PERIM_GUARD_OP_MAX ? ops[e->op] : "?");
	json_add_str(o, "mode", e->mode == PERIM_GUARD_ENFORCE ? "enforce" : "audit");
	json_object_object_add(o, "denied", json_object_new_boolean(e->mode == PERIM_GUARD_ENFORCE));
	json_add_int(o, "rule", e->rule);
	add_bytes(o, "path", e->path, e->path_len, sizeof(e->path));
	if (e->bpf_cmd >= 0)
		json_add_int(o, "bpf_cmd", e->bpf_cmd);
}

struct json_object *perim_ev_json(const struct perim_ev_json_ctx *ctx, const void *data, size_t size)
{
	const struct perim_ev_hdr *h = data;
	struct json_object *o;

	if (size < sizeof(*h) || perim_ev_size(h->type) != size)
		return NULL;
	o = json_object_new_object();
	add_header(o, ctx, h);
	add_process(o, ctx, h);
	switch (h->type) {
	case PERIM_EV_EXEC:
		exec_json(o, data);
		break;
	case PERIM_EV_FORK:
		json_add_int(o, "child_pid", ((const struct perim_ev_fork *)data)->child_pid);
		break;
	case PERIM_EV_EXIT:
		exit_json(o, data);
		break;
	case PERIM_EV_SIGNAL:
		signal_json(o, data);
		break;
	case PERIM_EV_CONNECT:
	case PERIM_EV_ACCEPT:
	case PERIM_EV_SOCK_STATE:
		sock_json(o, data);
		break;
	case PERIM_EV_PTRACE:
		json_add_int(o, "request", ((const struct perim_ev_ptrace *)data)->request);
		json_add_int(o, "target_pid", ((const struct perim_ev_ptrace *)data)->target_pid);
		break;
	case PERIM_EV_MODULE: {
		const struct perim_ev_module *m = data;

		add_bytes(o, "name", m->name, m->name_len, sizeof(m->name));
		break;
	}
	case PERIM_EV_BPF:
		json_add_int(o, "cmd", ((const struct perim_ev_bpf *)data)->cmd);
		json_add_str(o, "cmd_name", bpf_cmd_name(((const struct perim_ev_bpf *)data)->cmd));
		break;
	case PERIM_EV_SETID:
		setid_json(o, data);
		break;
	case PERIM_EV_MOUNT:
		mount_json(o, data);
		break;
	case PERIM_EV_FILE:
		file_json(o, data);
		break;
	case PERIM_EV_CREDS:
		creds_json(o, data);
		break;
	case PERIM_EV_GUARD:
		guard_json(o, data);
		break;
	case PERIM_EV_BIND:
		bind_json(o, data);
		break;
	}
	return o;
}

struct json_object *perim_ev_lost_json(const struct perim_ev_json_ctx *ctx, int ring, int cpu, uint64_t count)
{
	struct json_object *o = json_object_new_object();
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	json_add_str(o, "type", "lost");
	add_time(o, ctx, now.tv_sec * 1000000000ull + now.tv_nsec);
	json_add_str(o, "ring", ring == PERIM_RING_SECURITY ? "security" : "events");
	json_add_int(o, "cpu", cpu);
	json_add_u64(o, "count", count);
	return o;
}

/* ---- sampled XDP drops ---- */

struct json_object *perim_listener_json(const struct perim_ev_json_ctx *ctx, uint32_t pid, uint64_t start_ns)
{
	struct perim_proc *p = ctx->procs ? perim_proctable_lookup(ctx->procs, pid, start_ns) : NULL;
	struct json_object *o = json_object_new_object();
	const char *user;

	json_add_int(o, "pid", pid);
	json_object_object_add(o, "comm", p && p->comm[0] ? json_object_new_string(p->comm) : NULL);
	json_object_object_add(o, "exe", p && p->exe ? json_object_new_string(p->exe) : NULL);
	json_object_object_add(o, "uid", p ? json_object_new_int64(p->uid) : NULL);
	user = p ? user_name(p->uid) : "";
	json_object_object_add(o, "user", user[0] ? json_object_new_string(user) : NULL);
	json_object_object_add(o, "argv", p && p->argv ? argv_array(p->argv, p->argv_len) : NULL);
	return o;
}

static struct json_object *drop_flow_json(const struct perim_drop_event *e)
{
	struct json_object *flow = json_object_new_object();
	char addr[INET6_ADDRSTRLEN], pbuf[16];

	json_add_str(flow, "family", e->family == 6 ? "ipv6" : e->family == 4 ? "ipv4" : "unknown");
	json_add_str(flow, "proto", perim_proto_name(e->proto, pbuf));
	perim_addr_format(e->src, addr, sizeof(addr));
	json_add_str(flow, "src", addr);
	json_add_int(flow, "sport", e->sport);
	perim_addr_format(e->dst, addr, sizeof(addr));
	json_add_str(flow, "dst", addr);
	json_add_int(flow, "dport", e->dport);
	return flow;
}

struct json_object *perim_xdp_drop_json(const struct perim_ev_json_ctx *ctx, const struct perim_drop_event *e,
					const char *dev, const char *reason, uint32_t pid, uint64_t start_ns)
{
	struct json_object *o = json_object_new_object();

	json_add_str(o, "type", type_names[PERIM_EV_XDP_DROP_TYPE]);
	add_time(o, ctx, e->ts);
	json_add_u64(o, "ts_ns", e->ts);
	json_object_object_add(o, "dev", dev ? json_object_new_string(dev) : NULL);
	json_add_str(o, "reason", reason);
	json_add_u64(o, "rule", e->rule);
	json_object_object_add(o, "flow", e->family ? drop_flow_json(e) : NULL);
	json_add_u64(o, "weight", e->weight ? e->weight : 1);
	json_add_u64(o, "len", e->len);
	json_object_object_add(o, "listener", pid ? perim_listener_json(ctx, pid, start_ns) : NULL);
	return o;
}
