/*
 * The controller's source: the Git repository (local, or the mirror of a
 * remote in the state directory) or plain directory a config points at,
 * the revision it follows, and the deployment records kept beside it as
 * Git notes (records.h): written, pushed, and read back for the last
 * good revision and the failed ones.
 */
#include "source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "mem.h"

/* ---- the source ---------------------------------------------------------- */

/* a secret file's content, without the trailing newline; NULL if none */
char *source_secret(const char *path, const char *what)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (!path)
		return NULL;
	if (file_read(&b, path, 4096, &e) < 0) {
		log_msg(LOG_ERROR, NULL, NULL, "%s: %s", what, e.msg);
		buf_release(&b);
		return NULL;
	}
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
		b.ptr[--b.len] = '\0';
	return buf_detach(&b);
}

/* where the mirror of a remote source lives */
static int mirror_path(struct buf *out, const struct config *cfg, struct err *e)
{
	if (!cfg->state_dir)
		return err_set(e, ERR_INVALID,
			       "%s: a remote source (%s) needs 'stateDir', "
			       "where its clone is kept",
			       cfg->file, cfg->source->url);
	buf_clear(out);
	buf_printf(out, "%s/source.git", cfg->state_dir);
	return 0;
}

/* where the deployment records are kept */
const char *source_notes_ref(const struct config *cfg)
{
	return cfg->history && cfg->history->notes_ref ?
		       cfg->history->notes_ref :
		       "refs/notes/sagesync";
}

static bool push_records(const struct config *cfg)
{
	return gitsrc_is_url(cfg->source->url) &&
	       (!cfg->history || !cfg->history->push.set ||
		cfg->history->push.v);
}

/* How to reach the source's remote; the token is the caller's to free. */
static int remote_of(const struct config *cfg, struct gitsrc_remote *r,
		     char **token, struct err *e)
{
	const struct config_auth *a = cfg->source->auth;

	memset(r, 0, sizeof(*r));
	*token = NULL;
	r->url = cfg->source->url;
	r->ca_file = cfg->source->ca_file;
	r->notes_ref = source_notes_ref(cfg);
	if (!a)
		return 0;
	r->username = a->username;
	r->ssh_key_file = a->ssh_key_file;
	r->known_hosts_file = a->known_hosts_file;
	if (a->token_file &&
	    !(*token = source_secret(a->token_file, "source.auth")))
		return err_set(e, ERR_IO,
			       "source.auth.tokenFile '%s' cannot be read",
			       a->token_file);
	if (a->token_env) {
		const char *v = getenv(a->token_env);

		if (!v)
			return err_set(e, ERR_INVALID,
				       "source.auth.tokenEnv: the environment "
				       "variable %s is not set",
				       a->token_env);
		*token = mem_strdup(v);
	}
	r->token = *token;
	return 0;
}

/* Clones or fetches a remote source into its mirror, records merged. */
int source_fetch(const struct config *cfg, struct err *e)
{
	struct gitsrc_remote r;
	struct buf dir = BUF_INIT;
	char *token = NULL;
	int rc;

	if ((rc = mirror_path(&dir, cfg, e)) == 0 &&
	    (rc = remote_of(cfg, &r, &token, e)) == 0 &&
	    (rc = gitsrc_fetch(&r, dir.ptr, e)) == 0)
		rc = gitsrc_notes_merge(dir.ptr, source_notes_ref(cfg),
					GITSRC_THEIR_NOTES, records_union, e);
	free(token);
	buf_release(&dir);
	return rc;
}

/*
 * The repository the source is read from: a local repository, or the
 * mirror of a remote one (1, its path in `repo`); or a plain directory
 * (0, its path in `repo`).
 */
int source_repo(struct buf *repo, const struct config *cfg, struct err *e)
{
	const char *url = cfg->source->url;
	int rc;

	buf_clear(repo);
	if (gitsrc_is_url(url))
		return mirror_path(repo, cfg, e) < 0 ? -1 : 1;
	if ((rc = gitsrc_is_repository(url, e)) < 0)
		return -1;
	buf_puts(repo, url);
	if (!rc && cfg->source->path)
		buf_printf(repo, "/%s", cfg->source->path);
	return rc;
}

/* The commit `rev` names, or the one the config follows. */
int source_resolve(const char *repo, const struct config *cfg, const char *rev,
		   char commit[41], struct err *e)
{
	const struct config_source *s = cfg->source;

	if (rev)
		return gitsrc_resolve(repo, NULL, NULL, rev, commit, e);
	return gitsrc_resolve(repo, s->branch, s->tag, s->commit, commit, e);
}

void source_repository_path(const char *url, struct buf *out)
{
	const char *p, *host;
	size_t n;

	host = strstr(url, "://");
	host = host ? host + 3 : url;
	p = strstr(url, "://") ? strchr(host, '/') : strchr(host, ':');
	if (!p)
		return;
	p++;
	n = strlen(p);
	if (n > 4 && !strcmp(p + n - 4, ".git"))
		n -= 4;
	buf_put(out, p, n);
}

/* the last revision applied, kept in the state directory; "" if none */
void source_applied_get(const struct config *cfg, char out[41])
{
	struct buf path = BUF_INIT, b = BUF_INIT;
	struct err e = ERR_INIT;

	out[0] = '\0';
	if (!cfg->state_dir)
		return;
	buf_printf(&path, "%s/applied-revision", cfg->state_dir);
	if (file_read(&b, path.ptr, 128, &e) == 0 && b.len >= 40 &&
	    strspn(b.ptr, "0123456789abcdef") >= 40)
		snprintf(out, 41, "%.40s", b.ptr);
	buf_release(&path);
	buf_release(&b);
}

void source_applied_set(const struct config *cfg, const char *commit)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	FILE *fp;

	if (!cfg->state_dir || !commit || !commit[0])
		return;
	buf_printf(&path, "%s/applied-revision", cfg->state_dir);
	buf_printf(&tmp, "%s.tmp", path.ptr);
	if ((fp = fopen(tmp.ptr, "w"))) {
		fprintf(fp, "%s\n", commit);
		if (fclose(fp) == 0)
			rename(tmp.ptr, path.ptr);
	}
	buf_release(&path);
	buf_release(&tmp);
}

/* ---- the deployment records (records.h) ---------------------------------- */

/* this controller's newest good and newest failed records */
struct newest {
	const char *name; /* the controller's */
	char good[41], good_finished[32];
	char failed[41], failed_finished[32];
	struct buf failed_reason;
};

/*
 * Whether a record is this controller's: its `controller` is NAME@HOST,
 * and every replica of one controller has its NAME. Other controllers
 * (another environment, sharing the notes ref) deploy other things; their
 * good and failed revisions are not ours. A record naming no controller
 * counts for all.
 */
static bool ours(const struct record *r, const char *name)
{
	size_t n = strlen(name);

	return !r->controller || !*r->controller ||
	       (!strncmp(r->controller, name, n) &&
		(r->controller[n] == '@' || !r->controller[n]));
}

static int scan_newest(const char *commit, const char *text, void *payload)
{
	struct newest *w = payload;
	struct record *r;
	size_t n, i;

	(void)commit;
	records_parse(text, &r, &n);
	for (i = 0; i < n; i++) {
		if (!r[i].revision[0] || !ours(&r[i], w->name))
			continue;
		if (record_good(&r[i]) &&
		    strcmp(r[i].finished, w->good_finished) >= 0) {
			snprintf(w->good, sizeof(w->good), "%s", r[i].revision);
			snprintf(w->good_finished, sizeof(w->good_finished),
				 "%s", r[i].finished);
		} else if (record_failed(&r[i]) &&
			   strcmp(r[i].finished, w->failed_finished) >= 0) {
			snprintf(w->failed, sizeof(w->failed), "%s",
				 r[i].revision);
			snprintf(w->failed_finished, sizeof(w->failed_finished),
				 "%s", r[i].finished);
			buf_clear(&w->failed_reason);
			buf_puts(&w->failed_reason,
				 r[i].reason ? r[i].reason : "");
		}
	}
	records_free(r, n);
	return 0;
}

/*
 * The last good revision: from the records in Git when there are any (a
 * new or restarted controller knows it), else the state directory's.
 */
void source_last_good(const char *repo, const struct config *cfg, char out[41])
{
	struct newest w = { .name = cfg->name };
	struct err e = ERR_INIT;

	if (repo &&
	    gitsrc_notes_each(repo, source_notes_ref(cfg), scan_newest, &w,
			      &e) == 0 &&
	    w.good[0])
		snprintf(out, 41, "%s", w.good);
	else
		source_applied_get(cfg, out);
	buf_release(&w.failed_reason);
}

/* Whether the last record of `commit` is a failed deploy, and why. */
bool source_failed_before(const char *repo, const struct config *cfg,
			  const char *commit, struct buf *reason)
{
	struct buf text = BUF_INIT;
	struct err e = ERR_INIT;
	struct record *r = NULL;
	size_t n = 0, i = 0;
	bool failed = false;

	if (gitsrc_note_read(repo, source_notes_ref(cfg), commit, &text, &e) ==
		    0 &&
	    text.len) {
		records_parse(text.ptr, &r, &n);
		/* this controller's last word on the commit */
		for (i = n; i > 0 && !ours(&r[i - 1], cfg->name); i--)
			;
		if (i && record_failed(&r[i - 1])) {
			failed = true;
			buf_clear(reason);
			buf_puts(reason, r[i - 1].reason);
		}
	}
	records_free(r, n);
	buf_release(&text);
	if (!failed && !i) {
		/* a newer commit with the failed one's content (under
		 * source.path) would fail the same way: a commit for another
		 * directory does not deploy it again */
		struct newest w = { .name = cfg->name };

		if (gitsrc_notes_each(repo, source_notes_ref(cfg), scan_newest,
				      &w, &e) == 0 &&
		    w.failed[0] &&
		    strcmp(w.failed_finished, w.good_finished) > 0 &&
		    gitsrc_same_content(repo, cfg->source->path, commit,
					w.failed, &e) == 1) {
			failed = true;
			buf_clear(reason);
			buf_printf(reason, "its content is that of %.7s: %s",
				   w.failed, buf_cstr(&w.failed_reason));
		}
		buf_release(&w.failed_reason);
	}
	return failed;
}

/* the controller as records name it: NAME@HOST */
static void controller_id(struct buf *out, const struct config *cfg)
{
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	buf_printf(out, "%s@%s", cfg->name ? cfg->name : "sagesync",
		   host[0] ? host : "unknown");
}

/*
 * Adds a record to the note of its revision and pushes the records to
 * the remote: a refused push (another controller wrote too) is fetched,
 * merged and tried again; a push that still fails is logged, and the
 * record goes with the next one.
 */
void source_record(const char *repo, const struct config *cfg,
		   struct record *rec)
{
	struct buf text = BUF_INIT, who = BUF_INIT;
	struct err e = ERR_INIT;
	int i;

	controller_id(&who, cfg);
	rec->controller = who.ptr;
	record_now(rec->finished);
	if (gitsrc_note_read(repo, source_notes_ref(cfg), rec->revision, &text,
			     &e) < 0 ||
	    (record_format(&text, rec),
	     gitsrc_note_write(repo, source_notes_ref(cfg), rec->revision,
			       text.ptr, &e) < 0)) {
		log_msg(LOG_ERROR, rec->revision, NULL,
			"the deployment record cannot be written: %s", e.msg);
		goto out;
	}
	log_msg(LOG_INFO, rec->revision, NULL, "recorded: %s%s%s", rec->result,
		rec->reason && *rec->reason ? ": " : "",
		rec->reason ? rec->reason : "");
	for (i = 0; push_records(cfg) && i < 5; i++) {
		int rc;

		err_clear(&e);
		rc = source_push(repo, cfg, source_notes_ref(cfg), &e);
		if (rc == 0)
			break;
		/* only a refusal (a race with another writer) is retried */
		if (e.code != ERR_LIMIT || i == 4) {
			log_msg(LOG_WARN, rec->revision, NULL,
				"the records are not pushed: %s; they are kept "
				"and go with the next push",
				e.msg);
			break;
		}
		log_msg(LOG_INFO, rec->revision, NULL,
			"pushing the records: %s; fetching, merging and "
			"trying again",
			e.msg);
		{
			err_clear(&e);
			if (source_fetch(cfg, &e) < 0)
				log_msg(LOG_WARN, NULL, NULL, "fetch: %s",
					e.msg);
		}
	}
out:
	rec->controller = NULL;
	buf_release(&text);
	buf_release(&who);
}

int source_push(const char *repo, const struct config *cfg, const char *ref,
		struct err *e)
{
	struct gitsrc_remote r;
	char *token = NULL;
	int rc;

	if ((rc = remote_of(cfg, &r, &token, e)) == 0)
		rc = gitsrc_push(&r, repo, ref, e);
	free(token);
	return rc;
}

int source_revert(const char *repo, const struct config *cfg, const char *head,
		  const char *good, const char *reason, char out[41],
		  struct err *e)
{
	const char *branch = cfg->source->branch;
	const char *q = reason ? strstr(reason, "endpoint '") : NULL;
	struct buf msg = BUF_INIT, ref = BUF_INIT;
	int rc;

	if (!branch || !gitsrc_is_url(cfg->source->url))
		return err_set(e, ERR_INVALID,
			       "reconcile.rollback: revert-commit needs a "
			       "remote source that follows a branch");
	buf_printf(&msg,
		   "Revert to %.7s: the deploy of %.7s failed\n\n"
		   "sagesync (%s) rolled back commit %s.\n\n",
		   good, head, cfg->name ? cfg->name : "sagesync", head);
	if (q) {
		const char *name = q + 10, *end = strchr(name, '\'');

		if (end)
			buf_printf(&msg, "Resource: Endpoint/%.*s\n",
				   (int)(end - name), name);
	}
	buf_printf(&msg,
		   "Reason: %s\n\n"
		   "This commit puts back the tree of %s, the last good "
		   "revision,\nso that Git equals what runs. Fix the change "
		   "and commit it again.\n",
		   reason ? reason : "(none)", good);
	buf_printf(&ref, "refs/heads/%s", branch);
	if ((rc = gitsrc_revert_commit(repo, branch, cfg->source->path, head,
				       good, msg.ptr, out, e)) == 0)
		rc = source_push(repo, cfg, ref.ptr, e);
	buf_release(&msg);
	buf_release(&ref);
	return rc;
}
