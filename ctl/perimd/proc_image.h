/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a process runs (its exe path and argv), interned: one reference-counted
 * copy per distinct (exe, argv) pair, shared by every process running it.
 * Forked children and worker pools then cost the process table no bytes of
 * strings; a process with a command line of its own costs one allocation.
 */
#ifndef PERIM_PROC_IMAGE_H
#define PERIM_PROC_IMAGE_H

#include <stddef.h>
#include <stdint.h>

struct perim_proc_image;
struct perim_proc_images;

struct perim_proc_images *perim_proc_images_new(void);
void perim_proc_images_free(struct perim_proc_images *s);   /* every image must be put first */

/*
 * A held reference to the image of (exe, argv); exe and argv may each be NULL
 * (unknown). Lengths are cut to what fits (exe below 64 KiB, argv argv_max).
 * NULL when both are unknown, or on ENOMEM (errno set).
 */
struct perim_proc_image *perim_proc_image_get(struct perim_proc_images *s, const char *exe, size_t exe_len,
					      const char *argv, size_t argv_len, size_t argv_max);
void perim_proc_image_hold(struct perim_proc_image *im);
void perim_proc_image_put(struct perim_proc_images *s, struct perim_proc_image *im);  /* NULL is fine */

const char *perim_proc_image_exe(const struct perim_proc_image *im);                  /* NUL-terminated or NULL */
const char *perim_proc_image_argv(const struct perim_proc_image *im, uint16_t *len);  /* or NULL, *len 0 */

size_t perim_proc_images_count(const struct perim_proc_images *s);

#endif /* PERIM_PROC_IMAGE_H */
