"""Properties that must hold for any input, checked with hypothesis."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from imds_lint.engine import syntax_errors
from imds_lint.fixers import apply_edits
from imds_lint.model import Applicability, Edit, OffsetMap, Segment
from imds_lint.source import decode
from tests.helpers import codes, fix, lint, lint_notes

SHELLISH = st.lists(st.sampled_from(list("abc $(){}[]|&;<>'\"\\`\n\t#=-/.:0123456789") + [
    "curl ", "wget ", "http ", " -H ", " -X PUT ", "169.254.169.254", "http://169.254.169.254/latest/",
    "meta-data/", "api/token", "X-aws-ec2-metadata-token: $T", "bash -c ", "<<EOF\n", "\nEOF\n", "\r\n",
]), max_size=120).map("".join)


@given(SHELLISH)
def test_shell_scan_never_raises(text):
    findings, notes = lint_notes(text, "shell")
    assert all(f.start.line >= 1 for f in findings)
    assert not any("internal error" in n for n in notes)


@given(st.binary(max_size=400))
def test_any_bytes_decode_and_scan_without_raising(raw):
    source = decode(raw)
    findings, notes = lint_notes(source.text, "shell")
    assert not any("internal error" in n for n in notes)


@given(st.text(max_size=200).filter(lambda t: "169.254" not in t and "instance-data" not in t
                                    and "fd00" not in t.lower() and "ec2" not in t))
def test_no_endpoint_no_finding(text):
    assert [c for c in codes(lint(text, "shell")) if not c.startswith("IMDS00")] == []


FLAGS = ["-s", "-S", "-f", "--max-time 2", "-o /dev/null", "--retry 3", "-L", "-w '%{http_code}'"]
PATHS = ["instance-id", "placement/region", "iam/security-credentials/app-role"]
QUOTES = ["{}", "'{}'", '"{}"']


@given(st.permutations(FLAGS), st.sampled_from(PATHS), st.sampled_from(QUOTES), st.integers(0, len(FLAGS)),
       st.booleans())
def test_detection_is_invariant_under_flag_order_and_quoting(flags, path, quote, url_at, with_token):
    url = quote.format(f"http://169.254.169.254/latest/meta-data/{path}")
    words = list(flags)
    words.insert(url_at, url)
    if with_token:
        words.insert(0, '-H "X-aws-ec2-metadata-token: $TOKEN"')
    found = codes(lint("curl " + " ".join(words) + "\n"))
    assert found == ([] if with_token else ["IMDS101"])


SCRIPT_PARTS = st.lists(st.sampled_from([
    "set -euo pipefail\n",
    "echo start\n",
    "# a comment that stays\n",
    "ID=$(curl -fsS http://169.254.169.254/latest/meta-data/instance-id)\n",
    "curl -s \\\n  http://169.254.169.254/latest/meta-data/ami-id\n",
    "for k in a b; do\n  curl -s \"http://169.254.169.254/latest/meta-data/$k\"\ndone\n",
    "f() {\n  wget -qO- http://169.254.169.254/latest/meta-data/mac\n}\n",
    "bash -c 'curl -s http://169.254.169.254/latest/user-data'\n",
    "IMDS_TOKEN=already-used\n",
    "if true; then\n    http GET 169.254.169.254/latest/meta-data/hostname\nfi\n",
]), min_size=1, max_size=8)


@given(SCRIPT_PARTS, st.booleans())
def test_fix_is_idempotent_local_and_keeps_the_script_parsing(parts, crlf):
    script = "".join(parts)
    if crlf:
        script = script.replace("\n", "\r\n")
    fixed = fix(script, "shell", unsafe=True)
    assert fix(fixed, "shell", unsafe=True) == fixed
    assert syntax_errors(fixed, "shell") <= syntax_errors(script, "shell")
    assert "IMDS101" not in codes(lint(fixed)) or "http GET" in script
    # Locality: every original line survives, in order, with only insertions around it.
    remaining = iter(fixed.splitlines())
    for line in script.splitlines():
        stripped = line.replace("curl ", "").replace("wget ", "").strip()
        assert any(stripped.split()[-1] in candidate for candidate in remaining) if stripped else True
    if crlf:
        assert fixed.count("\r\n") == fixed.count("\n")


@given(st.sampled_from([
    "curl -s http://169.254.169.254/latest/meta-data/ami-id",
    "wget -qO- http://169.254.169.254/latest/meta-data/",
    "curl -s http://169.254.169.254/latest/api/token",
]), st.sampled_from(["# imds-lint: ignore", "# imds-lint: ignore[IMDS1,IMDS5]", "# imds-lint: ignore[ALL]"]))
def test_a_suppression_removes_exactly_its_finding(line, comment):
    before = lint(f"{line}\necho done\n{line}\n")
    after = lint(f"{line}  {comment}\necho done\n{line}\n")
    assert len(before) == 2
    assert [(f.code, f.start.line) for f in after] == [(before[1].code, 3)]


@given(st.text(alphabet="ab\\\"$`x", max_size=40))
def test_offset_maps_send_inner_positions_to_the_same_text(body):
    from imds_lint.frontends.shell import _unescaped

    inner, offsets = _unescaped(body, 10, '\\"$`\n')
    outer = " " * 10 + body
    for i, ch in enumerate(inner):
        j = offsets.to_outer(i)
        assert outer[j] == ch or (outer[j] == "\\" and outer[j + 1] == ch)


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 5), st.text(max_size=5)), max_size=6))
def test_apply_edits_keeps_bytes_outside_the_edits(raw_edits):
    text = "0123456789" * 4
    edits, cursor = [], 0
    for start, length, content in sorted(raw_edits):
        start = max(start, cursor)
        end = min(start + length, len(text))
        assume(start <= end)
        edits.append(Edit(start, end, content))
        cursor = end + 1
    result = apply_edits(text, edits)
    assert result.startswith(text[: edits[0].start] if edits else text)
    assert result.endswith(text[edits[-1].end:] if edits else text)


def test_offset_map_shift():
    m = OffsetMap([Segment(0, 3, 5, 8), Segment(3, 4, 8, 10), Segment(4, 6, 10, 12)])
    assert [m.to_outer(i) for i in range(7)] == [5, 6, 7, 8, 10, 11, 12]


def test_applicability_values_are_stable():
    assert [a.value for a in Applicability] == ["safe", "unsafe", "display-only"]


@given(st.text(alphabet=st.characters(min_codepoint=0x40000, max_codepoint=0x10FFFF), min_size=1, max_size=3),
       st.sampled_from(["{", ",\u00b7{", "${", "echo {", "curl http://169.254.169.254/latest/meta-data/"]))
def test_code_points_that_crash_the_bash_grammar_are_masked(chars, prefix):
    # tree-sitter-bash segfaults on e.g. ",\u00b7{\U000d6c6d"; the front-end must not pass them through.
    text = prefix + chars + "\n"
    findings = lint(text, "shell")
    assert ("IMDS101" in codes(findings)) == prefix.startswith("curl")
