"""Fixes inside embedded scripts keep the document around them: it re-parses, and nothing but the
fixed scripts changes.

For every fixture whose script lives inside another document (cloud-init, compose,
Kubernetes, CloudFormation, Terraform base64) and has a ``.fixed`` sibling: the
fixed document loads (YAML with the safe loader, JSON, HCL) to the same structure
as the original, every value that differs is a script that now fetches a token
(after base64 decoding where the value is base64), the lines around the edits are
byte for byte the same, and fixing again changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

import pytest
import yaml

from imds_lint.config import Settings
from imds_lint.engine import Linter, syntax_errors
from imds_lint.kinds import classify
from imds_lint.model import Applicability
from imds_lint.source import decode
from tests.conftest import FIXTURES
from tests.helpers import CloudFormationLoader

EMBEDDING_FIXTURES = [
    "iac/cloudinit/ops-agent.cloud-config.yaml",
    "iac/cloudinit/web.cloud-config.yaml",
    "containers/metrics/compose.yaml",
    "containers/compose.yaml",
    "containers/k8s/zone-labeler.yaml",
    "iac/cloudformation/bastion.json",
    "iac/cloudformation/web-stack.yaml",
    "iac/terraform/build-agents.tf",
]


def sibling(path: Path) -> Path:
    stem, _, suffix = path.name.partition(".")
    return path.with_name(f"{stem}.fixed.{suffix}")


def load(path: Path, text: str):
    if path.suffix == ".json":
        return json.loads(text)
    if path.suffix in (".yaml", ".yml"):
        return list(yaml.load_all(text, Loader=CloudFormationLoader))  # a SafeLoader: constructs no objects
    return None


def carried_a_request(line: str) -> bool:
    """A line the fix may rewrite: it names the metadata address, itself or in a base64 run."""
    import re

    if "169.254.169.254" in line:
        return True
    return any("169.254.169.254" in script_of(run) for run in re.findall(r"[A-Za-z0-9+/]{24,}={0,2}", line))


def script_of(value: str) -> str:
    """The script a changed value holds: itself, or what its base64 spells."""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return value


def joined(tree):
    """The tree with each Fn::Join spelt as the text it joins to (intrinsics as their JSON): a fix
    may add a part (a new line of the script), and the text is what CloudFormation hands on."""
    if isinstance(tree, dict):
        if set(tree) == {"Fn::Join"} and isinstance(tree["Fn::Join"], list) and len(tree["Fn::Join"]) == 2:
            delimiter, parts = tree["Fn::Join"]
            return {"Fn::Join": delimiter.join(p if isinstance(p, str) else json.dumps(joined(p)) for p in parts)}
        return {k: joined(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [joined(v) for v in tree]
    return tree


def differences(before, after, where="") -> list[tuple[str, object, object]]:
    if isinstance(before, dict) and isinstance(after, dict):
        assert before.keys() == after.keys(), f"keys changed at {where or '/'}"
        return [d for k in before for d in differences(before[k], after[k], f"{where}/{k}")]
    if isinstance(before, list) and isinstance(after, list):
        assert len(before) == len(after), f"length changed at {where}"
        return [d for i, (a, b) in enumerate(zip(before, after)) for d in differences(a, b, f"{where}[{i}]")]
    return [] if before == after else [(where, before, after)]


@pytest.mark.parametrize("relative", EMBEDDING_FIXTURES)
def test_fixed_document_reloads_to_the_same_structure_but_its_scripts(relative):
    path = FIXTURES / relative
    original = path.read_text()
    fixed = sibling(path).read_text()
    kind = classify(path, original)
    assert syntax_errors(fixed, kind) == 0
    before, after = joined(load(path, original)), joined(load(path, fixed))
    if before is not None:
        changed = differences(before, after)
        assert changed, "the fix changed nothing"
        for where, old, new in changed:
            # A list of argv words may become one shell line (cloud-init runs both through /bin/sh).
            assert isinstance(new, str), f"{where}: {new!r} is not a script"
            script = script_of(new)
            assert "IMDS_TOKEN" in script, f"{where} changed but fetches no token: {script!r}"
            assert isinstance(old, (str, list)), where
    # Lines with no edit are kept byte for byte, in order.
    kept = fixed.splitlines()
    missing = [line for line in original.splitlines() if line not in kept and not carried_a_request(line)]
    assert not missing, missing


@pytest.mark.parametrize("relative", EMBEDDING_FIXTURES)
def test_fixing_a_fixed_document_again_changes_nothing(relative):
    path = FIXTURES / relative
    source = decode(sibling(path).read_bytes())
    kind = classify(path, source.text)
    again, _, _ = Linter(Settings()).fix_text(source, kind, str(path), {Applicability.SAFE})
    assert again == source.text


def test_terraform_base64_user_data_decodes_to_the_fixed_script_in_the_same_layout():
    path = FIXTURES / "iac/terraform/build-agents.tf"
    original, fixed = path.read_text(), sibling(path).read_text()
    blob = next(line for line in fixed.splitlines() if "user_data" in line).split('"')[1]
    script = base64.b64decode(blob, validate=True).decode()
    assert script.count("-X PUT") == 1 and script.count('-H "X-aws-ec2-metadata-token: $IMDS_TOKEN"') == 2
    assert base64.b64encode(script.encode()).decode() == blob, "canonical padding, one line, as it was"
    assert len(fixed.splitlines()) == len(original.splitlines())


def test_non_utf8_script_keeps_every_byte_outside_the_edit():
    path = FIXTURES / "shell/rapport-latin1.sh"
    raw, fixed = path.read_bytes(), sibling(path).read_bytes()
    assert b"\xe9" in raw and fixed.count(b"\xe9") == raw.count(b"\xe9") and fixed.count(b"\xf4") == 1
    kept = fixed.splitlines()
    assert all(line in kept for line in raw.splitlines() if b"169.254" not in line)
    source = decode(raw)
    kind = classify(path, source.text)
    text, _, _ = Linter(Settings()).fix_text(source, kind, str(path), {Applicability.SAFE})
    assert source.encode(text) == fixed


def test_compose_probe_without_a_shell_gets_only_an_unsafe_fix_naming_why():
    path = FIXTURES / "containers/metrics/compose.yaml"
    source = decode(path.read_bytes())
    findings, _ = Linter(Settings()).lint_text(source.text, classify(path, source.text), source, str(path))
    probe = [f for f in findings if f.code == "IMDS101" and "command: curl" in f.snippet]
    assert len(probe) == 1 and probe[0].fix.applicability is Applicability.UNSAFE
    assert "without a shell" in probe[0].fix.title
    fixed = sibling(path).read_text()
    assert "    command: curl -fsS --max-time 1" in fixed, "--fix left the unsafe one alone"


def test_join_line_with_an_intrinsic_is_unsafe_and_left_alone_by_fix():
    path = FIXTURES / "iac/cloudformation/bastion.json"
    template = json.loads(sibling(path).read_text())
    parts = template["Resources"]["Bastion"]["Properties"]["UserData"]["Fn::Base64"]["Fn::Join"][1]
    last = parts[-1]
    assert isinstance(last, str) and "IMDS_TOKEN" not in last and "local-ipv4" in last
    # The fetch went in as a part of its own, on its own line like the other parts.
    fetch = [p for p in parts if isinstance(p, str) and p.startswith(': "${IMDS_TOKEN=')]
    assert len(fetch) == 1 and fetch[0].endswith(')}"\n')
    assert '          ": \\"${IMDS_TOKEN=' in sibling(path).read_text()
