#!/usr/bin/env python3
"""Benchmark imds-lint against `grep -rIlE` and semgrep on trees shaped like real repositories.

    python benchmarks/bench.py [--work DIR] [--scratch DIR] [--runs 5] [--rebuild] [--only NAME,...]
                               [--python-tree DIR] [--semgrep PATH]

Builds (once, under --work) and measures, side by side in one run:

* ``current``: the Python standard library plus 15,500 generated shell, Terraform,
  Dockerfile, YAML, JSON and Markdown files, ~1% naming IMDS (the tree earlier
  figures were quoted on);
* ``iac``: the same shape, but 18% of files are Terraform and CloudFormation that
  declare instances and launch templates, half with metadata options enforcing
  tokens and half without, so every one of them reaches a parser;
* ``tf20k``: 20,000 Terraform files, each declaring an instance or a launch template;
* ``python``: a generated equivalent of a datasource-heavy Python repository
  (cloud-init's shape: ~1,400 files, ~600 modules, many naming the metadata
  address through their own URL helper, some of them 55 KB); ``--python-tree``
  adds a real checkout of one (``git archive`` it into /tmp, never commit it);
* pre-commit: five clean files, and five files of which four hold a tokenless curl,
  against a bare ``python -c pass`` of the same interpreter;
* single large files: a 5 MB shell script and a 2 MB Terraform file (time, peak RSS
  and MB of RSS per MB of input), and the slowest Python modules of the python tree.

Every tree figure is the median of --runs alternating runs of grep, imds-lint and
semgrep (one equivalent ``pattern-regex`` rule, run with no network through
``unshare -n``) in one loop, with each command's peak RSS, and a check that
``-j 1`` and ``-j 2`` print byte-identical JSON. It is a benchmark run by hand,
not a test. The machine may be shared: the spread (min-max) is printed beside
each median, and only figures from the same loop are compared.

Run it with the interpreter of a regular (non-editable) install, as users have it:
``python -m venv /tmp/b && /tmp/b/bin/pip install . && /tmp/b/bin/python benchmarks/bench.py``.
It never talks to a metadata service: the generated files only mention the address.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GREP_PATTERN = r"169\.254\.169\.254|fd00:ec2::254|instance-data"
GENERATED = 15_500  # plus ~2,400 stdlib files: over 17,000 in all

# -- file templates -------------------------------------------------------------------------
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
METADATA_OPTIONS = """
  metadata_options {{
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = {hops}
  }}
"""
TF_INSTANCE = """variable "instance_type_{n}" {{
  type    = string
  default = "t3.{size}"
}}

resource "aws_instance" "app_{n}" {{
  ami                    = data.aws_ami.ubuntu.id
  instance_type          = var.instance_type_{n}
  subnet_id              = var.subnet_ids[{k} % length(var.subnet_ids)]
  vpc_security_group_ids = [aws_security_group.app_{n}.id]
  iam_instance_profile   = aws_iam_instance_profile.app.name
  user_data              = templatefile("${{path.module}}/bootstrap.sh.tpl", {{ env = var.env }})
{options}
  root_block_device {{
    volume_size = {k}
    encrypted   = true
  }}

  tags = merge(local.tags, {{ Name = "app-{n}", Role = "worker" }})
}}

resource "aws_security_group" "app_{n}" {{
  name   = "app-{n}"
  vpc_id = var.vpc_id
  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
"""
TF_LAUNCH_TEMPLATE = """resource "aws_launch_template" "workers_{n}" {{
  name_prefix   = "workers-{n}-"
  image_id      = data.aws_ami.al2023.id
  instance_type = "m6i.{size}"
  user_data     = base64encode(templatefile("${{path.module}}/user-data.sh", {{ cluster = var.cluster }}))
{options}
  network_interfaces {{
    associate_public_ip_address = false
    security_groups             = [var.node_sg]
  }}

  tag_specifications {{
    resource_type = "instance"
    tags          = {{ Name = "workers-{n}" }}
  }}
}}

resource "aws_autoscaling_group" "workers_{n}" {{
  desired_capacity    = {k}
  max_size            = {k2}
  min_size            = 1
  vpc_zone_identifier = var.private_subnets
  launch_template {{
    id      = aws_launch_template.workers_{n}.id
    version = "$Latest"
  }}
}}
"""
CFN_INSTANCE = """AWSTemplateFormatVersion: "2010-09-09"
Description: worker fleet {n}
Parameters:
  InstanceType:
    Type: String
    Default: t3.{size}
Resources:
  WorkerTemplate{n}:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        ImageId: !Ref AmiId
        InstanceType: !Ref InstanceType
{options}
  Worker{n}:
    Type: AWS::EC2::Instance
    Properties:
      LaunchTemplate:
        LaunchTemplateId: !Ref WorkerTemplate{n}
        Version: !GetAtt WorkerTemplate{n}.LatestVersionNumber
      SubnetId: !Ref SubnetId
      Tags:
        - Key: Name
          Value: worker-{n}
"""
CFN_OPTIONS = """        MetadataOptions:
          HttpTokens: required
          HttpPutResponseHopLimit: 1
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
SIZES = ["micro", "small", "medium", "large", "xlarge"]


def _write(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)


def _copy_stdlib(tree: Path) -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(stdlib, tree / "stdlib", ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"),
                    symlinks=True)


def _iac_file(n: int, rng: random.Random) -> tuple[str, str]:
    """One Terraform or CloudFormation file declaring compute; every other one enforces tokens."""
    enforced = n % 2 == 0
    size = rng.choice(SIZES)
    k = rng.randint(1, 20)
    if n % 7 == 3:
        options = CFN_OPTIONS if enforced else ""
        return "yaml", CFN_INSTANCE.format(n=n, size=size, options=options)
    options = METADATA_OPTIONS.format(hops=rng.choice([1, 2])) if enforced else ""
    template = TF_LAUNCH_TEMPLATE if n % 3 == 0 else TF_INSTANCE
    return "tf", template.format(n=n, k=k, k2=k + 4, size=size, options=options)


def build_current(tree: Path, iac_share: float = 0.0) -> None:
    """The standard library plus generated files; ``iac_share`` of the generated files declare compute."""
    _copy_stdlib(tree)
    rng = random.Random(42)
    padding = "# " + "x" * 70 + "\n"
    iac_every = round(1 / iac_share) if iac_share else 0
    for n in range(GENERATED):
        ext, template = KINDS[n % len(KINDS)]
        folder = tree / "repos" / f"team{n % 40}" / f"svc{n % 400}"
        if ext == "Dockerfile":  # one per image folder, as in real repositories
            folder = folder / f"image{n}"
        k = rng.randint(1, 99)
        if iac_every and n % iac_every == 1:
            ext, body = _iac_file(n, rng)
            _write(folder / "infra" / f"main{n}.{ext}", body)
            continue
        body = template.format(n=n, k=k)
        if n % 100 == 7:  # about 1% touch IMDS
            body += SHELL_IMDS if ext in ("sh", "Dockerfile", "yaml", "md") else TERRAFORM_IMDS.format()
        # Pad to about 8 KB on average so the tree weighs ~200 MB like a real monorepo.
        body += (padding if ext != "json" else "") * rng.randint(0, 200)
        name = "Dockerfile" if ext == "Dockerfile" else f"file{n}.{ext}"
        _write(folder / name, body)


def build_iac(tree: Path) -> None:
    # 15,500 generated files, ~3,300 (21%) of them compute IaC: ~18% of the 17,900 files.
    build_current(tree, iac_share=0.21)


def build_tf20k(tree: Path) -> None:
    rng = random.Random(7)
    for n in range(20_000):
        ext, body = _iac_file(n if n % 7 != 3 else n + 1, rng)  # Terraform only
        _write(tree / f"env{n % 10}" / f"stack{n % 500}" / f"compute{n}.tf", body)


# -- a datasource-heavy Python repository ------------------------------------------------------
PY_HEADER = '''# This file is part of fleetinit. See LICENSE file for license information.
"""{doc}"""

import copy
import json
import logging
import os
import time
from typing import Any, Dict, List, Optional

from fleetinit import {imports}
from fleetinit.sources import DataSource, DataSourceNotFoundException

LOG = logging.getLogger(__name__)
'''
PY_DATASOURCE = '''
METADATA_URLS_{n} = ["http://169.254.169.254", "http://[fd00:ec2::254]", "http://instance-data.:8773"]
API_VERSION_{n} = "2021-03-23"
DEFAULT_RETRIES_{n} = {k}


class DataSource{name}{n}(DataSource):
    """Reads instance metadata for cloud {name} through url_helper (tokens handled there)."""

    dsname = "{name}{n}"
    min_metadata_version = API_VERSION_{n}
    url_max_wait = {k}
    url_timeout = 5

    def __init__(self, sys_cfg, distro, paths):
        super().__init__(sys_cfg, distro, paths)
        self.metadata_address = None
        self._api_token = None
        self.extended_metadata_versions: List[str] = []

    def _get_data(self) -> bool:
        if not self.platform_matches():
            LOG.debug("not running on %s", self.dsname)
            return False
        try:
            crawled = self.crawl_metadata()
        except url_helper.UrlError as e:
            LOG.warning("crawl of metadata service failed: %s", e)
            return False
        self.metadata = crawled.get("meta-data", {{}})
        self.userdata_raw = crawled.get("user-data", None)
        self.identity = crawled.get("dynamic", {{}}).get("instance-identity", {{}}).get("document", {{}})
        return True

    def wait_for_metadata_service(self) -> bool:
        urls = []
        url2base = {{}}
        for url in METADATA_URLS_{n}:
            cur = "{{0}}/{{1}}/meta-data/instance-id".format(url, self.min_metadata_version)
            urls.append(cur)
            url2base[cur] = url
        start_time = time.monotonic()
        url, _response = url_helper.wait_for_url(
            urls=urls, max_wait=self.url_max_wait, timeout=self.url_timeout,
            status_cb=LOG.warning, headers_cb=self._get_headers, exception_cb=self._imds_exception_cb,
        )
        if url:
            self.metadata_address = url2base[url]
            LOG.debug("Using metadata source: '%s'", self.metadata_address)
        else:
            LOG.critical("Giving up on md from %s after %s seconds", urls, int(time.monotonic() - start_time))
        return bool(url)

    def _get_headers(self, url="") -> Dict[str, str]:
        if self._api_token is None:
            self._api_token = self._refresh_api_token()
        return {{"X-aws-ec2-metadata-token": self._api_token or ""}}

    def _refresh_api_token(self, seconds=21600) -> Optional[str]:
        urls = [addr + "/latest/api/token" for addr in METADATA_URLS_{n}]
        url, response = url_helper.wait_for_url(
            urls, max_wait=1, timeout=1, request_method="PUT",
            headers_cb=lambda url: {{"X-aws-ec2-metadata-token-ttl-seconds": str(seconds)}},
        )
        return response.decode("utf-8") if url else None

    def _imds_exception_cb(self, msg, exception=None) -> bool:
        if isinstance(exception, url_helper.UrlError) and exception.code in (401, 403):
            LOG.warning("token rejected: %s", msg)
            return False
        return True

    def crawl_metadata(self) -> Dict[str, Any]:
        result: Dict[str, Any] = {{}}
        api_version = self.min_metadata_version
        for attempt in range(DEFAULT_RETRIES_{n}):
            try:
                result["user-data"] = ec2.get_instance_userdata(
                    api_version, self.metadata_address, headers_cb=self._get_headers)
                result["meta-data"] = ec2.get_instance_metadata(
                    api_version, self.metadata_address, headers_cb=self._get_headers)
                break
            except Exception as e:
                LOG.debug("attempt %d failed: %s", attempt, e)
                time.sleep(min(2 ** attempt, 10))
        return copy.deepcopy(result)

    def platform_matches(self) -> bool:
        product = util.read_dmi_data("system-product-name") or ""
        return product.lower().startswith("{lower}")
'''
PY_FILLER = '''

def {prefix}_setting_{n}(cfg: Dict[str, Any], key: str = "{key}", default: Optional[str] = None) -> Optional[str]:
    """Look up {key} in the merged configuration, falling back to the distro default."""
    section = cfg.get("{prefix}", {{}})
    if not isinstance(section, dict):
        LOG.warning("ignoring non-dict %s config: %r", "{prefix}", section)
        return default
    value = section.get(key, default)
    if value is not None and not isinstance(value, str):
        value = json.dumps(value, sort_keys=True)
    for candidate in ("/etc/fleetinit/{prefix}.cfg", os.path.join("/run", "{prefix}", key)):
        if os.path.exists(candidate):
            with open(candidate, encoding="utf-8") as handle:
                value = handle.read().strip() or value
    return value
'''
PY_PLAIN = '''

class {name}Handler{n}:
    """Applies the {key} module's configuration."""

    frequency = "once-per-instance"

    def __init__(self, distro, paths):
        self.distro = distro
        self.paths = paths
        self.applied: List[str] = []

    def handle(self, name: str, cfg: Dict[str, Any], args: List[str]) -> None:
        if "{key}" not in cfg:
            LOG.debug("Skipping module named %s, no '{key}' key in configuration", name)
            return
        for item in cfg["{key}"]:
            self.applied.append(str(item))
            subp.subp(["{key}", "--apply", str(item)], capture=True)
'''
PY_TEST = '''

class TestDataSource{name}{n}:
    @mock.patch("fleetinit.url_helper.readurl")
    def test_crawl_{n}(self, m_readurl, tmpdir):
        m_readurl.return_value = url_helper.StringResponse(b"i-0123456789abcdef{n}")
        ds = DataSource{name}(sys_cfg={{}}, distro=None, paths=helpers.Paths({{"cloud_dir": str(tmpdir)}}))
        assert ds.get_data()
        assert m_readurl.call_args_list[0][0][0] == "http://169.254.169.254/{n}/meta-data/instance-id"
        assert ds.metadata.get("instance-id", "") == "i-0123456789abcdef{n}"

    def test_urls_{n}(self):
        expected = ["http://169.254.169.254/latest/api/token", "http://[fd00:ec2::254]/latest/api/token"]
        assert [u + "/latest/api/token" for u in METADATA_URLS] == expected
'''
PY_URL_HELPER = '''# The only module that talks HTTP.
"""URL helpers: readurl and wait_for_url wrap requests with retries."""

import logging
import time

import requests

LOG = logging.getLogger(__name__)


class UrlError(IOError):
    def __init__(self, cause, code=None, headers=None, url=None):
        super().__init__(str(cause))
        self.cause, self.code, self.headers, self.url = cause, code, headers or {}, url


def readurl(url, data=None, timeout=None, retries=0, headers=None, headers_cb=None, request_method=None):
    req_args = {"url": url, "timeout": timeout, "method": request_method or ("POST" if data else "GET")}
    for attempt in range(retries + 1):
        hdrs = headers_cb(url) if headers_cb else (headers or {})
        try:
            response = requests.request(headers=hdrs, data=data, **req_args)
            response.raise_for_status()
            return response
        except requests.RequestException as e:
            LOG.debug("attempt %d for %s failed: %s", attempt, url, e)
            time.sleep(1)
    raise UrlError("gave up", url=url)


def wait_for_url(urls, max_wait=None, timeout=None, status_cb=None, headers_cb=None, exception_cb=None,
                 request_method="GET"):
    start = time.monotonic()
    while max_wait is None or time.monotonic() - start < max_wait:
        for url in urls:
            try:
                return url, readurl(url, timeout=timeout, headers_cb=headers_cb, request_method=request_method).content
            except UrlError as e:
                if exception_cb and not exception_cb(str(e), e):
                    break
        time.sleep(1)
    return None, None
'''
PY_TOOL_TOKENLESS = '''#!/usr/bin/env python3
"""Print this instance's id (debug helper)."""
import requests

print(requests.get("http://169.254.169.254/latest/meta-data/instance-id", timeout=2).text)
'''
CLOUDS = ["Ec2", "OpenStack", "CloudStack", "Exoscale", "Aliyun", "Outscale", "Nova", "Upcloud", "Vultr"]


def _py_module(rng: random.Random, n: int, datasource: bool, test: bool, target_kb: int,
               names_imds: bool = False) -> str:
    name = rng.choice(CLOUDS)
    parts = [PY_HEADER.format(doc=f"{name} support, part {n}.", imports="subp, url_helper, util" +
                              (", ec2" if datasource else ""))]
    if test:
        parts.append("from unittest import mock\n\nfrom fleetinit.tests import helpers\n"
                     f"from fleetinit.sources.DataSource{name} import DataSource{name}, METADATA_URLS\n")
    if datasource:
        parts.append(PY_DATASOURCE.format(n=n, k=rng.randint(2, 9), name=name, lower=name.lower()))
    i = 0
    while sum(map(len, parts)) < target_kb * 1024:
        key = rng.choice(["ntp", "apt", "chef", "salt", "puppet", "mounts", "users", "growpart", "locale"])
        if test:
            body = PY_TEST.format(n=f"{n}_{i}", name=name)
            parts.append(body if names_imds else body.replace("169.254.169.254", "192.0.2.10")
                         .replace("fd00:ec2::254", "2001:db8::10"))
        elif i % 2:
            parts.append(PY_PLAIN.format(n=f"{n}_{i}", name=name, key=key))
        else:
            parts.append(PY_FILLER.format(n=f"{n}_{i}", prefix=key, key=key))
        i += 1
    return "".join(parts)


def build_python(tree: Path) -> None:
    """~1,400 files: ~600 modules (~140 naming IMDS, 10 of them 55 KB), docs, configs and scripts."""
    rng = random.Random(1)
    _write(tree / "fleetinit" / "url_helper.py", PY_URL_HELPER)
    _write(tree / "tools" / "instance-id.py", PY_TOOL_TOKENLESS)
    for n in range(600):
        datasource = n % 6 == 0
        test = n % 3 == 1
        big = n % 60 == 0
        folder = tree / ("tests" / Path("unittests") if test else Path("fleetinit")) / ("sources" if datasource else
                                                                                         f"pkg{n % 12}")
        target = 55 if big else rng.choice([2, 4, 6, 10, 16, 24])
        body = _py_module(rng, n, datasource, test, target, names_imds=n % 15 == 1)
        _write(folder / f"{'test_' if test else ''}mod{n}.py", body)
    for n in range(500):
        _write(tree / "doc" / "rtd" / f"topic{n}.rst", f"Topic {n}\n{'=' * 10}\n\n" + "Configure the datasource. " * 80)
    for n in range(200):
        _write(tree / "config" / f"cloud.cfg.d/{n:02d}_cfg.yaml",
               f"datasource_list: [Ec2, None]\nsystem_info:\n  distro: ubuntu\n  default_user:\n    name: u{n}\n")
    for n in range(100):
        _write(tree / "tools" / f"helper{n}.sh", SHELL.format(n=n, k=n % 9 + 1))


def build_large(folder: Path) -> dict[str, Path]:
    """A 5 MB shell script of tokenless requests and a 2 MB Terraform file of instances."""
    folder.mkdir(parents=True, exist_ok=True)
    shell = folder / "big.sh"
    line = 'v{n}=$(curl -s http://169.254.169.254/latest/meta-data/tags/instance/k{n})\n'
    with shell.open("w") as out:
        out.write("#!/bin/bash\n")
        n = 0
        while out.tell() < 5 * 1024 * 1024 - 200:
            out.write(line.format(n=n))
            n += 1
    terraform = folder / "big.tf"
    rng = random.Random(3)
    with terraform.open("w") as out:
        n = 0
        while out.tell() < 2 * 1024 * 1024 - 4000:
            out.write(_iac_file(n if n % 7 != 3 else n + 1, rng)[1])
            n += 1
    return {"5 MB shell": shell, "2 MB Terraform": terraform}


TREES = {"current": build_current, "iac": build_iac, "tf20k": build_tf20k, "python": build_python}


def tree_size(tree: Path) -> tuple[int, int, int]:
    files = size = largest = 0
    for root, _, names in os.walk(tree):
        for name in names:
            files += 1
            st = os.lstat(os.path.join(root, name)).st_size
            size += st
            largest = max(largest, st)
    return files, size, largest


# -- measuring ---------------------------------------------------------------------------------
# Measure as installed: with bytecode caching on (some shells export PYTHONDONTWRITEBYTECODE,
# which would make every run recompile the package and hide what users see).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
SEMGREP_ENV = {**ENV, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}


def timed(cmd: list[str], ok=(0, 1), env=None, cwd=None) -> tuple[float, float, float]:
    """Wall time, CPU time (user + system, the child's processes included) and the child's peak RSS in MB.

    On a machine other jobs share, wall time grows with their load while CPU time mostly does
    not: both are printed, and only figures of the same loop are compared.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or ENV, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


class Series:
    def __init__(self, name: str):
        self.name, self.times, self.cpu, self.rss = name, [], [], []

    def add(self, t: float, cpu: float, rss: float) -> None:
        self.times.append(t)
        self.cpu.append(cpu)
        self.rss.append(rss)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    def spread(self) -> str:
        return f"{min(self.times):.2f}-{max(self.times):.2f}"


def load_average() -> str:
    """The 1-minute load average, printed beside figures taken on a machine others share."""
    try:
        return f"load {os.getloadavg()[0]:.1f}"
    except OSError:
        return "load unknown"


def alternate(commands: dict[str, tuple[list[str], dict]], runs: int) -> dict[str, Series]:
    """Each command once to warm caches, then ``runs`` rounds of all of them in turn."""
    series = {name: Series(name) for name in commands}
    for cmd, kw in commands.values():
        timed(cmd, **kw)
    for _ in range(runs):
        for name, (cmd, kw) in commands.items():
            series[name].add(*timed(cmd, **kw))
    return series


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


def semgrep_command(semgrep: str, rule: Path, tree: Path) -> list[str]:
    # Scanned from the tree's root with an empty .semgrepignore there: semgrep's default ignore
    # list (tests/, vendor/, ...) would otherwise let it skip files grep and imds-lint read.
    return _offline([semgrep, "scan", "--metrics=off", "--quiet", "--disable-version-check", "--no-git-ignore",
                     "--config", str(rule), "--max-target-bytes", "0", "--timeout", "0", "-j", "2", "."])


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


def same_json(lint: list[str], tree: Path) -> bool:
    outputs = []
    for jobs in ("1", "2"):
        proc = subprocess.run([*lint, "--no-cache", "--format", "json", "-j", jobs, str(tree)], capture_output=True,
                              env=ENV)
        outputs.append(proc.stdout)
    return outputs[0] == outputs[1]


def measure_tree(name: str, tree: Path, lint: list[str], semgrep: str | None, runs: int, rows: list) -> None:
    files, size, largest = tree_size(tree)
    print(f"\n[{name}] {tree}: {files:,} files, {size / 1e6:.0f} MB, largest {largest / 1e3:.0f} KB "
          f"({load_average()})", flush=True)
    # Cold: no results cache. Warm: the same run again over a cache the warm-up run filled (kept
    # out of the tree): a CI job that restores its cache, or a second run on an unchanged checkout.
    cache = Path(tempfile.mkdtemp(prefix="imds-lint-cache-"))
    commands = {"grep": (["grep", "-rIlE", GREP_PATTERN, str(tree)], {}),
                "imds-lint": ([*lint, "--no-cache", "--format", "json", str(tree)], {}),
                "imds-lint warm": ([*lint, "--cache-dir", str(cache), "--format", "json", str(tree)], {})}
    rule = None
    if semgrep:
        rule = Path(tempfile.mkstemp(suffix=".yml", prefix="semgrep-imds-")[1])
        rule.write_text(SEMGREP_RULE)
        (tree / ".semgrepignore").write_text("")
        commands["semgrep"] = (semgrep_command(semgrep, rule, tree), {"env": SEMGREP_ENV, "cwd": str(tree)})
    try:
        series = alternate(commands, runs)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if rule is not None:
            rule.unlink()
            (tree / ".semgrepignore").unlink()
    grep, ours, warm = series["grep"], series["imds-lint"], series["imds-lint warm"]
    print(f"  grep -rIlE  {grep.median:7.2f}s wall ({grep.spread()})  {grep.median_cpu:6.2f}s CPU  "
          f"RSS {max(grep.rss):5.0f} MB")
    print(f"  imds-lint   {ours.median:7.2f}s wall ({ours.spread()})  {ours.median_cpu:6.2f}s CPU  "
          f"RSS {max(ours.rss):5.0f} MB  = {ours.median / grep.median:.2f}x grep wall, "
          f"{ours.median_cpu / grep.median_cpu:.2f}x grep CPU")
    print(f"  warm cache  {warm.median:7.2f}s wall ({warm.spread()})  {warm.median_cpu:6.2f}s CPU  "
          f"RSS {max(warm.rss):5.0f} MB  = {warm.median / grep.median:.2f}x grep wall, "
          f"{warm.median_cpu / grep.median_cpu:.2f}x grep CPU")
    row = {"tree": name, "files": files, "grep": grep.median, "lint": ours.median, "rss": max(ours.rss),
           "vs_grep": ours.median / grep.median, "grep_cpu": grep.median_cpu, "lint_cpu": ours.median_cpu,
           "warm": warm.median, "warm_cpu": warm.median_cpu, "warm_vs_grep": warm.median / grep.median}
    if "semgrep" in series:
        peer = series["semgrep"]
        print(f"  semgrep     {peer.median:7.2f}s wall ({peer.spread()})  {peer.median_cpu:6.2f}s CPU  "
              f"RSS {max(peer.rss):5.0f} MB  imds-lint {peer.median / ours.median:.1f}x faster (wall), "
              f"{peer.median_cpu / ours.median_cpu:.1f}x (CPU)")
        row["semgrep"] = peer.median
        row["vs_semgrep"] = peer.median / ours.median
        row["warm_vs_semgrep"] = peer.median / warm.median
    row["same_json"] = same_json(lint, tree)
    print(f"  -j 1 and -j 2 JSON identical: {row['same_json']} ({load_average()} at the end)")
    rows.append(row)


def measure_precommit(trees: dict[str, Path], lint: list[str], runs: int, rows: list, scratch: Path) -> None:
    clean = scratch / "precommit-clean"
    dirty = scratch / "precommit-findings"
    for n in range(5):
        _write(clean / f"step{n}.sh", SHELL.format(n=n, k=n + 1))
        _write(dirty / f"step{n}.sh", SHELL.format(n=n, k=n + 1) + (SHELL_IMDS if n < 4 else ""))
    runs = max(runs, 11)
    bare = [sys.executable, "-c", "pass"]
    cache = Path(tempfile.mkdtemp(prefix="imds-lint-cache-"))
    # The cache folder through the environment: a hook passes file names only, and the command
    # reads those without building its argument parser (--cache-dir would measure argparse too).
    warm_env = {**ENV, "IMDS_LINT_CACHE_DIR": str(cache)}
    commands = {"python -c pass": (bare, {}),
                "clean": ([*lint, "--no-cache", *map(str, sorted(clean.iterdir()))], {}),
                "findings": ([*lint, "--no-cache", *map(str, sorted(dirty.iterdir()))], {}),
                "findings, warm": ([*lint, *map(str, sorted(dirty.iterdir()))], {"env": warm_env})}
    series = alternate(commands, runs)
    # The usual pre-commit run: the five files changed since the last run (each one misses the
    # cache and is written to it), against the same run without the cache.
    changed: dict[str, Series] = {"cache": Series("cache"), "no cache": Series("no cache")}
    for n in range(runs):
        for name, cmd, env in (("cache", lint, warm_env), ("no cache", [*lint, "--no-cache"], ENV)):
            for i, path in enumerate(sorted(dirty.iterdir())):
                _write(path, SHELL.format(n=i, k=i + 1) + (SHELL_IMDS if i < 4 else "") + f"# edit {name} {n}\n")
            changed[name].add(*timed([*cmd, *map(str, sorted(dirty.iterdir()))], env=env))
    shutil.rmtree(cache, ignore_errors=True)
    for i, path in enumerate(sorted(dirty.iterdir())):
        _write(path, SHELL.format(n=i, k=i + 1) + (SHELL_IMDS if i < 4 else ""))
    base = series["python -c pass"].median
    print(f"\n[pre-commit] ({load_average()}) python -c pass {base * 1000:.0f} ms; "
          f"5 clean files {series['clean'].median * 1000:.0f} ms = {series['clean'].median / base:.2f}x; "
          f"5 files, 4 tokenless curls {series['findings'].median * 1000:.0f} ms = "
          f"{series['findings'].median / base:.2f}x (wall)")
    cpu = series["python -c pass"].median_cpu
    print(f"             CPU: {cpu * 1000:.0f} ms; clean {series['clean'].median_cpu / cpu:.2f}x; "
          f"findings {series['findings'].median_cpu / cpu:.2f}x")
    print(f"             results cache: 5 files unchanged {series['findings, warm'].median * 1000:.0f} ms = "
          f"{series['findings, warm'].median / base:.2f}x; 5 files changed {changed['cache'].median * 1000:.0f} ms "
          f"= {changed['cache'].median / base:.2f}x (without the cache "
          f"{changed['no cache'].median * 1000:.0f} ms = {changed['no cache'].median / base:.2f}x)")
    rows.append({"tree": "pre-commit", "bare": base, "clean": series["clean"].median,
                 "findings": series["findings"].median, "findings_warm": series["findings, warm"].median,
                 "findings_changed_cache": changed["cache"].median,
                 "findings_changed_no_cache": changed["no cache"].median})


def measure_large(lint: list[str], scratch: Path, rows: list) -> None:
    print(f"\n[single large files] ({load_average()})")
    for label, path in build_large(scratch / "large").items():
        t, _, rss = timed([*lint, "--no-cache", "--format", "json", str(path)])
        mb = path.stat().st_size / 1024 / 1024
        print(f"  {label}: {t:.2f}s, peak RSS {rss:.0f} MB = {rss / mb:.0f} MB per MB of input")
        rows.append({"tree": label, "lint": t, "rss": rss, "rss_per_mb": rss / mb})


def slowest_python_files(tree: Path, count: int = 5) -> None:
    """In-process: the slowest Python candidates of the tree (none under the size limit may pass 1 s)."""
    from imds_lint import screening
    from imds_lint.config import Settings
    from imds_lint.engine import Linter

    linter = Linter(Settings(root=tree))
    linter.lint_file(__file__, "warm-up")  # imports and the rule catalog, not any one file's cost
    times = []
    for root, _, names in os.walk(tree):
        for name in names:
            path = os.path.join(root, name)
            if not name.endswith(".py") or screening.screen(path, path, linter.settings.max_file_size) is not None:
                continue
            start = time.perf_counter()
            linter.lint_file(path, path)
            times.append((time.perf_counter() - start, os.path.getsize(path), path))
    times.sort(reverse=True)
    print(f"  {len(times)} Python candidates, {sum(t for t, _, _ in times):.2f}s in all; slowest:")
    for t, size, path in times[:count]:
        print(f"    {t:.3f}s  {size / 1024:.0f} KB  {os.path.relpath(path, tree)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=HERE / "trees", help="where the generated trees live")
    parser.add_argument("--scratch", type=Path,
                        help="where the pre-commit and large files are written (default: --work), for trees "
                             "shared read-only; only a run with semgrep writes into a tree (an empty .semgrepignore)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--only", default="current,iac,tf20k,python,real,precommit,large",
                        help="comma-separated subset of current,iac,tf20k,python,real,precommit,large")
    parser.add_argument("--python-tree", type=Path, help="a real datasource-heavy checkout (never committed)")
    parser.add_argument("--semgrep", default=shutil.which("semgrep"), help="semgrep executable (own venv)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    only = set(args.only.split(","))

    lint = _command()
    trees: dict[str, Path] = {}
    for name, build in TREES.items():
        tree = args.work / name
        if name in only and (args.rebuild or not tree.exists()):
            print(f"building {tree} ...", flush=True)
            if tree.exists():
                shutil.rmtree(tree)
            build(tree)
        trees[name] = tree
    if args.python_tree is not None:
        trees["real"] = args.python_tree
    if not args.semgrep:
        print("semgrep: not installed (pip install semgrep into its own venv, pass --semgrep), skipped")

    rows: list[dict] = []
    for name, tree in trees.items():
        if name in only:
            measure_tree(name, tree, lint, args.semgrep, args.runs, rows)
            if name in ("python", "real"):
                slowest_python_files(tree)
    if "precommit" in only:
        measure_precommit(trees, lint, args.runs, rows, args.scratch or args.work)
    if "large" in only:
        measure_large(lint, args.scratch or args.work, rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
