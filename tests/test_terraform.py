"""Terraform front-end: user-data in heredocs, quoted strings, templates; data "http"."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imds_lint.frontends import terraform
from imds_lint.hcl import template as hcl_template
from imds_lint.kinds import Kind, classify
from tests.helpers import EVERY_RULE, codes, fix, lint

HEREDOC = '''resource "aws_instance" "web" {
  ami = "ami-123"
  user_data = <<-EOF
    #!/bin/bash
    REGION=$(curl -s http://169.254.169.254/latest/meta-data/placement/region)
    echo "$${REGION} ${var.env}"
  EOF
  metadata_options {
    http_tokens = "required"
  }
}
'''

QUOTED = '''resource "aws_launch_template" "lt" {
  user_data = base64encode("#!/bin/bash\\ncurl -s \\"http://169.254.169.254/latest/meta-data/instance-id\\"\\n")
  metadata_options {
    http_tokens = "required"
  }
}
'''


def render(template: str, variables: dict[str, str]) -> str:
    """Terraform's rendering for simple templates: ``${name}`` substituted, ``$${`` -> ``${``."""
    def substitute(match: re.Match) -> str:
        if match.group(0).startswith("$$"):
            return match.group(0)[1:]
        return variables[match.group(1)]
    return re.sub(r"\$\$\{|%%\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                  lambda m: m.group(0)[1:] if m.group(0) in ("$${", "%%{") else substitute(m), template)


def test_heredoc_request_is_found_on_its_line():
    found = [f for f in lint(HEREDOC, Kind.TERRAFORM) if f.code == "IMDS101"]
    assert [f.start.line for f in found] == [5]


def test_heredoc_fix_keeps_hcl_and_escapes():
    fixed = fix(HEREDOC, Kind.TERRAFORM)
    assert ': "$${IMDS_TOKEN=$(curl -fs -X PUT' in fixed, "the fetch's ${ is escaped for HCL"
    assert "$${REGION} ${var.env}" in fixed, "existing escapes and interpolations are untouched"
    assert terraform.syntax_errors(fixed) == 0
    assert "IMDS101" not in codes(lint(fixed, Kind.TERRAFORM))
    assert fix(fixed, Kind.TERRAFORM) == fixed


def test_quoted_string_fix_escapes_quotes_and_newlines():
    fixed = fix(QUOTED, Kind.TERRAFORM)
    assert '\\n: \\"$${IMDS_TOKEN=$(curl -fs -X PUT \\"http://169.254.169.254/latest/api/token\\"' in fixed
    assert terraform.syntax_errors(fixed) == 0
    assert "IMDS101" not in codes(lint(fixed, Kind.TERRAFORM))


def test_base64_literal_user_data_is_decoded_fixed_and_encoded_again():
    import base64

    blob = base64.b64encode(b"#!/bin/bash\ncurl http://169.254.169.254/latest/meta-data/\n").decode()
    tf = f'resource "aws_instance" "a" {{\n  user_data_base64 = "{blob}"\n  metadata_options {{\n    http_tokens = "required"\n  }}\n}}\n'
    found = [f for f in lint(tf, Kind.TERRAFORM) if f.code == "IMDS101"]
    assert [f.start.line for f in found] == [2]
    assert found[0].fix is not None
    fixed = fix(tf, Kind.TERRAFORM)
    lines = fixed.splitlines()
    assert lines[:1] + lines[2:] == tf.splitlines()[:1] + tf.splitlines()[2:]
    script = base64.b64decode(lines[1].split('"')[1]).decode()
    assert script.startswith('#!/bin/bash\n: "${IMDS_TOKEN=$(curl -fs -X PUT')
    assert script.endswith('curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" http://169.254.169.254/latest/meta-data/\n')


def test_template_file_fix_writes_terraform_escapes(tmp_path):
    text = ('#!/bin/bash\nset -e\necho "cluster ${cluster_name} $${HOME}"\n'
            'ID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)\n')
    assert classify(tmp_path / "user-data.tftpl", text) == Kind.TEMPLATE
    found = lint(text, Kind.TEMPLATE)
    assert [(f.code, f.start.line) for f in found] == [("IMDS101", 4)]
    fixed = fix(text, Kind.TEMPLATE)
    rendered = render(fixed, {"cluster_name": "prod"})
    assert 'echo "cluster prod ${HOME}"' in rendered
    assert 'curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s http://169.254.169.254' in rendered


def test_data_http_without_token_is_flagged_and_with_token_is_not():
    bad = 'data "http" "id" {\n  url = "http://169.254.169.254/latest/meta-data/instance-id"\n}\n'
    good = ('data "http" "id" {\n  url = "http://169.254.169.254/latest/meta-data/instance-id"\n'
            '  request_headers = {\n    "X-aws-ec2-metadata-token" = data.http.token.response_body\n  }\n}\n')
    assert [(f.code, f.start.line) for f in lint(bad, Kind.TERRAFORM)] == [("IMDS101", 2)]
    assert "IMDS101" not in codes(lint(good, Kind.TERRAFORM))


def test_templatefile_is_recorded_as_a_link(tmp_path):
    (tmp_path / "init.tftpl").write_text("#!/bin/bash\nsystemctl enable --now docker\n")
    tf = tmp_path / "main.tf"
    tf.write_text('resource "aws_instance" "a" {\n  user_data = templatefile("${path.module}/init.tftpl", {})\n}\n')
    from imds_lint.model import Document

    from imds_lint.project_index import ProjectIndex

    class Session:
        origin = tf
        project = ProjectIndex((tmp_path,))

        def analyze(self, document):
            return []

    analysis = terraform.analyze(Document(Kind.TERRAFORM, tf.read_text()), Session())[0]
    (link,) = analysis.facts[terraform.TEMPLATE_LINK]
    assert link.exists and link.path == str(tmp_path / "init.tftpl")
    (compute,) = analysis.facts["iac.compute"]
    assert compute.containers == "installs or starts a container runtime"


@given(st.text(alphabet='ab$%{}\\"\n\t x', max_size=40))
def test_escapes_round_trip_through_decode(text):
    for escape, quoted in ((hcl_template.escape_template, False), (hcl_template.escape_quoted, True)):
        written = escape(text)
        decoded, _ = hcl_template.decode(written, 0, len(written), quoted=quoted)
        # Interpolations never appear: everything inserted reads back as literal text.
        assert decoded == text


@pytest.mark.parametrize("text", ["", "resource {", "}}}", 'x = "${', "<<EOF\n"])
def test_broken_terraform_never_raises(text):
    lint(text, Kind.TERRAFORM)


# -- enforcement: a table of resource blocks and what the rules must say ---------------

ENFORCEMENT_TABLE = [
    ("instance-no-options", 'resource "aws_instance" "a" {\n  ami = "x"\n}\n', {"IMDS301"}),
    ("instance-required", 'resource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = "required"\n  }\n}\n', set()),
    ("instance-optional", 'resource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = "optional"\n  }\n}\n', {"IMDS301"}),
    ("instance-disabled", 'resource "aws_instance" "a" {\n  metadata_options {\n    http_endpoint = "disabled"\n    http_tokens = "optional"\n  }\n}\n', set()),
    ("lt-no-options", 'resource "aws_launch_template" "a" {\n}\n', {"IMDS301"}),
    ("lc-required", 'resource "aws_launch_configuration" "a" {\n  metadata_options {\n    http_tokens = "required"\n  }\n}\n', set()),
    ("var-default-optional", 'variable "t" {\n  default = "optional"\n}\nresource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = var.t\n  }\n}\n', {"IMDS301"}),
    ("var-default-required", 'variable "t" {\n  default = "required"\n}\nresource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = var.t\n  }\n}\n', set()),
    ("var-without-default", 'variable "t" {}\nresource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = var.t\n  }\n}\n', set()),
    ("local-optional", 'locals {\n  t = "optional"\n}\nresource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = local.t\n  }\n}\n', {"IMDS301"}),
    ("instance-via-enforcing-lt", 'resource "aws_launch_template" "lt" {\n  metadata_options {\n    http_tokens = "required"\n  }\n}\n'
     'resource "aws_instance" "a" {\n  launch_template {\n    name = aws_launch_template.lt.name\n  }\n}\n', set()),
    ("instance-via-optional-lt", 'resource "aws_launch_template" "lt" {\n  metadata_options {\n    http_tokens = "optional"\n  }\n}\n'
     'resource "aws_instance" "a" {\n  launch_template {\n    id = aws_launch_template.lt.id\n  }\n}\n', {"IMDS301"}),
    ("ec2-module-default", 'module "m" {\n  source = "terraform-aws-modules/ec2-instance/aws"\n}\n', set()),
    ("ec2-module-optional", 'module "m" {\n  source = "terraform-aws-modules/ec2-instance/aws"\n  metadata_options = {\n    "http_tokens" = "optional"\n  }\n}\n', {"IMDS301"}),
    ("asg-module-default", 'module "m" {\n  source = "terraform-aws-modules/autoscaling/aws"\n}\n', {"IMDS301"}),
    ("eks-node-group-default", 'module "m" {\n  source = "terraform-aws-modules/eks/aws//modules/eks-managed-node-group"\n}\n', set()),
    ("unrelated-module", 'module "m" {\n  source = "./modules/thing"\n}\n', set()),
    ("account-defaults-optional", 'resource "aws_ec2_instance_metadata_defaults" "d" {\n  http_tokens = "optional"\n}\n', {"IMDS302"}),
    ("account-defaults-required", 'resource "aws_ec2_instance_metadata_defaults" "d" {\n  http_tokens = "required"\n}\n', set()),
    ("docker-hop-1", 'resource "aws_instance" "a" {\n  user_data = "#!/bin/sh\\nsystemctl enable --now docker\\n"\n'
     '  metadata_options {\n    http_tokens = "required"\n  }\n}\n', {"IMDS210"}),
    ("docker-hop-2", 'resource "aws_instance" "a" {\n  user_data = "#!/bin/sh\\ndocker run nginx\\n"\n'
     '  metadata_options {\n    http_tokens = "required"\n    http_put_response_hop_limit = 2\n  }\n}\n', set()),
    ("nodeadm-hop-1", 'resource "aws_launch_template" "a" {\n  user_data = base64encode(<<-EOT\n    #!/bin/bash\n    nodeadm init\n  EOT\n  )\n'
     '  metadata_options {\n    http_tokens = "required"\n    http_put_response_hop_limit = 1\n  }\n}\n', {"IMDS210"}),
    ("docker-tokens-optional", 'resource "aws_instance" "a" {\n  user_data = "#!/bin/sh\\ndocker run nginx\\n"\n'
     '  metadata_options {\n    http_tokens = "optional"\n  }\n}\n', {"IMDS301"}),
    ("no-containers-hop-3", 'resource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = "required"\n    http_put_response_hop_limit = 3\n  }\n}\n', {"IMDS211"}),
]


@pytest.mark.parametrize("text, expected", [pytest.param(t, e, id=i) for i, t, e in ENFORCEMENT_TABLE])
def test_enforcement_table(text, expected):
    found = {c for c in codes(lint(text, Kind.TERRAFORM, EVERY_RULE)) if c[4] in "23"}
    assert found == expected


def test_enforcement_fixes_are_never_safe_and_keep_hcl_valid():
    for _, text, expected in ENFORCEMENT_TABLE:
        for finding in lint(text, Kind.TERRAFORM):
            if finding.fix is not None:
                assert finding.fix.applicability.value != "safe"
        fixed = fix(text, Kind.TERRAFORM, unsafe=True)
        assert terraform.syntax_errors(fixed) == 0, fixed
        assert fix(text, Kind.TERRAFORM) == text, "no enforcement change without --unsafe-fixes"


def test_variables_resolve_from_sibling_files(tmp_path):
    from imds_lint.config import Settings
    from imds_lint.engine import Linter

    (tmp_path / "variables.tf").write_text('variable "tokens" {\n  default = "optional"\n}\n')
    main = tmp_path / "main.tf"
    main.write_text('resource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = var.tokens\n  }\n}\n')
    result = Linter(Settings()).lint_file(main, "main.tf")
    assert [(f.code, f.start.line) for f in result.findings] == [("IMDS301", 1)]
    assert "var.tokens" in result.findings[0].message


def test_cloudinit_config_parts_are_user_data_of_the_instances_using_them():
    tf = ('data "cloudinit_config" "node" {\n  part {\n    content_type = "text/x-shellscript"\n    content      = <<-EOT\n'
          '      #!/bin/bash\n      /etc/eks/bootstrap.sh prod\n      curl -s http://169.254.169.254/latest/meta-data/instance-id\n'
          '    EOT\n  }\n}\n\nresource "aws_launch_template" "n" {\n  user_data = base64encode(data.cloudinit_config.node.rendered)\n'
          '  metadata_options {\n    http_tokens = "required"\n  }\n}\n')
    assert sorted((f.code, f.start.line) for f in lint(tf, Kind.TERRAFORM)) == [("IMDS101", 7), ("IMDS210", 12)]
    fixed = fix(tf, Kind.TERRAFORM)
    assert '      : "$${IMDS_TOKEN=' in fixed and terraform.syntax_errors(fixed) == 0


def _string_literal_by_the_tree(file, node):
    """hcl.tree.string_literal with its byte fast path off (the file seen as non-ASCII): the tree reading."""
    from types import SimpleNamespace

    from imds_lint.hcl.tree import string_literal

    tree_only = SimpleNamespace(text=file.text, src=file.src, span=file.span, offsets=SimpleNamespace(ascii=False))
    return string_literal(tree_only, node)


def _outcome(read, file, node):
    try:
        return read(file, node)
    except Exception as exc:  # the same failure counts as the same answer
        return type(exc)


def test_string_literals_read_off_the_bytes_equal_the_tree_reading_on_fixtures_and_generated_hcl():
    import random
    import time

    from imds_lint.hcl.tree import HclFile, string_literal
    from imds_lint.syntax.treesitter import walk
    from tests.conftest import ROOT

    texts = [p.read_text(encoding="utf-8", errors="surrogateescape") for p in (ROOT / "fixtures").rglob("*")
             if p.is_file() and p.name.endswith((".tf", ".hcl", ".tfvars"))]
    assert len(texts) >= 9
    pieces = ['resource "aws_instance" "x" {\n', 'tags = { Name = "', '"', '\\"', "\\n", "\\\\", "${var.a}", "$${b}",
              "%{ if c }", "%%{", "%", "$", "é", "\U0001f600", "\ud800", "}\n", "x = ", "[", "]", "'", "<<EOF\n",
              "EOF\n", "\n", "label", 'module "m" {\n source = "terraform-aws-modules/ec2-instance/aws"\n']
    rng = random.Random(19)
    checked = 0
    deadline = time.process_time() + 2
    while True:
        if texts:
            text = texts.pop()
        elif time.process_time() < deadline:
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        else:
            break
        file = HclFile(text, own=True)
        for node in walk(file.tree.root_node):
            assert _outcome(string_literal, file, node) == _outcome(_string_literal_by_the_tree, file, node), (text, node)
            checked += node.type in ("string_lit", "quoted_template")
    assert checked > 1000
