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


def test_variables_come_from_the_folders_other_packer_files_not_its_terraform(tmp_path):
    (tmp_path / "variables.pkr.hcl").write_text('variable "tokens" {\n  default = "optional"\n}\n')
    # Packer never loads .tf files: a Terraform variable of the same name says nothing.
    (tmp_path / "variables.tf").write_text('variable "tokens" {\n  default = "required"\n}\n')
    template = tmp_path / "build.pkr.hcl"
    template.write_text('source "amazon-ebs" "a" {\n  metadata_options {\n    http_tokens = var.tokens\n  }\n}\n')
    result = Linter(Settings()).lint_file(template, "build.pkr.hcl")
    assert [(f.code, f.start.line) for f in result.findings] == [("IMDS301", 1)]
    assert "var.tokens" in result.findings[0].message

    # And the other way round: Terraform's module is its .tf files only.
    (tmp_path / "variables.pkr.hcl").write_text('variable "tokens" {\n  default = "required"\n}\n')
    (tmp_path / "variables.tf").write_text('variable "tokens" {\n  default = "optional"\n}\n')
    main = tmp_path / "main.tf"
    main.write_text('resource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = var.tokens\n  }\n}\n')
    result = Linter(Settings()).lint_file(main, "main.tf")
    assert [(f.code, f.start.line) for f in result.findings] == [("IMDS301", 1)]
    template.write_text('source "amazon-ebs" "a" {\n  metadata_options {\n    http_tokens = var.tokens\n  }\n}\n')
    assert Linter(Settings()).lint_file(template, "build.pkr.hcl").findings == []
