/*
 * The credential chain (see creds.h). Each source either finds
 * credentials (0), finds none (CREDS_NONE: try the next source), or fails
 * (negative: the source was configured but broken; the chain stops there
 * and says so, rather than silently using some other identity).
 */
#include "creds.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "buf.h"
#include "file.h"
#include "http.h"
#include "mem.h"
#include "xmldoc.h"

#define CREDS_NONE 1
#define REFRESH_MARGIN 300 /* seconds before expiry */
#define MAX_CHAIN 8 /* role_arn -> source_profile hops */

struct creds_provider {
	pthread_mutex_t lock;
	char *profile; /* as configured, or NULL */
	struct aws_client *client;
	struct creds cached;
	bool have;
};

void creds_provider_new(struct creds_provider **out, const char *profile,
			struct aws_client *client)
{
	struct creds_provider *p = mem_calloc(1, sizeof(*p));

	pthread_mutex_init(&p->lock, NULL);
	p->profile = profile && *profile ? mem_strdup(profile) : NULL;
	p->client = client;
	*out = p;
}

void creds_release(struct creds *c)
{
	free(c->access_key_id);
	free(c->secret_access_key);
	free(c->session_token);
	c->access_key_id = c->secret_access_key = c->session_token = NULL;
}

void creds_provider_free(struct creds_provider *p)
{
	if (!p)
		return;
	creds_release(&p->cached);
	pthread_mutex_destroy(&p->lock);
	free(p->profile);
	free(p);
}

static void creds_copy(struct creds *dst, const struct creds *src)
{
	dst->access_key_id = mem_strdup(src->access_key_id);
	dst->secret_access_key = mem_strdup(src->secret_access_key);
	dst->session_token =
		src->session_token ? mem_strdup(src->session_token) : NULL;
	dst->expiration = src->expiration;
	memcpy(dst->source, src->source, sizeof(dst->source));
}

static void set_source(struct creds *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_source(struct creds *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->source, sizeof(c->source), fmt, ap);
	va_end(ap);
}

/* "2026-11-26T16:33:04Z" (fractions and offsets ignored) -> time_t */
static time_t parse_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon,
			 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? (char *)v : NULL;
}

/* ---- shared files ---------------------------------------------------- */

static void home_path(struct buf *out, const char *env, const char *rel)
{
	const char *v = env_get(env), *home = env_get("HOME");

	buf_clear(out);
	if (v)
		buf_puts(out, v);
	else
		buf_printf(out, "%s/.aws/%s", home ? home : ".", rel);
}

static void trim(const char **s, const char **end)
{
	while (*s < *end && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*end > *s &&
	       ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
		(*end)--;
}

/*
 * The value of `key` in section `section` of an INI file, into `out`;
 * -1 when the file, section or key is missing.
 */
static int ini_get(const char *path, const char *section, const char *key,
		   struct buf *out)
{
	struct buf text = BUF_INIT;
	struct err e = ERR_INIT;
	const char *p;
	bool in = false;
	int rc = -1;

	if (file_read(&text, path, 1 << 20, &e) < 0)
		goto out;
	for (p = buf_cstr(&text); *p;) {
		const char *eol = strchr(p, '\n'), *s = p, *end;

		end = eol ? eol : p + strlen(p);
		trim(&s, &end);
		if (s < end && *s == '[' && end[-1] == ']') {
			const char *a = s + 1, *b = end - 1;

			trim(&a, &b);
			in = (size_t)(b - a) == strlen(section) &&
			     !strncmp(a, section, (size_t)(b - a));
		} else if (in && s < end && *s != '#' && *s != ';') {
			const char *eq = memchr(s, '=', (size_t)(end - s));

			if (eq) {
				const char *k = s, *kend = eq;
				const char *v = eq + 1, *vend = end;

				trim(&k, &kend);
				trim(&v, &vend);
				if ((size_t)(kend - k) == strlen(key) &&
				    !strncmp(k, key, (size_t)(kend - k))) {
					buf_clear(out);
					buf_put(out, v, (size_t)(vend - v));
					rc = 0;
					goto out;
				}
			}
		}
		if (!eol)
			break;
		p = eol + 1;
	}
out:
	buf_release(&text);
	return rc;
}

/* A profile setting: the credentials file first, then the config file. */
static int profile_get(const char *profile, const char *key, struct buf *out)
{
	struct buf path = BUF_INIT, section = BUF_INIT;
	int rc;

	home_path(&path, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
	rc = ini_get(path.ptr, profile, key, out);
	if (rc < 0) {
		home_path(&path, "AWS_CONFIG_FILE", "config");
		if (strcmp(profile, "default"))
			buf_printf(&section, "profile %s", profile);
		else
			buf_puts(&section, "default");
		rc = ini_get(path.ptr, section.ptr, key, out);
		if (rc < 0 && !strcmp(profile, "default"))
			rc = ini_get(path.ptr, "profile default", key, out);
	}
	buf_release(&path);
	buf_release(&section);
	return rc;
}

static const char *profile_name(const char *configured)
{
	if (configured)
		return configured;
	if (env_get("AWS_PROFILE"))
		return env_get("AWS_PROFILE");
	return "default";
}

char *creds_profile_region(const char *profile)
{
	struct buf v = BUF_INIT;

	if (profile_get(profile_name(profile), "region", &v) < 0) {
		buf_release(&v);
		return NULL;
	}
	return buf_detach(&v);
}

/* ---- STS ------------------------------------------------------------- */

static int sts_credentials(struct creds *out, const struct xmldoc *doc,
			   const char *result, struct err *e)
{
	const struct xmlnode *c = xmldoc_find(
		xmldoc_search(xmldoc_root(doc), result), "Credentials");
	const char *id = xmldoc_text(c, "AccessKeyId");
	const char *secret = xmldoc_text(c, "SecretAccessKey");
	const char *token = xmldoc_text(c, "SessionToken");

	if (!c || !id || !secret || !token)
		return err_set(e, ERR_AWS, "sts: %s has no Credentials",
			       result);
	out->access_key_id = mem_strdup(id);
	out->secret_access_key = mem_strdup(secret);
	out->session_token = mem_strdup(token);
	out->expiration = parse_time(xmldoc_text(c, "Expiration"));
	return 0;
}

static void session_name(struct buf *out, const char *configured)
{
	buf_clear(out);
	if (configured && *configured)
		buf_puts(out, configured);
	else
		buf_printf(out, "sagesync-%ld", (long)time(NULL));
}

static int assume_role(struct creds_provider *p, struct creds *out,
		       const struct creds *as, const char *role,
		       const char *name, const char *external_id, struct err *e)
{
	struct buf session = BUF_INIT;
	struct xmldoc *doc = NULL;
	const char *params[9];
	size_t n = 0;
	int rc;

	session_name(&session, name);
	params[n++] = "RoleArn";
	params[n++] = role;
	params[n++] = "RoleSessionName";
	params[n++] = session.ptr;
	if (external_id) {
		params[n++] = "ExternalId";
		params[n++] = external_id;
	}
	params[n] = NULL;
	if ((rc = aws_query_as(p->client, &aws_sts, "AssumeRole", params, as,
			       &doc, e)) == 0)
		rc = sts_credentials(out, doc, "AssumeRoleResult", e);
	if (rc < 0)
		err_prefix(e, "assume role '%s'", role);
	xmldoc_free(doc);
	buf_release(&session);
	return rc;
}

static int web_identity(struct creds_provider *p, struct creds *out,
			const char *token_file, const char *role,
			const char *name, struct err *e)
{
	struct buf token = BUF_INIT, session = BUF_INIT;
	struct xmldoc *doc = NULL;
	const char *params[7];
	int rc;

	if ((rc = file_read(&token, token_file, 64 << 10, e)) < 0) {
		err_prefix(e, "web identity token");
		goto out;
	}
	while (token.len && (token.ptr[token.len - 1] == '\n' ||
			     token.ptr[token.len - 1] == '\r'))
		token.ptr[--token.len] = '\0';
	session_name(&session, name);
	params[0] = "RoleArn";
	params[1] = role;
	params[2] = "RoleSessionName";
	params[3] = session.ptr;
	params[4] = "WebIdentityToken";
	params[5] = token.ptr;
	params[6] = NULL;
	/* unsigned: the token is the proof of identity */
	if ((rc = aws_query_as(p->client, &aws_sts, "AssumeRoleWithWebIdentity",
			       params, NULL, &doc, e)) == 0)
		rc = sts_credentials(out, doc,
				     "AssumeRoleWithWebIdentityResult", e);
	if (rc < 0)
		err_prefix(e, "web identity for role '%s'", role);
	set_source(out, "web identity (%s)", role);
out:
	xmldoc_free(doc);
	buf_release(&token);
	buf_release(&session);
	return rc;
}

/* ---- sources --------------------------------------------------------- */

static int from_env(struct creds *out, struct err *e)
{
	const char *id = env_get("AWS_ACCESS_KEY_ID");
	const char *secret = env_get("AWS_SECRET_ACCESS_KEY");

	if (!id && !secret)
		return CREDS_NONE;
	if (!id || !secret)
		return err_set(
			e, ERR_INVALID,
			"environment credentials: %s is set but %s is "
			"not",
			id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	out->access_key_id = mem_strdup(id);
	out->secret_access_key = mem_strdup(secret);
	out->session_token = env_get("AWS_SESSION_TOKEN") ?
				     mem_strdup(env_get("AWS_SESSION_TOKEN")) :
				     NULL;
	set_source(out, "%s", "environment");
	return 0;
}

static int from_web_identity_env(struct creds_provider *p, struct creds *out,
				 struct err *e)
{
	const char *file = env_get("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = env_get("AWS_ROLE_ARN");

	if (!file || !role)
		return CREDS_NONE;
	return web_identity(p, out, file, role,
			    env_get("AWS_ROLE_SESSION_NAME"), e);
}

static int from_ecs(struct creds_provider *p, struct creds *out, struct err *e);
static int from_imds(struct creds_provider *p, struct creds *out,
		     struct err *e);

static int from_profile(struct creds_provider *p, const char *profile,
			int depth, struct creds *out, struct err *e)
{
	struct buf role = BUF_INIT, src = BUF_INIT, v = BUF_INIT, id = BUF_INIT,
		   secret = BUF_INIT, name = BUF_INIT, ext = BUF_INIT;
	struct creds base = { 0 };
	int rc = CREDS_NONE;

	if (depth > MAX_CHAIN)
		return err_set(e, ERR_INVALID,
			       "profile '%s': role chain longer than %d "
			       "(a source_profile loop?)",
			       profile, MAX_CHAIN);
	if (profile_get(profile, "role_arn", &role) == 0) {
		bool has_ext = profile_get(profile, "external_id", &ext) == 0;

		profile_get(profile, "role_session_name", &name);
		if (profile_get(profile, "source_profile", &src) == 0) {
			/* a profile may name itself to use its own keys */
			if (!strcmp(src.ptr, profile) &&
			    profile_get(profile, "aws_access_key_id", &id) ==
				    0 &&
			    profile_get(profile, "aws_secret_access_key",
					&secret) == 0) {
				base.access_key_id = buf_detach(&id);
				base.secret_access_key = buf_detach(&secret);
				rc = 0;
			} else {
				rc = from_profile(p, src.ptr, depth + 1, &base,
						  e);
			}
			if (rc == CREDS_NONE)
				rc = err_set(e, ERR_NOTFOUND,
					     "profile '%s': source_profile "
					     "'%s' has no credentials",
					     profile, src.ptr);
		} else if (profile_get(profile, "credential_source", &v) == 0) {
			if (!strcmp(v.ptr, "Environment"))
				rc = from_env(&base, e);
			else if (!strcmp(v.ptr, "EcsContainer"))
				rc = from_ecs(p, &base, e);
			else if (!strcmp(v.ptr, "Ec2InstanceMetadata"))
				rc = from_imds(p, &base, e);
			else
				rc = err_set(e, ERR_INVALID,
					     "profile '%s': credential_source "
					     "'%s' is not Environment, "
					     "EcsContainer or "
					     "Ec2InstanceMetadata",
					     profile, v.ptr);
			if (rc == CREDS_NONE)
				rc = err_set(e, ERR_NOTFOUND,
					     "profile '%s': credential_source "
					     "%s has no credentials",
					     profile, v.ptr);
		} else if (profile_get(profile, "web_identity_token_file",
				       &v) == 0) {
			rc = web_identity(p, out, v.ptr, role.ptr,
					  name.len ? name.ptr : NULL, e);
			goto out;
		} else {
			rc = err_set(e, ERR_INVALID,
				     "profile '%s': role_arn needs "
				     "source_profile, credential_source or "
				     "web_identity_token_file",
				     profile);
		}
		if (rc == 0)
			rc = assume_role(p, out, &base, role.ptr,
					 name.len ? name.ptr : NULL,
					 has_ext ? ext.ptr : NULL, e);
		if (rc == 0)
			set_source(out, "profile '%s' (assumed role)", profile);
		goto out;
	}
	if (profile_get(profile, "aws_access_key_id", &id) == 0) {
		if (profile_get(profile, "aws_secret_access_key", &secret) <
		    0) {
			rc = err_set(e, ERR_INVALID,
				     "profile '%s': aws_access_key_id without "
				     "aws_secret_access_key",
				     profile);
			goto out;
		}
		out->access_key_id = buf_detach(&id);
		out->secret_access_key = buf_detach(&secret);
		if (profile_get(profile, "aws_session_token", &v) == 0)
			out->session_token = buf_detach(&v);
		set_source(out, "profile '%s'", profile);
		rc = 0;
	}
out:
	creds_release(&base);
	buf_release(&role);
	buf_release(&src);
	buf_release(&v);
	buf_release(&id);
	buf_release(&secret);
	buf_release(&name);
	buf_release(&ext);
	return rc;
}

/* {AccessKeyId, SecretAccessKey, Token, Expiration}, as ECS and IMDS say */
static int json_credentials(struct creds *out, const struct buf *body,
			    const char *what, struct err *e)
{
	json_t *j = json_loadb(body->ptr ? body->ptr : "", body->len, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "AccessKeyId"));
	const char *secret =
		json_string_value(json_object_get(j, "SecretAccessKey"));
	const char *token = json_string_value(json_object_get(j, "Token"));
	int rc = 0;

	if (!id || !secret)
		rc = err_set(e, ERR_INVALID,
			     "%s: answer has no AccessKeyId and "
			     "SecretAccessKey",
			     what);
	else {
		out->access_key_id = mem_strdup(id);
		out->secret_access_key = mem_strdup(secret);
		out->session_token = token ? mem_strdup(token) : NULL;
		out->expiration = parse_time(
			json_string_value(json_object_get(j, "Expiration")));
	}
	json_decref(j);
	return rc;
}

static int http_get(struct buf *out, const char *method, const char *url,
		    const char *header, long timeout_ms, const char *what,
		    struct err *e)
{
	struct http_response r = HTTP_RESPONSE_INIT;
	struct http_client *h = NULL;
	const char *headers[2] = { header, NULL };
	struct http_request req = { method,	url,	header ? headers : NULL,
				    NULL,	0,	timeout_ms,
				    timeout_ms, 1 << 20 };
	int rc;

	if ((rc = http_client_new(&h, NULL, e)) < 0)
		return rc;
	rc = http_client_do(h, &r, &req, e);
	if (rc == 0 && r.status != 200)
		rc = err_set(e, ERR_IO, "%s %s: HTTP %ld", method, url,
			     r.status);
	if (rc < 0)
		err_prefix(e, "%s", what);
	else
		buf_put(out, r.body.ptr ? r.body.ptr : "", r.body.len);
	http_response_release(&r);
	http_client_free(h);
	return rc;
}

/*
 * FULL_URI must not send the token to an arbitrary plain-HTTP host: https,
 * or http to exactly a loopback or container-agent address, no user part.
 */
static bool container_host_ok(const char *url)
{
	static const char *const allowed[] = {
		"localhost",	  "::1",
		"[::1]",	  "169.254.170.2",
		"169.254.170.23", "fd00:ec2::23",
		"[fd00:ec2::23]",
	};
	char *scheme = NULL, *host = NULL, *user = NULL;
	CURLU *u = curl_url();
	bool ok = false;
	size_t i;

	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		goto out; /* "http://127.0.0.1@elsewhere/" */
	if (!strcmp(scheme, "https")) {
		ok = true;
		goto out;
	}
	if (strcmp(scheme, "http"))
		goto out;
	if (!strncmp(host, "127.", 4) &&
	    strspn(host, "0123456789.") == strlen(host))
		ok = true;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (!strcmp(host, allowed[i]))
			ok = true;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}

static int from_ecs(struct creds_provider *p, struct creds *out, struct err *e)
{
	const char *rel = env_get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env_get("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *token_file =
		env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *token_env = env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	struct buf url = BUF_INIT, token = BUF_INIT, hdr = BUF_INIT,
		   body = BUF_INIT;
	int rc;

	(void)p;
	if (!rel && !full)
		return CREDS_NONE;
	if (rel)
		buf_printf(&url, "http://169.254.170.2%s", rel);
	else
		buf_puts(&url, full);
	if (!rel && !container_host_ok(url.ptr)) {
		rc = err_set(e, ERR_INVALID,
			     "container credentials: "
			     "AWS_CONTAINER_CREDENTIALS_FULL_URI must be "
			     "https or a loopback or container-agent "
			     "address");
		goto out;
	}
	if (token_file) {
		if ((rc = file_read(&token, token_file, 16 << 10, e)) < 0) {
			err_prefix(e, "container credentials");
			goto out;
		}
		while (token.len && (token.ptr[token.len - 1] == '\n' ||
				     token.ptr[token.len - 1] == '\r'))
			token.ptr[--token.len] = '\0';
	} else if (token_env) {
		buf_puts(&token, token_env);
	}
	if (token.len)
		buf_printf(&hdr, "Authorization: %s", token.ptr);
	rc = http_get(&body, "GET", url.ptr, hdr.len ? hdr.ptr : NULL, 5000,
		      "container credentials", e);
	if (rc == 0)
		rc = json_credentials(out, &body, "container credentials", e);
	if (rc == 0)
		set_source(out, "%s", "container");
out:
	buf_release(&url);
	buf_release(&token);
	buf_release(&hdr);
	buf_release(&body);
	return rc;
}

static int from_imds(struct creds_provider *p, struct creds *out, struct err *e)
{
	const char *off = env_get("AWS_EC2_METADATA_DISABLED");
	const char *base = env_get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct buf url = BUF_INIT, token = BUF_INIT, hdr = BUF_INIT,
		   role = BUF_INIT;
	struct err probe = ERR_INIT;
	int rc;

	(void)p;
	if (off && !strcasecmp(off, "true"))
		return CREDS_NONE;
	if (!base)
		base = "http://169.254.169.254";
	/* IMDSv2: a session token first */
	buf_printf(&url, "%s/latest/api/token", base);
	if (http_get(&token, "PUT", url.ptr,
		     "X-aws-ec2-metadata-token-ttl-seconds: 21600", 1000,
		     "instance metadata", &probe) < 0) {
		/* no metadata service here: not an EC2 instance */
		rc = CREDS_NONE;
		goto out;
	}
	buf_printf(&hdr, "X-aws-ec2-metadata-token: %s", token.ptr);
	buf_clear(&url);
	buf_printf(&url, "%s/latest/meta-data/iam/security-credentials/", base);
	if ((rc = http_get(&role, "GET", url.ptr, hdr.ptr, 2000,
			   "instance metadata", e)) < 0)
		goto out;
	if (strchr(role.ptr ? role.ptr : "", '\n'))
		*strchr(role.ptr, '\n') = '\0';
	if (!role.ptr || !*role.ptr) {
		rc = err_set(e, ERR_NOTFOUND,
			     "instance metadata: the instance has no IAM "
			     "role");
		goto out;
	}
	buf_printf(&url, "%s", role.ptr);
	buf_clear(&token); /* reused for the answer */
	if ((rc = http_get(&token, "GET", url.ptr, hdr.ptr, 2000,
			   "instance metadata", e)) == 0 &&
	    (rc = json_credentials(out, &token, "instance metadata", e)) == 0)
		set_source(out, "instance role '%s'", role.ptr);
out:
	buf_release(&url);
	buf_release(&token);
	buf_release(&hdr);
	buf_release(&role);
	return rc;
}

static int resolve(struct creds_provider *p, struct creds *out, struct err *e)
{
	const char *profile = profile_name(p->profile);
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = from_env(out, e)) != CREDS_NONE)
		return rc;
	if ((rc = from_web_identity_env(p, out, e)) != CREDS_NONE)
		return rc;
	if ((rc = from_profile(p, profile, 0, out, e)) != CREDS_NONE)
		return rc;
	if (p->profile || env_get("AWS_PROFILE"))
		return err_set(e, ERR_NOTFOUND,
			       "profile '%s' not found in the shared "
			       "credentials or config file",
			       profile);
	if ((rc = from_ecs(p, out, e)) != CREDS_NONE)
		return rc;
	if ((rc = from_imds(p, out, e)) != CREDS_NONE)
		return rc;
	return err_set(e, ERR_NOTFOUND,
		       "no AWS credentials: set AWS_ACCESS_KEY_ID and "
		       "AWS_SECRET_ACCESS_KEY, a profile, a web identity, "
		       "or run with a container or instance role");
}

int creds_get(struct creds_provider *p, struct creds *out, struct err *e)
{
	time_t now = time(NULL);
	struct creds fresh;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&p->lock);
	if (p->have && (!p->cached.expiration ||
			p->cached.expiration - now > REFRESH_MARGIN)) {
		creds_copy(out, &p->cached);
		goto out;
	}
	rc = resolve(p, &fresh, e);
	if (rc < 0) {
		creds_release(&fresh);
		/* a failed refresh keeps what has not expired yet */
		if (p->have && p->cached.expiration > now) {
			creds_copy(out, &p->cached);
			rc = 0;
		} else {
			err_prefix(e, "credentials");
		}
		goto out;
	}
	creds_release(&p->cached);
	p->cached = fresh;
	p->have = true;
	creds_copy(out, &p->cached);
out:
	pthread_mutex_unlock(&p->lock);
	return rc;
}
