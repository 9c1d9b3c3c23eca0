/*
 * libFuzzer target for the webhook receivers: arbitrary bodies and
 * headers must be refused or judged, never crash, leak or read past the
 * body. The first bytes choose the source and split off the headers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webhook_verdict v;
	struct webhook_request req;
	char header[80];
	size_t n;

	if (size < 1)
		return 0;
	/* a header from the input (NUL-terminated copy), then the body */
	n = data[0] % sizeof(header);
	if (n > size - 1)
		n = size - 1;
	memcpy(header, data + 1, n);
	header[n] = '\0';
	req.event = data[0] & 1 ? "push" : "Push Hook";
	req.signature = header;
	req.token = header;
	req.body = (const char *)data + 1 + n;
	req.len = size - 1 - n;
	webhook_judge(&v, data[0] & 2 ? WEBHOOK_GITHUB : WEBHOOK_GITLAB, &req,
		      "secret", 6, "main");
	if (v.result == WEBHOOK_FETCH && v.http_status != 202)
		abort();
	return 0;
}
