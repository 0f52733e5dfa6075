// SPDX-License-Identifier: GPL-2.0
/* Interned (exe, argv) images: a chained hash set of reference-counted blobs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proc_image.h"

#define LEN_UNKNOWN 0xffffu
#define LEN_MAX 0xfffeu
#define BUCKETS_MIN 256u           /* power of two */

struct perim_proc_image {
	struct perim_proc_image *next;
	uint32_t refs;
	uint32_t hash;
	uint16_t exe_len;          /* LEN_UNKNOWN: no exe */
	uint16_t argv_len;         /* LEN_UNKNOWN: no argv */
	char bytes[];              /* exe, NUL, argv, NUL: both usable as C strings */
};

struct perim_proc_images {
	struct perim_proc_image **buckets;
	uint32_t nbuckets;
	size_t count;
};

struct perim_proc_images *perim_proc_images_new(void)
{
	struct perim_proc_images *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->buckets = calloc(BUCKETS_MIN, sizeof(*s->buckets));
	if (!s->buckets) {
		free(s);
		return NULL;
	}
	s->nbuckets = BUCKETS_MIN;
	return s;
}

void perim_proc_images_free(struct perim_proc_images *s)
{
	if (!s)
		return;
	free(s->buckets);
	free(s);
}

/* FNV-1a, with the lengths mixed in so ("ab", "c") and ("a", "bc") differ. */
static uint32_t fnv1a(uint32_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t image_hash(const char *exe, uint16_t exe_len, const char *argv, uint16_t argv_len)
{
	uint32_t h = 2166136261u;

	h = fnv1a(h, &exe_len, sizeof(exe_len));
	if (exe_len != LEN_UNKNOWN)
		h = fnv1a(h, exe, exe_len);
	h = fnv1a(h, &argv_len, sizeof(argv_len));
	if (argv_len != LEN_UNKNOWN)
		h = fnv1a(h, argv, argv_len);
	return h;
}

static const char *argv_of(const struct perim_proc_image *im)
{
	return im->bytes + (im->exe_len == LEN_UNKNOWN ? 0 : im->exe_len + 1);
}

static int image_is(const struct perim_proc_image *im, uint32_t hash, const char *exe, uint16_t exe_len,
		    const char *argv, uint16_t argv_len)
{
	return im->hash == hash && im->exe_len == exe_len && im->argv_len == argv_len &&
	       (exe_len == LEN_UNKNOWN || !memcmp(im->bytes, exe, exe_len)) &&
	       (argv_len == LEN_UNKNOWN || !memcmp(argv_of(im), argv, argv_len));
}

static struct perim_proc_image *image_new(uint32_t hash, const char *exe, uint16_t exe_len,
					  const char *argv, uint16_t argv_len)
{
	size_t ebytes = exe_len == LEN_UNKNOWN ? 0 : exe_len + 1u;
	size_t abytes = argv_len == LEN_UNKNOWN ? 0 : argv_len + 1u;
	struct perim_proc_image *im = malloc(offsetof(struct perim_proc_image, bytes) + ebytes + abytes);
	char *p;

	if (!im)
		return NULL;
	im->refs = 1;
	im->hash = hash;
	im->exe_len = exe_len;
	im->argv_len = argv_len;
	p = im->bytes;
	if (ebytes) {
		memcpy(p, exe, exe_len);
		p[exe_len] = '\0';
		p += ebytes;
	}
	if (abytes) {
		memcpy(p, argv, argv_len);
		p[argv_len] = '\0';
	}
	return im;
}

/* Doubled when the set outgrows its buckets; a failed grow only lengthens chains. */
static void maybe_grow(struct perim_proc_images *s)
{
	uint32_t n = s->nbuckets * 2;
	struct perim_proc_image **b;

	if (s->count <= s->nbuckets || n < s->nbuckets)
		return;
	b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (uint32_t i = 0; i < s->nbuckets; i++) {
		struct perim_proc_image *im = s->buckets[i], *next;

		for (; im; im = next) {
			next = im->next;
			im->next = b[im->hash & (n - 1)];
			b[im->hash & (n - 1)] = im;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

static uint16_t clamp_len(const char *s, size_t len, size_t max)
{
	if (!s)
		return LEN_UNKNOWN;
	if (max > LEN_MAX)
		max = LEN_MAX;
	return (uint16_t)(len < max ? len : max);
}

struct perim_proc_image *perim_proc_image_get(struct perim_proc_images *s, const char *exe, size_t exe_len,
					      const char *argv, size_t argv_len, size_t argv_max)
{
	uint16_t elen = clamp_len(exe, exe_len, LEN_MAX), alen = clamp_len(argv, argv_len, argv_max);
	uint32_t hash;
	struct perim_proc_image *im, **head;

	if (!exe && !argv)
		return NULL;
	hash = image_hash(exe, elen, argv, alen);
	head = &s->buckets[hash & (s->nbuckets - 1)];
	for (im = *head; im; im = im->next) {
		if (image_is(im, hash, exe, elen, argv, alen)) {
			im->refs++;
			return im;
		}
	}
	im = image_new(hash, exe, elen, argv, alen);
	if (!im) {
		errno = ENOMEM;
		return NULL;
	}
	im->next = *head;
	*head = im;
	s->count++;
	maybe_grow(s);
	return im;
}

void perim_proc_image_hold(struct perim_proc_image *im)
{
	if (im)
		im->refs++;
}

void perim_proc_image_put(struct perim_proc_images *s, struct perim_proc_image *im)
{
	if (!im || --im->refs)
		return;
	for (struct perim_proc_image **pp = &s->buckets[im->hash & (s->nbuckets - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == im) {
			*pp = im->next;
			break;
		}
	}
	s->count--;
	free(im);
}

const char *perim_proc_image_exe(const struct perim_proc_image *im)
{
	return im && im->exe_len != LEN_UNKNOWN ? im->bytes : NULL;
}

const char *perim_proc_image_argv(const struct perim_proc_image *im, uint16_t *len)
{
	if (!im || im->argv_len == LEN_UNKNOWN) {
		*len = 0;
		return NULL;
	}
	*len = im->argv_len;
	return argv_of(im);
}

size_t perim_proc_images_count(const struct perim_proc_images *s)
{
	return s->count;
}
