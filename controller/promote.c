/*
 * Registry-to-Git promotion (see promote.h): the registry poll, the edit
 * of the manifests in place, the branch and its push, and the pull or
 * merge request.
 */
#include "promote.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "gitsrc.h"
#include "http.h"
#include "log.h"
#include "manifest.h"
#include "mem.h"
#include "sigv4.h"
#include "source.h"
#include "ytree.h"

/* ---- editing values in place -------------------------------------- */

/* one scalar replaced */
struct edit {
	const char *file; /* borrowed from the manifest set */
	int line, col;
	char *old;
	char *new;
	bool number; /* `new` is an integer, written plain */
};

struct edits {
	struct edit *items;
	size_t n, cap;
};

static void edit_add(struct edits *l, const char *file, int line, int col,
		     const char *old, const char *new)
{
	struct edit *ed;

	l->items = mem_grow(l->items, &l->cap, l->n + 1, sizeof(*l->items));
	ed = &l->items[l->n++];
	ed->file = file;
	ed->line = line;
	ed->col = col;
	ed->old = mem_strdup(old);
	ed->new = mem_strdup(new);
	ed->number = false;
}

static void edits_release(struct edits *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].old);
		free(l->items[i].new);
	}
	free(l->items);
}

/* the byte offset of LINE:COL (1-based; COL in characters) in `text` */
static long offset_of(const char *text, size_t len, int line, int col)
{
	size_t i = 0;
	int l = 1, c = 1;

	while (i < len && l < line)
		if (text[i++] == '\n')
			l++;
	while (i < len && c < col && text[i] != '\n') {
		i++;
		/* skip UTF-8 continuation bytes: one character */
		while (i < len && ((unsigned char)text[i] & 0xC0) == 0x80)
			i++;
		c++;
	}
	return l == line && c == col ? (long)i : -1;
}

/* whether YAML reads `v`, written plain, as the string `v` */
static bool plain_string(const char *v)
{
	static const char *const words[] = { "null", "true", "false", "yes",
					     "no",   "on",   "off",   "y",
					     "n",    NULL };
	size_t i;

	if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z')))
		return false; /* numbers, "-", "~", "." and the like */
	for (i = 0; words[i]; i++)
		if (!strcasecmp(v, words[i]))
			return false;
	return strspn(v, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789-_./") == strlen(v);
}

/*
 * A value written back, in the quotes it had (`quote`, or 0): a number
 * (`number`) plain; a string plain only when YAML reads it back as the
 * same string, else double-quoted with escapes.
 */
static void scalar_text(struct buf *out, const char *v, char quote, bool number)
{
	const char *p;

	if (number || (quote != '"' && quote != '\'' && plain_string(v))) {
		buf_puts(out, v);
		return;
	}
	if (quote == '\'') {
		buf_putc(out, '\'');
		for (p = v; *p; p++)
			if (*p == '\'')
				buf_puts(out, "''");
			else
				buf_putc(out, *p);
		buf_putc(out, '\'');
		return;
	}
	buf_putc(out, '"');
	for (p = v; *p; p++)
		if (*p == '"' || *p == '\\')
			buf_printf(out, "\\%c", *p);
		else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			buf_printf(out, "\\x%02x", (unsigned char)*p);
		else
			buf_putc(out, *p);
	buf_putc(out, '"');
}

static int cmp_edit_desc(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	if (x->line != y->line)
		return x->line > y->line ? -1 : 1;
	return x->col > y->col ? -1 : x->col < y->col;
}

/*
 * Applies the edits of `file` to its text (from the last to the first,
 * so earlier offsets hold). A value written in a form it cannot match
 * (a folded or escaped scalar) is an error naming where.
 */
static int apply_file(struct buf *text, const char *file, struct edits *l,
		      struct err *e)
{
	struct edit **mine = mem_alloc((l->n + 1) * sizeof(*mine));
	size_t n = 0, i;
	int rc = 0;

	qsort(l->items, l->n, sizeof(*l->items), cmp_edit_desc);
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].file, file))
			mine[n++] = &l->items[i];
	for (i = 0; i < n && rc == 0; i++) {
		const struct edit *ed = mine[i];
		struct buf repl = BUF_INIT, next = BUF_INIT;
		long at = offset_of(text->ptr, text->len, ed->line, ed->col);
		size_t olen = strlen(ed->old), span = 0;
		char q = at >= 0 ? text->ptr[at] : 0;

		if (at < 0) {
			rc = err_set(e, ERR_INVALID,
				     "%s:%d:%d: not found in the file", file,
				     ed->line, ed->col);
		} else if (!strncmp(text->ptr + at, ed->old, olen)) {
			span = olen;
			scalar_text(&repl, ed->new, 0, ed->number);
		} else if ((q == '"' || q == '\'') &&
			   !strncmp(text->ptr + at + 1, ed->old, olen) &&
			   text->ptr[at + 1 + (long)olen] == q) {
			span = olen + 2;
			scalar_text(&repl, ed->new, q, false);
		} else {
			rc = err_set(e, ERR_INVALID,
				     "%s:%d:%d: '%s' is not written as a "
				     "plain or simply quoted value; it "
				     "cannot be edited in place",
				     file, ed->line, ed->col, ed->old);
		}
		if (rc == 0) {
			buf_put(&next, text->ptr, (size_t)at);
			buf_put(&next, repl.ptr, repl.len);
			buf_put(&next, text->ptr + at + span,
				text->len - (size_t)at - span);
			buf_release(text);
			*text = next;
		} else {
			buf_release(&next);
		}
		buf_release(&repl);
	}
	free(mine);
	return rc;
}

/* ---- what changes ------------------------------------------------- */

/* "churn-v7" with 7 -> 8 is "churn-v8"; a name without v7 is kept */
static void next_name(struct buf *out, const char *name, long from, long to)
{
	char v[32];
	const char *p = name, *hit = NULL;
	size_t vl;

	snprintf(v, sizeof(v), "v%ld", from);
	vl = strlen(v);
	while ((p = strstr(p, v))) {
		bool starts = p == name || p[-1] == '-' || p[-1] == '_' ||
			      p[-1] == '.';
		bool ends = p[vl] < '0' || p[vl] > '9';

		if (starts && ends)
			hit = p;
		p += vl;
	}
	buf_clear(out);
	if (hit)
		buf_printf(out, "%.*sv%ld%s", (int)(hit - name), name, to,
			   hit + vl);
	else
		buf_puts(out, name);
}

/* the document of `file` that starts at `line` */
static const struct ynode *doc_at(const struct ytree *t, int line)
{
	size_t i;

	for (i = 0; i < ytree_ndocs(t); i++)
		if (ytree_doc(t, i)->line == line)
			return ytree_doc(t, i);
	return NULL;
}

/* the ModelPackage's own fields: version, approval, description */
static int package_edits(struct edits *l, const struct mf_model_package *p,
			 long version, const char *description, struct err *e)
{
	static const struct ytree_limits lim = YTREE_LIMITS_INIT;
	struct diag_list diags = DIAG_LIST_INIT;
	struct buf text = BUF_INIT;
	struct ytree *t = NULL;
	const struct ynode *doc, *spec, *v, *a, *d;
	char num[32];
	int rc = 0;

	if (file_read(&text, p->meta.loc.file, 1 << 20, e) < 0 ||
	    ytree_parse(&t, p->meta.loc.file, buf_cstr(&text), text.len, &lim,
			&diags) < 0 ||
	    !(doc = doc_at(t, p->meta.loc.line)) ||
	    !(spec = ynode_get(doc, "spec")) ||
	    !(v = ynode_get(spec, "version"))) {
		rc = e->code ? -1 :
			       err_set(e, ERR_INVALID,
				       "%s:%d: ModelPackage '%s': its "
				       "spec.version is not found",
				       p->meta.loc.file, p->meta.loc.line,
				       p->meta.name);
		goto out;
	}
	snprintf(num, sizeof(num), "%ld", version);
	edit_add(l, p->meta.loc.file, v->line, v->col, v->value, num);
	l->items[l->n - 1].number = true;
	/* required by the loader, so present */
	a = ynode_get(spec, "approval");
	if (a && a->type == YNODE_SCALAR && strcmp(a->value, "Approved"))
		edit_add(l, p->meta.loc.file, a->line, a->col, a->value,
			 "Approved");
	d = ynode_get(spec, "description");
	if (description && *description && d && d->type == YNODE_SCALAR)
		edit_add(l, p->meta.loc.file, d->line, d->col, d->value,
			 description);
out:
	ytree_free(t);
	diag_release(&diags);
	buf_release(&text);
	return rc;
}

static void name_edit(struct edits *l, const struct mf_loc *at, const char *old,
		      const char *new)
{
	edit_add(l, at->file, at->line, at->col, old, new);
}

/* the newest ModelPackage manifest of `group` (by version), or NULL */
static const struct mf_model_package *
newest_package(const struct manifest_set *set, const char *group)
{
	const struct mf_model_package *best = NULL;
	size_t i;

	for (i = 0; i < set->n_packages; i++) {
		const struct mf_model_package *p = &set->packages[i];

		if (!p->arn && p->group && !strcmp(p->group, group) &&
		    (!best || p->version.v > best->version.v))
			best = p;
	}
	return best;
}

/* the names that follow the package's: references, a same-named Model
 * and the variants serving it */
static int follow_rename(struct edits *l, const struct manifest_set *set,
			 const char *old, const char *new, struct err *e)
{
	const struct mf_model *same = manifest_find_model(set, old);
	size_t i, j;

	if (manifest_find_package(set, new))
		return err_set(e, ERR_INVALID,
			       "a ModelPackage named '%s' exists already", new);
	if (same && manifest_find_model(set, new))
		return err_set(e, ERR_INVALID,
			       "a Model named '%s' exists already", new);
	for (i = 0; i < set->n_models; i++) {
		const struct mf_model *m = &set->models[i];

		if (m->model_package.name &&
		    !strcmp(m->model_package.name, old))
			name_edit(l, &m->model_package.loc, old, new);
	}
	if (!same)
		return 0;
	name_edit(l, &same->meta.name_loc, old, new);
	for (i = 0; i < set->n_endpoints; i++)
		for (j = 0; j < set->endpoints[i].n_variants; j++) {
			const struct mf_variant *v =
				&set->endpoints[i].variants[j];

			if (v->model.name && !strcmp(v->model.name, old))
				name_edit(l, &v->model.loc, old, new);
		}
	return 0;
}

void promote_files_release(struct promote_files *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->paths[i]);
		free(f->texts[i]);
	}
	free(f->paths);
	free(f->texts);
	memset(f, 0, sizeof(*f));
}

int promote_edit(const char *dir, const char *group, long version,
		 const char *description, struct promote_files *out,
		 struct err *e)
{
	struct diag_list diags = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	const struct mf_model_package *p;
	struct edits l = { NULL, 0, 0 };
	struct buf name = BUF_INIT, text = BUF_INIT;
	size_t i, j, cap = 0, dl = strlen(dir);
	int rc;

	memset(out, 0, sizeof(*out));
	if (manifest_load(&set, dir, NULL, &diags) < 0) {
		rc = err_set(e, ERR_INVALID,
			     "the manifests have %zu error%s (first: %s:%d:%d: "
			     "%s); nothing is proposed",
			     diags.n, diags.n == 1 ? "" : "s",
			     diags.n ? diags.items[0].file : "?",
			     diags.n ? diags.items[0].line : 0,
			     diags.n ? diags.items[0].col : 0,
			     diags.n ? diags.items[0].msg : "?");
		goto out;
	}
	if (!(p = newest_package(set, group))) {
		rc = err_set(e, ERR_NOTFOUND,
			     "no ModelPackage manifest of group '%s' (with "
			     "group and version) to promote; add one",
			     group);
		goto out;
	}
	out->from = p->version.v;
	if (p->version.v >= version) {
		snprintf(out->package, sizeof(out->package), "%s",
			 p->meta.name);
		rc = 0;
		goto out;
	}
	next_name(&name, p->meta.name, p->version.v, version);
	snprintf(out->package, sizeof(out->package), "%s", name.ptr);
	if ((rc = package_edits(&l, p, version, description, e)) < 0)
		goto out;
	if (strcmp(name.ptr, p->meta.name)) {
		name_edit(&l, &p->meta.name_loc, p->meta.name, name.ptr);
		if ((rc = follow_rename(&l, set, p->meta.name, name.ptr, e)) <
		    0)
			goto out;
	}
	/* each file once, in the set's order */
	for (i = 0; i < set->n_files && rc == 0; i++) {
		const char *file = set->files[i];
		bool touched = false;

		for (j = 0; j < l.n; j++)
			touched |= !strcmp(l.items[j].file, file);
		if (!touched)
			continue;
		buf_clear(&text);
		if ((rc = file_read(&text, file, 1 << 20, e)) < 0 ||
		    (rc = apply_file(&text, file, &l, e)) < 0)
			break;
		out->paths = mem_grow(out->paths, &cap, out->n + 1,
				      sizeof(*out->paths));
		out->texts = mem_realloc(out->texts, cap * sizeof(*out->texts));
		/* relative to `dir` */
		out->paths[out->n] =
			mem_strdup(!strncmp(file, dir, dl) && file[dl] == '/' ?
					   file + dl + 1 :
					   file);
		out->texts[out->n++] = buf_detach(&text);
	}
	rc = rc < 0 ? rc : 1;
out:
	if (rc < 0)
		promote_files_release(out);
	edits_release(&l);
	manifest_set_free(set);
	diag_release(&diags);
	buf_release(&name);
	buf_release(&text);
	return rc;
}

/* ---- the registry ------------------------------------------------- */

struct version {
	long number;
	char arn[256];
};

/*
 * The newest version of `group` that may be proposed (not rejected, not
 * failed): 1 found, 0 none, <0 error. One call: newest first.
 */
static int newest_version(struct aws_client *aws, const char *group,
			  struct version *out, struct err *e)
{
	struct buf req = BUF_INIT, body = BUF_INIT;
	json_t *ans, *it, *r;
	size_t i;
	int rc;

	r = json_pack("{s:s, s:s, s:s, s:i}", "ModelPackageGroupName", group,
		      "SortBy", "CreationTime", "SortOrder", "Descending",
		      "MaxResults", 20);
	{
		char *text = json_dumps(r, JSON_COMPACT);

		buf_puts(&req, text ? text : "{}");
		free(text);
	}
	rc = aws_json(aws, &aws_sagemaker, "ListModelPackages", req.ptr, &body,
		      e);
	if (rc < 0)
		goto out;
	ans = json_loadb(body.ptr, body.len, 0, NULL);
	memset(out, 0, sizeof(*out));
	json_array_foreach(json_object_get(ans, "ModelPackageSummaryList"), i,
			   it)
	{
		const char *approval = json_string_value(
			json_object_get(it, "ModelApprovalStatus"));
		const char *status = json_string_value(
			json_object_get(it, "ModelPackageStatus"));
		long v = (long)json_integer_value(
			json_object_get(it, "ModelPackageVersion"));

		if ((approval && !strcmp(approval, "Rejected")) ||
		    (status && (!strcmp(status, "Failed") ||
				!strcmp(status, "Deleting"))) ||
		    v <= out->number)
			continue;
		out->number = v;
		snprintf(out->arn, sizeof(out->arn), "%s",
			 json_string_value(
				 json_object_get(it, "ModelPackageArn")) ?
				 json_string_value(json_object_get(
					 it, "ModelPackageArn")) :
				 "");
	}
	rc = out->number > 0;
	json_decref(ans);
out:
	json_decref(r);
	buf_release(&req);
	buf_release(&body);
	return rc;
}

/* ---- the state: what was proposed --------------------------------- */

struct promoter {
	struct promote_options opt;
	json_t *state; /* {GROUP: {version, branch, commit, request, url}} */
	struct http_client *http;
};

static void state_path(const struct promoter *p, struct buf *out)
{
	buf_clear(out);
	buf_printf(out, "%s/promotions.json", p->opt.cfg->state_dir);
}

static void state_load(struct promoter *p)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct err e = ERR_INIT;

	json_decref(p->state);
	p->state = NULL;
	if (p->opt.cfg->state_dir) {
		state_path(p, &path);
		if (file_read(&text, path.ptr, 1 << 20, &e) == 0)
			p->state = json_loadb(text.ptr, text.len, 0, NULL);
	}
	if (!json_is_object(p->state)) {
		json_decref(p->state);
		p->state = json_object();
	}
	buf_release(&path);
	buf_release(&text);
}

static void state_save(struct promoter *p)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;

	if (!p->opt.cfg->state_dir)
		return;
	state_path(p, &path);
	buf_printf(&tmp, "%s.tmp", path.ptr);
	if (json_dump_file(p->state, tmp.ptr,
			   JSON_INDENT(2) | JSON_SORT_KEYS) == 0 &&
	    rename(tmp.ptr, path.ptr) < 0)
		log_msg(LOG_WARN, NULL, NULL, "promotion: %s: %s", path.ptr,
			strerror(errno));
	buf_release(&path);
	buf_release(&tmp);
}

static void state_set(struct promoter *p, const char *group, long version,
		      const char *branch, const char *commit,
		      const char *request, const char *url)
{
	json_object_set_new(p->state, group,
			    json_pack("{s:I, s:s, s:s, s:s, s:s}", "version",
				      (json_int_t)version, "branch",
				      branch ? branch : "", "commit",
				      commit ? commit : "", "request", request,
				      "url", url ? url : ""));
	state_save(p);
}

void promote_declare_metrics(struct metrics *m)
{
	metrics_declare(m, "sagesync_promotions_total", METRICS_COUNTER,
			"Model package versions proposed to Git, by group and "
			"result (proposed, committed, exists, failed).");
}

void promoter_new(struct promoter **out, const struct promote_options *opt)
{
	struct promoter *p = mem_calloc(1, sizeof(*p));
	struct err e = ERR_INIT;

	p->opt = *opt;
	if (http_client_new(&p->http, opt->cfg->source->ca_file, &e) < 0)
		log_msg(LOG_WARN, NULL, NULL, "promotion: %s", e.msg);
	state_load(p);
	*out = p;
}

void promoter_free(struct promoter *p)
{
	if (!p)
		return;
	json_decref(p->state);
	http_client_free(p->http);
	free(p);
}

static void count(struct promoter *p, const char *group, const char *result)
{
	const char *labels[] = { "group", group, "result", result, NULL };

	if (p->opt.m)
		metrics_add(p->opt.m, "sagesync_promotions_total", labels, 1);
}

/* ---- the pull (merge) request ------------------------------------- */

/*
 * Opens the request for `branch` into `base`: 0 opened (its address in
 * `url`), 1 one exists already, <0 refused or unreachable.
 */
static int open_request(struct promoter *p, const char *branch,
			const char *base, const char *title, const char *body,
			struct buf *url, struct err *e)
{
	const struct config_pull_request *pr =
		p->opt.cfg->promotion->pull_request;
	bool gh = pr->provider != CONFIG_PROVIDER_GITLAB;
	struct http_response r = HTTP_RESPONSE_INIT;
	struct http_request req = { 0 };
	struct buf where = BUF_INIT, repo = BUF_INIT, auth = BUF_INIT;
	const char *headers[4] = { "Content-Type: application/json", NULL };
	char *token = source_secret(pr->token_file, "promotion.pullRequest");
	char *json = NULL;
	json_t *o, *ans;
	int rc;

	if (!token)
		return err_set(e, ERR_IO,
			       "promotion.pullRequest.tokenFile '%s' cannot be "
			       "read",
			       pr->token_file);
	if (!p->http) {
		free(token);
		return err_set(e, ERR_IO, "no HTTP client");
	}
	if (pr->repository)
		buf_puts(&repo, pr->repository);
	else
		source_repository_path(p->opt.cfg->source->url, &repo);
	if (!repo.len) {
		free(token);
		buf_release(&repo);
		return err_set(e, ERR_INVALID,
			       "the repository is not known from source.url: "
			       "set promotion.pullRequest.repository");
	}
	if (gh) {
		buf_printf(&where, "%s/repos/%s/pulls",
			   pr->api_url ? pr->api_url : "https://api.github.com",
			   repo.ptr);
		o = json_pack("{s:s, s:s, s:s, s:s}", "title", title, "head",
			      branch, "base", base, "body", body);
		buf_printf(&auth, "Authorization: Bearer %s", token);
		headers[2] = "Accept: application/vnd.github+json";
	} else {
		buf_printf(&where, "%s/projects/",
			   pr->api_url ? pr->api_url :
					 "https://gitlab.com/api/v4");
		sigv4_uri_encode(&where, repo.ptr, repo.len, false);
		buf_puts(&where, "/merge_requests");
		o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "title", title,
			      "source_branch", branch, "target_branch", base,
			      "description", body, "remove_source_branch", 1);
		buf_printf(&auth, "PRIVATE-TOKEN: %s", token);
	}
	headers[1] = auth.ptr;
	json = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	req.method = "POST";
	req.url = where.ptr;
	req.headers = headers;
	req.body = json;
	req.body_len = strlen(json);
	req.timeout_ms = 15000;
	rc = http_client_do(p->http, &r, &req, e);
	if (rc == 0 && r.status >= 200 && r.status < 300) {
		ans = json_loadb(r.body.ptr, r.body.len, 0, NULL);
		buf_clear(url);
		buf_puts(url,
			 json_string_value(json_object_get(
				 ans, gh ? "html_url" : "web_url")) ?
				 json_string_value(json_object_get(
					 ans, gh ? "html_url" : "web_url")) :
				 "");
		json_decref(ans);
	} else if (rc == 0 && (r.status == 409 ||
			       (r.status == 422 && r.body.ptr &&
				strstr(r.body.ptr, "already exists")))) {
		rc = 1;
	} else if (rc == 0) {
		/* the host and status only: the URL path names no secret,
		 * but the answer may echo the request */
		rc = err_set(
			e, ERR_IO, "%s %s: HTTP %ld", gh ? "GitHub" : "GitLab",
			gh ? "create pull request" : "create merge request",
			r.status);
	}
	http_response_release(&r);
	buf_release(&where);
	buf_release(&repo);
	buf_release(&auth);
	free(json);
	free(token);
	return rc;
}

/* ---- one group ---------------------------------------------------- */

/* the manifests of `commit` under the promotion's path, edited */
static int edit_commit(struct promoter *p, const char *repo, const char *commit,
		       const char *group, const struct version *v,
		       struct promote_files *files, struct err *e)
{
	const struct config_promotion *pr = p->opt.cfg->promotion;
	const char *path = pr->path ? pr->path : p->opt.cfg->source->path;
	struct buf tmp = BUF_INIT;
	char got[41];
	size_t i;
	int rc;

	if ((rc = file_temp_dir(&tmp, p->opt.cfg->state_dir, "promote", e)) < 0)
		return rc;
	rc = gitsrc_export(repo, commit, path, tmp.ptr, got, e);
	if (rc == 0)
		rc = promote_edit(tmp.ptr, group, v->number, NULL, files, e);
	file_remove_tree(tmp.ptr);
	buf_release(&tmp);
	/* paths in the repository */
	for (i = 0; rc > 0 && path && *path && i < files->n; i++) {
		struct buf full = BUF_INIT;

		buf_printf(&full, "%s/%s", path, files->paths[i]);
		free(files->paths[i]);
		files->paths[i] = buf_detach(&full);
	}
	return rc;
}

static void request_for(struct promoter *p, const char *repo, const char *group,
			long number, const char *base, const char *base_commit,
			const char *branch, const char *commit,
			const char *title)
{
	struct buf body = BUF_INIT, url = BUF_INIT;
	struct err e = ERR_INIT;
	int rc;

	if (p->opt.plan)
		p->opt.plan(p->opt.payload, repo, base_commit, commit, &body);
	buf_printf(&body,
		   "\n\n---\nProposed by sagesync (`%s`): version %ld of the "
		   "model package group `%s` was registered. Merging deploys "
		   "it; closing declines it (it is not proposed again).\n",
		   p->opt.cfg->name, number, group);
	rc = open_request(p, branch, base, title, body.ptr, &url, &e);
	if (rc < 0) {
		count(p, group, "failed");
		log_msg(LOG_WARN, commit, NULL,
			"promotion of %s version %ld: the branch %s is pushed "
			"but the request is not opened: %s; retried at the "
			"next poll",
			group, number, branch, e.msg);
	} else {
		state_set(p, group, number, branch, commit, "opened", url.ptr);
		count(p, group, "proposed");
		log_msg(LOG_INFO, commit, NULL,
			"promotion of %s version %ld proposed: %s %s", group,
			number, branch,
			rc == 1 ? "(the request existed already)" : url.ptr);
	}
	buf_release(&body);
	buf_release(&url);
}

static int poll_group(struct promoter *p, const char *repo, const char *group)
{
	const struct config *cfg = p->opt.cfg;
	const struct config_promotion *pr = cfg->promotion;
	bool commit_mode = pr->mode == CONFIG_PROMOTION_COMMIT;
	const char *base = pr->branch ? pr->branch : cfg->source->branch;
	json_t *st = json_object_get(p->state, group);
	long had = (long)json_integer_value(json_object_get(st, "version"));
	const char *request = json_string_value(json_object_get(st, "request"));
	struct promote_files files;
	struct gitsrc_file *gf = NULL;
	struct buf branch = BUF_INIT, ref = BUF_INIT, msg = BUF_INIT,
		   title = BUF_INIT;
	struct err e = ERR_INIT;
	struct version v;
	char head[41], id[41];
	size_t i;
	int rc, pushed = 0;

	memset(&files, 0, sizeof(files));
	if ((rc = newest_version(p->opt.aws, group, &v, &e)) <= 0) {
		if (rc < 0)
			log_msg(LOG_WARN, NULL, NULL,
				"promotion: model package group '%s': %s",
				group, e.msg);
		return 0;
	}
	buf_printf(&title, "Promote %s version %ld", group, v.number);
	if (commit_mode)
		buf_puts(&branch, base);
	else
		buf_printf(&branch, "sagesync/promote-%s-v%ld", group,
			   v.number);
	/* pushed, but the request failed: only the request again */
	if (had == v.number && request && !strcmp(request, "pending")) {
		/* a copy: the request's outcome replaces the state's entry */
		snprintf(id, sizeof(id), "%s",
			 json_string_value(json_object_get(st, "commit")) ?
				 json_string_value(
					 json_object_get(st, "commit")) :
				 "");
		if (gitsrc_resolve(repo, base, NULL, NULL, head, &e) == 0)
			request_for(p, repo, group, v.number, base, head,
				    branch.ptr, id, title.ptr);
		else
			log_msg(LOG_WARN, NULL, NULL,
				"promotion: branch '%s': %s", base, e.msg);
		goto out;
	}
	if (had >= v.number)
		goto out; /* proposed, or in Git, already */
	buf_printf(&ref, "refs/heads/%s", branch.ptr);
	if (!commit_mode && gitsrc_ref_exists(repo, ref.ptr, &e) == 1) {
		/* pushed before (another replica, or a lost state) */
		state_set(p, group, v.number, branch.ptr, "", "exists", NULL);
		count(p, group, "exists");
		log_msg(LOG_INFO, NULL, NULL,
			"promotion of %s version %ld: branch %s exists "
			"already; not proposed again",
			group, v.number, branch.ptr);
		goto out;
	}
	if (gitsrc_resolve(repo, base, NULL, NULL, head, &e) < 0) {
		log_msg(LOG_WARN, NULL, NULL, "promotion: branch '%s': %s",
			base, e.msg);
		goto out;
	}
	/* the change is built on the branch's content: with signatures on,
	 * only content the reconcile would trust is read */
	if (cfg->source->verify) {
		struct buf who = BUF_INIT;

		rc = source_verify(repo, cfg, head, &who, &e);
		buf_release(&who);
		if (rc < 0) {
			count(p, group, "failed");
			log_msg(LOG_WARN, head, NULL,
				"promotion of %s version %ld: the head of '%s' "
				"is not trusted: %s; nothing is read or "
				"proposed",
				group, v.number, base, e.msg);
			goto out;
		}
	}
	rc = edit_commit(p, repo, head, group, &v, &files, &e);
	if (rc < 0) {
		count(p, group, "failed");
		log_msg(LOG_WARN, head, NULL, "promotion of %s version %ld: %s",
			group, v.number, e.msg);
		goto out;
	}
	if (rc == 0) {
		/* Git has it, or a newer one: nothing to propose */
		state_set(p, group, v.number, "", head, "in-git", NULL);
		goto out;
	}
	gf = mem_alloc((files.n + 1) * sizeof(*gf));
	for (i = 0; i < files.n; i++)
		gf[i] = (struct gitsrc_file){ files.paths[i], files.texts[i],
					      strlen(files.texts[i]) };
	buf_printf(&msg,
		   "Promote %s version %ld (from version %ld)\n\n"
		   "Model package: %s\n"
		   "ModelPackage manifest: %s, approval Approved\n\n"
		   "Proposed by sagesync (%s) from the SageMaker Model "
		   "Registry.\n",
		   group, v.number, files.from, v.arn, files.package,
		   cfg->name);
	if (gitsrc_commit_files(repo, branch.ptr, head, !commit_mode, gf,
				files.n, msg.ptr, id, &e) < 0 ||
	    source_push(repo, cfg, ref.ptr, &e) < 0) {
		count(p, group, "failed");
		log_msg(LOG_WARN, head, NULL,
			"promotion of %s version %ld: %s; tried again at the "
			"next poll",
			group, v.number, e.msg);
		goto out;
	}
	pushed = 1;
	if (commit_mode) {
		state_set(p, group, v.number, branch.ptr, id, "committed",
			  NULL);
		count(p, group, "committed");
		log_msg(LOG_INFO, id, NULL,
			"promotion of %s version %ld committed to %s", group,
			v.number, branch.ptr);
		goto out;
	}
	state_set(p, group, v.number, branch.ptr, id, "pending", NULL);
	request_for(p, repo, group, v.number, base, head, branch.ptr, id,
		    title.ptr);
out:
	free(gf);
	promote_files_release(&files);
	buf_release(&branch);
	buf_release(&ref);
	buf_release(&msg);
	buf_release(&title);
	return pushed;
}

int promoter_poll(struct promoter *p, const char *repo)
{
	const struct config_promotion *pr = p->opt.cfg->promotion;
	size_t i;
	int pushed = 0;

	if (!pr)
		return 0;
	if (!pr->branch && !p->opt.cfg->source->branch) {
		log_msg(LOG_WARN, NULL, NULL,
			"promotion: no branch to propose to: set "
			"promotion.branch or source.branch");
		return 0;
	}
	for (i = 0; i < pr->groups.n; i++)
		pushed += poll_group(p, repo, pr->groups.items[i]);
	return pushed;
}
