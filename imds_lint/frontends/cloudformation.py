"""CloudFormation templates (YAML with short tags, or JSON): user-data scripts and metadata options.

``UserData`` of ``AWS::EC2::Instance``, ``AWS::EC2::LaunchTemplate``
(``LaunchTemplateData``) and ``AWS::AutoScaling::LaunchConfiguration``, written
as ``Fn::Base64`` of a string, of ``Fn::Sub`` (``${!X}`` is its escape) or of
``Fn::Join``, in long or short (``!Base64 !Sub``) form, becomes an embedded
document. Fixes are written back when the mapping is exact: block literals
(``|``) and unescaped one-line strings; ``Fn::Join`` lists and folded or escaped
strings are scanned but not rewritten. Each compute resource becomes an
``iac.ComputeResource`` fact (``MetadataOptions``, ``!Ref`` resolved to
parameter defaults, instances enforced by their launch template).
``AWS::ECS::TaskDefinition`` container commands (``EntryPoint``, ``Command``,
``HealthCheck.Command``) carry the task's ``NetworkMode`` as container context.

cfn-init's ``AWS::CloudFormation::Init`` (in any resource's ``Metadata``) runs
code too: each ``commands.*.command`` string is shell, and each ``files.*.content``
string is a document of the kind its path and text say (a ``.sh`` script, a
cloud-config...). Its ``packages`` and ``services`` say whether the instance runs
containers, with its user-data and an ``AWS::EKS::Nodegroup`` that uses a launch
template; the resource's own text (Kubernetes tags, an EKS/ECS-optimized AMI) only
hints at a container host (``container_hint``).
"""

from __future__ import annotations

import re

from imds_lint.frontends import Analysis, ParseProblem
from imds_lint.frontends import yaml_nodes as yn
from imds_lint.frontends.iac import COMPUTE, UNKNOWN, ComputeResource, Setting, container_signs, node_signs
from imds_lint.kinds import Kind, classify, sniff
from imds_lint.model import Edit, Document, Span, no_escape
from imds_lint.syntax.iac import CloudFormationHandle

_TYPES = {
    "AWS::EC2::Instance": ("UserData", "MetadataOptions"),
    "AWS::EC2::LaunchTemplate": ("LaunchTemplateData.UserData", "LaunchTemplateData.MetadataOptions"),
    "AWS::AutoScaling::LaunchConfiguration": ("UserData", "MetadataOptions"),
}


def is_cloudformation(text: str) -> bool:
    head = text[:20000]
    return "AWSTemplateFormatVersion" in head or ("Resources" in head and "AWS::" in head)


def _path(node, dotted: str):
    for key in dotted.split("."):
        node = yn.get(node, key)
    return node


class _Analyzer:
    def __init__(self, document: Document, session):
        self.document = document
        self.session = session
        self.text = document.text
        self.analysis = Analysis(document)
        self.children: list[Analysis] = []
        self.json = self.text.lstrip().startswith("{")

    def run(self) -> list[Analysis]:
        import yaml

        try:
            root = yn.compose(self.text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            at = mark.index if mark is not None else 0
            self.analysis.problems.append(ParseProblem(Span(at, min(at + 1, len(self.text))),
                                                       f"CloudFormation template does not parse: {getattr(exc, 'problem', exc)}",
                                                       exact=True))
            return [self.analysis]
        resources = yn.get(root, "Resources")
        if resources is None or resources.id != "mapping":
            return [self.analysis]
        self.parameters = yn.get(root, "Parameters")
        self.resources = {k.value: v for k, v in resources.value if k.id == "scalar"}
        # cfn-init first: what it installs tells the compute resources below about containers.
        self.init: dict[str, tuple[str, str | None]] = {}
        for key, node in resources.value:
            if key.id == "scalar":
                init = _path(yn.get(node, "Metadata"), "AWS::CloudFormation::Init")
                if init is not None and init.id == "mapping":
                    self.init[key.value] = self.cfn_init(init, key.value)
        self.eks_launch_templates = self.launch_templates_of_node_groups()
        for key, node in resources.value:
            rtype = yn.get(node, "Type")
            if rtype is not None and rtype.id == "scalar" and rtype.value in _TYPES:
                self.resource(key, node, rtype.value)
            elif rtype is not None and rtype.id == "scalar" and rtype.value == "AWS::ECS::TaskDefinition":
                self.ecs_task(key, node)
            elif rtype is not None and rtype.id == "scalar" and rtype.value == "AWS::SSM::Document":
                self.ssm_document(key, node)
            elif rtype is not None and rtype.id == "scalar" and rtype.value == "AWS::EC2::SpotFleet":
                # Launch specifications carry their own user-data (no metadata options: those
                # come only through launch templates, which are resources of their own).
                specs = _path(yn.get(node, "Properties"), "SpotFleetRequestConfigData.LaunchSpecifications")
                for index, spec in enumerate(specs.value if specs is not None and specs.id == "sequence" else []):
                    user_data = yn.get(spec, "UserData")
                    if user_data is not None:
                        self.embedded(user_data, f"UserData of {key.value} launch specification {index + 1}", None)
        return [self.analysis, *self.children]

    def span(self, node) -> Span:
        return Span(node.start_mark.index, node.end_mark.index)

    def anchor(self, key) -> Span:
        line_end = self.text.find("\n", key.start_mark.index)
        return Span(key.start_mark.index, key.end_mark.index if line_end == -1 else max(line_end, key.end_mark.index))

    # -- values ------------------------------------------------------------------
    def value(self, node, depth: int = 0) -> Setting:
        if node is None:
            return Setting()
        if node.id == "scalar" and yn.tag_name(node) is None:
            return Setting(node.value, self.span(node))
        ref = yn.intrinsic(node)
        if ref is not None and ref[0] == "Ref" and ref[1].id == "scalar" and depth < 4:
            param = yn.get(self.parameters, ref[1].value)
            default = yn.get(param, "Default")
            if default is not None and default.id == "scalar":
                return Setting(default.value, None, f"parameter {ref[1].value}")
        return Setting(UNKNOWN, None, "an intrinsic function")

    # -- resources ---------------------------------------------------------------
    def resource(self, key, node, rtype: str) -> None:
        user_data_path, options_path = _TYPES[rtype]
        properties = yn.get(node, "Properties")
        script = ""
        user_data = _path(properties, user_data_path)
        if user_data is not None:
            script = self.user_data(user_data, key.value)
        options = _path(properties, options_path)
        parent = properties if rtype != "AWS::EC2::LaunchTemplate" else yn.get(properties, "LaunchTemplateData")
        enforced = None
        if options is None and rtype == "AWS::EC2::Instance":
            enforced = self.launch_template_enforcing(yn.get(properties, "LaunchTemplate"))
        self.analysis.add_fact(COMPUTE, ComputeResource(
            "cloudformation", rtype, key.value, self.anchor(key), self.span(node), options is not None,
            tokens=self.value(yn.get(options, "HttpTokens")),
            endpoint=self.value(yn.get(options, "HttpEndpoint")),
            hop_limit=self.value(yn.get(options, "HttpPutResponseHopLimit")),
            enforced_by=enforced, containers=self.containers(key.value, node, script),
            container_hint=self.container_hint(node, script),
            handle=CloudFormationHandle(parent, options, self.json, self.text),
        ))

    def containers(self, name: str, node, script: str) -> str | None:
        """Why the resource's instances run containers, from every signal the template has."""
        init_text, init_reason = self.init.get(name, ("", None))
        # `cfn-init --resource Other` (or -r) runs another resource's Init on this instance.
        for other in _CFN_INIT_RESOURCE.findall(script):
            if other != name and other in self.init:
                other_text, other_reason = self.init[other]
                init_text += "\n" + other_text
                init_reason = init_reason or other_reason
        found = init_reason or container_signs("\n".join((script, init_text)))
        if found is None and name in self.eks_launch_templates:
            found = "is the launch template of an EKS node group"
        return found

    def container_hint(self, node, script: str) -> str | None:
        """Kubernetes tags, an EKS/ECS AMI in the resource's own text: a container host, short of proof."""
        return node_signs(script + "\n" + self.text[node.start_mark.index:node.end_mark.index])

    def launch_templates_of_node_groups(self) -> set[str]:
        used = set()
        for node in self.resources.values():
            rtype = yn.get(node, "Type")
            if rtype is None or rtype.id != "scalar" or rtype.value != "AWS::EKS::Nodegroup":
                continue
            spec = yn.get(yn.get(node, "Properties"), "LaunchTemplate")
            for field in ("Id", "Name"):
                ref = yn.intrinsic(yn.get(spec, field)) if yn.get(spec, field) is not None else None
                if ref is not None and ref[0] == "Ref" and ref[1].id == "scalar":
                    used.add(ref[1].value)
        return used

    # -- SSM documents -------------------------------------------------------------
    def ssm_document(self, key, node) -> None:
        """Commands of an ``AWS::SSM::Document``'s steps (runCommand, aws:runCommand's
        commands): shell, or PowerShell for the PowerShell actions and documents."""
        content = yn.get(yn.get(node, "Properties"), "Content")
        stack = [(content, False)] if content is not None else []
        while stack:
            current, powershell = stack.pop()
            if current.id == "sequence":
                stack.extend((item, powershell) for item in current.value)
                continue
            if current.id != "mapping":
                continue
            here = self.text[current.start_mark.index:current.end_mark.index]
            powershell = powershell or "PowerShell" in here and not any(
                m in here for m in ("runShellScript", "RunShellScript"))
            for name, value in current.value:
                if name.id == "scalar" and name.value in ("commands", "runCommand"):
                    items = value.value if value.id == "sequence" else [value]
                    for item in items:
                        if item.id == "scalar":
                            kind = Kind.POWERSHELL if powershell else Kind.SHELL
                            self.embedded(item, f"command of SSM document {key.value}", kind)
                else:
                    stack.append((value, powershell))

    # -- cfn-init --------------------------------------------------------------------
    def cfn_init(self, init, resource: str) -> tuple[str, str | None]:
        """Embed what cfn-init runs and writes; return its text and a container reason."""
        texts, reason = [], None
        for config_key, config in init.value:
            if config_key.id != "scalar" or config_key.value == "configSets" or config.id != "mapping":
                continue
            commands = yn.get(config, "commands")
            for name, command in commands.value if commands is not None and commands.id == "mapping" else []:
                body = yn.get(command, "command")
                if body is not None:
                    label = f"cfn-init command {name.value} of {resource}"
                    texts.append(self.embedded(body, label, Kind.SHELL))
            files = yn.get(config, "files")
            for path, spec in files.value if files is not None and files.id == "mapping" else []:
                content = yn.get(spec, "content")
                if content is not None and path.id == "scalar" and isinstance(path.value, str):
                    label = f"cfn-init file {path.value} of {resource}"
                    texts.append(self.embedded(content, label, None, path.value))
            reason = reason or _init_runtime(config)
        return "\n".join(texts), reason

    def launch_template_enforcing(self, spec) -> str | None:
        if spec is None:
            return None
        for field in ("LaunchTemplateId", "LaunchTemplateName"):
            ref = yn.intrinsic(yn.get(spec, field)) if yn.get(spec, field) is not None else None
            if ref is None:
                continue
            name = ref[1].value if ref[0] == "Ref" and ref[1].id == "scalar" else None
            if ref[0] == "Fn::GetAtt":
                target = ref[1]
                name = target.value.split(".")[0] if target.id == "scalar" else (target.value[0].value if target.value else None)
            lt = self.resources.get(name or "")
            tokens = yn.get(_path(yn.get(lt, "Properties"), "LaunchTemplateData.MetadataOptions"), "HttpTokens")
            if tokens is not None and self.value(tokens).value == "required":
                return f"launch template {name}"
        return None

    # -- ECS task definitions ------------------------------------------------------
    def ecs_task(self, key, node) -> None:
        """Container commands of ``AWS::ECS::TaskDefinition``, with the task's ``NetworkMode``."""
        from imds_lint.frontends import orchestrators

        properties = yn.get(node, "Properties")
        definitions = yn.get(properties, "ContainerDefinitions")
        if definitions is None or definitions.id != "sequence":
            return
        containers = []
        for container in definitions.value:
            name = yn.get(container, "Name")
            containers.append(orchestrators.EcsContainer(
                name.value if name is not None and name.id == "scalar" and isinstance(name.value, str) else "?",
                self.words(yn.get(container, "EntryPoint")),
                self.words(yn.get(container, "Command")),
                self.words(yn.get(yn.get(container, "HealthCheck"), "Command")),
            ))
        mode = yn.get(properties, "NetworkMode")
        setting = self.value(mode)
        network = None if setting.value == UNKNOWN else orchestrators.ecs_network(setting.value)
        shown = network or "unresolved"
        task = f"ECS task definition {key.value} (NetworkMode {shown})"
        orchestrators.emit_ecs_task(self.document, self.session, self.analysis, self.children, task, network,
                                    containers)

    def words(self, node) -> list:
        """A command list's words; an intrinsic stands for an unknown word at its place."""
        from imds_lint.frontends import orchestrators

        if node is None or node.id != "sequence" or yn.tag_name(node) is not None:
            return []
        words = []
        for item in node.value:
            if item.id == "scalar" and yn.tag_name(item) is None and isinstance(item.value, str):
                words.append(orchestrators.yaml_word(self.text, item))
            elif item.id == "scalar" and yn.tag_name(item) == "Fn::Sub":
                # ``${Param}`` reads as a shell variable; findings land on the string, without fixes.
                chars = yn.sub_decode(yn.scalar_chars(self.text, item)[0])
                words.append(orchestrators.Word("".join(c for c, _, _ in chars), self.span(item)))
            else:
                words.append(orchestrators.Word("${CFN_EXPR}", self.span(item)))
        return words

    # -- user-data -----------------------------------------------------------------
    def user_data(self, node, name: str) -> str:
        return self.embedded(node, f"UserData of {name}", None)

    def embedded(self, node, label: str, kind: str | None, path: str | None = None) -> str:
        """The script (or file) a template value holds, analyzed as an embedded document.

        ``kind`` None: sniffed from the text (and the path cfn-init writes it to), shell
        when nothing says otherwise for user-data; a cfn-init file nothing identifies is
        read as plain text.
        """
        tagged = yn.tag_name(node) is not None
        fn = _fn(node, tagged)
        if fn is not None and fn[0] == "Fn::Base64":
            node, tagged = fn[1], fn[2]
            fn = _fn(node, tagged)
        chars, writable, sub, target, unsafe_for, place = None, True, False, None, None, None
        if fn is None and node.id == "scalar":
            chars, writable = yn.scalar_chars(self.text, node)
            target = node
        elif fn is not None and fn[0] == "Fn::Sub":
            target = fn[1]
            if target.id == "sequence" and target.value:
                target = target.value[0]
            if target.id != "scalar" or (target is not fn[1] and yn.tag_name(target) is not None):
                return ""
            chars, writable = yn.scalar_chars(self.text, target)
            sub = True
        elif fn is not None and fn[0] == "Fn::Join":
            joined = self.join(fn[1])
            if joined is None:
                return ""
            chars, target, placeholders, place = joined
            writable = target is not None
            unsafe_for = _splits_a_command(chars, placeholders)
        if not chars:
            return ""
        if sub:
            chars = yn.sub_decode(chars)
        inner = "".join(c for c, _, _ in chars)
        escape = self.escape_for(target, sub) if writable and target is not None else None
        if kind is None:
            kind = classify(path, inner) if path is not None else sniff(inner) or Kind.SHELL
        doc = self.document.embed(kind, inner, yn.offset_map(chars), escape=escape or no_escape,
                                  label=label, writable=escape is not None, unsafe_for=unsafe_for,
                                  place=place if escape is not None else None)
        self.children.extend(self.session.analyze(doc))
        return inner

    def join(self, node):
        """The joined text; a string part whose quoting every part shares (None: edits cannot go back);
        where each intrinsic's placeholder sits in the joined text; and how a new line is placed.

        Edits go into the string part they fall in (the delimiter belongs to the end of the part
        before it), so every part must spell inserted text alike: all quoted the same way, exactly.
        """
        if node.id != "sequence" or len(node.value) != 2:
            return None
        delimiter, parts = node.value
        if delimiter.id != "scalar" or parts.id != "sequence":
            return None
        chars: yn.Chars = []
        placeholders: list[tuple[int, int]] = []
        styles, exact, target = set(), True, None
        line_parts: dict[int, int] = {}  # inner start of a part that starts its own line -> its opening quote
        for i, part in enumerate(parts.value):
            if i:
                at = chars[-1][2] if chars else part.start_mark.index
                chars.extend((c, at, at) for c in delimiter.value)
            if part.id == "scalar" and yn.tag_name(part) is None:
                quote = part.start_mark.index
                line_start = self.text.rfind("\n", 0, quote) + 1
                if part.style in ('"', "'") and self.text[line_start:quote].strip(" \t-") == "" \
                        and (not chars or chars[-1][0] == "\n" or delimiter.value == "\n"):
                    line_parts[len(chars)] = quote
                part_chars, part_exact = yn.scalar_chars(self.text, part)
                chars.extend(part_chars)
                exact = exact and part_exact
                styles.add(part.style)
                target = target or part
            else:
                at = part.start_mark.index
                if not _pseudo_parameter(part):
                    placeholders.append((len(chars), len(chars) + len("${CFN_EXPR}")))
                chars.extend((c, at, at) for c in "${CFN_EXPR}")
        uniform = exact and len(styles) == 1 and next(iter(styles)) in ('"', "'")
        place = self.new_part(line_parts, delimiter.value, target) if uniform and delimiter.value in ("", "\n") \
            else None
        return chars, target if uniform else None, placeholders, place

    def new_part(self, line_parts: dict[int, int], delimiter: str, target):
        """Lines inserted before a part that starts its own line become a part of their own, laid out
        as the parts are (``"...",`` on a JSON or flow line, ``- "..."`` in a block sequence)."""
        escape = self.escape_for(target, False)

        def place(edit):
            quote = line_parts.get(edit.start)
            if quote is None or edit.start != edit.end or not edit.content.endswith("\n") or escape is None:
                return None
            content = edit.content[:-1] if delimiter == "\n" else edit.content
            mark = target.style
            line_start = self.text.rfind("\n", 0, quote) + 1
            prefix = self.text[line_start:quote]
            part = f"{mark}{escape(content)}{mark}"
            if prefix.strip() == "-":  # a block sequence: the new item gets its own dash
                return Edit(line_start, line_start, f"{prefix}{part}\n")
            return Edit(quote, quote, f"{part},\n{prefix}")

        return place

    def escape_for(self, node, sub: bool):
        style = node.style
        if style == "|":
            indent = yn.block_indent(self.text, node)
            # Inserted lines keep the file's own line breaks (CRLF templates exist).
            newline = "\r\n" if "\r\n" in self.text[node.start_mark.index:node.end_mark.index] else "\n"
            inner = (lambda s: s.replace("\n", newline + indent))
        elif style == '"':
            inner = (lambda s: s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
        elif style == "'" and not self.json:
            inner = (lambda s: s.replace("'", "''").replace("\n", "\n\n"))
        else:
            return None
        if sub:
            return lambda s: inner(yn.escape_sub(s))
        return inner


# `cfn-init ... --resource Name` / `-r Name`: the resource whose Init runs on this instance.
_CFN_INIT_RESOURCE = re.compile(r"cfn-init\b[^\n]*?(?:--resource|-r)\s+['\"]?([A-Za-z0-9]+)")
_RUNTIMES = frozenset({"docker", "docker-ce", "docker.io", "docker-engine", "moby-engine", "containerd",
                       "containerd.io", "podman", "cri-o"})


def _init_runtime(config) -> str | None:
    """A container runtime among a cfn-init config's packages or services."""
    for section, verb in (("packages", "installs"), ("services", "runs")):
        managers = yn.get(config, section)
        for _, names in managers.value if managers is not None and managers.id == "mapping" else []:
            for name, _ in names.value if names.id == "mapping" else []:
                if name.id == "scalar" and str(name.value).lower() in _RUNTIMES:
                    return f"{verb} {name.value} through cfn-init"
    return None


SPLIT_COMMAND = ("an intrinsic function (Ref, GetAtt, ...) supplies part of the command's line, so what "
                 "the line runs is known only when the stack is deployed")


def _pseudo_parameter(node) -> bool:
    """``{"Ref": "AWS::Region"}`` and the like: a plain word (no spaces or quotes) whatever the stack."""
    fn = _fn(node, yn.tag_name(node) is not None)
    return fn is not None and fn[0] == "Ref" and fn[1].id == "scalar" and str(fn[1].value).startswith("AWS::") \
        and fn[1].value != "AWS::NotificationARNs"


def _splits_a_command(chars: yn.Chars, placeholders: list[tuple[int, int]]):
    """A check for fixes of a joined script: unsafe where an edit's line holds an intrinsic's value."""
    if not placeholders:
        return None
    text = "".join(c for c, _, _ in chars)

    def check(edits) -> str | None:
        for edit in edits:
            start = text.rfind("\n", 0, edit.start) + 1
            end = text.find("\n", edit.end)
            end = len(text) if end == -1 else end
            # The line the fetch is inserted before is the request's own line too.
            if edit.start == start and edit.content.endswith("\n"):
                continue
            if any(a < end and b > start for a, b in placeholders):
                return SPLIT_COMMAND
        return None

    return check


def _fn(node, tagged: bool):
    """(function, argument node, argument still tagged?) for ``!Fn x`` or ``{"Fn::X": x}``.

    A short tag sits on its argument node itself, so the argument is the same
    node with the tag used up.
    """
    if node is None:
        return None
    if tagged:
        return yn.tag_name(node), node, False
    if node.id != "mapping" or len(node.value) != 1:
        return None
    key, value = node.value[0]
    if key.id != "scalar" or not (key.value.startswith("Fn::") or key.value == "Ref"):
        return None
    return key.value, value, yn.tag_name(value) is not None




def analyze(document: Document, session) -> list[Analysis]:
    return _Analyzer(document, session).run()


def syntax_errors(text: str) -> int:
    import yaml

    try:
        yn.compose(text)
    except yaml.YAMLError:
        return 1
    return 0
