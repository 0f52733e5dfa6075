/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a process runs, each stored once. Exe paths are interned (a machine
 * runs few distinct programs, thousands of processes each); an argv is one
 * exact-length, reference-counted block that a forked child shares with its
 * parent. Command lines are not interned: most are distinct (their arguments
 * differ), and a lookup structure would cost each one more than sharing the
 * rare repeats saves.
 *
 * Both are handed out as plain C strings; the bookkeeping sits just before
 * the bytes, so the process table stores one pointer for each.
 */
#ifndef PERIM_PROC_IMAGE_H
#define PERIM_PROC_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct perim_proc_exes;

struct perim_proc_exes *perim_proc_exes_new(void);
void perim_proc_exes_free(struct perim_proc_exes *s);   /* every exe must be put first */

/*
 * A held reference to the interned copy of exe (len bytes, cut below 64 KiB),
 * NUL-terminated. NULL on ENOMEM (errno set).
 */
const char *perim_proc_exe_get(struct perim_proc_exes *s, const char *exe, size_t len);
void perim_proc_exe_hold(const char *exe);                          /* NULL is fine */
void perim_proc_exe_put(struct perim_proc_exes *s, const char *exe);  /* NULL is fine */
size_t perim_proc_exes_count(const struct perim_proc_exes *s);

/* A copy of len argv bytes plus a NUL, one reference held; NULL on ENOMEM (errno set). */
const char *perim_proc_argv_new(const char *argv, size_t len);
void perim_proc_argv_hold(const char *argv);                        /* NULL is fine */
/* Drops a reference; true when that was the last and the copy is gone. */
bool perim_proc_argv_put(const char *argv);

#endif /* PERIM_PROC_IMAGE_H */
