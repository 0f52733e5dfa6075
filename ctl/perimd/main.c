// SPDX-License-Identifier: GPL-2.0
/*
 * perimd: parse options, pick BTF, load and pin the datapath, restore the
 * state file (adopting attachments a previous perimd left), serve perimctl.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "control/ctlsock.h"
#include "control/commands.h"
#include "procs/cgroup2.h"
#include "daemon.h"
#include "datapath/tc.h"
#include "tracing/tracers.h"
#include "events/bus.h"
#include "fleet/fleet.h"
#include "procs/listeners.h"
#include "procs/proctable.h"
#include "telemetry/drops.h"
#include "links/follow.h"
#include "log.h"
#include "telemetry/metrics.h"
#include "notify.h"
#include "state/restore.h"
#include "btf.h"
#include "loop.h"
#include "config.h"
#include "model/rules.h"
#include "telemetry/stats.h"
#include "links/nicstats.h"
#include "datapath/loader.h"
#include "cmd.h"
#include "perim.h"
#include "reload.h"
#include "syn/counters.h"

struct perimd_main {
	struct perimd d;
	struct perimd_ctlsock *sock;
	struct perimd_metrics *metrics;
	int sigfd;
	int argc;                 /* the command line, parsed again on SIGHUP */
	char **argv;
};

/* What STATUS= says while perimd serves. */
static const char *ready_status(const struct perimd *d)
{
	static char status[128];
	int n = 0;

	for (int s = 0; s < PERIM_MAX_IFACES; s++)
		n += d->att[s].attached;
	snprintf(status, sizeof(status), "enforcing on %d interface%s%s", n, n == 1 ? "" : "s",
		 d->tracers ? ", tracing" : ", tracers off");
	return status;
}

static int on_signal(void *ctx, int fd, uint32_t events)
{
	struct perimd_main *m = ctx;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			perimd_notifyf("RELOADING=1\nSTATUS=re-reading the config");
			perimd_reload(&m->d, m->argc, m->argv);
			perimd_notifyf("READY=1\nSTATUS=%s", ready_status(&m->d));
			continue;
		}
		pr_info("perimd: signal %u: exiting, XDP programs stay attached\n", si.ssi_signo);
		perimd_notifyf("STOPPING=1\nSTATUS=stopping; the datapath stays attached");
		perim_loop_stop(m->d.loop);
	}
	return 0;
}

static int on_tick(void *ctx, int fd, uint32_t events)
{
	struct perimd_main *m = ctx;

	perimd_stats_sample(&m->d.stats, m->d.model);
	perimd_syn_sample(&m->d);
	perimd_nicstats_tick(&m->d);
	if (m->sock)
		perimd_ctlsock_sweep(m->sock);
	return 0;
}

static int watch_signals(struct perimd_main *m)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	m->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m->sigfd < 0)
		return -errno;
	return perim_loop_add(m->d.loop, m->sigfd, EPOLLIN, on_signal, m);
}

/* Load, restore, attach: everything before the socket opens. */
static int start_datapath(struct perimd *d)
{
	char err[512];
	int ret;

	ret = perim_loader_open(&d->loader, d->cfg.pin_root, d->btf.custom_path, d->cfg.src_buckets,
				d->cfg.drop_sample_rate, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "perimd: %s\n", err);
		return PERIM_EXIT_FAIL;
	}
	ret = perimd_stats_init(&d->stats, d->loader.if_stats_fd, d->loader.maps.rule_stats_fd);
	if (ret) {
		fprintf(stderr, "perimd: counters: %s\n", strerror(-ret));
		return PERIM_EXIT_FAIL;
	}
	d->model = perim_model_new();
	d->installed = perim_installed_new();
	if (!d->model || !d->installed) {
		fprintf(stderr, "perimd: out of memory\n");
		return PERIM_EXIT_FAIL;
	}
	/* What the pins hold now: a previous perimd's entries, overwritten, never cleared first. */
	ret = perim_installed_read(d->installed, &d->loader.maps, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "perimd: %s\n", err);
		return PERIM_EXIT_FAIL;
	}
	return perimd_restore(d);
}

static void stop_events(struct perimd *d)
{
	perimd_bus_free(d->bus);
	perim_proctable_free(d->procs);
	perimd_listeners_free(d->listeners);
	d->bus = NULL;
	d->procs = NULL;
	d->listeners = NULL;
}

/* The event bus and the tables that enrich its events; the tracers feed all three. */
static int start_events(struct perimd *d)
{
	d->procs = perim_proctable_new(PERIM_PROCTABLE_MAX, PERIM_PROCTABLE_GRACE_NS);
	d->listeners = perimd_listeners_new("/proc");
	if (!d->procs || !d->listeners)
		return -ENOMEM;
	return perimd_bus_new(d->loop, d->cfg.events[0] ? d->cfg.events : NULL, d->procs, &d->bus);
}

static void start_tracers(struct perimd *d)
{
	struct perim_tracers_opts opts = {
		.btf_path = d->btf.custom_path,
		.pin_root = d->cfg.pin_root,
		.guard_rules = d->cfg.guard_rules[0] ? d->cfg.guard_rules : NULL,
	};
	int ret = start_events(d);

	if (!ret) {
		opts.bus = d->bus;
		opts.procs = d->procs;
		opts.listeners = d->listeners;
		ret = perim_tracers_start(d->loop, &opts, &d->tracers);
	}
	if (ret < 0) {
		pr_warn("perimd: tracers did not start (%s); XDP enforcement is unaffected\n", strerror(-ret));
		d->tracers = NULL;
		stop_events(d);
	}
}

static void shutdown_daemon(struct perimd_main *m)
{
	struct perimd *d = &m->d;

	perimd_metrics_stop(m->metrics);
	perimd_ctlsock_close(m->sock);
	perimd_fleet_stop(d);
	perimd_follow_close(d);
	if (d->tracers)
		perim_tracers_stop(d->tracers);
	stop_events(d);
	/* Leave every program attached and every map pinned: enforcement goes on. */
	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		perim_loader_release(&d->att[s]);
		perim_tc_release(&d->egress.tc[s]);
	}
	perim_loader_close(&d->loader);
	perimd_stats_fini(&d->stats);
	perim_model_free(d->model);
	perim_installed_free(d->installed);
	if (m->sigfd >= 0)
		close(m->sigfd);
	perim_loop_free(d->loop);
}

int main(int argc, char **argv)
{
	struct perimd_main *m = calloc(1, sizeof(*m));
	struct perimd *d;
	char err[512];
	int ret;

	if (!m)
		return PERIM_EXIT_FAIL;
	d = &m->d;
	m->sigfd = -1;
	/*
	 * A fixed threshold: glibc would raise it to the size of the biggest
	 * block freed (libbpf's 17 MiB parse of vmlinux BTF), then keep every
	 * later multi-MiB block on a heap it rarely trims.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	ret = perimd_config_parse(argc, argv, &d->cfg);
	if (ret) {
		free(m);
		return ret == PERIMD_CONFIG_HELP ? 0 : ret;
	}
	m->argc = argc;
	m->argv = argv;
	perim_log_set_level(perimd_log_level(d->cfg.verbosity));
	perim_log_hook_libs();
	if (perimd_btf_select(&d->cfg, &d->btf)) {
		free(m);
		return PERIM_EXIT_FAIL;
	}
	pr_info("perimd: BTF from %s (%s)\n", d->btf.path, d->btf.source);

	d->loop = perim_loop_new();
	if (!d->loop || watch_signals(m)) {
		fprintf(stderr, "perimd: event loop: %s\n", strerror(errno));
		ret = PERIM_EXIT_FAIL;
		goto out;
	}
	/* Before the datapath: attaching resolves names through the link cache. */
	ret = perimd_follow_open(d, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "perimd: %s\n", err);
		ret = PERIM_EXIT_FAIL;
		goto out;
	}
	/* Before the datapath: a port already taken must stop a start that has changed nothing. */
	if (d->cfg.metrics[0] && perimd_metrics_start(d, d->cfg.metrics, &m->metrics, err, sizeof(err))) {
		fprintf(stderr, "perimd: %s\n", err);
		ret = PERIM_EXIT_FAIL;
		goto out;
	}
	perimd_notifyf("STATUS=loading the datapath, restoring %s", d->cfg.state);
	ret = start_datapath(d);
	if (ret)
		goto out;
	/* Links that came or went while the state file was read. */
	perimd_follow_reconcile(d);
	perimd_notifyf("STATUS=starting the tracers");
	start_tracers(d);
	perimd_drops_follow(d);
	ret = perim_loop_every(d->loop, 1000, on_tick, m);
	if (ret < 0) {
		fprintf(stderr, "perimd: 1 Hz timer: %s\n", strerror(-ret));
		ret = PERIM_EXIT_FAIL;
		goto out;
	}
	/* After the datapath: fleet decisions land on interfaces that are attached. */
	ret = perimd_fleet_start(d, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "perimd: %s\n", err);
		goto out;
	}
	ret = perimd_ctlsock_open(d, &m->sock, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "perimd: %s\n", err);
		ret = PERIM_EXIT_FAIL;
		goto out;
	}
	if (!perimd_cgroup2_mount(err, sizeof(err)))
		pr_warn("perimd: %s: egress cgroup rules cannot be set\n", PERIMD_NO_CGROUP2);
	/* Loading left megabytes of freed BTF scattered over the heap: give them back. */
	malloc_trim(0);
	printf("perimd: ready\n");
	fflush(stdout);
	ret = perimd_notify("READY=1");
	if (ret)
		pr_warn("perimd: sd_notify: %s\n", strerror(-ret));
	perimd_notifyf("STATUS=%s", ready_status(d));
	ret = perim_loop_run(d->loop);
	if (ret)
		fprintf(stderr, "perimd: event loop: %s\n", strerror(-ret));
	ret = ret ? PERIM_EXIT_FAIL : 0;
out:
	shutdown_daemon(m);
	free(m);
	return ret;
}
