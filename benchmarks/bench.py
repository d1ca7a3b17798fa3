#!/usr/bin/env python3
"""Benchmark imds-lint against `grep -rIl` on a large synthetic tree.

    python benchmarks/bench.py [--tree DIR] [--runs 5] [--rebuild]

Builds (once) a tree of the running Python's standard library sources plus
generated shell, Terraform, Dockerfile, YAML, JSON and Markdown files, of which
about 1% touch IMDS, then reports median wall times (warm cache) and ratios:
whole tree vs grep, a five-file pre-commit run vs `python3 -c pass`, and peers
(semgrep, checkov) when they are installed. It never talks to a metadata
service: the generated files only mention the address.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GREP_PATTERN = r"169\.254\.169\.254|fd00:ec2::254|instance-data"
GENERATED = 15_500  # plus ~2,400 stdlib files: over 17,000 in all

SHELL = """#!/bin/bash
# provisioning step {n}
set -euo pipefail
apt-get update -y && apt-get install -y nginx jq unzip
systemctl enable --now nginx
for i in $(seq 1 {k}); do
  echo "worker $i" >> /var/log/bootstrap-{n}.log
done
"""
SHELL_IMDS = 'REGION=$(curl -s http://169.254.169.254/latest/meta-data/placement/region)\necho "$REGION"\n'
TERRAFORM = """resource "aws_s3_bucket" "b{n}" {{
  bucket = "example-bucket-{n}"
  tags = {{ Name = "bucket {n}", Team = "platform" }}
}}

resource "aws_security_group" "sg{n}" {{
  name = "sg-{n}"
  ingress {{
    from_port   = {k}
    to_port     = {k}
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }}
}}
"""
TERRAFORM_IMDS = """resource "aws_instance" "web" {{
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  user_data     = <<-EOF
    #!/bin/bash
    ID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)
    echo $ID > /etc/instance-id
  EOF
}}
"""
DOCKERFILE = """FROM python:3.12-slim AS build{n}
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "-m", "service_{n}"]
"""
YAML = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{n}
spec:
  replicas: {k}
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/svc-{n}:1.{k}
          env:
            - name: LOG_LEVEL
              value: info
"""
JSON = '{{"name": "svc-{n}", "version": "1.{k}.0", "dependencies": {{"express": "^4.18.2", "lodash": "^4.17.21"}}}}\n'
MARKDOWN = "# Service {n}\n\nRun `make deploy` to ship build {k}.\n\n" + "Lorem ipsum dolor sit amet. " * 40 + "\n"
KINDS = [("sh", SHELL), ("tf", TERRAFORM), ("Dockerfile", DOCKERFILE), ("yaml", YAML), ("json", JSON), ("md", MARKDOWN)]


def build_tree(tree: Path) -> None:
    if tree.exists():
        shutil.rmtree(tree)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(stdlib, tree / "stdlib", ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"),
                    symlinks=True)
    rng = random.Random(42)
    padding = "# " + "x" * 70 + "\n"
    for n in range(GENERATED):
        ext, template = KINDS[n % len(KINDS)]
        folder = tree / "repos" / f"team{n % 40}" / f"svc{n % 400}"
        if ext == "Dockerfile":  # one per image folder, as in real repositories
            folder = folder / f"image{n}"
        folder.mkdir(parents=True, exist_ok=True)
        k = rng.randint(1, 99)
        body = template.format(n=n, k=k)
        if n % 100 == 7:  # about 1% touch IMDS
            body += SHELL_IMDS if ext in ("sh", "Dockerfile", "yaml", "md") else TERRAFORM_IMDS.format()
        # Pad to about 8 KB on average so the tree weighs ~200 MB like a real monorepo.
        body += (padding if ext != "json" else "") * rng.randint(0, 200)
        name = "Dockerfile" if ext == "Dockerfile" else f"file{n}.{ext}"
        (folder / name).write_text(body)


def tree_size(tree: Path) -> tuple[int, int]:
    files = size = 0
    for root, _, names in os.walk(tree):
        for name in names:
            files += 1
            size += os.lstat(os.path.join(root, name)).st_size
    return files, size


# Measure as installed: with bytecode caching on (some shells export PYTHONDONTWRITEBYTECODE,
# which would make every run recompile the package and hide what users see).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def median_time(cmd: list[str], runs: int, ok=(0, 1)) -> float:
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)  # warm the caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        times.append(time.perf_counter() - start)
        if result.returncode not in ok:
            raise SystemExit(f"{' '.join(cmd)} exited {result.returncode}")
    return statistics.median(times)


def peak_rss_mb(cmd: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024


SEMGREP_RULE = f"""rules:
  - id: imds-endpoint
    pattern-regex: '{GREP_PATTERN}'
    message: IMDS endpoint
    languages: [generic]
    severity: WARNING
"""


def _offline(cmd: list[str]) -> list[str]:
    # Peers may phone home (version checks, rule downloads): run them with no network at all.
    return ["unshare", "-n", *cmd] if shutil.which("unshare") and os.geteuid() == 0 else cmd


def peers(tree: Path, t_lint: float) -> None:
    """semgrep with one equivalent regex rule on the whole tree; checkov and imds-lint on the IaC subset."""
    env = {**ENV, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    if shutil.which("semgrep"):
        rule = HERE / "semgrep-imds.yml"
        rule.write_text(SEMGREP_RULE)
        cmd = _offline(["semgrep", "scan", "--metrics=off", "--quiet", "--disable-version-check", "--no-git-ignore",
                        "--config", str(rule), "--max-target-bytes", "0", "--timeout", "0", str(tree)])
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, timeout=1800)
        t_peer = time.perf_counter() - start
        rule.unlink()
        print(f"semgrep (one regex rule, whole tree): {t_peer:.1f}s; imds-lint is {t_peer / t_lint:.0f}x faster "
              "(target >= 20x)")
    else:
        print("semgrep: not installed, skipped")
    iac = tree / "repos"
    if shutil.which("checkov"):
        lint = [*_command(), "--format", "json", str(iac)]
        t_ours = median_time(lint, 3)
        cmd = _offline(["checkov", "--quiet", "--compact", "--skip-download", "--framework", "terraform",
                        "-d", str(iac)])
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, timeout=1800)
        t_peer = time.perf_counter() - start
        print(f"checkov (terraform, IaC subset): {t_peer:.1f}s; imds-lint on the same folder {t_ours:.2f}s, "
              f"{t_peer / t_ours:.0f}x faster (target >= 20x)")
    else:
        print("checkov: not installed, skipped")


def _command() -> list[str]:
    """The installed console command next to this interpreter (what pre-commit and CI run), else -m."""
    script = Path(sys.executable).parent / "imds-lint"
    if not script.exists():
        return [sys.executable, "-m", "imds_lint"]
    import importlib.metadata

    # An editable install adds an import hook (and .pth files) to every start, python -c pass
    # included: the figures would describe a development checkout, not what users run.
    direct_url = importlib.metadata.distribution("imds-lint").read_text("direct_url.json") or ""
    if '"editable": true' in direct_url:
        print("note: imds-lint is an editable install here; for figures users will see, run this "
              "with the python of a regular install (python -m venv v && v/bin/pip install . && "
              "v/bin/python benchmarks/bench.py)")
    return [str(script)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=HERE / "tree")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    if args.rebuild or not (args.tree / "repos").exists():
        print(f"building {args.tree} ...", flush=True)
        build_tree(args.tree)
    files, size = tree_size(args.tree)
    print(f"tree: {files:,} files, {size / 1e6:.0f} MB")

    lint = _command()
    grep = ["grep", "-rIlE", GREP_PATTERN, str(args.tree)]
    t_grep = median_time(grep, args.runs)
    t_lint = median_time(lint + ["--format", "json", str(args.tree)], args.runs)
    print(f"whole tree: grep -rIlE {t_grep:.2f}s, imds-lint {t_lint:.2f}s, ratio {t_lint / t_grep:.2f}x (target <= 2.0x)")
    rss = peak_rss_mb(lint + ["--format", "json", str(args.tree)])
    print(f"peak RSS of the whole-tree run: {rss:.0f} MB (target <= 200 MB)")

    small = sorted((args.tree / "repos").rglob("file*.sh"))[:5]
    t_pass = median_time([sys.executable, "-c", "pass"], max(args.runs, 11))
    t_small = median_time(lint + [str(p) for p in small], max(args.runs, 11))
    print(f"pre-commit (5 files): python -c pass {t_pass * 1000:.0f} ms, imds-lint {t_small * 1000:.0f} ms, "
          f"ratio {t_small / t_pass:.2f}x (target <= 4x)")

    peers(args.tree, t_lint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
