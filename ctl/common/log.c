// SPDX-License-Identifier: GPL-2.0
/* Leveled logging to stderr; libbpf's and libxdp's chatter goes one level down. */
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static enum perim_log_level log_level = PERIM_LOG_WARN;

void perim_log_set_level(enum perim_log_level lvl)
{
	log_level = lvl;
}

static void log_vprint(enum perim_log_level lvl, const char *fmt, va_list ap)
{
	if (lvl > log_level)
		return;
	vfprintf(stderr, fmt, ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(PERIM_LOG_WARN, fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(PERIM_LOG_INFO, fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(PERIM_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/*
 * The libraries warn about things perim probes for on purpose (a missing
 * dispatcher, a feature the kernel lacks), so every level they use, even
 * their warnings, is shown only when perim runs at DEBUG.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	log_vprint(PERIM_LOG_DEBUG, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	log_vprint(PERIM_LOG_DEBUG, fmt, ap);
	return 0;
}

void perim_log_hook_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
