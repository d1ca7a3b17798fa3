"""IMDS001 only where the parser is the language's own; elsewhere one note, at the file's lines."""

from __future__ import annotations

from imds_lint.config import Settings
from imds_lint.engine import Linter
from tests.conftest import FIXTURES
from tests.helpers import codes, lint_notes

TERRAFORM = '''resource "aws_instance" "probe" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  metadata_options {
    http_tokens = "required"
  }
  user_data = <<-EOT
    #!/bin/bash
    first_check=$${*:$OPTIND:1}
    echo "$first_check"
    curl -s http://169.254.169.254/latest/meta-data/instance-id
  EOT
}
'''


def test_a_grammar_giving_up_in_an_embedded_script_is_a_note_at_the_files_line():
    findings, notes = lint_notes(TERRAFORM, "terraform")
    assert "IMDS001" not in codes(findings) and "IMDS101" in codes(findings)
    assert len(notes) == 1
    # The expansion tree-sitter-bash cannot read (bash can) is on line 9 of the file,
    # not on line 2 of the user-data script.
    assert notes[0].startswith("scanned as text (line 9: ")


def test_one_note_per_file_however_many_regions():
    script = "cat <<A\n(${x})\nA\ncat <<B\n(${y})\nB\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\n"
    findings, notes = lint_notes(script)
    assert codes(findings) == ["IMDS101"] and len(notes) <= 1


def test_cpython_rejecting_a_module_is_a_finding_at_the_offending_line_and_no_note():
    code = 'import requests\n\n\ndef region():\n    return requests.get("http://169.254.169.254/latest/meta-data/placement/region"\n'
    findings, notes = lint_notes(code, "python")
    parse_error = [f for f in findings if f.code == "IMDS001"]
    assert len(parse_error) == 1 and parse_error[0].start.line == 5 and notes == []


def test_pyyaml_rejecting_a_template_is_a_finding():
    template = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Web:\n\tType: AWS::EC2::Instance\n"
    findings, _ = lint_notes(template, "yaml")
    assert "IMDS001" in codes(findings)


def test_heredoc_bodies_are_read_in_the_language_of_the_file_they_write():
    # cat > probe.py <<'PROBE' is Python and $(cat <<CONF) is JSON: neither is shell, so
    # neither is a parse problem (the old shell reading gave IMDS001 on both).
    path = FIXTURES / "shell" / "node-bootstrap-heredocs.sh"
    result = Linter(Settings()).lint_file(path, "node-bootstrap-heredocs.sh")
    assert [f.code for f in result.findings] == ["IMDS101"]
    assert result.errors == []


def test_a_heredoc_for_a_shell_is_still_shell():
    script = "ssh -T admin@bastion <<'REMOTE'\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\nREMOTE\n"
    findings, _ = lint_notes(script)
    assert codes(findings) == ["IMDS101"]


def test_php_written_by_a_heredoc_is_not_parsed_as_shell():
    script = ("cat > /var/www/html/id.php <<'PHP'\n<?php echo file_get_contents('http://169.254.169.254/latest/meta-data/"
              "instance-id'); ?>\nPHP\n")
    findings, notes = lint_notes(script)
    assert "IMDS001" not in codes(findings) and notes == []


def test_a_dockerfile_without_a_final_newline_parses():
    text = 'FROM amazonlinux:2023\nRUN yum install -y jq\nCMD ["sh", "-c", "curl -s http://169.254.169.254/latest/meta-data/instance-id"]'
    findings, notes = lint_notes(text, "dockerfile")
    assert "IMDS101" in codes(findings) and notes == []
