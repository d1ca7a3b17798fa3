"""Shell fixer details that fixtures do not pin down."""

from __future__ import annotations

from tests.helpers import codes, fix, lint, lint_notes


def test_token_variable_never_clashes_with_the_script_names():
    script = 'IMDS_TOKEN="my api token"\necho "$IMDS_TOKEN_2"\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\n'
    fixed = fix(script)
    assert ': "${IMDS_TOKEN_3=$(curl -fs -X PUT' in fixed
    assert '-H "X-aws-ec2-metadata-token: $IMDS_TOKEN_3"' in fixed
    assert fixed.startswith('IMDS_TOKEN="my api token"\necho "$IMDS_TOKEN_2"\n')


def test_an_existing_token_is_reused_only_after_it_is_fetched():
    script = (
        "curl -s http://169.254.169.254/latest/meta-data/ami-id\n"
        'T=$(curl -sX PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")\n'
        "curl -s http://169.254.169.254/latest/meta-data/mac\n"
    )
    fixed = fix(script)
    lines = fixed.splitlines()
    assert lines[0].startswith(': "${IMDS_TOKEN=$(curl')
    assert '-H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s http://169.254.169.254/latest/meta-data/ami-id' in lines[1]
    assert lines[3] == 'curl -H "X-aws-ec2-metadata-token: $T" -s http://169.254.169.254/latest/meta-data/mac'


def test_indentation_and_comments_are_kept():
    script = "main() {\n    # read the id\n    id=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)  # note\n}\nmain\n"
    fixed = fix(script)
    assert "    # read the id\n" in fixed
    assert "  # note\n" in fixed
    # The fetch goes inside the function, at the body's indentation, not at load time.
    assert fixed.splitlines()[2].startswith('    : "${IMDS_TOKEN=')
    assert fixed.splitlines()[0] == "main() {"


def test_uncertain_requests_get_a_recipe_not_a_fix():
    findings = lint("curl -K /etc/curl/imds.conf http://169.254.169.254/latest/meta-data/\n")
    assert codes(findings) == [], "headers from a config file may carry the token: not reported"



def test_a_broken_script_is_reported_and_fixed_only_where_it_parses():
    from imds_lint.engine import syntax_errors

    script = "if true; then\n  curl -s http://169.254.169.254/latest/meta-data/ami-id\n"
    # tree-sitter-bash is not bash: where it gives up, the region is text-scanned and a
    # note (at the file's own line) says so; IMDS001 is kept for exact parsers.
    findings, notes = lint_notes(script)
    assert codes(findings) == ["IMDS101"]
    assert len(notes) == 1 and notes[0].startswith("scanned as text (line ")
    fixed = fix(script)
    assert '-H "X-aws-ec2-metadata-token: $IMDS_TOKEN"' in fixed
    assert syntax_errors(fixed, "shell") <= syntax_errors(script, "shell")
    broken_region = lint("echo $(( 1 +\ncurl http://169.254.169.254/latest/meta-data/ami-id )\n")
    text_scanned = [f for f in broken_region if f.code == "IMDS101"]
    assert text_scanned and all(f.fix is None and "text scan" in f.message for f in text_scanned)


def test_ipv6_and_instance_data_endpoints_keep_their_spelling():
    fixed = fix("curl -s http://[fd00:ec2::254]/latest/meta-data/ami-id\n")
    assert '"http://[fd00:ec2::254]/latest/api/token"' in fixed
    fixed = fix("wget -qO- http://instance-data/latest/meta-data/ami-id\n", unsafe=True)
    assert '"http://instance-data/latest/api/token"' in fixed


def test_python_directives_count_only_in_comments():
    from tests.helpers import lint

    in_string = 'EXAMPLE = "curl http://169.254.169.254/  # imds-lint: ignore[IMDS101]"\n'
    assert lint(in_string, "python") == []
    real = "import requests\nrequests.get('http://169.254.169.254/latest/meta-data/')  # imds-lint: ignore[IMDS101]\n"
    assert lint(real, "python") == []
    assert [f.code for f in lint(real.replace("  # imds-lint: ignore[IMDS101]", ""), "python")] == ["IMDS101"]


def test_the_output_of_a_request_with_a_nested_token_fetch_is_not_a_token():
    script = (
        'U=$(curl -s -H "X-aws-ec2-metadata-token: $(curl -s -X PUT http://169.254.169.254/latest/api/token '
        '-H "X-aws-ec2-metadata-token-ttl-seconds: 60")" http://169.254.169.254/latest/user-data)\n'
        "curl -s http://169.254.169.254/latest/meta-data/ami-id\n"
    )
    fixed = fix(script)
    assert '$U"' not in fixed and '-H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s http' in fixed


def test_a_unary_test_of_a_lone_slash_is_parsed_and_fixed():
    # tree-sitter-bash reads `[ -d / ]` as `-d` divided by `]` and gives up on the line; bash does not.
    text = ("#!/bin/sh\n[ -d / ] && curl -s --max-time 1 http://169.254.169.254/latest/meta-data/instance-id\n"
            "[[ -e * ]] && echo files\n")
    findings, notes = lint_notes(text)
    assert not notes, notes
    (finding,) = [f for f in findings if f.code == "IMDS101"]
    assert finding.fix is not None and finding.fix.applicability.value == "safe"
    fixed = fix(text)
    assert fixed.startswith('#!/bin/sh\n[ -d / ] && : "${IMDS_TOKEN=$(curl -fs --max-time 1 -X PUT')
    assert fixed.endswith("[[ -e * ]] && echo files\n")
