"""CloudFormation: short tags, Fn::Sub escapes, Join lists, MetadataOptions enforcement."""

from __future__ import annotations

import json

import pytest
import yaml

from imds_lint.frontends import yaml_nodes
from imds_lint.kinds import Kind
from tests.helpers import EVERY_RULE, CloudFormationLoader, codes, fix, lint

SUB = '''AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Web:
    Type: AWS::EC2::Instance
    Properties:
      MetadataOptions:
        HttpTokens: required
      UserData:
        Fn::Base64: !Sub |
          #!/bin/bash
          ID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)
          echo "${AWS::Region} ${!ID} ${Env}"
'''




def load(text):
    return yaml.load(text, Loader=CloudFormationLoader)


def test_short_tags_compose_with_marks_and_nothing_is_constructed():
    root = yaml_nodes.compose(SUB)
    user_data = yaml_nodes.get(yaml_nodes.get(yaml_nodes.get(yaml_nodes.get(root, "Resources"), "Web"),
                                              "Properties"), "UserData")
    name, body = yaml_nodes.intrinsic(yaml_nodes.intrinsic(user_data)[1])
    assert name == "Fn::Sub" and SUB[body.start_mark.index:].startswith("!Sub |")
    node = yaml_nodes.compose("a: !!python/object/apply:os.system ['true']\n")
    assert node.value[0][1].tag == "tag:yaml.org,2002:python/object/apply:os.system"  # a tag, never a call


def test_sub_user_data_is_found_and_fixed_with_escapes_intact():
    found = [(f.code, f.start.line) for f in lint(SUB, Kind.YAML)]
    assert found == [("IMDS101", 11)]
    fixed = fix(SUB, Kind.YAML)
    assert ': "${!IMDS_TOKEN=$(curl -fs -X PUT' in fixed, "the fetch's ${ is escaped for Fn::Sub"
    assert 'echo "${AWS::Region} ${!ID} ${Env}"' in fixed
    script = load(fixed)["Resources"]["Web"]["Properties"]["UserData"]["Fn::Base64"]["Fn::Sub"]
    assert script.splitlines()[1].startswith(': "${!IMDS_TOKEN=')  # Fn::Sub renders ${! as ${
    assert "IMDS101" not in codes(lint(fixed, Kind.YAML))
    assert fix(fixed, Kind.YAML) == fixed


def test_sub_escape_writes_bang_form():
    assert yaml_nodes.escape_sub('echo "${HOME}"') == 'echo "${!HOME}"'
    chars = [(c, i, i + 1) for i, c in enumerate("a ${!X} ${Y.Z}")]
    decoded = "".join(c for c, _, _ in yaml_nodes.sub_decode(chars))
    assert decoded == "a ${X} ${CFN_EXPR}"


def test_double_quoted_user_data_fix_escapes_quotes():
    text = ('Resources:\n  Web:\n    Type: AWS::EC2::Instance\n    Properties:\n      MetadataOptions:\n        HttpTokens: required\n'
            '      UserData: !Base64 "curl -s http://169.254.169.254/latest/meta-data/ami-id"\n')
    fixed = fix(text, Kind.YAML)
    script = load(fixed)["Resources"]["Web"]["Properties"]["UserData"]["Fn::Base64"]
    assert script.startswith(': "${IMDS_TOKEN=$(curl -fs -X PUT "http://169.254.169.254/latest/api/token"')
    assert "\n" in script


def test_join_user_data_is_fixed_in_the_string_part_it_falls_in():
    text = ('Resources:\n  Web:\n    Type: AWS::EC2::Instance\n    Properties:\n      MetadataOptions:\n        HttpTokens: required\n'
            '      UserData:\n        Fn::Base64: !Join ["", ["#!/bin/bash\\n", "curl -s http://169.254.169.254/latest/meta-data/\\n"]]\n')
    found = [f for f in lint(text, Kind.YAML) if f.code == "IMDS101"]
    assert [f.start.line for f in found] == [8]
    assert found[0].fix is not None and found[0].fix.applicability.value == "safe"
    fixed = fix(text, Kind.YAML)
    assert fixed.count("\n") == text.count("\n"), "the parts stay where they were"
    assert '"#!/bin/bash\\n", ": \\"${IMDS_TOKEN=$(curl -fs -X PUT' in fixed


def test_json_template_is_read_with_positions():
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Lt": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {
                "MetadataOptions": {"HttpTokens": "optional"},
                "UserData": {"Fn::Base64": {"Fn::Sub": "#!/bin/bash\ncurl http://169.254.169.254/latest/meta-data/\n"}},
            }}},
        },
    }
    text = json.dumps(template, indent=2) + "\n"
    found = sorted((f.code, f.start.line) for f in lint(text, Kind.JSON))
    line = lambda needle: next(i for i, l in enumerate(text.splitlines(), 1) if needle in l)  # noqa: E731
    assert found == sorted([("IMDS301", line('"Lt"')), ("IMDS101", line("Fn::Sub"))])
    fixed = fix(text, Kind.JSON, unsafe=True)
    data = json.loads(fixed)
    assert data["Resources"]["Lt"]["Properties"]["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required"


TABLE = [
    ("instance-no-options", "Type: AWS::EC2::Instance\n    Properties:\n      ImageId: ami-1\n", {"IMDS301"}),
    ("instance-required", "Type: AWS::EC2::Instance\n    Properties:\n      MetadataOptions:\n        HttpTokens: required\n", set()),
    ("instance-optional", "Type: AWS::EC2::Instance\n    Properties:\n      MetadataOptions:\n        HttpTokens: optional\n", {"IMDS301"}),
    ("instance-disabled", "Type: AWS::EC2::Instance\n    Properties:\n      MetadataOptions:\n        HttpEndpoint: disabled\n", set()),
    ("lt-no-options", "Type: AWS::EC2::LaunchTemplate\n    Properties:\n      LaunchTemplateData:\n        ImageId: ami-1\n", {"IMDS301"}),
    ("lt-required", "Type: AWS::EC2::LaunchTemplate\n    Properties:\n      LaunchTemplateData:\n        MetadataOptions:\n          HttpTokens: required\n", set()),
    ("lc-no-options", "Type: AWS::AutoScaling::LaunchConfiguration\n    Properties:\n      ImageId: ami-1\n", {"IMDS301"}),
    ("instance-hop-3", "Type: AWS::EC2::Instance\n    Properties:\n      MetadataOptions:\n        HttpTokens: required\n        HttpPutResponseHopLimit: 3\n", {"IMDS211"}),
    ("other-type", "Type: AWS::S3::Bucket\n", set()),
]


@pytest.mark.parametrize("body, expected", [pytest.param(b, e, id=i) for i, b, e in TABLE])
def test_enforcement_table(body, expected):
    text = f"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  R:\n    {body}"
    assert {c for c in codes(lint(text, Kind.YAML, EVERY_RULE)) if c[4] in "23"} == expected
    fixed = fix(text, Kind.YAML, unsafe=True)
    load(fixed)
    if "IMDS301" in expected:
        assert "IMDS301" not in codes(lint(fixed, Kind.YAML)), fixed


@pytest.mark.parametrize("text", ["", "Resources: [", "Resources:\n  A: !Sub\n", "AWSTemplateFormatVersion: x\nResources: 3\n"])
def test_bad_templates_never_raise(text):
    lint(text, Kind.YAML)


def test_template_suffix_with_a_cloudformation_body_is_cloudformation():
    from imds_lint.kinds import classify

    body = '{\n  "AWSTemplateFormatVersion": "2010-09-09",\n  "Resources": {}\n}\n'
    assert classify("stacks/HostnameChange-Userdata.template", body) == Kind.JSON
    assert classify("stacks/web.template", "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n") == Kind.YAML
    assert classify("stacks/notes.template", "Dear {{name}},\n") == Kind.UNKNOWN
