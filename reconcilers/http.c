/*
 * libcurl easy-handle wrapper (see http.h).
 */
#include "http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"

struct http_client {
	CURL *curl;
	char *ca_file;
};

struct sink {
	struct buf *buf;
	size_t max;
	int too_big;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

int http_client_new(struct http_client **out, const char *ca_file,
		    struct err *e)
{
	struct http_client *c;

	pthread_once(&global_once, global_init);
	c = mem_calloc(1, sizeof(*c));
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		*out = NULL;
		return err_set(e, ERR_GENERIC, "cannot start the HTTP client");
	}
	c->ca_file = ca_file ? mem_strdup(ca_file) : NULL;
	*out = c;
	return 0;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c->ca_file);
	free(c);
}

static size_t on_body(char *data, size_t size, size_t n, void *payload)
{
	struct sink *s = payload;
	size_t len = size * n;

	if (s->buf->len + len > s->max) {
		s->too_big = 1;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	buf_put(s->buf, data, len);
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *payload)
{
	struct buf *h = payload;
	size_t len = size * n;

	/* a new status line (after a 100 Continue or a redirect) restarts */
	if (len > 5 && !strncmp(data, "HTTP/", 5))
		buf_clear(h);
	buf_put(h, data, len);
	return len;
}

/* transport failures where trying again may work */
static int transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/*
 * A URL as messages may show it: scheme and host, without the user
 * information, path or query, where secrets live (a Slack or webhook URL
 * is itself the credential).
 */
static void origin(char *out, size_t size, const char *url)
{
	const char *sep = strstr(url, "://");
	const char *host = sep ? sep + 3 : url;
	const char *end = host + strcspn(host, "/?#");
	const char *at = memchr(host, '@', (size_t)(end - host));
	int scheme = (int)(host - url);

	if (at)
		host = at + 1;
	snprintf(out, size, "%.*s%.*s", scheme, url, (int)(end - host), host);
}

int http_client_do(struct http_client *c, struct http_response *out,
		   const struct http_request *req, struct err *e)
{
	struct curl_slist *headers = NULL;
	struct sink sink = { &out->body,
			     req->max_body ? req->max_body : 16u << 20, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h = c->curl;
	CURLcode rc;
	size_t i;
	int ret = 0;

	buf_clear(&out->body);
	buf_clear(&out->headers);
	out->status = 0;
	curl_easy_reset(h);
	for (i = 0; req->headers && req->headers[i]; i++)
		headers = curl_slist_append(headers, req->headers[i]);
	/* curl adds these by default; AWS signs what we send, so we decide */
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	if (!strcmp(req->method, "GET"))
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
				 req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body_len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &out->headers);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
			 req->timeout_ms ? req->timeout_ms : 30000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms ? req->connect_timeout_ms :
						   5000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "sagesync/" SAGESYNC_VERSION);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	rc = curl_easy_perform(h);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		char where[256];

		origin(where, sizeof(where), req->url);
		if (sink.too_big)
			ret = err_set(e, ERR_LIMIT,
				      "%s %s: answer larger than %zu bytes",
				      req->method, where, sink.max);
		else
			ret = err_set(
				e, ERR_IO, "%s %s: %s", req->method, where,
				errbuf[0] ? errbuf : curl_easy_strerror(rc));
		e->retryable = transient(rc);
		return ret;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	return 0;
}

int http_response_header(const struct http_response *r, const char *name,
			 struct buf *out)
{
	const char *p = buf_cstr(&r->headers);
	size_t n = strlen(name);

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && p[n] == ':' && !strncasecmp(p, name, n)) {
			const char *v = p + n + 1;
			const char *end = p + len;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == '\r' || end[-1] == ' '))
				end--;
			buf_clear(out);
			buf_put(out, v, (size_t)(end - v));
			return 0;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return -1;
}

void http_response_release(struct http_response *r)
{
	buf_release(&r->body);
	buf_release(&r->headers);
}
