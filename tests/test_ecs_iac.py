"""ECS task definitions written in Terraform and CloudFormation decide the container network too."""

from __future__ import annotations

import json

import pytest

from tests.helpers import codes, fix, lint

URL = "http://169.254.169.254/latest/meta-data/instance-id"
TOKEN_FIRST = ("TOKEN=$(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "
               "http://169.254.169.254/latest/api/token) && curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" " + URL)
MODES = [("bridge", True), (None, True), ("none", True), ("host", False), ("awsvpc", False)]


def hop(findings):
    return [f for f in findings if f.code == "IMDS201"]


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def _tf_jsonencode(mode: str | None, command: str = f'"curl -s {URL}"', extra: str = "") -> str:
    network = f'  network_mode = "{mode}"\n' if mode is not None else ""
    return ('resource "aws_ecs_task_definition" "api" {\n  family = "api"\n' + network +
            "  container_definitions = jsonencode([\n    {\n      name = \"app\"\n      image = \"x\"\n"
            f'      entryPoint = ["sh", "-c"]\n      command = [{command}]\n{extra}    }}\n  ])\n}}\n')


def _tf_heredoc(mode: str | None, definitions: list) -> str:
    network = f'  network_mode = "{mode}"\n' if mode is not None else ""
    body = json.dumps(definitions, indent=2).replace("\n", "\n    ")
    return ('resource "aws_ecs_task_definition" "worker" {\n  family = "worker"\n' + network +
            f"  container_definitions = <<-EOT\n    {body}\n  EOT\n}}\n")


def _cfn(mode: str | None, container: str) -> str:
    network = f"      NetworkMode: {mode}\n" if mode is not None else ""
    return ('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n'
            "    Properties:\n      Family: f\n" + network + "      ContainerDefinitions:\n        - Name: app\n"
            "          Image: x\n" + container)


@pytest.mark.parametrize("mode, flagged", MODES, ids=lambda v: str(v))
def test_terraform_jsonencode_network_modes(mode, flagged):
    text = _tf_jsonencode(mode)
    found = lint(text, "terraform")
    assert codes(found).count("IMDS101") == 1
    assert bool(hop(found)) is flagged
    assert {f.start.line for f in found} == {line_of(text, URL)}


@pytest.mark.parametrize("mode, flagged", MODES, ids=lambda v: str(v))
def test_terraform_heredoc_json_network_modes(mode, flagged):
    text = _tf_heredoc(mode, [{"name": "w", "image": "x", "command": ["curl", "-s", URL]}])
    found = lint(text, "terraform")
    assert codes(found).count("IMDS101") == 1
    assert bool(hop(found)) is flagged
    # An argv request is reported at its program word.
    assert {f.start.line for f in found} == {line_of(text, '"curl"')}


@pytest.mark.parametrize("mode, flagged", MODES, ids=lambda v: str(v))
def test_cloudformation_network_modes(mode, flagged):
    text = _cfn(mode, f"          Command: [sh, -c, 'curl -s {URL}']\n")
    found = lint(text, "yaml")
    assert codes(found).count("IMDS101") == 1
    assert bool(hop(found)) is flagged


def test_terraform_message_names_task_definition_and_container():
    [finding] = hop(lint(_tf_jsonencode("bridge"), "terraform"))
    assert "container 'app' of ECS task definition aws_ecs_task_definition.api (network_mode bridge)" in finding.message


def test_cloudformation_message_names_task_definition_and_container():
    [finding] = hop(lint(_cfn(None, f"          Command: [curl, -s, {URL}]\n"), "yaml"))
    assert "container 'app' of ECS task definition Task (NetworkMode bridge)" in finding.message


def test_token_first_in_bridge_is_only_a_hop_limit_finding():
    text = _tf_jsonencode("bridge", command=json.dumps(TOKEN_FIRST))
    # The token PUT and the GET both run in the bridged container; neither is tokenless. The hop-limit
    # finding is reported once, on the request the token is for.
    assert codes(lint(text, "terraform")) == ["IMDS201"]


def test_terraform_quoted_json_string_and_health_check():
    definitions = json.dumps([{"name": "w", "healthCheck": {"command": ["CMD-SHELL", f"curl -f {URL} || exit 1"]}}])
    quoted = json.dumps(definitions)  # a JSON string inside an HCL quoted string
    text = ('resource "aws_ecs_task_definition" "q" {\n  network_mode = "bridge"\n'
            f"  container_definitions = {quoted}\n}}\n")
    found = lint(text, "terraform")
    assert sorted(codes(found)) == ["IMDS101", "IMDS201"]
    assert "container 'w' of ECS task definition aws_ecs_task_definition.q" in hop(found)[0].message


def test_terraform_health_check_in_jsonencode():
    extra = f'      healthCheck = {{\n        command = ["CMD", "curl", "-f", "{URL}"]\n      }}\n'
    text = _tf_jsonencode("bridge", command='"exec app"', extra=extra)
    found = lint(text, "terraform")
    assert sorted(codes(found)) == ["IMDS101", "IMDS201"]


def test_network_mode_from_a_variable_default():
    text = 'variable "mode" {\n  default = "awsvpc"\n}\n' + _tf_jsonencode(None).replace(
        '  family = "api"\n', '  family = "api"\n  network_mode = var.mode\n')
    assert hop(lint(text, "terraform")) == []


def test_unresolved_network_mode_claims_no_container_context():
    text = _tf_jsonencode(None).replace('  family = "api"\n', '  family = "api"\n  network_mode = var.unknown\n')
    assert codes(lint(text, "terraform")) == ["IMDS101"]


def test_container_definitions_in_a_local():
    text = ('locals {\n  defs = jsonencode([{ name = "l", command = ["curl", "' + URL + '"] }])\n}\n'
            'resource "aws_ecs_task_definition" "l" {\n  container_definitions = local.defs\n}\n')
    found = lint(text, "terraform")
    assert sorted(codes(found)) == ["IMDS101", "IMDS201"]


def test_no_duplicate_findings_with_user_data_analysis():
    # One file with an instance's user-data and a task definition: each request reported once.
    text = ('resource "aws_instance" "web" {\n  ami = "ami-1"\n  user_data = <<-EOF\n    #!/bin/bash\n'
            f"    curl -s {URL}\n  EOF\n}}\n" + _tf_jsonencode("bridge"))
    found = lint(text, "terraform")
    assert sorted((f.start.line, f.code) for f in found if f.code in ("IMDS101", "IMDS201")) == sorted(
        [(5, "IMDS101"), (line_of(text, "command = ["), "IMDS101"), (line_of(text, "command = ["), "IMDS201")])
    cfn = _cfn("bridge", f"          Command: [curl, -s, {URL}]\n")
    assert sorted(codes(lint(cfn, "yaml"))) == ["IMDS101", "IMDS201"]


def test_jsonencode_fix_keeps_hcl_escaping_and_is_idempotent():
    text = _tf_jsonencode("bridge")
    fixed = fix(text, "terraform")
    assert fixed != text
    assert '\\"X-aws-ec2-metadata-token: $IMDS_TOKEN\\"' in fixed
    assert fix(fixed, "terraform") == fixed
    assert "IMDS101" not in codes(lint(fixed, "terraform"))
    assert hop(lint(fixed, "terraform"))


def test_heredoc_json_is_reported_without_a_fix():
    text = _tf_heredoc("bridge", [{"name": "w", "command": ["sh", "-c", f"curl -s {URL}"]}])
    assert fix(text, "terraform") == text
    assert sorted(codes(lint(text, "terraform"))) == ["IMDS101", "IMDS201"]


@pytest.mark.parametrize("text", [
    'resource "aws_ecs_task_definition" "x" {\n  container_definitions = "not json"\n}\n',
    'resource "aws_ecs_task_definition" "x" {\n  container_definitions = jsonencode({ a = 1 })\n}\n',
    'resource "aws_ecs_task_definition" "x" {\n  container_definitions = jsonencode([{ command = 3 }])\n}\n',
    'resource "aws_ecs_task_definition" "x" {\n  container_definitions = file("defs.json")\n}\n',
], ids=["not-json", "object", "bad-command", "file"])
def test_odd_terraform_definitions_do_not_raise(text):
    assert lint(text, "terraform") == []


def test_odd_cloudformation_definitions_do_not_raise():
    text = _cfn("bridge", f"          Command: !Split [' ', 'curl {URL}']\n          HealthCheck: 3\n")
    assert hop(lint(text, "yaml")) == []


def test_cloudformation_json_template():
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"T": {
        "Type": "AWS::ECS::TaskDefinition", "Properties": {"NetworkMode": "bridge", "ContainerDefinitions": [
            {"Name": "a", "Command": ["sh", "-c", f"curl -s {URL}"]}]}}}}
    text = json.dumps(template, indent=2)
    found = lint(text, "json")
    assert sorted(codes(found)) == ["IMDS101", "IMDS201"]
    assert {f.start.line for f in found} == {line_of(text, URL)}


def test_cloudformation_network_mode_from_a_parameter_default():
    text = _cfn("!Ref Mode", f"          Command: [curl, -s, {URL}]\n").replace(
        "Resources:", "Parameters:\n  Mode:\n    Type: String\n    Default: host\nResources:")
    assert codes(lint(text, "yaml")) == ["IMDS101"]


def test_terraform_heredoc_inside_jsonencode_is_fixed_in_place():
    text = ('resource "aws_ecs_task_definition" "h" {\n  container_definitions = jsonencode([{\n'
            f'    name = "a"\n    command = ["sh", "-c", <<-EOT\n      curl -s {URL}\n    EOT\n    ]\n  }}])\n}}\n')
    assert sorted((f.start.line, f.code) for f in lint(text, "terraform")) == [(5, "IMDS101"), (5, "IMDS201")]
    fixed = fix(text, "terraform")
    assert "X-aws-ec2-metadata-token: $IMDS_TOKEN" in fixed and fix(fixed, "terraform") == fixed


def test_cloudformation_sub_string_in_command():
    text = _cfn("bridge", "          Command: [sh, -c, !Sub 'curl -s http://169.254.169.254/latest/meta-data/${Path}']\n")
    found = lint(text, "yaml")
    assert sorted(codes(found)) == ["IMDS101", "IMDS201"]
    assert fix(text, "yaml") == text
