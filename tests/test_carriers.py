"""Shell hiding in Ansible, CI workflows, Packer templates, Makefiles, justfiles and Jenkinsfiles."""

from __future__ import annotations

import pytest

from imds_lint.frontends import structured
from tests.helpers import codes, fix, lint

CURL = "curl -s http://169.254.169.254/latest/meta-data/instance-id"


def test_makefile_recipes_are_shell_and_fixes_double_dollars():
    code = f"id:\n\t@echo $$({CURL})\n"
    assert codes(lint(code, "makefile")) == ["IMDS101"]
    fixed = fix(code, "makefile")
    assert "$$IMDS_TOKEN" in fixed and "$$(curl -fs -X PUT" in fixed
    assert lint(fixed, "makefile") == []


def test_makefile_variables_and_non_recipe_lines_are_not_shell():
    assert lint(f"URL = http://169.254.169.254/latest/meta-data/\n# {CURL}\n", "makefile") == []


def test_justfile_and_jenkinsfile():
    assert codes(lint(f"whoami:\n    {CURL}\n", "justfile")) == ["IMDS101"]
    assert codes(lint(f"node {{\n  sh '{CURL}'\n}}\n", "jenkinsfile")) == ["IMDS101"]
    assert codes(lint(f'node {{\n  sh """\n    {CURL}\n  """\n}}\n', "jenkinsfile")) == ["IMDS101"]


def test_github_actions_run_steps_are_fixed_in_place():
    code = f"on: push\njobs:\n  a:\n    runs-on: self-hosted\n    steps:\n      - run: |\n          {CURL}\n"
    assert codes(lint(code, "yaml")) == ["IMDS101"]
    fixed = fix(code, "yaml")
    assert "X-aws-ec2-metadata-token: $IMDS_TOKEN" in fixed and lint(fixed, "yaml") == []
    import yaml

    assert yaml.safe_load(fixed)["jobs"]["a"]["steps"][0]["run"].count("curl") == 2


def test_job_containers_are_container_context():
    code = (f"on: push\njobs:\n  a:\n    runs-on: self-hosted\n    container: alpine:3\n    steps:\n"
            f"      - run: {CURL}\n")
    assert sorted(codes(lint(code, "yaml"))) == ["IMDS101", "IMDS201"]


@pytest.mark.parametrize("code,route", [
    ("steps:\n  - command: make\n", "analyze_buildkite"),
    ("version: 2.1\njobs:\n  a:\n    docker:\n      - image: cimg/base\n    steps:\n      - run: make\n", "analyze_circleci"),
    ("build:\n  script:\n    - make\n", "analyze_gitlab_ci"),
    ("- hosts: all\n  tasks:\n    - shell: make\n", "analyze_ansible"),
    ("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n", "analyze_github_actions"),
])
def test_routes(code, route):
    from imds_lint.kinds import Kind
    from imds_lint.model import Document

    assert structured._target(Document(Kind.YAML, code)).endswith(route)


def test_circleci_docker_executor_and_buildkite_commands():
    circle = (f"version: 2.1\njobs:\n  a:\n    docker:\n      - image: cimg/base:2024.01\n    steps:\n"
              f"      - run:\n          command: {CURL}\n")
    assert sorted(codes(lint(circle, "yaml"))) == ["IMDS101", "IMDS201"]
    assert codes(lint(f"steps:\n  - label: id\n    commands:\n      - {CURL}\n", "yaml")) == ["IMDS101"]


def test_ansible_uri_with_token_and_put_without_ttl():
    ok = ("- hosts: all\n  tasks:\n    - uri:\n        url: http://169.254.169.254/latest/meta-data/\n"
          "        headers:\n          X-aws-ec2-metadata-token: '{{ t }}'\n")
    assert lint(ok, "yaml") == []
    put = "- uri:\n    url: http://169.254.169.254/latest/api/token\n    method: PUT\n"
    assert codes(lint(put, "yaml")) == ["IMDS506"]


def test_packer_hcl_metadata_options_required_is_clean():
    code = ('source "amazon-ebs" "x" {\n  metadata_options {\n    http_tokens = "required"\n  }\n}\n'
            'build {\n  provisioner "shell" {\n    inline = ["echo ok"]\n  }\n}\n')
    assert lint(code, "packer") == []
    assert codes(lint('source "amazon-ebs" "x" {\n  region = "eu-west-1"\n}\n', "packer")) == ["IMDS301"]


def test_systemd_exec_lines_are_argv_and_shell():
    """Exec*= lines run without a shell: the client table reads the argv, sh -c embeds shell."""
    unit = ("[Service]\n"
            "ExecStartPre=-/usr/bin/curl -fsS http://169.254.169.254/latest/meta-data/instance-id\n"
            "ExecStart=/bin/bash -c 'curl -s http://169.254.169.254/latest/meta-data/ami-id'\n"
            "ExecReload=+http GET http://169.254.169.254/latest/meta-data/local-ipv4\n"
            "ExecStop=/usr/bin/wget -qO- \\\n    http://169.254.169.254/latest/meta-data/hostname\n"
            "# ExecStart=curl http://169.254.169.254/latest/meta-data/commented-out\n"
            "Description=curl http://169.254.169.254/latest/meta-data/not-a-command\n")
    found = lint(unit, "systemd")
    assert [(f.code, f.start.line) for f in found] == [("IMDS101", 2), ("IMDS101", 3), ("IMDS101", 4), ("IMDS101", 5)]
    assert found[0].start.column == len("ExecStartPre=-") + 1  # the prefix is not the program


def test_systemd_units_are_found_by_name():
    from imds_lint.kinds import Kind, classify

    assert classify("deploy/imds-labels.service", "[Service]\n") == Kind.SYSTEMD
