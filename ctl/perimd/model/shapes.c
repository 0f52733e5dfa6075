// SPDX-License-Identifier: GPL-2.0
/* Shapers in the model (shapes.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "perim.h"
#include "model/rules.h"
#include "model/shapes.h"

void perim_model_shape_set(struct perim_model *m, int slot, const struct perim_shape_spec *spec)
{
	m->shapes[slot] = (struct perim_model_shape){ .used = true, .install = true, .spec = *spec };
}

int perim_model_shape_del(struct perim_model *m, int slot, const char *dev, char *err, size_t errlen)
{
	if (!m->shapes[slot].used) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: perim has no shaper on this interface", dev);
		return PERIM_EXIT_BADINPUT;
	}
	memset(&m->shapes[slot], 0, sizeof(m->shapes[slot]));
	return 0;
}

static bool shaped(const struct perim_model *m, int slot)
{
	return m && m->ifaces[slot].used && m->shapes[slot].used;
}

bool perim_model_shape_changed(const struct perim_model *from, const struct perim_model *to, int slot)
{
	const struct perim_shape_spec *a, *b;

	if (shaped(from, slot) != shaped(to, slot))
		return true;
	if (!shaped(to, slot))
		return false;
	a = &from->shapes[slot].spec;
	b = &to->shapes[slot].spec;
	return to->shapes[slot].install || a->rate_bits != b->rate_bits || a->burst_bytes != b->burst_bytes ||
	       a->latency_ms != b->latency_ms;
}

void perim_model_shapes_settle(struct perim_model *m)
{
	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		m->shapes[s].install = false;
		m->shapes[s].spec.force = false;
	}
}

int perim_model_shapes_format(const struct perim_model *m, int slot, FILE *f)
{
	char line[256];

	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		if (!shaped(m, s) || (slot >= 0 && s != slot))
			continue;
		if (perim_shape_format(m->ifaces[s].dev, &m->shapes[s].spec, line, sizeof(line)) < 0)
			return -EINVAL;
		fprintf(f, "%s\n", line);
	}
	return 0;
}
