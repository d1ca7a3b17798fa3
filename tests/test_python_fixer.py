"""The Python fixer: where the token goes, which helper it comes from, and how sure the fix is."""

from __future__ import annotations

import textwrap

import pytest

from imds_lint.frontends import python as py
from imds_lint.model import Applicability
from tests.helpers import codes, fix, lint


def _dedent(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def _fixes(code: str):
    return [f.fix for f in lint(code, "python") if f.code == "IMDS101"]


def test_one_helper_per_module_for_many_requests():
    code = _dedent("""
        import requests

        def region():
            return requests.get("http://169.254.169.254/latest/meta-data/placement/region", timeout=2).text

        def zone():
            return requests.get("http://169.254.169.254/latest/meta-data/placement/availability-zone", timeout=2).text
        """)
    fixed = fix(code, "python")
    assert fixed.count("def _imds_token(") == 1
    # One cached helper, called with each request's own time limit.
    assert fixed.count('headers={"X-aws-ec2-metadata-token": _imds_token(2)}') == 2
    assert lint(fixed, "python") == []


def test_helper_name_does_not_clash():
    code = _dedent("""
        import requests

        _imds_token = "not a function"
        print(requests.get("http://169.254.169.254/latest/meta-data/ami-id").text)
        """)
    fixed = fix(code, "python")
    assert "def _imds_token_2(timeout=2):" in fixed and "_imds_token_2()}" in fixed
    assert '_imds_token = "not a function"' in fixed


def test_existing_token_helper_is_reused():
    code = _dedent("""
        import requests

        TOKEN_URL = "http://169.254.169.254/latest/api/token"


        def get_token():
            response = requests.put(TOKEN_URL, headers={"X-aws-ec2-metadata-token-ttl-seconds": "600"}, timeout=1)
            return response.text


        def instance_id():
            return requests.get("http://169.254.169.254/latest/meta-data/instance-id", timeout=1).text
        """)
    fixed = fix(code, "python")
    assert "def _imds_token" not in fixed
    assert 'timeout=1, headers={"X-aws-ec2-metadata-token": get_token()}).text' in fixed


def test_a_function_that_merely_puts_is_not_taken_for_a_token_helper():
    code = _dedent("""
        import requests

        def first_meta():
            requests.put("http://169.254.169.254/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
            return requests.get("http://169.254.169.254/latest/meta-data/ami-id").text
        """)
    fixed = fix(code, "python")
    assert "first_meta()}" not in fixed and "_imds_token()}" in fixed  # no timeout= on that call


def test_merge_into_existing_headers_dict_keeps_quotes_and_entries():
    code = "import requests\nr = requests.get('http://169.254.169.254/latest/user-data', headers={'Accept': 'text/plain'})\n"
    [found] = _fixes(code)
    assert found.applicability is Applicability.SAFE
    fixed = fix(code, "python")
    assert "headers={'X-aws-ec2-metadata-token': _imds_token(), 'Accept': 'text/plain'}" in fixed


def test_headers_variable_is_wrapped_not_mutated():
    code = _dedent("""
        import requests
        HEADERS = {"Accept": "text/plain"}
        r = requests.get("http://169.254.169.254/latest/user-data", headers=HEADERS)
        """)
    [found] = _fixes(code)
    assert found.applicability is Applicability.UNSAFE
    assert found.title.endswith("(unsafe: the headers come from a variable the fixer cannot read (it may not be a dict))")
    fixed = fix(code, "python", unsafe=True)
    assert 'headers={**(HEADERS or {}), "X-aws-ec2-metadata-token": _imds_token()}' in fixed
    assert 'HEADERS = {"Accept": "text/plain"}' in fixed


@pytest.mark.parametrize("code, reason", [
    # A shared session.
    ("import requests\nS = requests.Session()\nS.get('http://169.254.169.254/latest/meta-data/ami-id')\n",
     "a session or connection built elsewhere, whose time limit and base address"),
    # A Request built in another statement.
    ("from urllib.request import Request, urlopen\nr = Request('http://169.254.169.254/latest/meta-data/ami-id')\n"
     "urlopen(r)\n", "a Request object built in another statement"),
    # subprocess gets a token from Python.
    ("import subprocess\nsubprocess.run(['curl', '-s', 'http://169.254.169.254/latest/meta-data/ami-id'])\n",
     "the command run by subprocess keeps its own time limit"),
])
def test_fixes_beyond_one_call_are_unsafe_and_say_why(code, reason):
    [found] = _fixes(code)
    assert found is not None and found.applicability is Applicability.UNSAFE
    # The title names the guarantee that could not be proven, and only that one.
    assert found.title.startswith("Fetch an IMDSv2 token first and send it with this request (unsafe: ")
    assert reason in found.title and found.title.count("; ") == 0
    assert fix(code, "python") == code
    assert "IMDS101" not in codes(lint(fix(code, "python", unsafe=True), "python"))


def test_async_code_gets_an_async_helper_and_sync_code_never_awaits():
    async_code = _dedent("""
        import aiohttp

        async def region():
            async with aiohttp.ClientSession() as session:
                async with session.get("http://169.254.169.254/latest/meta-data/placement/region") as r:
                    return await r.text()
        """)
    fixed = fix(async_code, "python", unsafe=True)
    assert "async def _imds_token_aiohttp(timeout=2):" in fixed
    assert '"X-aws-ec2-metadata-token": await _imds_token_aiohttp()' in fixed
    assert py.syntax_errors(fixed) == 0
    sync_code = _dedent("""
        import aiohttp

        def region(session: aiohttp.ClientSession):
            return session.get("http://169.254.169.254/latest/meta-data/placement/region")
        """)
    # The receiver is a parameter nobody passes: its headers are unknown, so no claim at all.
    assert fix(sync_code, "python", unsafe=True) == sync_code


def test_no_fix_means_the_message_carries_the_recipe():
    code = "import shlex, subprocess\nsubprocess.run(shlex.split('curl -s http://169.254.169.254/latest/meta-data/ami-id'))\n"
    [finding] = lint(code, "python")
    assert finding.fix is None
    assert "fetch a token with PUT /latest/api/token and send it as X-aws-ec2-metadata-token" in finding.message


def test_comments_formatting_and_crlf_survive():
    code = ("#!/usr/bin/env python3\r\n# -*- coding: utf-8 -*-\r\n\"\"\"Tool.\"\"\"\r\nimport requests  # http\r\n\r\n\r\n"
            "def main():\r\n    # the region, for the logs\r\n    return requests.get(\r\n"
            "        \"http://169.254.169.254/latest/meta-data/placement/region\",  # IMDS\r\n"
            "        timeout=2,\r\n    ).text\r\n")
    fixed = fix(code, "python")
    assert "\n" not in fixed.replace("\r\n", "")
    for line in code.splitlines():
        if "timeout=2" not in line:
            assert line in fixed.splitlines()
    assert 'timeout=2, headers={"X-aws-ec2-metadata-token": _imds_token(2)},' in fixed
    assert fix(fixed, "python") == fixed


def test_put_method_fixes():
    code = "import requests\nrequests.request('GET', 'http://169.254.169.254/latest/api/token', headers={'X-aws-ec2-metadata-token-ttl-seconds': '60'})\n"
    assert fix(code, "python") == code.replace("'GET'", "'PUT'")
    code = ("from urllib.request import Request, urlopen\nr = Request('http://169.254.169.254/latest/api/token', "
            "headers={'X-aws-ec2-metadata-token-ttl-seconds': '60'})\nurlopen(r)\n")
    fixed = fix(code, "python", unsafe=True)
    assert "method=\"PUT\"" in fixed and "IMDS505" not in codes(lint(fixed, "python"))


@pytest.mark.parametrize("code", [
    "import requests\nS = requests.Session()\nS.get('http://169.254.169.254/latest/meta-data/ami-id')\n",
    "import http.client\nC = http.client.HTTPConnection('169.254.169.254')\nC.request('GET', '/latest/meta-data/ami-id')\n",
    "from urllib.request import urlopen\nurlopen('http://169.254.169.254/latest/meta-data/ami-id')\n",
    "import httpx\n\nasync def f():\n    async with httpx.AsyncClient() as c:\n        await c.get('http://169.254.169.254/latest/meta-data/ami-id')\n",
])
def test_inserted_helpers_are_recognised_as_token_helpers(code):
    from imds_lint.model import Document

    fixed = fix(code, "python", unsafe=True)
    [analysis] = py.analyze(Document("python", fixed), None)
    assert analysis.state.token_helpers, "a second pass must reuse the helper, not add another"
    again = fixed + code.split("\n", 1)[1].replace("ami-id", "instance-id")
    assert fix(again, "python", unsafe=True).count("def _imds_token") == 1
