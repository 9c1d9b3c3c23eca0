#!/usr/bin/env python3
"""Benchmark: `sagesync validate` on a generated tree of 10,000 manifests.

Generates N endpoint stacks (ModelPackage, Model, Endpoint, Alarm: four
manifests each, one file per stack), then runs, side by side in one run:

  sagesync  `sagesync validate TREE` (parse, schema, AWS constraints,
            references), as a child process, so wall time and peak RSS
            are the whole command's;
  baseline  a Python script that only parses the same files with PyYAML's
            libyaml loader (no validation at all): the floor of what a
            team would script instead.

Prints a table (median of the runs, peak RSS) and the ratio, and writes
the figures as JSON. Targets (issue 2): validate <= 1 s, <= 64 MiB.

usage: bench.py SAGESYNC [--stacks 2500] [--runs 5] [--json FILE]
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

STACK = """\
apiVersion: sagesync/v1
kind: ModelPackage
metadata:
  name: svc{i}-v3
spec:
  group: svc{i}
  version: 3
  approval: Approved
---
apiVersion: sagesync/v1
kind: Model
metadata:
  name: svc{i}-v3
spec:
  executionRoleArn: arn:aws:iam::123456789012:role/sagemaker-execution
  modelPackage: svc{i}-v3
  tags:
    team: team{team}
---
apiVersion: sagesync/v1
kind: Endpoint
metadata:
  name: svc{i}
spec:
  variants:
    - name: main
      model: svc{i}-v3
      instanceType: ml.m5.large
      instanceCount: 2
      autoscaling:
        min: 2
        max: 8
        targetInvocationsPerInstance: 500
  deployment:
    strategy: Canary
    stepSize: {{type: CAPACITY_PERCENT, value: 10}}
    waitIntervalSeconds: 300
    rollbackAlarms: [svc{i}-5xx]
  bakeSeconds: 300
  healthAlarms: [svc{i}-5xx]
---
apiVersion: sagesync/v1
kind: Alarm
metadata:
  name: svc{i}-5xx
spec:
  endpoint: svc{i}
  variant: main
  metric: Invocation5XXErrors
  statistic: Sum
  period: 60
  evaluationPeriods: 3
  threshold: 5
  comparison: GreaterThanOrEqualToThreshold
"""

BASELINE = r"""
import os, sys, yaml
n = 0
for root, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        if f.endswith((".yaml", ".yml")):
            with open(os.path.join(root, f)) as fp:
                n += sum(1 for d in yaml.load_all(fp, Loader=yaml.CSafeLoader) if d)
print(n)
"""


def generate(tree, stacks):
    for i in range(stacks):
        team = i % 25
        d = os.path.join(tree, f"team{team:02d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"svc{i}.yaml"), "w") as f:
            f.write(STACK.format(i=i, team=team))


def measure(cmd, out_path):
    """Runs cmd in a fresh process; returns (seconds, peak RSS KiB, out)."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(devnull, 2)
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    with open(out_path) as f:
        text = f.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {cmd[0]} failed: {text}")
    return elapsed, usage.ru_maxrss, text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sagesync")
    ap.add_argument("--stacks", type=int, default=2500)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", default="bench-validate.json")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="sagesync-bench-")
    out_path = os.path.join(work, "out")
    try:
        tree = os.path.join(work, "tree")
        generate(tree, args.stacks)
        manifests = args.stacks * 4
        files = args.stacks

        # warm the page cache once so both sides read from memory
        measure([args.sagesync, "validate", tree], out_path)
        rows = {}
        have_yaml = subprocess.run(
            [sys.executable, "-c", "import yaml; yaml.CSafeLoader"],
            capture_output=True).returncode == 0
        runs = {"sagesync": [], "baseline": []}
        for _ in range(args.runs):
            t, rss, out = measure([args.sagesync, "validate", tree],
                                  out_path)
            if f"valid: {manifests} manifests" not in out:
                sys.exit(f"bench: unexpected validate output: {out[:200]}")
            runs["sagesync"].append((t, rss))
            if have_yaml:
                t, rss, out = measure(
                    [sys.executable, "-c", BASELINE, tree], out_path)
                if int(out) != manifests:
                    sys.exit(f"bench: baseline parsed {out} documents")
                runs["baseline"].append((t, rss))
        for name, r in runs.items():
            if r:
                rows[name] = {
                    "median_s": statistics.median(x[0] for x in r),
                    "min_s": min(x[0] for x in r),
                    "peak_rss_mib": max(x[1] for x in r) / 1024,
                }

        print(f"validate: {manifests} manifests in {files} files, "
              f"{args.runs} runs each, side by side")
        print(f"{'':10} {'median s':>9} {'min s':>7} {'peak RSS MiB':>13}")
        for name, r in rows.items():
            what = ("full validation" if name == "sagesync"
                    else "parse only, Python + libyaml")
            print(f"{name:10} {r['median_s']:9.3f} {r['min_s']:7.3f} "
                  f"{r['peak_rss_mib']:13.1f}   {what}")
        s = rows["sagesync"]
        result = {
            "manifests": manifests,
            "files": files,
            "runs": args.runs,
            "results": rows,
            "targets": {"time_s": 1.0, "peak_rss_mib": 64},
            "meets_targets": s["median_s"] <= 1.0
            and s["peak_rss_mib"] <= 64,
        }
        if "baseline" in rows:
            ratio = rows["baseline"]["median_s"] / s["median_s"]
            result["speedup_vs_baseline"] = ratio
            print(f"sagesync validates {ratio:.1f}x faster than the "
                  f"baseline only parses")
        else:
            print("baseline skipped: Python's yaml module is not installed")
        print(f"targets: <= 1 s and <= 64 MiB: "
              f"{'met' if result['meets_targets'] else 'NOT MET'}")
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"figures written to {args.json}")
        return 0 if result["meets_targets"] else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
