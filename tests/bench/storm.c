// SPDX-License-Identifier: GPL-2.0
/*
 * storm: the workloads of the tracer and fleet-export benchmarks.
 *
 *   storm exec N [WORKERS]     vfork + exec exec_nop (beside storm: static, no C
 *                              library, so an exec pays no loader or libc
 *                              start-up) N times, split over
 *                              WORKERS: a fork, an exec and an exit event each
 *   storm fork N [WORKERS]     vfork N children that exit at once (a fork and an
 *                              exit event each, no page tables copied: the
 *                              fastest process storm)
 *   storm file N [WORKERS]     N rounds of create (opened for writing), chmod,
 *                              rename and unlink of a file in a directory of its
 *                              own: four file events each
 *   storm connect N            N TCP connects to a loopback listener, each accepted
 *                              and closed
 *   storm mount N              N tmpfs mounts (each unmounted at once) in a private
 *                              mount namespace of its own, on a fresh directory
 *   storm bind N               N UDP sockets, each bound to a kernel-chosen loopback
 *                              port and closed: a bind event each
 *
 * Prints "ops=N elapsed_ns=T".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static char exec_path[PATH_MAX];

/* exec_nop's path: beside this program. */
static int find_exec_nop(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		fprintf(stderr, "storm: /proc/self/exe: %s\n", strerror(errno));
		return -1;
	}
	self[n] = '\0';
	snprintf(exec_path, sizeof(exec_path), "%s/exec_nop", dirname(self));
	if (access(exec_path, X_OK)) {
		fprintf(stderr, "storm: %s: %s (make builds it with storm)\n", exec_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* One child, vforked: it runs exec_nop when exec is set, else exits at once. */
static int run_child(bool exec)
{
	int status;
	pid_t pid = vfork();

	if (pid < 0) {
		fprintf(stderr, "storm: vfork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (exec)
			execl(exec_path, "exec_nop", (char *)NULL);
		_exit(exec ? 127 : 0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "storm: the child did not exit 0\n");
		return -1;
	}
	return 0;
}

/* One round of file events in dir: create for writing, chmod, rename, unlink. */
static int file_round(const char *dir)
{
	char a[PATH_MAX], b[PATH_MAX];
	int fd;

	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	fd = open(a, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || close(fd) || chmod(a, 0640) || rename(a, b) || unlink(b)) {
		fprintf(stderr, "storm: file round in %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

enum storm_kind { STORM_EXEC, STORM_FORK, STORM_FILE, STORM_CONNECT, STORM_MOUNT, STORM_BIND };

/* A worker's share of the storm: ops w, w + workers, ... below n. */
static int worker_run(enum storm_kind kind, long w, long n, long workers)
{
	char dir[] = "/tmp/perim-storm-XXXXXX";
	int err = 0;

	if (kind == STORM_FILE && !mkdtemp(dir)) {
		fprintf(stderr, "storm: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	for (long i = w; i < n && !err; i += workers)
		err = kind == STORM_FILE ? file_round(dir) : run_child(kind == STORM_EXEC);
	if (kind == STORM_FILE && rmdir(dir)) {
		fprintf(stderr, "storm: rmdir %s: %s\n", dir, strerror(errno));
		err = -1;
	}
	return err;
}

static int process_storm(long n, long workers, enum storm_kind kind)
{
	pid_t kids[64], parent = getpid();

	for (long w = 0; w < workers; w++) {
		kids[w] = fork();
		if (kids[w] < 0) {
			fprintf(stderr, "storm: fork: %s\n", strerror(errno));
			return -1;
		}
		/* A storm killed (a test's cleanup, a timeout) takes its workers with it. */
		if (kids[w] == 0) {
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
				_exit(1);
			_exit(worker_run(kind, w, n, workers) ? 1 : 0);
		}
	}
	int err = 0, status;

	for (long w = 0; w < workers; w++)
		if (waitpid(kids[w], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			err = -1;
	return err;
}

struct listener {
	int fd;
	long n;
};

static void *accept_loop(void *arg)
{
	struct listener *l = arg;

	for (long i = 0; i < l->n; i++) {
		int c = accept(l->fd, NULL, NULL);

		if (c < 0) {
			fprintf(stderr, "storm: accept: %s\n", strerror(errno));
			return NULL;
		}
		close(c);
	}
	return NULL;
}

static int connect_storm(long n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct listener l = { .n = n };
	pthread_t th;
	int one = 1, err = 0;

	l.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (l.fd < 0 || setsockopt(l.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l.fd, (struct sockaddr *)&a, sizeof(a)) || listen(l.fd, 1024) ||
	    getsockname(l.fd, (struct sockaddr *)&a, &alen)) {
		fprintf(stderr, "storm: loopback listener: %s\n", strerror(errno));
		return -1;
	}
	if (pthread_create(&th, NULL, accept_loop, &l)) {
		fprintf(stderr, "storm: pthread_create failed\n");
		close(l.fd);
		return -1;
	}
	for (long i = 0; i < n && !err; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		/* RST on close: no TIME_WAIT pile-up exhausting ephemeral ports. */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		if (s < 0 || setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
		    connect(s, (struct sockaddr *)&a, sizeof(a))) {
			fprintf(stderr, "storm: connect %ld: %s\n", i, strerror(errno));
			err = -1;
		}
		if (s >= 0)
			close(s);
	}
	if (err)
		pthread_cancel(th);
	pthread_join(th, NULL);
	close(l.fd);
	return err;
}

/* The mounts: none is seen outside this process's own mount namespace. */
static int mount_loop(const char *dir, long n)
{
	for (long i = 0; i < n; i++) {
		if (mount("perim-storm", dir, "tmpfs", 0, "size=64k")) {
			fprintf(stderr, "storm: mount tmpfs on %s: %s\n", dir, strerror(errno));
			return -1;
		}
		if (umount(dir)) {
			fprintf(stderr, "storm: umount %s: %s\n", dir, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int mount_storm(long n)
{
	char dir[] = "/tmp/perim-storm-XXXXXX";
	int err;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "storm: a private mount namespace: %s\n", strerror(errno));
		return -1;
	}
	if (!mkdtemp(dir)) {
		fprintf(stderr, "storm: mkdtemp %s: %s\n", dir, strerror(errno));
		return -1;
	}
	err = mount_loop(dir, n);
	if (rmdir(dir)) {
		fprintf(stderr, "storm: rmdir %s: %s\n", dir, strerror(errno));
		err = -1;
	}
	return err;
}

static int bind_storm(long n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	for (long i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a))) {
			fprintf(stderr, "storm: bind %ld: %s\n", i, strerror(errno));
			if (s >= 0)
				close(s);
			return -1;
		}
		close(s);
	}
	return 0;
}

static int kind_of(const char *name)
{
	static const char *const names[] = { [STORM_EXEC] = "exec", [STORM_FORK] = "fork", [STORM_FILE] = "file",
					     [STORM_CONNECT] = "connect", [STORM_MOUNT] = "mount",
					     [STORM_BIND] = "bind" };

	for (int k = 0; k < (int)(sizeof(names) / sizeof(names[0])); k++)
		if (!strcmp(name, names[k]))
			return k;
	return -1;
}

int main(int argc, char **argv)
{
	long n = argc >= 3 ? strtol(argv[2], NULL, 10) : 0;
	long workers = argc >= 4 ? strtol(argv[3], NULL, 10) : 1;
	int kind = argc >= 2 ? kind_of(argv[1]) : -1;
	uint64_t t0;
	int err;

	if (argc < 3 || n <= 0 || workers <= 0 || workers > 64 || kind < 0) {
		fprintf(stderr, "usage: storm exec|fork|file N [WORKERS] | storm connect|mount|bind N\n");
		return 2;
	}
	if (kind == STORM_EXEC && find_exec_nop())
		return 1;
	t0 = now_ns();
	if (kind == STORM_CONNECT)
		err = connect_storm(n);
	else if (kind == STORM_MOUNT)
		err = mount_storm(n);
	else if (kind == STORM_BIND)
		err = bind_storm(n);
	else
		err = process_storm(n, workers, kind);
	if (err)
		return 1;
	printf("ops=%ld elapsed_ns=%llu\n", n, (unsigned long long)(now_ns() - t0));
	return 0;
}
