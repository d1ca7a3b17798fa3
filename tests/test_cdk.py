"""CDK (Python): user-data commands as shell documents, require_imdsv2 enforcement."""

from __future__ import annotations

import ast
import sys

import pytest

from imds_lint.kinds import Kind
from tests.helpers import EVERY_RULE, codes, fix, lint

HEAD = "import aws_cdk as cdk\nfrom aws_cdk import aws_ec2 as ec2\n"


def test_add_commands_string_is_fixed_with_python_escaping():
    text = HEAD + 'ud = ec2.UserData.for_linux()\nud.add_commands("curl -s http://169.254.169.254/latest/meta-data/ami-id")\n'
    found = [(f.code, f.start.line) for f in lint(text, Kind.PYTHON)]
    assert found == [("IMDS101", 4)]
    fixed = fix(text, Kind.PYTHON)
    ast.parse(fixed)
    command = ast.literal_eval(fixed.splitlines()[3].split("add_commands(", 1)[1].rstrip(")"))
    assert command.startswith('IMDS_TOKEN="$(curl -sS -X PUT "http://169.254.169.254/latest/api/token"')
    assert '; curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s' in command
    assert fix(fixed, Kind.PYTHON) == fixed


def test_escaped_string_is_scanned_but_not_rewritten():
    text = HEAD + 'ud = ec2.UserData.for_linux()\nud.add_commands("echo \\"x\\"; curl http://169.254.169.254/latest/meta-data/")\n'
    found = [f for f in lint(text, Kind.PYTHON) if f.code == "IMDS101"]
    assert len(found) == 1 and found[0].fix is None


TABLE = [
    ("instance-default", 'ec2.Instance(self, "I", vpc=vpc)\n', {"IMDS301"}),
    ("instance-required", 'ec2.Instance(self, "I", vpc=vpc, require_imdsv2=True)\n', set()),
    ("instance-false", 'ec2.Instance(self, "I", vpc=vpc, require_imdsv2=False)\n', {"IMDS301"}),
    ("lt-default", 'ec2.LaunchTemplate(self, "L")\n', {"IMDS301"}),
    ("lt-http-tokens", 'ec2.LaunchTemplate(self, "L", http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED)\n', set()),
    ("aspect", 'ec2.Instance(self, "I", vpc=vpc)\ncdk.Aspects.of(app).add(ec2.InstanceRequireImdsv2Aspect())\n', set()),
    ("other-instance-class", 'rds.Instance(self, "I")\n', set()),
    ("lt-hop-3", 'ec2.LaunchTemplate(self, "L", require_imdsv2=True, http_put_response_hop_limit=3)\n', {"IMDS211"}),
]


@pytest.mark.parametrize("body, expected", [pytest.param(b, e, id=i) for i, b, e in TABLE])
def test_enforcement_table(body, expected):
    text = HEAD + body
    assert {c for c in codes(lint(text, Kind.PYTHON, EVERY_RULE)) if c[4] in "23"} == expected


def test_instance_fix_is_display_only_and_launch_template_fix_is_unsafe():
    instance = lint(HEAD + 'ec2.Instance(self, "I", vpc=vpc)\n', Kind.PYTHON)[0]
    assert instance.fix.applicability.value == "display-only"
    assert "require_imdsv2=True" in instance.fix.edits[0].content
    text = HEAD + 'ec2.LaunchTemplate(\n    self,\n    "L",\n)\n'
    fixed = fix(text, Kind.PYTHON, unsafe=True)
    assert fixed == HEAD + 'ec2.LaunchTemplate(\n    self,\n    "L",\n    require_imdsv2=True,\n)\n'
    assert fix(text, Kind.PYTHON) == text


def test_seed_custom_resource_counts_as_enforcing():
    from tests.conftest import FIXTURES

    text = (FIXTURES / "iac" / "cdk" / "enforce_imdsv2.py").read_text()
    assert "IMDS301" not in codes(lint(text, Kind.PYTHON))
    # Only on_delete reverting to optional is not enforcement.
    reverted = text.replace('"HttpTokens": "required"', '"HttpTokens": "optional"')
    assert "IMDS301" not in codes(lint(reverted, Kind.PYTHON)), "the construct named like EnforceImdsv2 still counts"
    no_construct = reverted.replace("EnforceImdsv2(self", "Other(self")
    assert "IMDS301" in codes(lint(no_construct, Kind.PYTHON))


def test_cdk_detection_never_imports_the_scanned_code():
    before = set(sys.modules)
    lint(HEAD + "import evil_module_that_does_not_exist\nec2.Instance(self, 'I')\n", Kind.PYTHON)
    assert "evil_module_that_does_not_exist" not in set(sys.modules) - before


def test_broken_python_never_raises():
    lint(HEAD + "ec2.Instance(self,\n", Kind.PYTHON)
    lint("def (:\n", Kind.PYTHON)


def test_fixed_fixture_is_valid_python():
    from tests.conftest import FIXTURES

    path = FIXTURES / "iac" / "cdk" / "app.fixed.py"
    compile(path.read_text(), str(path), "exec")  # parsed only, never run
