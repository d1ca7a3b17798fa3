"""Every runnable fixture keeps its behaviour after the fix, in the three worlds.

The fixtures are listed in tests/three_worlds.toml; tests/differential.py runs
the original and the fixed version against the loopback emulator (IMDSv1
allowed for the original, IMDSv2 required for the fixed one), a refusing port
and a black-holed one.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from imds_lint.config import Settings
from imds_lint.engine import Linter
from imds_lint.kinds import classify
from imds_lint.model import Applicability
from imds_lint.source import decode
from tests.conftest import FIXTURES
from tests.differential import Program, interpreter
from tests.embedded import EXTRACTORS

pytestmark = pytest.mark.slow

MANIFEST = tomllib.loads((Path(__file__).with_name("three_worlds.toml")).read_text())
LANGUAGE = {"shell": "shell", "python": "python", "javascript": "javascript", "powershell": "powershell", "go": "go"}
# Documents that hold scripts: a fixture of these kinds with a .fixed sibling runs its script too.
EMBEDDING_KINDS = {"user-data", "yaml", "json", "terraform"}


def fixed_text(path: Path, unsafe: bool, display: bool = False) -> tuple[str, str]:
    """The fixture's text and what ``--fix`` (with ``--unsafe-fixes`` if asked) makes of it.

    With ``display``, what ``--diff`` shows: display-only suggestions applied too.
    """
    source = decode(path.read_bytes())
    kind = classify(path, source.text)
    allowed = {Applicability.SAFE, Applicability.UNSAFE} if unsafe else {Applicability.SAFE}
    if display:
        allowed |= {Applicability.UNSAFE, Applicability.DISPLAY_ONLY}
    fixed, _, _ = Linter(Settings()).fix_text(source, kind, str(path), allowed)
    if source.lossy:
        # Run the bytes the file holds (and --fix writes), not their replacement characters.
        return source.escaped, source.encode(fixed).decode("utf-8", "surrogateescape")
    return source.text, fixed


def programs(entry: dict) -> tuple[Program, Program]:
    path = FIXTURES / entry["path"]
    unsafe = entry.get("unsafe", False)
    display = entry.get("display_only", False)
    text, fixed = fixed_text(path, unsafe, display)
    if "extract" in entry:
        # A script inside another document: run what the document's runner would run, before and after.
        extract = EXTRACTORS[entry["extract"]]
        original = Program("shell", extract(text, entry), name=path.name + ".sh", argv=tuple(entry.get("argv", ())),
                           processes=entry.get("processes", 1), time_limit=entry.get("time_limit"))
        return original, original.with_texts(extract(fixed, entry), ())
    language = LANGUAGE[classify(path, text)]
    siblings, fixed_siblings = [], []
    for name in entry.get("siblings", []):
        original_sibling, fixed_sibling = fixed_text(path.parent / name, unsafe, display)
        siblings.append((name, original_sibling))
        fixed_siblings.append((name, fixed_sibling))
    original = Program(language, text, name=path.name, siblings=tuple(siblings), argv=tuple(entry.get("argv", ())),
                       processes=entry.get("processes", 1), time_limit=entry.get("time_limit"))
    return original, original.with_texts(fixed, tuple(fixed_siblings))


def entry_id(entry: dict) -> str:
    which = "".join(f" {entry[k]}" for k in ("service", "field", "container") if k in entry)
    return entry["path"] + which + "".join(f" {a}" for a in entry.get("argv", ()))


def _params():
    for entry in MANIFEST["run"]:
        marks = [pytest.mark.xfail(reason=entry["xfail"], strict=True)] if "xfail" in entry else []
        yield pytest.param(entry, id=entry_id(entry), marks=marks)


@pytest.mark.parametrize("entry", list(_params()))
def test_fixed_fixture_keeps_its_behaviour_in_three_worlds(entry, three_worlds):
    required = entry.get("requires")
    if required is not None and shutil.which(required) is None:
        pytest.skip(f"{required} is not installed")
    original, fixed = programs(entry)
    if interpreter(original) is None:
        pytest.fail(f"declared runnable but no runtime for {original.language}: add `requires`")
    changed = fixed.text != original.text or any(a != b for a, b in zip(original.siblings, fixed.siblings))
    assert changed != entry.get("unchanged", False), "the fix changed a working program" if changed else \
        "the fixture has nothing to fix"
    verdict = three_worlds.compare(original, fixed)
    assert verdict.ok, "\n".join(verdict.problems() + ["fixed:", fixed.text])


def test_every_fixture_with_a_fix_is_run_or_says_why_not():
    listed = {entry["path"] for entry in MANIFEST["run"]} | set(MANIFEST["not_runnable"])
    missing = []
    for path in FIXTURES.rglob("*"):
        name = path.name
        if ".fixed" not in name and ".unsafe-fixed" not in name:
            continue
        original = path.with_name(name.replace(".unsafe-fixed", "").replace(".fixed", ""))
        relative = str(original.relative_to(FIXTURES))
        kind = classify(original, decode(original.read_bytes()).text) if original.exists() else None
        if (kind in LANGUAGE or kind in EMBEDDING_KINDS) and relative not in listed:
            missing.append(relative)
    assert not missing, f"runnable fixtures neither run nor excused in three_worlds.toml: {sorted(set(missing))}"
    for entry in MANIFEST["run"]:
        assert (FIXTURES / entry["path"]).is_file(), entry["path"]


def test_a_fix_that_cannot_keep_a_hidden_time_limit_is_unsafe_and_left_alone(three_worlds):
    """node-labels.sh: its curl lives in ``$MD`` with ``--max-time 2``, which the plan cannot read.

    Plain ``--fix`` must fix only the request whose limit it can read (its own
    fetch, with that limit: not one borrowed from an unsafe fix it does not
    apply); ``--unsafe-fixes`` rewrites the rest, and that rewrite keeps the
    IMDSv2-only and no-service worlds but hangs on a black-holed route (its
    token fetch has no time limit): the reason it is unsafe.
    """
    path = FIXTURES / "shell/node-labels.sh"
    text, safe = fixed_text(path, unsafe=False)
    changed = [line for line in safe.splitlines() if line not in text.splitlines()]
    assert changed[0].startswith(': "${IMDS_TOKEN=$(curl -fs --max-time 2 -X PUT'), changed
    assert [line.split("=", 1)[0] for line in changed[1:]] == ["AZ"], changed
    findings, _ = Linter(Settings()).lint_text(text, classify(path, text), decode(path.read_bytes()), str(path))
    unsafe = {f.start.line: f.fix.title for f in findings
              if f.fix is not None and f.fix.applicability is Applicability.UNSAFE}
    assert sorted(unsafe) == [7, 8, 25] and all("time limit" in t for t in unsafe.values()), unsafe
    entry = {"path": "shell/node-labels.sh", "unsafe": True, "time_limit": 2}
    original, fixed = programs(entry)
    verdict = three_worlds.compare(original, fixed)
    assert not verdict.imdsv2 and not verdict.refused, verdict.problems()
    assert verdict.blackhole, "the unsafe rewrite kept the time limit after all: make it safe"
