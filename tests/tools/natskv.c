// SPDX-License-Identifier: GPL-2.0
/*
 * natskv: one raw write to a NATS JetStream key-value bucket, for tests that
 * must put what perimctl never would (a malformed decision), or a bucket
 * created beforehand as an operator would (`nats kv add`: history 1).
 *   natskv URL put BUCKET KEY VALUE
 *   natskv URL del BUCKET KEY
 *   natskv URL add BUCKET
 * Exit 0 on the server's acknowledgement, 1 otherwise.
 */
#include <stdbool.h>
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

	bool add = argc == 4 && !strcmp(argv[2], "add");

	if (!add && (argc < 5 || (strcmp(argv[2], "put") && strcmp(argv[2], "del")) ||
		     (!strcmp(argv[2], "put") && argc != 6) || (!strcmp(argv[2], "del") && argc != 5))) {
		fprintf(stderr, "usage: natskv URL put BUCKET KEY VALUE | natskv URL del BUCKET KEY |"
				" natskv URL add BUCKET\n");
		return 2;
	}
	s = natsConnection_ConnectTo(&nc, argv[1]);
	if (s != NATS_OK)
		return fail(argv[1], s);
	s = natsConnection_JetStream(&js, nc, NULL);
	if (s == NATS_OK && add) {
		kvConfig kc;

		kvConfig_Init(&kc);
		kc.Bucket = argv[3];
		kc.History = 1;
		s = js_CreateKeyValue(&kv, js, &kc);
	} else if (s == NATS_OK)
		s = js_KeyValue(&kv, js, argv[3]);
	if (s == NATS_OK && !strcmp(argv[2], "put"))
		s = kvStore_PutString(&rev, kv, argv[4], argv[5]);
	else if (s == NATS_OK && !add)
		s = kvStore_Delete(kv, argv[4]);
	ret = s == NATS_OK ? 0 : fail(argv[add ? 3 : 4], s);
	if (!ret && rev)
		printf("revision %llu\n", (unsigned long long)rev);
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return ret;
}
