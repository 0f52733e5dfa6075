// SPDX-License-Identifier: GPL-2.0
/* The state file's writer: perimctl commands, one a line, rewritten atomically. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "state/state.h"
#include "state/state_format.h"
#include "model/rules.h"
#include "model/shapes.h"
#include "model/syncookies.h"
#include "cmd.h"
#include "log.h"
#include "perim.h"

#define MAX_WORDS 64

void perimd_state_trailer(const char *body, size_t len, char *buf)
{
	unsigned lines = 0;

	for (size_t i = 0; i < len; i++)
		lines += body[i] == '\n';
	snprintf(buf, PERIMD_STATE_TRAILER_MAX, PERIMD_STATE_TRAILER, lines,
		 (unsigned)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)body, len));
}

/* The state file's lines of every interface, or of one slot (show DEV). */
static int format_model(const struct perim_model *m, int slot, const char *header, FILE *f)
{
	char line[512];

	fputs(header, f);
	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		if (!m->ifaces[s].used || (slot >= 0 && s != slot))
			continue;
		perim_attach_format(m->ifaces[s].dev, m->ifaces[s].mode, s, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	for (uint32_t id = 1; id < m->rules_end; id++) {
		const struct perim_model_rule *r = &m->rules[id];

		if (!r->used || (slot >= 0 && r->iface != slot))
			continue;
		if (perim_limit_format(m->ifaces[r->iface].dev, &r->spec, line, sizeof(line)) < 0)
			return -EINVAL;
		fputs(line, f);
		fputc('\n', f);
	}
	for (unsigned i = 0; i < m->n_acl; i++) {
		const struct perim_model_acl *a = &m->acl[i];

		if (slot >= 0 && a->iface != slot)
			continue;
		if (perim_acl_format(m->ifaces[a->iface].dev, a->verdict != PERIM_ACL_ALLOW, &a->prefix,
				     line, sizeof(line)) < 0)
			return -EINVAL;
		fprintf(f, "%s\n", line);
	}
	if (perim_model_shapes_format(m, slot, f) || perim_model_protect_format(m, slot, f) ||
	    perim_model_syn_format(m, slot, f))
		return -EINVAL;
	return ferror(f) ? -EIO : 0;
}

/* The configuration a pending rollback restores, and when (control/confirm.c). */
static const struct perim_model *pending_prev;
static uint64_t pending_deadline_ms;

void perimd_state_set_pending(const struct perim_model *prev, uint64_t deadline_ms)
{
	pending_prev = prev;
	pending_deadline_ms = deadline_ms;
}

/* "rollback-at MS", then every line of the previous configuration as "rollback-to LINE". */
static int format_pending(FILE *f)
{
	size_t len = 0;
	char *body = NULL, *line, *save = NULL;
	FILE *prev = open_memstream(&body, &len);
	int ret;

	if (!prev)
		return -errno;
	ret = format_model(pending_prev, -1, "", prev);
	if (fclose(prev) != 0 && !ret)
		ret = -ENOMEM;
	if (!ret) {
		fprintf(f, PERIMD_STATE_ROLLBACK_AT " %llu\n", (unsigned long long)pending_deadline_ms);
		for (line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			fprintf(f, PERIMD_STATE_ROLLBACK_TO " %s\n", line);
	}
	free(body);
	return ret;
}

static int render(const struct perim_model *m, int slot, const char *header, bool with_pending,
		  char **body, size_t *len)
{
	FILE *f = open_memstream(body, len);
	int ret;

	if (!f)
		return -errno;
	ret = format_model(m, slot, header, f);
	if (!ret && pending_prev && with_pending)
		ret = format_pending(f);
	if (fclose(f) != 0 && !ret)
		ret = -ENOMEM;
	if (ret) {
		free(*body);
		*body = NULL;
	}
	return ret;
}

/* The header and command lines for m, in memory (free *body). 0 or -errno. */
int perimd_state_render(const struct perim_model *m, char **body, size_t *len)
{
	return render(m, -1, PERIMD_STATE_HEADER, true, body, len);
}

int perimd_state_render_show(const struct perim_model *m, int slot, char **body, size_t *len)
{
	return render(m, slot, PERIMD_SHOW_HEADER, false, body, len);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The body and its trailer in one write (more only if the kernel takes part of it). */
static int write_both(int fd, const char *body, size_t len, const char *trailer)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)body, .iov_len = len },
		{ .iov_base = (void *)trailer, .iov_len = strlen(trailer) },
	};
	struct iovec *v = iov;
	int cnt = 2;

	while (cnt) {
		ssize_t n = writev(fd, v, cnt);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (; cnt && (size_t)n >= v->iov_len; v++, cnt--)
			n -= v->iov_len;
		if (cnt) {
			v->iov_base = (char *)v->iov_base + n;
			v->iov_len -= n;
		}
	}
	return 0;
}

/* FILE.XXXXXX holding body and its trailer, synced; its name in tmp. */
static int write_temp(const char *path, const char *body, size_t len, char *tmp, size_t tmplen)
{
	char trailer[PERIMD_STATE_TRAILER_MAX];
	int fd, ret;

	snprintf(tmp, tmplen, "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	perimd_state_trailer(body, len, trailer);
	ret = write_both(fd, body, len, trailer);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/*
 * FILE.prev becomes the file about to be replaced: linked under a temp name
 * first, so a failure leaves the old FILE.prev in place. No FILE: nothing to keep.
 */
static int keep_previous(const char *path)
{
	char tmp[4200], prev[4200];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	close(fd);
	unlink(tmp);
	if (link(path, tmp) < 0)
		return errno == ENOENT ? 0 : -errno;
	snprintf(prev, sizeof(prev), "%s%s", path, PERIMD_STATE_PREV_SUFFIX);
	if (rename(tmp, prev) < 0) {
		int ret = -errno;

		unlink(tmp);
		return ret;
	}
	return 0;
}

int perimd_state_write(const char *path, const struct perim_model *m, char *err, size_t errlen)
{
	char dir[4096], tmp[4200];
	const char *step = "creating the directory of";
	size_t len = 0;
	char *body = NULL;
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	dirname(dir);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		ret = -errno;
		goto fail;
	}
	step = "formatting";
	ret = perimd_state_render(m, &body, &len);
	if (ret)
		goto fail;
	step = "writing a temp file beside";
	ret = write_temp(path, body, len, tmp, sizeof(tmp));
	if (ret)
		goto fail;
	step = "keeping as " PERIMD_STATE_PREV_SUFFIX " the previous";
	ret = keep_previous(path);
	if (!ret) {
		step = "renaming the new one onto";
		if (rename(tmp, path) < 0)
			ret = -errno;
	}
	if (ret) {
		unlink(tmp);
		goto fail;
	}
	step = "syncing the directory of";
	ret = fsync_dir(dir);
	if (ret)
		goto fail;
	free(body);
	return 0;
fail:
	free(body);
	snprintf(err, errlen, "%s state file %s: %s", step, path, strerror(-ret));
	return ret;
}

/* NAME.XXXXXX as mkstemp makes it from NAME.XXXXXX. */
static bool is_temp_name(const char *name, const char *base)
{
	size_t n = strlen(base);

	if (strncmp(name, base, n) != 0 || name[n] != '.' || strlen(name + n + 1) != 6)
		return false;
	for (const char *c = name + n + 1; *c; c++)
		if (!isalnum((unsigned char)*c))
			return false;
	return true;
}

/* Empty (killed before its first flush) or starting with perim's header. */
static bool holds_perim_state(int dirfd, const char *name)
{
	static const char magic[] = "# perim state";
	char head[sizeof(magic) - 1];
	struct stat st;
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, head, sizeof(head)) : -1;
	close(fd);
	return n == 0 || (n == (ssize_t)sizeof(head) && memcmp(head, magic, sizeof(head)) == 0);
}

void perimd_state_clean_temps(const char *path)
{
	char dirbuf[4096], basebuf[4096];
	const char *dir, *base;
	struct dirent *e;
	DIR *dp;

	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	snprintf(basebuf, sizeof(basebuf), "%s", path);
	dir = dirname(dirbuf);
	base = basename(basebuf);
	dp = opendir(dir);
	if (!dp)
		return;
	while ((e = readdir(dp))) {
		if (!is_temp_name(e->d_name, base) || !holds_perim_state(dirfd(dp), e->d_name))
			continue;
		if (unlinkat(dirfd(dp), e->d_name, 0) < 0)
			pr_warn("perimd: removing %s/%s, left by an interrupted write: %s\n", dir, e->d_name,
				strerror(errno));
		else
			pr_info("perimd: removed %s/%s, left by an interrupted write\n", dir, e->d_name);
	}
	closedir(dp);
}
