// SPDX-License-Identifier: GPL-2.0
/*
 * A restarted perimd finds its fleet decisions only in the pinned tries: the
 * state file never holds them and NATS may be down. They are taken back into
 * the model before the first apply, so that apply does not lift them; the
 * first complete watch of the bucket then replaces them with the truth.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "fleet/fleet.h"
#include "log.h"

static void prefix_of_key(const struct perim_lpm_ukey *k, struct perim_prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (k->family == PERIM_LPM_V4) {
		p->addr[10] = p->addr[11] = 0xff;
		memcpy(p->addr + 12, k->addr, 4);
		p->len = 96 + k->prefixlen;
		p->is_v4 = true;
	} else {
		memcpy(p->addr, k->addr, 16);
		p->len = k->prefixlen;
	}
}

int perimd_fleet_recover(struct perimd *d)
{
	const struct perim_lpm_set *set = &d->installed->lpm;
	struct perim_prefix *p;
	unsigned n = 0;
	int ret;

	if (!d->cfg.fleet.servers[0] || !set->n)
		return 0;
	p = malloc(set->n * sizeof(*p));
	if (!p)
		return -1;
	for (size_t i = 0; i < set->n; i++) {
		const struct perim_lpm_entry *e = &set->e[i];

		if ((e->key.family == PERIM_LPM_V4 || e->key.family == PERIM_LPM_V6) &&
		    e->value.acl == PERIM_ACL_FLEET_DENY)
			prefix_of_key(&e->key, &p[n++]);
	}
	ret = perim_model_fleet_set(d->model, p, n);
	free(p);
	if (!ret && d->model->n_fleet)
		pr_info("perimd: fleet: %u fleet-deny entries kept from the pins until the bucket is read\n",
			d->model->n_fleet);
	return ret;
}
