"""Deeply nested code in the tree-sitter languages: time and memory stay linear in its size.

A request at every level of n nested blocks: each request's walk up to its statement,
its block and its top-level statement used tree-sitter's ``Node.parent``, which searches
down from the root (d steps at depth d), so n requests cost n**3. Each size runs as its
own process; the bound is on the ratio of CPU time (not wall time: other jobs share the
machine) between two sizes, so a loaded machine does not make it flake.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

URL = "http://169.254.169.254/latest/meta-data/instance-id"

# Language -> (file name, the request (``{i}``: its level), a block's opening and closing, the file
# around the blocks).
SHAPES = {
    "powershell": ("deep.ps1", f'$r = Invoke-RestMethod -Uri "{URL}"\n', "if ($true) {\n", "}\n", "{}"),
    "go": ("deep.go", f'http.Get("{URL}")\n', "if x {\n", "}\n",
           'package main\n\nimport "net/http"\n\nfunc main() {{\nx := true\n{}}}\n'),
    "javascript": ("deep.js", f'fetch("{URL}");\n', "if (x) {\n", "}\n", "function main(x) {{\n{}}}\n"),
    "typescript": ("deep.ts", f'fetch("{URL}");\n', "if (x) {\n", "}\n", "function main(x: boolean) {{\n{}}}\n"),
    # One WebClient shared by every level: each fix adds a header call on it.
    "csharp": ("Deep.cs", f'web.DownloadString("{URL}");\n', "if (x) {\n", "}\n",
               "using System.Net;\nclass A {{\nvoid M(bool x, WebClient web) {{\n{}}}\n}}\n"),
    "java": ("A.java", 'HttpURLConnection c{i} = (HttpURLConnection) new URL("' + URL + '").openConnection();\n'
             "c{i}.getInputStream();\n", "if (x) {\n", "}\n",
             "import java.net.HttpURLConnection;\nimport java.net.URL;\n"
             "class A {{\nvoid m(boolean x) throws Exception {{\n{}}}\n}}\n"),
    "ruby": ("deep.rb", f"Net::HTTP.get(URI('{URL}'))\n", "if x\n", "end\n", "require 'net/http'\n{}"),
}

# CPU seconds and peak RSS of the child alone, measured by a small parent of its own.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL)\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(f'{code} {u.ru_utime + u.ru_stime} {u.ru_maxrss}')\n"
)


def nested(language: str, depth: int) -> str:
    _, request, opening, closing, around = SHAPES[language]
    return around.format("".join(opening + request.replace("{i}", str(i)) for i in range(depth)) + closing * depth)


def run(path) -> tuple[int, float, float]:
    """Exit code, CPU seconds and peak RSS (MB) of ``imds-lint --diff --unsafe-fixes PATH``."""
    with tempfile.TemporaryDirectory() as scratch:
        result = os.path.join(scratch, "result")
        subprocess.run([sys.executable, "-c", _MEASURE, result, sys.executable, "-m", "imds_lint", "--diff",
                        "--unsafe-fixes", "-j", "1", str(path)], cwd=path.parent, timeout=300, check=True,
                       env=dict(os.environ, NO_COLOR="1"))
        code, cpu, peak_kb = open(result).read().split()
    return int(code), float(cpu), int(peak_kb) / 1024


# 2.5 to 4.5 s each (up to 7.5 s at load 4): under the ~10 s that marks a test slow.
@pytest.mark.parametrize("language", sorted(SHAPES))
def test_requests_nested_deep_cost_linear_time(tmp_path, language):
    # PowerShell before: 500 levels 12 s CPU, 1,000 levels 103 s (x8.5 for x2); after: 1,000 /
    # 4,000 / 10,000 levels in ~0.4 / 1.1 / 2.5 s CPU, 179 MB at 10,000 (0.97 MB).
    # C#, one shared WebClient: 1,000 levels 44 s, 497 MB; Go and JavaScript: 4,000 levels past 300 s.
    # After (1,000 -> 4,000 levels, s CPU): C# 0.9 -> 2.7, Go 1.0 -> 3.3, JavaScript 0.7 -> 2.4,
    # TypeScript 0.7 -> 2.7, Java 0.7 -> 2.4, Ruby 0.5 -> 1.7; peak 108-178 MB at 4,000.
    runs = {}
    for depth in (1000, 4000):
        (tmp_path / str(depth)).mkdir()
        path = tmp_path / str(depth) / SHAPES[language][0]
        path.write_text(nested(language, depth))
        runs[depth] = run(path)
        assert runs[depth][0] == 1, f"{language}: exit {runs[depth][0]}"
    (_, small, _), (_, large, peak) = runs[1000], runs[4000]
    assert large < 8 * small, f"{language}: {small:.1f} s CPU for 1,000 levels, {large:.1f} s for 4,000"
    assert peak < 300, f"{language}: peak RSS {peak:.0f} MB for 4,000 levels"


_LANGUAGES = {".go": "go", ".js": "javascript", ".mjs": "javascript", ".ts": "typescript", ".java": "java",
              ".cs": "csharp", ".rb": "ruby"}


def _sources():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "fixtures"
    for path in sorted(root.rglob("*")):
        language = _LANGUAGES.get(path.suffix) or ("ruby" if path.name == "Rakefile" else None)
        if language is not None:
            yield language, path.read_text(encoding="utf-8")
    for language, name in (("go", "go"), ("javascript", "javascript"), ("csharp", "csharp"), ("java", "java"),
                           ("ruby", "ruby")):
        yield language, nested(name, 40)


@pytest.mark.parametrize("language,text", list(_sources()), ids=lambda v: v if len(v) < 12 else None)
def test_the_call_index_answers_as_a_scan_of_every_call(language, text):
    # The source reader finds a variable's calls within a scope from an index (bisection); it
    # must find exactly what scanning every call of the file found, in the same order.
    from imds_lint.frontends.sourcecode import Reader
    from imds_lint.model import Document

    reader = Reader(Document(language, text), language)  # the file kinds are named as the languages
    reader.collect()
    scopes = [None] + list(dict.fromkeys(filter(None, (reader.enclosing_function(c.node) for c in reader.calls))))
    variables = {c.callee.split(".", 1)[0] for c in reader.calls} | {
        reader.source(a) for c in reader.calls for a in c.args if a.end_byte - a.start_byte < 40}
    names = tuple({c.name for c in reader.calls})
    assert reader.calls and variables
    for scope in scopes:
        start, end = (scope.start_byte, scope.end_byte) if scope is not None else (0, len(reader.state.src))
        inside = [c for c in reader.calls if start <= c.node.start_byte and c.node.end_byte <= end]
        for variable in variables:
            assert list(reader.calls_on(variable, scope)) == [c for c in inside if c.callee.split(".", 1)[0] == variable]
            for chosen in (names, names[:1]):
                assert list(reader.calls_with_argument(variable, chosen, scope)) == [
                    c for c in inside if c.name in chosen and any(reader.source(a) == variable for a in c.args)]
