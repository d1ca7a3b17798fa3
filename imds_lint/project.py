"""Where a scanned path belongs: its repository, its config file, its project root.

Every path a report or a baseline records is relative to the project root (the
folder of the config file that applies, else the repository root, else the
current folder), so results do not depend on the folder imds-lint runs from.
The repository's name and commit are read from the files under ``.git``, never
by running git (a scan runs no programs and opens no sockets).
"""

from __future__ import annotations

import os
import re

from imds_lint.config import folders_up, read_text
from imds_lint.patterns import lazy

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from pathlib import Path

# Folders here are absolute, normalised strings (os.path), not pathlib's: pathlib imports
# urllib.parse and ipaddress (~3 ms of every run). Callers may pass either.


def repository_root(start: str | Path) -> str | None:
    """The nearest folder at or above ``start`` holding ``.git`` (a folder, or a worktree's file)."""
    for folder in folders_up(start):
        if os.path.lexists(os.path.join(folder, ".git")):
            return folder
    return None


def start_folder(given: str) -> str:
    """The folder a config search starts from for a command-line path."""
    path = os.path.abspath(given)
    return path if os.path.isdir(path) else os.path.dirname(path)


_REAL_FOLDERS: dict[str, str] = {}
_REAL_PATHS: dict[str, str] = {}


def real_path(path: str | Path) -> str:
    """``os.path.realpath(path)``, with each folder resolved once per run.

    A scan asks for the real path of every file it reports and of every sibling,
    template and Dockerfile it looks at; ``realpath`` costs an ``lstat`` per path
    component each time (54,000 calls for 1,000 Terraform files). A folder's
    resolution is kept for the run (which renames files, never folders into links), and
    only the last component is checked for being a link, once.
    """
    if path.__class__ is str:  # most callers pass a path that is already absolute: no abspath then
        known = _REAL_PATHS.get(path)
        if known is not None:
            return known
    absolute = os.path.abspath(path)
    known = _REAL_PATHS.get(absolute)
    if known is not None:
        return known
    folder, name = os.path.split(absolute)
    real_folder = _REAL_FOLDERS.get(folder)
    if real_folder is None:
        real_folder = os.path.realpath(folder)
        if len(_REAL_FOLDERS) < 65_536:
            _REAL_FOLDERS[folder] = real_folder
    if not name:
        return real_folder
    joined = os.path.join(real_folder, name)
    real = os.path.realpath(joined) if os.path.islink(joined) else joined
    if len(_REAL_PATHS) < 262_144:
        _REAL_PATHS[absolute] = real
    return real


def forget_real_paths() -> None:
    """A new run starts (a Linter is made): links made since the last one count."""
    _REAL_FOLDERS.clear()
    _REAL_PATHS.clear()


def relative_to_root(path: str, root: str | Path) -> str:
    """``path`` (absolute or relative to the current folder) as a POSIX path relative to ``root``;
    a path outside ``root`` keeps its normalised spelling."""
    for absolute, base in ((os.path.abspath(path), str(root)), (real_path(path), real_path(root))):
        if absolute == base:
            return "."
        if absolute.startswith(base.rstrip(os.sep) + os.sep):
            return absolute[len(base.rstrip(os.sep)) + 1:].replace(os.sep, "/")
    from imds_lint.fingerprint import normalise_path

    return normalise_path(path)


# -- git metadata, from files ---------------------------------------------------

def _git_dir(root: str | Path) -> str | None:
    dot_git = os.path.join(root, ".git")
    if os.path.isdir(dot_git):
        return dot_git
    try:
        text = read_text(dot_git, errors="replace")
    except OSError:
        return None
    if text.startswith("gitdir:"):  # a worktree or submodule: .git names the real folder
        target = text[len("gitdir:"):].strip()
        return target if os.path.isabs(target) else os.path.realpath(os.path.join(root, target))
    return None


def _common_dir(git_dir: str) -> str:
    try:
        text = read_text(os.path.join(git_dir, "commondir")).strip()
    except OSError:
        return git_dir
    return text if os.path.isabs(text) else os.path.realpath(os.path.join(git_dir, text))


_SHA = lazy(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


def head_commit(root: str | Path) -> str | None:
    """The commit HEAD names, resolved through loose refs and packed-refs; None when unknown."""
    git_dir = _git_dir(root)
    if git_dir is None:
        return None
    try:
        head = read_text(os.path.join(git_dir, "HEAD")).strip()
    except OSError:
        return None
    if _SHA.match(head):
        return head
    if not head.startswith("ref:"):
        return None
    ref = head[len("ref:"):].strip()
    for folder in (git_dir, _common_dir(git_dir)):
        try:
            value = read_text(os.path.join(folder, ref)).strip()
        except OSError:
            continue
        if _SHA.match(value):
            return value
    try:
        packed = read_text(os.path.join(_common_dir(git_dir), "packed-refs"))
    except OSError:
        return None
    for line in packed.splitlines():
        sha, _, name = line.partition(" ")
        if name == ref and _SHA.match(sha):
            return sha
    return None


_REMOTE = lazy(r'^\s*\[remote\s+"origin"\]\s*$')
_SECTION = lazy(r"^\s*\[")
_URL = lazy(r"^\s*url\s*=\s*(\S+)\s*$")


def repository_name(root: str | Path) -> str:
    """``owner/name`` from the origin remote's URL when there is one, else the folder's name."""
    git_dir = _git_dir(root)
    url = None
    if git_dir is not None:
        try:
            lines = read_text(os.path.join(_common_dir(git_dir), "config"), errors="replace").splitlines()
        except OSError:
            lines = []
        in_origin = False
        for line in lines:
            if _SECTION.match(line):
                in_origin = bool(_REMOTE.match(line))
            elif in_origin and (match := _URL.match(line)):
                url = match.group(1)
                break
    if url:
        name = _name_from_url(url)
        if name:
            return name
    return os.path.basename(os.fspath(root))


def _name_from_url(url: str) -> str | None:
    # https://host/owner/name(.git), git@host:owner/name(.git), ssh://git@host/owner/name
    url = url.rstrip("/")
    if url.endswith(".git"):
        url = url[:-4]
    url = re.sub(r"^[a-z+]+://", "", url)
    url = re.sub(r"^[^@/]+@", "", url)  # credentials or ssh user: never into a report
    path = url.split(":", 1)[1] if ":" in url.split("/", 1)[0] else url.partition("/")[2]
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[-2:]) if parts else None


class Project:
    """The project a command-line path belongs to: the config that applies and the root that
    every recorded path is relative to (absolute paths, as strings)."""

    __slots__ = ("root", "config_path", "repository_root", "ignored_config", "record_root")

    def __init__(self, root: str, config_path: str | None, repository_root: str | None,
                 ignored_config: str | None = None, record_root: str | None = None):
        # ``root`` anchors the config's patterns (its folder); ``record_root`` is what recorded
        # paths are relative to: the repository root, so a nested config (or running imds-lint
        # on one subproject) changes no baseline entry or SARIF location; else ``root``.
        self.root, self.config_path = root, config_path
        self.repository_root, self.ignored_config = repository_root, ignored_config
        if record_root is None:
            record_root = os.path.realpath(repository_root) if repository_root is not None else root
        self.record_root = record_root

    def nested(self, folder: str, config_path: str) -> Project:
        """The project of a folder inside this one that has its own config: same repository, same
        recorded paths, its own settings anchored to its own folder."""
        return Project(folder, config_path, self.repository_root, None, self.record_root)

    @property
    def key(self) -> tuple:
        return (self.root, self.config_path)


def project_for(given: str, explicit_config: str | None = None, cache: dict | None = None) -> Project:
    """As ruff does, the config is looked for from the scanned path, not from the current folder;
    unlike ruff, the search stops at the repository root (see config.config_above). ``cache``
    (one run's) spares the search for files of a folder already seen: pre-commit passes hundreds."""
    start = start_folder(given)
    if cache is None:
        return _project_for_folder(start, explicit_config)
    key = (start, explicit_config)
    if key not in cache:
        cache[key] = _project_for_folder(start, explicit_config)
    return cache[key]


def _project_for_folder(start: str, explicit_config: str | None) -> Project:
    from imds_lint import config

    repo = repository_root(start)
    if explicit_config is not None:
        path = os.path.realpath(explicit_config)
        return Project(os.path.dirname(path), path, repo)
    found = config.find_config(start, stop_at=repo)
    ignored = config.config_above(repo) if found is None and repo is not None else None
    root = os.path.realpath(os.path.dirname(found) if found is not None else (repo or os.getcwd()))
    return Project(root, found, repo, ignored)
