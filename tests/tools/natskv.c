// SPDX-License-Identifier: GPL-2.0
/*
 * natskv: one raw write to a NATS JetStream key-value bucket, for tests that
 * must put what perimctl never would (a malformed decision).
 *   natskv URL put BUCKET KEY VALUE
 *   natskv URL del BUCKET KEY
 * Exit 0 on the server's acknowledgement, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include <nats/nats.h>

static int fail(const char *what, natsStatus s)
{
	fprintf(stderr, "natskv: %s: %s\n", what, natsStatus_GetText(s));
	return 1;
}

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	natsStatus s;
	uint64_t rev = 0;
	int ret;

	if (argc < 5 || (strcmp(argv[2], "put") && strcmp(argv[2], "del")) ||
	    (!strcmp(argv[2], "put") && argc != 6) || (!strcmp(argv[2], "del") && argc != 5)) {
		fprintf(stderr, "usage: natskv URL put BUCKET KEY VALUE | natskv URL del BUCKET KEY\n");
		return 2;
	}
	s = natsConnection_ConnectTo(&nc, argv[1]);
	if (s != NATS_OK)
		return fail(argv[1], s);
	s = natsConnection_JetStream(&js, nc, NULL);
	if (s == NATS_OK)
		s = js_KeyValue(&kv, js, argv[3]);
	if (s == NATS_OK && !strcmp(argv[2], "put"))
		s = kvStore_PutString(&rev, kv, argv[4], argv[5]);
	else if (s == NATS_OK)
		s = kvStore_Delete(kv, argv[4]);
	ret = s == NATS_OK ? 0 : fail(argv[4], s);
	if (!ret && rev)
		printf("revision %llu\n", (unsigned long long)rev);
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return ret;
}
