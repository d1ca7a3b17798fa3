"""Every front-end and fixer under random input built from its own language's pieces.

No internal error, fixes idempotent and never adding syntax errors. The normal
run uses the fast profile; IMDS_LINT_FUZZ=1 runs 10,000 examples per kind.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imds_lint.engine import syntax_errors
from tests.helpers import fix, lint_notes

URL = "http://169.254.169.254/latest/meta-data/instance-id"
TOKEN_URL = "http://169.254.169.254/latest/api/token"
COMMON = [URL, TOKEN_URL, "X-aws-ec2-metadata-token", "X-aws-ec2-metadata-token-ttl-seconds", "\n", " ", "\t",
          '"', "'", "`", "$", "{", "}", "(", ")", "[", "]", ":", ",", "=", "\\", "#", "\r\n", "\u00e9", "\U0001f600"]
PIECES = {
    "shell": ["curl -s ", "wget -qO- ", "http GET ", "-H ", "-X PUT ", "bash -c ", "<<EOF\n", "\nEOF\n", "f() { ", " }",
              "$(", "${IMDS}", "IMDS=", "sudo ", "for k in a b; do ", "; done", "if true; then ", "; fi"],
    "python": ["import requests\n", "requests.get(", "requests.put(", "headers=", "{'X-aws-ec2-metadata-token': t}",
               "def f(x):\n    ", "return ", "async def g():\n    ", "await ", "httpx.get(", "urlopen(", "f'", "timeout=2"],
    "powershell": ["Invoke-RestMethod -Uri ", "iwr ", "-Headers @{", "= $t}", "-Method PUT ", "$u = ", "function f {",
                   "}", "New-Object System.Net.WebClient", ".DownloadString("],
    "dockerfile": ["FROM alpine\n", "RUN ", "CMD ", "ENTRYPOINT ", '["sh", "-c", "', '"]', "SHELL [\"pwsh\", \"-c\"]\n",
                   "RUN <<EOF\n", "curl ", " \\\n  ", "# escape=`\n", "COPY a.sh /a.sh\n"],
    "terraform": ['resource "aws_instance" "x" {\n', "user_data = <<-EOF\n", "EOF\n", "}\n", "metadata_options {\n",
                  'http_tokens = "optional"\n', "curl ", "${var.x}", "$${X}", 'data "http" "m" {\n url = "', '"\n'],
    "template": ["#!/bin/bash\n", "curl ", "${x}", "$${Y}", "%{ if a }", "%{ endif }", "\n"],
    "yaml": ["#cloud-config\n", "runcmd:\n", "  - ", "curl ", "Resources:\n  I:\n    Type: AWS::EC2::Instance\n",
             "    Properties:\n      UserData: !Base64 |\n", "        ", "services:\n  web:\n    command: ", "kind: Pod\n",
             "apiVersion: v1\n", "on: push\njobs:\n  b:\n    steps:\n      - run: ", "- hosts: all\n  tasks:\n"],
    "json": ['{"containerDefinitions": [{"command": ["', '"]}]}', '{"UserData": "', '"}', '{"Resources": {',
             '"Type": "AWS::EC2::Instance"', "}", "[", "]"],
    "user-data": ["#cloud-config\n", "#!/bin/bash\n", "Content-Type: multipart/mixed; boundary=X\n\n--X\n",
                  "Content-Type: text/x-shellscript\n\n", "--X--\n", "<powershell>", "</powershell>", "curl "],
    "javascript": ["fetch(", "axios.get(", "axios.put(", "const u = ", "await ", ", { headers: {", "} }", ");\n",
                   "function f() {", "}\n", "`${base}/latest`", "require('axios')\n"],
    "go": ["package main\n", "http.Get(", "req, _ := http.NewRequest(", '"GET", ', "req.Header.Set(", "client.Do(req)",
           "func f() {\n", "}\n", "const base = "],
    "java": ["class A {", "}", "new URL(", ").openConnection()", "conn.setRequestProperty(", "HttpRequest.newBuilder()",
             ".header(", ".build()", "void f() {"],
    "csharp": ["class A {", "}", "client.GetStringAsync(", "new HttpRequestMessage(HttpMethod.Put, ", "req.Headers.Add(",
               "void F() {"],
    "ruby": ["require 'net/http'\n", "Net::HTTP.get(URI(", "))\n", "req = Net::HTTP::Get.new(uri)\n", "req['",
             "'] = t\n", "`curl ", "`\n", "def f\n", "end\n"],
    "makefile": ["all:\n", "\tcurl ", "\t@", "$$(", "$(VAR)", "\n"],
    "requirements.txt": ["awscli==1.16.0\n", "boto3>=1.9\n", "boto\n", "-r base.txt\n", "botocore~=1.12\n", "# c\n"],
    "package.json": ['{"dependencies": {"aws-sdk": "', '^2.100.0', '"}}', '{"devDependencies": {'],
}


def _source(kind: str):
    pieces = PIECES[kind] + COMMON
    return st.lists(st.sampled_from(pieces), max_size=40).map("".join)


def _check(kind: str, text: str) -> None:
    _, notes = lint_notes(text, kind)
    assert not [n for n in notes if "internal error" in n], notes
    fixed = fix(text, kind, unsafe=True)
    assert fix(fixed, kind, unsafe=True) == fixed, "fixes must be idempotent"
    assert syntax_errors(fixed, kind) <= syntax_errors(text, kind), "a fix must not add syntax errors"


@pytest.mark.parametrize("kind", sorted(PIECES))
def test_frontend_and_fixer_hold_under_random_input(kind):
    given(_source(kind))(lambda text: _check(kind, text))()


def test_no_fix_lands_in_a_region_the_grammar_could_not_read():
    # Found by the fuzz profile: the httpie request's header went into the unclosed `$(` after its
    # URL, where the next parse could not see it, and was added again on every pass.
    text = "http GET http://169.254.169.254/latest/meta-data/instance-id$(curl -s "
    _check("shell", text)
    assert fix(text, "shell", unsafe=True) == text
