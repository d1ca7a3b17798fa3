"""Settings from ``[tool.imds-lint]`` in pyproject.toml or from imds-lint.toml (closest wins)."""

from __future__ import annotations

import os

from imds_lint.protocol import MAX_TOKEN_TTL

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from pathlib import Path

# Paths found here are absolute strings (os.path): pathlib imports urllib.parse and ipaddress,
# ~3 ms of every run. Callers may pass either.

DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024


class ConfigError(Exception):
    pass


class Settings:
    """One run's settings; immutable (``replace`` makes a changed copy).

    A plain class rather than a dataclass: the dataclasses module (with
    inspect, which it imports) is ~10 ms of a pre-commit run that only reads
    a few files.
    """

    __slots__ = ("select", "ignore", "exclude", "per_file_ignores", "token_ttl", "max_file_size",
                 "respect_gitignore", "root", "config_path", "scan_roots", "cache_dir")

    def __init__(self, select: tuple[str, ...] = ("ALL",), ignore: tuple[str, ...] = (),
                 exclude: tuple[str, ...] = (), per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = (),
                 token_ttl: int = MAX_TOKEN_TTL, max_file_size: int = DEFAULT_MAX_FILE_SIZE,
                 respect_gitignore: bool = True, root: str | Path | None = None,
                 config_path: str | Path | None = None, scan_roots: tuple[str, ...] = (),
                 cache_dir: str | Path | None = None):
        values = locals()
        # Where relative exclude patterns are anchored: the config file's folder, or cwd.
        values["root"] = os.getcwd() if root is None else root
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name, value):
        raise AttributeError(f"Settings are immutable; use replace({name}=...)")

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def replace(self, **changes) -> Settings:
        return Settings(**{**dict(zip(self.__slots__, self._values())), **changes})

    def __eq__(self, other) -> bool:
        return isinstance(other, Settings) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return "Settings(" + ", ".join(f"{n}={v!r}" for n, v in zip(self.__slots__, self._values())) + ")"

    def __reduce__(self):  # pickled for worker processes
        return Settings, self._values()


_KEYS = {"select", "ignore", "exclude", "extend-exclude", "per-file-ignores", "extend-per-file-ignores",
         "token-ttl", "max-file-size", "respect-gitignore", "extend", "cache-dir"}


def folders_up(start: str | Path) -> list[str]:
    """``start`` (absolute and normalised) and each folder above it, nearest first: pathlib's
    ``[start, *start.parents]``."""
    folder = os.fspath(start)
    found = [folder]
    while True:
        parent = os.path.dirname(folder)
        if parent == folder:
            return found
        found.append(parent)
        folder = parent


def find_config(start: str | Path, stop_at: str | Path | None = None) -> str | None:
    """The nearest imds-lint.toml, or pyproject.toml with a [tool.imds-lint] table, at or above
    ``start`` (absolute) and not above ``stop_at`` (the repository root: a config outside the
    repository is not the repository's, see ``config_above``)."""
    folders = folders_up(start)
    stop_at = os.fspath(stop_at) if stop_at is not None else None
    if stop_at is not None and stop_at in folders:
        folders = folders[:folders.index(stop_at) + 1]
    for folder in folders:
        found = config_in(folder)
        if found is not None:
            return found
    return None


def config_in(folder: str | Path, names: frozenset[str] | set[str] | None = None) -> str | None:
    """The config file in ``folder`` itself, if any (imds-lint.toml first, as in find_config).
    ``names``, when the caller has listed the folder already, spares the system calls."""
    if names is None or "imds-lint.toml" in names:
        candidate = os.path.join(folder, "imds-lint.toml")
        if os.path.isfile(candidate):
            return candidate
    if names is not None and "pyproject.toml" not in names:
        return None
    pyproject = os.path.join(folder, "pyproject.toml")
    if not os.path.isfile(pyproject):
        return None
    try:
        text = read_text(pyproject)
    except (OSError, UnicodeDecodeError):
        return None
    if "imds-lint" not in text:
        return None  # no table can be there: spare the TOML parser (~6 ms to import)
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    return pyproject if "imds-lint" in data.get("tool", {}) else None


def config_above(repository_root: str | Path) -> str | None:
    """A config file above the repository root: never applied unless named with --config, and
    worth a note (a stray ~/pyproject.toml must not change a repository's results silently)."""
    repository_root = os.fspath(repository_root)
    parent = os.path.dirname(repository_root)
    return None if parent == repository_root else find_config(parent)


def read_text(path: str | Path, errors: str = "strict") -> str:
    """A UTF-8 file's text (pathlib's ``read_text``, for the modules that no longer import pathlib)."""
    with open(path, encoding="utf-8", errors=errors) as f:
        return f.read()


def load(path: str | Path, _extending: tuple[str, ...] = ()) -> Settings:
    path = os.fspath(path)
    table = _table(path)
    if "extend" not in table:
        return from_table(table, path)
    # As ruff's ``extend``: the named file's settings first, this file's on top. Its patterns keep
    # their meaning relative to its own folder (rebased onto this one).
    value = table["extend"]
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: 'extend' must be the path of another config file")
    base_path = os.path.abspath(os.path.join(os.path.dirname(path), os.path.expanduser(value)))
    chain = (*_extending, os.path.abspath(path))
    if base_path in chain:
        raise ConfigError(f"{path}: 'extend' makes a cycle: {' -> '.join((*chain, base_path))}")
    if not os.path.isfile(base_path):
        raise ConfigError(f"{path}: 'extend' names {value!r}, which is not a file")
    base = load(base_path, chain)
    return from_table(table, path, base)


def _table(path: str) -> dict:
    import tomllib

    try:
        data = tomllib.loads(read_text(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if os.path.basename(path) == "pyproject.toml":
        table = data.get("tool", {}).get("imds-lint")
        if table is None:
            raise ConfigError(f"{path}: has no [tool.imds-lint] table")
        return table
    return data


def _codes(value, key: str, path: str | Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: '{key}' must be a list of rule codes")
    return check_codes(tuple(v.strip().upper() for v in value), f"{path}: '{key}'")


def check_codes(codes: tuple[str, ...], where: str) -> tuple[str, ...]:
    """The codes, if each is ALL, a rule code or a prefix of one; else a usage error (as in ruff):
    ``select = ["IMDS10l"]`` would otherwise run no rule and report a clean tree."""
    if all(c == "ALL" for c in codes):
        return codes
    from imds_lint.registry import catalog_codes

    known = catalog_codes()
    unknown = [c for c in codes if c != "ALL" and not (c.startswith("IMDS") and any(k.startswith(c) for k in known))]
    if unknown:
        raise ConfigError(f"{where}: unknown rule code{'s' if len(unknown) > 1 else ''} or prefix "
                          f"{', '.join(unknown)} (see imds-lint --list-rules)")
    return codes


def from_table(table: dict, path: str | Path, base: Settings | None = None) -> Settings:
    """Settings from one config table; with ``base`` (the file ``extend`` names), on top of it:
    a key given here replaces the base's, ``extend-exclude`` and ``extend-per-file-ignores`` add to it."""
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))} (known: {', '.join(sorted(_KEYS))})")
    path = os.fspath(path)
    root = os.path.realpath(os.path.dirname(path) or ".")  # pathlib's path.parent.resolve()
    settings = Settings(root=root, config_path=path)
    updates: dict = {}
    if base is not None:
        updates = {name: getattr(base, name) for name in ("select", "ignore", "token_ttl", "max_file_size",
                                                          "respect_gitignore", "cache_dir")}
        updates["exclude"] = rebase_patterns(base.exclude, base.root, root)
        updates["per_file_ignores"] = tuple(
            (moved, codes) for pattern, codes in base.per_file_ignores
            if (moved := rebase_pattern(pattern, base.root, root)) is not None)
    if "select" in table:
        updates["select"] = _codes(table["select"], "select", path)
    if "ignore" in table:
        updates["ignore"] = _codes(table["ignore"], "ignore", path)
    for key in ("exclude", "extend-exclude"):
        if key in table:
            value = table[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: '{key}' must be a list of gitignore-style patterns")
            kept = () if key == "exclude" else updates.get("exclude", ())
            updates["exclude"] = kept + tuple(value)
    for key in ("per-file-ignores", "extend-per-file-ignores"):
        if key not in table:
            continue
        value = table[key]
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: '{key}' must be a table of pattern = [codes]")
        entries = tuple((k, _codes(v, f"{key}.{k}", path)) for k, v in value.items())
        kept = () if key == "per-file-ignores" else updates.get("per_file_ignores", ())
        updates["per_file_ignores"] = kept + entries
        if value:
            from imds_lint.discovery import IgnorePatterns, PatternError

            try:
                IgnorePatterns(list(value), strict=True)
            except PatternError as exc:
                raise ConfigError(f"{path}: '{key}': {exc}") from None
    if "token-ttl" in table:
        updates["token_ttl"] = check_ttl(table["token-ttl"], f"{path}: 'token-ttl'")
    if "max-file-size" in table:
        value = table["max-file-size"]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{path}: 'max-file-size' must be a positive number of bytes")
        updates["max_file_size"] = value
    if "respect-gitignore" in table:
        if not isinstance(table["respect-gitignore"], bool):
            raise ConfigError(f"{path}: 'respect-gitignore' must be true or false")
        updates["respect_gitignore"] = table["respect-gitignore"]
    if "cache-dir" in table:
        value = table["cache-dir"]
        if not isinstance(value, str) or not value or "\0" in value:
            raise ConfigError(f"{path}: 'cache-dir' must be the path of a folder")
        from pathlib import Path  # only for a configured cache folder

        updates["cache_dir"] = Path(root) / os.path.expanduser(value)  # relative to the config's folder
    return settings.replace(**updates)


def rebase_patterns(patterns: tuple[str, ...], old: str | Path, new: str | Path) -> tuple[str, ...]:
    return tuple(moved for p in patterns if (moved := rebase_pattern(p, old, new)) is not None)


def rebase_pattern(pattern: str, old: str | Path, new: str | Path) -> str | None:
    """A gitignore-style pattern written for folder ``old``, as it reads from folder ``new``;
    None when it can match nothing below ``new``.

    A pattern without a slash (but a trailing one) matches a name at any depth: it reads the same
    from anywhere. One with a slash is anchored to ``old``: from a folder below ``old`` its leading
    segments are matched against the way down (``**`` may take any of it), from a folder above
    ``old`` the way down is put in front.
    """
    from pathlib import PurePath  # only for nested and extended configs

    old, new = PurePath(old), PurePath(new)
    if old == new:
        return pattern
    negated = pattern.startswith("!")
    body = pattern[1:] if negated else pattern
    bang = "!" if negated else ""
    anchored = "/" in body.rstrip("/")
    try:
        down = new.relative_to(old).parts  # new is below old
    except ValueError:
        down = None
    if down is None:
        try:
            up = old.relative_to(new).as_posix()  # old is below new
        except ValueError:
            return None if anchored else pattern  # siblings: only names-at-any-depth carry over
        return f"{bang}/{up}/{body.lstrip('/')}" if anchored else f"{bang}/{up}/**/{body}"
    if not anchored:
        return pattern
    import fnmatch

    trailing = "/" if body.endswith("/") else ""
    segments = [s for s in body.strip("/").split("/") if s]
    for part in down:
        if not segments:
            return f"{bang}**"  # the pattern named ``new`` or a folder above it: all of it
        if segments[0] == "**":
            break  # any depth, this way down included
        if not fnmatch.fnmatchcase(part, segments[0]):
            return None
        segments = segments[1:]
    if not segments:
        return f"{bang}**"
    return f"{bang}/{'/'.join(segments)}{trailing}"


def check_ttl(value, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_TOKEN_TTL:
        raise ConfigError(f"{where} must be a whole number of seconds from 1 to {MAX_TOKEN_TTL}")
    return value
