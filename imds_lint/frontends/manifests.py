"""Dependency manifests and lock files: which AWS SDK and tool versions a project pins.

One reader per format, each built on a maintained parser (``packaging`` for PEP
508/440, ``tomllib``, ``json``, PyYAML's safe loader, expat with DTDs refused);
the structure comes from the parser, and the exact place of a version is then
found in the text so fixes can rewrite just that version. Build files are never
executed: Gradle scripts are only searched for dependency coordinate strings.
Only packages in ``imds_lint.versions.TABLE`` become facts.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath

from imds_lint.dependencies import FACT, Constraint, DependencyFact, interval, line_span, pep440, semver_range
from imds_lint.frontends import Analysis, ParseProblem
from imds_lint.kinds import Kind, manifest_kind
from imds_lint.model import Document, Span
from imds_lint.versions import lookup

_MAX_INCLUDE_DEPTH = 5
_MAX_INCLUDE_BYTES = 1 << 20


class _Reader:
    def __init__(self, document: Document, session):
        self.document = document
        self.text = document.text
        self.session = session
        self.analysis = Analysis(document)

    # -- recording -------------------------------------------------------------
    def add(self, ecosystem: str, package: str, constraint: Constraint | None, at: int,
            version_span: Span | None = None, **extra) -> None:
        if constraint is None or lookup(ecosystem, package) is None:
            return
        self.analysis.add_fact(FACT, DependencyFact(
            ecosystem=ecosystem, package=package, constraint=constraint,
            span=Span(at, max(at, line_span(self.text, at).end)),
            version_span=version_span, manifest=self.document.kind, **extra,
        ))

    def problem(self, message: str, at: int = 0) -> None:
        self.analysis.problems.append(ParseProblem(line_span(self.text, at), message, exact=True))

    def find_value(self, key: str, start: int = 0, *, quote: str = '"') -> re.Match | None:
        """``"key": "value"`` (or ``key = "value"``) at or after ``start``."""
        pattern = re.compile(re.escape(quote) + re.escape(key) + re.escape(quote)
                             + r"\s*[:=]\s*[\"'](?P<v>[^\"'\n]*)[\"']")
        return pattern.search(self.text, start)

    def version_in(self, match: re.Match, group: str, version: str | None) -> Span | None:
        """The span of ``version`` inside a matched group, when written there once."""
        if not version:
            return None
        value = match.group(group)
        first = value.find(version)
        if first == -1 or value.find(version, first + 1) != -1:
            return None
        start = match.start(group) + first
        return Span(start, start + len(version))


# ---------------------------------------------------------------------------
# Python


_REQ_OPTION = re.compile(r"^\s*(-r|--requirement|-c|--constraint)(?:\s*=?\s*)(?P<file>\S+)")


def _requirement(reader: _Reader, line: str, offset: int, *, lock_free: bool, via: str = "", at: int | None = None) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    body = re.split(r"\s+#|^#", line, maxsplit=1)[0]
    body = re.split(r"\s--?[a-z]", body, maxsplit=1)[0].strip()
    if not body or body.startswith("-"):
        return
    try:
        req = Requirement(body)
    except InvalidRequirement:
        return
    if lookup("pypi", req.name) is None:
        return
    constraint = pep440(str(req.specifier)) if req.specifier else Constraint()
    version_span = None
    written = constraint.exact or constraint.lower if constraint else None
    if written and at is None:
        match = re.search(r"(?:===|==|~=|>=|>)\s*(" + re.escape(written) + r")(?![\w.*])", line)
        if match is not None:
            version_span = Span(offset + match.start(1), offset + match.end(1))
    reader.add("pypi", req.name, constraint, offset if at is None else at, version_span,
               lock_free_pin=lock_free, via=via)


def read_requirements(reader: _Reader, text: str | None = None, depth: int = 0, base: PurePath | None = None,
                      at: int | None = None, via: str = "") -> None:
    text = reader.text if text is None else text
    from imds_lint.syntax.lines import logical_lines

    hashed = "--hash" in text
    for offset, line in logical_lines(text):
        option = _REQ_OPTION.match(line)
        if option is not None:
            _include(reader, option.group("file"), depth, base, offset if at is None else at)
        elif not line.lstrip().startswith(("#", "-")):
            _requirement(reader, line, offset, lock_free=not hashed and at is None, via=via, at=at)


def _include(reader: _Reader, name: str, depth: int, base: PurePath | None, at: int) -> None:
    """Follow ``-r``/``-c`` to a file the scan would not read as requirements itself."""
    origin = base or getattr(reader.session, "origin", None)
    project = getattr(reader.session, "project", None)
    if origin is None or project is None or depth >= _MAX_INCLUDE_DEPTH or "://" in name:
        return
    # Through the project index: a file outside the scan root is never read (nor named in a finding).
    resolved = project.relative_to(origin, name)
    if resolved is None:
        return
    target = PurePath(resolved)
    if manifest_kind(target) == Kind.REQUIREMENTS:
        return
    read = project.read(target, _MAX_INCLUDE_BYTES)
    if read is None:
        return
    read_requirements(reader, read.text, depth + 1, target, at=at, via=f"from {name}")


def _toml(reader: _Reader) -> dict | None:
    import tomllib

    try:
        return tomllib.loads(reader.text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        reader.problem(f"TOML syntax error: {exc}")
        return None


def _pep508_strings(reader: _Reader, items, lock_free: bool = False) -> None:
    """Requirement strings from a parsed table, located back in the text."""
    for item in items:
        if not isinstance(item, str):
            continue
        start = 0
        while True:
            position = reader.text.find(item, start)
            if position == -1:
                break
            start = position + 1
            # Only the quoted occurrence is the list entry.
            if position > 0 and reader.text[position - 1] in "\"'":
                _requirement(reader, item, position, lock_free=lock_free)
                break


def read_pyproject(reader: _Reader) -> None:
    data = _toml(reader)
    if data is None:
        return
    project = data.get("project") or {}
    lists = [project.get("dependencies") or []]
    lists += list((project.get("optional-dependencies") or {}).values())
    lists += [v for v in (data.get("dependency-groups") or {}).values() if isinstance(v, list)]
    for items in lists:
        if isinstance(items, list):
            _pep508_strings(reader, items)
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    tables += [(g or {}).get("dependencies") or {} for g in (poetry.get("group") or {}).values() if isinstance(g, dict)]
    for table in tables:
        _name_version_table(reader, table, "pypi", poetry_syntax=True)


def _name_version_table(reader: _Reader, table: dict, ecosystem: str, poetry_syntax: bool) -> None:
    """``name = "spec"`` / ``name = {version = "spec"}`` (Poetry, Pipfile)."""
    for name, value in table.items():
        if not isinstance(name, str) or lookup(ecosystem, name) is None:
            continue
        spec = value if isinstance(value, str) else (value.get("version") if isinstance(value, dict) else None)
        if not isinstance(spec, str):
            continue
        match = re.compile(r"^[ \t]*[\"']?" + re.escape(name) + r"[\"']?\s*=\s*(?:\{[^}\n]*?version\s*=\s*)?[\"'](?P<v>[^\"'\n]*)[\"']",
                           re.M | re.I).search(reader.text)
        at = match.start() if match else 0
        if poetry_syntax and not re.match(r"\s*(==|!=|<|>|~=)", spec):
            parsed = semver_range(spec, separator=",")
        else:
            parsed = (pep440(spec), None) if spec.strip() != "*" else (Constraint(), None)
        if parsed is None or parsed[0] is None:
            continue
        constraint, written = parsed
        written = written or constraint.exact or constraint.lower
        reader.add(ecosystem, name, constraint, at, reader.version_in(match, "v", written) if match else None)


def read_setup_cfg(reader: _Reader) -> None:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(reader.text)
    except configparser.Error as exc:
        reader.problem(f"setup.cfg syntax error: {exc.message}")
        return
    values = []
    if parser.has_option("options", "install_requires"):
        values.append(parser.get("options", "install_requires"))
    if parser.has_section("options.extras_require"):
        values += [v for _, v in parser.items("options.extras_require")]
    for value in values:
        _pep508_strings_plain(reader, [line.strip() for line in value.splitlines() if line.strip()])


def _pep508_strings_plain(reader: _Reader, items: list[str]) -> None:
    for item in items:
        position = reader.text.find(item)
        if position != -1:
            _requirement(reader, item, position, lock_free=False)


def read_pipfile(reader: _Reader) -> None:
    data = _toml(reader)
    if data is None:
        return
    for section in ("packages", "dev-packages"):
        table = data.get(section)
        if isinstance(table, dict):
            _name_version_table(reader, table, "pypi", poetry_syntax=False)


def _json(reader: _Reader):
    try:
        return json.loads(reader.text)
    except (json.JSONDecodeError, RecursionError) as exc:
        at = getattr(exc, "pos", 0) or 0
        reader.problem(f"JSON syntax error: {getattr(exc, 'msg', exc)}", min(at, len(reader.text)))
        return None


def read_pipfile_lock(reader: _Reader) -> None:
    data = _json(reader)
    if not isinstance(data, dict):
        return
    for section in ("default", "develop"):
        for name, entry in (data.get(section) or {}).items():
            version = entry.get("version") if isinstance(entry, dict) else None
            if not isinstance(version, str) or lookup("pypi", name) is None:
                continue
            key = reader.text.find(f'"{name}"')
            reader.add("pypi", name, pep440(version), max(key, 0), locked=True)


def read_toml_lock(reader: _Reader) -> None:
    """poetry.lock and uv.lock: ``[[package]]`` tables with name and version."""
    data = _toml(reader)
    if data is None:
        return
    for package in data.get("package") or []:
        if not isinstance(package, dict):
            continue
        name, version = package.get("name"), package.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or lookup("pypi", name) is None:
            continue
        match = re.search(r'^name = "' + re.escape(name) + r'"', reader.text, re.M)
        reader.add("pypi", name, Constraint(exact=version), match.start() if match else 0, locked=True)


# ---------------------------------------------------------------------------
# JavaScript


def read_package_json(reader: _Reader) -> None:
    data = _json(reader)
    if not isinstance(data, dict):
        return
    for section in ("dependencies", "devDependencies", "optionalDependencies"):
        table = data.get(section)
        if not isinstance(table, dict):
            continue
        anchor = reader.text.find(f'"{section}"')
        for name, spec in table.items():
            if not isinstance(spec, str) or lookup("npm", name) is None:
                continue
            match = reader.find_value(name, max(anchor, 0))
            parsed = semver_range(spec.removeprefix("npm:" + name + "@"))
            if parsed is None or match is None:
                continue
            constraint, written = parsed
            reader.add("npm", name, constraint, match.start(), reader.version_in(match, "v", written),
                       lock_free_pin=False)


def read_package_lock(reader: _Reader) -> None:
    data = _json(reader)
    if not isinstance(data, dict):
        return
    seen = set()
    for path, entry in (data.get("packages") or {}).items():
        name = path.rsplit("node_modules/", 1)[-1] if "node_modules/" in path else None
        if name and isinstance(entry, dict) and isinstance(entry.get("version"), str):
            _lock_entry(reader, name, entry["version"], f'"{path}"', seen)
    stack = [data.get("dependencies") or {}]
    while stack:
        table = stack.pop()
        if not isinstance(table, dict):
            continue
        for name, entry in table.items():
            if isinstance(entry, dict):
                if isinstance(entry.get("version"), str):
                    _lock_entry(reader, name, entry["version"], f'"{name}"', seen)
                stack.append(entry.get("dependencies") or {})


def _lock_entry(reader: _Reader, name: str, version: str, key: str, seen: set) -> None:
    if lookup("npm", name) is None or (name, version) in seen:
        return
    seen.add((name, version))
    position = reader.text.find(key)
    reader.add("npm", name, Constraint(exact=version), max(position, 0), locked=True)


_YARN_ENTRY = re.compile(r'^"?(?P<name>@?[^@\s"]+)@[^\n]*:\s*\n(?:[ \t]+[^\n]*\n)*?[ \t]+version:?\s+"?(?P<v>[^"\s]+)"?',
                         re.M)


def read_yarn_lock(reader: _Reader) -> None:
    # yarn.lock (v1) is not YAML and Berry's is; both share this entry shape.
    for match in _YARN_ENTRY.finditer(reader.text):
        name = match.group("name")
        if lookup("npm", name) is not None:
            reader.add("npm", name, Constraint(exact=match.group("v")), match.start(), locked=True)


def read_pnpm_lock(reader: _Reader) -> None:
    import yaml

    from imds_lint.frontends import yaml_nodes

    try:
        data = yaml_nodes.safe_load(reader.text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reader.problem(f"YAML syntax error: {getattr(exc, 'problem', exc)}", 0 if mark is None else mark.index)
        return
    if not isinstance(data, dict):
        return
    for key in data.get("packages") or {}:
        # /aws-sdk/2.600.0 (v5), /aws-sdk@2.600.0 (v6), aws-sdk@2.600.0 (v9); peers in (...) or _suffix.
        match = re.match(r"^/?(@?[^@/]+(?:/[^@/]+)?)[@/](\d[^(_\s]*)", str(key))
        if match is None or lookup("npm", match.group(1)) is None:
            continue
        position = reader.text.find(str(key))
        reader.add("npm", match.group(1), Constraint(exact=match.group(2)), max(position, 0), locked=True)


# ---------------------------------------------------------------------------
# Go


_GO_REQUIRE = re.compile(r"^(?P<lead>[ \t]*(?:require[ \t]+)?)(?P<module>github\.com/aws/aws-sdk-go(?:-v2)?)[ \t]+v(?P<v>\S+)",
                         re.M)


def read_go_mod(reader: _Reader) -> None:
    # go.mod is line-oriented: a require line is "module version" alone or in a require ( ) block.
    replaced = {m.group(1) for m in re.finditer(r"^\s*(?:replace\s+)?(\S+)(?:\s+v\S+)?\s*=>", reader.text, re.M)}
    for match in _GO_REQUIRE.finditer(reader.text):
        module = match.group("module")
        if module in replaced:
            continue
        version = match.group("v")
        reader.add("go", module, Constraint(exact=version), match.start("module"),
                   Span(match.start("v"), match.end("v")), lock_free_pin=False)


def read_go_sum(reader: _Reader) -> None:
    from imds_lint.versions import compare

    best: dict[str, tuple[str, int]] = {}
    for match in re.finditer(r"^(github\.com/aws/aws-sdk-go(?:-v2)?) v(\S+?) h1:", reader.text, re.M):
        # Only module zips (not "/go.mod" hashes) are built; MVS builds the highest.
        module, version = match.group(1), match.group(2)
        if module not in best or compare("go", version, best[module][0]) > 0:
            best[module] = (version, match.start())
    for module, (version, at) in best.items():
        reader.add("go", module, Constraint(exact=version), at, locked=True)


# ---------------------------------------------------------------------------
# Java


def read_pom(reader: _Reader) -> None:
    tree = parse_xml(reader)
    if tree is None:
        return
    properties: dict[str, tuple[str, Span]] = {}
    for element in tree:
        path = element.path
        if len(path) >= 2 and path[-2] == "properties" and element.text_span is not None:
            properties[path[-1]] = (element.text.strip(), _strip_span(reader.text, element.text_span))
    for element in tree:
        if element.path[-1] != "dependency" or element.path[-2] != "dependencies":
            continue
        fields = {child.path[-1]: child for child in tree if child.parent is element}
        group, artifact, version = (fields.get(k) for k in ("groupId", "artifactId", "version"))
        if group is None or artifact is None or version is None or version.text_span is None:
            continue
        package = f"{group.text.strip()}:{artifact.text.strip()}"
        written, span, via = version.text.strip(), _strip_span(reader.text, version.text_span), ""
        reference = re.fullmatch(r"\$\{([^}]+)\}", written)
        if reference is not None:
            if reference.group(1) not in properties:
                continue
            via = f"via ${{{reference.group(1)}}}"
            written, span = properties[reference.group(1)]
        parsed = interval(written)
        if parsed is None:
            continue
        constraint, bound = parsed
        reader.add("maven", package, constraint, element.start,
                   span if bound == written else None, via=via)


def _strip_span(text: str, span: Span) -> Span:
    value = text[span.start:span.end]
    lead = len(value) - len(value.lstrip())
    trail = len(value) - len(value.rstrip())
    return Span(span.start + lead, span.end - trail)


_COORDINATE = re.compile(
    r"(?P<q>[\"'])(?P<group>com\.amazonaws|software\.amazon\.awssdk):(?P<artifact>[\w.-]+):(?P<v>[^\"'@:\s]+)(?:@\w+)?(?P=q)")
_GRADLE_MAP = re.compile(
    r"group\s*[:=]\s*[\"'](?P<group>com\.amazonaws|software\.amazon\.awssdk)[\"']\s*,\s*"
    r"(?:module|name)\s*[:=]\s*[\"'](?P<artifact>[\w.-]+)[\"']\s*,\s*version\s*[:=]\s*[\"'](?P<v>[^\"']+)[\"']")
_GRADLE_VARIABLE = re.compile(r"\$\{?(?:project\.|rootProject\.)?(?:ext\.)?(?:extra\[\")?([A-Za-z_][\w.]*)")


def read_gradle(reader: _Reader) -> None:
    # Gradle scripts are programs; never run them. Dependency notation is plain strings.
    for regex in (_COORDINATE, _GRADLE_MAP):
        for match in regex.finditer(reader.text):
            written, span, via = match.group("v"), Span(match.start("v"), match.end("v")), ""
            variable = _GRADLE_VARIABLE.match(written)
            if variable is not None:
                definition = re.search(r"(?:\b(?:def|val|var)\s+|\bext\.|\bset\(\s*[\"'])" + re.escape(variable.group(1))
                                       + r"[\"']?\s*[=,]\s*[\"'](?P<v>[^\"'$]+)[\"']", reader.text)
                if definition is None:
                    definition = re.search(r"\b" + re.escape(variable.group(1)) + r"\s*=\s*[\"'](?P<v>[^\"'$]+)[\"']",
                                           reader.text)
                if definition is None:
                    continue
                via = f"via {variable.group(1)}"
                written, span = definition.group("v"), Span(definition.start("v"), definition.end("v"))
            parsed = interval(written.rstrip("!"))
            if parsed is None:
                continue
            reader.add("maven", f"{match.group('group')}:{match.group('artifact')}", parsed[0], match.start(),
                       span if parsed[1] == written else None, via=via)


def read_gradle_catalog(reader: _Reader) -> None:
    data = _toml(reader)
    if data is None:
        return
    versions = data.get("versions") or {}
    for alias, entry in (data.get("libraries") or {}).items():
        module = version = ref = None
        if isinstance(entry, str):
            parts = entry.split(":")
            if len(parts) == 3:
                module, version = ":".join(parts[:2]), parts[2]
        elif isinstance(entry, dict):
            module = entry.get("module") or (f"{entry.get('group')}:{entry.get('name')}" if entry.get("group") else None)
            version = entry.get("version")
            if isinstance(version, dict):
                ref = version.get("ref")
                version = version.get("strictly") or version.get("require") or version.get("prefer")
        if not isinstance(module, str) or lookup("maven", module) is None:
            continue
        entry_at = re.search(r"^\s*" + re.escape(alias) + r"\s*=", reader.text, re.M)
        at = entry_at.start() if entry_at else 0
        via, span = "", None
        if ref is not None:
            version = versions.get(ref)
            if isinstance(version, dict):
                version = version.get("strictly") or version.get("require")
            definition = re.search(r"^\s*[\"']?" + re.escape(ref) + r"[\"']?\s*=\s*(?:\{[^}\n]*?=\s*)?[\"'](?P<v>[^\"']+)[\"']",
                                   reader.text, re.M)
            via = f"via versions.{ref}"
            if definition is not None and definition.group("v") == version:
                span = Span(definition.start("v"), definition.end("v"))
        elif isinstance(version, str) and entry_at is not None:
            line = line_span(reader.text, at)
            position = reader.text.find(version, line.start, line.end)
            span = Span(position, position + len(version)) if position != -1 else None
        if not isinstance(version, str):
            continue
        parsed = interval(version)
        if parsed is not None:
            reader.add("maven", module, parsed[0], at, span if parsed[1] == version else None, via=via)


# ---------------------------------------------------------------------------
# Ruby, PHP, .NET


def read_gemfile_lock(reader: _Reader) -> None:
    for match in re.finditer(r"^    (?P<name>[\w.-]+) \((?P<v>[^)\s-]+)(?:-[\w-]+)?\)\s*$", reader.text, re.M):
        reader.add("rubygems", match.group("name"), Constraint(exact=match.group("v")), match.start("name"), locked=True)


def read_composer_lock(reader: _Reader) -> None:
    data = _json(reader)
    if not isinstance(data, dict):
        return
    for section in ("packages", "packages-dev"):
        for package in data.get(section) or []:
            if not isinstance(package, dict):
                continue
            name, version = package.get("name"), package.get("version")
            if not isinstance(name, str) or not isinstance(version, str) or lookup("packagist", name) is None:
                continue
            at = reader.text.find(f'"name": "{name}"')
            reader.add("packagist", name, Constraint(exact=version.lstrip("v")), max(at, 0), locked=True)


def read_msbuild(reader: _Reader) -> None:
    tree = parse_xml(reader)
    if tree is None:
        return
    for element in tree:
        tag = element.path[-1]
        if tag not in ("PackageReference", "PackageVersion", "package"):
            continue
        name = element.attrs.get("Include") or element.attrs.get("Update") or element.attrs.get("id")
        if not name:
            continue
        version, span = element.attrs.get("Version") or element.attrs.get("version"), None
        if version is not None:
            span = _attribute_span(reader.text, element, version)
        else:
            child = next((c for c in tree if c.parent is element and c.path[-1] == "Version"), None)
            if child is None or child.text_span is None:
                continue
            version, span = child.text.strip(), _strip_span(reader.text, child.text_span)
        # NuGet resolves the lowest version a range admits, so a bare or bracketed lower bound is what gets installed.
        parsed = interval(version)
        if parsed is None:
            continue
        constraint, written = parsed
        if constraint.lower is not None:
            constraint = Constraint(exact=constraint.lower)
        reader.add("nuget", name, constraint, element.start, span if written else None,
                   lock_free_pin=False)


def _attribute_span(text: str, element, value: str) -> Span | None:
    window = text[element.start:element.start_tag_end]
    match = re.search(r"\b[Vv]ersion\s*=\s*[\"'](" + re.escape(value) + r")[\"']", window)
    if match is None:
        return None
    inner = re.search(r"[\d]", match.group(1))
    offset = element.start + match.start(1)
    if inner is not None and match.group(1).startswith("["):
        version = match.group(1).strip("[]() ").split(",")[0]
        start = offset + match.group(1).find(version)
        return Span(start, start + len(version))
    return Span(offset, offset + len(value))


# ---------------------------------------------------------------------------
# XML without DTDs or entities (the classic expansion attacks), with positions.


class _Element:
    __slots__ = ("path", "attrs", "parent", "start", "start_tag_end", "text", "text_span")

    def __init__(self, path, attrs, parent, start):
        self.path, self.attrs, self.parent, self.start = path, attrs, parent, start
        self.start_tag_end = start
        self.text, self.text_span = "", None


class _Forbidden(Exception):
    pass


def parse_xml(reader: _Reader) -> list[_Element] | None:
    """Elements in document order with character offsets; None (and a problem) if not well formed."""
    from xml.parsers import expat

    text = reader.text
    data = text.encode("utf-8")
    ascii_only = len(data) == len(text)
    char_at = (lambda b: b) if ascii_only else (lambda b: len(data[:b].decode("utf-8", "replace")))
    parser = expat.ParserCreate(encoding="UTF-8")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    elements: list[_Element] = []
    stack: list[_Element] = []

    def forbid(*_args):
        raise _Forbidden(char_at(parser.CurrentByteIndex))

    def start(tag, attrs):
        local = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
        parent = stack[-1] if stack else None
        element = _Element((parent.path if parent else ()) + (local,), attrs, parent, char_at(parser.CurrentByteIndex))
        elements.append(element)
        stack.append(element)

    def end(_tag):
        stack.pop()

    def chars(value):
        if not stack:
            return
        element = stack[-1]
        position = char_at(parser.CurrentByteIndex)
        if element.text_span is None:
            element.text_span = Span(position, position + len(value))
        else:
            element.text_span = Span(element.text_span.start, position + len(value))
        element.text += value

    parser.StartDoctypeDeclHandler = forbid
    parser.EntityDeclHandler = forbid
    parser.ExternalEntityRefHandler = forbid
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.buffer_text = False
    try:
        parser.Parse(data, True)
    except _Forbidden as exc:
        reader.problem("XML with a DTD or entity declarations is not read (entity expansion is refused)",
                       min(exc.args[0], len(text)) if exc.args and isinstance(exc.args[0], int) else 0)
        return None
    except expat.ExpatError as exc:
        line_start = sum(len(line) for line in text.splitlines(keepends=True)[:max(exc.lineno - 1, 0)])
        reader.problem(f"XML syntax error: {expat.ErrorString(exc.code)}", min(line_start, len(text)))
        return None
    for element in elements:
        close = text.find(">", element.start)
        element.start_tag_end = len(text) if close == -1 else close + 1
    return elements


# ---------------------------------------------------------------------------


_READERS = {
    Kind.REQUIREMENTS: read_requirements,
    Kind.PYPROJECT: read_pyproject,
    Kind.SETUP_CFG: read_setup_cfg,
    Kind.PIPFILE: read_pipfile,
    Kind.PIPFILE_LOCK: read_pipfile_lock,
    Kind.POETRY_LOCK: read_toml_lock,
    Kind.UV_LOCK: read_toml_lock,
    Kind.PACKAGE_JSON: read_package_json,
    Kind.PACKAGE_LOCK: read_package_lock,
    Kind.YARN_LOCK: read_yarn_lock,
    Kind.PNPM_LOCK: read_pnpm_lock,
    Kind.GO_MOD: read_go_mod,
    Kind.GO_SUM: read_go_sum,
    Kind.POM: read_pom,
    Kind.GRADLE: read_gradle,
    Kind.GRADLE_CATALOG: read_gradle_catalog,
    Kind.GEMFILE_LOCK: read_gemfile_lock,
    Kind.COMPOSER_LOCK: read_composer_lock,
    Kind.MSBUILD: read_msbuild,
    Kind.PACKAGES_CONFIG: read_msbuild,
}


def analyze(document: Document, session) -> list[Analysis]:
    reader = _Reader(document, session)
    read = _READERS.get(document.kind)
    if read is not None:
        read(reader)
    return [reader.analysis]
