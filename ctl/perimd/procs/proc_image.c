// SPDX-License-Identifier: GPL-2.0
/* Interned exe paths (a chained hash set) and reference-counted argv copies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "procs/proc_image.h"

#define EXE_LEN_MAX 0xfffeu
#define BUCKETS_MIN 64u            /* power of two */

struct exe_node {
	struct exe_node *next;
	uint32_t refs;
	uint32_t hash;
	uint16_t len;
	char bytes[];              /* len bytes, NUL */
};

struct argv_node {
	uint32_t refs;
	char bytes[];              /* the argv, NUL */
};

struct perim_proc_exes {
	struct exe_node **buckets;
	uint32_t nbuckets;
	size_t count;
};

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static struct exe_node *exe_node_of(const char *exe)
{
	return container_of(exe, struct exe_node, bytes);
}

static struct argv_node *argv_node_of(const char *argv)
{
	return container_of(argv, struct argv_node, bytes);
}

struct perim_proc_exes *perim_proc_exes_new(void)
{
	struct perim_proc_exes *s = calloc(1, sizeof(*s));

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

void perim_proc_exes_free(struct perim_proc_exes *s)
{
	if (!s)
		return;
	free(s->buckets);
	free(s);
}

/* FNV-1a. */
static uint32_t fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Doubled when the set outgrows its buckets; a failed grow only lengthens chains. */
static void maybe_grow(struct perim_proc_exes *s)
{
	uint32_t n = s->nbuckets * 2;
	struct exe_node **b;

	if (s->count <= s->nbuckets || n < s->nbuckets)
		return;
	b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (uint32_t i = 0; i < s->nbuckets; i++) {
		struct exe_node *e = s->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

const char *perim_proc_exe_get(struct perim_proc_exes *s, const char *exe, size_t len)
{
	uint16_t n = (uint16_t)(len < EXE_LEN_MAX ? len : EXE_LEN_MAX);
	uint32_t hash = fnv1a(exe, n);
	struct exe_node *e, **head = &s->buckets[hash & (s->nbuckets - 1)];

	for (e = *head; e; e = e->next) {
		if (e->hash == hash && e->len == n && !memcmp(e->bytes, exe, n)) {
			e->refs++;
			return e->bytes;
		}
	}
	e = malloc(offsetof(struct exe_node, bytes) + n + 1u);
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	e->refs = 1;
	e->hash = hash;
	e->len = n;
	memcpy(e->bytes, exe, n);
	e->bytes[n] = '\0';
	e->next = *head;
	*head = e;
	s->count++;
	maybe_grow(s);
	return e->bytes;
}

void perim_proc_exe_hold(const char *exe)
{
	if (exe)
		exe_node_of(exe)->refs++;
}

void perim_proc_exe_put(struct perim_proc_exes *s, const char *exe)
{
	struct exe_node *e;

	if (!exe)
		return;
	e = exe_node_of(exe);
	if (--e->refs)
		return;
	for (struct exe_node **pp = &s->buckets[e->hash & (s->nbuckets - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	s->count--;
	free(e);
}

size_t perim_proc_exes_count(const struct perim_proc_exes *s)
{
	return s->count;
}

const char *perim_proc_argv_new(const char *argv, size_t len)
{
	struct argv_node *a = malloc(offsetof(struct argv_node, bytes) + len + 1);

	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	a->refs = 1;
	memcpy(a->bytes, argv, len);
	a->bytes[len] = '\0';
	return a->bytes;
}

void perim_proc_argv_hold(const char *argv)
{
	if (argv)
		argv_node_of(argv)->refs++;
}

bool perim_proc_argv_put(const char *argv)
{
	struct argv_node *a;

	if (!argv)
		return false;
	a = argv_node_of(argv);
	if (--a->refs)
		return false;
	free(a);
	return true;
}
