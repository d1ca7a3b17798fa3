"""How the shell front-end builds argv: word splitting, "$@", and functions that run clients."""

from __future__ import annotations

import time

from imds_lint.model import Applicability
from tests.helpers import codes, fix, lint

MD = "http://169.254.169.254/latest/meta-data"


def test_a_command_held_in_a_variable_runs_when_expanded_unquoted():
    script = f'MD="curl -s {MD}"\nID=$($MD/instance-id)\n'
    [finding] = lint(script)
    assert finding.code == "IMDS101" and "meta-data/instance-id" in finding.message
    assert fix(script).splitlines()[-1] == 'ID=$($MD/instance-id -H "X-aws-ec2-metadata-token: $IMDS_TOKEN")'


def test_a_quoted_expansion_is_one_word_and_names_no_command():
    assert lint(f'MD="curl -s {MD}"\nID=$("$MD/instance-id")\n') == []


def test_an_empty_prefix_variable_vanishes():
    script = f'SUDO=""\n$SUDO curl -s {MD}/ami-id\n'
    assert codes(lint(script)) == ["IMDS101"]


def test_a_value_the_shell_reparses_gets_no_fix():
    # ssh sends the expanded string to a remote shell, which reads `&&` as an operator.
    script = f'CMD="curl -s {MD}/ami-id && echo"\nssh host "uptime; $CMD"\n'
    [finding] = lint(script)
    assert finding.code == "IMDS101" and finding.fix is None
    assert fix(script) == script


def test_eval_of_a_variable_reads_the_string_assigned_to_it():
    script = f'CMD="curl -s {MD}/public-ipv4 || echo none"\nIP=$(eval "$CMD")\n'
    [finding] = lint(script)
    assert finding.start.line == 1


def test_a_url_reaches_the_client_through_locals_shift_and_arrays():
    script = (
        "get() {\n"
        '  local url="$1"\n'
        "  shift\n"
        '  local opts=(-fsS "$@")\n'
        '  curl "${opts[@]}" "$url"\n'
        "}\n"
        f"get {MD}/local-ipv4 --max-time 2\n"
    )
    [finding] = lint(script)
    assert finding.start.line == 5 and f"{MD}/local-ipv4 " in finding.message + " "
    # The helper serves every caller: adding the header there is not provably safe.
    assert finding.fix.applicability is Applicability.UNSAFE


def test_a_function_that_runs_its_arguments_is_fixed_at_the_call():
    script = f'retry() {{ for i in 1 2 3; do "$@" && return; sleep 1; done; return 1; }}\nretry curl -fsS {MD}/ami-id\n'
    [finding] = lint(script)
    assert finding.start.line == 2 and finding.fix.applicability is Applicability.SAFE
    assert fix(script).splitlines()[-1] == f'retry curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -fsS {MD}/ami-id'


def test_wrappers_of_wrappers_are_followed_and_recursion_ends():
    script = (
        'fetch() { curl -s "$@"; }\n'
        'md() { fetch "' + MD + '/$1"; }\n'
        'loop() { loop "$@"; md "$1"; }\n'
        "loop hostname\n"
    )
    [finding] = lint(script)
    assert finding.start.line == 1 and "meta-data/hostname" in finding.message


def test_a_helper_never_given_a_metadata_url_is_not_a_request():
    assert lint('fetch() { local u="$1"; curl -fsS "$u"; }\nfetch https://example.com/health\n') == []


def test_many_calls_of_nested_helpers_stay_bounded():
    lines = ['a() { curl -s "$@"; }', 'b() { a "$@"; a "$1"; }', 'c() { b "$@"; b "$1"; }', 'd() { c "$@"; c "$1"; }']
    lines += [f"d {MD}/ami-id"] * 3000
    started = time.perf_counter()
    findings = lint("\n".join(lines) + "\n")
    assert codes(findings) == ["IMDS101"]
    assert time.perf_counter() - started < 20
