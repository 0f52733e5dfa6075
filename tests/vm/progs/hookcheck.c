// SPDX-License-Identifier: GPL-2.0
/*
 * hookcheck: proves one hook family works on the running kernel.
 *
 *   hookcheck OBJ [--deny] exec|open|unlink PATH
 *
 * Loads OBJ (a probe object from tests/vm/progs), attaches all its programs, forks
 * a child that performs the action on PATH, and reports how many times the
 * programs saw that child. The child waits on a pipe until its pid is in the
 * programs' state, so no event can be missed and nothing is timed. With
 * --deny, a second child (a bystander, not the target) then performs the same
 * action while the programs are still attached and must succeed. Exits 0 when
 * the hook fired and the outcomes are the expected ones (success, or EPERM for
 * the target with --deny), 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "hookcheck.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static struct bpf_map *find_state_map(struct bpf_object *obj)
{
	struct bpf_map *map;
	const char *name;

	bpf_object__for_each_map(map, obj) {
		name = bpf_map__name(map);
		if (strlen(name) >= 4 && !strcmp(name + strlen(name) - 4, ".bss"))
			return map;
	}
	return NULL;
}

static int state_rw(struct bpf_map *map, struct hookcheck_state *st, int write)
{
	__u32 zero = 0;
	int err;

	if (bpf_map__value_size(map) < sizeof(*st)) {
		fprintf(stderr, "hookcheck: .bss is %u bytes, expected >= %zu\n",
			bpf_map__value_size(map), sizeof(*st));
		return -EINVAL;
	}
	/* state is the only global, so it sits at offset 0 of .bss */
	char buf[bpf_map__value_size(map)];
	err = bpf_map_lookup_elem(bpf_map__fd(map), &zero, buf);
	if (err) {
		fprintf(stderr, "hookcheck: reading .bss: %s\n", strerror(errno));
		return -errno;
	}
	if (!write) {
		memcpy(st, buf, sizeof(*st));
		return 0;
	}
	memcpy(buf, st, sizeof(*st));
	err = bpf_map_update_elem(bpf_map__fd(map), &zero, buf, BPF_ANY);
	if (err) {
		fprintf(stderr, "hookcheck: writing .bss: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Runs in a child: wait for the go byte, act, exit with the errno (0 = ok). */
static void child_act(int go_fd, const char *action, const char *path)
{
	char c;
	int fd;

	if (read(go_fd, &c, 1) != 1)
		_exit(100);
	if (!strcmp(action, "exec")) {
		execl(path, path, (char *)NULL);
		_exit(errno & 0x7f);
	}
	if (!strcmp(action, "open")) {
		fd = open(path, O_RDONLY);
		_exit(fd < 0 ? errno & 0x7f : 0);
	}
	_exit(unlink(path) ? errno & 0x7f : 0);
}

/* Forks a child that acts once "go" is written to *go_fd. */
static pid_t spawn_actor(const char *action, const char *path, int *go_fd)
{
	int pipefd[2];
	pid_t pid;

	if (pipe(pipefd)) {
		fprintf(stderr, "hookcheck: pipe: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "hookcheck: fork: %s\n", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pipefd[1]);
		child_act(pipefd[0], action, path);
	}
	close(pipefd[0]);
	*go_fd = pipefd[1];
	return pid;
}

/* Lets the actor go and returns its errno (0 = ok, -1 = killed or unknown). */
static int run_actor(pid_t pid, int go_fd)
{
	int status, ok;

	ok = write(go_fd, "g", 1) == 1;
	close(go_fd);
	if (!ok)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) < 0) {
		fprintf(stderr, "hookcheck: waitpid: %s\n", strerror(errno));
		return -1;
	}
	return ok && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *outcome(int child_errno)
{
	return child_errno == 0 ? "ok" : child_errno > 0 ? strerror(child_errno) : "killed";
}

static int attach_all(struct bpf_object *obj)
{
	struct bpf_program *prog;
	struct bpf_link *link;
	int n = 0;

	bpf_object__for_each_program(prog, obj) {
		link = bpf_program__attach(prog);
		if (!link) {
			fprintf(stderr, "hookcheck: attaching %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			return -errno;
		}
		n++; /* links stay attached until the process exits */
	}
	return n;
}

/* The target's action with the programs attached; 0 when it went as expected. */
static int check_target(struct bpf_map *map, const char *action, const char *path,
			int deny, const char *obj_path, int n)
{
	struct hookcheck_state st = {};
	int go_fd, child_errno;
	pid_t pid;

	pid = spawn_actor(action, path, &go_fd);
	if (pid < 0)
		return -1;
	st.target_tgid = pid;
	st.deny = deny;
	if (state_rw(map, &st, 1)) {
		close(go_fd);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	child_errno = run_actor(pid, go_fd);
	if (state_rw(map, &st, 0))
		return -1;
	printf("hookcheck: %s: %d program(s) attached, %s %s -> %s, hits=%llu\n",
	       obj_path, n, action, path, outcome(child_errno), (unsigned long long)st.hits);
	if (st.hits == 0) {
		fprintf(stderr, "hookcheck: the hook never saw the child\n");
		return -1;
	}
	if (deny ? child_errno != EPERM : child_errno != 0) {
		fprintf(stderr, "hookcheck: expected %s\n", deny ? "EPERM" : "success");
		return -1;
	}
	return 0;
}

/* The same action by a process that is not the target must succeed. */
static int check_bystander(const char *action, const char *path)
{
	int go_fd, child_errno;
	pid_t pid;

	pid = spawn_actor(action, path, &go_fd);
	if (pid < 0)
		return -1;
	child_errno = run_actor(pid, go_fd);
	printf("hookcheck: bystander %s %s -> %s\n", action, path, outcome(child_errno));
	if (child_errno != 0) {
		fprintf(stderr, "hookcheck: a process other than the target was refused\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj = NULL;
	struct bpf_map *map;
	int deny = 0, argi = 2, err = 1, n;
	const char *action, *path;

	if (argc >= 3 && !strcmp(argv[2], "--deny")) {
		deny = 1;
		argi++;
	}
	if (argc != argi + 2) {
		fprintf(stderr, "usage: hookcheck OBJ [--deny] exec|open|unlink PATH\n");
		return 2;
	}
	action = argv[argi];
	path = argv[argi + 1];
	if (strcmp(action, "exec") && strcmp(action, "open") && strcmp(action, "unlink")) {
		fprintf(stderr, "hookcheck: argument \"%s\" is wrong: expected exec, open or unlink\n", action);
		return 2;
	}
	libbpf_set_print(libbpf_print);

	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "hookcheck: opening %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "hookcheck: loading %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	map = find_state_map(obj);
	if (!map) {
		fprintf(stderr, "hookcheck: %s has no .bss map\n", argv[1]);
		goto out;
	}
	n = attach_all(obj);
	if (n <= 0)
		goto out;
	if (check_target(map, action, path, deny, argv[1], n))
		goto out;
	if (deny && check_bystander(action, path))
		goto out;
	err = 0;
out:
	bpf_object__close(obj);
	return err;
}
