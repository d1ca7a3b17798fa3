"""Packer HCL2 templates are their own kind, read on the shared HCL tree as Terraform's peer."""

from __future__ import annotations

import pytest

from imds_lint.config import Settings
from imds_lint.engine import Linter
from imds_lint.frontends import packer
from imds_lint.kinds import Kind, classify
from tests.helpers import codes, fix, lint

SOURCE = 'source "amazon-ebs" "base" {\n  region = "eu-west-1"\n}\n'
BUILD = ('build {\n  provisioner "shell" {\n'
         '    inline = ["curl -s http://169.254.169.254/latest/meta-data/instance-id"]\n  }\n}\n')


@pytest.mark.parametrize("name, kind", [
    ("images/base.pkr.hcl", Kind.PACKER), ("images/prod.pkrvars.hcl", Kind.PACKER),
    ("main.tf", Kind.TERRAFORM), ("terragrunt.hcl", Kind.TERRAFORM), ("prod.tfvars", Kind.TERRAFORM),
])
def test_packer_templates_have_their_own_kind(name, kind):
    assert classify(name, "") == kind


def test_terraform_does_not_read_packer_blocks_and_packer_does():
    assert codes(lint(SOURCE + BUILD, Kind.TERRAFORM)) == []
    assert sorted(codes(lint(SOURCE + BUILD, Kind.PACKER))) == ["IMDS101", "IMDS301"]


def test_packer_does_not_read_terraform_resources():
    resource = 'resource "aws_instance" "web" {\n  ami = "ami-1"\n}\n'
    assert codes(lint(resource, Kind.TERRAFORM)) == ["IMDS301"]
    assert codes(lint(resource, Kind.PACKER)) == []


def test_packer_fixes_come_from_the_engine_and_keep_hcl_valid():
    fixed = fix(SOURCE, Kind.PACKER, unsafe=True)
    assert fixed == SOURCE.replace("\n}", '\n  metadata_options {\n    http_tokens = "required"\n  }\n}')
    assert packer.syntax_errors(fixed) == 0
    assert codes(lint(fixed, Kind.PACKER)) == []
    inline = fix(BUILD, Kind.PACKER)
    assert "X-aws-ec2-metadata-token" in inline and packer.syntax_errors(inline) == 0


TEMPLATE = 'source "amazon-ebs" "a" {\n  metadata_options {\n    http_tokens = var.tokens\n  }\n}\n'
RESOURCE = 'resource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = var.tokens\n  }\n}\n'


def _tokens_per_tool(folder, packer: str, terraform: str, name: str, text: str) -> list[tuple[str, int]]:
    """Lint ``name`` in a folder whose .pkr.hcl and .tf files each declare var.tokens."""
    for file, default in (("variables.pkr.hcl", packer), ("variables.tf", terraform)):
        (folder / file).write_text(f'variable "tokens" {{\n  default = "{default}"\n}}\n')
    (folder / name).write_text(text)
    return [(f.code, f.start.line) for f in Linter(Settings()).lint_file(folder / name, name).findings]


def test_variables_come_from_the_folders_other_packer_files_not_its_terraform(tmp_path):
    # Packer never loads .tf files: a Terraform variable of the same name says nothing.
    assert _tokens_per_tool(tmp_path, "optional", "required", "build.pkr.hcl", TEMPLATE) == [("IMDS301", 1)]
    assert _tokens_per_tool(tmp_path, "required", "optional", "build.pkr.hcl", TEMPLATE) == []
    # And the other way round: Terraform's module is its .tf files only.
    assert _tokens_per_tool(tmp_path, "required", "optional", "main.tf", RESOURCE) == [("IMDS301", 1)]
    assert _tokens_per_tool(tmp_path, "optional", "required", "main.tf", RESOURCE) == []


LEGACY = """{
  "builders": [{"type": "amazon-ebs", "region": "eu-west-1", "instance_type": "t3.small"}],
  "provisioners": [
    {
      "type": "shell",
      "inline": [
        "sudo apt-get update",
        "curl -s http://169.254.169.254/latest/meta-data/instance-id > /tmp/build-instance"
      ]
    }
  ]
}
"""


def test_a_legacy_json_templates_safe_inline_fix_is_applied_and_stays_json():
    # The fix loop judged a legacy template's rewrite with Packer's HCL grammar (the module's
    # syntax_errors), so every fix of its inline script was "reverted: would not parse" while
    # the finding still said "fixable with --fix". JSON is checked as JSON.
    import json

    assert "IMDS101" in codes(lint(LEGACY, Kind.JSON))
    fixed = fix(LEGACY, Kind.JSON)
    inline = json.loads(fixed)["provisioners"][0]["inline"]
    assert inline[0] == "sudo apt-get update"
    token_fetch, request = inline[1].split("\n")
    assert "-X PUT" in token_fetch and "/latest/api/token" in token_fetch
    assert request.startswith('curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s http://169.254.169.254/')
    assert "IMDS101" not in codes(lint(fixed, Kind.JSON))
