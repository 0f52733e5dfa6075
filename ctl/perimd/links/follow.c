// SPDX-License-Identifier: GPL-2.0
/* Converging each configured slot on the device that bears its name (see follow.h). */
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon.h"
#include "links/follow.h"
#include "log.h"
#include "loop.h"
#include "model/rules.h"
#include "telemetry/stats.h"
#include "links/nicstats.h"
#include "links/netlink.h"
#include "datapath/loader.h"
#include "datapath/egress.h"
#include "perim.h"

#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 5000

struct follow_slot {
	int seen_ifindex;          /* the link whose up/down state is below */
	bool up;
	bool renamed_logged;
};

struct perimd_follow {
	int retry_fd;              /* one-shot timerfd, armed while an attach is owed */
	unsigned backoff_ms;       /* 0: no retry pending */
	struct follow_slot slot[PERIM_MAX_IFACES];
};

/* ---- retry timer ---- */

static void set_timer(int fd, unsigned ms)
{
	struct itimerspec its = { .it_value = { ms / 1000, (ms % 1000) * 1000000L } };

	if (timerfd_settime(fd, 0, &its, NULL) < 0)
		pr_warn("perimd: link retry timer: %s\n", strerror(errno));
}

static void arm_retry(struct perimd_follow *f)
{
	f->backoff_ms = f->backoff_ms ? f->backoff_ms * 2 : RETRY_FIRST_MS;
	if (f->backoff_ms > RETRY_MAX_MS)
		f->backoff_ms = RETRY_MAX_MS;
	set_timer(f->retry_fd, f->backoff_ms);
}

static void disarm_retry(struct perimd_follow *f)
{
	if (!f->backoff_ms)
		return;
	f->backoff_ms = 0;
	set_timer(f->retry_fd, 0);
}

static int on_retry(void *ctx, int fd, uint32_t events)
{
	uint64_t expirations;

	/* EAGAIN: already drained by a spurious wakeup; reconcile anyway. */
	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		pr_warn("perimd: link retry timer: %s\n", strerror(errno));
	perimd_follow_reconcile(ctx);
	return 0;
}

/* ---- what an attachment is now ---- */

static int limits_of(const struct perimd *d, int slot)
{
	int n = 0;

	for (uint32_t id = 1; id < d->model->rules_end; id++)
		n += d->model->rules[id].used && d->model->rules[id].iface == slot;
	return n;
}

static int acl_entries_of(const struct perimd *d, int slot)
{
	int n = 0;

	for (unsigned i = 0; i < d->model->n_acl; i++)
		n += d->model->acl[i].iface == slot;
	return n;
}

static void log_attached(struct perimd *d, int slot, const char *what)
{
	const struct perim_attachment *a = &d->att[slot];
	struct perimd_xdp_state x;
	const char *mode = "unknown";

	if (!perimd_netlink_xdp(d->nl, a->ifindex, &x))
		mode = perimd_xdp_attached_name(x.attached);
	pr_warn("perimd: %s: %s: ifindex %d, prog id %u, %s mode; slot %d's %d limits and %d "
		"allow/deny entries are in its pinned maps and apply now\n",
		d->model->ifaces[slot].dev, what, a->ifindex, a->prog_id, mode, slot,
		limits_of(d, slot), acl_entries_of(d, slot));
}

/* ---- the moves ---- */

static int attach_slot(struct perimd *d, int slot, int ifindex, const char *what)
{
	const struct perim_model_iface *mi = &d->model->ifaces[slot];
	struct perim_attachment a;
	char err[512];
	int ret;

	perimd_nicstats_rebase(&d->nic, slot, ifindex, perimd_stats_if_dropped(&d->stats, slot));
	ret = perim_loader_attach(&d->loader, mi->dev, ifindex, slot, mi->mode, &a, err, sizeof(err));
	if (ret) {
		pr_warn("perimd: %s: %s (ifindex %d) failed, retrying: %s\n", mi->dev, what, ifindex, err);
		return -1;
	}
	d->att[slot] = a;
	log_attached(d, slot, what);
	perimd_egress_link_back(d, slot);
	return 0;
}

/* The name now belongs to another device: attach there first, then leave the renamed one. */
static int move_slot(struct perimd *d, int slot, int ifindex, const char *old_name)
{
	struct perim_attachment old = d->att[slot];
	int old_ifindex = old.ifindex;
	char err[512];

	if (attach_slot(d, slot, ifindex, "moved to the device now bearing the name"))
		return -1;
	if (perim_loader_detach(&d->loader, &old, err, sizeof(err)))
		pr_warn("perimd: %s: detaching from the renamed %s (ifindex %d): %s\n",
			d->model->ifaces[slot].dev, old_name, old_ifindex, err);
	else
		pr_warn("perimd: %s: detached from %s (ifindex %d), which was renamed away\n",
			d->model->ifaces[slot].dev, old_name, old_ifindex);
	return 0;
}

/* Down/up and the like: the program normally stays; re-attach only if the kernel lost it. */
static int verify_attached(struct perimd *d, int slot)
{
	struct perim_attachment *a = &d->att[slot];
	const char *dev = d->model->ifaces[slot].dev;
	struct perimd_xdp_state x;
	int ifindex = a->ifindex;
	int ret;

	ret = perimd_netlink_xdp(d->nl, ifindex, &x);
	if (ret == -ENODEV)
		return 0;          /* deleted: its RTM_DELLINK is on the way */
	if (ret) {
		pr_warn("perimd: %s: reading IFLA_XDP of ifindex %d: %s\n", dev, ifindex, strerror(-ret));
		return -1;
	}
	/* Under a multiprog dispatcher IFLA_XDP names the dispatcher, so only "none" means lost. */
	if (x.attached != XDP_ATTACHED_NONE)
		return 0;
	pr_warn("perimd: %s: perim's XDP program (prog id %u) is no longer attached to ifindex %d\n",
		dev, a->prog_id, ifindex);
	perim_loader_release(a);
	return attach_slot(d, slot, ifindex, "re-attached");
}

static void note_up_down(struct perimd *d, int slot, int ifindex)
{
	struct follow_slot *fs = &d->follow->slot[slot];
	bool up = perimd_netlink_cached_up(d->nl, ifindex);
	struct perimd_xdp_state x;

	if (fs->seen_ifindex == ifindex && fs->up == up)
		return;
	if (fs->seen_ifindex == ifindex && !perimd_netlink_xdp(d->nl, ifindex, &x))
		pr_info("perimd: %s: link %s; XDP %s (prog id %u), perim's prog id %u\n",
			d->model->ifaces[slot].dev, up ? "up" : "down", perimd_xdp_attached_name(x.attached),
			x.prog_id, d->att[slot].prog_id);
	fs->seen_ifindex = ifindex;
	fs->up = up;
}

/* 0 when the slot is where it should be (or nothing can be done yet), -1 to retry. */
static int reconcile_slot(struct perimd *d, int slot)
{
	struct follow_slot *fs = &d->follow->slot[slot];
	struct perim_attachment *a = &d->att[slot];
	const char *dev = d->model->ifaces[slot].dev;
	int want = perimd_netlink_cached_ifindex(d->nl, dev);
	char now_name[IF_NAMESIZE] = "";

	if (a->attached && a->ifindex == want) {
		if (fs->renamed_logged)
			pr_warn("perimd: %s: ifindex %d bears the name again\n", dev, want);
		fs->renamed_logged = false;
		note_up_down(d, slot, want);
		return verify_attached(d, slot);
	}
	if (a->attached && !perimd_netlink_cached_name(d->nl, a->ifindex, now_name)) {
		pr_warn("perimd: %s: ifindex %d was deleted, perim's program with it; %s\n", dev, a->ifindex,
			want ? "attaching to the new device" : "waiting for a device of that name");
		perim_loader_release(a);
		fs->renamed_logged = false;
	}
	if (a->attached && !want) {
		if (!fs->renamed_logged)
			pr_warn("perimd: %s: ifindex %d was renamed %s; perim stays attached to it until a "
				"device is named %s again\n", dev, a->ifindex, now_name, dev);
		fs->renamed_logged = true;
		return 0;
	}
	if (!want)
		return 0;
	fs->renamed_logged = false;
	if (a->attached)
		return move_slot(d, slot, want, now_name);
	return attach_slot(d, slot, want, "attached to the device that appeared");
}

void perimd_follow_reconcile(struct perimd *d)
{
	bool owed = false;

	if (!d->follow || !d->model)
		return;
	for (int s = 0; s < PERIM_MAX_IFACES; s++)
		if (d->model->ifaces[s].used && reconcile_slot(d, s))
			owed = true;
	if (owed)
		arm_retry(d->follow);
	else
		disarm_retry(d->follow);
}

static void on_links_changed(void *ctx)
{
	perimd_follow_reconcile(ctx);
}

int perimd_follow_open(struct perimd *d, char *err, size_t errlen)
{
	struct perimd_follow *f = calloc(1, sizeof(*f));
	int ret;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (f->retry_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "link retry timer: %s", strerror(-ret));
		free(f);
		return ret;
	}
	ret = perim_loop_add(d->loop, f->retry_fd, EPOLLIN, on_retry, d);
	if (ret) {
		snprintf(err, errlen, "link retry timer: %s", strerror(-ret));
		close(f->retry_fd);
		free(f);
		return ret;
	}
	d->follow = f;
	ret = perimd_netlink_open(d->loop, on_links_changed, d, &d->nl, err, errlen);
	if (!ret) {
		ret = perimd_nicstats_init(&d->nic, d->nl);
		if (ret)
			snprintf(err, errlen, "NIC counters: ethtool socket: %s", strerror(-ret));
	}
	if (ret)
		perimd_follow_close(d);
	return ret;
}

void perimd_follow_close(struct perimd *d)
{
	struct perimd_follow *f = d->follow;

	if (d->nl)
		perimd_nicstats_fini(&d->nic);
	perimd_netlink_close(d->nl);
	d->nl = NULL;
	if (!f)
		return;
	perim_loop_del(d->loop, f->retry_fd);
	close(f->retry_fd);
	free(f);
	d->follow = NULL;
}
