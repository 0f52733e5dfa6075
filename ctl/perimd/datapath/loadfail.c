// SPDX-License-Identifier: GPL-2.0
/*
 * Finding the program that failed a bpf_object load. libbpf 1.x reports it as
 *   prog 'NAME': -- BEGIN PROG LOAD LOG --\n<verifier log>-- END PROG LOAD LOG --
 *   prog 'NAME': failed to load: -13
 * and a CO-RE or relocation failure as "prog 'NAME': ... failed ...". The
 * verifier's reason is the first line after the last instruction it printed
 * ("invalid access to memory, mem_size=864 off=864 size=1").
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "datapath/loadfail.h"

#define LOG_BEGIN "-- BEGIN PROG LOAD LOG --"
#define LOG_END "-- END PROG LOAD LOG --"

static struct perim_load_failure *capture;
static libbpf_print_fn_t passed_on;

static void copy_trimmed(char *dst, size_t len, const char *src, size_t n)
{
	while (n && isspace((unsigned char)*src)) {
		src++;
		n--;
	}
	while (n && isspace((unsigned char)src[n - 1]))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* "prog 'NAME': rest": NAME into name, a pointer to rest; NULL when msg is not such a line. */
static const char *prog_prefix(const char *msg, char *name, size_t len)
{
	const char *start, *end;

	if (!strncmp(msg, "libbpf: ", 8))
		msg += 8;
	if (strncmp(msg, "prog '", 6))
		return NULL;
	start = msg + 6;
	end = strchr(start, '\'');
	if (!end || end[1] != ':')
		return NULL;
	copy_trimmed(name, len, start, end - start);
	return end + 2;
}

static bool is_insn_line(const char *line)
{
	const char *p = line;

	while (isdigit((unsigned char)*p))
		p++;
	return p > line && p[0] == ':' && p[1] == ' ';
}

/* Lines that are never the reason: the summary, register states ("R0=..", "from 75 to 77: R0=.."). */
static bool is_noise_line(const char *line)
{
	while (*line == ' ')
		line++;
	if (line[0] == 'R' && isdigit((unsigned char)line[1]))
		return true;
	return !strncmp(line, "processed ", 10) || !strncmp(line, "verification time", 17) ||
	       !strncmp(line, "stack depth", 11) || !strncmp(line, "from ", 5) || line[0] == ';';
}

/* The verifier's reason in log (up to its END marker). */
static void log_reason(const char *log, char *why, size_t len)
{
	const char *end = strstr(log, LOG_END), *line, *next, *after_insn = NULL, *last = NULL;
	size_t after_len = 0, last_len = 0;

	if (!end)
		end = log + strlen(log);
	for (line = log; line < end; line = next) {
		size_t n;

		next = memchr(line, '\n', end - line);
		next = next ? next + 1 : end;
		n = next - line;
		while (n && isspace((unsigned char)line[n - 1]))
			n--;
		if (!n || is_noise_line(line))
			continue;
		if (is_insn_line(line)) {
			after_insn = NULL;
			continue;
		}
		if (!after_insn) {
			after_insn = line;
			after_len = n;
		}
		last = line;
		last_len = n;
	}
	if (after_insn)
		copy_trimmed(why, len, after_insn, after_len);
	else if (last)
		copy_trimmed(why, len, last, last_len);
	else
		snprintf(why, len, "no verifier log");
}

void perim_load_failure_feed(struct perim_load_failure *f, const char *msg)
{
	char name[PERIM_LOADFAIL_NAME];
	const char *rest = prog_prefix(msg, name, sizeof(name)), *log;

	if (!rest)
		return;
	log = strstr(rest, LOG_BEGIN);
	if (log) {
		snprintf(f->log_prog, sizeof(f->log_prog), "%s", name);
		log_reason(log + strlen(LOG_BEGIN), f->log_why, sizeof(f->log_why));
		return;
	}
	if (!strstr(rest, "failed"))
		return;
	/* The load failure names the program for sure; a relocation failure only until then. */
	if (f->found && !strstr(rest, "failed to load"))
		return;
	f->found = true;
	snprintf(f->prog, sizeof(f->prog), "%s", name);
	if (!strcmp(f->log_prog, name))
		snprintf(f->why, sizeof(f->why), "%s", f->log_why);
	else
		copy_trimmed(f->why, sizeof(f->why), rest, strlen(rest));
}

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list again;
	char *msg = NULL;
	int ret = 0;

	va_copy(again, ap);
	if (capture && vasprintf(&msg, fmt, again) >= 0)
		perim_load_failure_feed(capture, msg);
	va_end(again);
	free(msg);
	if (passed_on)
		ret = passed_on(level, fmt, ap);
	return ret;
}

void perim_load_capture_begin(struct perim_load_failure *f)
{
	memset(f, 0, sizeof(*f));
	capture = f;
	passed_on = libbpf_set_print(capture_print);
}

void perim_load_capture_end(void)
{
	libbpf_set_print(passed_on);
	capture = NULL;
	passed_on = NULL;
}
