// SPDX-License-Identifier: GPL-2.0
/*
 * Probing and attaching the tracer hooks. Program names say hook and flavour
 * (<hook>__<flavour>[_<detail>], see tracers/perim_trace.bpf.c); section names
 * say where they attach, which is what the probes check.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "tracing/hooks.h"
#include "log.h"
#include "perim_events.h"

#define TRACEFS "/sys/kernel/tracing"
#define SECURITYFS "/sys/kernel/security"

enum flavour { FL_KPROBE, FL_FENTRY, FL_TP_BTF, FL_RAW_TP, FL_TP, FL_LSM, FL_MAX };

static const struct {
	const char *tag;           /* in the program name */
	const char *family;        /* in perimctl status */
	const char *label;         /* in "how" */
} flavours[FL_MAX] = {
	[FL_KPROBE] = { "kp", "kprobe", "kprobe" },
	[FL_FENTRY] = { "fe", "fentry", "fentry" },
	[FL_TP_BTF] = { "btf", "tracepoint", "tp_btf" },
	[FL_RAW_TP] = { "raw", "tracepoint", "raw_tp" },
	[FL_TP] = { "tp", "tracepoint", "tracepoint" },
	[FL_LSM] = { "lsm", "lsm", "lsm" },
};

static const char *const hook_names[PERIM_HOOK_MAX] = PERIM_HOOK_NAMES;

/* What the probes learn once about the kernel. */
#define KPROBE_TARGETS_MAX 16

struct kernel_facts {
	struct btf *vmlinux;       /* the running kernel's BTF (not a custom file) */
	bool kprobe_pmu;
	/* the kprobe programs' functions, looked up in one pass over kallsyms */
	char ksym[KPROBE_TARGETS_MAX][128];
	bool ksym_found[KPROBE_TARGETS_MAX];
	int n_ksym;
	bool lsm_read;
	char lsm_list[256];
};

static int hook_of_prog(const char *name, int *flavour)
{
	const char *sep = strstr(name, "__");

	if (!sep)
		return -1;
	for (int h = 0; h < PERIM_HOOK_MAX; h++) {
		if (strlen(hook_names[h]) != (size_t)(sep - name) || strncmp(name, hook_names[h], sep - name))
			continue;
		for (int f = 0; f < FL_MAX; f++) {
			size_t n = strlen(flavours[f].tag);

			if (!strncmp(sep + 2, flavours[f].tag, n) && (sep[2 + n] == '\0' || sep[2 + n] == '_')) {
				*flavour = f;
				return h;
			}
		}
	}
	return -1;
}

/* The part of the section name after the first '/' ("syscalls/sys_enter_unlinkat"). */
static const char *sec_target(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog), *slash = strchr(sec, '/');

	return slash ? slash + 1 : sec;
}

static void ensure_mounted(const char *dir, const char *fstype, const char *probe_file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, probe_file);
	if (access(path, F_OK) == 0)
		return;
	if (mount(fstype, dir, fstype, 0, NULL) && errno != EBUSY)
		pr_debug("tracers: mount %s on %s: %s\n", fstype, dir, strerror(errno));
}

static void learn_kernel(struct kernel_facts *k)
{
	int fd;
	ssize_t n;

	k->vmlinux = btf__load_vmlinux_btf();
	if (!k->vmlinux)
		pr_debug("tracers: no kernel BTF: %s\n", strerror(errno));
	k->kprobe_pmu = access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0;
	ensure_mounted(TRACEFS, "tracefs", "events");
	ensure_mounted(SECURITYFS, "securityfs", "lsm");
	fd = open(SECURITYFS "/lsm", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, k->lsm_list, sizeof(k->lsm_list) - 1);
		if (n >= 0) {
			k->lsm_list[n] = '\0';
			k->lsm_read = true;
		}
		close(fd);
	}
}

static bool btf_has(const struct kernel_facts *k, const char *prefix, const char *name, int kind)
{
	char full[256];

	if (!k->vmlinux)
		return false;
	snprintf(full, sizeof(full), "%s%s", prefix, name);
	return btf__find_by_name_kind(k->vmlinux, full, kind) > 0;
}

/*
 * One pass over /proc/kallsyms for every kprobe target (about 100,000 lines,
 * most of a second per pass in an emulated VM).
 */
static void learn_kprobe_targets(struct kernel_facts *k, struct bpf_object *obj)
{
	struct bpf_program *prog;
	char line[512], sym[256];
	FILE *f;

	bpf_object__for_each_program(prog, obj) {
		int fl;

		if (hook_of_prog(bpf_program__name(prog), &fl) < 0 || fl != FL_KPROBE ||
		    k->n_ksym >= KPROBE_TARGETS_MAX)
			continue;
		snprintf(k->ksym[k->n_ksym++], sizeof(k->ksym[0]), "%s", sec_target(prog));
	}
	if (!k->n_ksym || !k->kprobe_pmu)
		return;
	f = fopen("/proc/kallsyms", "re");
	if (!f) {
		pr_debug("tracers: reading /proc/kallsyms: %s\n", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %255s", sym) != 1)
			continue;
		for (int i = 0; i < k->n_ksym; i++)
			if (!k->ksym_found[i] && !strcmp(sym, k->ksym[i]))
				k->ksym_found[i] = true;
	}
	fclose(f);
}

static bool kallsyms_has(const struct kernel_facts *k, const char *func)
{
	for (int i = 0; i < k->n_ksym; i++)
		if (!strcmp(k->ksym[i], func))
			return k->ksym_found[i];
	return false;
}

/*
 * Load a do-nothing program for func (fentry, or LSM on bpf_lsm_*): the load
 * is where the kernel checks the target. It is not attached: attaching
 * rewrites the entry of a function other CPUs are running, and a probe would
 * do that twice per target at every start. An attach the kernel refuses
 * after all is reported by perim_hooks_attach.
 */
static int tracing_load_try(const struct kernel_facts *k, const char *func,
			    enum bpf_prog_type type, enum bpf_attach_type attach)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach);
	int id, prog_fd;

	id = k->vmlinux ? btf__find_by_name_kind(k->vmlinux, func, BTF_KIND_FUNC) : -ENOENT;
	if (id <= 0)
		return -ENOENT;
	opts.attach_btf_id = id;
	prog_fd = bpf_prog_load(type, "perim_probe", "GPL", insns, 2, &opts);
	if (prog_fd < 0)
		return -errno;
	close(prog_fd);
	return 0;
}

static bool tracefs_event_exists(const char *cat_name)
{
	char path[600];

	snprintf(path, sizeof(path), TRACEFS "/events/%s/id", cat_name);
	return access(path, F_OK) == 0;
}

/* Any category holding event `name` (raw tracepoints are named without one). */
static bool tracefs_any_event(const char *name)
{
	DIR *dir = opendir(TRACEFS "/events");
	char path[512];
	struct dirent *de;
	bool found = false;

	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", de->d_name, name);
		found = tracefs_event_exists(path);
	}
	closedir(dir);
	return found;
}

/* Can prog work on this kernel? false with why in reason. */
static bool probe_prog(struct kernel_facts *k, const struct bpf_program *prog, int fl,
		       char *reason, size_t len)
{
	const char *target = sec_target(prog);
	char func[128];
	int err;

	switch (fl) {
	case FL_KPROBE:
		if (!k->kprobe_pmu) {
			snprintf(reason, len, "kernel lacks kprobes (no kprobe PMU: CONFIG_KPROBES/CONFIG_KPROBE_EVENTS off)");
			return false;
		}
		if (!kallsyms_has(k, target)) {
			snprintf(reason, len, "no kernel symbol %s", target);
			return false;
		}
		return true;
	case FL_FENTRY:
		err = tracing_load_try(k, target, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY);
		if (err == -ENOENT)
			snprintf(reason, len, "no BTF for function %s", target);
		else if (err)
			snprintf(reason, len, "kernel refuses fentry on %s: %s", target, strerror(-err));
		return !err;
	case FL_TP_BTF:
		if (!btf_has(k, "btf_trace_", target, BTF_KIND_TYPEDEF)) {
			snprintf(reason, len, k->vmlinux ? "no tracepoint %s in kernel BTF"
							 : "kernel has no BTF for tp_btf (%s)", target);
			return false;
		}
		return true;
	case FL_RAW_TP:
		if (!btf_has(k, "btf_trace_", target, BTF_KIND_TYPEDEF) && !tracefs_any_event(target)) {
			snprintf(reason, len, "kernel has no tracepoint %s", target);
			return false;
		}
		return true;
	case FL_TP:
		if (!tracefs_event_exists(target)) {
			snprintf(reason, len, "no tracepoint %s in %s/events", target, TRACEFS);
			return false;
		}
		return true;
	case FL_LSM:
		if (!k->lsm_read) {
			snprintf(reason, len, "cannot read %s/lsm (securityfs): BPF LSM state unknown", SECURITYFS);
			return false;
		}
		if (!strstr(k->lsm_list, "bpf")) {
			snprintf(reason, len, "BPF LSM not in lsm= (active: %.*s)",
				 (int)strcspn(k->lsm_list, "\n"), k->lsm_list);
			return false;
		}
		snprintf(func, sizeof(func), "bpf_lsm_%s", target);
		err = tracing_load_try(k, func, BPF_PROG_TYPE_LSM, BPF_LSM_MAC);
		if (err == -ENOENT)
			snprintf(reason, len, "kernel has no LSM hook %s", target);
		else if (err)
			snprintf(reason, len, "kernel refuses BPF LSM programs on %s: %s", target, strerror(-err));
		return !err;
	}
	return false;
}

static void append(char *buf, size_t len, const char *fmt, const char *a, const char *b)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, fmt, a, b);
}

static bool was_rejected(const struct perim_rejects *rej, const char *prog, char *reason, size_t len)
{
	for (int i = 0; rej && i < rej->n; i++) {
		if (!strcmp(rej->r[i].prog, prog)) {
			snprintf(reason, len, "verifier rejected %s: %s", prog, rej->r[i].why);
			return true;
		}
	}
	return false;
}

/* One flavour of one hook: probe every program of it; keep the ones that can work. */
static int plan_flavour(struct kernel_facts *k, struct bpf_object *obj, int hook, int fl,
			struct perim_hook_state *h, const struct perim_rejects *rej)
{
	struct bpf_program *prog;
	char why[256] = "", refused[320];
	int usable = 0, present = 0;

	bpf_object__for_each_program(prog, obj) {
		int pfl, ph = hook_of_prog(bpf_program__name(prog), &pfl);

		if (ph != hook || pfl != fl)
			continue;
		present++;
		if (was_rejected(rej, bpf_program__name(prog), refused, sizeof(refused))) {
			/* told even when the flavour's other programs work: this one is missing */
			append(h->reason, sizeof(h->reason), "%s%s", h->reason[0] ? "; " : "", refused);
			bpf_program__set_autoload(prog, false);
		} else if (probe_prog(k, prog, fl, why, sizeof(why))) {
			usable++;
			append(h->how, sizeof(h->how), "%s%s", usable > 1 ? "," : "", sec_target(prog));
		} else {
			bpf_program__set_autoload(prog, false);
			/* a guard rail's hook is several LSM hooks: each one missing is told */
			if (fl == FL_LSM && why[0] && !strstr(h->reason, why))
				append(h->reason, sizeof(h->reason), "%s%s", h->reason[0] ? "; " : "", why);
		}
	}
	if (present && !usable && why[0] && fl != FL_LSM)
		append(h->reason, sizeof(h->reason), "%s%s", h->reason[0] ? "; " : "", why);
	return present ? usable : -1;
}

static void disable_other_flavours(struct bpf_object *obj, int hook, int keep)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		int fl, h = hook_of_prog(bpf_program__name(prog), &fl);

		if (h == hook && fl != keep)
			bpf_program__set_autoload(prog, false);
	}
}

int perim_hooks_plan(struct bpf_object *obj, struct perim_hook_state hooks[PERIM_HOOK_MAX],
		     const struct perim_rejects *rejected)
{
	struct kernel_facts k = {};
	struct bpf_program *prog;

	learn_kernel(&k);
	learn_kprobe_targets(&k, obj);
	for (int hook = 0; hook < PERIM_HOOK_MAX; hook++) {
		struct perim_hook_state *h = &hooks[hook];

		memset(h, 0, sizeof(*h));
		h->name = hook_names[hook];
		h->flavour = -1;
		for (int fl = 0; fl < FL_MAX && h->flavour < 0; fl++) {
			char how_before[PERIM_HOOK_TEXT];
			int usable;

			snprintf(how_before, sizeof(how_before), "%s", h->how);
			snprintf(h->how, sizeof(h->how), "%s ", flavours[fl].label);
			usable = plan_flavour(&k, obj, hook, fl, h, rejected);
			if (usable > 0) {
				h->flavour = fl;
				h->family = flavours[fl].family;
			} else {
				snprintf(h->how, sizeof(h->how), "%s", how_before);
				if (usable == 0 && !h->family)
					h->family = flavours[fl].family;
			}
		}
		if (!h->family)
			h->family = "tracepoint";
		disable_other_flavours(obj, hook, h->flavour);
	}
	/* Programs of no known hook would be a naming mistake: never load them blindly. */
	bpf_object__for_each_program(prog, obj) {
		int fl;

		if (hook_of_prog(bpf_program__name(prog), &fl) < 0) {
			pr_warn("tracers: program %s names no hook; not loaded\n", bpf_program__name(prog));
			bpf_program__set_autoload(prog, false);
		}
	}
	btf__free(k.vmlinux);
	return 0;
}

void perim_hooks_attach(struct bpf_object *obj, struct perim_hook_state hooks[PERIM_HOOK_MAX])
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		int fl, hook = hook_of_prog(bpf_program__name(prog), &fl);
		struct perim_hook_state *h;
		struct bpf_link *link;
		char why[256];

		if (hook < 0 || !bpf_program__autoload(prog))
			continue;
		h = &hooks[hook];
		link = bpf_program__attach(prog);
		if (!link) {
			int err = -errno;

			snprintf(why, sizeof(why), "attach %s: %s", bpf_program__section_name(prog), strerror(-err));
			append(h->reason, sizeof(h->reason), "%s%s", h->reason[0] ? "; " : "", why);
			pr_warn("tracers: hook %s: %s\n", h->name, why);
			continue;
		}
		if (h->n_links >= PERIM_HOOK_MAX_LINKS) {
			bpf_link__destroy(link);
			continue;
		}
		h->links[h->n_links++] = link;
		h->attached = true;
	}
}

void perim_hooks_report(const struct perim_hook_state hooks[PERIM_HOOK_MAX])
{
	for (int hook = 0; hook < PERIM_HOOK_MAX; hook++) {
		const struct perim_hook_state *h = &hooks[hook];

		if (!h->attached)
			pr_info("tracers: hook %s unavailable: %s\n", h->name, h->reason[0] ? h->reason : "unknown");
		else if (h->reason[0])
			pr_info("tracers: hook %s attached (%s), but: %s\n", h->name, h->how, h->reason);
	}
}

void perim_hooks_detach(struct perim_hook_state hooks[PERIM_HOOK_MAX])
{
	for (int hook = 0; hook < PERIM_HOOK_MAX; hook++) {
		for (int i = 0; i < hooks[hook].n_links; i++)
			bpf_link__destroy(hooks[hook].links[i]);
		hooks[hook].n_links = 0;
		hooks[hook].attached = false;
	}
}

struct json_object *perim_hook_json(const struct perim_hook_state *h)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(h->name));
	json_object_object_add(o, "family", json_object_new_string(h->family));
	json_object_object_add(o, "attached", json_object_new_boolean(h->attached));
	json_object_object_add(o, "how", h->attached ? json_object_new_string(h->how) : NULL);
	json_object_object_add(o, "reason", h->reason[0] ? json_object_new_string(h->reason) : NULL);
	return o;
}
