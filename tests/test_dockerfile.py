"""The Dockerfile front-end: instruction bodies as embedded scripts, continuations, container context."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imds_lint.config import Settings
from imds_lint.engine import Linter, Session
from imds_lint.frontends import dockerfile
from imds_lint.project_index import ProjectIndex
from imds_lint.model import Document
from tests.emulator import point_at
from tests.helpers import codes, fix, lint

URL = "http://169.254.169.254/latest/meta-data/instance-id"


def test_run_with_continuations_reports_the_curl_line_with_both_codes():
    text = f"FROM alpine\nRUN apk add curl && \\\n    curl -s {URL} \\\n      -o /id\n"
    found = lint(text, "dockerfile")
    assert sorted((f.start.line, f.code) for f in found) == [(3, "IMDS101"), (3, "IMDS201")]
    hop = next(f for f in found if f.code == "IMDS201")
    assert "build time" in hop.message and "bridge network" in hop.message
    # The advice is the rule's help line (the text output's "= help:"), not part of every message.
    from imds_lint.registry import rule_by_code

    advice = rule_by_code("IMDS201").help
    assert "http_put_response_hop_limit to 2" in advice and "IRSA" in advice and "--network host" in advice
    assert "http_put_response_hop_limit" not in hop.message


def test_fix_keeps_continuations_and_the_instruction_whole():
    text = f"FROM alpine\nRUN apk add curl && \\\n    curl -s {URL} \\\n      -o /id\nCMD [\"/bin/true\"]\n"
    fixed = fix(text, "dockerfile")
    # The request runs after `apk add curl &&`: the fetch joins that chain, so it runs only once curl is there.
    assert fixed.splitlines()[2].startswith('    : "${IMDS_TOKEN=$(curl -fs -X PUT')
    assert ' && curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s' in fixed.splitlines()[2]
    assert fixed.endswith('      -o /id\nCMD ["/bin/true"]\n')
    assert dockerfile.syntax_errors(fixed) == 0
    assert fix(fixed, "dockerfile") == fixed
    assert "IMDS101" not in codes(lint(fixed, "dockerfile"))


def test_backtick_escape_directive_is_kept_in_fixes():
    text = f"# escape=`\nFROM alpine\nRUN apk add curl && `\n    curl -s {URL} `\n      -o C:\\id\n"
    found = lint(text, "dockerfile")
    assert [(f.start.line, f.code) for f in found] == [(4, "IMDS101"), (4, "IMDS201")]
    fixed = fix(text, "dockerfile")
    assert '}" && curl -H' in fixed and "\\\n" not in fixed
    assert fixed.endswith("      -o C:\\id\n")


def test_backslash_is_literal_under_a_backtick_escape():
    # C:\ at the end of a line is not a continuation when the escape is a backtick.
    text = "# escape=`\nFROM alpine\nRUN echo C:\\\nCMD curl -s http://169.254.169.254/latest/meta-data/\n"
    found = [(f.start.line, f.code) for f in lint(text, "dockerfile") if f.code != "IMDS001"]
    assert found == [(4, "IMDS101"), (4, "IMDS201")]


def test_exec_form_shell_and_argv():
    text = ('FROM alpine\n'
            'CMD ["sh", "-c", "curl -s \\"http://169.254.169.254/latest/meta-data/ami-id\\""]\n'
            'HEALTHCHECK CMD ["curl", "-f", "http://169.254.169.254/latest/meta-data/"]\n')
    found = lint(text, "dockerfile")
    assert sorted((f.start.line, f.code) for f in found) == [(2, "IMDS101"), (2, "IMDS201"), (3, "IMDS101"), (3, "IMDS201")]
    fixed = fix(text, "dockerfile")
    # The fix goes into the JSON string, escaped as JSON, on one line.
    assert fixed.splitlines()[1].startswith('CMD ["sh", "-c", ": \\"${IMDS_TOKEN=$(curl -fs -X PUT \\"http://')
    import json

    assert json.loads(fixed.splitlines()[1][4:])[2].startswith(': "${IMDS_TOKEN=$(curl')


def test_token_first_request_in_a_container_still_gets_the_hop_limit_finding():
    text = ("FROM alpine\nENTRYPOINT T=$(curl -sX PUT http://169.254.169.254/latest/api/token "
            "-H 'X-aws-ec2-metadata-token-ttl-seconds: 60') && curl -H \"X-aws-ec2-metadata-token: $T\" " + URL + "\n")
    found = lint(text, "dockerfile", path="svc/Dockerfile")
    # One finding per container command: on the request the token is for, not on its PUT as well.
    assert codes(found) == ["IMDS201"]
    assert found[0].start.column > text.splitlines()[1].index("&& curl")
    assert "runs in container image svc/Dockerfile via ENTRYPOINT" in found[0].message


@pytest.mark.parametrize("network, flagged", [("host", False), ("none", True), ("default", True)])
def test_run_network_parameter(network, flagged):
    text = f"FROM alpine\nRUN --network={network} curl -s {URL}\n"
    found = [f for f in lint(text, "dockerfile") if f.code == "IMDS201"]
    assert bool(found) is flagged
    if network == "none":
        assert "cannot reach IMDS" in found[0].message


def test_powershell_shell_sends_bodies_to_powershell():
    text = ('# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n'
            'SHELL ["powershell", "-Command"]\n'
            f"RUN Invoke-RestMethod `\n    -Uri {URL}\n")
    docs = dockerfile.analyze(Document("dockerfile", text), Session([]))
    kinds = [a.document.kind for a in docs[1:]]
    assert kinds == ["powershell"]
    assert docs[1].document.text.startswith("Invoke-RestMethod `\n")
    assert "IMDS201" in codes(lint(text, "dockerfile"))


def test_stage_shell_resets_at_from():
    text = ('FROM mcr.microsoft.com/powershell AS a\nSHELL ["pwsh", "-Command"]\n'
            f"FROM alpine\nRUN curl -s {URL}\n")
    docs = dockerfile.analyze(Document("dockerfile", text), Session([]))
    assert [a.document.kind for a in docs[1:]][-1] == "shell"


def test_cmd_shell_bodies_are_flagged_but_never_rewritten_with_sh_syntax():
    text = f'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["cmd", "/S", "/C"]\nRUN curl.exe -s {URL}\n'
    assert "IMDS101" in codes(lint(text, "dockerfile"))
    assert fix(text, "dockerfile") == text


def test_heredoc_run_is_a_script():
    text = f"FROM alpine\nRUN <<EOF\nset -e\ncurl -s {URL} > /id\nEOF\nCMD [\"sh\"]\n"
    assert sorted((f.start.line, f.code) for f in lint(text, "dockerfile")) == [(4, "IMDS101"), (4, "IMDS201")]
    fixed = fix(text, "dockerfile")
    assert fixed.split("\n")[3].startswith(': "${IMDS_TOKEN=$(curl') and fixed.endswith('EOF\nCMD ["sh"]\n')


@given(st.lists(st.sampled_from(list("RUNCMD \\`\n\"[]#=-<>EOF") + ["curl ", URL, "FROM a\n", "# escape=`\n"]),
                max_size=60).map("".join))
def test_any_text_is_read_without_raising(text):
    notes: list[str] = []
    dockerfile.analyze(Document("dockerfile", text), Session(notes))
    dockerfile.syntax_errors(text)
    assert not any("internal error" in n for n in notes)


def test_fixed_run_body_runs_against_the_emulator(emulator, bash):
    text = f"FROM alpine\nRUN apk add curl >/dev/null 2>&1 || true; \\\n    curl -fsS {URL} \\\n      -o /dev/stdout\n"
    fixed = fix(text, "dockerfile")
    body = dockerfile.analyze(Document("dockerfile", fixed), Session([]))[1].document.text
    done = subprocess.run([bash, "-c", point_at(body, emulator)], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("i-0123456789abcdef0")
    assert emulator.unauthorized == 0


# -- which repo files run in the image ---------------------------------------

def _write(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def test_copied_entrypoint_script_carries_the_container_context(tmp_path):
    _write(tmp_path, {
        "svc/Dockerfile": "FROM alpine\nCOPY scripts/start.sh /usr/local/bin/start.sh\nENTRYPOINT [\"/usr/local/bin/start.sh\"]\n",
        "svc/scripts/start.sh": f"#!/bin/sh\ncurl -s {URL}\n",
        "svc/scripts/deploy.sh": f"#!/bin/sh\ncurl -s {URL}\n",
    })
    linter = Linter(Settings(root=tmp_path))
    started = linter.lint_file(tmp_path / "svc/scripts/start.sh", "svc/scripts/start.sh")
    hop = [f for f in started.findings if f.code == "IMDS201"]
    assert len(hop) == 1
    assert "runs in container image svc/Dockerfile via ENTRYPOINT" in hop[0].message
    deploy = linter.lint_file(tmp_path / "svc/scripts/deploy.sh", "svc/scripts/deploy.sh")
    assert "IMDS201" not in codes(deploy.findings)


def test_script_run_at_build_time_and_folder_copies(tmp_path):
    _write(tmp_path, {
        "Dockerfile": "FROM alpine\nCOPY tools/ /opt/tools/\nRUN sh /opt/tools/bootstrap.sh\nCOPY . /app\n",
        "tools/bootstrap.sh": f"curl -s {URL}\n",
        "tools/unused.sh": f"curl -s {URL}\n",
    })
    assert dockerfile.container_context(tmp_path / "tools/bootstrap.sh", ProjectIndex((tmp_path,))).network == "build"
    assert dockerfile.container_context(tmp_path / "tools/unused.sh", ProjectIndex((tmp_path,))) is None


def test_copy_from_another_stage_is_not_the_repo(tmp_path):
    _write(tmp_path, {
        "Dockerfile": "FROM alpine AS b\nFROM alpine\nCOPY --from=b entry.sh /entry.sh\nENTRYPOINT [\"/entry.sh\"]\n",
        "entry.sh": f"curl -s {URL}\n",
    })
    assert dockerfile.container_context(tmp_path / "entry.sh", ProjectIndex((tmp_path,))) is None


def test_escape_directive_reading():
    assert dockerfile.escape_character("# escape=`\nFROM x\n") == "`"
    assert dockerfile.escape_character("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\n") == "`"
    assert dockerfile.escape_character("FROM x\n# escape=`\n") == "\\"


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint not installed")
def test_fixture_fixes_pass_hadolint():  # pragma: no cover - optional tool
    root = Path(__file__).resolve().parents[1] / "fixtures/containers/svc/Dockerfile.fixed"
    assert subprocess.run(["hadolint", "--no-fail", str(root)]).returncode == 0


def test_container_context_is_looked_for_only_where_a_container_can_run_the_file(tmp_path, monkeypatch):
    # A Dockerfile that names a .tf as if it ran it: Terraform never runs in an image, so the
    # walk up the folders (the cost of container_context) is skipped for it, not for the script.
    _write(tmp_path, {
        "Dockerfile": "FROM alpine\nCOPY main.tf start.sh /opt/\nRUN sh /opt/start.sh /opt/main.tf\n",
        "start.sh": f"curl -s {URL}\n",
        "main.tf": f'resource "aws_instance" "a" {{\n  user_data = "curl -s {URL}"\n}}\n',
    })
    import imds_lint.engine as engine

    asked = []
    real = engine.container_context
    monkeypatch.setattr(engine, "container_context", lambda path, root: asked.append(os.path.basename(path)) or real(path, root))
    linter = Linter(Settings(root=tmp_path))
    script = linter.lint_file(tmp_path / "start.sh", "start.sh")
    terraform = linter.lint_file(tmp_path / "main.tf", "main.tf")
    assert asked == ["start.sh"]
    assert "IMDS201" in codes(script.findings)
    assert terraform.findings and "IMDS201" not in codes(terraform.findings)
