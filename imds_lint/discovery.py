"""Which files to scan: walking folders with .gitignore and excludes, safely.

Paths named on the command line are scanned even when an exclude or
.gitignore pattern matches them (like ruff without --force-exclude): naming a
file is the strongest statement of intent. Symlinks are followed only while
they stay inside the folder being scanned, and each folder is entered once, so
link loops end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pathspec

SKIPPED_DIRS = frozenset({
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".mypy_cache", ".nox", ".pants.d",
    ".pytype", ".ruff_cache", ".pytest_cache", ".svn", ".tox", ".venv", "__pypackages__", "_build",
    "buck-out", "node_modules", "venv", "__pycache__", ".terraform", ".terragrunt-cache",
    ".imds_lint_cache", ".hypothesis",
})


@dataclass(frozen=True)
class Candidate:
    path: Path
    display: str


@dataclass(frozen=True)
class Problem:
    display: str
    message: str
    # Missing paths are usage errors (exit 2); the others are notes.
    usage: bool = False


class _Ignores:
    """.gitignore files found on the way down, plus configured excludes."""

    def __init__(self, root: Path, excludes: tuple[str, ...], respect_gitignore: bool):
        self.config_root = root
        self.excludes = pathspec.GitIgnoreSpec.from_lines(excludes) if excludes else None
        self.respect_gitignore = respect_gitignore
        self.gitignores: dict[Path, pathspec.GitIgnoreSpec | None] = {}

    def _gitignore(self, folder: Path) -> pathspec.GitIgnoreSpec | None:
        if folder not in self.gitignores:
            spec = None
            file = folder / ".gitignore"
            try:
                lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
                spec = pathspec.GitIgnoreSpec.from_lines(lines)
            except OSError:
                pass
            self.gitignores[folder] = spec
        return self.gitignores[folder]

    def ignored(self, path: Path, is_dir: bool, scan_root: Path) -> bool:
        suffix = "/" if is_dir else ""
        if self.excludes is not None:
            for base in (self.config_root, scan_root):
                try:
                    relative = path.relative_to(base).as_posix()
                except ValueError:
                    continue
                if self.excludes.match_file(relative + suffix):
                    return True
        if self.respect_gitignore:
            folder = path.parent
            while True:
                spec = self._gitignore(folder)
                if spec is not None and spec.match_file(path.relative_to(folder).as_posix() + suffix):
                    return True
                if folder == scan_root or folder.parent == folder or (folder / ".git").exists():
                    break
                folder = folder.parent
        return False


def discover(paths: list[str], root: Path, excludes: tuple[str, ...], respect_gitignore: bool = True):
    """Yield Candidates and Problems for the given command-line paths (none = ".")."""
    ignores = _Ignores(root, excludes, respect_gitignore)
    for given in paths or ["."]:
        path = Path(given)
        if not os.path.lexists(path):
            yield Problem(given, "no such file or directory", usage=True)
            continue
        if path.is_dir():
            yield from _walk(path, given, ignores)
        elif path.is_file():
            yield Candidate(path, given)
        elif path.is_symlink():
            yield Problem(given, "broken symbolic link")
        else:
            yield Problem(given, "not a regular file or folder")


def _walk(top: Path, display_top: str, ignores: _Ignores):
    real_root = top.resolve()
    scan_root = _abs(top)
    seen: set[tuple[int, int]] = set()
    stack = [(top, display_top)]
    while stack:
        folder, display = stack.pop()
        try:
            info = folder.stat()
        except OSError as exc:
            yield Problem(display, f"cannot open folder: {exc.strerror or exc}")
            continue
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield Problem(display, f"cannot list folder: {exc.strerror or exc}")
            continue
        subfolders = []
        for entry in entries:
            entry_path = Path(entry.path)
            entry_display = entry.name if display in (".", "./") else os.path.join(display, entry.name)
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError:
                continue
            if is_link:
                try:
                    target = entry_path.resolve(strict=True)
                except (OSError, RuntimeError):
                    yield Problem(entry_display, "broken or looping symbolic link; skipped")
                    continue
                if target != real_root and real_root not in target.parents:
                    yield Problem(entry_display, "symbolic link points outside the scanned folder; skipped")
                    continue
            if is_dir:
                if entry.name in SKIPPED_DIRS or ignores.ignored(_abs(entry_path), True, scan_root):
                    continue
                subfolders.append((entry_path, entry_display))
            elif is_file:
                if ignores.ignored(_abs(entry_path), False, scan_root):
                    continue
                yield Candidate(entry_path, entry_display)
        stack.extend(reversed(subfolders))


def _abs(path: Path) -> Path:
    return Path(os.path.abspath(path))
