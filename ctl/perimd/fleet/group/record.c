// SPDX-License-Identifier: GPL-2.0
/* STATE.group: the applied group revision and its text (record.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet/group/record.h"
#include "state/state_format.h"

#define RECORD_HEADER "# perim group ruleset v1, written by perimd\n"
#define RECORD_MAX_BYTES (2u << 20)

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

static char *format_body(const struct group_record *r, const char *text, size_t *len)
{
	size_t tlen = strlen(text);
	bool nl = tlen && text[tlen - 1] != '\n';
	char *body = NULL;
	FILE *f = open_memstream(&body, len);

	if (!f)
		return NULL;
	fprintf(f, RECORD_HEADER "group %s\nrevision %" PRIu64 "\napplied-ms %" PRIu64 "\n%s%s", r->group,
		r->revision, r->applied_ms, text, nl ? "\n" : "");
	if (fclose(f)) {
		free(body);
		return NULL;
	}
	return body;
}

static int sync_dir_of(const char *path)
{
	char dir[4200];
	int fd, ret = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int fleet_group_record_write(const char *path, const struct group_record *r, const char *text,
			     char *err, size_t errlen)
{
	char tmp[4300], trailer[PERIMD_STATE_TRAILER_MAX];
	size_t len = 0;
	char *body = format_body(r, text, &len);
	int fd, ret;

	if (!body) {
		snprintf(err, errlen, "group record %s: out of memory", path);
		return -1;
	}
	perimd_state_trailer(body, len, trailer);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	ret = fd < 0 ? -errno : 0;
	if (!ret) {
		ret = write_all(fd, body, len) ?: write_all(fd, trailer, strlen(trailer));
		if (!ret && fsync(fd) < 0)
			ret = -errno;
		if (close(fd) < 0 && !ret)
			ret = -errno;
		if (!ret && rename(tmp, path) < 0)
			ret = -errno;
		if (ret)
			unlink(tmp);
	}
	if (!ret)
		ret = sync_dir_of(path);
	free(body);
	if (ret)
		snprintf(err, errlen, "group record %s: %s", path, strerror(-ret));
	return ret ? -1 : 0;
}

static char *slurp(const char *path, size_t *len, int *ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *buf;
	ssize_t n;

	*ret = 0;
	if (fd < 0) {
		*ret = errno == ENOENT ? 1 : -errno;
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > RECORD_MAX_BYTES) {
		*ret = -EINVAL;
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size + 1);
	n = buf ? read(fd, buf, st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		*ret = buf ? -EIO : -ENOMEM;
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The trailer is the last line and matches what precedes it. */
static bool intact(const char *buf, size_t len)
{
	char want[PERIMD_STATE_TRAILER_MAX];
	const char *last;

	if (len < 2 || buf[len - 1] != '\n' || memchr(buf, '\0', len))
		return false;
	for (last = buf + len - 1; last > buf && last[-1] != '\n'; last--)
		;
	perimd_state_trailer(buf, last - buf, want);
	return !strcmp(last, want);
}

int fleet_group_record_read(const char *path, struct group_record *r, char *err, size_t errlen)
{
	size_t len = 0;
	int ret, used = 0;
	char *buf = slurp(path, &len, &ret);

	if (!buf) {
		if (ret < 0)
			snprintf(err, errlen, "group record %s: %s", path, strerror(-ret));
		return ret < 0 ? -1 : 1;
	}
	memset(r, 0, sizeof(*r));
	if (!intact(buf, len) || strncmp(buf, RECORD_HEADER, strlen(RECORD_HEADER)) ||
	    sscanf(buf + strlen(RECORD_HEADER), "group %63[A-Za-z0-9_-]\nrevision %" SCNu64 "\napplied-ms %" SCNu64 "\n%n",
		   r->group, &r->revision, &r->applied_ms, &used) != 3 || !used) {
		snprintf(err, errlen, "group record %s: not an intact perim group record (ignored)", path);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}
