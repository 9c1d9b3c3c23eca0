/*
 * Starting and stopping the local AWS (tests/aws/start-aws) from a C
 * test, and its /_sim/ controls. Header-only, like helpers.h. Each test
 * process starts its own server on a free loopback port and stops it.
 */
#ifndef SAGESYNC_TESTS_AWSIM_H
#define SAGESYNC_TESTS_AWSIM_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "http.h"

struct awsim {
	pid_t pid;
	char url[256];
};

/*
 * Starts the server with the extra environment `env` ("NAME=value"
 * strings, NULL-terminated, may be NULL). Aborts the test process if it
 * does not come up: nothing else in the test can work without it.
 */
static inline void awsim_start(struct awsim *s, const char *const *env)
{
	char line[256];
	size_t n = 0;
	int fds[2];

	if (pipe(fds) < 0)
		abort();
	s->pid = fork();
	if (s->pid < 0)
		abort();
	if (s->pid == 0) {
		static const char *const client_env[] = {
			"AWS_REGION",
			"AWS_DEFAULT_REGION",
			"AWS_PROFILE",
			"AWS_ACCESS_KEY_ID",
			"AWS_SECRET_ACCESS_KEY",
			"AWS_SESSION_TOKEN",
			"AWS_ENDPOINT_URL",
			"AWS_CONFIG_FILE",
			"AWS_SHARED_CREDENTIALS_FILE",
		};
		int null = open("/dev/null", O_WRONLY);
		size_t i;

		/* the server is not a client: the test's AWS settings are not
		 * its own */
		for (i = 0; i < sizeof(client_env) / sizeof(client_env[0]); i++)
			unsetenv(client_env[i]);
		for (; env && *env; env++)
			putenv((char *)*env);
		dup2(fds[1], 1);
		if (!getenv("SIM_VERBOSE"))
			dup2(null, 2);
		close(fds[0]);
		execl(AWSIM, AWSIM, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (n < sizeof(line) - 1) {
		struct pollfd p = { fds[0], POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, 30000) <= 0)
			break;
		r = read(fds[0], line + n, 1);
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	close(fds[0]);
	if (strncmp(line, "AWS_ENDPOINT_URL=", 17)) {
		fprintf(stderr, "start-aws did not start (got '%s')\n", line);
		kill(s->pid, SIGKILL);
		abort();
	}
	snprintf(s->url, sizeof(s->url), "%s", line + 17);
}

static inline void awsim_stop(struct awsim *s)
{
	int status;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

/* A /_sim/ control: METHOD PATH with a JSON body; the answer into out. */
static inline int awsim_control(const struct awsim *s, const char *method,
				const char *path, const char *json,
				struct buf *out)
{
	struct http_response r = HTTP_RESPONSE_INIT;
	struct http_client *h = NULL;
	struct err e = ERR_INIT;
	struct buf url = BUF_INIT;
	struct http_request req = {
		method, NULL, NULL, json, json ? strlen(json) : 0, 10000, 0, 0
	};
	int rc;

	buf_printf(&url, "%s%s", s->url, path);
	req.url = url.ptr;
	http_client_new(&h, NULL, &e);
	rc = http_client_do(h, &r, &req, &e);
	if (rc == 0 && out) {
		buf_clear(out);
		buf_put(out, buf_cstr(&r.body), r.body.len);
	}
	if (rc == 0 && r.status != 200)
		rc = -1;
	http_response_release(&r);
	http_client_free(h);
	buf_release(&url);
	return rc;
}

/* How many calls of "service.Operation" since the last reset. */
static inline long awsim_calls(const struct awsim *s, const char *key)
{
	struct buf out = BUF_INIT, needle = BUF_INIT;
	const char *p;
	long n = 0;

	awsim_control(s, "GET", "/_sim/calls", NULL, &out);
	buf_printf(&needle, "\"%s\": ", key);
	p = strstr(buf_cstr(&out), needle.ptr);
	if (p)
		n = strtol(p + needle.len, NULL, 10);
	buf_release(&out);
	buf_release(&needle);
	return n;
}

#endif
