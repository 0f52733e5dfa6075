// SPDX-License-Identifier: GPL-2.0
/* SYN protections into the kernel: nftables first, then the datapath's table (apply.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "log.h"
#include "model/rules.h"
#include "model/syncookies.h"
#include "perim_syn.h"
#include "syn/apply.h"
#include "syn/synproxy.h"
#include "xdp/perim_xdp.skel.h"

/* Where conntrack must not adopt a mid-stream ACK: SYNPROXY sees only invalid ones. */
#define TCP_LOOSE_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_tcp_loose"

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

/* One update replaces slot's table whole (a HASH element), so a packet never sees it half written. */
static int table_write(struct perimd *d, int slot, const struct perim_model_syn *s, char *err, size_t errlen)
{
	int fd = bpf_map__fd(d->loader.base->maps.perim_syn_table);
	struct perim_syn_table t = { .n = s->n };
	__u32 key = slot;
	int ret;

	for (int i = 0; i < s->n; i++)
		prot_of(&s->spec[i], &t.prot[i]);
	ret = s->n ? bpf_map_update_elem(fd, &key, &t, BPF_ANY) : bpf_map_delete_elem(fd, &key);
	if (ret && !(s->n == 0 && errno == ENOENT)) {
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

int perimd_syn_enforceable(struct perimd *d, int slot, const char *dev, char *err, size_t errlen)
{
	if (!d->loader.syn_available) {
		snprintf(err, errlen, "SYN protection is unavailable on this kernel: %s", d->loader.syn_reason);
		return PERIM_EXIT_FAIL;
	}
	return check_program(d, slot, dev, err, errlen);
}

/* nftables, then the map; the map failing puts nftables back. */
static int apply_slot(struct perimd *d, int slot, const char *dev, const struct perim_model_syn *from,
		      const struct perim_model_syn *to, char *err, size_t errlen)
{
	char undo_err[256];
	int ret;

	ret = perim_synproxy_apply(dev, to->spec, to->n, err, errlen);
	if (ret)
		return ret;
	ret = table_write(d, slot, to, err, errlen);
	if (ret && perim_synproxy_apply(dev, from->spec, from->n, undo_err, sizeof(undo_err)))
		pr_warn("perimd: undoing the synproxy table of %s: %s\n", dev, undo_err);
	if (!ret && to->n)
		strict_conntrack();
	return ret;
}

static int apply_slots(struct perimd *d, const struct perim_model *from, const struct perim_model *to, int upto,
		       char *err, size_t errlen)
{
	for (int s = 0; s < upto; s++) {
		const struct perim_model_syn *next = perim_model_syn_of(to, s);
		const char *dev;
		char why[512];
		int ret;

		if (!perim_model_syn_changed(from, to, s))
			continue;
		dev = (to->ifaces[s].used ? to : from)->ifaces[s].dev;
		if (next->n && perimd_syn_enforceable(d, s, dev, why, sizeof(why))) {
			pr_warn("perimd: %s: SYN protection kept in the state file, not enforced: %s\n", dev, why);
			continue;
		}
		ret = apply_slot(d, s, dev, perim_model_syn_of(from, s), next, err, errlen);
		if (ret) {
			char undo_err[256];

			if (from && apply_slots(d, to, from, s, undo_err, sizeof(undo_err)))
				pr_warn("perimd: undoing a SYN protection change: %s\n", undo_err);
			return ret;
		}
	}
	return 0;
}

int perimd_syn_apply(struct perimd *d, const struct perim_model *from, const struct perim_model *to,
		     char *err, size_t errlen)
{
	return apply_slots(d, from, to, PERIM_MAX_IFACES, err, errlen);
}
