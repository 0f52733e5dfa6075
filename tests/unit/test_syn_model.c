// SPDX-License-Identifier: GPL-2.0
/*
 * SYN protections in perimd's model (model/syncookies.c): set adds or
 * replaces by destination and ports, del removes one or all, a change is
 * seen by the commit, the state-file lines read back as the same commands,
 * and a detach takes them with the interface.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "model/rules.h"
#include "model/syncookies.h"
#include "test.h"

static char err[256];

/* The spec of one "syncookie set/del ..." line, parsed as perimctl would. */
static struct perim_syn_spec parsed(const char *line)
{
	struct perim_cmd cmd;
	char *argv[16], buf[256];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok(buf, " "); w && argc < 16; w = strtok(NULL, " "))
		argv[argc++] = w;
	if (perim_cmd_parse(argc, argv, &cmd, err, sizeof(err)))
		fprintf(stderr, "  bad test line %s: %s\n", line, err);
	return cmd.syn;
}

static struct perim_model *model_with_eth0(void)
{
	struct perim_model *m = perim_model_new();

	if (m && perim_model_iface_add(m, "eth0", PERIM_MODE_DEFAULT, 0, err, sizeof(err))) {
		perim_model_free(m);
		return NULL;
	}
	return m;
}

/* The state-file lines of m, in one string (free it). */
static char *state_lines(const struct perim_model *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (perim_model_syn_format(m, -1, f))
		fprintf(f, "FORMAT FAILED");
	fclose(f);
	return text;
}

static void test_set_replaces_same_target(void)
{
	struct perim_model *m = model_with_eth0();
	struct perim_syn_spec a = parsed("syncookie set eth0 dst 192.0.2.0/24 dport 80");
	struct perim_syn_spec b = parsed("syncookie set eth0 dst 192.0.2.0/24 dport 80 mss 1400 dry-run");
	struct perim_syn_spec c = parsed("syncookie set eth0 dport 443");

	if (!ASSERT_TRUE(m != NULL, "model"))
		return;
	ASSERT_EQ(perim_model_syn_set(m, 0, "eth0", &a, err, sizeof(err)), 0, "first set");
	ASSERT_EQ(perim_model_syn_set(m, 0, "eth0", &b, err, sizeof(err)), 0, "same target again");
	ASSERT_EQ(m->syn[0].n, 1, "replaced, not added");
	ASSERT_EQ(m->syn[0].spec[0].mss, 1400, "the new options");
	ASSERT_EQ(perim_model_syn_set(m, 0, "eth0", &c, err, sizeof(err)), 0, "another target");
	ASSERT_EQ(m->syn[0].n, 2, "added");
	perim_model_free(m);
}

static void test_slot_full_refused(void)
{
	struct perim_model *m = model_with_eth0();
	struct perim_syn_spec s = parsed("syncookie set eth0 dport 1");

	if (!ASSERT_TRUE(m != NULL, "model"))
		return;
	for (int i = 0; i < PERIM_SYN_MAX_PROT; i++) {
		s.dport_lo = s.dport_hi = 1 + i;
		ASSERT_EQ(perim_model_syn_set(m, 0, "eth0", &s, err, sizeof(err)), 0, "set within the limit");
	}
	s.dport_lo = s.dport_hi = 1000;
	ASSERT_EQ(perim_model_syn_set(m, 0, "eth0", &s, err, sizeof(err)), PERIM_EXIT_BADINPUT, "one too many");
	ASSERT_TRUE(strstr(err, "\"eth0\"") != NULL, "the error names the interface");
	ASSERT_EQ(m->syn[0].n, PERIM_SYN_MAX_PROT, "nothing changed");
	perim_model_free(m);
}

static void test_del_one_or_all(void)
{
	struct perim_model *m = model_with_eth0();
	struct perim_syn_spec a = parsed("syncookie set eth0 dport 80");
	struct perim_syn_spec b = parsed("syncookie set eth0 dst 2001:db8::/32 dport 443");
	struct perim_syn_spec del_b = parsed("syncookie del eth0 dst 2001:db8::/32 dport 443");
	struct perim_syn_spec del_none = parsed("syncookie del eth0 dport 22");
	struct perim_syn_spec del_all = parsed("syncookie del eth0");

	if (!ASSERT_TRUE(m != NULL, "model"))
		return;
	perim_model_syn_set(m, 0, "eth0", &a, err, sizeof(err));
	perim_model_syn_set(m, 0, "eth0", &b, err, sizeof(err));
	ASSERT_EQ(perim_model_syn_del(m, 0, "eth0", &del_none, err, sizeof(err)), PERIM_EXIT_BADINPUT,
		  "no such protection");
	ASSERT_EQ(m->syn[0].n, 2, "nothing removed");
	ASSERT_EQ(perim_model_syn_del(m, 0, "eth0", &del_b, err, sizeof(err)), 0, "del one");
	ASSERT_EQ(m->syn[0].n, 1, "one left");
	ASSERT_EQ(m->syn[0].spec[0].dport_lo, 80, "the other one");
	perim_model_syn_set(m, 0, "eth0", &b, err, sizeof(err));
	ASSERT_EQ(perim_model_syn_del(m, 0, "eth0", &del_all, err, sizeof(err)), 0, "del all");
	ASSERT_EQ(m->syn[0].n, 0, "none left");
	ASSERT_EQ(perim_model_syn_del(m, 0, "eth0", &del_all, err, sizeof(err)), PERIM_EXIT_BADINPUT,
		  "del all of nothing");
	perim_model_free(m);
}

static void test_changes_seen_by_commit(void)
{
	struct perim_model *m = model_with_eth0(), *next;
	struct perim_syn_spec a = parsed("syncookie set eth0 dport 80");

	if (!ASSERT_TRUE(m != NULL, "model"))
		return;
	ASSERT_TRUE(!perim_model_syn_changed(NULL, m, 0), "nothing protected, nothing to install");
	next = perim_model_dup(m);
	perim_model_syn_set(next, 0, "eth0", &a, err, sizeof(err));
	ASSERT_TRUE(perim_model_syn_changed(m, next, 0), "a set is a change");
	ASSERT_TRUE(perim_model_syn_changed(NULL, next, 0), "at start: installed");
	ASSERT_TRUE(!perim_model_syn_changed(next, next, 1), "other slots untouched");
	perim_model_free(m);
	m = perim_model_dup(next);
	perim_model_iface_del(next, 0);
	ASSERT_TRUE(perim_model_syn_changed(m, next, 0), "a detach removes them");
	ASSERT_EQ(perim_model_syn_of(next, 0)->n, 0, "none on the detached slot");
	perim_model_free(m);
	perim_model_free(next);
}

static void test_state_lines_read_back(void)
{
	static const char *const lines[] = {
		"syncookie set eth0 dst 192.0.2.0/24 dport 80-90 mss 536 wscale 14 dry-run",
		"syncookie set eth0 dst 2001:db8::/32 dport 443 wscale 7",
		"syncookie set eth0 wscale 0",
	};
	struct perim_model *m = model_with_eth0(), *back = model_with_eth0();
	char *text, *again, *line, *save = NULL;

	if (!ASSERT_TRUE(m && back, "models"))
		goto out;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct perim_syn_spec s = parsed(lines[i]);

		perim_model_syn_set(m, 0, "eth0", &s, err, sizeof(err));
	}
	text = state_lines(m);
	if (!ASSERT_TRUE(text != NULL, "formatted"))
		goto out;
	ASSERT_STREQ(text, "syncookie set eth0 dst 192.0.2.0/24 dport 80-90 mss 536 wscale 14 dry-run\n"
			   "syncookie set eth0 dst 2001:db8::/32 dport 443 wscale 7\n"
			   "syncookie set eth0 wscale 0\n", "the state file's lines");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct perim_syn_spec s = parsed(line);

		perim_model_syn_set(back, 0, "eth0", &s, err, sizeof(err));
	}
	ASSERT_TRUE(!perim_model_syn_changed(m, back, 0), "read back: the same protections");
	again = state_lines(back);
	ASSERT_TRUE(again && !strncmp(again, "syncookie set eth0 dst 192.0.2.0/24", 35), "written again the same");
	free(again);
	free(text);
out:
	perim_model_free(m);
	perim_model_free(back);
}
