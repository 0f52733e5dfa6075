// SPDX-License-Identifier: GPL-2.0
/*
 * Event JSON: the line perimd writes as it fills an event (perim_ev_text,
 * with the texts it keeps between events: events_json.h's cache) is the
 * text json-c prints for the event's object, made with and without those
 * texts, whatever the events before it (null fields becoming values and
 * back, argv arrays growing and shrinking, a type's key set changing).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "test.h"
#include "perim_drops.h"
#include "perim_events.h"
#include "events/events_json.h"
#include "procs/proctable.h"

#define START_NS 5000000000ull
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)   /* as the bus prints */

struct pair {
	struct perim_ev_json_ctx cached, fresh;
	struct perim_ev_json_cache cache;
};

static void pair_init(struct pair *p, struct perim_proctable *procs)
{
	memset(p, 0, sizeof(*p));
	p->fresh = (struct perim_ev_json_ctx){ .procs = procs, .realtime_minus_monotonic_ns = 1700000000000000000ll };
	p->cached = p->fresh;
	p->cached.cache = &p->cache;
}

/* text is what json-c itself prints for the document text holds (json_text.h writes event lines). */
static bool json_c_prints(const char *text, const char *tag)
{
	struct json_object *parsed = json_tokener_parse(text);
	bool ok = ASSERT_OK_PTR(parsed, tag) && ASSERT_STREQ(text, json_object_to_json_string_ext(parsed, JSON_FLAGS), tag);

	json_object_put(parsed);
	return ok;
}

/* Both objects (made with and without the kept texts) print the same line, json-c's; the first one's text in out. */
static bool same_text(struct json_object *cached, struct json_object *fresh, const char *tag, char *out, size_t len)
{
	const char *a = json_object_to_json_string_ext(cached, JSON_FLAGS);
	const char *b = json_object_to_json_string_ext(fresh, JSON_FLAGS);
	bool ok = ASSERT_STREQ(a, b, tag) && json_c_prints(a, tag);

	snprintf(out, len, "%s", a);
	json_object_put(cached);
	json_object_put(fresh);
	return ok;
}

/* The line written without an object (perim_ev_text, with ctx's caches) is the object's text. */
static bool same_as_written(const struct perim_ev_json_ctx *ctx, const void *ev, size_t size,
			    struct json_object *fresh, const char *tag)
{
	struct printbuf *pb = printbuf_new();
	bool ok = ASSERT_OK_PTR(pb, tag) && ASSERT_EQ(perim_ev_text(ctx, ev, size, pb), 0, tag) &&
		  ASSERT_STREQ(pb->buf, json_object_to_json_string_ext(fresh, JSON_FLAGS), tag);

	if (pb)
		printbuf_free(pb);
	return ok;
}

static bool same_event(struct pair *p, const void *ev, size_t size, const char *tag, char *out, size_t len)
{
	struct json_object *a = perim_ev_json(&p->cached, ev, size), *b = perim_ev_json(&p->fresh, ev, size);

	if (!ASSERT_OK_PTR(a, tag) || !ASSERT_OK_PTR(b, tag) || !same_as_written(&p->cached, ev, size, b, tag)) {
		json_object_put(a);
		json_object_put(b);
		return false;
	}
	return same_text(a, b, tag, out, len);
}

static void hdr_init(struct perim_ev_hdr *h, int type, uint32_t pid, uint32_t uid)
{
	h->type = type;
	h->seq = pid;
	h->ts_ns = 1000000000ull * pid + 123456789;
	h->start_ns = START_NS;
	h->pid = h->tid = pid;
	h->ppid = 1;
	h->uid = uid;
	snprintf(h->comm, sizeof(h->comm), "c%u", pid);
}

static void test_exec_lines_as_the_process_changes(void)
{
	struct perim_proctable *procs = perim_proctable_new(16, 1000);
	struct perim_ev_exec e = { 0 };
	struct pair p;
	char text[8192];

	if (!ASSERT_OK_PTR(procs, "table"))
		return;
	pair_init(&p, procs);
	/* unknown process: exe and argv null */
	hdr_init(&e.hdr, PERIM_EV_EXEC, 10, 0);
	e.filename_len = snprintf(e.filename, sizeof(e.filename), "/bin/true");
	same_event(&p, &e, sizeof(e), "unknown process", text, sizeof(text));
	ASSERT_TRUE(strstr(text, "\"exe\":null,\"argv\":null") != NULL, "nulls");
	/* known, three arguments, then one, then four, then unknown again */
	perim_proctable_exec(procs, 10, START_NS, "c10", "/bin/true", "true\0-a\0-b", 11);
	same_event(&p, &e, sizeof(e), "three args", text, sizeof(text));
	ASSERT_TRUE(strstr(text, "\"argv\":[\"true\",\"-a\",\"-b\"]") != NULL, "three args");
	perim_proctable_exec(procs, 10, START_NS, "c10", "/usr/bin/a-much-longer-name", "x", 2);
	same_event(&p, &e, sizeof(e), "one arg", text, sizeof(text));
	ASSERT_TRUE(strstr(text, "\"argv\":[\"x\"]") != NULL, "one arg");
	perim_proctable_exec(procs, 10, START_NS, "c10", "/b", "a longer first\0b\0c\0d", 21);
	same_event(&p, &e, sizeof(e), "four args", text, sizeof(text));
	ASSERT_TRUE(strstr(text, "\"exe\":\"/b\",\"argv\":[\"a longer first\",\"b\",\"c\",\"d\"]") != NULL, "four");
	hdr_init(&e.hdr, PERIM_EV_EXEC, 11, 65534);
	e.argv_truncated = 1;
	same_event(&p, &e, sizeof(e), "unknown again", text, sizeof(text));
	ASSERT_TRUE(strstr(text, "\"exe\":null,\"argv\":null") != NULL, "nulls again");
	perim_proctable_free(procs);
}

static void test_connect_error_and_state_lines(void)
{
	struct perim_ev_sock s = { 0 };
	struct pair p;
	char text[4096];

	pair_init(&p, NULL);
	hdr_init(&s.hdr, PERIM_EV_CONNECT, 20, 0);
	s.family = AF_INET;
	s.proto = 6;
	s.sport = 40000;
	s.dport = 80;
	s.saddr[10] = s.saddr[11] = s.daddr[10] = s.daddr[11] = 0xff;
	s.saddr[12] = 127, s.saddr[15] = 1, s.daddr[12] = 10, s.daddr[15] = 2;
	same_event(&p, &s, sizeof(s), "connected", text, sizeof(text));
	ASSERT_TRUE(strstr(text, "\"result\":0,\"error\":null") != NULL, "no error");
	s.result = -ECONNREFUSED;
	s.family = AF_INET6;
	s.proto = 17;
	same_event(&p, &s, sizeof(s), "refused", text, sizeof(text));
	ASSERT_TRUE(strstr(text, "\"error\":\"ECONNREFUSED\"") != NULL, "error named");
	s.result = 0;
	same_event(&p, &s, sizeof(s), "connected again", text, sizeof(text));
	hdr_init(&s.hdr, PERIM_EV_SOCK_STATE, 21, 0);
	s.oldstate = 2, s.newstate = 1;
	same_event(&p, &s, sizeof(s), "sock_state", text, sizeof(text));
	ASSERT_TRUE(strstr(text, "\"old_state\":\"SYN_SENT\",\"new_state\":\"ESTABLISHED\"") != NULL, "states");
}

static void test_file_ops_change_keys(void)
{
	static const int ops[] = { PERIM_FILE_UNLINK, PERIM_FILE_CHMOD, PERIM_FILE_RENAME, PERIM_FILE_ATTR,
				   PERIM_FILE_CHMOD, PERIM_FILE_TRUNCATE, PERIM_FILE_WRITE, PERIM_FILE_CHOWN, 99,
				   PERIM_FILE_UNLINK };
	struct perim_ev_file f = { 0 };
	struct pair p;
	char text[8192], tag[32];

	pair_init(&p, NULL);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		hdr_init(&f.hdr, PERIM_EV_FILE, 30 + i, 1000);
		f.op = ops[i];
		f.path_len = snprintf(f.path, sizeof(f.path), "/tmp/file-%zu", i);
		f.path2_len = snprintf(f.path2, sizeof(f.path2), "/tmp/other-%zu", i);
		f.mode = 0644 + i;
		f.length = 100 * i;
		snprintf(tag, sizeof(tag), "file op %d", ops[i]);
		same_event(&p, &f, sizeof(f), tag, text, sizeof(text));
	}
}

static void test_guard_bpf_cmd_comes_and_goes(void)
{
	struct perim_ev_guard g = { 0 };
	struct pair p;
	char text[8192];

	pair_init(&p, NULL);
	for (int i = 0; i < 4; i++) {
		hdr_init(&g.hdr, PERIM_EV_GUARD, 40 + i, 0);
		g.bpf_cmd = i % 2 ? 5 : -1;
		g.path_len = snprintf(g.path, sizeof(g.path), "/etc/shadow%d", i);
		same_event(&p, &g, sizeof(g), i % 2 ? "with bpf_cmd" : "without bpf_cmd", text, sizeof(text));
		ASSERT_EQ(strstr(text, "\"bpf_cmd\":5") != NULL, i % 2, "bpf_cmd present when set");
	}
}

static void test_xdp_drop_flow_and_listener_lines(void)
{
	struct perim_proctable *procs = perim_proctable_new(16, 1000);
	struct perim_drop_event d = { .ts = 7000000000ull, .rule = 3, .proto = 17, .dport = 53, .len = 64 };
	struct printbuf *pb = printbuf_new();
	struct pair p;
	char text[4096];

	if (!ASSERT_OK_PTR(procs, "table") || !ASSERT_OK_PTR(pb, "printbuf"))
		return;
	pair_init(&p, procs);
	perim_proctable_exec(procs, 50, START_NS, "named", "/usr/sbin/named", "named\0-f", 9);
	for (int i = 0; i < 6; i++) {
		struct json_object *a, *b;

		d.family = i % 3 ? 4 : 0;
		d.src[15] = i;
		a = perim_xdp_drop_json(&p.cached, &d, i % 2 ? "eth0" : NULL, "rate", i > 2 ? 50 : 0, START_NS);
		b = perim_xdp_drop_json(&p.fresh, &d, i % 2 ? "eth0" : NULL, "rate", i > 2 ? 50 : 0, START_NS);
		printbuf_reset(pb);
		ASSERT_EQ(perim_xdp_drop_text(&p.cached, &d, i % 2 ? "eth0" : NULL, "rate", i > 2 ? 50 : 0, START_NS, pb),
			  0, "xdp_drop written");
		ASSERT_STREQ(pb->buf, json_object_to_json_string_ext(b, JSON_FLAGS), "xdp_drop written");
		same_text(a, b, "xdp_drop", text, sizeof(text));
		ASSERT_EQ(strstr(text, "\"listener\":{\"pid\":50,\"comm\":\"named\"") != NULL, i > 2, "listener");
		ASSERT_EQ(strstr(text, "\"flow\":null") != NULL, d.family == 0, "flow null without a family");
	}
	perim_proctable_free(procs);
	printbuf_free(pb);
}

/*
 * chmod, chown and attr events print the file's uid and gid under the
 * header's keys, each key once (a line written as it is filled has no
 * object to replace a value in).
 */
static void test_file_ids_in_the_header_places(void)
{
	static const int ops[] = { PERIM_FILE_CHMOD, PERIM_FILE_CHOWN, PERIM_FILE_ATTR };
	struct perim_ev_file f = { 0 };
	struct pair p;
	char text[8192], tag[48];

	pair_init(&p, NULL);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		hdr_init(&f.hdr, PERIM_EV_FILE, 40 + i, 1000);
		f.op = ops[i];
		f.uid = 4242;
		f.gid = 4343;
		f.path_len = snprintf(f.path, sizeof(f.path), "/tmp/ids-%zu", i);
		snprintf(tag, sizeof(tag), "file op %d", ops[i]);
		f.uid = 4244;
		if (!same_event(&p, &f, sizeof(f), tag, text, sizeof(text)))
			continue;
		ASSERT_TRUE(strstr(text, "\"uid\":4244,") && strstr(text, "\"gid\":4343,"), tag);
		ASSERT_TRUE(!strstr(text, "\"uid\":1000"), tag);
	}
}

/*
 * Addresses are printed once and their text kept for the next event naming
 * them: addresses sharing a slot of that memo (10.0.0.1 and 10.16.0.1), an
 * IPv6 address with the same last bytes, and each coming back, always print
 * as the event's own.
 */
static void test_address_texts_never_stale(void)
{
	static const struct { uint8_t b13, b15; bool v6; const char *text; } addrs[] = {
		{ 0, 1, false, "10.0.0.1" }, { 16, 1, false, "10.16.0.1" }, { 0, 1, true, "fd00::1" },
		{ 0, 1, false, "10.0.0.1" }, { 0, 1, true, "fd00::1" }, { 16, 1, false, "10.16.0.1" },
	};
	struct perim_ev_sock s = { 0 };
	struct pair p;
	char text[4096], want[64];

	pair_init(&p, NULL);
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		hdr_init(&s.hdr, PERIM_EV_CONNECT, 50 + i, 0);
		memset(s.daddr, 0, sizeof(s.daddr));
		if (addrs[i].v6) {
			s.family = AF_INET6;
			s.daddr[0] = 0xfd;
		} else {
			s.family = AF_INET;
			s.daddr[10] = s.daddr[11] = 0xff;
			s.daddr[12] = 10;
		}
		s.daddr[13] = addrs[i].b13;
		s.daddr[15] = addrs[i].b15;
		memcpy(s.saddr, s.daddr, sizeof(s.saddr));
		if (!same_event(&p, &s, sizeof(s), addrs[i].text, text, sizeof(text)))
			continue;
		snprintf(want, sizeof(want), "\"src\":\"%s\"", addrs[i].text);
		ASSERT_TRUE(strstr(text, want) != NULL, want);
		snprintf(want, sizeof(want), "\"dst\":\"%s\"", addrs[i].text);
		ASSERT_TRUE(strstr(text, want) != NULL, want);
	}
}

/* The next of a fixed pseudo-random sequence (the same bytes every run). */
static uint32_t next_random(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

/*
 * Every event type, its record filled with bytes of every kind (quotes,
 * backslashes, control and high bytes land in its strings, lengths and
 * codes out of range), its process known or not: the line written without
 * an object is the object's text, and json-c's own.
 */
static void test_every_type_written_as_the_object_prints(void)
{
	struct perim_proctable *procs = perim_proctable_new(64, 1000);
	unsigned char ev[4096];
	uint32_t state = 21;
	struct pair p;
	char text[16384], tag[64];

	if (!ASSERT_OK_PTR(procs, "table"))
		return;
	pair_init(&p, procs);
	perim_proctable_exec(procs, 7, START_NS, "w\"q", "/usr/bin/a\\b", "one\0t\"wo\0\x01three\0/four", 24);
	for (int type = 1; type < PERIM_EV_MAX; type++) {
		size_t size = perim_ev_size(type);

		if (!size || size > sizeof(ev))
			continue;
		for (int round = 0; round < 64; round++) {
			struct perim_ev_hdr *h = (struct perim_ev_hdr *)ev;

			for (size_t i = 0; i < size; i++)
				ev[i] = (unsigned char)next_random(&state);
			h->type = type;
			h->start_ns = START_NS;
			h->pid = round % 2 ? 7 : h->pid;
			snprintf(tag, sizeof(tag), "type %d, round %d", type, round);
			if (!same_event(&p, ev, size, tag, text, sizeof(text)))
				break;
		}
	}
	perim_proctable_free(procs);
}
