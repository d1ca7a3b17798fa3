"""Hostile inputs that attack time and memory, each run as its own process.

Peak RSS is the child's own (``os.wait4``), so the test process's memory does
not count. Bounds are generous (several times what a run takes here) but far
below what each input cost before its class was fixed: the figures before and
after are in the comments.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass

import pytest

URL = "http://169.254.169.254/latest/meta-data/instance-id"
CURL = f"curl -s {URL}"


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    peak_mb: float
    cpu_seconds: float = 0.0

    def json(self) -> dict:
        return json.loads(self.out)


# The child's peak RSS, measured by a small parent of its own: a child forked straight from
# pytest would count pytest's pages too (Linux keeps the pre-exec high-water mark).
_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}')\n"
    "sys.exit(code)\n"
)


def run_cli(args: list[str], cwd, timeout: float = 180) -> Run:
    """``python -m imds_lint ARGS`` in ``cwd``: exit code, output, wall time and its peak RSS."""
    env = dict(os.environ, NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    with tempfile.TemporaryDirectory() as scratch:
        rss_file = os.path.join(scratch, "rss")
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", _MEASURE, rss_file, sys.executable, "-m", "imds_lint", *args],
                                cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the wrapper and imds-lint under it
            proc.communicate()
            pytest.fail(f"imds-lint {' '.join(args)} still running after {timeout} s")
        seconds = time.monotonic() - start
        with open(rss_file) as handle:
            peak_kb, cpu = handle.read().split()
    return Run(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), seconds,
               int(peak_kb) / 1024, float(cpu))


def assert_bounded(run: Run, seconds: float, peak_mb: float) -> None:
    assert run.code in (0, 1), run.err
    assert "Traceback" not in run.err
    assert run.seconds < seconds, f"took {run.seconds:.1f} s"
    assert run.peak_mb < peak_mb, f"peak RSS {run.peak_mb:.0f} MB"


# -- YAML aliases ------------------------------------------------------------------------------
# Nine-way aliases, nine levels: 9**9 nodes for a walk that follows aliases. Before: 5.6 s at eight
# levels on every route (×9 per level, so ~50 s here); after: 0.3 s, ~20 MB.

def _laughs(levels: int = 9, width: int = 9) -> str:
    lines = [f'l0: &l0 ["{CURL}"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


YAML_ROUTES = {
    "cloud-init": ("user-data.yaml", f"#cloud-config\nruncmd:\n  - {CURL}\n"),
    "compose": ("docker-compose.yml", f"services:\n  app:\n    image: alpine\n    command: {CURL}\n"),
    "k8s": ("pod.yaml", f"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: x\n      command: [sh, -c, '{CURL}']\n"),
    "cloudformation": ("template.yaml", "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Web:\n"
                                        "    Type: AWS::EC2::Instance\n    Properties:\n"
                                        f"      UserData: !Base64 '{CURL}'\n"),
    "github-actions": (".github/workflows/ci.yml", f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: {CURL}\n"),
    "gitlab-ci": (".gitlab-ci.yml", f"job:\n  script:\n    - {CURL}\n"),
    "ansible": ("playbooks/site.yml", f"- hosts: all\n  tasks:\n    - shell: {CURL}\n"),
}


@pytest.mark.parametrize("route", sorted(YAML_ROUTES))
def test_an_alias_bomb_costs_nothing_on_every_yaml_route(tmp_path, route):
    name, head = YAML_ROUTES[route]
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + _laughs())
    run = run_cli(["--format", "json", "-j", "1", name], tmp_path)
    assert_bounded(run, seconds=20, peak_mb=250)
    assert run.code == 1, "the request beside the bomb is still found"


@pytest.mark.parametrize("shape", ["recursive", "mapping-values"])
def test_alias_variations_cost_nothing(tmp_path, shape):
    if shape == "recursive":
        # An alias inside its own anchor: a walk that follows it never ends (before: still running
        # after 60 s at 1.1 GB).
        body = f"#cloud-config\nruncmd:\n  - {CURL}\nloop: &loop [*loop, {{a: *loop}}]\n"
        name = "user-data.yaml"
    else:
        # Aliases as mapping values, 40 wide and 5 deep (40**5 nodes), in a compose extension field.
        body = f"x-l0: &l0 {{cmd: '{CURL}'}}\n"
        for i in range(1, 6):
            body += f"x-l{i}: &l{i} {{" + ", ".join(f"k{j}: *l{i - 1}" for j in range(40)) + "}\n"
        body += f"services:\n  app:\n    image: alpine\n    command: {CURL}\n"
        name = "docker-compose.yml"
    (tmp_path / name).write_text(body)
    run = run_cli(["--format", "json", "-j", "1", name], tmp_path)
    assert_bounded(run, seconds=20, peak_mb=250)
    assert run.code == 1


def test_ordinary_anchors_still_reach_their_aliases():
    from tests.helpers import lint

    compose = ("x-base: &base\n  network_mode: host\nservices:\n  app:\n    <<: *base\n    image: alpine\n"
               f"    command: {CURL}\n")
    from imds_lint.frontends import yaml_nodes as yn

    root = yn.compose(compose)
    app = yn.get(yn.get(root, "services"), "app")
    merged = yn.get(app, "<<")
    assert yn.get(merged, "network_mode").value == "host", "an alias within budget is kept whole"
    assert lint(compose, "compose")


# -- decompression -------------------------------------------------------------------------


def _gzip_stream(head: bytes, filler_mb: int) -> bytes:
    """gzip of ``head`` followed by ``filler_mb`` MB of newlines, compressed a megabyte at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(head)]
    block = b"\n" * (1 << 20)
    parts.extend(packer.compress(block) for _ in range(filler_mb))
    parts.append(packer.flush())
    return b"".join(parts)


def _cloud_config_with_file(payload: bytes, encoding: str = "gz+b64") -> str:
    return (f"#cloud-config\nruncmd:\n  - {CURL}\nwrite_files:\n  - path: /opt/boot.sh\n    encoding: {encoding}\n"
            f"    content: {base64.b64encode(payload).decode()}\n")


def test_a_gzip_bomb_in_write_files_is_refused_within_budget(tmp_path):
    # 300 MB of newlines in 300 KB of gzip. Before: the 1.4 GB version took 71 s and 4.3 GB RSS
    # (this one ~1 GB); after: ~1 s, ~40 MB.
    payload = _gzip_stream(f"#!/bin/sh\n{CURL}\n".encode(), 300)
    (tmp_path / "user-data.yaml").write_text(_cloud_config_with_file(payload))
    run = run_cli(["--format", "json", "-j", "1", "user-data.yaml"], tmp_path)
    assert_bounded(run, seconds=30, peak_mb=250)
    data = run.json()
    assert any("max-file-size" in e["message"] and "/opt/boot.sh" in e["message"] for e in data["errors"])
    assert [f["line"] for f in data["findings"]] == [3], "the runcmd request is still reported"


def test_nested_payloads_share_one_budget(tmp_path):
    # A 7 KB file whose gz+b64 payload is a cloud-config holding a 60 MB one. Before: 8.4 s, 636 MB
    # (with 200 MB inside); after: ~1 s, ~30 MB.
    inner = _cloud_config_with_file(_gzip_stream(f"#!/bin/sh\n{CURL}\n".encode(), 60)).encode()
    outer = _cloud_config_with_file(_gzip(inner))
    (tmp_path / "user-data.yaml").write_text(outer)
    assert len(outer) < 200_000
    run = run_cli(["--format", "json", "-j", "1", "user-data.yaml"], tmp_path)
    assert_bounded(run, seconds=30, peak_mb=250)
    assert any("max-file-size" in e["message"] for e in run.json()["errors"])


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, 9)


def test_many_small_payloads_draw_on_the_same_budget():
    from imds_lint.decoding import BudgetExceeded, DecodeBudget, gunzip

    budget = DecodeBudget(3 << 20)
    one_mb = _gzip(b"x" * (1 << 20))
    for _ in range(3):
        assert gunzip(one_mb, budget) == b"x" * (1 << 20)
    with pytest.raises(BudgetExceeded):
        gunzip(one_mb, budget)
    assert gunzip(b"not gzip", DecodeBudget(100)) is None
    assert gunzip(one_mb[:-20], DecodeBudget(2 << 20)) is None, "a truncated stream is not a payload"
    assert gunzip(_gzip(b"a") + _gzip(b"b"), DecodeBudget(100)) == b"ab", "every member, like gzip.decompress"


# -- deep nesting ------------------------------------------------------------------------------


CFN = ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Web:\n    Type: AWS::EC2::Instance\n    Properties:\n"
       f"      ImageId: ami-12345678\n      UserData: !Base64 '{CURL}'\n")


def _pad(padding: str, depth: int) -> str:
    return "[" * depth + "]" * depth if padding == "sequence" else "{a: " * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [1_200, 20_000])
@pytest.mark.parametrize("padding", ["sequence", "mapping"])
def test_a_deeply_padded_template_keeps_its_enforcement_finding(tmp_path, padding, depth):
    # Before: "nested too deeply; fell back to text scanning", IMDS301 gone (past ~1,500 levels,
    # and 10 s at 5,000: PyYAML's scanner is quadratic in flow depth). After: both findings;
    # 20,000 levels take ~1.2 s (sequence) and ~1.8 s (mapping), 40-50 MB.
    (tmp_path / "template.yaml").write_text(CFN + f"Metadata:\n  Pad: {_pad(padding, depth)}\n")
    run = run_cli(["--format", "json", "-j", "1", "template.yaml"], tmp_path)
    assert_bounded(run, seconds=30, peak_mb=250)
    assert {f["rule"] for f in run.json()["findings"]} >= {"IMDS301", "IMDS101"}
    assert run.json()["errors"] == []


def test_a_deeply_padded_compose_file_keeps_its_route(tmp_path):
    # libyaml's 1,000-level limit made the compose route take the file for broken YAML and read it
    # as text, silently: IMDS201 (the container's network) was gone with no note.
    (tmp_path / "compose.yaml").write_text(f'services:\n  web:\n    image: alpine\n    command: ["sh", "-c", "{CURL}"]\n'
                                           f"    x-pad: {_pad('sequence', 20_000)}\n")
    run = run_cli(["--format", "json", "-j", "1", "compose.yaml"], tmp_path)
    assert_bounded(run, seconds=30, peak_mb=250)
    assert sorted(f["rule"] for f in run.json()["findings"]) == ["IMDS101", "IMDS201"]


def test_deep_documents_past_the_pure_readers_node_budget_are_text_scanned_with_a_note(tmp_path):
    # Six documents 40,000 levels deep: 240,000 nodes only PyYAML's pure-Python reader can read.
    # Each parses on its own; together they would cost ~6 s a MB. Stopped at 200,000 nodes (~4.5 s).
    from imds_lint.frontends.yaml_nodes import PURE_NODE_BUDGET

    docs = "".join(f"---\n{_pad('sequence', 40_000)}\n" for _ in range(6))
    (tmp_path / "user-data").write_text(f"#cloud-config\nruncmd:\n  - {CURL}\n" + docs)
    run = run_cli(["--format", "json", "-j", "1", "user-data"], tmp_path)
    assert_bounded(run, seconds=40, peak_mb=300)
    assert [f["rule"] for f in run.json()["findings"]] == ["IMDS101"]
    (error,) = run.json()["errors"]
    assert f"over {PURE_NODE_BUDGET:,} YAML nodes" in error["message"] and "fell back to text scanning" in error["message"]


def test_past_the_depth_bound_the_note_says_so_and_requests_are_still_found(tmp_path):
    from imds_lint.frontends.yaml_nodes import MAX_DEPTH

    (tmp_path / "template.yaml").write_text(CFN + f"Metadata:\n  Pad: {_pad('sequence', MAX_DEPTH + 10)}\n")
    run = run_cli(["--format", "json", "-j", "1", "template.yaml"], tmp_path)
    assert_bounded(run, seconds=30, peak_mb=250)
    assert [f["rule"] for f in run.json()["findings"]] == ["IMDS101"]
    assert [e["message"] for e in run.json()["errors"]] == ["yaml document nested too deeply; fell back to text scanning"]


# -- long lines ------------------------------------------------------------------------------


def test_findings_on_one_long_line_keep_a_window_not_the_line(tmp_path):
    # 4,000 requests on a 232 KB line. Before: 4.4 s, 954 MB (each finding copied the line);
    # after: 1.5 s, 50 MB.
    (tmp_path / "one-line.sh").write_text("#!/bin/sh\n" + "; ".join([f"curl {URL}"] * 4000) + "\n")
    run = run_cli(["--format", "json", "-j", "1", "one-line.sh"], tmp_path)
    assert_bounded(run, seconds=30, peak_mb=250)
    assert len(run.json()["findings"]) == 4000


def test_fingerprinting_many_findings_on_a_long_line_is_linear(tmp_path):
    # 20,000 requests on a 1.1 MB line, through --write-baseline then --baseline (fingerprints
    # of whole-line snippets were 20,000 x 1.1 MB of hashing). After: ~7 s, ~120 MB each.
    (tmp_path / "one-line.sh").write_text("#!/bin/sh\n" + "; ".join([f"curl {URL}"] * 20000) + "\n")
    run = run_cli(["--write-baseline", "baseline.json", "-j", "1", "one-line.sh"], tmp_path)
    assert_bounded(run, seconds=60, peak_mb=400)
    assert (tmp_path / "baseline.json").stat().st_size < 20000 * 400
    run = run_cli(["--baseline", "baseline.json", "-j", "1", "one-line.sh"], tmp_path)
    assert_bounded(run, seconds=60, peak_mb=400)
    assert run.code == 0, "every finding matched its own fingerprint"


def test_a_long_line_frame_points_at_its_request():
    from imds_lint.reporters import Report
    from imds_lint.reporters.text import render
    from tests.helpers import lint

    text = "#!/bin/sh\n" + "x" * 5000 + f"; curl {URL}; " + "y" * 5000 + "\n"
    findings = lint(text)
    assert len(findings) == 1 and len(findings[0].snippet) <= 400 and findings[0].snippet_column > 1
    import io

    out = io.StringIO()
    render(Report(findings=findings), out)
    _, code_line, caret_line = out.getvalue().splitlines()[1:4]
    caret = caret_line.index("^")
    assert code_line[caret:].startswith("curl"), (code_line, caret_line)


# -- --fix / --diff at scale -------------------------------------------------------------------


def test_a_diff_of_sixteen_thousand_requests_is_linear(tmp_path):
    # Before: 8,000 lines took 27 s (difflib and pairwise fix selection, both quadratic), 32,000
    # took 67 s; after: 8,000 in 7 s, 32,000 in 35 s (under load), all in the front-ends.
    (tmp_path / "many.sh").write_text("#!/bin/sh\n" + f"curl -s {URL}\n" * 16000)
    run = run_cli(["--diff", "-j", "1", "many.sh"], tmp_path)
    assert_bounded(run, seconds=90, peak_mb=600)
    added = [line for line in run.out.splitlines() if line.startswith("+") and not line.startswith("+++")]
    removed = [line for line in run.out.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert len(added) == 16001 and len(removed) == 16000, "every request rewritten, one token fetch added"


def test_ten_thousand_nested_substitutions_are_linear(tmp_path):
    # tree-sitter's Node.parent searches down from the root: walking up from depth d costs d**2.
    # Before: 207 s (77 s in the issue); after: 1.4 s, 50 MB.
    (tmp_path / "nested.sh").write_text("#!/bin/bash\nx=" + "$( " * 10000 + f"curl {URL}" + " )" * 10000 + "\n")
    run = run_cli(["--format", "json", "-j", "1", "nested.sh"], tmp_path)
    assert_bounded(run, seconds=30, peak_mb=250)
    assert run.code == 1


def test_nested_substitutions_under_diff_are_linear(tmp_path):
    (tmp_path / "nested.sh").write_text("#!/bin/bash\n" + "".join(
        "y=" + "$( " * 3000 + f"curl {URL}" + " )" * 3000 + "\n" for _ in range(2)))
    run = run_cli(["--diff", "-j", "1", "nested.sh"], tmp_path)
    assert_bounded(run, seconds=30, peak_mb=250)
    assert "X-aws-ec2-metadata-token" in run.out


_TF_TOKENS = 'variable "tokens" {\n  default = "optional"\n}\n\n'


def _terraform_instances(count: int) -> str:
    """``count`` instances whose http_tokens reads a variable (the one ``.parent`` step left, in
    hcl/module.py: tree-sitter's walks down from the root, past every block before it)."""
    return _TF_TOKENS + "".join(f'resource "aws_instance" "i{i}" {{\n  ami = var.ami\n  metadata_options {{\n'
                                f'    http_tokens = var.tokens\n  }}\n}}\n\n' for i in range(count))


def test_terraform_blocks_reading_variables_are_linear(tmp_path):
    # Measured this round, linear already: 2,500 / 10,000 blocks 0.5 / 1.2 s CPU, 168 MB at 10,000.
    runs = {}
    for count in (2500, 10000):
        (tmp_path / str(count)).mkdir()
        (tmp_path / str(count) / "main.tf").write_text(_terraform_instances(count))
        runs[count] = run_cli(["--format", "json", "--no-cache", "-j", "1", "main.tf"], tmp_path / str(count))
        assert runs[count].code == 1 and len(runs[count].json()["findings"]) == count
    assert runs[10000].cpu_seconds < 8 * runs[2500].cpu_seconds, \
        f"{runs[2500].cpu_seconds:.1f} s CPU for 2,500 blocks, {runs[10000].cpu_seconds:.1f} s for 10,000"
    assert runs[10000].peak_mb < 400, f"peak RSS {runs[10000].peak_mb:.0f} MB for 1.1 MB of Terraform"


def test_ten_thousand_nested_terraform_blocks_are_bounded(tmp_path):
    # Each level reads the variable; the instance's own http_tokens is still resolved through it.
    text = (_TF_TOKENS + 'resource "aws_instance" "x" {\n  metadata_options {\n    http_tokens = var.tokens\n  }\n'
            + "".join(f"  b{i} {{\n    v = var.tokens\n" for i in range(10000)) + "  }\n" * 10000 + "}\n")
    (tmp_path / "main.tf").write_text(text)
    run = run_cli(["--format", "json", "--no-cache", "-j", "1", "main.tf"], tmp_path)
    assert_bounded(run, seconds=30, peak_mb=250)
    assert [f["rule"] for f in run.json()["findings"]] == ["IMDS301"]


@pytest.mark.slow
def test_a_diff_of_many_terraform_heredocs_is_linear(tmp_path):
    # user_data heredocs, each a shell document fixed token-first inside the HCL file. Before:
    # 2,500 / 10,000 heredocs 4.8 / 19.0 s CPU, 393 / 1,371 MB; after: 3.2 / 11.9 s, 256 / 960 MB
    # (1,000 / 4,000: 1.3 / 4.7 s, 111 / 397 MB). Most of the memory is tree-sitter-hcl's own tree
    # of the fixed file, ~100 MB per MB of HCL with heredocs (445 bytes per node).
    def heredocs(count: int) -> str:
        return "".join(f'resource "aws_instance" "i{i}" {{\n  ami = "ami-{i}"\n  metadata_options {{\n'
                       f'    http_tokens = "required"\n  }}\n  user_data = <<-EOT\n    #!/bin/bash\n'
                       f"    curl -s {URL}\n  EOT\n}}\n\n" for i in range(count))

    runs = {}
    for count in (1000, 4000):
        (tmp_path / str(count)).mkdir()
        (tmp_path / str(count) / "main.tf").write_text(heredocs(count))
        runs[count] = run_cli(["--diff", "--no-cache", "-j", "1", "main.tf"], tmp_path / str(count), timeout=600)
        assert runs[count].code == 1 and runs[count].out.count("X-aws-ec2-metadata-token: $IMDS_TOKEN") == count
    assert runs[4000].cpu_seconds < 6 * runs[1000].cpu_seconds, \
        f"{runs[1000].cpu_seconds:.1f} s CPU for 1,000 heredocs, {runs[4000].cpu_seconds:.1f} s for 4,000"
    assert runs[4000].peak_mb < 800, f"peak RSS {runs[4000].peak_mb:.0f} MB for 0.87 MB of Terraform"


def _mime_parts(count: int) -> str:
    boundary = "==BOUNDARY=="
    parts = [f'Content-Type: multipart/mixed; boundary="{boundary}"\nMIME-Version: 1.0\n']
    parts += [f'--{boundary}\nContent-Type: text/x-shellscript; charset="us-ascii"\n\n#!/bin/bash\n'
              f"ID{i}=$({CURL})\necho $ID{i}\n" for i in range(count)]
    return "\n".join(parts + [f"--{boundary}--\n"])


@pytest.mark.slow
def test_a_diff_of_many_mime_parts_is_linear(tmp_path):
    # Each part is a document of its own (parsed, fixed, re-parsed). Before: ~2x more per part at
    # 20,000 parts than at 2,000 (110 s under load): every full garbage collection walked every
    # part's tree. After: 1,000 / 4,000 parts 1.5 / 5.7 s CPU (x3.9 for x4), 38 / 92 MB.
    # CPU time, not wall time: the bound must hold on a machine other jobs share.
    runs = {}
    for count in (1000, 4000):
        (tmp_path / f"user-data-{count}.txt").write_text(_mime_parts(count))
        runs[count] = run_cli(["--diff", "-j", "1", f"user-data-{count}.txt"], tmp_path, timeout=600)
        assert runs[count].code == 1 and "X-aws-ec2-metadata-token" in runs[count].out
        assert runs[count].out.count("+ID") == count, "every part's request rewritten"
    assert runs[4000].cpu_seconds < 6 * runs[1000].cpu_seconds, \
        f"{runs[1000].cpu_seconds:.1f} s CPU for 1,000 parts, {runs[4000].cpu_seconds:.1f} s for 4,000"
    assert runs[4000].peak_mb < 400, f"peak RSS {runs[4000].peak_mb:.0f} MB for 0.66 MB of user-data"


@pytest.mark.slow
def test_a_diff_of_many_mime_parts_stays_within_a_hundred_megabytes_per_megabyte(tmp_path):
    # 20,000 parts, 3.3 MB. Before: 356 MB (108 MB per MB): every pass's parsed parts, all of them
    # beside all their findings, the fixed text linted once more after the loop's last pass had,
    # each pass's text kept for the cycle check, the parsed message beside every part's tree.
    # After: ~294 MB (89 MB per MB), ~14 s CPU.
    text = _mime_parts(20000)
    (tmp_path / "user-data.txt").write_text(text)
    run = run_cli(["--diff", "-j", "1", "user-data.txt"], tmp_path, timeout=600)
    assert run.code == 1 and run.out.count("+ID") == 20000, "every part's request rewritten"
    megabytes = len(text) / 1e6
    assert run.peak_mb < 100 * megabytes, f"peak RSS {run.peak_mb:.0f} MB for {megabytes:.1f} MB of user-data"


@pytest.mark.slow
def test_a_two_megabyte_script_stays_within_a_hundred_megabytes_per_megabyte(tmp_path):
    # 27,000 tokenless requests in 2 MB. Before: 111 MB per MB (a parent table of every node
    # of the tree, 28 MB per MB); after: ~205 MB in all (~90 MB per MB above the interpreter's own).
    line = "v{n}=$(curl -s http://169.254.169.254/latest/meta-data/tags/instance/k{n})\n"
    body, n = ["#!/bin/bash\n"], 0
    while sum(map(len, body)) < 2 * 1024 * 1024 - 200:
        body.append(line.format(n=n))
        n += 1
    (tmp_path / "big.sh").write_text("".join(body))
    run = run_cli(["--format", "json", "-j", "1", "big.sh"], tmp_path, timeout=600)
    assert run.code == 1 and len(run.json()["findings"]) == n
    assert run.peak_mb < 250, f"peak RSS {run.peak_mb:.0f} MB for 2 MB of shell (target: 100 MB per MB)"


def test_suppressions_are_matched_without_comparing_every_pair():
    # 20,000 findings, 20,000 trailing suppressions (each for another rule): every finding was
    # checked against every suppression (400 million checks); now against those on its lines.
    from imds_lint.model import Category, Finding, Severity, Span
    from imds_lint.source import SourceText
    from imds_lint.suppressions import apply_suppressions

    lines = [f"curl {URL}  # imds-lint: ignore[IMDS50{i % 2 + 1}]" for i in range(20_000)]
    text = "\n".join(lines) + "\n"
    source = SourceText(text.encode(), text, "utf-8")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    findings = [Finding("IMDS101", "tokenless-request", Category.IMDSV1_CALL, Severity.ERROR, "m",
                        Span(starts[i], starts[i] + 4)) for i in range(20_000)]
    start = time.process_time()
    kept = apply_suppressions(findings, source, {"IMDS101", "IMDS501", "IMDS502", "IMDS002", "IMDS003"},
                              lambda code: True)
    assert time.process_time() - start < 20
    assert sum(f.code == "IMDS101" for f in kept) == 20_000  # none of them names IMDS101
    assert sum(f.code == "IMDS002" for f in kept) == 20_000  # so each is unused


def test_baseline_matching_is_not_pairwise(tmp_path):
    # 20,000 findings against 30,000 entries: fingerprints of identical lines (told apart by their
    # occurrence index), entries of this file that match nothing, entries of a file that is gone.
    # Counted by fingerprint, never compared pairwise: ~0.3 s CPU (fingerprints included).
    from imds_lint import baseline
    from imds_lint.fingerprint import fingerprints
    from imds_lint.model import Category, Finding, Location, Severity, Span

    findings = [Finding("IMDS101", "tokenless-request", Category.IMDSV1_CALL, Severity.ERROR, "m", Span(i, i + 4),
                        path="same.sh", start=Location(i + 1, 1), snippet=f"curl  {URL}") for i in range(20_000)]
    start = time.process_time()
    prints = fingerprints(findings)
    assert len(set(prints)) == 20_000, "identical lines, told apart by occurrence"
    entries = [{"fingerprint": fp, "path": "same.sh"} for fp in prints[::2]]
    entries += [{"fingerprint": f"{i:032x}", "path": "same.sh"} for i in range(10_000)]
    entries += [{"fingerprint": fp, "path": "gone.sh"} for fp in prints[1::2]]  # matches the same fingerprints
    filtered = baseline.apply(entries, findings, prints, scanned={"same.sh"}, roots=[tmp_path])
    assert time.process_time() - start < 10
    # Each entry hides one finding, whichever file it names (fingerprints carry the path).
    assert filtered.matched == 20_000 and not filtered.kept
    assert len(filtered.stale) == 10_000 and all(e["path"] == "same.sh" for e in filtered.stale)


def test_fix_selection_is_not_pairwise():
    from imds_lint.fixers import select_fixes
    from imds_lint.model import Applicability, Edit, Fix

    fixes = [Fix("f", (Edit(i * 10, i * 10 + 4, "x"), Edit(0, 0, "TOKEN\n")), Applicability.SAFE) for i in range(1, 50_001)]
    start = time.monotonic()
    chosen, skipped = select_fixes(fixes)
    assert time.monotonic() - start < 10  # pairwise: 1.25e9 comparisons
    assert len(chosen) == 50_000 and not skipped


def test_a_diff_of_a_large_file_is_linear_and_applies():
    from imds_lint.textdiff import unified_diff

    a = [f"curl -s {URL}\n"] * 50_000
    b = ["TOKEN=x\n"] + [f"curl -H t -s {URL}\n" if i % 3 else f"curl -s {URL}\n" for i in range(50_000)] + ["end\n"]
    start = time.monotonic()
    diff = unified_diff(a, b, "a/x", "b/x")
    assert time.monotonic() - start < 10
    assert _apply(a, diff) == b


def _apply(lines: list[str], diff: str) -> list[str]:
    """A unified diff applied strictly: context and removed lines must be where the hunk says."""
    import re as regex

    out, cursor = [], 0
    hunks = regex.split(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@\n", diff, flags=regex.M)
    for i in range(1, len(hunks), 3):
        start, length, body = int(hunks[i]), hunks[i + 1], hunks[i + 2]
        start = start - 1 if length != "0" else start
        out.extend(lines[cursor:start])
        cursor = start
        for line in body.splitlines(keepends=True):
            tag, text = line[0], line[1:]
            if tag in " -":
                assert lines[cursor] == text, (cursor, lines[cursor], text)
                cursor += 1
            if tag in " +":
                out.append(text)
    return out + lines[cursor:]


def test_reverting_breaking_fixes_costs_log_parses(monkeypatch):
    from imds_lint import engine
    from imds_lint.config import Settings
    from imds_lint.model import Applicability, Edit, Fix

    text = "x" * 2000
    parses = []

    def broken_count(candidate, kind):
        parses.append(1)
        return candidate.count("!")  # the fix that writes "!" breaks parsing

    monkeypatch.setattr(engine, "syntax_errors", broken_count)
    fixes = [Fix(f"f{i}", (Edit(i, i + 1, "!" if i == 777 else "y"),), Applicability.SAFE) for i in range(1000)]
    notes: list[str] = []
    kept, fixed = engine.Linter(Settings())._without_breaking_fixes(text, "shell", fixes, 0, notes)
    assert len(kept) == 999 and notes == ["reverted a fix that would not parse: f777"]
    assert len(parses) <= 2 * 10 + 2, "about 2 log2(n) trials, not n"
