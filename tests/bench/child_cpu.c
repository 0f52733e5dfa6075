// SPDX-License-Identifier: GPL-2.0
/*
 * child_cpu CMD [ARGS...]: runs CMD, waits for it, then prints
 * "stime_ns=S utime_ns=U" (its rusage, from wait4) after CMD's own output.
 * Exits with CMD's status. The egress benchmark reads the sender's system
 * CPU this way: the kernel's send path, including the egress hook, runs in
 * the sending process's context.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long long tv_ns(const struct timeval *tv)
{
	return tv->tv_sec * 1000000000ULL + tv->tv_usec * 1000ULL;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: child_cpu CMD [ARGS...]\n");
		return 2;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "child_cpu: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "child_cpu: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "child_cpu: wait4: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("stime_ns=%llu utime_ns=%llu\n", tv_ns(&ru.ru_stime), tv_ns(&ru.ru_utime));
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "child_cpu: %s: killed by signal %d\n", argv[1], WTERMSIG(status));
	return 1;
}
