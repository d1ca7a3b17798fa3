"""JavaScript/TypeScript front-end: fetch, axios, http.get, got, aws-sdk v2 MetadataService."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import codes, fix, lint
from tests.source_checks import parses, run, tool

TOKENLESS = [
    ("fetch", "const r = await fetch('http://169.254.169.254/latest/meta-data/instance-id');\n"),
    ("axios-get", "const r = await axios.get('http://169.254.169.254/latest/meta-data/instance-id');\n"),
    ("template", "const B = 'http://169.254.169.254';\nconst r = await fetch(`${B}/latest/meta-data/${p}`);\n"),
    ("concat", "const B = 'http://169.254.169.254/latest';\nconst r = await got(B + '/meta-data/ami-id');\n"),
    ("http-options", "http.get({ hostname: '169.254.169.254', path: '/latest/meta-data/' }, cb);\n"),
    ("https-url", "https.request('http://169.254.169.254/latest/user-data', { method: 'GET' }, cb).end();\n"),
    ("axios-config", "axios({ url: 'http://169.254.169.254/latest/meta-data/', method: 'get' });\n"),
    ("axios-instance", "const m = axios.create({ baseURL: 'http://169.254.169.254/latest' });\nm.get('/meta-data/');\n"),
    ("node-fetch", "import fetch from 'node-fetch';\nfetch('http://169.254.169.254/latest/meta-data/');\n"),
    ("metadata-service", "const s = new AWS.MetadataService();\ns.request('/latest/meta-data/instance-id', cb);\n"),
]


@pytest.mark.parametrize("code", [c for _, c in TOKENLESS], ids=[i for i, _ in TOKENLESS])
def test_tokenless_calls_are_flagged(code):
    assert codes(lint(code, "javascript")) == ["IMDS101"]


TOKEN_FIRST = [
    ("fetch-headers", "const t = await token();\n"
                      "fetch('http://169.254.169.254/latest/meta-data/', { headers: { 'X-aws-ec2-metadata-token': t } });\n"),
    ("axios-config", "axios.get('http://169.254.169.254/latest/meta-data/', { headers: { 'x-aws-ec2-metadata-token': t } });\n"),
    ("instance-headers", "const m = axios.create({ baseURL: 'http://169.254.169.254/latest', "
                         "headers: { 'X-aws-ec2-metadata-token': t } });\nm.get('/meta-data/');\n"),
    ("token-put", "axios.put('http://169.254.169.254/latest/api/token', null, "
                  "{ headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' } });\n"),
    ("headers-elsewhere", "fetch('http://169.254.169.254/latest/meta-data/', opts);\n"),
    ("azure", "fetch('http://169.254.169.254/metadata/instance?api-version=2021-02-01', { headers: { Metadata: 'true' } });\n"),
    ("gcp", "fetch('http://169.254.169.254/computeMetadata/v1/', { headers: { 'Metadata-Flavor': 'Google' } });\n"),
    ("ecs", "fetch('http://169.254.170.2' + process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);\n"),
    ("string-only", "const docs = 'see http://169.254.169.254/latest/meta-data/';\nconsole.log(docs);\n"),
    ("metadata-service-token", "const s = new AWS.MetadataService();\ns.fetchMetadataToken((e, token) => {\n"
                               "  s.request('/latest/meta-data/', { headers: { 'x-aws-ec2-metadata-token': token } }, cb);\n});\n"),
]


@pytest.mark.parametrize("code", [c for _, c in TOKEN_FIRST], ids=[i for i, _ in TOKEN_FIRST])
def test_token_first_and_look_alikes_are_not_flagged(code):
    assert "IMDS101" not in codes(lint(code, "javascript"))


def test_headers_in_axios_body_argument_are_no_headers():
    code = ("axios.put('http://169.254.169.254/latest/api/token', "
            "{ headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' } });\n")
    assert codes(lint(code, "javascript")) == ["IMDS506"]


def test_metadata_service_message_names_the_sdk_version():
    [finding] = lint("const s = new AWS.MetadataService();\ns.request('/latest/meta-data/', cb);\n", "javascript")
    assert "2.722.0" in finding.message


def test_reported_on_the_line_that_sends():
    code = "const B = 'http://169.254.169.254';\n\nasync function f() {\n  return fetch(B + '/latest/meta-data/');\n}\n"
    [finding] = lint(code, "javascript")
    assert finding.start.line == 4


def test_typescript_and_tsx_are_read():
    code = "export async function f(): Promise<string> {\n  const r = await fetch('http://169.254.169.254/latest/meta-data/');\n  return (r.text() as Promise<string>);\n}\n"
    assert codes(lint(code, "typescript")) == ["IMDS101"]
    assert codes(lint("const C = () => <div>{fetch('http://169.254.169.254/latest/meta-data/')}</div>;\n", "tsx")) == ["IMDS101"]


@pytest.mark.parametrize("code", [TOKENLESS[0][1], TOKENLESS[1][1]], ids=["fetch", "axios-get"])
def test_simple_calls_are_fixed_safely_and_still_parse(code, tmp_path):
    fixed = fix(code, "javascript")
    assert fixed != code and "X-aws-ec2-metadata-token" in fixed and "/latest/api/token" in fixed
    assert fix(fixed, "javascript") == fixed
    assert lint(fixed, "javascript") == []
    assert parses(fixed, "javascript")
    if tool("node"):
        path = tmp_path / "fixed.mjs"
        path.write_text(fixed)
        assert run(["node", "--check", str(path)]).returncode == 0


def test_complex_calls_get_a_display_only_suggestion_that_parses(tmp_path):
    from tests.source_checks import suggested

    code = "async function f() {\n  const r = await fetch('http://169.254.169.254/latest/meta-data/', { method: 'GET' });\n}\n"
    assert fix(code, "javascript") == code
    text, findings = suggested(code, "javascript")
    assert "PUT /latest/api/token" in findings[0].message
    assert text != code and parses(text, "javascript")
    if tool("node"):
        path = tmp_path / "s.mjs"
        path.write_text(text)
        assert run(["node", "--check", str(path)]).returncode == 0


@pytest.mark.slow
def test_fixed_fetch_runs_against_the_emulator(emulator, tmp_path):
    if not tool("node") or run(["node", "-e", "process.exit(typeof fetch === 'function' ? 0 : 1)"]).returncode:
        pytest.skip("node with a global fetch is not installed")
    from tests.emulator import METADATA, point_at

    code = "const r = await fetch('http://169.254.169.254/latest/meta-data/instance-id');\nconsole.log(await r.text());\n"
    fixed = point_at(fix(code, "javascript"), emulator)
    path = tmp_path / "run.mjs"
    path.write_text(fixed)
    result = run(["node", str(path)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == METADATA["/latest/meta-data/instance-id"]


def test_non_candidate_files_never_import_a_grammar(tmp_path):
    (tmp_path / "app.js").write_text("const x = require('express');\nconsole.log(x);\n")
    (tmp_path / "main.go").write_text("package main\nfunc main() {}\n")
    (tmp_path / "App.java").write_text("class App {}\n")
    script = (
        "import sys\nfrom imds_lint.cli import main\n"
        f"code = main([{str(tmp_path)!r}, '--jobs', '1'])\n"
        "loaded = [m for m in sys.modules if m.startswith(('tree_sitter_', 'imds_lint.frontends.sourcecode'))]\n"
        "print(code, loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().endswith("0 []"), result.stdout + result.stderr


@pytest.mark.parametrize("binding", [
    "const aws = require('aws-sdk');",
    "import * as aws from 'aws-sdk';",
    "import aws from 'aws-sdk/global';",
])
def test_metadata_service_through_any_alias_of_the_sdk_inline_or_in_a_variable(binding):
    inline = f"{binding}\nnew aws.MetadataService().request('/latest/meta-data/ami-id', (e, d) => {{}});\n"
    stored = f"{binding}\nconst m = new aws.MetadataService();\nm.request('/latest/meta-data/ami-id', () => {{}});\n"
    assert codes(lint(inline, "javascript")) == ["IMDS101"]
    assert codes(lint(stored, "javascript")) == ["IMDS101"]


def test_a_metadata_service_of_another_module_is_not_the_sdks():
    code = "const aws = require('./my-aws');\nnew aws.MetadataService().request('/latest/meta-data/ami-id', f);\n"
    assert lint(code, "javascript") == []


def test_request_style_libraries_under_any_name():
    url = "http://169.254.169.254/latest/meta-data/ami-id"
    tokenless = (f"const request = require('request');\nrequest.get('{url}', cb);\n"
                 f"const rp = require('request-promise-native');\nrp({{ uri: '{url}' }});\n"
                 f"import agent from 'superagent';\nagent.get('{url}').end(cb);\n")
    assert [f.start.line for f in lint(tokenless, "javascript")] == [2, 4, 6]
    with_token = (f"const request = require('request');\n"
                  f"request.get('{url}', {{ headers: {{ 'X-aws-ec2-metadata-token': t }} }}, cb);\n"
                  f"import agent from 'superagent';\nagent.get('{url}').set('X-aws-ec2-metadata-token', t).end(cb);\n")
    assert lint(with_token, "javascript") == []
    # A local function that happens to be called request is not the library.
    assert lint(f"function request(u) {{ return u; }}\nrequest('{url}');\n", "javascript") == []
