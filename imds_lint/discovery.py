"""Which files to scan: walking folders with .gitignore and excludes, safely.

Paths named on the command line are scanned even when an exclude or
.gitignore pattern matches them (like ruff without --force-exclude): naming a
file is the strongest statement of intent. Symlinks are followed only while
they stay inside the folder being scanned, and each folder is entered once, so
link loops end. .gitignore files apply to their folder and below, found on the
way down (never by walking up from each file: that is what made walking slow).
Tool and vendored folders (SKIPPED_DIRS: .git, node_modules, vendor, third_party,
...) are not entered while walking; naming one on the command line scans it.
"""

from __future__ import annotations

import os
import re
from collections import namedtuple

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from pathlib import Path

# A fix's temporary file (imds_lint.source.TEMP_SUFFIX), left by a killed run: never scanned.
_FIX_TEMPORARY = ".imds-lint.tmp"
# Files that make a folder a project of its own (imds_lint.config.config_in).
_CONFIG_NAMES = frozenset({"imds-lint.toml", "pyproject.toml"})
SKIPPED_DIRS = frozenset({
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".mypy_cache", ".nox", ".pants.d",
    ".pytype", ".ruff_cache", ".pytest_cache", ".svn", ".tox", ".venv", "__pypackages__", "_build",
    "buck-out", "node_modules", "venv", "__pycache__", ".terraform", ".terragrunt-cache",
    ".imds_lint_cache", ".hypothesis",
    # Vendored third-party code: its findings belong to its upstream, and a Go vendor/ tree
    # (SDK metadata clients, other clouds' helpers) drowned the repository's own findings.
    "vendor", "third_party", "third-party", "bower_components",
})


# Named tuples from collections, not typing.NamedTuple: importing typing is ~2.5 ms of a pre-commit run.
class Candidate(namedtuple("Candidate", "path display")):
    """A file to scan (a tuple: made ~18,000 times in a large repository): ``path``, ``display`` (str)."""

    __slots__ = ()


class Problem(namedtuple("Problem", "display message usage", defaults=(False,))):
    """A path that cannot be scanned (``display``), and why (``message``). ``usage``: a missing
    path, a usage error (exit 2); the others are notes."""

    __slots__ = ()


# A .gitignore in effect: the folder it lives in (absolute, with a trailing
# slash) and its patterns.
_Rules = tuple[tuple[str, "IgnorePatterns"], ...]


class Nested(namedtuple("Nested", "path display config")):
    """A folder (``path``, ``display``) below the one being walked that holds its own config
    (``config``, its absolute path): walked again with that config's settings, as ruff does (the closest
    config to a file applies). Links inside it stay inside it, so no walk can reach back into the
    one that found it."""

    __slots__ = ()


class PatternError(ValueError):
    """An exclude pattern (command line or config) is not a gitignore pattern: a usage error."""


class IgnorePatterns:
    """A .gitignore's patterns (pathspec's GitIgnoreSpec), with most paths turned away in one C call.

    pathspec picks Hyperscan when it is installed, as it is here for the
    prefilter, and compiling a .gitignore that way costs ~60 ms: more than
    walking a large repository. Its plain ``re`` backend compiles in a
    fraction of a millisecond but tries each pattern in turn; one regex of all
    the patterns (a path no pattern matches is never ignored) answers for the
    paths no pattern touches, which is nearly all of them, and pathspec
    decides the rest with git's full rules.
    """

    __slots__ = ("spec", "_any")

    def __init__(self, lines, strict: bool = False):
        # pathspec costs ~12 ms to import: only runs that meet a pattern pay for it.
        import pathspec

        try:
            self.spec = pathspec.GitIgnoreSpec.from_lines(lines, backend="simple")
        except ValueError:  # GitIgnorePatternError: "\" (an escape with nothing to escape), ...
            valid, invalid = [], []
            for line in lines:
                try:
                    pathspec.GitIgnoreSpec.from_lines([line], backend="simple")
                except ValueError:
                    invalid.append(line)
                else:
                    valid.append(line)
            if strict:
                raise PatternError(f"invalid gitignore-style pattern{'s' if len(invalid) > 1 else ''} "
                                   f"{', '.join(repr(p) for p in invalid)}") from None
            # A .gitignore line git cannot use matches nothing, for git too: it costs the run nothing.
            self.spec = pathspec.GitIgnoreSpec.from_lines(valid, backend="simple")
        regexes = [p.regex for p in self.spec.patterns if p.include is not None and p.regex is not None]
        self._any = None
        if all(isinstance(r.pattern, str) and r.flags == re.UNICODE for r in regexes):
            # pathspec searches each pattern in turn. Most match a name at any depth,
            # "^(?:.+/)?NAME": as one search for "(?:^|/)NAME" (paths here never start
            # with "/") they cost one scan of the path; the rest start with "^" (one
            # re.match fails at the first character) or float (one re.search).
            anywhere, anchored, floating = [], [], []
            for r in regexes:
                if r.pattern.startswith("^(?:.+/)?"):
                    anywhere.append(r.pattern[len("^(?:.+/)?"):])
                elif r.pattern.startswith("^"):
                    anchored.append(r.pattern[1:])
                else:
                    floating.append(r.pattern)
            try:
                self._any = tuple(method for method in (
                    _joined(anywhere, "(?:^|/)").search if anywhere else None,
                    _joined(anchored).match if anchored else None,
                    _joined(floating).search if floating else None,
                ) if method is not None)
            except re.error:
                pass

    def match_file(self, path: str) -> bool:
        if self._any is not None:
            for method in self._any:
                if method(path) is not None:
                    break
            else:
                return False  # no pattern matches: nothing can ignore it
        return self.spec.match_file(path)


def _joined(patterns: list[str], prefix: str = "") -> re.Pattern[str]:
    # The directory mark is a named group in every pattern: plain groups may repeat.
    return re.compile(prefix + "(?:" + "|".join(f"(?:{p.replace('(?P<ps_d>', '(?:')})" for p in patterns) + ")")


def _gitignore(folder: str) -> IgnorePatterns | None:
    try:
        with open(os.path.join(folder, ".gitignore"), encoding="utf-8", errors="replace") as handle:
            return IgnorePatterns(handle.read().splitlines())
    except OSError:
        return None


def _parents_gitignores(folder: str) -> _Rules:
    """.gitignore files above the scanned folder, up to its repository root."""
    rules = []
    current = os.path.dirname(folder)
    while current and current != os.path.dirname(current):
        spec = _gitignore(current)
        if spec is not None:
            rules.append((current.rstrip("/") + "/", spec))
        if os.path.isdir(os.path.join(current, ".git")):
            break
        current = os.path.dirname(current)
    return tuple(reversed(rules))


def printable(path: str) -> str:
    """A path as people and reporters can take it: undecodable bytes and control characters escaped."""
    if path.isprintable():  # the C fast path: no surrogates, no control characters
        return path
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if any(ch < " " or ch == "\x7f" for ch in text):
        text = "".join(ch if ch >= " " and ch != "\x7f" else repr(ch)[1:-1] for ch in text)
    return text


def discover(paths: list[str], root: str | Path, excludes: tuple[str, ...], respect_gitignore: bool = True,
             config_in=None):
    """Yield Candidates and Problems for the given command-line paths (none = "."). With
    ``config_in`` (imds_lint.config.config_in: a folder and the config names listed in it -> its
    config or None), a Nested for each folder below them that has its own config; its files are
    not yielded here: walk it with ``discover_nested`` and its settings."""
    exclude_spec = None  # built for the first folder: named files ignore excludes, and pathspec costs ~10 ms
    config_root = os.path.abspath(root).rstrip("/") + "/"
    for given in paths or ["."]:
        if not os.path.lexists(given):
            yield Problem(printable(given), "no such file or directory", usage=True)
        elif os.path.isdir(given):
            if exclude_spec is None and excludes:
                exclude_spec = IgnorePatterns(excludes, strict=True)
            yield from _walk(given, exclude_spec, config_root, respect_gitignore, config_in)
        elif os.path.isfile(given):
            yield Candidate(given, printable(given))
        elif os.path.islink(given):
            yield Problem(given, "broken symbolic link")
        else:
            yield Problem(given, "not a regular file or folder")


def discover_nested(nested: Nested, root: str | Path, excludes: tuple[str, ...], respect_gitignore: bool, config_in):
    """Walk a Nested folder with its own config's excludes (anchored to ``root``, its folder)."""
    exclude_spec = IgnorePatterns(excludes, strict=True) if excludes else None
    config_root = os.path.abspath(root).rstrip("/") + "/"
    yield from _walk(nested.path, exclude_spec, config_root, respect_gitignore, config_in, display=nested.display)


def _walk(top: str, exclude_spec, config_root: str, respect_gitignore: bool, config_in=None,
          display: str | None = None):
    scan_root = os.path.abspath(top).rstrip("/") + "/"
    real_root = os.path.realpath(top).rstrip("/") + "/"
    top_display = printable(top) if display is None else display
    inherited = _parents_gitignores(scan_root.rstrip("/")) if respect_gitignore else ()
    # Naming a folder overrides the rules that ignore the folder itself; the rest still apply inside it.
    inherited = tuple((base, spec) for base, spec in inherited if not spec.match_file(scan_root[len(base):]))
    # Real paths of the folders entered: a folder reached again through a link is skipped,
    # which ends loops. Without links a folder's real path is its parent's plus its name,
    # so only links cost a system call.
    seen: set[str] = set()
    stack: list[tuple[str, str, str, _Rules]] = [
        (scan_root.rstrip("/") or "/", real_root.rstrip("/") or "/", top_display, inherited)]
    top_folder = stack[0][0]

    # Likewise a named folder that an exclude matches is scanned; the excludes then
    # apply relative to it, so they still catch what lies inside.
    exclude_bases = (config_root, scan_root)
    if exclude_spec is not None and scan_root.startswith(config_root) and scan_root != config_root:
        if exclude_spec.match_file(scan_root[len(config_root):]):
            exclude_bases = (scan_root,)

    while stack:
        folder, real, display, rules = stack.pop()
        if real in seen:
            continue
        seen.add(real)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=_name)
        except OSError as exc:
            yield Problem(display, f"cannot list folder: {exc.strerror or exc}")
            continue
        if folder != top_folder and any(e.name == "CACHEDIR.TAG" for e in entries):
            continue  # a cache (imds-lint's under any --cache-dir, or another tool's): nothing to scan
        if config_in is not None and folder != top_folder:
            config = config_in(folder, {e.name for e in entries if e.name in _CONFIG_NAMES})
            if config is not None:
                yield Nested(folder, display, config)
                continue
        if respect_gitignore and any(e.name == ".gitignore" for e in entries):
            spec = _gitignore(folder)
            if spec is not None:
                rules = rules + ((folder + "/", spec),)
        # Each pattern set in force here, with this folder's path relative to where it
        # applies: an entry is then one string join and one call per set.
        here = folder + "/"
        checks = [(spec.match_file, here[len(base):]) for base, spec in rules if here.startswith(base)]
        if exclude_spec is not None:
            checks[:0] = [(exclude_spec.match_file, here[len(base):]) for base in exclude_bases
                          if here.startswith(base)]
        prefix = "" if display in (".", "./") else display.rstrip("/") + "/"
        subfolders = []
        for entry in entries:
            name = entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
            except OSError:
                continue
            if is_link:
                target = os.path.realpath(entry.path)
                if not os.path.exists(target):
                    yield Problem(prefix + printable(name), "broken or looping symbolic link; skipped")
                    continue
                if not (target + "/").startswith(real_root):
                    yield Problem(prefix + printable(name), "symbolic link points outside the scanned folder; skipped")
                    continue
            if is_dir:
                if name in SKIPPED_DIRS or any(match(relative + name + "/") for match, relative in checks):
                    continue
                entry_real = target if is_link else real + "/" + name if real != "/" else "/" + name
                subfolders.append((entry.path, entry_real, prefix + printable(name), rules))
            elif is_file and not name.endswith(_FIX_TEMPORARY) and not any(match(relative + name) for match, relative in checks):
                yield Candidate(entry.path, prefix + printable(name))
        stack.extend(reversed(subfolders))


def _name(entry) -> str:
    return entry.name
