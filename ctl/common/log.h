/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PERIM_LOG_H
#define PERIM_LOG_H

enum perim_log_level { PERIM_LOG_WARN = 0, PERIM_LOG_INFO = 1, PERIM_LOG_DEBUG = 2 };

void perim_log_set_level(enum perim_log_level lvl);
/* Routes libbpf's and libxdp's chatter through perim's log, shown only at DEBUG. */
void perim_log_hook_libs(void);

void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* PERIM_LOG_H */
