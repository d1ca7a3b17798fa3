"""The cheap decision (CPython's tree) that a module needs no libcst walk gives the walk's own answer.

For every Python fixture, every Python rule example, a sample of the standard
library, and modules generated and mutated at random for a bounded time, the
findings and notes with the shortcut equal those of always walking with libcst.
"""

from __future__ import annotations

import ast
import random
import time
from pathlib import Path

import pytest

from imds_lint.frontends.python import reach as python_reach
from imds_lint.registry import all_rules
from tests.helpers import lint_notes

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))


def _both(code: str, monkeypatch) -> tuple[tuple, tuple, bool]:
    """(findings and notes with the shortcut, the same always walking, whether the shortcut was taken)."""
    decisions = []
    real = python_reach.walker_may_report

    def recorded(tree, tables):
        decisions.append(real(tree, tables))
        return decisions[-1]

    monkeypatch.setattr(python_reach, "walker_may_report", recorded)
    fast = lint_notes(code, "python")
    monkeypatch.setattr(python_reach, "walker_may_report", lambda tree, tables: True)
    full = lint_notes(code, "python")
    monkeypatch.setattr(python_reach, "walker_may_report", real)
    return fast, full, decisions == [False]


def _examples() -> list[str]:
    found = []
    for rule in all_rules():
        for example in [*getattr(rule, "valid", ()), *getattr(rule, "invalid", ())]:
            if getattr(example, "kind", None) == "python":
                found.append(example.code)
    return found


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(ROOT / "fixtures")))
def test_fixture_modules_give_the_same_findings(path, monkeypatch):
    code = path.read_text(encoding="utf-8")
    fast, full, _ = _both(code, monkeypatch)
    assert fast == full


def test_rule_examples_give_the_same_findings(monkeypatch):
    examples = _examples()
    assert len(examples) >= 10
    skipped = 0
    for code in examples:
        fast, full, took = _both(code, monkeypatch)
        assert fast == full, code
        skipped += took
    assert skipped > 0  # the valid examples include modules with nothing to walk


# -- generated modules ----------------------------------------------------------------------
HOSTS = ["169.254.169.254", "[fd00:ec2::254]", "instance-data", "192.0.2.10", "example.com"]
PATHS = ["/latest/meta-data/instance-id", "/latest/api/token", "/latest/user-data", "/metadata/instance", "/"]
IMPORTS = [
    "import requests", "import requests as r", "from requests import get", "from requests import get as fetch",
    "import httpx", "import urllib.request", "from urllib.request import urlopen, Request",
    "import urllib2", "import http.client", "from http.client import HTTPConnection", "import urllib3",
    "import subprocess", "from subprocess import run", "import os", "import boto.utils",
    "from boto.utils import get_instance_metadata", "import boto", "from unittest import mock",
    "import responses", "from . import url_helper", "from fleet import url_helper", "import json",
    "from requests import *",
]
RECEIVERS = ["requests", "r", "httpx", "session", "self.session", "client", "pool", "url_helper", "d", "conn"]


def _expression(rng: random.Random, names: list[str]) -> str:
    host, path = rng.choice(HOSTS), rng.choice(PATHS)
    choices = [
        f'"http://{host}{path}"',
        f'f"http://{host}{{PATH}}"',
        f'"http://%s{path}" % HOST',
        f'"http://{{}}{path}".format(HOST)',
        f'BASE + "{path}"',
        f'urljoin(BASE, "{path}")',
        f'os.environ.get("MD_URL", "http://{host}{path}")',
        f'"{host}"',
        f'self.base + "{path}"',
        f'Config.BASE + "{path}"',
        'url', 'URL', 'make_url()',
    ]
    if names:
        choices.append(rng.choice(names))
    return rng.choice(choices)


def _call(rng: random.Random, names: list[str]) -> tuple[str, str]:
    """A call and the import it needs."""
    url = _expression(rng, names)
    receiver = rng.choice(RECEIVERS)
    templates = [
        ("import requests", f"{receiver}.get({url}, timeout=2)"),
        ("import httpx", f'{receiver}.put({url}, headers={{"X-aws-ec2-metadata-token-ttl-seconds": "21600"}})'),
        ("import urllib3", f'{receiver}.request("GET", {url})'),
        ("from fleet import url_helper", f"{receiver}.readurl({url})"),
        ("from requests import get", f"get({url})"), ("from requests import get as fetch", f"fetch({url})"),
        ("from urllib.request import urlopen, Request", f"urlopen({url})"),
        ("from urllib.request import urlopen, Request", f"urlopen(Request({url}))"),
        ("import urllib2", f"urllib2.urlopen({url})"),
        ("import urllib.request", f"urllib.request.urlopen({url}, timeout=1)"),
        ("import subprocess", f'subprocess.run(["curl", "-s", {url}])'),
        ("from subprocess import run", f"run(['curl', {url}])"),
        ("import os", f'os.system("curl -s " + {url})'),
        ("import boto.utils", "boto.utils.get_instance_metadata()"),
        ("from boto.utils import get_instance_metadata", "get_instance_metadata()"),
        ("import boto", "boto.connect_ec2()"),
        ("from http.client import HTTPConnection", f"HTTPConnection({url}).request('GET', '/latest/meta-data/')"),
        ("import http.client", f"http.client.HTTPConnection({url}).request('GET', '/latest/meta-data/')"),
        ("import requests", f"requests.Session().get({url})"),
        ("import httpx", f"httpx.Client(base_url={url}).get('/latest/meta-data/')"),
        ("import urllib3", f"urllib3.PoolManager().request('GET', {url})"),
        ("import logging", f"LOG.debug('using %s', {url})"),
        ("import json", f"d.get({url}, None)"), ("import json", f"helper({url})"),
        ("from unittest import mock", f"mock.patch({url})"),
    ]
    return rng.choice(templates)


def _module(rng: random.Random) -> str:
    lines = rng.sample(IMPORTS, rng.randint(0, 2))
    names: list[str] = []
    for _ in range(rng.randint(0, 3)):
        name = rng.choice(["HOST", "BASE", "URL", "PATH", "MD", "ENDPOINT"])
        lines.append(f"{name} = {_expression(rng, names)}")
        names.append(name)
    # Each part is optional: sparse modules make each call's own decision count.
    if rng.random() < 0.3:
        lines.append("class Config:\n    BASE = " + _expression(rng, names))
    if rng.random() < 0.3:
        lines.append("def make_url():\n    return " + _expression(rng, names))
    if rng.random() < 0.3:
        param = rng.choice(['url', 'url="http://169.254.169.254/latest/meta-data/"', "url=None"])
        needs, call = _call(rng, names)
        lines += [needs, f"def helper({param}):\n    return {call}"]
    if rng.random() < 0.2:
        lines.append("class Client:\n    def __init__(self, base=" + _expression(rng, names) + "):\n"
                     "        self.base = base\n        self.session = requests.Session()\n"
                     f"    def fetch(self):\n        return {_call(rng, names)[1]}")
    for _ in range(rng.randint(1, 2)):
        indent = rng.choice(["", "    "])
        needs, body = _call(rng, names)
        if rng.random() < 0.8:
            lines.insert(0, needs)
        if indent:
            lines.append(f"def {rng.choice(['test_read', 'read', 'probe'])}():\n{indent}{body}")
        else:
            lines.append(body)
    if rng.random() < 0.3:
        lines.append(f"helper({_expression(rng, names)})")
    return "\n".join(lines) + "\n"


def _mutate(rng: random.Random, code: str) -> str:
    lines = code.splitlines()
    for _ in range(rng.randint(1, 3)):
        choice = rng.random()
        if choice < 0.3 and len(lines) > 1:
            del lines[rng.randrange(len(lines))]
        elif choice < 0.6:
            i = rng.randrange(len(lines))
            lines[i] = lines[i].replace("169.254.169.254", rng.choice(HOSTS))
        elif choice < 0.8:
            i = rng.randrange(len(lines))
            lines.insert(i, rng.choice(IMPORTS))
        else:
            i = rng.randrange(len(lines))
            lines[i] = lines[i].replace("requests", rng.choice(["r", "httpx", "session", "requests"]))
    return "\n".join(lines) + "\n"


def test_generated_and_mutated_modules_give_the_same_findings(monkeypatch):
    rng = random.Random(19)
    sources = [p.read_text(encoding="utf-8") for p in FIXTURES] + _examples()
    deadline = time.monotonic() + 20.0  # time-bounded: as many cases as fit
    checked = skipped = walked = 0
    while time.monotonic() < deadline or checked < 200:
        code = _module(rng) if rng.random() < 0.7 else _mutate(rng, rng.choice(sources))
        try:
            ast.parse(code)
        except SyntaxError:
            continue
        fast, full, took = _both(code, monkeypatch)
        assert fast == full, code
        checked += 1
        skipped += took
        walked += not took
    # Both branches were exercised, many times.
    assert skipped > 20 and walked > 20, (skipped, walked)
