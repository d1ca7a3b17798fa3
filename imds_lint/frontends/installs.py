"""Install commands as dependency facts: ``pip install awscli==1.16.0``, ``apt-get install
cloud-utils=0.31-0ubuntu1``, ``Install-Module AWSPowerShell -RequiredVersion 3.3.0``...

Front-ends hand over an argv (each word with the span of its literal text when
the source spells it out); this module knows the installers, not the languages.
The shell front-end calls ``record_command`` for each command it resolves; the
text fallback calls ``scan_lines`` so Dockerfiles, PowerShell and user-data get
the same facts before they have front-ends of their own.
"""

from __future__ import annotations

import re

from imds_lint.model import Span
from imds_lint.patterns import lazy
from imds_lint.records import dataclass, replace

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from imds_lint.dependencies import Constraint, DependencyFact

# The dependency and version models load with the first command that names a package they know
# (most install commands in scripts name none: apt-get install -y nginx jq).


@dataclass(frozen=True, slots=True)
class Word:
    value: str
    # Where ``value`` is written verbatim, when it is.
    span: Span | None = None


_PIP_VALUE_OPTIONS = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
                      "--extra-index-url", "-t", "--target", "--prefix", "--root", "-f", "--find-links",
                      "--platform", "--python-version", "--upgrade-strategy", "--trusted-host", "--cache-dir",
                      "--src", "--progress-bar", "--implementation", "--abi", "--only-binary", "--no-binary",
                      "--python", "--index"}
_NPM_INSTALL = {"install", "i", "add", "isntall", "ci"}
PROGRAMS = {"pip", "pip3", "pipx", "uv", "npm", "yarn", "pnpm", "gem", "apt", "apt-get", "aptitude", "yum", "dnf",
            "microdnf", "zypper", "install-module", "install-package", "save-module", "update-module", "python",
            "python3"}
_DEB = ("cloud-utils", "cloud-image-utils", "datadog-agent")
_RPM = ("ec2-utils", "amazon-ec2-net-utils", "datadog-agent")


def is_installer(program: str) -> bool:
    program = program.lower()
    return program in PROGRAMS or re.fullmatch(r"pip\d(\.\d+)?|python\d(\.\d+)?", program) is not None


def record_command(analysis, text: str, program: str, args: list[Word], at: Span) -> None:
    """Facts for one command; ``at`` is the command's span in ``analysis.document``."""
    program = program.lower()
    values = [a.value for a in args]
    if program.startswith("python") and values[:2] == ["-m", "pip"]:
        program, args, values = "pip", args[2:], values[2:]
    if program == "uv" and values[:1] == ["pip"]:
        program, args, values = "pip", args[1:], values[1:]
    facts: list[DependencyFact] = []
    if re.fullmatch(r"pip\d?(\.\d+)?|pipx", program) and values[:1] == ["install"]:
        facts = _pip(text, args[1:], at)
    elif program in ("npm", "yarn", "pnpm") and values[:1] and values[0] in _NPM_INSTALL:
        facts = _npm(text, args[1:], at)
    elif program == "gem" and values[:1] == ["install"]:
        facts = _gem(text, args[1:], at)
    elif program in ("apt", "apt-get", "aptitude") and "install" in values:
        facts = _system(text, args, at, "=", _DEB, "deb")
    elif program in ("yum", "dnf", "microdnf", "zypper") and "install" in values:
        facts = _system(text, args, at, "-", _RPM, "rpm")
    elif program in ("install-module", "install-package", "save-module", "update-module"):
        facts = _powershell(text, args, at)
    if not facts:
        return
    from imds_lint.dependencies import FACT

    prefers = prefers_imdsv2(text)
    for fact in facts:
        if fact.ecosystem == "datadog" and prefers:
            fact = _with(fact, prefers_imdsv2=True)
        analysis.add_fact(FACT, fact)


def _with(fact: DependencyFact, **changes) -> DependencyFact:
    return replace(fact, **changes)


def _fact(text: str, ecosystem: str, package: str, constraint: Constraint | None, word: Word, at: Span,
          written: str | None, **extra) -> DependencyFact | None:
    from imds_lint.dependencies import DependencyFact, line_span
    from imds_lint.versions import lookup

    if constraint is None or lookup(ecosystem, package) is None:
        return None
    version_span = None
    if written and word.span is not None:
        first = word.value.find(written)
        if first != -1 and word.value.find(written, first + 1) == -1:
            version_span = Span(word.span.start + first, word.span.start + first + len(written))
    # The word itself, so two pins in one command are two findings.
    span = word.span if word.span is not None else line_span(text, at.start)
    return DependencyFact(ecosystem, package, constraint, span,
                          version_span, manifest="install command", **extra)


def _operands(args: list[Word], value_options: set[str]):
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg.value.startswith("-"):
            skip = arg.value in value_options
            continue
        yield arg


def _pip(text: str, args: list[Word], at: Span) -> list[DependencyFact]:
    from packaging.requirements import InvalidRequirement, Requirement

    from imds_lint.dependencies import Constraint, pep440

    facts = []
    for arg in _operands(args, _PIP_VALUE_OPTIONS):
        try:
            req = Requirement(arg.value)
        except InvalidRequirement:
            continue
        constraint = pep440(str(req.specifier)) if req.specifier else Constraint()
        written = constraint.exact or constraint.lower if constraint else None
        fact = _fact(text, "pypi", req.name, constraint, arg, at, written, lock_free_pin=True)
        if fact is not None:
            facts.append(fact)
    return facts


def _npm(text: str, args: list[Word], at: Span) -> list[DependencyFact]:
    from imds_lint.dependencies import semver_range

    facts = []
    for arg in _operands(args, {"--registry", "--prefix", "-w", "--workspace", "--tag"}):
        name, at_sign, spec = arg.value.rpartition("@")
        if not at_sign or not name:
            continue
        parsed = semver_range(spec)
        if parsed is None:
            continue
        fact = _fact(text, "npm", name, parsed[0], arg, at, parsed[1])
        if fact is not None:
            facts.append(fact)
    return facts


def _gem(text: str, args: list[Word], at: Span) -> list[DependencyFact]:
    from imds_lint.dependencies import semver_range

    facts, names = [], []
    version_word = None
    for i, arg in enumerate(args):
        if arg.value in ("-v", "--version") and i + 1 < len(args):
            version_word = args[i + 1]
        elif not arg.value.startswith("-") and (i == 0 or args[i - 1].value not in ("-v", "--version")):
            names.append(arg)
    for name in names:
        package, _, pinned = name.value.partition(":")
        word, spec = (name, pinned) if pinned else (version_word, version_word.value if version_word else "")
        if not spec or word is None:
            continue
        parsed = semver_range(spec.replace("~>", "~> ").replace("~>  ", "~> "))
        if parsed is None:
            continue
        fact = _fact(text, "rubygems", package, parsed[0], word, at, parsed[1])
        if fact is not None:
            facts.append(fact)
    return facts


def _system(text: str, args: list[Word], at: Span, separator: str, names: tuple[str, ...],
            ecosystem: str) -> list[DependencyFact]:
    facts = []
    for arg in args:
        for name in names:
            prefix = name + separator
            if not arg.value.startswith(prefix) or not arg.value[len(prefix):][:1].isdigit():
                continue
            version = arg.value[len(prefix):]
            if ecosystem == "rpm":
                version = re.sub(r"\.(?:amzn|el|fc|x86_64|aarch64|noarch)[\w.]*$", "", version)
            eco = "datadog" if name == "datadog-agent" else ecosystem
            from imds_lint.dependencies import Constraint

            fact = _fact(text, eco, name, Constraint(exact=version), arg, at, None)
            if fact is not None:
                facts.append(fact)
    return facts


def _powershell(text: str, args: list[Word], at: Span) -> list[DependencyFact]:
    from imds_lint.dependencies import interval

    options: dict[str, Word] = {}
    positional: list[Word] = []
    i = 0
    while i < len(args):
        value = args[i].value
        if value.startswith("-") and i + 1 < len(args) and not args[i + 1].value.startswith("-"):
            options[value.lower()] = args[i + 1]
            i += 2
            continue
        if not value.startswith("-"):
            positional.append(args[i])
        i += 1
    name_word = options.get("-name") or (positional[0] if positional else None)
    if name_word is None:
        return []
    facts = []
    for package in name_word.value.split(","):
        package = package.strip().strip("'\"")
        for option, exact in (("-requiredversion", True), ("-minimumversion", False)):
            word = options.get(option)
            if word is None:
                continue
            version = word.value.strip("'\"")
            parsed = interval(version, bare_is_exact=exact)
            if parsed is None:
                continue
            fact = _fact(text, "psgallery", package, parsed[0], word, at, version)
            if fact is not None:
                facts.append(fact)
    return facts


_PREFER = re.compile(r"ec2_prefer_imdsv2\s*[:=]\s*[\"']?true|DD_EC2_PREFER_IMDSV2\s*[:=]\s*[\"']?true", re.I)
_DD_MINOR = re.compile(r"\bDD_AGENT_MINOR_VERSION\s*=\s*[\"']?(?P<v>\d+(?:\.\d+)*)")
_DD_MAJOR = lazy(r"\bDD_AGENT_MAJOR_VERSION\s*=\s*[\"']?(?P<v>\d+)")


def prefers_imdsv2(text: str) -> bool:
    return _PREFER.search(text) is not None


def scan_datadog(analysis, text: str) -> None:
    """The Datadog install script's version pin: ``DD_AGENT_MINOR_VERSION=50.0``."""
    for match in _DD_MINOR.finditer(text):
        from imds_lint.dependencies import FACT, Constraint, DependencyFact, line_span

        major = _DD_MAJOR.search(text)
        version = f"{major.group('v') if major else '7'}.{match.group('v')}"
        analysis.add_fact(FACT, DependencyFact(
            "datadog", "datadog-agent", Constraint(exact=version), line_span(text, match.start()),
            manifest="Datadog install script", prefers_imdsv2=prefers_imdsv2(text)))


_LINE_SPLIT = lazy(r"&&|\|\||[;|]")
_WORD = lazy(r"\"[^\"]*\"|'[^']*'|\S+")


def scan_lines(analysis, text: str) -> None:
    """Install commands in text no parser read: a word split good enough for version pins."""
    from imds_lint.syntax.lines import logical_lines

    lowered = text.lower()  # then plain substring tests: a case-insensitive regex costs ~50x more
    if not any(word in lowered for word in ("install", "save-module", "update-module", "dd_agent")):
        return
    for offset, line in logical_lines(text):
        first_line_end = offset + len(text[offset:].split("\n", 1)[0])
        position = 0
        separators = list(_LINE_SPLIT.finditer(line))
        for separator in [*separators, None]:
            end = separator.start() if separator is not None else len(line)
            piece = line[position:end]
            words = []
            for match in _WORD.finditer(piece):
                start = offset + position + match.start()
                raw = match.group(0)
                quoted = raw[:1] in "\"'" and len(raw) > 1
                value = raw[1:-1] if quoted else raw
                inner = start + (1 if quoted else 0)
                exact = inner + len(value) <= first_line_end and text[inner:inner + len(value)] == value
                words.append(Word(value, Span(inner, inner + len(value)) if exact else None))
            position = separator.end() if separator is not None else len(line)
            for index, word in enumerate(words[:3]):
                program = word.value.rsplit("/", 1)[-1]
                if is_installer(program):
                    start = word.span.start if word.span else offset
                    record_command(analysis, text, program, words[index + 1:], Span(start, start))
                    break
    scan_datadog(analysis, text)
