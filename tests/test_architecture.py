"""The package's shape: imports form no cycle, front-ends never pick their fixer.

Imports are read with ``ast`` from the source, at module level and inside
functions alike (a lazy import is still a dependency); only imports under
``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "imds_lint"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module ``module`` may import when it runs, resolved to absolute names."""
    names: set[str] = set()
    pending = [tree]
    while pending:
        node = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child):
                pending.extend(child.orelse)
                continue
            if isinstance(child, ast.Import):
                names.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = module.split(".")
                    if not is_package:
                        anchor = anchor[:-1]
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in child.names)
            pending.append(child)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (a submodule import runs its packages too)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets: set[str] = set()
        for imported in _imported_names(tree, name, path.name == "__init__.py"):
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                candidate = ".".join(parts[:i])
                if candidate in modules and candidate != name and not name.startswith(candidate + "."):
                    targets.add(candidate)
        graph[name] = targets
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_import_graph_is_read():
    graph = import_graph()
    # A walk that found nothing would pass the cycle test vacuously.
    assert "imds_lint.model" in graph["imds_lint.engine"]
    assert "imds_lint.fixers" in graph["imds_lint.engine"]
    # Function-level imports count.
    assert "imds_lint.frontends.text" in graph["imds_lint.engine"]


def test_cycle_finder_finds_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_in_the_package():
    assert find_cycles(import_graph()) == []


@pytest.mark.parametrize("package", ["imds_lint.frontends", "imds_lint.syntax"])
def test_front_ends_and_syntax_never_import_fixers(package):
    graph = import_graph()
    offenders = {name: sorted(t for t in targets if t.startswith("imds_lint.fixers"))
                 for name, targets in graph.items() if name == package or name.startswith(package + ".")}
    assert {name: t for name, t in offenders.items() if t} == {}


def test_rules_do_not_probe_fixers():
    rules = Path(__file__).resolve().parents[1] / "rules"
    probing = [p.name for p in sorted(rules.glob("*.py")) if "hasattr(ctx.fixer" in p.read_text(encoding="utf-8")]
    assert probing == []


def test_header_spellings_come_from_the_protocol_module():
    copies = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "protocol.py":
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.split("#", 1)[0]
            if '"X-aws-ec2-metadata-token' in stripped and "=" in stripped.split('"X-aws', 1)[0]:
                copies.append(f"{path.relative_to(PACKAGE)}:{lineno}")
    assert copies == []


# -- front-ends do no I/O ------------------------------------------------------------------
# Modules that must never touch the file system themselves: what one file needs from another
# comes through the project index (imds_lint.project_index), inside the scan root, under
# discovery's rules; the engine reads and writes the scanned file itself.
NO_IO = ("imds_lint.frontends", "imds_lint.hcl", "imds_lint.syntax", "imds_lint.fixers", "imds_lint.rules")
# Module functions that read, list, stat or change files.
_IO_FUNCTIONS = {
    "os": {"open", "fdopen", "listdir", "scandir", "walk", "fwalk", "stat", "lstat", "readlink", "access",
           "remove", "unlink", "rename", "replace", "mkdir", "makedirs", "rmdir", "chmod", "chown", "truncate"},
    "os.path": {"exists", "lexists", "isfile", "isdir", "islink", "ismount", "getsize", "getmtime", "getatime",
                "getctime", "realpath", "samefile"},
    "io": {"open", "open_code", "FileIO"},
    "pathlib": {"Path", "PosixPath", "WindowsPath"},
}
_IO_MODULES = {"shutil", "glob", "tempfile", "fileinput", "mmap"}
# pathlib.Path methods that reach the disk (names no other object here uses).
_PATH_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes", "iterdir", "rglob", "glob", "is_file",
                 "is_dir", "is_symlink", "exists", "lstat", "readlink", "samefile", "touch", "unlink", "mkdir",
                 "rmdir", "chmod", "open", "expanduser", "hardlink_to", "symlink_to"}
# Methods that reach the disk when called without arguments (Path.resolve(), Path.stat()); libcst's
# wrapper.resolve(Provider) takes one.
_BARE_PATH_METHODS = {"resolve", "stat", "absolute"}
# (module, call) -> why it is not a scanned file's I/O.
_IO_ALLOWED = {
    ("imds_lint.syntax.treesitter", "os.path.isfile"): "finds our own grammar binary inside its installed wheel",
}


def _no_io_modules() -> dict[str, Path]:
    rules = Path(__file__).resolve().parents[1] / "rules"
    # (imds_lint/rules/__init__.py is the import shim that finds the catalog, not a rule.)
    found = {name: path for name, path in _modules().items() if name.startswith(NO_IO) and name != "imds_lint.rules"}
    found.update({f"imds_lint.rules.{p.stem}": p for p in sorted(rules.glob("*.py"))})
    return found


def io_calls(source: str) -> list[tuple[int, str]]:
    """(line, what) for each file-system call or import of an I/O module in ``source``."""
    found = []
    tree = ast.parse(source)
    # import os as o / import os.path as osp: calls through the alias are the module's.
    aliases = {a.asname: a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names if a.asname}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, f"import {a.name}") for a in node.names if a.name.split(".")[0] in _IO_MODULES)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for alias in node.names:
                if module.split(".")[0] in _IO_MODULES or alias.name in _IO_FUNCTIONS.get(module, ()):
                    found.append((node.lineno, f"from {module} import {alias.name}"))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "open":
                found.append((node.lineno, "open"))
            elif isinstance(func, ast.Attribute):
                owner = ast.unparse(func.value)
                owner = aliases.get(owner, owner)
                if func.attr in _IO_FUNCTIONS.get(owner, ()) or owner in _IO_MODULES:
                    found.append((node.lineno, f"{owner}.{func.attr}"))
                elif owner not in _IO_FUNCTIONS and (func.attr in _PATH_METHODS or (
                        func.attr in _BARE_PATH_METHODS and not node.args and not node.keywords)):
                    found.append((node.lineno, f"<path>.{func.attr}"))
    return found


@pytest.mark.parametrize("source, what", [
    ("open('x')", "open"), ("import os\nos.listdir('.')", "os.listdir"), ("os.path.isfile(p)", "os.path.isfile"),
    ("from pathlib import Path", "from pathlib import Path"), ("p.read_text()", "<path>.read_text"),
    ("Path(p).resolve()", "<path>.resolve"), ("p.stat()", "<path>.stat"), ("import shutil", "import shutil"),
    ("with path.open('rb') as f: pass", "<path>.open"), ("os.scandir(d)", "os.scandir"),
    ("import os as o\no.listdir(d)", "os.listdir"),
])
def test_the_io_finder_finds_io(source, what):
    assert [w for _, w in io_calls(source)] == [what]


def test_the_io_finder_leaves_pure_path_work_alone():
    pure = ("from pathlib import PurePath\nos.path.join(a, b)\nos.path.dirname(p)\nPurePath(p).relative_to(r)\n"
            "wrapper.resolve(PositionProvider)\nurlopen(url)\ntext.replace('a', 'b')\nproject.read(p)\n")
    assert io_calls(pure) == []


def test_front_ends_fixers_and_rules_do_no_io_of_their_own():
    modules = _no_io_modules()
    assert "imds_lint.frontends.terraform" in modules and "imds_lint.hcl.module" in modules
    assert any(name.startswith("imds_lint.rules.imds1") for name in modules)
    offenders = [f"{name}:{line}: {what}" for name, path in modules.items()
                 for line, what in io_calls(path.read_text(encoding="utf-8")) if (name, what) not in _IO_ALLOWED]
    assert offenders == []


def test_linting_every_fixture_does_no_io_outside_the_index_and_the_engine(monkeypatch):
    """At run time too: every file-system call made while the fixtures are linted and fixed comes
    from the engine, discovery or the project index (or an import), never from a front-end,
    fixer or rule, even through a library it calls."""
    import os
    import sys

    from imds_lint.config import Settings
    from imds_lint.engine import Linter
    from tests.conftest import FIXTURES
    from tests.test_fixtures import fixture_files

    offenders: set[str] = set()
    seen: set[str] = set()  # every imds_lint module that made a call, so the spy is known to see them

    def caller() -> str | None:
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename.startswith("<frozen importlib"):
                return None  # an import reading a module, not a scanned file
            name = frame.f_globals.get("__name__", "")
            if name == "imds_lint" or name.startswith("imds_lint."):
                seen.add(name)
                return name if name.startswith(NO_IO) else None
            frame = frame.f_back
        return None

    def spy(module, attr):
        real = getattr(module, attr)

        def call(*args, **kwargs):
            who = caller()
            # The static test pins what an allowed module's I/O is; here it is the module that counts.
            if who is not None and who not in {module for module, _ in _IO_ALLOWED}:
                offenders.add(f"{who}: {attr}({args[0] if args else ''!s:.80})")
            return real(*args, **kwargs)

        monkeypatch.setattr(module, attr, call)

    linter = Linter(Settings(root=FIXTURES))
    files = fixture_files()
    linter.lint_file(files[0], "warm-up")  # the first call loads the engine's own lazy pieces
    import builtins

    for attr in ("stat", "lstat", "listdir", "scandir", "open", "readlink"):
        spy(os, attr)
    spy(builtins, "open")
    for path in files:
        display = str(path.relative_to(FIXTURES))
        linter.lint_file(path, display)
        linter.fix_file(path, display, unsafe=True, write=False)
    monkeypatch.undo()
    assert len(files) > 80
    assert {"imds_lint.project_index", "imds_lint.source"} <= seen, seen
    assert sorted(offenders) == []
