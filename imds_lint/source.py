"""Reading a file's bytes into text we can scan, and writing fixed text back the same way."""

from __future__ import annotations

import codecs
import errno
import os
import stat
from bisect import bisect_right

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from pathlib import Path

    from imds_lint.model import Location

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# Lines up to this long are a finding's snippet whole; longer ones give a window this wide.
SNIPPET_LINE = 400
SNIPPET_BEFORE = 160


class SkipFile(Exception):
    """The file cannot be scanned; the message says why, for the ``errors`` list."""


class SourceText:
    """A file's text and how to turn it back into the same kind of bytes."""

    __slots__ = ("raw", "text", "encoding", "bom", "lossy", "escaped", "_line_starts")

    def __init__(self, raw: bytes, text: str, encoding: str, bom: bytes = b"", lossy: bool = False,
                 escaped: str | None = None):
        self.raw, self.text, self.encoding, self.bom = raw, text, encoding, bom
        # True when the bytes were not valid in ``encoding`` and were decoded with
        # replacement characters (one U+FFFD per bad byte).
        self.lossy = lossy
        # For such UTF-8 text, the same text with each bad byte kept as a surrogate escape: a fix
        # that leaves the replacement characters where they were puts every byte back.
        self.escaped = escaped
        self._line_starts: list[int] | None = None

    @property
    def rewritable(self) -> bool:
        return not self.lossy or self.escaped is not None

    def __repr__(self) -> str:
        return f"SourceText(encoding={self.encoding!r}, bom={self.bom!r}, lossy={self.lossy}, {len(self.text)} chars)"

    @property
    def newline(self) -> str:
        crlf = self.text.count("\r\n")
        lf = self.text.count("\n")
        if crlf and crlf == lf:
            return "\r\n"
        return "mixed" if crlf else "\n"

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i != -1:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        return self._line_starts

    def location(self, offset: int) -> Location:
        from imds_lint.model import Location

        starts = self.line_starts
        line = bisect_right(starts, offset) - 1
        return Location(line + 1, offset - starts[line] + 1)

    def line_text(self, line: int) -> str:
        starts = self.line_starts
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def snippet(self, line: int, column: int) -> tuple[str, int]:
        """The finding's line, or on a long line a window around ``column``; and the column it starts at.

        A finding keeps this text (reporters, fingerprints), so on a 4 MB line of
        90,000 requests copying the whole line each time would cost 360 GB.
        """
        starts = self.line_starts
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        if end - start <= SNIPPET_LINE:
            return self.text[start:end].rstrip("\r"), 1
        first = max(start, start + column - 1 - SNIPPET_BEFORE)
        last = min(end, first + SNIPPET_LINE)
        return self.text[first:last].rstrip("\r"), first - start + 1

    def encode(self, text: str) -> bytes:
        if self.lossy:
            return self.bom + self._restore(text).encode(self.encoding, "surrogateescape")
        return self.bom + text.encode(self.encoding)

    def _restore(self, text: str) -> str:
        """Fixed text with its replacement characters turned back into the bytes they stood for.

        Each U+FFFD of the fixed text is, in order, one of the original's (fixes insert
        ASCII and delete none of them); anything else is refused rather than guessed.
        """
        if self.escaped is None:
            raise SkipFile(f"not valid {self.encoding}; refusing to rewrite it")
        originals = [self.escaped[i] for i, c in enumerate(self.text) if c == "\ufffd"]
        if text.count("\ufffd") != len(originals) or _non_ascii(text) != _non_ascii(self.text):
            raise SkipFile(f"not valid {self.encoding}, and the fix would move its undecodable bytes; not rewritten")
        pieces = text.split("\ufffd")
        out = [pieces[0]]
        for original, piece in zip(originals, pieces[1:]):
            out.append(original)
            out.append(piece)
        return "".join(out)


def sniff_bom(raw: bytes) -> tuple[bytes, str] | None:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return bom, encoding
    return None


def looks_binary(raw: bytes) -> bool:
    """A NUL byte early on means binary, unless a BOM says UTF-16/32."""
    return raw.find(b"\0", 0, 8192) != -1 and sniff_bom(raw) is None


def decode(raw: bytes) -> SourceText:
    bom = sniff_bom(raw)
    if bom is not None:
        marker, encoding = bom
        body = raw[len(marker):]
        try:
            return SourceText(raw, body.decode(encoding), encoding, marker)
        except UnicodeDecodeError:
            return SourceText(raw, body.decode(encoding, "replace"), encoding, marker, lossy=True)
    try:
        return SourceText(raw, raw.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        # Latin-1 and broken UTF-8: scan what is readable with one U+FFFD per bad byte (a
        # surrogate would stop every parser that encodes the text); a fix keeps those bytes.
        escaped = raw.decode("utf-8", "surrogateescape")
        return SourceText(raw, escaped.translate(_SURROGATES_AS_REPLACEMENT), "utf-8", lossy=True, escaped=escaped)


_SURROGATES_AS_REPLACEMENT = {code: "\ufffd" for code in range(0xDC80, 0xDD00)}


def _non_ascii(text: str) -> int:
    return len(text) - len(text.encode("ascii", "ignore"))


def read_bytes(path: str | os.PathLike, max_size: int) -> bytes:
    """The file's bytes, or SkipFile with a message a person can act on.

    Opened non-blocking and checked with fstat, so a FIFO or device named by
    mistake is skipped instead of hanging the run.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise SkipFile("no such file (deleted during the scan?)") from None
    except OSError as exc:
        raise SkipFile(f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SkipFile("not a regular file")
        if info.st_size > max_size:
            raise SkipFile(f"skipped: {info.st_size:,} bytes is over the {max_size:,}-byte limit (max-file-size)")
        chunks = []
        remaining = max_size + 1  # one byte past the limit catches a file that grew since fstat
        while remaining > 0:
            wanted = min(remaining, max(info.st_size + 1, 65536))
            chunk = os.read(fd, wanted)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
            if len(chunk) < wanted:
                break  # a short read of a regular file is its end: no extra read() per file
    except OSError as exc:
        raise SkipFile(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(raw) > max_size:
        raise SkipFile(f"skipped: over the {max_size:,}-byte limit (max-file-size)")
    return raw


# Temporary files of a fix carry this suffix (and the writer's pid): the walk never scans them,
# and a --fix run removes those a killed run left behind (see clean_stale_temporaries).
TEMP_SUFFIX = ".imds-lint.tmp"


def write_atomic(path: Path, data: bytes, expected: bytes | None = None) -> None:
    """Replace ``path`` with ``data`` atomically, keeping its owner, mode and extended attributes.

    The new content goes to a temporary file in the same directory and is
    fsynced; owner first, then mode (chown clears setuid/setgid), then the
    extended attributes (ACLs, labels) are copied onto it. Only then, right
    before the rename, is the file compared with what was read (a process
    appending to it while the fix was written must not lose its lines), and
    the rename replaces it: a crash leaves either the old file or the new one.
    """
    info = os.stat(path)
    import secrets

    clean_stale_temporaries(path.parent)
    tmp_name = os.path.join(path.parent, f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
            try:
                os.fchown(fd, info.st_uid, info.st_gid)
            except PermissionError:
                pass  # not ours to keep; the mode is what matters to scripts
            os.fchmod(fd, stat.S_IMODE(info.st_mode))
            _copy_xattrs(str(path), fd)
        finally:
            os.close(fd)
        if expected is not None:
            _check_unchanged(path, expected)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(path.parent)


def _overwrite(fd: int, data: bytes) -> None:
    """The file behind ``fd`` holds exactly ``data``, on disk (an in-place write through a link)."""
    os.lseek(fd, 0, os.SEEK_SET)
    _write_all(fd, data)
    os.ftruncate(fd, len(data))
    os.fsync(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _check_unchanged(path: Path, expected: bytes) -> None:
    try:
        current = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"cannot re-read before writing: {exc.strerror or exc}") from None
    if current != expected:
        raise SkipFile("changed on disk since it was read; not writing the fix")


def _copy_xattrs(source: str, fd: int) -> None:
    if not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(source)
    except OSError:
        return
    for name in names:
        try:
            os.setxattr(fd, name, os.getxattr(source, name))
        except OSError:
            pass  # security.* labels may be the kernel's to set; the rest are kept


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_cleaned: set[str] = set()


def clean_stale_temporaries(folder: Path) -> None:
    """Remove fix temporaries in ``folder`` whose writer is gone (a run killed by SIGKILL), once per folder."""
    key = os.fspath(folder)
    if key in _cleaned:
        return
    _cleaned.add(key)
    try:
        names = [n for n in os.listdir(folder) if n.endswith(TEMP_SUFFIX) and n.startswith(".")]
    except OSError:
        return
    for name in names:
        parts = name[: -len(TEMP_SUFFIX)].rsplit(".", 2)
        try:
            pid = int(parts[-2])
        except (IndexError, ValueError):
            continue  # not one of ours
        if pid == os.getpid() or _alive(pid):
            continue
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_fixed(path: Path, data: bytes, expected: bytes, through_links: bool = False) -> None:
    """Write a fix: atomically, unless the file is a link and the user asked to write through it."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        if not through_links:
            raise SkipFile("is a symbolic link; not rewritten (--fix-through-links writes its target)")
        from pathlib import Path  # fixes only

        write_atomic(Path(os.path.realpath(path)), data, expected=expected)
        return
    if info.st_nlink > 1:
        if not through_links:
            raise SkipFile(f"has {info.st_nlink} hard links; an atomic rewrite would split them "
                           "(--fix-through-links writes it in place)")
        _write_in_place(path, data, expected)
        return
    write_atomic(path, data, expected=expected)


def _write_in_place(path: Path, data: bytes, expected: bytes) -> None:
    """Rewrite the file's own inode, so every hard link sees the fix (not atomic: asked for).

    The room for the new text is reserved first, so a full disk refuses the fix
    before a byte changes; if writing fails anyway, the original text is put
    back (it fits in the blocks the file already had) before the error is told.
    """
    fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        current = os.read(fd, len(expected) + 1)
        while len(current) <= len(expected):
            more = os.read(fd, len(expected) + 1 - len(current))
            if not more:
                break
            current += more
        if current != expected:
            raise SkipFile("changed on disk since it was read; not writing the fix")
        if len(data) > len(expected) and hasattr(os, "posix_fallocate"):
            try:
                os.posix_fallocate(fd, 0, len(data))
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)):
                    os.ftruncate(fd, len(expected))  # undo any length the reservation added
                    raise SkipFile(f"no room to write the fix ({exc.strerror or exc}); the file is unchanged") from None
        try:
            _overwrite(fd, data)
        except OSError as exc:
            try:
                _overwrite(fd, expected)
            except OSError as second:
                raise SkipFile(f"writing the fix failed ({exc.strerror or exc}) and so did restoring the file "
                               f"({second.strerror or second}): check it") from None
            raise SkipFile(f"writing the fix failed ({exc.strerror or exc}); the file was restored") from None
        if stat.S_IMODE(os.fstat(fd).st_mode) != stat.S_IMODE(info.st_mode):
            try:
                os.fchmod(fd, stat.S_IMODE(info.st_mode))  # a write by a non-root owner clears setuid
            except OSError:
                pass
    finally:
        os.close(fd)
