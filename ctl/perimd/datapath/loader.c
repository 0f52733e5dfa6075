// SPDX-License-Identifier: GPL-2.0
/* Loading, attaching (via libxdp), adopting and detaching perim_xdp. */
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <mntent.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "datapath/adopt_check.h"
#include "datapath/prog_rodata.h"
#include "datapath/fd_guard.h"
#include "datapath/loadfail.h"
#include "log.h"
#include "datapath/loader.h"
#include "xdp/perim_xdp.skel.h"
#include "model/rules.h"
#include "cmd.h"
#include "perim.h"
#include "perim_syn.h"
#include "syn/probe.h"

#define BPFFS_ROOT "/sys/fs/bpf"

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The mount point holding path, from /proc/self/mounts (the longest match); path itself if none. */
static const char *mount_point_of(const char *path, char *out, size_t len)
{
	struct mntent *e;
	size_t best = 0;
	FILE *f = setmntent("/proc/self/mounts", "re");

	snprintf(out, len, "%s", path);
	if (!f)
		return out;
	while ((e = getmntent(f))) {
		size_t n = strlen(e->mnt_dir);

		if (n > best && !strncmp(path, e->mnt_dir, n) && (path[n] == '/' || !path[n])) {
			best = n;
			snprintf(out, len, "%s", e->mnt_dir);
		}
	}
	endmntent(f);
	return out;
}

static int prepare_pin_root(const char *pin_root, bool *mounted, char *err, size_t errlen)
{
	char mnt[PATH_MAX];
	struct statvfs vfs;
	int ret;

	*mounted = false;
	if (!on_bpffs(BPFFS_ROOT)) {
		if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700") < 0) {
			ret = -errno;
			snprintf(err, errlen, "mounting bpffs on %s: %s", BPFFS_ROOT, strerror(-ret));
			return ret;
		}
		*mounted = true;
		pr_warn("perimd: no bpffs was mounted on %s: mounted one there (its pins are seen where this "
			"mount is, and by no perimd started in another mount namespace)\n", BPFFS_ROOT);
	}
	ret = mkdir_p(pin_root, 0700);
	if (ret) {
		snprintf(err, errlen, "creating pin root %s: %s", pin_root, strerror(-ret));
		return ret;
	}
	if (!on_bpffs(pin_root)) {
		snprintf(err, errlen, "pin root %s is not on a bpf filesystem", pin_root);
		return -EINVAL;
	}
	/* Opening a pin asks for write access: on a read-only mount every one fails. */
	if (!statvfs(pin_root, &vfs) && (vfs.f_flag & ST_RDONLY)) {
		snprintf(err, errlen, "pin root %s is on a read-only bpffs: its pinned maps cannot be opened for "
			 "writing; the attached programs keep enforcing what they hold (mount -o remount,rw %s, "
			 "then start perimd)", pin_root, mount_point_of(pin_root, mnt, sizeof(mnt)));
		return -EROFS;
	}
	return 0;
}

/* perim_xdp uses cmpxchg, which kernels before 5.12 refuse; they get the twin. */
static const char *program_for_kernel(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 5 || (major == 5 && minor < 12)))
		return "perim_xdp_compat";
	return PERIM_XDP_PROG_NAME;
}

/* The size of a pinned bucket table, 0 when there is none. */
static unsigned pinned_map_entries(const char *pin_root, const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[4200];
	unsigned n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_root, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		n = info.max_entries;
	close(fd);
	return n;
}

/*
 * A previous size wins when none was asked for: a mismatch would make libbpf
 * refuse the pin. Both bucket tables get that size; a perimd from before
 * perim_src4 left only perim_src.
 */
static unsigned pinned_src_buckets(const char *pin_root)
{
	unsigned n = pinned_map_entries(pin_root, PERIM_MAP_SRC);

	return n ? n : pinned_map_entries(pin_root, PERIM_MAP_SRC4);
}

/*
 * Each instance's tries, fast tables and fast-path descriptor are its
 * interface's: pinned per slot, so libbpf reuses what perimd (or an earlier
 * instance) already filled, or creates and pins it. slot < 0: the base
 * instance, whose copies stay private.
 */
static int pin_tries(const struct perim_loader *l, struct perim_xdp *skel, int slot)
{
	static const int families[] = { PERIM_LPM_V4, PERIM_LPM_V6, PERIM_LPM_FAST_V4, PERIM_LPM_FAST_V6 };
	struct bpf_map *maps[] = { skel->maps.perim_lpm4, skel->maps.perim_lpm6, skel->maps.perim_fast4,
				   skel->maps.perim_fast6 };
	char path[4200];
	int ret;

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		ret = slot < 0 ? 0 : perim_lpm_pin_path(path, sizeof(path), l->pin_root, families[i], slot);
		if (!ret)
			ret = bpf_map__set_pin_path(maps[i], slot < 0 ? NULL : path);
		if (ret)
			return ret;
	}
	ret = slot < 0 ? 0 : perim_fast_lens_pin_path(path, sizeof(path), l->pin_root, slot);
	return ret ?: bpf_map__set_pin_path(skel->maps.perim_fastlens, slot < 0 ? NULL : path);
}

static struct perim_xdp *open_instance(const struct perim_loader *l, int slot, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = l->pin_root,
		    .btf_custom_path = l->btf_custom_path);
	bool compat = !strcmp(l->prog_name, "perim_xdp_compat");
	bool syn = !strcmp(l->prog_name, PERIM_XDP_SYN_PROG_NAME);
	struct perim_xdp *skel;
	int ret;

	skel = perim_xdp__open_opts(&opts);
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "opening the perim_xdp object: %s", strerror(-ret));
		errno = -ret;
		return NULL;
	}
	skel->rodata->perim_slot = slot < 0 ? 0 : slot;
	skel->rodata->perim_drop_sample_rate = l->drop_sample_rate;
	ret = bpf_map__set_max_entries(skel->maps.perim_src, l->src_buckets);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.perim_src4, l->src_buckets);
	if (!ret)
		ret = pin_tries(l, skel, slot);
	if (!ret)
		ret = bpf_program__set_autoload(skel->progs.perim_xdp, !compat && !syn);
	if (!ret)
		ret = bpf_program__set_autoload(skel->progs.perim_xdp_compat, compat);
	if (!ret)
		ret = bpf_program__set_autoload(skel->progs.perim_xdp_syn, syn);
	if (ret) {
		snprintf(err, errlen, "configuring the perim_xdp object: %s", strerror(-ret));
		perim_xdp__destroy(skel);
		errno = -ret;
		return NULL;
	}
	return skel;
}

static int map_fd(struct bpf_map *map)
{
	return bpf_map__fd(map);
}

/*
 * The base instance with the SYN-cookie twin where the probe found what it
 * calls; a verifier that still refuses it costs the stage, not perim:
 * perim_xdp is loaded instead and the refusal becomes syn_reason.
 */
static int load_base(struct perim_loader *l, char *err, size_t errlen)
{
	struct perim_load_failure refusal;
	char msg[128];
	int ret;

	l->base = open_instance(l, -1, err, errlen);
	if (!l->base)
		return -errno;
	perim_load_capture_begin(&refusal);
	ret = perim_xdp__load(l->base);
	perim_load_capture_end();
	if (!ret || !l->syn_available)
		return ret;
	libbpf_strerror(ret, msg, sizeof(msg));
	snprintf(l->syn_reason, sizeof(l->syn_reason), "the kernel's verifier refused %s: %.120s (%.64s)",
		 PERIM_XDP_SYN_PROG_NAME, refusal.log_why[0] ? refusal.log_why : "no verifier log", msg);
	pr_warn("perimd: SYN protection unavailable: %s; loading %s\n", l->syn_reason, PERIM_XDP_PROG_NAME);
	l->syn_available = false;
	l->prog_name = PERIM_XDP_PROG_NAME;
	perim_xdp__destroy(l->base);
	l->base = open_instance(l, -1, err, errlen);
	if (!l->base)
		return -errno;
	return perim_xdp__load(l->base);
}

int perim_loader_open(struct perim_loader *l, const char *pin_root, const char *btf_custom_path,
		      unsigned src_buckets, unsigned drop_sample_rate, char *err, size_t errlen)
{
	char msg[256];
	int ret;

	memset(l, 0, sizeof(*l));
	perim_maps_init(&l->maps);
	snprintf(l->pin_root, sizeof(l->pin_root), "%s", pin_root);
	l->maps.pin_root = l->pin_root;
	l->btf_custom_path = btf_custom_path;
	l->drop_sample_rate = drop_sample_rate;
	l->prog_name = program_for_kernel();
	/* The SYN-cookie twin where the kernel has what it calls (6.0+, so never with compat). */
	l->syn_available = perim_syn_probe(l->syn_reason, sizeof(l->syn_reason));
	if (l->syn_available)
		l->prog_name = PERIM_XDP_SYN_PROG_NAME;
	else
		pr_info("perimd: SYN protection unavailable: %s\n", l->syn_reason);
	ret = prepare_pin_root(pin_root, &l->mounted_bpffs, err, errlen);
	if (ret)
		return ret;
	l->src_buckets = src_buckets ? src_buckets : pinned_src_buckets(pin_root);
	if (!l->src_buckets)
		l->src_buckets = PERIM_SRC_BUCKETS_DEFAULT;

	ret = load_base(l, err, errlen);
	if (!l->base)
		return ret;   /* err says why it did not open */
	if (ret) {
		libbpf_strerror(ret, msg, sizeof(msg));
		snprintf(err, errlen, "loading perim_xdp (maps pinned under %s, %u source buckets): %s",
			 pin_root, l->src_buckets, msg);
		perim_xdp__destroy(l->base);
		l->base = NULL;
		return ret;
	}
	l->maps.rules_fd = map_fd(l->base->maps.perim_rules);
	l->maps.rule_stats_fd = map_fd(l->base->maps.perim_rule_stats);
	l->if_stats_fd = map_fd(l->base->maps.perim_if_stats);
	return 0;
}

void perim_loader_close(struct perim_loader *l)
{
	perim_maps_close(&l->maps);
	perim_xdp__destroy(l->base);
	l->base = NULL;
}

static enum xdp_attach_mode xdp_mode_of(enum perim_xdp_mode m)
{
	return m == PERIM_MODE_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

static bool is_perim_prog(struct xdp_program *p)
{
	const char *name = p ? xdp_program__name(p) : NULL;

	return name && !strncmp(name, PERIM_XDP_PROG_NAME, strlen(PERIM_XDP_PROG_NAME));
}

/*
 * What is attached to ifindex now, or -errno (-ENOENT: nothing), and the fds
 * libxdp's query leaves open closed again (fd_guard.h) once the caller is
 * done with it and has called xdp_query_end.
 */
static int xdp_query_begin(int ifindex, struct perim_fd_guard *g, struct xdp_multiprog **mp)
{
	int ret = perim_fd_guard_begin(g);

	*mp = NULL;
	if (ret)
		return ret;
	*mp = xdp_multiprog__get_from_ifindex(ifindex);
	ret = libxdp_get_error(*mp);
	if (ret) {
		*mp = NULL;
		perim_fd_guard_end(g);
	}
	return ret;
}

static void xdp_query_end(struct perim_fd_guard *g, struct xdp_multiprog *mp)
{
	xdp_multiprog__close(mp);
	perim_fd_guard_end(g);
}

/* perim's program on ifindex, as attached now: *id (0: none) and *mode. 0 or -errno. */
static int find_attached(int ifindex, uint32_t *id, enum perim_xdp_mode *mode)
{
	struct xdp_program *p = NULL;
	struct xdp_multiprog *mp;
	struct perim_fd_guard g;
	int ret;

	*id = 0;
	ret = xdp_query_begin(ifindex, &g, &mp);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (!is_perim_prog(p))
			p = NULL;
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)) && !is_perim_prog(p))
			;
	}
	if (p) {
		*id = xdp_program__id(p);
		*mode = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ? PERIM_MODE_SKB : PERIM_MODE_NATIVE;
	}
	xdp_query_end(&g, mp);
	return 0;
}

static void drop_instance(struct perim_attachment *a)
{
	xdp_program__close(a->prog);
	perim_xdp__destroy(a->skel);
	a->prog = NULL;
	a->skel = NULL;
}

static int attach_in_mode(struct perim_loader *l, int ifindex, int slot, enum perim_xdp_mode mode,
			  struct perim_attachment *a, char *err, size_t errlen)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .prog_name = l->prog_name);
	struct perim_load_failure refusal;
	char msg[256];
	long ret;

	a->skel = open_instance(l, slot, err, errlen);
	if (!a->skel)
		return -errno;
	xopts.obj = a->skel->obj;
	a->prog = xdp_program__create(&xopts);
	ret = libxdp_get_error(a->prog);
	if (ret) {
		a->prog = NULL;
		libxdp_strerror(ret, msg, sizeof(msg));
		snprintf(err, errlen, "creating the libxdp program: %s", msg);
		drop_instance(a);
		return ret;
	}
	/* libxdp loads the program at attach (as a dispatcher extension): the verifier's word is in libbpf's log. */
	perim_load_capture_begin(&refusal);
	ret = xdp_program__attach(a->prog, ifindex, xdp_mode_of(mode), 0);
	perim_load_capture_end();
	if (ret) {
		libxdp_strerror(ret, msg, sizeof(msg));
		snprintf(err, errlen, "attaching %s in %s mode: %s%s%.160s%s", l->prog_name,
			 mode == PERIM_MODE_SKB ? "skb" : "native", msg, refusal.log_why[0] ? " (verifier: " : "",
			 refusal.log_why, refusal.log_why[0] ? ")" : "");
		drop_instance(a);
		return ret;
	}
	a->prog_id = xdp_program__id(a->prog);
	a->mode = mode;
	return 0;
}

/*
 * The program found attached must read the maps perimd writes: the shared
 * ones and the slot's tries where they exist. Otherwise perimd refuses it
 * (PERIM_EXIT_FAIL, a->foreign_maps set) rather than writing changes into
 * maps nothing reads; it leaves the program and its maps as they are.
 */
static int check_adoptable(struct perim_loader *l, const char *dev, int slot, struct perim_attachment *a,
			   char *err, size_t errlen)
{
	struct perim_adopt_map maps[] = {
		{ PERIM_MAP_RULES, l->maps.rules_fd },
		{ PERIM_MAP_IF_STATS, l->if_stats_fd },
		{ PERIM_MAP_RULE_STATS, l->maps.rule_stats_fd },
		{ PERIM_MAP_LPM4, -1 },
		{ PERIM_MAP_LPM6, -1 },
		/* A perim_xdp from before perim_src4 (an upgrade) keeps its buckets in perim_src. */
		{ PERIM_MAP_SRC4, l->base ? map_fd(l->base->maps.perim_src4) : -1, .may_lack = true },
		{ PERIM_MAP_SRC, l->base ? map_fd(l->base->maps.perim_src) : -1 },
	};
	char why[160], scratch[256];
	int ret;

	maps[3].fd = perim_maps_lpm_fd(&l->maps, PERIM_LPM_V4, slot, false, scratch, sizeof(scratch));
	maps[4].fd = perim_maps_lpm_fd(&l->maps, PERIM_LPM_V6, slot, false, scratch, sizeof(scratch));
	ret = perim_adopt_check(a->prog_id, maps, sizeof(maps) / sizeof(maps[0]), why, sizeof(why));
	if (!ret)
		return 0;
	if (ret == -EPROTO) {
		a->foreign_maps = true;
		snprintf(err, errlen, "%s: refusing to adopt the attached %s: %s, whose maps this perimd does not "
			 "know. Start the perimd that attached it, or remove the program (ip link set dev %s xdp off) "
			 "and start this one again", dev, l->prog_name, why, dev);
		return PERIM_EXIT_FAIL;
	}
	if (ret != -EXDEV) {
		snprintf(err, errlen, "%s: adopting the attached %s: %s", dev, l->prog_name, why);
		return PERIM_EXIT_FAIL;
	}
	a->foreign_maps = true;
	snprintf(err, errlen, "%s: refusing to adopt the attached %s: %s, so its maps are not pinned under %s: "
		 "this perimd sees another bpffs than the one they were pinned in%s, or they were unpinned, and "
		 "changes would do nothing. Start perimd where that bpffs is mounted (nsenter --net keeps the "
		 "host's mounts; ip netns exec mounts a fresh /sys), or remove the program (ip link set dev %s "
		 "xdp off)", dev, l->prog_name, why, l->pin_root,
		 l->mounted_bpffs ? " (perimd mounted " BPFFS_ROOT " itself)" : "", dev);
	return PERIM_EXIT_FAIL;
}

/* Native first unless told, then skb mode. */
static int attach_in_modes(struct perim_loader *l, const char *dev, int slot, enum perim_xdp_mode mode,
			   struct perim_attachment *a, char *err, size_t errlen)
{
	int ret;

	if (mode != PERIM_MODE_SKB) {
		ret = attach_in_mode(l, a->ifindex, slot, PERIM_MODE_NATIVE, a, err, errlen);
		if (!ret || mode == PERIM_MODE_NATIVE)
			return ret;
		pr_info("perimd: %s: %s; falling back to skb mode\n", dev, err);
	}
	return attach_in_mode(l, a->ifindex, slot, PERIM_MODE_SKB, a, err, errlen);
}

/*
 * The rate an adopted program samples drops at is the one it was loaded
 * with: status reports it, and a --drop-sample-rate it does not follow is
 * logged (detach and attach again to apply it).
 */
static void adopted_drop_sample_rate(const struct perim_loader *l, const char *dev, struct perim_attachment *a)
{
	char why[256];
	uint32_t rate;

	a->drop_sample_rate = -1;
	if (perim_prog_rodata_u32(a->prog_id, "perim_drop_sample_rate", &rate, why, sizeof(why))) {
		pr_warn("perimd: %s: the adopted program's drop sample rate is unknown: %s\n", dev, why);
		return;
	}
	a->drop_sample_rate = rate;
	if (rate != l->drop_sample_rate)
		pr_warn("perimd: %s: the adopted program samples at most %u drops/s per CPU, not --drop-sample-rate %u: "
			"perimctl detach %s and attach it again to apply it\n", dev, rate, l->drop_sample_rate, dev);
}

int perim_loader_attach(struct perim_loader *l, const char *dev, int ifindex, int slot,
			enum perim_xdp_mode mode, struct perim_attachment *a, char *err, size_t errlen)
{
	char first[512];
	int ret;

	memset(a, 0, sizeof(*a));
	a->ifindex = ifindex;
	if (a->ifindex <= 0) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: no such interface", dev);
		return PERIM_EXIT_BADINPUT;
	}
	ret = find_attached(a->ifindex, &a->prog_id, &a->mode);
	if (ret) {
		libxdp_strerror(ret, first, sizeof(first));
		snprintf(err, errlen, "%s: finding the XDP programs attached to it: %s", dev, first);
		return PERIM_EXIT_FAIL;
	}
	if (a->prog_id) {
		ret = check_adoptable(l, dev, slot, a, err, errlen);
		if (ret)
			return ret;
		pr_info("perimd: %s: adopting the attached %s (prog id %u)\n", dev, l->prog_name, a->prog_id);
		a->adopted = a->attached = true;
		adopted_drop_sample_rate(l, dev, a);
		return 0;
	}
	ret = attach_in_modes(l, dev, slot, mode, a, err, errlen);
	if (ret && l->syn_available) {
		/*
		 * The SYN-cookie twin can load and still be refused at attach:
		 * the interface gets perim_xdp, SYN protection is reported
		 * unavailable with the refusal.
		 */
		snprintf(l->syn_reason, sizeof(l->syn_reason), "the kernel refused attaching %s: %.320s",
			 PERIM_XDP_SYN_PROG_NAME, err);
		pr_warn("perimd: %s: SYN protection unavailable: %s; attaching %s\n", dev, l->syn_reason,
			PERIM_XDP_PROG_NAME);
		l->syn_available = false;
		l->prog_name = PERIM_XDP_PROG_NAME;
		ret = attach_in_modes(l, dev, slot, mode, a, err, errlen);
	}
	if (ret) {
		char ctx[640];

		snprintf(ctx, sizeof(ctx), "%s: %s", dev, err);
		snprintf(err, errlen, "%s", ctx);
		return PERIM_EXIT_FAIL;
	}
	a->attached = true;
	a->drop_sample_rate = l->drop_sample_rate;
	return 0;
}

static int detach_prog(struct perim_attachment *a, char *err, size_t errlen)
{
	struct xdp_program *p = a->prog;
	char msg[256];
	long ret;

	if (!p) {
		p = xdp_program__from_id(a->prog_id);
		ret = libxdp_get_error(p);
		if (ret) {
			/* The program is gone already (the NIC was deleted): nothing to detach. */
			if (ret == -ENOENT)
				return 0;
			libxdp_strerror(ret, msg, sizeof(msg));
			snprintf(err, errlen, "finding prog id %u: %s", a->prog_id, msg);
			return PERIM_EXIT_FAIL;
		}
	}
	ret = xdp_program__detach(p, a->ifindex, xdp_mode_of(a->mode), 0);
	if (p != a->prog)
		xdp_program__close(p);
	if (ret && ret != -ENODEV && ret != -ENOENT) {
		libxdp_strerror(ret, msg, sizeof(msg));
		snprintf(err, errlen, "detaching prog id %u from ifindex %d: %s", a->prog_id, a->ifindex, msg);
		return PERIM_EXIT_FAIL;
	}
	return 0;
}

int perim_loader_detach(struct perim_loader *l, struct perim_attachment *a, char *err, size_t errlen)
{
	struct perim_fd_guard g;
	int ret;

	(void)l;
	if (!a->attached)
		return 0;
	ret = perim_fd_guard_begin(&g);
	if (ret) {
		snprintf(err, errlen, "detaching prog id %u from ifindex %d: %s", a->prog_id, a->ifindex,
			 strerror(-ret));
		return PERIM_EXIT_FAIL;
	}
	ret = detach_prog(a, err, errlen);
	if (!ret) {
		drop_instance(a);
		memset(a, 0, sizeof(*a));
	}
	perim_fd_guard_end(&g);
	return ret;
}

void perim_loader_release(struct perim_attachment *a)
{
	drop_instance(a);
	memset(a, 0, sizeof(*a));
}

static struct json_object *chain_actions(struct xdp_program *p)
{
	static const char *const names[] = { "aborted", "drop", "pass", "tx", "redirect" };
	struct json_object *arr = json_object_new_array();

	for (unsigned act = 0; act < sizeof(names) / sizeof(names[0]); act++)
		if (xdp_program__chain_call_enabled(p, act))
			json_object_array_add(arr, json_object_new_string(names[act]));
	return arr;
}

static struct json_object *program_json(struct xdp_program *p)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(xdp_program__name(p)));
	json_object_object_add(o, "id", json_object_new_int64(xdp_program__id(p)));
	json_object_object_add(o, "priority", json_object_new_int(xdp_program__run_prio(p)));
	json_object_object_add(o, "chain_call_actions", chain_actions(p));
	return o;
}

int perim_loader_describe(int ifindex, struct json_object *obj, char *err, size_t errlen)
{
	struct json_object *progs;
	struct xdp_program *p = NULL;
	struct xdp_multiprog *mp;
	struct perim_fd_guard g;
	const char *mode;
	char msg[256];
	int ret;

	ret = xdp_query_begin(ifindex, &g, &mp);
	if (ret == -ENOENT) {
		json_object_object_add(obj, "dispatcher", NULL);
		json_object_object_add(obj, "mode", NULL);
		json_object_object_add(obj, "programs", json_object_new_array());
		return 0;
	}
	if (ret) {
		libxdp_strerror(ret, msg, sizeof(msg));
		snprintf(err, errlen, "querying the XDP programs of ifindex %d: %s", ifindex, msg);
		return ret;
	}
	progs = json_object_new_array();
	mode = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ? "skb" : "native";
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p)
			json_object_array_add(progs, program_json(p));
		json_object_object_add(obj, "dispatcher", json_object_new_string("single"));
		json_object_object_add(obj, "reason", json_object_new_string(
			"no libxdp multiprog dispatcher on this NIC: libxdp attaches a lone program "
			"when the kernel cannot load a dispatcher (it needs freplace), so perim is "
			"the NIC's only XDP program"));
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			json_object_array_add(progs, program_json(p));
		json_object_object_add(obj, "dispatcher", json_object_new_string("multiprog"));
	}
	xdp_query_end(&g, mp);
	json_object_object_add(obj, "mode", json_object_new_string(mode));
	json_object_object_add(obj, "programs", progs);
	return 0;
}
