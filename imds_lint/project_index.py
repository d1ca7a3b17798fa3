"""The project index: the cross-file questions of one scan, answered inside the scan root.

Front-ends do no I/O of their own. What one file needs from others — the
sibling ``.tf`` files of its module, the template a ``templatefile()`` names,
the files a requirements file includes with ``-r``, the Dockerfiles and
compose files that may copy and run it — is asked of this index, which reads
a file only when discovery would have admitted it:

* it resolves (symbolic links followed) inside the scan root, so neither
  ``-r ../outside.txt`` nor ``file("../outside")`` nor a link pointing out of
  the tree is ever opened (and so never echoed in a finding);
* it is a regular file no larger than the cap;
* no exclude pattern, no ``.gitignore`` rule (when they are respected) and no
  skipped folder (``.git``, ``node_modules``, ``.terraform``...) drops it.

The scan roots are the folders named on the command line (a named file's
folder for a file), else the settings' root (the configuration file's folder,
or the working directory); a file linted from outside every root (a library
call) has its own folder as its root. Answers are cached for the life of the
process (one run), so a module's siblings are read once for all its files.

While a results cache is on (imds_lint.cache), every question a file's analysis asks
is recorded with its answer, at the level of the primitives below (``inside``,
``admits``, ``read``, a folder's listing): a read as the digest of the text, a
listing as the digest of its names. A later run asks the same questions again
(``still_holds``); one different answer and the stored result is not used.
"""

from __future__ import annotations

import os
import stat
from collections import OrderedDict
try:  # the blake2b hashlib hands out, without hashlib's import of OpenSSL (~3 ms of a pre-commit run)
    from _blake2 import blake2b
except ImportError:
    from hashlib import blake2b

from imds_lint.project import real_path
from imds_lint.records import dataclass

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from pathlib import Path, PurePath
    from typing import Callable

MAX_FILE_BYTES = 1_000_000
_MEMO_SIZE = 256


# The recordings in progress, innermost last: a file's analysis, and inside it the memo being
# built (whose questions are kept with its value, for the next file that gets it from the memo).
_recordings: list[dict] = []
# A memo built while nothing recorded, taken while something does: what it asked is unknown.
_UNKNOWN = ("unknown",)


# What memos asked, by the digest of their questions and answers: an entry names the group
# (``("group", digest)``) instead of repeating it, so a module's 50 files store and check their
# siblings' answers once, not 50 times. Kept for the run, for the cache to store.
groups: dict[str, list] = {}
MAX_GROUPS = 4096


def start_recording() -> None:
    _recordings.append({})


def stop_recording() -> dict | None:
    """The questions asked since ``start_recording`` with their answers; None when unknown."""
    asked = _recordings.pop()
    return None if _UNKNOWN in asked else asked


def group_of(asked: dict) -> tuple | None:
    """The question that stands for all of ``asked`` (its group), or None when it cannot."""
    if _UNKNOWN in asked or len(groups) >= MAX_GROUPS:
        return None
    import json

    members = sorted(([*question, answer] for question, answer in asked.items()),
                     key=lambda member: json.dumps(member, ensure_ascii=True))
    name = group_digest(members)
    groups.setdefault(name, members)
    return ("group", name)


def forget_groups() -> None:
    """A new run starts: the last one's groups are stored or not needed."""
    groups.clear()


def group_digest(members: list) -> str:
    import json

    return digest(json.dumps(members, ensure_ascii=True, separators=(",", ":")).encode("ascii"))


def _record(question: tuple, answer) -> None:
    if _recordings:
        _recordings[-1][question] = answer


def digest(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class FileText:
    """A file read through the index; ``key`` changes whenever the file does (for parse caches)."""

    path: str
    text: str
    key: tuple[str, int, int]


def _listing_digest(listing: tuple[str, ...]) -> str:
    """What a recorded folder listing is compared by on replay."""
    return digest("\0".join(listing).encode("utf-8", "surrogateescape"))


class ProjectIndex:
    def __init__(self, roots: tuple[str | Path, ...], excludes: tuple[str, ...] = (), respect_gitignore: bool = True,
                 max_bytes: int = MAX_FILE_BYTES, anchor: str | Path | None = None):
        self.roots = tuple(dict.fromkeys(os.path.realpath(r) for r in roots))
        # Where exclude patterns are anchored (the settings' root).
        self.anchor = os.path.realpath(anchor if anchor is not None else self.roots[0])
        self.max_bytes = max_bytes
        self._respect_gitignore = respect_gitignore
        self._exclude_lines = tuple(excludes)
        # Compiled with the first file read through the index: a script with no Dockerfile near it
        # reads none, and pathspec (with dataclasses, inspect and pathlib) is ~15 ms to import.
        self._excludes: object | None = None
        self._texts: dict[str, FileText] = {}
        self._listings: dict[tuple[str, int], tuple[str, ...]] = {}
        self._memo: OrderedDict[tuple, object] = OrderedDict()
        self._folder_rules: dict[str, tuple] = {}
        self._dropped_memo: dict[str, bool] = {}
        self._digests: dict[tuple, str] = {}
        self._answers: dict[tuple, object] = {}  # questions of cache entries, answered for this run

    @classmethod
    def for_settings(cls, settings) -> ProjectIndex:
        roots = tuple(getattr(settings, "scan_roots", ())) or (settings.root,)
        return cls(roots, tuple(settings.exclude), settings.respect_gitignore, anchor=settings.root)

    def with_root_for(self, path: str | Path) -> ProjectIndex:
        """This index, or for a file outside every root one rooted at the file's own folder."""
        if self.inside(path) is not None:
            return self
        return ProjectIndex((os.path.dirname(os.path.abspath(path)),), self._exclude_lines, self._respect_gitignore,
                            self.max_bytes, anchor=self.anchor)

    # -- what may be read ------------------------------------------------------------
    def root_of(self, real: str) -> str | None:
        for root in self.roots:
            if real == root or real.startswith(root.rstrip("/") + "/"):
                return root
        return None

    def inside(self, path: str | Path) -> str | None:
        """The real path of ``path`` when it lies inside a scan root, else None."""
        real = self._inside(path)
        if _recordings:
            _record(("inside", os.fspath(path)), real)
        return real

    def _inside(self, path: str | Path) -> str | None:
        try:
            real = real_path(path)
        except (OSError, ValueError):
            return None
        return real if self.root_of(real) is not None else None

    def admits(self, path: str | Path) -> bool:
        """Whether discovery's rules let this file be read (see the module's docstring)."""
        admitted = self._admitted(path) is not None
        if _recordings:
            _record(("admits", os.fspath(path)), admitted)
        return admitted

    def _admitted(self, path: str | Path) -> tuple[str, os.stat_result] | None:
        """(real path, stat) of an admitted file: what ``admits`` decides, for ``read`` to reuse."""
        real = self._inside(path)
        if real is None or real in self.roots:
            return None
        try:
            info = os.stat(real)
        except (OSError, ValueError):
            return None
        if not stat.S_ISREG(info.st_mode) or info.st_size > self.max_bytes:
            return None
        dropped = self._dropped_memo.get(real)
        if dropped is None:  # the rules of the tree do not change during a run
            dropped = self._dropped_memo[real] = self._dropped(real)
        return None if dropped else (real, info)

    def _dropped(self, real: str) -> bool:
        from imds_lint.discovery import SKIPPED_DIRS

        root = self.root_of(real)
        relative = real[len(root.rstrip("/")) + 1:]
        folders = relative.split("/")[:-1]
        if any(part in SKIPPED_DIRS for part in folders):
            return True
        anchor = self.anchor.rstrip("/") + "/"
        if self._exclude_lines and real.startswith(anchor):
            if self._excludes is None:
                from imds_lint.discovery import IgnorePatterns

                self._excludes = IgnorePatterns(list(self._exclude_lines))
            relative = real[len(anchor):]
            folders = relative.split("/")[:-1]
            partial = ""
            for part in folders:
                partial += part + "/"
                if self._excludes.match_file(partial):
                    return True
            if self._excludes.match_file(relative):
                return True
        if self._respect_gitignore:
            folder = os.path.dirname(real)
            for base, spec in self._gitignore_rules(folder, root):
                inner = real[len(base):]
                pieces = inner.split("/")
                if any(spec.match_file("/".join(pieces[:i]) + "/") for i in range(1, len(pieces))):
                    return True
                if spec.match_file(inner):
                    return True
        return False

    def _gitignore_rules(self, folder: str, root: str) -> tuple:
        """The .gitignore files in force in ``folder``: the scan root's parents' and those on the way down."""
        cached = self._folder_rules.get(folder)
        if cached is not None:
            return cached
        from imds_lint import discovery

        if folder == root or not folder.startswith(root.rstrip("/") + "/"):
            rules = discovery._parents_gitignores(root)
            if folder == root:
                spec = discovery._gitignore(folder)
                rules = rules + (((folder.rstrip("/") + "/", spec),) if spec is not None else ())
        else:
            rules = self._gitignore_rules(os.path.dirname(folder), root)
            spec = discovery._gitignore(folder)
            if spec is not None:
                rules = rules + ((folder + "/", spec),)
        self._folder_rules[folder] = rules
        return rules

    # -- reading -------------------------------------------------------------------------
    def read(self, path: str | Path, max_bytes: int | None = None) -> FileText | None:
        """The text of an admitted file (UTF-8, errors replaced), or None; re-read when it changed."""
        found = self._read(path, max_bytes)
        if _recordings:
            _record(("read", os.fspath(path), max_bytes), None if found is None else self.text_digest(found))
        return found

    def text_digest(self, found: FileText) -> str:
        """The digest of a text read, once per version of the file."""
        known = self._digests.get(found.key)
        if known is None:
            known = self._digests[found.key] = digest(found.text.encode("utf-8", "surrogatepass"))
        return known

    def _read(self, path: str | Path, max_bytes: int | None = None) -> FileText | None:
        key = os.path.abspath(path)
        admitted = self._admitted(key)
        if admitted is None:
            return None
        return self._read_admitted(key, admitted, max_bytes)

    def _read_admitted(self, key: str, admitted: tuple[str, os.stat_result],
                       max_bytes: int | None) -> FileText | None:
        real, info = admitted
        if max_bytes is not None and info.st_size > max_bytes:
            return None
        cached = self._texts.get(key)
        if cached is not None and cached.key == (real, info.st_mtime_ns, info.st_size):
            return cached
        # read_bytes asks for the size fstat gives, not max_bytes + 1: a read of a 1 KB sibling with
        # a 1 MB request allocated the megabyte first (100 us, a fifth of a Terraform file's time).
        from imds_lint.source import SkipFile, read_bytes

        try:
            raw = read_bytes(real, self.max_bytes)
        except SkipFile:
            return None
        found = FileText(key, raw.decode("utf-8", "replace"), (real, info.st_mtime_ns, info.st_size))
        self._texts[key] = found
        return found

    def folder_state(self, folder: str | Path) -> tuple[str, int] | None:
        """(folder, modification time): changes when a file is added, removed or renamed into it (--fix)."""
        state = self._folder_state(folder)
        if _recordings:  # whether it exists: the time only says when the memos built on it are stale
            _record(("folder", os.fspath(folder)), state is not None)
        return state

    def _folder_state(self, folder: str | Path) -> tuple[str, int] | None:
        folder = os.path.abspath(folder)
        if self._inside(folder) is None:
            return None
        try:
            return folder, os.stat(folder).st_mtime_ns
        except OSError:
            return None

    def files_in(self, folder: str | Path, wanted: Callable[[str], bool]) -> tuple[str, ...]:
        """The admitted files of one folder whose names ``wanted`` accepts, sorted by name."""
        state, listing = self._recorded_listing(folder)
        if state is None:
            return ()
        return tuple(os.path.join(state[0], name) for name in listing
                     if wanted(name) and self.admits(os.path.join(state[0], name)))

    def texts_in(self, folder: str | Path, wanted: Callable[[str], bool], limit: int,
                 max_bytes: int | None = None) -> list[FileText]:
        """``read`` of each of the first ``limit`` files ``files_in`` gives, with one admission check
        per file instead of two (a Terraform module's siblings: every file of the folder)."""
        state, listing = self._recorded_listing(folder)
        if state is None:
            return []
        texts: list[FileText] = []
        taken = 0
        for name in listing:
            if taken >= limit:
                break
            if not wanted(name):
                continue
            full = os.path.join(state[0], name)
            admitted = self._admitted(full)
            if _recordings:
                _record(("admits", full), admitted is not None)
            if admitted is None:
                continue
            taken += 1
            found = self._read_admitted(os.path.abspath(full), admitted, max_bytes)
            if _recordings:
                _record(("read", full, max_bytes), None if found is None else self.text_digest(found))
            if found is not None:
                texts.append(found)
        return texts

    def _recorded_listing(self, folder: str | Path) -> tuple[tuple[str, int] | None, tuple[str, ...]]:
        """``_listing``, recorded as the question ("list", folder) for the results cache."""
        state, listing = self._listing(folder)
        if _recordings:
            _record(("list", os.fspath(folder)), None if state is None else _listing_digest(listing))
        return state, listing

    def _listing(self, folder: str | Path) -> tuple[tuple[str, int] | None, tuple[str, ...]]:
        state = self._folder_state(folder)
        if state is None:
            return None, ()
        listing = self._listings.get(state)
        if listing is None:
            try:
                listing = tuple(sorted(os.listdir(state[0])))
            except OSError:
                listing = ()
            self._listings[state] = listing
        return state, listing

    def files_above(self, path: str | PurePath, wanted: Callable[[str], bool], levels: int) -> list[str]:
        """The admitted files ``wanted`` accepts in the folder of ``path`` and its parents, nearest
        first: at most ``levels`` folders, never above the scan root holding ``path``."""
        real = self.inside(path)
        if real is None:
            return []
        # Real paths are absolute and normalised: os.path walks them as pathlib would.
        root = self.root_of(real)
        directory = os.path.dirname(real)
        found: list[str] = []
        for _ in range(levels):
            found.extend(self.files_in(directory, wanted))
            parent = os.path.dirname(directory)
            if directory == root or parent == directory or not directory.startswith(root.rstrip("/") + "/"):
                break
            directory = parent
        return found

    def memo(self, key: tuple, build: Callable[[], object]):
        """Something a front-end derives from files (a parse), kept for this index's run; bounded.
        What building it asked is kept with it: a file that takes it from here asked the same."""
        if key in self._memo:
            self._memo.move_to_end(key)
            value, group = self._memo[key]
            if _recordings:
                _recordings[-1][group if group is not None else _UNKNOWN] = True
            return value
        if not _recordings:
            value, group = build(), None
        else:
            start_recording()
            try:
                value = build()
            finally:
                asked = _recordings.pop()
            group = group_of(asked)
            if group is None:
                _recordings[-1].update(asked)
            else:
                _recordings[-1][group] = True
        self._memo[key] = (value, group)
        if len(self._memo) > _MEMO_SIZE:
            self._memo.popitem(last=False)
        return value

    # -- a recorded analysis, asked again ------------------------------------------------
    def still_holds(self, asked, load_group: Callable[[str], list | None] = lambda name: None,
                    depth: int = 0) -> bool:
        """Whether every question of a recording (a list of [kind, path, (max bytes,) answer]
        lists, from a cache entry: checked, never trusted) gets the same answer now; a group is
        asked through ``load_group`` (its members, or None). Each question is answered once per
        run: a module's files all ask about the same siblings."""
        if depth > 8:
            return False
        try:
            for question in asked:
                key = tuple(question[:-1])
                now = self._answers.get(key, _UNKNOWN)
                if now is _UNKNOWN:
                    if key[0] == "group" and len(key) == 2:
                        self._answers[key] = False  # while it is being checked (a group in itself)
                        members = load_group(key[1])
                        now = members is not None and self.still_holds(members, load_group, depth + 1)
                    else:
                        now = self._answer(key)
                    self._answers[key] = now
                answer = question[-1]
                if now != answer or type(now) is not type(answer):
                    return False
        except (TypeError, ValueError, IndexError, KeyError, OSError):
            return False
        return True

    def _answer(self, question: tuple):
        kind, path = question[0], question[1]
        if not isinstance(path, str) or "\0" in path:
            raise ValueError("not a path")
        if kind == "read" and len(question) == 3:
            limit = question[2]
            if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
                raise ValueError("not a size")
            found = self._read(path, limit)
            return None if found is None else self.text_digest(found)
        if len(question) != 2:
            raise ValueError("not a question")
        if kind == "inside":
            return self._inside(path)
        if kind == "admits":
            return self._admitted(path) is not None
        if kind == "folder":
            return self._folder_state(path) is not None
        if kind == "list":
            state, listing = self._listing(path)
            return None if state is None else _listing_digest(listing)
        raise ValueError("not a question")

    def relative_to(self, origin: str | Path, written: str) -> str | None:
        """``written`` (a path as a file names it) against the folder of ``origin``; None outside the root."""
        joined = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(origin)), written))
        return joined if self.inside(joined) is not None else None
