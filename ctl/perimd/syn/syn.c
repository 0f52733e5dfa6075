// SPDX-License-Identifier: GPL-2.0
/* syncookie set/del/list: nftables first, then the datapath's table, then the state file. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "log.h"
#include "netfilter/synproxy.h"
#include "state.h"
#include "syn/syn.h"
#include "xdp/perim_xdp.skel.h"

/* Where conntrack must not adopt a mid-stream ACK: SYNPROXY sees only invalid ones. */
#define TCP_LOOSE_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_tcp_loose"

static struct perimd_syn *syn_state(struct perimd *d)
{
	if (!d->syn)
		d->syn = calloc(1, sizeof(*d->syn));
	return d->syn;
}

static bool same_target(const struct perim_syn_spec *a, const struct perim_syn_spec *b)
{
	if (a->has_dst != b->has_dst || a->dport_lo != b->dport_lo || a->dport_hi != b->dport_hi)
		return false;
	return !a->has_dst || (a->dst.len == b->dst.len && !memcmp(a->dst.addr, b->dst.addr, sizeof(a->dst.addr)));
}

/* The datapath's entry for a spec: the prefix as address and mask words, network order. */
static void prot_of(const struct perim_syn_spec *s, struct perim_syn_prot *p)
{
	memset(p, 0, sizeof(*p));
	for (int w = 0; s->has_dst && w < 4; w++) {
		int bits = s->dst.len - 32 * w;
		uint32_t addr;

		memcpy(&addr, s->dst.addr + 4 * w, 4);
		p->mask[w] = bits >= 32 ? 0xffffffffu : bits <= 0 ? 0u : htonl(~0u << (32 - bits));
		p->addr[w] = addr & p->mask[w];
	}
	p->dport_lo = s->dport_lo;
	p->dport_hi = s->dport_hi;
	p->mss = s->mss;
	p->wscale = s->has_wscale ? s->wscale : PERIM_SYN_WSCALE_DEFAULT;
	p->flags = s->dry_run ? PERIM_SYN_DRY_RUN : 0;
}

static int table_write(struct perimd *d, int slot, const struct perim_syn_spec *specs, int n,
		       char *err, size_t errlen)
{
	int fd = bpf_map__fd(d->loader.base->maps.perim_syn_table);
	struct perim_syn_table t = { .n = n };
	__u32 key = slot;
	int ret;

	for (int i = 0; i < n; i++)
		prot_of(&specs[i], &t.prot[i]);
	ret = n ? bpf_map_update_elem(fd, &key, &t, BPF_ANY) : bpf_map_delete_elem(fd, &key);
	if (ret && !(n == 0 && errno == ENOENT)) {
		snprintf(err, errlen, "updating %s for slot %d: %s", PERIM_MAP_SYN_TABLE, slot, strerror(errno));
		return PERIM_EXIT_FAIL;
	}
	return 0;
}

/* SYNPROXY needs conntrack to call a mid-stream ACK invalid, not pick the flow up. */
static void strict_conntrack(void)
{
	FILE *f = fopen(TCP_LOOSE_SYSCTL, "r+");
	int loose = 0;

	if (!f) {
		pr_warn("perimd: %s: %s; SYNPROXY may not see the ACKs\n", TCP_LOOSE_SYSCTL, strerror(errno));
		return;
	}
	if (fscanf(f, "%d", &loose) == 1 && loose) {
		rewind(f);
		if (fprintf(f, "0\n") < 0 || fflush(f))
			pr_warn("perimd: setting %s to 0: %s\n", TCP_LOOSE_SYSCTL, strerror(errno));
		else
			pr_info("perimd: %s set to 0 for SYNPROXY\n", TCP_LOOSE_SYSCTL);
	}
	fclose(f);
}

/* nftables, then the map; the map failing undoes nftables. */
static int apply(struct perimd *d, int slot, const struct perim_syn_spec *next, int n_next, char *err,
		 size_t errlen)
{
	struct perimd_syn *s = d->syn;
	const char *dev = d->model->ifaces[slot].dev;
	char undo[256];
	int ret;

	ret = perim_synproxy_apply(dev, next, n_next, err, errlen);
	if (ret)
		return ret;
	ret = table_write(d, slot, next, n_next, err, errlen);
	if (ret && perim_synproxy_apply(dev, s->spec[slot], s->n[slot], undo, sizeof(undo)))
		pr_warn("perimd: undoing the synproxy table of %s: %s\n", dev, undo);
	if (!ret && n_next)
		strict_conntrack();
	return ret;
}

static int write_syn_lines(void *ctx, FILE *f)
{
	struct perimd *d = ctx;
	char line[256];

	for (int slot = 0; d->syn && slot < PERIM_MAX_IFACES; slot++) {
		if (!d->model->ifaces[slot].used)
			continue;
		for (int i = 0; i < d->syn->n[slot]; i++) {
			if (perim_syn_format(d->model->ifaces[slot].dev, &d->syn->spec[slot][i], line,
					     sizeof(line)) >= (int)sizeof(line))
				return -EINVAL;
			fprintf(f, "%s\n", line);
		}
	}
	return 0;
}

static int persist(struct perimd *d, char *err, size_t errlen)
{
	perimd_state_set_extra(write_syn_lines, d);
	if (d->restoring)
		return 0;
	return perimd_state_write(d->cfg.state, d->model, err, errlen) ? PERIM_EXIT_FAIL : 0;
}

/* The program on the interface must be perim_xdp_syn: one attached by an older perimd is not. */
static int check_program(struct perimd *d, int slot, const char *dev, char *err, size_t errlen)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd, ret;

	if (!d->att[slot].attached || !d->att[slot].prog_id)
		return 0;
	fd = bpf_prog_get_fd_by_id(d->att[slot].prog_id);
	if (fd < 0) {
		snprintf(err, errlen, "%s: finding prog id %u: %s", dev, d->att[slot].prog_id, strerror(errno));
		return PERIM_EXIT_FAIL;
	}
	ret = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (ret) {
		snprintf(err, errlen, "%s: reading prog id %u: %s", dev, d->att[slot].prog_id, strerror(errno));
		return PERIM_EXIT_FAIL;
	}
	if (strncmp(info.name, PERIM_XDP_SYN_PROG_NAME, sizeof(info.name) - 1)) {
		snprintf(err, errlen, "%s runs %s, which has no SYN-cookie stage (attached by an earlier perimd): "
			 "\"perimctl detach %s\" and attach it again", dev, info.name, dev);
		return PERIM_EXIT_FAIL;
	}
	return 0;
}

static int attached_slot(struct perimd *d, const char *dev, char *err, size_t errlen)
{
	int slot = perim_model_iface_find(d->model, dev);

	if (slot < 0)
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: perim is not attached to this interface", dev);
	return slot;
}

static struct json_object *spec_json(const char *dev, const struct perim_syn_spec *s)
{
	struct json_object *o = json_object_new_object();
	char prefix[64];

	json_object_object_add(o, "interface", json_object_new_string(dev));
	if (s->has_dst)
		perim_prefix_format(&s->dst, prefix, sizeof(prefix));
	json_object_object_add(o, "dst", s->has_dst ? json_object_new_string(prefix) : NULL);
	json_object_object_add(o, "dport_lo", json_object_new_int(s->dport_lo));
	json_object_object_add(o, "dport_hi", json_object_new_int(s->dport_hi));
	json_object_object_add(o, "mss", s->mss ? json_object_new_int(s->mss) : NULL);
	json_object_object_add(o, "wscale", json_object_new_int(s->has_wscale ? s->wscale : PERIM_SYN_WSCALE_DEFAULT));
	json_object_object_add(o, "dry_run", json_object_new_boolean(s->dry_run));
	return o;
}

static int commit_change(struct perimd *d, int slot, struct perim_syn_spec *next, int n_next,
			 char *err, size_t errlen)
{
	struct perimd_syn *s = d->syn;
	struct perim_syn_spec old[PERIM_SYN_MAX_PROT];
	int n_old = s->n[slot], ret;
	char undo[256];

	ret = apply(d, slot, next, n_next, err, errlen);
	if (ret)
		return ret;
	memcpy(old, s->spec[slot], sizeof(old));
	memcpy(s->spec[slot], next, sizeof(old));
	s->n[slot] = n_next;
	ret = persist(d, err, errlen);
	if (ret) {
		memcpy(s->spec[slot], old, sizeof(old));
		s->n[slot] = n_old;
		if (apply(d, slot, old, n_old, undo, sizeof(undo)))
			pr_warn("perimd: undoing a SYN protection change whose state write failed: %s\n", undo);
	}
	return ret;
}

/*
 * A protection in the state file this kernel or program cannot enforce: kept
 * (and written back) so it returns with a kernel that can, never half applied.
 * Outside a restore, the error stands.
 */
static int keep_unapplied(struct perimd *d, int slot, const struct perim_syn_spec *spec, const char *why)
{
	if (!d->restoring)
		return PERIM_EXIT_FAIL;
	pr_warn("perimd: %s: SYN protection kept in the state file, not enforced: %s\n",
		d->model->ifaces[slot].dev, why);
	if (d->syn->n[slot] < PERIM_SYN_MAX_PROT)
		d->syn->spec[slot][d->syn->n[slot]++] = *spec;
	perimd_state_set_extra(write_syn_lines, d);
	return 0;
}

static int do_set(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		  char *err, size_t errlen)
{
	struct perim_syn_spec next[PERIM_SYN_MAX_PROT];
	int slot, n, i, ret;

	slot = attached_slot(d, cmd->dev, err, errlen);
	if (slot < 0)
		return PERIM_EXIT_BADINPUT;
	if (!d->loader.syn_available) {
		snprintf(err, errlen, "SYN protection is unavailable on this kernel: %s", d->loader.syn_reason);
		return keep_unapplied(d, slot, &cmd->syn, err);
	}
	if ((ret = check_program(d, slot, cmd->dev, err, errlen)))
		return d->restoring ? keep_unapplied(d, slot, &cmd->syn, err) : ret;
	n = d->syn->n[slot];
	memcpy(next, d->syn->spec[slot], sizeof(next));
	for (i = 0; i < n && !same_target(&next[i], &cmd->syn); i++)
		;
	if (i == n && n == PERIM_SYN_MAX_PROT) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: it has %d SYN protections already, the most "
			 "an interface can have", cmd->dev, PERIM_SYN_MAX_PROT);
		return PERIM_EXIT_BADINPUT;
	}
	next[i] = cmd->syn;
	ret = commit_change(d, slot, next, i == n ? n + 1 : n, err, errlen);
	if (!ret && result)
		*result = spec_json(cmd->dev, &cmd->syn);
	return ret;
}

static int do_del(struct perimd *d, const struct perim_cmd *cmd, char *err, size_t errlen)
{
	struct perim_syn_spec next[PERIM_SYN_MAX_PROT];
	bool all = !cmd->syn.has_dst && !cmd->syn.dport_hi;
	int slot, n = 0;

	slot = attached_slot(d, cmd->dev, err, errlen);
	if (slot < 0)
		return PERIM_EXIT_BADINPUT;
	for (int i = 0; i < d->syn->n[slot]; i++)
		if (!all && !same_target(&d->syn->spec[slot][i], &cmd->syn))
			next[n++] = d->syn->spec[slot][i];
	if (n == d->syn->n[slot]) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: no such SYN protection on it", cmd->dev);
		return PERIM_EXIT_BADINPUT;
	}
	return commit_change(d, slot, next, n, err, errlen);
}

static struct json_object *list_json(struct perimd *d, const char *dev)
{
	struct json_object *arr = json_object_new_array();

	for (int slot = 0; slot < PERIM_MAX_IFACES; slot++) {
		const char *name = d->model->ifaces[slot].dev;

		if (!d->model->ifaces[slot].used || (dev[0] && strcmp(dev, name)))
			continue;
		for (int i = 0; i < d->syn->n[slot]; i++)
			json_object_array_add(arr, spec_json(name, &d->syn->spec[slot][i]));
	}
	return arr;
}

int perimd_syn_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		    char *err, size_t errlen)
{
	if (!syn_state(d)) {
		snprintf(err, errlen, "perimd: out of memory");
		return PERIM_EXIT_FAIL;
	}
	switch (cmd->kind) {
	case PERIM_CMD_SYN_SET:
		return do_set(d, cmd, result, err, errlen);
	case PERIM_CMD_SYN_DEL:
		return do_del(d, cmd, err, errlen);
	default:
		if (cmd->dev[0] && attached_slot(d, cmd->dev, err, errlen) < 0)
			return PERIM_EXIT_BADINPUT;
		*result = json_object_new_object();
		json_object_object_add(*result, "syncookie", list_json(d, cmd->dev));
		return 0;
	}
}

struct json_object *perimd_syn_status_json(struct perimd *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "available", json_object_new_boolean(d->loader.syn_available));
	json_object_object_add(o, "reason", d->loader.syn_available ? NULL :
				json_object_new_string(d->loader.syn_reason));
	json_object_object_add(o, "program", json_object_new_string(d->loader.prog_name));
	json_object_object_add(o, "protections", syn_state(d) ? list_json(d, "") : json_object_new_array());
	return o;
}

void perimd_syn_forget_slot(struct perimd *d, int slot)
{
	char err[256];

	if (!d->syn || !d->syn->n[slot])
		return;
	if (apply(d, slot, NULL, 0, err, sizeof(err)))
		pr_warn("perimd: removing the SYN protections of slot %d: %s\n", slot, err);
	d->syn->n[slot] = 0;
}
