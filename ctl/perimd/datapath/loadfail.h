/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which program made a bpf_object load fail, and the verifier's short reason.
 * libbpf says so only in its log ("prog 'X': failed to load", the verifier log
 * before it), so its messages are watched while a load runs.
 */
#ifndef PERIM_LOADFAIL_H
#define PERIM_LOADFAIL_H

#include <stdbool.h>

#define PERIM_LOADFAIL_NAME 64
#define PERIM_LOADFAIL_WHY 192

struct perim_load_failure {
	bool found;                         /* a program was named */
	char prog[PERIM_LOADFAIL_NAME];
	char why[PERIM_LOADFAIL_WHY];
	char log_prog[PERIM_LOADFAIL_NAME]; /* the last verifier log seen, and its reason */
	char log_why[PERIM_LOADFAIL_WHY];
};

/* Watch libbpf's messages into f (still passed on to the printer in place) until _end. */
void perim_load_capture_begin(struct perim_load_failure *f);
void perim_load_capture_end(void);

/* One formatted libbpf message (the capture's parser, exposed for tests). */
void perim_load_failure_feed(struct perim_load_failure *f, const char *msg);

#endif /* PERIM_LOADFAIL_H */
