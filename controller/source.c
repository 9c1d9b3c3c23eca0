/*
 * The controller's source: the Git repository (local, or the mirror of a
 * remote in the state directory) or plain directory a config points at,
 * the revision it follows, and the deployment records kept beside it as
 * Git notes (records.h): written, pushed, and read back for the last
 * good revision and the failed ones.
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "mem.h"
#include "sigv4.h"

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

/*
 * The key of a controller without history.keyFile: made once, at random,
 * in its state directory, readable by its user only. Replicas each make
 * their own, so they do not trust each other's records: for several
 * replicas, history.keyFile names a key they share.
 */
static char *state_key(const struct config *cfg)
{
	struct buf path = BUF_INIT, b = BUF_INIT;
	struct err e = ERR_INIT;
	unsigned char raw[32];
	char hex[65];
	size_t i;
	int fd;

	buf_printf(&path, "%s/records.key", cfg->state_dir);
	if (file_read(&b, path.ptr, 4096, &e) == 0 && b.len >= 64)
		goto out;
	buf_clear(&b);
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		goto out;
	for (i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	OPENSSL_cleanse(raw, sizeof(raw));
	fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0 && write(fd, hex, 64) == 64 && close(fd) == 0) {
		buf_put(&b, hex, 64);
	} else {
		if (fd >= 0)
			close(fd);
		/* another process made it first: read theirs */
		if (file_read(&b, path.ptr, 4096, &e) < 0 || b.len < 64) {
			log_msg(LOG_ERROR, NULL, NULL,
				"the records key '%s' cannot be made: %s",
				path.ptr, e.code ? e.msg : strerror(errno));
			buf_release(&b);
		}
	}
	OPENSSL_cleanse(hex, sizeof(hex));
out:
	buf_release(&path);
	return buf_detach(&b);
}

void source_trust_load(struct source_trust *t, const struct config *cfg)
{
	const char *file = cfg->history ? cfg->history->key_file : NULL;

	memset(t, 0, sizeof(*t));
	t->need = file || (cfg->source && cfg->source->verify);
	if (file)
		t->secret = source_secret(file, "history.keyFile");
	else if (cfg->state_dir)
		t->secret = state_key(cfg);
	if (!t->secret)
		return;
	if (strlen(t->secret) < 32) {
		log_msg(LOG_ERROR, NULL, NULL,
			"history.keyFile '%s': the key is %zu bytes, and at "
			"least 32 are needed (openssl rand -hex 32); no "
			"deployment record is trusted or authenticated",
			file ? file : "", strlen(t->secret));
		source_trust_release(t);
		return;
	}
	t->key.bytes = t->secret;
	t->key.len = strlen(t->secret);
}

void source_trust_release(struct source_trust *t)
{
	if (t->secret)
		OPENSSL_cleanse(t->secret, strlen(t->secret));
	free(t->secret);
	t->secret = NULL;
	t->key.bytes = NULL;
	t->key.len = 0;
}

bool source_trust_counts(const struct source_trust *t, const struct record *r)
{
	return t->need ? r->authentic : true;
}

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

/* this controller's newest good and newest failed records */
struct newest {
	char good[41], good_finished[32];
	char failed[41], failed_finished[32];
	struct buf failed_reason;
	size_t untrusted; /* records naming this controller, not counted */
	size_t too_big; /* notes not read */
};

struct scan {
	const char *name;
	const struct source_trust *t;
	struct newest *w;
};

static int scan_note(const char *commit, const char *text, void *payload)
{
	struct scan *sc = payload;
	struct newest *w = sc->w;
	struct record *r;
	size_t n, i;

	(void)commit;
	if (!text) {
		w->too_big++;
		return 0;
	}
	records_parse(text, &sc->t->key, &r, &n);
	for (i = 0; i < n; i++) {
		if (!r[i].revision[0] || !ours(&r[i], sc->name))
			continue;
		if (!source_trust_counts(sc->t, &r[i])) {
			w->untrusted++;
			continue;
		}
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
 * The scan of every note is done once per notes commit: a reconcile asks
 * for the last good revision and whether the head failed before, and
 * most reconciles find the notes as the last one left them. The cache is
 * keyed by what decides the answer: the repository, the notes ref's
 * commit, the controller's name and the key.
 */
static struct {
	pthread_mutex_t lock;
	char key[4096 + 256 + 41 + 64 + 65 + 8];
	struct newest w;
} cache = { PTHREAD_MUTEX_INITIALIZER, "", { "", "", "", "", BUF_INIT, 0, 0 } };

static void newest_copy(struct newest *to, const struct newest *from)
{
	struct buf reason = to->failed_reason;

	*to = *from;
	to->failed_reason = reason;
	buf_clear(&to->failed_reason);
	buf_puts(&to->failed_reason, buf_cstr(&from->failed_reason));
}

/* this controller's newest counted good and failed records; <0 error */
static int newest_records(const char *repo, const struct config *cfg,
			  const struct source_trust *t, struct newest *out,
			  struct err *e)
{
	struct scan sc = { cfg->name, t, out };
	struct buf key = BUF_INIT;
	char notes[41], digest[65] = "";
	int rc;

	if ((rc = gitsrc_ref_id(repo, source_notes_ref(cfg), notes, e)) < 0)
		return rc;
	if (t->key.len)
		sigv4_sha256_hex(digest, t->key.bytes, t->key.len);
	buf_printf(&key, "%s\n%s\n%s\n%s\n%s\n%d", repo, source_notes_ref(cfg),
		   notes, cfg->name, digest, t->need);
	pthread_mutex_lock(&cache.lock);
	if (rc == 1 && !strcmp(cache.key, key.ptr)) {
		newest_copy(out, &cache.w);
		pthread_mutex_unlock(&cache.lock);
		buf_release(&key);
		return 0;
	}
	pthread_mutex_unlock(&cache.lock);
	if (rc == 1 && (rc = gitsrc_notes_each(repo, source_notes_ref(cfg),
					       scan_note, &sc, e)) < 0) {
		buf_release(&key);
		return rc;
	}
	if (out->too_big)
		log_msg(LOG_WARN, NULL, NULL,
			"%zu notes under %s are over %d bytes and are not "
			"read: no record is that large",
			out->too_big, source_notes_ref(cfg), GITSRC_MAX_NOTE);
	if (out->untrusted)
		log_msg(LOG_WARN, NULL, NULL,
			"%zu deployment records naming '%s' are not "
			"authenticated by its records key (history.keyFile, "
			"else stateDir/records.key) and are ignored: written "
			"before the key, with another key, or by someone "
			"else",
			out->untrusted, cfg->name);
	pthread_mutex_lock(&cache.lock);
	snprintf(cache.key, sizeof(cache.key), "%s", key.ptr);
	newest_copy(&cache.w, out);
	pthread_mutex_unlock(&cache.lock);
	buf_release(&key);
	return 0;
}

/*
 * The last good revision: from the records in Git when there are any (a
 * new or restarted controller knows it), else the state directory's.
 */
void source_last_good(const char *repo, const struct config *cfg, char out[41])
{
	struct newest w;
	struct source_trust t;
	struct err e = ERR_INIT;

	memset(&w, 0, sizeof(w));
	source_trust_load(&t, cfg);
	if (repo && newest_records(repo, cfg, &t, &w, &e) == 0 && w.good[0])
		snprintf(out, 41, "%s", w.good);
	else
		source_applied_get(cfg, out);
	source_trust_release(&t);
	buf_release(&w.failed_reason);
}

/*
 * This controller's last counted word on `commit` (from its note): the
 * record, copied into `out` (release it), or false when there is none.
 */
static bool last_word(const char *repo, const struct config *cfg,
		      const struct source_trust *t, const char *commit,
		      struct record *out)
{
	struct buf text = BUF_INIT;
	struct err e = ERR_INIT;
	struct record *r = NULL;
	size_t n = 0, i;
	bool found = false;

	memset(out, 0, sizeof(*out));
	if (gitsrc_note_read(repo, source_notes_ref(cfg), commit, &text, &e) <
	    0)
		log_msg(LOG_WARN, commit, NULL, "records: %s", e.msg);
	else if (text.len)
		records_parse(text.ptr, &t->key, &r, &n);
	for (i = n; i > 0 && !found; i--) {
		if (!ours(&r[i - 1], cfg->name) ||
		    !source_trust_counts(t, &r[i - 1]))
			continue;
		*out = r[i - 1];
		memset(&r[i - 1], 0, sizeof(r[i - 1]));
		found = true;
	}
	records_free(r, n);
	buf_release(&text);
	return found;
}

/* Whether the last record of `commit` is a failed deploy, and why. */
bool source_failed_before(const char *repo, const struct config *cfg,
			  const char *commit, struct buf *reason)
{
	struct source_trust t;
	struct record last;
	struct err e = ERR_INIT;
	bool failed = false, any;

	source_trust_load(&t, cfg);
	any = last_word(repo, cfg, &t, commit, &last);
	if (any && record_failed(&last)) {
		failed = true;
		buf_clear(reason);
		buf_puts(reason, last.reason);
	}
	if (any)
		record_release(&last);
	if (!any) {
		/* a newer commit with the failed one's content (under
		 * source.path) would fail the same way: a commit for another
		 * directory does not deploy it again */
		struct newest w;

		memset(&w, 0, sizeof(w));
		if (newest_records(repo, cfg, &t, &w, &e) == 0 && w.failed[0] &&
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
	source_trust_release(&t);
	return failed;
}

bool source_was_good(const char *repo, const struct config *cfg,
		     const char *commit)
{
	struct source_trust t;
	struct record last;
	bool good = false;

	source_trust_load(&t, cfg);
	if (last_word(repo, cfg, &t, commit, &last)) {
		good = record_good(&last) || record_revert(&last);
		record_release(&last);
	}
	source_trust_release(&t);
	return good;
}

int source_verify(const char *repo, const struct config *cfg,
		  const char *commit, struct buf *who, struct err *e)
{
	struct source_trust t;
	bool revert = false;
	int rc;

	rc = gitsrc_verify(repo, commit,
			   cfg->source->verify->allowed_signers_file, who, e);
	if (rc == 0)
		return 0;
	/* the one unsigned commit trusted: the revert this controller made,
	 * named by its authenticated record (any later record of it, a
	 * success once deployed, keeps it trusted) */
	source_trust_load(&t, cfg);
	if (t.key.len) {
		struct record *r = NULL;
		struct buf text = BUF_INIT;
		struct err e2 = ERR_INIT;
		size_t n = 0, i;

		if (gitsrc_note_read(repo, source_notes_ref(cfg), commit, &text,
				     &e2) == 0 &&
		    text.len)
			records_parse(text.ptr, &t.key, &r, &n);
		for (i = 0; i < n && !revert; i++)
			revert = record_revert(&r[i]) && r[i].authentic &&
				 ours(&r[i], cfg->name) &&
				 !strcmp(r[i].revision, commit);
		records_free(r, n);
		buf_release(&text);
	}
	source_trust_release(&t);
	if (!revert)
		return rc;
	err_clear(e);
	buf_clear(who);
	buf_printf(who, "this controller (%s): its own revert commit",
		   cfg->name);
	return 0;
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
	struct source_trust t;
	struct err e = ERR_INIT;
	int i;

	controller_id(&who, cfg);
	rec->controller = who.ptr;
	record_now(rec->finished);
	source_trust_load(&t, cfg);
	if (gitsrc_note_read(repo, source_notes_ref(cfg), rec->revision, &text,
			     &e) < 0 ||
	    (record_format(&text, rec, &t.key),
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
	source_trust_release(&t);
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
				       good, msg.ptr, out, e)) == 0) {
		/* recorded before the branch moves: the commit is unsigned,
		 * and with source.verify only this authenticated record
		 * makes it trusted, even after a crash right after the push */
		struct record rec;

		memset(&rec, 0, sizeof(rec));
		snprintf(rec.result, sizeof(rec.result), "reverted");
		snprintf(rec.revision, sizeof(rec.revision), "%s", out);
		snprintf(rec.last_good, sizeof(rec.last_good), "%s", good);
		record_now(rec.started);
		rec.reason = mem_strdup(reason ? reason : "");
		source_record(repo, cfg, &rec);
		free(rec.reason);
		rc = source_push(repo, cfg, ref.ptr, e);
	}
	buf_release(&msg);
	buf_release(&ref);
	return rc;
}
