// SPDX-License-Identifier: GPL-2.0
/* Covering prefixes by binary search per length in use. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/prefix_index.h"

static void mask_to(uint8_t addr[16], unsigned len)
{
	for (unsigned bit = len; bit < 128; bit++)
		addr[bit / 8] &= ~(0x80 >> (bit % 8));
}

static int ref_cmp(const void *a, const void *b)
{
	const struct perim_prefix_ref *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	return c ? c : (int)x->len - (int)y->len;
}

int perim_prefix_index_add(struct perim_prefix_index *x, const struct perim_prefix *p, const void *item)
{
	struct perim_prefix_ref *r;

	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;

		r = realloc(x->v, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		x->v = r;
		x->cap = cap;
	}
	r = &x->v[x->n++];
	memcpy(r->addr, p->addr, sizeof(r->addr));
	r->len = p->len > 128 ? 128 : p->len;
	mask_to(r->addr, r->len);
	r->item = item;
	x->len_used[r->len] = true;
	return 0;
}

void perim_prefix_index_sort(struct perim_prefix_index *x)
{
	if (x->n)
		qsort(x->v, x->n, sizeof(x->v[0]), ref_cmp);
}

void perim_prefix_index_free(struct perim_prefix_index *x)
{
	free(x->v);
	memset(x, 0, sizeof(*x));
}

/* The first ref not below key (the sort order), or n. */
static size_t lower_bound(const struct perim_prefix_index *x, const struct perim_prefix_ref *key)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ref_cmp(&x->v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int perim_prefix_index_covering(const struct perim_prefix_index *x, const struct perim_prefix *p,
				perim_prefix_cover_fn fn, void *ctx)
{
	struct perim_prefix_ref key = { 0 };
	int ret;

	for (int len = p->len > 128 ? 128 : p->len; len >= 0; len--) {
		if (!x->len_used[len])
			continue;
		memcpy(key.addr, p->addr, sizeof(key.addr));
		mask_to(key.addr, len);
		key.len = len;
		for (size_t i = lower_bound(x, &key); i < x->n && !ref_cmp(&x->v[i], &key); i++) {
			ret = fn(x->v[i].item, len, ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}
