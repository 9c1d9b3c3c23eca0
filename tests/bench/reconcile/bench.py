#!/usr/bin/env python3
"""Benchmark: the controller against the local AWS (tests/aws/start-aws,
SIM_STATE_SECONDS=0), with N endpoints, each with a Model, variant
autoscaling and an Alarm. For each N (100 and 1,000 by default):

  deploy      wall time of the initial `sagesync apply --once`;
  no-op       AWS calls and controller CPU of a `sagesync plan` when
              nothing changed (the observation cache warm);
  bump        AWS calls of the apply of one model bump, per endpoint;
  RSS         the daemon's peak RSS after a few reconciles (N = 1,000);
  webhook     a signed push to the daemon -> the change applied (the log
              line of the applied revision), median and p99 of 50 pushes;

and once:

  baseline    the same no-op check of 100 endpoints written as a shell
              loop of `aws sagemaker describe-endpoint` and
              `describe-endpoint-config` (what a team scripts without
              sagesync), run side by side: the ratio of wall times;
  fetch       one new commit fetched into a 10,000-commit repository and
              into a 10-commit one (the daemon's own fetch histogram);
  validate    tests/bench/validate (10,000 manifests).

Prints a table and writes the figures as JSON.

usage: bench.py SAGESYNC [--sizes 100,1000] [--pushes 50] [--json FILE]
"""
import argparse
import calendar
import hashlib
import hmac
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

STACK = """\
apiVersion: sagesync/v1
kind: Model
metadata:
  name: {p}svc{i}-model
spec:
  executionRoleArn: arn:aws:iam::123456789012:role/sagemaker-execution
  containers:
    - image: 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:{tag}
      modelDataUrl: s3://bench-artifacts/model.tar.gz
---
apiVersion: sagesync/v1
kind: Endpoint
metadata:
  name: {p}svc{i}
spec:
  variants:
    - name: main
      model: {p}svc{i}-model
      instanceType: ml.m5.large
      instanceCount: 1
      autoscaling: {{min: 1, max: 4, targetInvocationsPerInstance: 500}}
  healthAlarms: [{p}svc{i}-5xx]
---
apiVersion: sagesync/v1
kind: Alarm
metadata:
  name: {p}svc{i}-5xx
spec:
  endpoint: {p}svc{i}
  variant: main
  metric: Invocation5XXErrors
  statistic: Sum
  period: 60
  evaluationPeriods: 1
  threshold: {threshold}
  comparison: GreaterThanThreshold
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sim:
    """tests/aws/start-aws, with its endpoint in the environment."""

    def __init__(self, tmp):
        self.out = open(os.path.join(tmp, "sim.out"), "w+")
        self.proc = subprocess.Popen(
            [os.path.join(SRC, "tests", "aws", "start-aws")],
            env=dict(os.environ, SIM_STATE_SECONDS="0"),
            stdout=self.out, stderr=subprocess.DEVNULL)
        for _ in range(300):
            self.out.seek(0)
            m = re.search(r"^AWS_ENDPOINT_URL=(\S+)", self.out.read(), re.M)
            if m:
                self.url = m.group(1)
                os.environ["AWS_ENDPOINT_URL"] = self.url
                return
            time.sleep(0.1)
        raise SystemExit("start-aws did not start")

    def calls(self):
        with urllib.request.urlopen(self.url + "/_sim/calls") as r:
            return json.load(r)["total"]

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(
            self.url + "/_sim/reset", data=b"", method="POST")).read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def git(repo, *args):
    subprocess.run(["git", "-C", repo] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write_repo(repo, n, prefix, tag="1.7-1", threshold=5):
    """N endpoint stacks named PREFIXsvcI (one prefix per size, so the
    sizes' resources never meet)."""
    os.makedirs(repo, exist_ok=True)
    for i in range(n):
        with open(os.path.join(repo, "svc%d.yaml" % i), "w") as f:
            f.write(STACK.format(p=prefix, i=i, tag=tag, threshold=threshold))


def commit(repo, message):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def sagesync(binary, *args, env=None):
    """Runs a command; returns (wall s, child CPU s, AWS calls, output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([binary] + list(args), capture_output=True, text=True,
                       env=env)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    m = re.search(r"aws calls: (\d+)", p.stderr)
    if p.returncode not in (0, 2):
        sys.stderr.write(p.stdout[-2000:] + p.stderr[-2000:])
        raise SystemExit("%s failed (%d)" % (" ".join(args[:1]), p.returncode))
    return wall, cpu, int(m.group(1)) if m else -1, p.stdout + p.stderr


def config(tmp, name, repo, port=None, controller=None):
    """A config file NAME.yaml; the controller's name is `controller`
    (default NAME): the CLI and the daemon of one size share it."""
    path = os.path.join(tmp, name + ".yaml")
    state = os.path.join(tmp, name + "-state")
    os.makedirs(state, exist_ok=True)
    with open(path, "w") as f:
        f.write("name: %s\nstateDir: %s\n" % (controller or name, state))
        f.write('source: {url: "%s", branch: main, interval: 1h}\n' % repo)
        f.write('aws: {region: us-east-1, endpointUrl: "%s"}\n'
                % os.environ["AWS_ENDPOINT_URL"])
        f.write("reconcile: {concurrency: 32, maxPrunePercent: 100}\n")
        if port:
            f.write('server: {listen: "127.0.0.1:%d", githubSecretFile: %s}\n'
                    % (port, os.path.join(tmp, "secret")))
    return path


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port) as r:
        return r.read().decode()


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def wait(pred, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if pred():
                return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


def push(port, after):
    body = json.dumps({"ref": "refs/heads/main", "after": after}).encode()
    sig = "sha256=" + hmac.new(b"bench-secret", body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(
        "http://127.0.0.1:%d/hooks/github" % port, data=body,
        headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": sig,
                 "Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


def size_run(binary, tmp, sim, n, pushes, results):
    repo = os.path.join(tmp, "repo%d" % n)
    git_init = ["git", "init", "-q", "-b", "main", repo]
    subprocess.run(git_init, check=True)
    prefix = "n%d-" % n
    write_repo(repo, n, prefix)
    commit(repo, "%d endpoints" % n)
    cfg = config(tmp, "bench%d" % n, repo)
    env = dict(os.environ, SAGESYNC_POLL_MS="50", SAGESYNC_BAKE_SECONDS="0")
    r = {"endpoints": n}

    wall, cpu, calls, _ = sagesync(binary, "apply", "--once", "--config", cfg,
                                   env=env)
    r["deploy_seconds"] = round(wall, 2)
    r["deploy_calls"] = calls
    sagesync(binary, "plan", "--config", cfg, env=env)  # the cache warm
    wall, cpu, calls, out = sagesync(binary, "plan", "--config", cfg, env=env)
    assert "plan: 0 to create, 0 to update, 0 to delete" in out, out[-500:]
    r["noop_calls"] = calls
    r["noop_calls_target"] = n // 50 + 10
    r["noop_seconds"] = round(wall, 3)
    r["noop_cpu_ms_per_endpoint"] = round(cpu * 1000 / n, 3)

    write_repo(repo, 1, prefix, tag="1.7-2")  # svc0's model bumped
    commit(repo, "bump svc0")
    wall, cpu, calls, _ = sagesync(binary, "apply", "--once", "--config", cfg,
                                   env=env)
    r["bump_calls"] = calls
    r["bump_calls_per_endpoint"] = round(calls / n, 3)

    # the daemon: webhook latency, and peak RSS
    port = free_port()
    dcfg = config(tmp, "daemon%d" % n, repo, port, controller="bench%d" % n)
    log = open(os.path.join(tmp, "daemon%d.log" % n), "w+")
    d = subprocess.Popen([binary, "run", "--config", dcfg], stderr=log,
                         env=env)
    try:
        ok = wait(lambda: urllib.request.urlopen(
            "http://127.0.0.1:%d/readyz" % port).status == 200, 600)
        assert ok, "the daemon never became ready"
        lat, first = [], []
        for k in range(pushes):
            write_repo(repo, 1, prefix, tag="1.7-2", threshold=10 + k)
            commit(repo, "threshold %d" % (10 + k))
            head = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"],
                                  capture_output=True, text=True).stdout.strip()
            log.seek(0, 2)
            start = log.tell()
            t0 = time.time()
            push(port, head)

            def applied():
                log.seek(start)
                text = log.read()
                return '"applied: everything is healthy","revision":"%s"' % head in text

            assert wait(applied, 120), "push %d not applied" % k
            log.seek(start)
            seen = {}
            for line in log.read().splitlines():
                o = json.loads(line)
                msg = o.get("message", "")
                key = ("plan" if msg.startswith("plan:") else
                       "applied" if msg == "applied: everything is healthy"
                       else None)
                if key and key not in seen:
                    t = calendar.timegm(time.strptime(o["time"][:19],
                                                      "%Y-%m-%dT%H:%M:%S"))
                    t += float(o["time"][19:-1] or 0)
                    seen[key] = max(t - t0, 0.0)
            lat.append(seen["applied"])
            first.append(seen["plan"])
        lat.sort()
        first.sort()
        # the plan is logged as the first write starts
        r["webhook_first_write_ms_median"] = round(
            statistics.median(first) * 1000, 1)
        r["webhook_first_write_ms_p99"] = round(
            first[min(len(first) - 1, int(len(first) * 0.99))] * 1000, 1)
        r["webhook_applied_ms_median"] = round(statistics.median(lat) * 1000, 1)
        r["webhook_applied_ms_p99"] = round(
            lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1)
        with open("/proc/%d/status" % d.pid) as f:
            hwm = re.search(r"VmHWM:\s+(\d+) kB", f.read())
        r["daemon_peak_rss_mib"] = round(int(hwm.group(1)) / 1024, 1)
    finally:
        d.terminate()
        d.wait()
    results.append(r)


def baseline(binary, tmp, sim, results):
    """The no-op check of the first 100 endpoints, scripted with the aws
    CLI, beside sagesync's own no-op plan of the same 100."""
    n = 100
    t0 = time.monotonic()
    for i in range(n):
        # the endpoint, then the config it serves: is it the one wanted?
        ep = subprocess.run(["aws", "sagemaker", "describe-endpoint",
                             "--endpoint-name", "n100-svc%d" % i, "--query",
                             "EndpointConfigName", "--output", "text"],
                            check=True, capture_output=True, text=True)
        subprocess.run(["aws", "sagemaker", "describe-endpoint-config",
                        "--endpoint-config-name", ep.stdout.strip()],
                       check=True, stdout=subprocess.DEVNULL)
    shell = time.monotonic() - t0
    cfg = os.path.join(tmp, "bench100.yaml")
    env = dict(os.environ, SAGESYNC_BAKE_SECONDS="0")
    wall, _, calls, _ = sagesync(binary, "plan", "--config", cfg, env=env)
    results["baseline"] = {
        "endpoints": n, "aws_cli_loop_seconds": round(shell, 2),
        "aws_cli_calls": 2 * n, "sagesync_noop_seconds": round(wall, 3),
        "sagesync_calls": calls, "ratio": round(shell / wall, 1)}


def fetch_bench(binary, tmp, results):
    """One new commit fetched into a 10,000-commit and a 10-commit repo."""
    out = {}
    for commits in (10, 10000):
        remote = os.path.join(tmp, "history%d.git" % commits)
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", remote],
                       check=True)
        # fast-import: the history at once
        lines = []
        for k in range(commits):
            data = "manifest revision %d\n" % k
            lines.append("commit refs/heads/main\n"
                         "committer bench <b@example.com> %d +0000\n"
                         "data 5\nbench\n"
                         "M 644 inline notes/%d.txt\ndata %d\n%s\n"
                         % (1700000000 + k, k % 50, len(data), data))
        subprocess.run(["git", "-C", remote, "fast-import", "--quiet"],
                       input="".join(lines).encode(), check=True)
        port = free_port()
        with open(os.path.join(tmp, "secret"), "w") as f:
            f.write("bench-secret\n")
        cfg = config(tmp, "fetch%d" % commits, "file://" + remote, port)
        log = open(os.path.join(tmp, "fetch%d.log" % commits), "w")
        d = subprocess.Popen([binary, "run", "--config", cfg], stderr=log)
        try:
            wait(lambda: metric(metrics(port),
                                "sagesync_git_fetch_duration_seconds_count") >= 1, 120)
            # one more commit, fetched by a reconcile
            work = os.path.join(tmp, "work%d" % commits)
            subprocess.run(["git", "clone", "-q", remote, work], check=True,
                           stderr=subprocess.DEVNULL)
            with open(os.path.join(work, "new.txt"), "w") as f:
                f.write("one more\n")
            git(work, "add", "-A")
            git(work, "-c", "user.name=b", "-c", "user.email=b@example.com",
                "commit", "-q", "-m", "one more")
            git(work, "push", "-q", "origin", "main")
            text = metrics(port)
            s0 = metric(text, "sagesync_git_fetch_duration_seconds_sum")
            c0 = metric(text, "sagesync_git_fetch_duration_seconds_count")
            d.send_signal(1)  # SIGHUP: fetch and reconcile now
            wait(lambda: metric(metrics(port),
                                "sagesync_git_fetch_duration_seconds_count") > c0, 60)
            text = metrics(port)
            out["fetch_ms_%d_commits" % commits] = round(
                (metric(text, "sagesync_git_fetch_duration_seconds_sum") - s0)
                * 1000, 1)
        finally:
            d.terminate()
            d.wait()
    out["ratio_10000_to_10"] = round(
        out["fetch_ms_10000_commits"] / max(out["fetch_ms_10_commits"], 0.1), 2)
    results["fetch"] = out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sagesync")
    ap.add_argument("--sizes", default="100,1000")
    ap.add_argument("--pushes", type=int, default=50)
    ap.add_argument("--json", default="bench-reconcile.json")
    a = ap.parse_args()
    binary = os.path.abspath(a.sagesync)
    tmp = tempfile.mkdtemp(prefix="sagesync-bench-")
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                 "AWS_CONFIG_FILE": os.path.join(tmp, "none"),
                 "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "none"),
                 "AWS_PAGER": "", "GIT_AUTHOR_NAME": "bench",
                 "GIT_AUTHOR_EMAIL": "bench@example.com",
                 "GIT_COMMITTER_NAME": "bench",
                 "GIT_COMMITTER_EMAIL": "bench@example.com"}.items():
        os.environ[k] = v
    with open(os.path.join(tmp, "secret"), "w") as f:
        f.write("bench-secret\n")
    sim = Sim(tmp)
    results = {"sizes": []}
    try:
        subprocess.run(["aws", "s3api", "create-bucket", "--bucket",
                        "bench-artifacts"], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(tmp, "model.tar.gz"), "w") as f:
            f.write("artifact\n")
        subprocess.run(["aws", "s3api", "put-object", "--bucket", "bench-artifacts",
                        "--key", "model.tar.gz", "--body",
                        os.path.join(tmp, "model.tar.gz")],
                       check=True, stdout=subprocess.DEVNULL)
        # first, while the local AWS is empty: the fetch daemons own
        # nothing, and must not observe thousands of foreign resources
        fetch_bench(binary, tmp, results)
        for n in [int(x) for x in a.sizes.split(",")]:
            size_run(binary, tmp, sim, n, a.pushes, results["sizes"])
            if n == 100:
                baseline(binary, tmp, sim, results)
    finally:
        sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print("%-9s %8s %8s %7s %9s %7s %9s %9s %9s %9s %7s" % (
        "endpoints", "deploy s", "noop cal", "target", "cpu ms/ep",
        "bump/ep", "write p50", "write p99", "apply p50", "apply p99",
        "RSS MiB"))
    for r in results["sizes"]:
        print("%-9d %8.1f %8d %7d %9.3f %7.3f %9.1f %9.1f %9.1f %9.1f %7.1f" % (
            r["endpoints"], r["deploy_seconds"], r["noop_calls"],
            r["noop_calls_target"], r["noop_cpu_ms_per_endpoint"],
            r["bump_calls_per_endpoint"], r["webhook_first_write_ms_median"],
            r["webhook_first_write_ms_p99"], r["webhook_applied_ms_median"],
            r["webhook_applied_ms_p99"], r["daemon_peak_rss_mib"]))
    if "baseline" in results:
        b = results["baseline"]
        print("no-op check of %d endpoints: aws CLI loop %.2f s (%d calls), "
              "sagesync %.3f s (%d calls): %.1fx" % (
                  b["endpoints"], b["aws_cli_loop_seconds"], b["aws_cli_calls"],
                  b["sagesync_noop_seconds"], b["sagesync_calls"], b["ratio"]))
    f = results["fetch"]
    print("fetch of one new commit: %.1f ms (10,000 commits) vs %.1f ms (10): %.2fx"
          % (f["fetch_ms_10000_commits"], f["fetch_ms_10_commits"],
             f["ratio_10000_to_10"]))
    with open(a.json, "w") as out:
        json.dump(results, out, indent=2)
    print("figures written to", a.json)


if __name__ == "__main__":
    main()
