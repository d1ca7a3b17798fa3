"""Properties: real Python never crashes the front-end, and Python fixes round-trip."""

from __future__ import annotations

import sysconfig
from functools import lru_cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
import pytest

from imds_lint.engine import Session
from imds_lint.frontends import python as py
from imds_lint.model import Document
from tests.helpers import codes, fix, lint

_MAX_BYTES = 16_000


@lru_cache(maxsize=1)
def stdlib_sources() -> tuple[Path, ...]:
    """Modules of the running interpreter's own Lib directory (valid, idiomatic, varied Python)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = []
    for path in sorted(root.rglob("*.py")):
        parts = set(path.relative_to(root).parts)
        if parts & {"site-packages", "dist-packages"}:
            continue
        try:
            if path.stat().st_size <= _MAX_BYTES:
                files.append(path)
        except OSError:
            continue
    return tuple(files)


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "replace")


@pytest.mark.slow
@settings(max_examples=25)
@given(st.sampled_from(stdlib_sources()), st.integers(min_value=0, max_value=400))
def test_stdlib_sources_never_crash_the_front_end(path, cut):
    text = _read(path)
    errors: list[str] = []
    # Whole files, and files cut short at an arbitrary line (usually a syntax error).
    lines = text.splitlines(keepends=True)
    for sample in (text, "".join(lines[: cut % (len(lines) + 1)])):
        analyses = py.analyze(Document("python", sample), Session(errors))
        assert analyses and all(a.document.text == sample for a in analyses[:1])
        assert isinstance(py.syntax_errors(sample), int)
    assert not any("internal error" in e for e in errors), errors


CLIENTS = {
    "requests": ("import requests\n", "requests.get({url}{headers}, timeout=3).text"),
    "requests-session": ("import requests\nS = requests.Session()\n", "S.get({url}{headers}).text"),
    "httpx": ("import httpx\n", "httpx.get({url}{headers}).text"),
    "urlopen": ("from urllib.request import urlopen\n", "urlopen({url}, timeout=3).read()"),
    "urllib-request": ("import urllib.request\n", "urllib.request.urlopen(urllib.request.Request({url}{headers})).read()"),
    "http-client": ("import http.client\nC = http.client.HTTPConnection('169.254.169.254')\n",
                    "C.request('GET', '/latest/meta-data/{path}'{headers})"),
}
URLS = {
    "literal": '"http://169.254.169.254/latest/meta-data/{path}"',
    "constant": 'BASE + "{path}"',
    "f-string": 'f"{{BASE}}{path}"',
    "percent": '"%s%s" % (BASE, "{path}")',
}
HEADERS = {"none": "", "dict": ', headers={"Accept": "text/plain"}', "variable": ", headers=HEADERS"}


@st.composite
def imds_modules(draw):
    client = draw(st.sampled_from(sorted(CLIENTS)))
    url = draw(st.sampled_from(sorted(URLS)))
    headers = draw(st.sampled_from(sorted(HEADERS)))
    path = draw(st.sampled_from(["instance-id", "placement/region", "iam/info"]))
    in_function = draw(st.booleans())
    imports, call = CLIENTS[client]
    header_text = HEADERS[headers] if "{headers}" in call else ""
    expression = call.format(url=URLS[url].format(path=path), headers=header_text, path=path)
    body = f"def read():\n    return {expression}\n" if in_function else f"VALUE = {expression}\n"
    prelude = 'BASE = "http://169.254.169.254/latest/meta-data/"\nHEADERS = {"Accept": "text/plain"}\n'
    return f'"""Generated module."""\n{imports}\n{prelude}\n\n{body}'


@pytest.mark.slow
@settings(max_examples=40)
@given(imds_modules(), st.booleans())
def test_python_fixes_round_trip(code, unsafe):
    assert "IMDS101" in codes(lint(code, "python")), code
    fixed = fix(code, "python", unsafe=unsafe)
    assert py.syntax_errors(fixed) == 0
    assert fix(fixed, "python", unsafe=unsafe) == fixed, "fix(fix(x)) == fix(x)"
    if fixed != code:
        assert "IMDS101" not in codes(lint(fixed, "python")), fixed
        # Bytes before the first edit are untouched: the module's docstring survives.
        assert fixed.startswith('"""Generated module."""\n')


@pytest.mark.slow
@settings(max_examples=8)
@given(st.sampled_from(stdlib_sources()), imds_modules())
def test_fixes_inside_real_modules_keep_them_parsing(path, snippet):
    text = _read(path)
    if py.syntax_errors(text):
        return
    code = text.rstrip("\n") + "\n\n\n" + snippet.split("\n", 1)[1]
    fixed = fix(code, "python", unsafe=True)
    assert py.syntax_errors(fixed) == 0
    assert fix(fixed, "python", unsafe=True) == fixed
