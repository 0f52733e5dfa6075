// SPDX-License-Identifier: GPL-2.0
/*
 * natssub: print every message on SUBJECT as "subject payload", one per
 * line, flushed, until killed: tests await lines in its output file.
 *   natssub URL SUBJECT
 */
#include <stdio.h>
#include <unistd.h>

#include <nats/nats.h>

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	printf("%s %.*s\n", natsMsg_GetSubject(msg), natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
	fflush(stdout);
	natsMsg_Destroy(msg);
}

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	natsStatus s;

	if (argc != 3) {
		fprintf(stderr, "usage: natssub URL SUBJECT\n");
		return 2;
	}
	s = natsConnection_ConnectTo(&nc, argv[1]);
	if (s == NATS_OK)
		s = natsConnection_Subscribe(&sub, nc, argv[2], on_msg, NULL);
	if (s == NATS_OK)
		s = natsConnection_Flush(nc);
	if (s != NATS_OK) {
		fprintf(stderr, "natssub: %s: %s\n", argv[2], natsStatus_GetText(s));
		return 1;
	}
	fprintf(stderr, "natssub: subscribed\n");
	for (;;)
		pause();
}
