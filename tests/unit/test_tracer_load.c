// SPDX-License-Identifier: GPL-2.0
/*
 * perimd's tracer loading: naming the program libbpf failed to load (and the
 * verifier's reason) from its messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "loadfail.h"

PERIM_TEST_GLOBALS;

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

static const struct perim_test tests[] = {
	TEST(test_names_the_rejected_program_and_reason),
	TEST(test_reason_without_instruction_lines),
	TEST(test_reason_skips_register_states),
	TEST(test_relocation_failure),
	TEST(test_ignores_other_messages),
	{ 0 },
};

int main(int argc, char **argv)
{
	return perim_test_main(tests, argc, argv);
}
