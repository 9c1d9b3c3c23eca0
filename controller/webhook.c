/*
 * Webhook authentication and push parsing (see webhook.h).
 */
#include "webhook.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

static void verdict(struct webhook_verdict *v, enum webhook_result r,
		    int status, const char *reason)
{
	v->result = r;
	v->http_status = status;
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "sha256=<64 hex>" against HMAC-SHA256(secret, body), in constant time */
static int github_signature_ok(const struct webhook_request *req,
			       const char *secret, size_t secret_len)
{
	unsigned char want[EVP_MAX_MD_SIZE], got[32];
	unsigned int want_len = 0;
	const char *hex;
	size_t i;

	if (!req->signature || strncmp(req->signature, "sha256=", 7))
		return 0;
	hex = req->signature + 7;
	if (strlen(hex) != 64)
		return 0;
	for (i = 0; i < 32; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return 0;
		got[i] = (unsigned char)(hi << 4 | lo);
	}
	if (!HMAC(EVP_sha256(), secret, (int)secret_len,
		  (const unsigned char *)req->body, req->len, want,
		  &want_len) ||
	    want_len != 32)
		return 0;
	return CRYPTO_memcmp(want, got, 32) == 0;
}

static int gitlab_token_ok(const struct webhook_request *req,
			   const char *secret, size_t secret_len)
{
	/* the length is not a secret worth hiding; the content is */
	return req->token && strlen(req->token) == secret_len &&
	       CRYPTO_memcmp(req->token, secret, secret_len) == 0;
}

/* The pushed ref and commit of a push event's JSON body. */
static void judge_push(struct webhook_verdict *v,
		       const struct webhook_request *req, const char *branch)
{
	json_t *j = json_loadb(req->body, req->len, 0, NULL);
	const char *ref = json_string_value(json_object_get(j, "ref"));
	const char *after = json_string_value(json_object_get(j, "after"));
	char want[300];

	if (!json_is_object(j) || !ref) {
		verdict(v, WEBHOOK_REJECTED, 400, "malformed push event");
		goto out;
	}
	snprintf(want, sizeof(want), "refs/heads/%s", branch ? branch : "");
	if (branch && strcmp(ref, want)) {
		verdict(v, WEBHOOK_IGNORED, 202, "push to another branch");
		goto out;
	}
	if (after && strlen(after) == 40 &&
	    strspn(after, "0123456789abcdef") == 40)
		snprintf(v->after, sizeof(v->after), "%s", after);
	verdict(v, WEBHOOK_FETCH, 202, "push");
out:
	json_decref(j);
}

void webhook_judge(struct webhook_verdict *out, enum webhook_source src,
		   const struct webhook_request *req, const char *secret,
		   size_t secret_len, const char *branch)
{
	const char *event = req->event ? req->event : "";

	memset(out, 0, sizeof(*out));
	if (req->len > WEBHOOK_MAX_BODY) {
		verdict(out, WEBHOOK_REJECTED, 413, "body too large");
		return;
	}
	if (!secret || !secret_len) {
		verdict(out, WEBHOOK_REJECTED, 401, "no secret configured");
		return;
	}
	if (src == WEBHOOK_GITHUB ?
		    !github_signature_ok(req, secret, secret_len) :
		    !gitlab_token_ok(req, secret, secret_len)) {
		verdict(out, WEBHOOK_REJECTED, 401,
			src == WEBHOOK_GITHUB ? "bad or missing signature" :
						"bad or missing token");
		return;
	}
	if (src == WEBHOOK_GITHUB && !strcmp(event, "ping")) {
		verdict(out, WEBHOOK_IGNORED, 200, "pong");
		return;
	}
	if ((src == WEBHOOK_GITHUB && !strcmp(event, "push")) ||
	    (src == WEBHOOK_GITLAB && !strcmp(event, "Push Hook"))) {
		judge_push(out, req, branch);
		return;
	}
	verdict(out, WEBHOOK_IGNORED, 202, "event not used");
}
