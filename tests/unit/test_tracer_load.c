// SPDX-License-Identifier: GPL-2.0
/*
 * perimd's tracer loading: naming the program libbpf failed to load (and the
 * verifier's reason) from its messages, and the guard rail file's parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "tracing/guard_rules.h"
#include "datapath/loadfail.h"

/* As libbpf 1.1 printed it on Debian 6.1 for the old argv loop. */
static const char verifier_log_61[] =
	"libbpf: prog 'exec__btf': -- BEGIN PROG LOAD LOG --\n"
	"0: R1=ctx(off=0,imm=0) R10=fp0\n"
	"; if (e->argv[i] == '\\0')\n"
	"421: (71) r3 = *(u8 *)(r1 +0)\n"
	"invalid access to memory, mem_size=864 off=864 size=1\n"
	"R1 min value is outside of the allowed memory range\n"
	"processed 5442 insns (limit 1000000) max_states_per_insn 4 total_states 100\n"
	"-- END PROG LOAD LOG --\n";

static void test_names_the_rejected_program_and_reason(void)
{
	struct perim_load_failure f = {};

	perim_load_failure_feed(&f, "libbpf: prog 'exec__btf': BPF program load failed: Permission denied\n");
	perim_load_failure_feed(&f, verifier_log_61);
	perim_load_failure_feed(&f, "libbpf: prog 'exec__btf': failed to load: -13\n");
	perim_load_failure_feed(&f, "libbpf: failed to load object 'perim_trace'\n");
	ASSERT_TRUE(f.found, "found");
	ASSERT_STREQ(f.prog, "exec__btf", "program");
	ASSERT_STREQ(f.why, "invalid access to memory, mem_size=864 off=864 size=1", "reason");
}

static void test_reason_without_instruction_lines(void)
{
	struct perim_load_failure f = {};

	perim_load_failure_feed(&f, "libbpf: prog 'guard_open__lsm': -- BEGIN PROG LOAD LOG --\n"
				    "Sleepable programs can only use array, hash, and ringbuf maps\n"
				    "processed 0 insns\n-- END PROG LOAD LOG --\n");
	perim_load_failure_feed(&f, "libbpf: prog 'guard_open__lsm': failed to load: -22\n");
	ASSERT_STREQ(f.prog, "guard_open__lsm", "program");
	ASSERT_STREQ(f.why, "Sleepable programs can only use array, hash, and ringbuf maps", "reason");
}

/* 5.10 prints register states between the instructions and the reason. */
static void test_reason_skips_register_states(void)
{
	struct perim_load_failure f = {};

	perim_load_failure_feed(&f, "libbpf: prog 'guard_bpf__lsm': -- BEGIN PROG LOAD LOG --\n"
				    "from 75 to 77: R0=map_value(id=0,off=0,ks=4,vs=80,imm=0) R10=fp0\n"
				    "85: (61) r1 = *(u32 *)(r0 +0)\n"
				    " R0=map_value(id=0,off=0,ks=4,vs=80,imm=0) R6=map_value(id=0,off=68) fp-8=mmmmmmmm\n"
				    "; if (!r || !r->mode || r->op != op)\n"
				    "infinite loop detected at insn 86\n"
				    "processed 105 insns (limit 1000000)\n-- END PROG LOAD LOG --\n");
	perim_load_failure_feed(&f, "libbpf: prog 'guard_bpf__lsm': failed to load: -22\n");
	ASSERT_STREQ(f.why, "infinite loop detected at insn 86", "reason");
}

/* A failure with no verifier log (CO-RE, relocation) keeps libbpf's own words. */
static void test_relocation_failure(void)
{
	struct perim_load_failure f = {};

	perim_load_failure_feed(&f, "libbpf: prog 'rename__kp': relo #3: failed to relocate: -22\n");
	ASSERT_TRUE(f.found, "found");
	ASSERT_STREQ(f.prog, "rename__kp", "program");
	ASSERT_STREQ(f.why, "relo #3: failed to relocate: -22", "reason");
}

/* Other programs' chatter ("skipped loading") names nobody. */
static void test_ignores_other_messages(void)
{
	struct perim_load_failure f = {};

	perim_load_failure_feed(&f, "libbpf: prog 'fork__raw': skipped loading\n");
	perim_load_failure_feed(&f, "libbpf: map 'perim_ev_ring': created successfully, fd=4\n");
	ASSERT_TRUE(!f.found, "nothing found");
}

static char *write_temp(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/perim-guard-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	return path;
}

static int parse_text(const char *text, struct perim_guard_config *c, char *err, size_t len)
{
	char *path = write_temp(text);
	int ret;

	if (!path)
		return -999;
	ret = perim_guard_rules_parse(path, c, err, len);
	unlink(path);
	return ret;
}

static void test_guard_rules_parse(void)
{
	struct perim_guard_config c;
	char err[512] = "";

	if (!ASSERT_EQ(parse_text("# guard rails\n"
				  "exec /tmp/jail/ enforce\n"
				  "open /etc/shadow\n"
				  "\n"
				  "bpf /sys/fs/bpf/perim audit  # perimd's pins\n"
				  "write /srv/conf/\n", &c, err, sizeof(err)), 0, err))
		return;
	ASSERT_EQ(c.n_rules, 3, "rules");
	ASSERT_EQ(c.rules[0].op, PERIM_GUARD_EXEC, "exec op");
	ASSERT_EQ(c.rules[0].mode, PERIM_GUARD_ENFORCE, "exec mode");
	ASSERT_STREQ(c.rules[0].prefix, "/tmp/jail/", "exec prefix");
	ASSERT_EQ(c.rules[0].line, 2, "exec line");
	ASSERT_EQ(c.rules[1].op, PERIM_GUARD_OPEN, "open op");
	ASSERT_EQ(c.rules[1].mode, PERIM_GUARD_AUDIT, "audit by default");
	ASSERT_EQ(c.rules[2].op, PERIM_GUARD_BPF, "bpf op");
	ASSERT_EQ(c.n_write, 1, "write prefixes");
	ASSERT_STREQ(c.write_prefixes[0], "/srv/conf/", "write prefix");
}

/* Every bad line: one message naming the bad token and its line. */
static void test_guard_rules_bad_input(void)
{
	static const struct {
		const char *text, *token;
	} bad[] = {
		{ "exec /a enforce\nchmod /etc\n", "\"chmod\"" },
		{ "open /etc/x block\n", "\"block\"" },
		{ "open etc/x\n", "\"etc/x\"" },
		{ "open\n", "\"open\"" },
		{ "write /etc/ enforce\n", "\"enforce\"" },
		{ "exec /a audit extra\n", "\"extra\"" },
		{ "exec /a audit\nexec /a enforce\n", "a second exec rule" },
		{ "open /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "\"/aaaa" },
	};
	struct perim_guard_config c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512] = "";

		ASSERT_EQ(parse_text(bad[i].text, &c, err, sizeof(err)) < 0, 1, bad[i].text);
		ASSERT_TRUE(strstr(err, bad[i].token) != NULL, err);
		ASSERT_TRUE(strstr(err, ":1: ") || strstr(err, ":2: "), err);
	}
}

static void test_guard_rules_missing_file(void)
{
	struct perim_guard_config c;
	char err[512] = "";

	ASSERT_EQ(perim_guard_rules_parse("/nonexistent/perim-guard", &c, err, sizeof(err)) < 0, 1, "fails");
	ASSERT_TRUE(strstr(err, "/nonexistent/perim-guard") != NULL, err);
}

/* Debian's 6.12 refusing a program as libxdp 1.3.1's dispatcher extension, as measured in the VM tier. */
static void test_reason_of_an_extension_refused_at_attach(void)
{
	struct perim_load_failure f = {};

	perim_load_failure_feed(&f, "libbpf: prog 'perim_xdp_syn': BPF program load failed: Invalid argument\n");
	perim_load_failure_feed(&f, "libbpf: prog 'perim_xdp_syn': -- BEGIN PROG LOAD LOG --\n"
				    "Extension program changes packet data, while original does not\n"
				    "processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 "
				    "peak_states 0 mark_read 0\n-- END PROG LOAD LOG --\n");
	perim_load_failure_feed(&f, "libbpf: prog 'perim_xdp_syn': failed to load: -22\n");
	ASSERT_STREQ(f.prog, "perim_xdp_syn", "program");
	ASSERT_STREQ(f.log_why, "Extension program changes packet data, while original does not", "reason");
}
