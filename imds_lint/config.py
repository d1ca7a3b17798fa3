"""Settings from ``[tool.imds-lint]`` in pyproject.toml or from imds-lint.toml (closest wins)."""

from __future__ import annotations

from pathlib import Path

from imds_lint.protocol import MAX_TOKEN_TTL

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
                 "respect_gitignore", "root", "config_path", "scan_roots")

    def __init__(self, select: tuple[str, ...] = ("ALL",), ignore: tuple[str, ...] = (),
                 exclude: tuple[str, ...] = (), per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = (),
                 token_ttl: int = MAX_TOKEN_TTL, max_file_size: int = DEFAULT_MAX_FILE_SIZE,
                 respect_gitignore: bool = True, root: Path | None = None, config_path: Path | None = None,
                 scan_roots: tuple[str, ...] = ()):
        values = locals()
        # Where relative exclude patterns are anchored: the config file's folder, or cwd.
        values["root"] = Path.cwd() if root is None else root
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


_KEYS = {"select", "ignore", "exclude", "extend-exclude", "per-file-ignores", "token-ttl",
         "max-file-size", "respect-gitignore"}


def find_config(start: Path, stop_at: Path | None = None) -> Path | None:
    """The nearest imds-lint.toml, or pyproject.toml with a [tool.imds-lint] table, at or above
    ``start`` and not above ``stop_at`` (the repository root: a config outside the repository is
    not the repository's, see ``config_above``)."""
    folders = [start, *start.parents]
    if stop_at is not None and stop_at in folders:
        folders = folders[:folders.index(stop_at) + 1]
    for folder in folders:
        candidate = folder / "imds-lint.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                text = pyproject.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "imds-lint" not in text:
                continue  # no table can be there: spare the TOML parser (~6 ms to import)
            import tomllib

            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError:
                continue
            if "imds-lint" in data.get("tool", {}):
                return pyproject
    return None


def config_above(repository_root: Path) -> Path | None:
    """A config file above the repository root: never applied unless named with --config, and
    worth a note (a stray ~/pyproject.toml must not change a repository's results silently)."""
    parent = repository_root.parent
    return None if parent == repository_root else find_config(parent)


def load(path: Path) -> Settings:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    table = data.get("tool", {}).get("imds-lint", {}) if path.name == "pyproject.toml" else data
    return from_table(table, path)


def _codes(value, key: str, path: Path) -> tuple[str, ...]:
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


def from_table(table: dict, path: Path) -> Settings:
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))} (known: {', '.join(sorted(_KEYS))})")
    settings = Settings(root=path.parent.resolve(), config_path=path)
    updates: dict = {}
    if "select" in table:
        updates["select"] = _codes(table["select"], "select", path)
    if "ignore" in table:
        updates["ignore"] = _codes(table["ignore"], "ignore", path)
    for key in ("exclude", "extend-exclude"):
        if key in table:
            value = table[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: '{key}' must be a list of gitignore-style patterns")
            updates["exclude"] = updates.get("exclude", ()) + tuple(value)
    if "per-file-ignores" in table:
        value = table["per-file-ignores"]
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: 'per-file-ignores' must be a table of pattern = [codes]")
        updates["per_file_ignores"] = tuple((k, _codes(v, f"per-file-ignores.{k}", path)) for k, v in value.items())
        if value:
            from imds_lint.discovery import IgnorePatterns, PatternError

            try:
                IgnorePatterns(list(value), strict=True)
            except PatternError as exc:
                raise ConfigError(f"{path}: 'per-file-ignores': {exc}") from None
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
    return settings.replace(**updates)


def check_ttl(value, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_TOKEN_TTL:
        raise ConfigError(f"{where} must be a whole number of seconds from 1 to {MAX_TOKEN_TTL}")
    return value
