// SPDX-License-Identifier: GPL-2.0
/* Group rulesets' pure parts: the fleet apply / fleet gateways grammar and the STATE.group record. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "fleet/group/record.h"
#include "test.h"

static int parse(struct perim_cmd *cmd, char *err, size_t errlen, int argc, ...)
{
	static char *argv[16];
	va_list ap;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	memset(cmd, 0, sizeof(*cmd));
	return perim_cmd_parse(argc, argv, cmd, err, errlen);
}

static void test_fleet_apply_grammar(void)
{
	struct perim_cmd c;
	char err[256];

	ASSERT_OK(parse(&c, err, sizeof(err), 4, "fleet", "apply", "edge-1", "r.rules"), "apply");
	ASSERT_EQ(c.kind, PERIM_CMD_FLEET_APPLY, "kind");
	ASSERT_STREQ(c.fleet.group, "edge-1", "group");
	ASSERT_STREQ(c.file, "r.rules", "file");
	ASSERT_OK(parse(&c, err, sizeof(err), 7, "fleet", "apply", "g", "--check", "f", "--text", "deny add x 10.0.0.0/8"),
		  "--check and --text");
	ASSERT_TRUE(c.check, "check");
	ASSERT_STREQ(c.text, "deny add x 10.0.0.0/8", "text");
	ASSERT_EQ(parse(&c, err, sizeof(err), 4, "fleet", "apply", "a.b", "f"), PERIM_EXIT_BADINPUT, "a dot");
	ASSERT_TRUE(strstr(err, "\"a.b\"") != NULL, "names the group");
	ASSERT_EQ(parse(&c, err, sizeof(err), 4, "fleet", "apply", "a*", "f"), PERIM_EXIT_BADINPUT, "a wildcard");
	ASSERT_EQ(parse(&c, err, sizeof(err), 3, "fleet", "apply", "g"), PERIM_EXIT_BADINPUT, "no file");
	ASSERT_EQ(parse(&c, err, sizeof(err), 5, "fleet", "apply", "g", "f", "f2"), PERIM_EXIT_BADINPUT, "two files");
	ASSERT_EQ(parse(&c, err, sizeof(err), 6, "fleet", "apply", "g", "f", "--check", "--check"), PERIM_EXIT_BADINPUT,
		  "--check twice");
	ASSERT_EQ(parse(&c, err, sizeof(err), 5, "fleet", "apply", "g", "f", "--text"), PERIM_EXIT_BADINPUT,
		  "--text without TEXT");
}

static void test_fleet_gateways_grammar(void)
{
	struct perim_cmd c;
	char err[256];

	ASSERT_OK(parse(&c, err, sizeof(err), 4, "fleet", "gateways", "edge", "-j"), "gateways");
	ASSERT_EQ(c.kind, PERIM_CMD_FLEET_GATEWAYS, "kind");
	ASSERT_STREQ(c.fleet.group, "edge", "group");
	ASSERT_TRUE(c.json_out, "-j");
	ASSERT_OK(parse(&c, err, sizeof(err), 4, "fleet", "status", "--group", "edge"), "status --group");
	ASSERT_EQ(c.kind, PERIM_CMD_FLEET_GATEWAYS, "status --group kind");
	ASSERT_OK(parse(&c, err, sizeof(err), 2, "fleet", "status"), "status");
	ASSERT_EQ(c.kind, PERIM_CMD_FLEET_STATUS, "plain status");
	ASSERT_EQ(parse(&c, err, sizeof(err), 3, "fleet", "status", "--group"), PERIM_EXIT_BADINPUT, "--group alone");
	ASSERT_EQ(parse(&c, err, sizeof(err), 2, "fleet", "gateways"), PERIM_EXIT_BADINPUT, "no group");
	ASSERT_EQ(parse(&c, err, sizeof(err), 4, "fleet", "gateways", "a", "b"), PERIM_EXIT_BADINPUT, "two groups");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 8192);

	if (f && buf)
		fread(buf, 1, 8191, f);
	if (f)
		fclose(f);
	return buf;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_record_round_trip_and_damage(void)
{
	char dir[] = "/tmp/perim-test-group.XXXXXX", path[256], err[512], *text, *bad;
	struct group_record w = { .group = "edge", .revision = 42, .applied_ms = 1796000000123ULL }, r;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/state.group", dir);
	ASSERT_EQ(fleet_group_record_read(path, &r, err, sizeof(err)), 1, "no record yet");
	ASSERT_OK(fleet_group_record_write(path, &w, "deny add eth1 10.0.0.0/8\nlimit set eth1 rate 1kpps", err,
					   sizeof(err)), "write");
	ASSERT_OK(fleet_group_record_read(path, &r, err, sizeof(err)), "read back");
	ASSERT_STREQ(r.group, "edge", "group");
	ASSERT_EQ(r.revision, 42, "revision");
	ASSERT_EQ(r.applied_ms, 1796000000123ULL, "applied_ms");
	text = slurp(path);
	ASSERT_TRUE(text && strstr(text, "limit set eth1 rate 1kpps\n# perim-state lines 6 crc32 "), "text kept");
	/* One byte changed: the checksum no longer matches and the record is ignored. */
	bad = text ? strdup(text) : NULL;
	if (bad) {
		*strstr(bad, "42") = '7';
		spit(path, bad);
		ASSERT_EQ(fleet_group_record_read(path, &r, err, sizeof(err)), -1, "a changed byte");
		ASSERT_TRUE(strstr(err, "not an intact") != NULL, "says why");
		spit(path, "");
		ASSERT_EQ(fleet_group_record_read(path, &r, err, sizeof(err)), -1, "an empty file");
	}
	free(bad);
	free(text);
	unlink(path);
	rmdir(dir);
}
