"""Where the network mode is decided: docker-compose, Kubernetes manifests, ECS task definitions.

Each container's commands (compose ``command``/``entrypoint``/``healthcheck``;
Kubernetes ``command``/``args``, probes and lifecycle hooks; ECS ``entryPoint``/
``command``/``healthCheck``) become embedded shell documents, or argv requests
for a bare ``curl``/``wget`` list, carrying a ``ContainerContext`` with the
network the orchestrator gives the container.

YAML is read with PyYAML's safe composer, whose nodes keep their positions.
JSON has no positions in the standard library, so each command string is
located by its JSON spelling, searching forward from the previous one.

``emit_ecs_task`` is shared with the Terraform (``aws_ecs_task_definition``) and
CloudFormation (``AWS::ECS::TaskDefinition``) front-ends: they locate the words
of each container's ``entryPoint``/``command``/``healthCheck.command`` in their
own syntax and hand them over with the task's network mode.
"""

from __future__ import annotations

import json
import re

from imds_lint.frontends import Analysis
from imds_lint.frontends.dockerfile import argv_requests
# Task definitions and network modes are read alike where a task's containers are and where a
# Dockerfile's image is run from (frontends.runners).
from imds_lint.frontends.runners import ecs_network, task_definitions
from imds_lint.clients import Arg, lookup, program_name
from imds_lint.kinds import Kind
from imds_lint.model import ContainerContext, Document, OffsetMap, Segment, Span, no_escape
from imds_lint.records import dataclass, field

_SHELLS = {"sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"}
_WORKLOADS = {"Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob",
              "ReplicationController"}


class Word:
    """One command word: its value, and where and how it is written in the file."""

    def __init__(self, value: str, span: Span | None, literal_block: bool = False, indent: int = 0,
                 verbatim: bool = False, offsets: OffsetMap | None = None, escape=None, node=None,
                 quote: str = "'", dollars: bool = False):
        self.value = value
        self.span = span
        self.literal_block = literal_block
        self.indent = indent
        self.verbatim = verbatim
        # An exact map back to the source and the escaping that source needs (HCL strings).
        self.offsets = offsets
        self.escape = escape
        # A YAML scalar: written back through yaml_nodes (quoted in ``quote`` quotes if plain).
        self.node = node
        self.quote = quote
        # docker compose reads `$VAR` in the file itself: a `$` the shell should see is `$$` there.
        self.dollars = dollars


def _program(word: str) -> str:
    return re.split(r"[/\\]", word)[-1].lower()


def emit_command(parent: Document, session, analysis: Analysis, words: list[Word],
                 context: ContainerContext, children: list[Analysis], *, shell_string: bool = False,
                 argv_string: bool = False, sequence=None, shell_prefix: tuple[str, ...] = ("sh", "-c")) -> None:
    """Turn a container command into requests or embedded scripts.

    ``shell_string`` marks a single string that a shell runs (``CMD-SHELL``, a
    compose healthcheck string); ``argv_string`` one that is split into words
    and run without a shell (compose ``command: curl ...``): read as shell, but a
    fix there needs ``sh -c`` (see ``_embed``). ``sequence`` is the YAML list the
    words are (exec form), which a fix may rewrite as ``shell_prefix`` + script.
    """
    if not words:
        return
    if shell_string or argv_string:
        _embed(parent, session, words[0], context, children, argv=argv_string)
        return
    program = _program(words[0].value)
    if program in _SHELLS:
        for i, word in enumerate(words[1:-1], 1):
            if word.value.startswith("-") and word.value.endswith("c"):
                _embed(parent, session, words[i + 1], context, children)
                return
        return
    if lookup(program_name(program)) is not None:
        spans = [w.span for w in words if w.span is not None]
        if not spans:
            return
        if sequence is not None and all(w.node is not None for w in words):
            _exec_list(parent, session, words, sequence, context, children, shell_prefix)
            return
        whole = Span(spans[0].start, spans[-1].end)
        args = [Arg(w.value, w.span) for w in words[1:]]
        analysis.requests.extend(argv_requests(parent, program, args, whole, words[0].span or whole, context))


NO_SHELL = ("the container runs this command without a shell; the fix runs it through sh -c, "
            "which the image may lack")


def _embed(parent: Document, session, word: Word, context: ContainerContext, children: list[Analysis],
           argv: bool = False) -> None:
    if word.span is None:
        return
    if word.node is not None and not word.literal_block:
        from imds_lint.frontends import yaml_nodes

        document = yaml_nodes.scalar_document(parent, word.node, Kind.SHELL, "shell string", quote=word.quote,
                                              container=context)
        # A `$VAR` compose fills in from its environment: the command cannot be written back whole.
        interpolated = word.dollars and "$" in document.text.replace("$$", "")
        if word.dollars:
            document = _compose_dollars(document)
        if argv:
            document = _argv_string(document, rewrap=not interpolated)
        children.extend(session.analyze(document))
        return
    if word.offsets is not None:
        document = parent.embed(Kind.SHELL, word.value, word.offsets, label="shell string",
                                escape=word.escape or no_escape, container=context)
    elif word.literal_block:
        inner, segments = _literal_block(parent.text, word)
        indent = " " * word.indent
        document = parent.embed(Kind.SHELL, inner, OffsetMap(segments), label="YAML block",
                                escape=lambda s: s.replace("\n", "\n" + indent), container=context)
        if word.dollars:
            document = _compose_dollars(document)
    elif word.verbatim:
        document = parent.embed(Kind.SHELL, word.value, OffsetMap.shifted(word.span.start, len(word.value)),
                                label="shell string", writable=False, container=context)
    else:
        start = word.span.start
        if parent.text[start:start + 1] in ("'", '"') and parent.text[start + 1:word.span.end - 1] == word.value:
            # Quoted without escapes: every character is where it was, so carets land on the words.
            offsets = OffsetMap.shifted(start + 1, len(word.value))
        else:
            # Quoted with escapes: findings land on the string's start.
            offsets = OffsetMap([Segment(0, len(word.value), start, start)])
        # No rewrites through it either way: the quoting is not ours to redo.
        document = parent.embed(Kind.SHELL, word.value, offsets, label="shell string", writable=False,
                                container=context)
    children.extend(session.analyze(document))


def _exec_list(parent: Document, session, words: list[Word], sequence, context, children, shell_prefix) -> None:
    """A client's argv as a YAML list, read as the shell line that means the same.

    The words cannot carry ``$IMDS_TOKEN``, so a fix writes the list back as
    ``[sh, -c, "<fixed line>"]`` (``[CMD-SHELL, ...]`` for a healthcheck): unsafe,
    because the image may have no shell.
    """
    from imds_lint.frontends import yaml_nodes

    command, offsets = yaml_nodes.argv_command(parent.text, [w.node for w in words])
    end = sequence.end_mark.index if sequence.flow_style else words[-1].node.end_mark.index
    quote = '"' if parent.text[sequence.start_mark.index:end].count('"') >= 2 else words[0].quote
    dollars = words[0].dollars
    # compose fills in a `$VAR` of the file itself: such a list is not ours to respell whole.
    interpolated = dollars and any("$" in w.value for w in words)

    def render(fixed: str) -> str | None:
        if interpolated:
            return None
        script = fixed.replace("$", "$$") if dollars else fixed
        items = [*shell_prefix, script]
        spelled = [yaml_nodes.quoted_scalar(item, quote) for item in items]
        if any(item is None for item in spelled):
            return None
        return "[" + ", ".join(spelled) + "]"

    document = parent.embed(Kind.SHELL, command, offsets, label="shell string", container=context, render=render,
                            rendered_span=Span(sequence.start_mark.index, end), unsafe_reason=NO_SHELL)
    children.extend(session.analyze(document))


def _compose_dollars(document: Document) -> Document:
    """The script compose hands the container: each ``$$`` of the file is one ``$``, and a ``$``
    written back becomes ``$$`` (else compose would read ``$IMDS_TOKEN`` itself, or reject ``$(``)."""
    text = document.text
    segments: list[Segment] = []
    pieces: list[str] = []
    i = at = 0
    while i < len(text):
        width = 2 if text.startswith("$$", i) else 1
        segments.append(Segment(at, at + 1, i, i + width))
        pieces.append(text[i])
        i += width
        at += 1
    from imds_lint.model import merge_segments

    return document.embed(Kind.SHELL, "".join(pieces), OffsetMap(merge_segments(segments)),
                          escape=lambda s: s.replace("$", "$$"), label=document.label, container=document.container)


def _argv_string(document: Document, rewrap: bool = True) -> Document:
    """A string command compose splits into words and runs without a shell.

    ``sh -c '...'`` holds a script of its own, fixed inside; any other command
    cannot run the fetch, so its fix writes the command back as ``sh -c '...'``
    (unsafe: the image may have no shell, and the shell expands what compose did not).
    """
    import shlex

    try:
        words = shlex.split(document.text)
    except ValueError:
        return document.embed(Kind.SHELL, document.text, OffsetMap.shifted(0, len(document.text)),
                              label=document.label, container=document.container, writable=False)
    if len(words) > 2 and _program(words[0]) in _SHELLS and words[1].startswith("-") and words[1].endswith("c"):
        return document.embed(Kind.SHELL, document.text, OffsetMap.shifted(0, len(document.text)),
                              label=document.label, container=document.container)
    return document.embed(Kind.SHELL, document.text, OffsetMap.shifted(0, len(document.text)), label=document.label,
                          container=document.container,
                          render=lambda fixed: "sh -c " + shlex.quote(fixed) if rewrap else None,
                          rendered_span=Span(0, len(document.text)), unsafe_reason=NO_SHELL)


def _literal_block(text: str, word: Word) -> tuple[str, list[Segment]]:
    """A YAML ``|`` block's lines without their indentation, mapped back line by line."""
    region = text[word.span.start:word.span.end]
    first_newline = region.find("\n")
    position = word.span.start + first_newline + 1
    pieces: list[str] = []
    segments: list[Segment] = []
    length = 0
    for line in text[position:word.span.end].splitlines(keepends=True):
        cut = min(word.indent, len(line) - len(line.lstrip(" ")))
        body = line[cut:]
        segments.append(Segment(length, length + len(body), position + cut, position + len(line)))
        pieces.append(body)
        length += len(body)
        position += len(line)
    return "".join(pieces), segments


# ---------------------------------------------------------------------------
# YAML


def _compose(text: str):
    from imds_lint.frontends.yaml_nodes import compose_all

    return compose_all(text, exact_error=False)  # a broken file is scanned as text: the message is not shown


def _get(node, key: str):
    from yaml import MappingNode

    if not isinstance(node, MappingNode):
        return None
    for k, v in node.value:
        if getattr(k, "value", None) == key:
            return v
    return None


def _scalar(node) -> str | None:
    from yaml import ScalarNode

    return node.value if isinstance(node, ScalarNode) and isinstance(node.value, str) else None


def yaml_word(text: str, node, quote: str = "'", dollars: bool = False) -> Word:
    span = Span(node.start_mark.index, node.end_mark.index)
    source = text[span.start:span.end]
    value = node.value
    if node.style == "|":
        return Word(value, span, literal_block=True, indent=_block_indent(text, span), dollars=dollars)
    return Word(value, span, verbatim=source == value, node=node, quote=quote, dollars=dollars)


def _block_indent(text: str, span: Span) -> int:
    lines = text[span.start:span.end].split("\n")[1:]
    widths = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    return min(widths) if widths else 0


def _yaml_words(text: str, node, dollars: bool = False) -> tuple[list[Word], bool]:
    """A command given as a list (exec form) or a string (shell form)."""
    from yaml import ScalarNode, SequenceNode

    from imds_lint.frontends.yaml_nodes import quote_of_neighbours

    if isinstance(node, SequenceNode):
        quote = quote_of_neighbours(node.value)
        return [yaml_word(text, n, quote, dollars) for n in node.value if isinstance(n, ScalarNode)], False
    if isinstance(node, ScalarNode) and isinstance(node.value, str) and node.value:
        return [yaml_word(text, node, dollars=dollars)], True
    return [], False


def _yaml_failure(document: Document, session) -> list[Analysis]:
    """Unrendered Helm templates and broken YAML: scan as text, with no container context."""
    from imds_lint.frontends import text as text_frontend

    return text_frontend.analyze(document, session)


def analyze_compose(document: Document, session) -> list[Analysis]:
    import yaml
    from yaml import MappingNode

    text = document.text
    try:
        roots = _compose(text)
    except yaml.YAMLError:
        return _yaml_failure(document, session)
    analysis = Analysis(document)
    children: list[Analysis] = []
    where = document.root.path or "compose file"
    for root in roots:
        services = _get(root, "services")
        if not isinstance(services, MappingNode):
            continue
        for key, service in services.value:
            name = _scalar(key) or "?"
            mode = _scalar(_get(service, "network_mode")) or ""
            network = "host" if mode == "host" else ("none" if mode == "none" else "bridge")
            for field_name in ("entrypoint", "command"):
                node = _get(service, field_name)
                if node is None:
                    continue
                context = ContainerContext(f"runs in compose service '{name}' of {where} via {field_name}", network)
                words, shell_form = _yaml_words(text, node, dollars=True)
                emit_command(document, session, analysis, words, context, children, argv_string=shell_form,
                             sequence=None if shell_form else node)
            test = _get(_get(service, "healthcheck"), "test")
            if test is not None:
                context = ContainerContext(f"runs in compose service '{name}' of {where} via healthcheck", network)
                _healthcheck(document, session, analysis, _yaml_words(text, test, dollars=True), context, children,
                             sequence=test if test.id == "sequence" else None)
            analysis.add_fact("compose_service", (name, network, _scalar(_get(_get(service, "build"), "context"))
                                                  or _scalar(_get(service, "build"))))
    return [analysis, *children]


def _healthcheck(document, session, analysis, words_form, context, children, sequence=None) -> None:
    words, shell_form = words_form
    if shell_form:
        emit_command(document, session, analysis, words, context, children, shell_string=True)
    elif words and words[0].value == "CMD-SHELL" and len(words) > 1:
        emit_command(document, session, analysis, words[1:2], context, children, shell_string=True)
    elif words and words[0].value == "CMD":
        emit_command(document, session, analysis, words[1:], context, children, sequence=sequence,
                     shell_prefix=("CMD-SHELL",))


def _pod_spec(root):
    kind = _scalar(_get(root, "kind"))
    if kind not in _WORKLOADS:
        return None, kind
    spec = _get(root, "spec")
    if kind == "CronJob":
        spec = _get(_get(_get(_get(spec, "jobTemplate"), "spec"), "template"), "spec")
    elif kind != "Pod":
        spec = _get(_get(spec, "template"), "spec")
    return spec, kind


def analyze_kubernetes(document: Document, session) -> list[Analysis]:
    import yaml

    text = document.text
    try:
        roots = _compose(text)
    except yaml.YAMLError:
        return _yaml_failure(document, session)
    analysis = Analysis(document)
    children: list[Analysis] = []
    for root in roots:
        if root is None:
            continue
        if _scalar(_get(root, "kind")) == "List":
            items = _get(root, "items")
            manifests = list(items.value) if isinstance(items, yaml.SequenceNode) else []
        else:
            manifests = [root]
        for manifest in manifests:
            _workload(document, session, analysis, children, manifest)
    return [analysis, *children]


def _workload(document, session, analysis, children, manifest) -> None:
    from yaml import SequenceNode

    text = document.text
    spec, kind = _pod_spec(manifest)
    if spec is None:
        return
    name = _scalar(_get(_get(manifest, "metadata"), "name")) or "?"
    host = (_scalar(_get(spec, "hostNetwork")) or "").lower() == "true"
    network = "host" if host else "pod"
    for group in ("initContainers", "containers", "ephemeralContainers"):
        containers = _get(spec, group)
        if not isinstance(containers, SequenceNode):
            continue
        for container in containers.value:
            cname = _scalar(_get(container, "name")) or "?"
            where = f"runs in container '{cname}' of {kind} {name}"
            command_node, args_node = _get(container, "command"), _get(container, "args")
            command, _ = _yaml_words(text, command_node)
            args, _ = _yaml_words(text, args_node)
            if command or args:
                context = ContainerContext(f"{where} via command/args", network)
                # One list holding the whole argv can be written back as `sh -c` (command with no args).
                whole = command_node if command and not args and command_node.id == "sequence" else None
                emit_command(document, session, analysis, command + args, context, children, sequence=whole)
            hooks = [(p, _get(container, p)) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
            lifecycle = _get(container, "lifecycle")
            hooks += [(f"lifecycle.{h}", _get(lifecycle, h)) for h in ("postStart", "preStop")]
            for label, hook in hooks:
                exec_node = _get(_get(hook, "exec"), "command")
                exec_command, _ = _yaml_words(text, exec_node)
                if exec_command:
                    context = ContainerContext(f"{where} via {label}", network)
                    emit_command(document, session, analysis, exec_command, context, children,
                                 sequence=exec_node if exec_node.id == "sequence" else None)


# ---------------------------------------------------------------------------
# ECS task definitions (JSON)


class JsonLocator:
    """Finds each JSON string's spelling in the file, in document order."""

    def __init__(self, text: str):
        self.text = text
        self.cursor = 0

    def find(self, value: str) -> Word:
        from imds_lint.frontends.dockerfile import _json_escape
        from imds_lint.frontends.yaml_nodes import escaped_chars, offset_map

        for spelling in (json.dumps(value, ensure_ascii=False), json.dumps(value)):
            at = self.text.find(spelling, self.cursor)
            if at != -1:
                self.cursor = at + len(spelling)
                span = Span(at, at + len(spelling))
                # Each character mapped back to its spelling (`\"` for `"`), so a fix can be written back.
                chars = escaped_chars(self.text, at + 1, at + len(spelling) - 1, '"')
                offsets = offset_map(chars) if chars is not None and "".join(c for c, _, _ in chars) == value else None
                if spelling[1:-1] == value:
                    return Word(value, Span(at + 1, at + len(spelling) - 1), verbatim=True, offsets=offsets,
                                escape=_json_escape)
                return Word(value, span, offsets=offsets, escape=_json_escape)
        return Word(value, None)


@dataclass
class EcsContainer:
    """One container definition's commands, as words located in the file."""

    name: str
    entry_point: list[Word] = field(default_factory=list)
    command: list[Word] = field(default_factory=list)
    health: list[Word] = field(default_factory=list)


def emit_ecs_task(parent: Document, session, analysis: Analysis, children: list[Analysis], task: str,
                  network: str | None, containers: list[EcsContainer]) -> None:
    """Requests in an ECS task's containers, each with the task's network.

    ``task`` completes "runs in container 'x' of ..."; ``network`` None means the
    mode could not be resolved, so no container context is claimed.
    """
    for container in containers:
        context = (ContainerContext(f"runs in container '{container.name}' of {task}", network)
                   if network is not None else None)
        if container.entry_point or container.command:
            emit_command(parent, session, analysis, container.entry_point + container.command, context, children)
        _healthcheck(parent, session, analysis, (container.health, False), context, children)


def ecs_containers(definitions, find) -> list[EcsContainer]:
    """Container definitions as parsed JSON (a list of dicts); ``find`` locates each string."""
    found = []
    for container in definitions if isinstance(definitions, list) else []:
        if not isinstance(container, dict):
            continue
        health = container.get("healthCheck")
        health = health.get("command") if isinstance(health, dict) else None

        def words(values) -> list[Word]:
            return [find(v) for v in values if isinstance(v, str)] if isinstance(values, list) else []

        # Located in the order they are written, which the JSON decoder preserves.
        located = {}
        for key, value in container.items():
            if key in ("entryPoint", "command"):
                located[key] = words(value)
            elif key == "healthCheck":
                located[key] = words(health)
        found.append(EcsContainer(str(container.get("name") or "?"), located.get("entryPoint", []),
                                  located.get("command", []), located.get("healthCheck", [])))
    return found


def analyze_ecs(document: Document, session) -> list[Analysis]:
    text = document.text
    try:
        data = json.loads(text)
    except ValueError:
        from imds_lint.frontends import text as text_frontend

        return text_frontend.analyze(document, session)
    analysis = Analysis(document)
    children: list[Analysis] = []
    locator = JsonLocator(text)
    where = document.root.path or "task definition"
    for task in task_definitions(data):
        mode = ecs_network(task.get("networkMode"))
        family = task.get("family") or "?"
        emit_ecs_task(document, session, analysis, children, f"ECS task {family} ({where}, networkMode {mode})",
                      mode, ecs_containers(task.get("containerDefinitions"), locator.find))
    return [analysis, *children]
