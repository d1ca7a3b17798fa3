"""Dockerfile front-end (Dockerfile, Containerfile, *.dockerfile; multi-stage) via tree-sitter-dockerfile.

The grammar gives the instruction structure; the bodies of ``RUN``, ``CMD``,
``ENTRYPOINT`` and ``HEALTHCHECK`` are handed to the shell (or, after a
PowerShell ``SHELL``, the PowerShell) front-end as embedded documents that
carry a ``ContainerContext``: everything they run runs in a container. Exec-form
arrays are read too: ``["sh", "-c", "..."]`` is a script, ``["curl", ...]`` an
argv.

Line continuations use the escape directive's character. The embedded script
keeps each continuation as its own language's continuation of the same length,
so offsets map one to one, and a newline that a fix inserts goes back out as
``; <escape>`` plus a newline, which keeps the instruction one instruction.

It also answers, for the engine, which other files of the repo a Dockerfile
copies into its image and runs (``container_context``): a documented heuristic,
see that function.
"""

from __future__ import annotations

import fnmatch
import json
import re
import warnings
from functools import lru_cache
from pathlib import PurePath, PurePosixPath

from imds_lint.records import dataclass
from imds_lint.syntax.treesitter import parse_within
from imds_lint.syntax.treesitter import walk as _walk
from imds_lint.frontends import Analysis, ParseProblem, dockerfiles_near
from imds_lint.syntax.treesitter import ByteOffsets as _Offsets
from imds_lint.clients import Arg, parse_argv, program_name, requests_for
from imds_lint.kinds import Kind
from imds_lint.model import ContainerContext, Document, OffsetMap, Request, Segment, Span, merge_segments

_DIRECTIVE = re.compile(r"^#\s*escape\s*=\s*([\\`])\s*$", re.I)
_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox"}
_POWERSHELLS = {"powershell", "powershell.exe", "pwsh", "pwsh.exe"}
_BODY_INSTRUCTIONS = {
    "run_instruction": "RUN",
    "cmd_instruction": "CMD",
    "entrypoint_instruction": "ENTRYPOINT",
}
_DEFAULT_SHELL = ("/bin/sh", "-c")


@lru_cache(maxsize=1)
def _parser():
    from imds_lint.syntax.treesitter import core, grammar

    tree_sitter = core()

    with warnings.catch_warnings():
        # tree-sitter-dockerfile 0.2 hands the language over as an int pointer.
        warnings.simplefilter("ignore", DeprecationWarning)
        language = tree_sitter.Language(grammar("tree_sitter_dockerfile"))
    return tree_sitter.Parser(language)


def escape_character(text: str) -> str:
    """The escape directive's character (``\\`` unless a leading ``# escape=`` says otherwise)."""
    for line in text.lstrip("\ufeff").splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        match = _DIRECTIVE.match(stripped)
        if match:
            return match.group(1)
        if "=" not in stripped:
            break  # a plain comment ends the directives
    return "\\"


def parse(text: str, escape: str):
    """Parse; with a backtick escape, continuations are shown to the grammar (which knows
    only backslashes) as backslashes, and stray backslashes before newlines hidden, both
    without changing a single offset."""
    src = text.encode("utf-8", "surrogatepass")
    if escape == "`":
        src = re.sub(rb"\\(\r?\n)", rb"/\1", src)
        src = re.sub(rb"`(\r?\n)", rb"\\\1", src)
    # The grammar wants every instruction to end in a newline; Docker does not (a file
    # saved without a final one is common). The extra byte is past every real offset.
    parse_src = src if src.endswith(b"\n") or not src else src + b"\n"
    return parse_within(_parser(), parse_src), src


@dataclass(frozen=True)
class CopiedFile:
    """A ``COPY``/``ADD`` from the build context (a fact for rules and for ``container_context``)."""

    sources: tuple[str, ...]
    destination: str
    line: int
    stage: str


@dataclass(frozen=True)
class Executes:
    """A program an instruction runs: ``ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]``."""

    instruction: str
    program: str
    line: int
    network: str


class _Reader:
    def __init__(self, document: Document, session):
        self.document = document
        self.session = session
        self.text = document.text
        self.escape = escape_character(self.text)
        self.tree, self.src = parse(self.text, self.escape)
        self.char = _Offsets(self.text, self.src).char
        self.analysis = Analysis(document)
        self.children: list[Analysis] = []
        self.shell: tuple[str, ...] = _DEFAULT_SHELL
        self.stage = ""

    def span(self, node) -> Span:
        return Span(self.char(node.start_byte), self.char(node.end_byte))

    def node_text(self, node) -> str:
        span = self.span(node)
        return self.text[span.start:span.end]

    def line(self, node) -> int:
        return node.start_point[0] + 1

    @property
    def where(self) -> str:
        path = self.document.root.path or "Dockerfile"
        if self.stage:
            return f"{path} (stage {self.stage})"
        return path

    def read(self) -> list[Analysis]:
        root = self.tree.root_node
        for node in root.named_children:
            kind = node.type
            if kind == "from_instruction":
                alias = next((c for c in node.named_children if c.type == "image_alias"), None)
                self.stage = self.node_text(alias) if alias is not None else ""
                self.shell = _DEFAULT_SHELL
            elif kind == "shell_instruction":
                array = _child(node, "json_string_array")
                if array is not None:
                    self.shell = tuple(_json_value(self.node_text(s)) for s in _strings(array))
            elif kind in _BODY_INSTRUCTIONS:
                self.body(node, _BODY_INSTRUCTIONS[kind], self.network(node))
            elif kind == "healthcheck_instruction":
                inner = _child(node, "cmd_instruction")
                if inner is not None:
                    self.body(inner, "HEALTHCHECK", "bridge")
            elif kind in ("copy_instruction", "add_instruction"):
                self.copy(node)
        if root.has_error:
            for node in _walk(root):
                if node.type == "ERROR" or node.is_missing:
                    self.analysis.problems.append(ParseProblem(
                        self.span(node), "the Dockerfile grammar could not parse this"))
                    break
        return [self.analysis, *self.children]

    def network(self, node) -> str:
        if node.type != "run_instruction":
            return "bridge"
        for param in (c for c in node.named_children if c.type == "param"):
            name, _, value = self.node_text(param).lstrip("-").partition("=")
            if name == "network":
                return {"host": "host", "none": "none"}.get(value, "build")
        return "build"

    def context(self, instruction: str, network: str) -> ContainerContext:
        if instruction == "RUN":
            return ContainerContext(f"runs at build time in RUN of {self.where}", network)
        described = f"runs in container image {self.where} via {instruction}"
        # A compose service that builds this image decides where it runs.
        built_for = self.document.root.container
        if built_for is not None:
            return ContainerContext(f"{described}, {built_for.description}", built_for.network)
        return ContainerContext(described, network)

    # -- bodies ----------------------------------------------------------------
    def body(self, node, instruction: str, network: str) -> None:
        context = self.context(instruction, network)
        array = _child(node, "json_string_array")
        if array is not None:
            self.exec_form(array, instruction, context)
            return
        command = _child(node, "shell_command")
        if command is None:
            return
        heredocs = [c for c in node.named_children if c.type == "heredoc_block"]
        kind = Kind.POWERSHELL if _program(self.shell[0] if self.shell else "") in _POWERSHELLS else Kind.SHELL
        start, end = self.span(command).start, self.span(node).end
        first_line = self.text[start:self.span(command).end]
        if heredocs and not re.sub(r"<<-?\s*['\"]?\w+['\"]?", "", first_line).strip(" &;\t"):
            # RUN <<EOF alone: each heredoc body is a script of its own.
            for block in heredocs:
                self.heredoc(block, kind, context)
            return
        # Otherwise the body (with any heredocs, which the shell reads itself) is one script.
        self.shell_form(start, end, kind, context, instruction)
        self.note_program(self.text[start:end], instruction, node, network)

    def shell_form(self, start: int, end: int, kind: str, context: ContainerContext, instruction: str) -> None:
        inner, segments = _join_continuations(self.text, start, end, self.escape, kind)
        continuation = "`" if self.escape == "`" else "\\"
        # A cmd.exe SHELL reads simple commands like sh, but a POSIX token fetch would not run there.
        posix = kind != Kind.SHELL or not self.shell or _program(self.shell[0]) in _SHELLS
        document = self.document.embed(
            kind, inner, OffsetMap(segments), escape=_newline_escape(continuation),
            label=f"{instruction} instruction", container=context, writable=posix,
        )
        self.children.extend(self.session.analyze(document))

    def heredoc(self, block, kind: str, context: ContainerContext) -> None:
        lines = [c for c in block.named_children if c.type == "heredoc_line"]
        if not lines:
            return
        start, end = self.span(lines[0]).start, self.span(lines[-1]).end
        body = self.text[start:end] + "\n"
        document = self.document.embed(
            kind, body, OffsetMap([Segment(0, end - start, start, end), Segment(end - start, len(body), end, end)]),
            label="RUN heredoc", container=context,
        )
        self.children.extend(self.session.analyze(document))

    def exec_form(self, array, instruction: str, context: ContainerContext) -> None:
        strings = _strings(array)
        values = [_json_value(self.node_text(s)) for s in strings]
        if not values:
            return
        program = _program(values[0])
        script_index = None
        if program in _SHELLS:
            script_index = next((i + 1 for i, v in enumerate(values[1:], 1) if v.startswith("-") and v.endswith("c")), None)
        elif program in _POWERSHELLS:
            script_index = next((i + 1 for i, v in enumerate(values[1:], 1)
                                 if v.lower() in ("-command", "-c")), None)
        if script_index is not None and script_index < len(strings):
            node = strings[script_index]
            kind = Kind.POWERSHELL if program in _POWERSHELLS else Kind.SHELL
            inner, segments = _json_document(self.text, self.span(node))
            # Labelled like `bash -c '...'` so a fix keeps the script on one line.
            document = self.document.embed(kind, inner, OffsetMap(segments), escape=_json_escape,
                                           label="shell string", container=context)
            self.children.extend(self.session.analyze(document))
            self.note_program(inner, instruction, array, context.network)
            return
        self.analysis.add_fact("executes", Executes(instruction, values[0], self.line(array), context.network))
        if parse_argv(program_name(program), []) is not None:
            args = [Arg(v, self.span(s)) for v, s in zip(values[1:], strings[1:])]
            self.analysis.requests.extend(
                argv_requests(self.document, program, args, self.span(array), self.span(strings[0]), context))

    def note_program(self, script: str, instruction: str, node, network: str) -> None:
        """Record the commands a shell-form body runs, for ``container_context``."""
        for word in re.findall(r"(?:^|[\s;&|(])((?:\.{0,2}/)?[\w./-]+\.(?:sh|bash|py|ps1|rb|pl|js))\b", script):
            self.analysis.add_fact("executes", Executes(instruction, word, self.line(node), network))

    def copy(self, node) -> None:
        if any(self.node_text(p).startswith("--from") for p in node.named_children if p.type == "param"):
            return  # from another stage or image, not from the repo
        array = _child(node, "json_string_array")
        if array is not None:
            paths = [_json_value(self.node_text(s)) for s in _strings(array)]
        else:
            paths = [self.node_text(p) for p in node.named_children if p.type == "path"]
        if len(paths) < 2:
            return
        sources = tuple(p for p in paths[:-1] if "://" not in p)
        if sources:
            self.analysis.add_fact("copies", CopiedFile(sources, paths[-1], self.line(node), self.stage))


def argv_requests(document: Document, program: str, args: list[Arg], span: Span, anchor: Span,
                  context: ContainerContext | None) -> list[Request]:
    """Requests of a client's argv given as a list (exec form, YAML and JSON arrays)."""
    call = parse_argv(program_name(program), args)
    return [] if call is None else requests_for(call, document, span, anchor, context)


def _child(node, kind: str):
    return next((c for c in node.named_children if c.type == kind), None)


def _strings(array) -> list:
    return [c for c in array.named_children if c.type == "json_string"]


def _json_value(source: str) -> str:
    try:
        value = json.loads(source)
    except ValueError:
        return source.strip('"')
    return value if isinstance(value, str) else source


def _program(word: str) -> str:
    return re.split(r"[/\\]", word)[-1].lower()


def _join_continuations(text: str, start: int, end: int, escape: str, kind: str) -> tuple[str, list[Segment]]:
    """The body of a shell-form instruction as one script, with segments back to ``text``.

    Each ``<escape><newline>`` becomes the embedded language's own continuation of
    the same length; comment and blank lines inside a continued instruction are
    dropped, as Docker drops them.
    """
    target = "`" if kind == Kind.POWERSHELL else "\\"
    pieces: list[str] = []
    segments: list[Segment] = []
    inner_len = 0
    position = start
    continued = False
    for line in text[start:end].splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if continued and (not body.strip() or body.lstrip().startswith("#")):
            position += len(line)
            continue
        newline = line[len(body):]
        content = line
        continued = bool(newline) and body.endswith(escape)
        if continued:
            content = body[:-1] + target + newline
        pieces.append(content)
        segments.append(Segment(inner_len, inner_len + len(content), position, position + len(content)))
        inner_len += len(content)
        position += len(line)
    return "".join(pieces), segments


def _newline_escape(continuation: str):
    """Text inserted into an instruction body: a new line becomes ``; <continuation>``."""

    def escape(content: str) -> str:
        if "\n" not in content:
            return content
        lines = content.split("\n")
        return f"; {continuation}\n    ".join(line.rstrip("\r") for line in lines[:-1]) + f"; {continuation}\n    " + lines[-1]

    return escape


def _json_document(text: str, span: Span) -> tuple[str, list[Segment]]:
    """The value of a JSON string literal at ``span``, with one segment per character."""
    source = text[span.start:span.end]
    chars: list[str] = []
    segments: list[Segment] = []
    i = 1
    simple = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
    while i < len(source) - 1:
        ch = source[i]
        width = 1
        if ch == "\\" and i + 1 < len(source) - 1:
            nxt = source[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", source[i + 2:i + 6]):
                ch, width = chr(int(source[i + 2:i + 6], 16)), 6
            elif nxt in simple:
                ch, width = simple[nxt], 2
        segments.append(Segment(len(chars), len(chars) + 1, span.start + i, span.start + i + width))
        chars.append(ch)
        i += width
    return "".join(chars), merge_segments(segments)


def _json_escape(content: str) -> str:
    return json.dumps(content, ensure_ascii=False)[1:-1]


def analyze(document: Document, session) -> list[Analysis]:
    return _Reader(document, session).read()


def syntax_errors(text: str) -> int:
    tree, _ = parse(text, escape_character(text))
    if not tree.root_node.has_error:
        return 0
    return sum(1 for n in _walk(tree.root_node) if n.type == "ERROR" or n.is_missing)


# ---------------------------------------------------------------------------
# Which files of the repo run in a container.



class _NullSession:
    def analyze(self, document: Document) -> list[Analysis]:
        return []


# Facts of a Dockerfile, by the project index's key for its text (changes with the file).
_FACTS: dict[tuple, tuple[tuple[CopiedFile, ...], tuple[Executes, ...]]] = {}


def _facts(read) -> tuple[tuple[CopiedFile, ...], tuple[Executes, ...]]:
    found = _FACTS.get(read.key)
    if found is None:
        analysis = _Reader(Document(Kind.DOCKERFILE, read.text), _NullSession()).read()[0]
        found = tuple(analysis.facts.get("copies", ())), tuple(analysis.facts.get("executes", ()))
        if len(_FACTS) >= 256:
            _FACTS.pop(next(iter(_FACTS)))
        _FACTS[read.key] = found
    return found


def container_context(path: PurePath, project) -> ContainerContext | None:
    """The container a repo file runs in, when a Dockerfile near it copies and runs it.

    Heuristic (documented in IMDS201): the build context is taken to be the
    Dockerfile's folder (or one of its parents, up to the scan root and at most
    six levels up). A file counts as running in the image when a ``COPY``/``ADD``
    (not ``--from`` another stage) names it, or a folder holding it, and an
    ``ENTRYPOINT``, ``CMD`` or ``RUN`` runs it by name (its copied path or file
    name). A script that ``RUN`` executes runs on the build network. Scripts
    copied but never run by name are not flagged: ``COPY . /app`` alone says
    nothing about which files run.
    """
    real = project.inside(path) if project is not None else None
    if real is None:
        return None
    path, root = PurePath(real), PurePath(project.root_of(real))
    for dockerfile in dockerfiles_near(path, project):
        if project.inside(dockerfile) == real:
            continue
        found = _match(PurePath(dockerfile), project.read(dockerfile), path, root)
        if found is not None:
            return _image_run(found, dockerfile, project)
    return None


def _image_run(found: ContainerContext, dockerfile: str, project) -> ContainerContext:
    """A script the image runs (by CMD/ENTRYPOINT, not RUN) runs where the image is run."""
    if found.network == "build":
        return found
    from imds_lint.frontends import runners

    runner = runners.container_context(dockerfile, project)
    if runner is None:
        return found
    return ContainerContext(f"{found.description}, {runner.description}", runner.network)


def _match(dockerfile: PurePath, read, path: PurePath, root: PurePath) -> ContainerContext | None:
    if read is None:
        return None
    copies, executes = _facts(read)
    relative = PurePosixPath(path.relative_to(dockerfile.parent).as_posix())
    for copied in copies:
        for source in copied.sources:
            source = source.lstrip("./") or "."
            destination = _destination(copied, source, relative)
            if destination is None:
                continue
            for run in executes:
                if _same_program(run.program, destination, relative.name):
                    try:
                        shown = dockerfile.relative_to(root).as_posix()
                    except ValueError:
                        shown = dockerfile.name
                    stage = f" (stage {copied.stage})" if copied.stage else ""
                    if run.instruction == "RUN":
                        what = f"runs at build time in RUN of {shown}{stage}"
                    else:
                        what = f"runs in container image {shown}{stage} via {run.instruction}"
                    return ContainerContext(f"{what}; copied by COPY at line {copied.line}", run.network)
    return None


def _destination(copied: CopiedFile, source: str, relative: PurePosixPath) -> str | None:
    """Where ``relative`` lands in the image if ``source`` copies it, else None."""
    text = relative.as_posix()
    dest = copied.destination
    if source == "." or text.startswith(source.rstrip("/") + "/"):
        inner = text if source == "." else text[len(source.rstrip("/")) + 1:]
        return f"{dest.rstrip('/')}/{inner}"
    if source == text or fnmatch.fnmatch(text, source):
        if dest.endswith("/") or len(copied.sources) > 1:
            return f"{dest}{relative.name}" if dest.endswith("/") else f"{dest}/{relative.name}"
        return dest
    return None


def _same_program(program: str, destination: str, name: str) -> bool:
    program = program.strip("'\"")
    if program == destination or program.rsplit("/", 1)[-1] == name:
        return True
    return PurePosixPath(program).name == PurePosixPath(destination).name == name
