"""The results cache (after ruff's): a file's lint result, kept by what it was computed from.

An entry's key is the digest of the file's bytes (content, not time: a cache
restored onto a fresh clone still hits), of the settings that apply to it
(configs are hierarchical), of its path, and of the tool itself (its version,
and its modules: an edited checkout or another release misses). With the result
the entry keeps every question the analysis asked of the project index and the
answer (imds_lint.project_index): a warm run asks them again, and one different
answer (a sibling ``.tf`` edited, a Dockerfile added, a ``.gitignore`` changed)
makes it a miss.

A cache folder may come with a scanned repository, so its content is hostile
input: entries are JSON, read bounded (size, count), checked field by field, and
anything unexpected is a miss, never a traceback; nothing in one is executed. The
folder and its entries are opened without following links (a folder named by
``--cache-dir`` or ``IMDS_LINT_CACHE_DIR`` may itself be a link). Writes go to a
temporary file renamed into place, so two runs, or a run's workers, never see half
an entry. A read-only or full disk turns the cache off, with one note.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import time

from imds_lint.project_index import blake2b, digest

FORMAT = 2
FOLDER_NAME = ".imds_lint_cache"
ENTRIES = f"results-v{FORMAT}"
MAX_ENTRY_BYTES = 4 * 1024 * 1024
MAX_QUESTIONS = 20_000
# Entries not used for this long are removed, at most once a day (the use refreshes their time).
MAX_AGE_SECONDS = 30 * 86_400
PRUNE_EVERY_SECONDS = 86_400
MAX_CACHE_BYTES = 512 * 1024 * 1024
_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This file is a cache directory tag created by imds-lint.\n"
        "# For information about cache directory tags see https://bford.info/cachedir/\n")
# Errors that say the folder cannot take entries at all (as opposed to one entry failing).
_UNWRITABLE = frozenset({errno.EROFS, errno.ENOSPC, errno.EACCES, errno.EPERM, errno.EDQUOT})

_tool: str | None = None


def tool_fingerprint() -> str:
    """The version, the interpreter and the package's own files: an installed release by its
    RECORD (the digest of every file it installed), a checkout (editable install) by the names,
    sizes and modification times of its modules and rule catalog, so an edit invalidates."""
    global _tool
    if _tool is None:
        import imds_lint

        package = os.path.dirname(os.path.abspath(imds_lint.__file__))
        parts = [imds_lint.__version__, sys.version, sys.implementation.name]
        record = _installed_record(package)
        if record is not None:
            parts.append(record)
        else:
            for folder in (package, os.path.join(os.path.dirname(package), "rules")):
                parts.extend(_module_files(folder))
        parts.extend(_distributions())
        _tool = digest("\n".join(parts).encode("utf-8", "surrogateescape"))
    return _tool


def _installed_record(package: str) -> str | None:
    site = os.path.dirname(package)
    try:
        names = [n for n in os.listdir(site) if n.startswith("imds_lint-") and n.endswith(".dist-info")]
        if len(names) != 1:
            return None
        with open(os.path.join(site, names[0], "RECORD"), "rb") as handle:
            record = handle.read(4 * 1024 * 1024)
    except OSError:
        return None
    # An editable install's RECORD lists a .pth file, not the modules.
    return digest(record) if b"imds_lint/engine.py," in record else None


def _module_files(folder: str) -> list[str]:
    found = []
    for top, folders, names in os.walk(folder):
        folders[:] = sorted(f for f in folders if f != "__pycache__")
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(top, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            found.append(f"{os.path.relpath(path, folder)} {info.st_size} {info.st_mtime_ns}")
    return found


def _distributions() -> list[str]:
    """Installed distributions (name and version, from the dist-info folders' names): a parser
    (tree-sitter grammars, libcst, PyYAML) of another version may find other things."""
    found = []
    for entry in sys.path:
        if not entry.endswith(("site-packages", "dist-packages")):
            continue
        try:
            found.extend(sorted(n for n in os.listdir(entry) if n.endswith(".dist-info")))
        except OSError:
            continue
    return found


def settings_fingerprint(settings) -> str:
    values = [repr(getattr(settings, name)) for name in settings.__slots__ if name != "cache_dir"]
    return digest("\n".join(values).encode("utf-8", "surrogateescape"))


SECRET_BYTES = 32
_secret: bytes | None = None
_secret_problem: str | None = None


def secret_folder() -> str:
    """Where this user's key for entry names lives: never in a scanned tree, so a repository
    cannot bring it along (``IMDS_LINT_SECRET_DIR``, else the user's cache folder)."""
    named = os.environ.get("IMDS_LINT_SECRET_DIR")
    if named:
        return os.path.abspath(os.path.expanduser(named))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(base), "imds-lint")


def machine_secret() -> bytes | None:
    """32 random bytes made once per user (a 0600 file in ``secret_folder``), or None with the
    reason in ``_secret_problem``. Entry names are keyed with it: a scanned repository can commit a
    cache folder, and without the key it cannot name an entry this machine would take, so a forged
    "no findings" entry is never read."""
    global _secret, _secret_problem
    if _secret is not None or _secret_problem is not None:
        return _secret
    folder = secret_folder()
    path = os.path.join(folder, "secret")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        else:
            try:
                os.write(fd, os.urandom(SECRET_BYTES))
            finally:
                os.close(fd)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            info = os.fstat(fd)
            value = os.read(fd, SECRET_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        _secret_problem = f"no key for its entries in {folder}: {exc.strerror or exc}"
        return None
    # Another user's file, one others may read or write, or a short one: not a secret.
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077 \
            or len(value) != SECRET_BYTES:
        _secret_problem = f"its key {path} is not a private {SECRET_BYTES}-byte file of this user"
        return None
    _secret = value
    return _secret


def entry_key(settings_print: str, path: str, display: str, project_path: str, raw: bytes) -> str:
    """The key of one file's result: tool, settings, where it is and how it is shown, its bytes,
    keyed with this user's secret (nobody else can compute it, so no one can plant an entry)."""
    parts = (str(FORMAT), tool_fingerprint(), settings_print, os.path.abspath(path), display, project_path,
             digest(raw))
    return blake2b("\0".join(parts).encode("utf-8", "surrogateescape"), digest_size=16,
                   key=machine_secret() or b"").hexdigest()


def lookup(store: ResultsCache, settings_print: str, index, path: str, display: str, project_path: str,
           raw: bytes) -> tuple[str, tuple[list, list[str], str | None] | None]:
    """(key, stored result or None) for one file: the entry's, when every question its analysis
    asked of the project index ``index`` gets the same answer now."""
    key = entry_key(settings_print, path, display, project_path, raw)
    entry = store.get(key)
    if entry is not None and index.with_root_for(path).still_holds(entry["asked"], store.group):
        return key, decode_result(entry, display)
    return key, None


def folder_for(settings, given: str | None) -> tuple[str, bool]:
    """The cache folder and whether the user named it (``--cache-dir``, ``IMDS_LINT_CACHE_DIR``):
    only a named folder may be a link. ``cache-dir`` in a config is the repository's word, and the
    default is ``.imds_lint_cache`` in the settings' root (the config's folder, or the current one)."""
    if given:
        return os.path.abspath(os.path.expanduser(given)), True
    from_env = os.environ.get("IMDS_LINT_CACHE_DIR")
    if from_env:
        return os.path.abspath(os.path.expanduser(from_env)), True
    configured = getattr(settings, "cache_dir", None)
    if configured is not None:
        return os.path.abspath(configured), False
    return os.path.join(os.path.abspath(settings.root), FOLDER_NAME), False


class ResultsCache:
    """One cache folder. Picklable (workers get a copy): folder handles are opened per process."""

    def __init__(self, folder: str, named: bool = False):
        self.folder = folder
        self.named = named
        self.writable = True
        self.problem: str | None = None  # why it is off, for the one note
        self._pid: int | None = None
        self._entries_fd: int | None = None
        self._groups_written: set[str] = set()

    def __getstate__(self):
        return {"folder": self.folder, "named": self.named, "writable": self.writable, "problem": self.problem}

    def __setstate__(self, state):
        self.__init__(state["folder"], state["named"])
        self.writable, self.problem = state["writable"], state["problem"]

    # -- the folder ----------------------------------------------------------------------
    def _entries(self, create: bool) -> int | None:
        """The entries folder's handle in this process (None: no cache to read, or off)."""
        if self._pid == os.getpid():
            return self._entries_fd
        if self.problem is not None:
            return None
        if os.open not in os.supports_dir_fd or not hasattr(os, "O_NOFOLLOW"):
            self._off("needs openat and O_NOFOLLOW, which this system lacks")
            return None
        if machine_secret() is None:
            self._off(_secret_problem)
            return None
        if create:
            self._create()
        flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
        nofollow = os.O_NOFOLLOW
        try:
            top = os.open(self.folder, flags | (0 if self.named else nofollow))
        except OSError as exc:
            if exc.errno == errno.ELOOP or (exc.errno == errno.ENOTDIR and os.path.islink(self.folder)):
                self._off("is a symbolic link")
            elif create or exc.errno != errno.ENOENT:
                self._off(exc.strerror or str(exc))
            return None
        try:
            self._entries_fd = os.open(ENTRIES, flags | nofollow, dir_fd=top)
        except OSError as exc:
            if exc.errno != errno.ENOENT or create:
                self._off(exc.strerror or str(exc))
            return None
        finally:
            os.close(top)
        self._pid = os.getpid()
        return self._entries_fd

    def _create(self) -> None:
        """The folder with its .gitignore and CACHEDIR.TAG when imds-lint makes it (never written
        into a folder that already exists: it may be someone's), and the entries folder."""
        try:
            os.makedirs(os.path.dirname(self.folder), exist_ok=True)
            os.mkdir(self.folder)
        except FileExistsError:
            pass
        except OSError as exc:
            self._off(exc.strerror or str(exc))
            return
        else:
            for name, text in ((".gitignore", "# Created by imds-lint automatically.\n*\n"), ("CACHEDIR.TAG", _TAG)):
                try:
                    with open(os.path.join(self.folder, name), "x", encoding="utf-8") as handle:
                        handle.write(text)
                except OSError:
                    pass
        try:
            top = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | (0 if self.named else os.O_NOFOLLOW))
        except OSError:
            return  # _entries says why
        try:
            os.mkdir(ENTRIES, dir_fd=top)
        except FileExistsError:
            pass
        except OSError as exc:
            self._off(exc.strerror or str(exc))
        finally:
            os.close(top)

    def _off(self, why: str) -> None:
        self.writable = False
        if self.problem is None:
            self.problem = why

    def probe(self) -> str | None:
        """Make the folder and write a throwaway entry: None when entries can be written, else a
        note saying why the run goes on without them (once, from the main process)."""
        folder = self._entries(create=True)
        if folder is not None:
            name = f".probe-{os.getpid()}"
            try:
                os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644, dir_fd=folder))
                os.unlink(name, dir_fd=folder)
            except OSError as exc:
                self._off(exc.strerror or str(exc))
        if self.problem is None:
            return None
        return f"note: results cache {self.folder} not used ({self.problem}); running without it"

    # -- entries -------------------------------------------------------------------------
    def get(self, key: str) -> dict | None:
        """The entry stored under ``key``, checked to be an entry for it; None for anything else."""
        folder = self._entries(create=False)
        if folder is None:
            return None
        try:
            fd = os.open(key, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0),
                         dir_fd=folder)
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                return None
            chunks, size = [], 0
            while size <= MAX_ENTRY_BYTES:
                chunk = os.read(fd, MAX_ENTRY_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size > MAX_ENTRY_BYTES:
                return None
            if self.writable and time.time() - info.st_mtime > PRUNE_EVERY_SECONDS:
                try:  # in use: kept by the age pruning
                    os.utime(fd)
                except OSError:
                    pass
        except OSError:
            return None
        finally:
            os.close(fd)
        import json

        try:
            entry = json.loads(b"".join(chunks))
        except (ValueError, RecursionError, MemoryError):
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        asked = entry.get("asked")
        # Each question is checked as it is asked again (ProjectIndex.still_holds).
        if not isinstance(asked, list) or len(asked) > MAX_QUESTIONS:
            return None
        return entry

    def group(self, name: str) -> list | None:
        """The questions of a group entry, if they are the ones its name is the digest of."""
        from imds_lint.project_index import group_digest

        entry = self.get(name)
        if entry is None:
            return None
        members = entry["asked"]
        try:
            return members if group_digest(members) == name else None
        except (TypeError, ValueError):
            return None

    def put_groups(self, asked: dict) -> None:
        """Store the groups ``asked`` names (and those they name) that this process has not."""
        from imds_lint import project_index

        pending = [q[1] for q in asked if q[0] == "group"]
        while pending:
            name = pending.pop()
            if name in self._groups_written:
                continue
            self._groups_written.add(name)
            members = project_index.groups.get(name)
            if members is None:
                continue
            self.put(name, {"asked": members})
            pending.extend(m[1] for m in members if m[0] == "group")

    def put(self, key: str, entry: dict) -> None:
        if not self.writable or len(entry.get("asked", ())) > MAX_QUESTIONS:
            return
        folder = self._entries(create=False)
        if folder is None:
            return
        import json

        data = json.dumps({"format": FORMAT, "key": key, **entry}, ensure_ascii=True,
                          separators=(",", ":")).encode("ascii")
        if len(data) > MAX_ENTRY_BYTES:
            return
        temporary = f".tmp-{os.getpid()}-{os.urandom(4).hex()}"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.rename(temporary, key, src_dir_fd=folder, dst_dir_fd=folder)
        except OSError as exc:
            try:
                os.unlink(temporary, dir_fd=folder)
            except OSError:
                pass
            if exc.errno in _UNWRITABLE:
                self._off(exc.strerror or str(exc))

    # -- size ----------------------------------------------------------------------------
    def prune(self, now: float | None = None) -> int:
        """Remove entries unused for MAX_AGE_SECONDS (and the oldest beyond MAX_CACHE_BYTES) and
        leftover temporary files; at most once a day. Returns how many files went."""
        folder = self._entries(create=False)
        if folder is None or not self.writable:
            return 0
        now = time.time() if now is None else now
        try:
            marker = os.stat(".last-prune", dir_fd=folder, follow_symlinks=False)
            if now - marker.st_mtime < PRUNE_EVERY_SECONDS:
                return 0
        except OSError:
            pass
        try:
            os.close(os.open(".last-prune", os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644, dir_fd=folder))
            os.utime(".last-prune", dir_fd=folder, follow_symlinks=False)
        except OSError:
            return 0
        kept, removed = [], 0
        try:
            with os.scandir(folder) as listing:
                for entry in listing:
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    temporary = entry.name.startswith((".tmp-", ".probe-"))
                    if not temporary and (entry.name.startswith(".") or not stat.S_ISREG(info.st_mode)):
                        continue
                    if now - info.st_mtime > (3600 if temporary else MAX_AGE_SECONDS):
                        removed += self._remove(entry.name, folder)
                    elif not temporary:
                        kept.append((info.st_mtime, info.st_size, entry.name))
        except OSError:
            return removed
        total = sum(size for _, size, _ in kept)
        if total > MAX_CACHE_BYTES:
            for _, size, name in sorted(kept):
                if total <= MAX_CACHE_BYTES * 3 // 4:
                    break
                removed += self._remove(name, folder)
                total -= size
        return removed

    @staticmethod
    def _remove(name: str, folder: int) -> int:
        try:
            os.unlink(name, dir_fd=folder)
            return 1
        except OSError:
            return 0


def open_cache(settings, given: str | None) -> ResultsCache:
    folder, named = folder_for(settings, given)
    return ResultsCache(folder, named)


# -- results as JSON ---------------------------------------------------------------------------
def encode_result(findings: list, notes: list[str], dialect: str | None, asked: dict) -> dict:
    """A file's located findings, notes and report kind, with the questions its analysis asked."""
    return {
        "asked": [[*question, answer] for question, answer in asked.items()],
        "dialect": dialect,
        "notes": list(notes),
        "findings": [_encode_finding(f) for f in findings],
    }


def _encode_finding(f) -> list:
    fix = None if f.fix is None else [f.fix.title, [[e.start, e.end, e.content] for e in f.fix.edits],
                                      f.fix.applicability.value, f.fix.merged]
    return [f.code, f.name, f.category.value, f.severity.value, f.message, f.span.start, f.span.end, fix,
            None if f.extent is None else [f.extent.start, f.extent.end],
            f.start.line, f.start.column, f.end.line, f.end.column, f.snippet, f.snippet_column,
            [[a.line, a.column, b.line, b.column] for a, b in f.fix_locations]]


class _Malformed(Exception):
    pass


def _int(value) -> int:
    if type(value) is not int:
        raise _Malformed
    return value


def _str(value) -> str:
    if type(value) is not str:
        raise _Malformed
    return value


def _list(value, length: int | None = None) -> list:
    if type(value) is not list or (length is not None and len(value) != length):
        raise _Malformed
    return value


def decode_result(entry: dict, path: str) -> tuple[list, list[str], str | None] | None:
    """(findings shown at ``path``, notes, report kind) from an entry; None if any part of it is not
    what ``encode_result`` writes."""
    from imds_lint.model import Applicability, Category, Edit, Finding, Fix, Location, Severity, Span

    try:
        notes = [_str(n) for n in _list(entry.get("notes"))]
        dialect = entry.get("dialect")
        if dialect is not None:
            _str(dialect)
        findings = []
        for item in _list(entry.get("findings")):
            (code, name, category, severity, message, start, end, fix, extent, line, column, end_line, end_column,
             snippet, snippet_column, locations) = _list(item, 16)
            if fix is not None:
                title, edits, applicability, merged = _list(fix, 4)
                fix = Fix(_str(title), tuple(Edit(_int(s), _int(e), _str(c)) for s, e, c in
                                             (_list(edit, 3) for edit in _list(edits))),
                          Applicability(_str(applicability)), merged=_int(merged))
            if extent is not None:
                extent = Span(*(_int(v) for v in _list(extent, 2)))
            findings.append(Finding(
                _str(code), _str(name), Category(_str(category)), Severity(_str(severity)), _str(message),
                Span(_int(start), _int(end)), fix, extent, path, Location(_int(line), _int(column)),
                Location(_int(end_line), _int(end_column)), _str(snippet), _int(snippet_column),
                tuple((Location(_int(a), _int(b)), Location(_int(c), _int(d)))
                      for a, b, c, d in (_list(loc, 4) for loc in _list(locations)))))
    except (_Malformed, ValueError, TypeError):
        return None
    return findings, notes, dialect
