"""Terraform front-end: ``.tf`` files through tree-sitter-hcl, and ``.tftpl``/``.tpl`` templates.

What it finds:

* user-data scripts (``user_data`` / ``user_data_base64`` on instances, launch
  templates, launch configurations and terraform-aws-modules modules) written
  as heredocs or quoted strings, possibly wrapped in ``base64encode`` and
  friends, or held in a ``local``: each becomes an embedded document (shell,
  or user-data when it is cloud-init/MIME/PowerShell) whose fixes are escaped
  back into Terraform syntax (``$${``, ``%%{``, and backslashes in quoted
  strings);
* ``templatefile(...)`` / ``file(...)`` user-data: the template is a file of its
  own, scanned on its own (as ``Kind.TEMPLATE``, or by its name) so its findings
  land on its own lines; the ``.tf`` records a ``TemplateLink`` fact and reads
  the file only to learn whether the instance runs containers;
* ``aws_ecs_task_definition`` container commands (``container_definitions`` as
  ``jsonencode([...])`` read from the HCL tree, with fixes escaped back into the
  HCL strings, or a JSON heredoc/quoted string, reported without fixes), with
  the task's ``network_mode`` (see ``orchestrators.emit_ecs_task``);
* ``data "http"`` sources whose ``url`` is IMDS: a ``Request`` made where
  Terraform runs, with the ``request_headers`` it sends;
* every EC2 compute resource, as an ``iac.ComputeResource`` fact with its
  metadata options resolved through ``var.*`` defaults and ``local.*`` values of
  the same module (the sibling ``.tf`` files of the same folder, read-only).
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from imds_lint.endpoints import parse_imds_url
from imds_lint.frontends import Analysis, ParseProblem
from imds_lint.frontends.iac import COMPUTE, UNKNOWN, ComputeResource, Setting, container_signs
from imds_lint.hcl import template as hcl_template
from imds_lint.hcl.tree import Block, HclFile, object_items, parse, string_literal, unwrap
from imds_lint.kinds import Kind, sniff
from imds_lint.model import Document, Header, OffsetMap, Request, Span
from imds_lint.syntax.iac import TerraformHandle
from imds_lint.syntax.treesitter import walk as _walk

TEMPLATE_LINK = "terraform.template_link"
_MAX_SIBLINGS = 64
_MAX_SIBLING_BYTES = 1_000_000
_MAX_TEMPLATE_BYTES = 1_000_000

_INSTANCE_TYPES = {"aws_instance", "aws_launch_template", "aws_launch_configuration", "aws_spot_instance_request"}
_USER_DATA = ("user_data", "user_data_base64")
_WRAPPERS = {"base64encode", "base64gzip", "trimspace", "chomp", "trim", "replace", "format"}
# terraform-aws-modules sources -> (type, default tokens, default hop limit, runs containers?)
_MODULES = [
    ("eks-managed-node-group", "module:eks-managed-node-group", "required", 2, "is an EKS node group"),
    ("self-managed-node-group", "module:self-managed-node-group", "required", 2, "is an EKS node group"),
    ("ec2-instance", "module:ec2-instance", "required", 1, None),
    ("autoscaling", "module:autoscaling", "optional", 1, None),
]


@dataclass(frozen=True, slots=True)
class TemplateLink:
    """``user_data = templatefile("x.tftpl", ...)``: the template is scanned as a file of its own."""

    function: str
    path: str  # as resolved against the .tf file's folder ("" when unknown)
    written: str
    span: Span
    exists: bool


class _Module:
    """The variables, locals and resources of a module (this file and its siblings).

    Looked up by name, on first use: most files never look anything up, and a
    sibling file is parsed only when its text holds the name looked for (a file
    that does not contain ``web`` cannot declare ``aws_launch_template.web``;
    labels spelled with ``\\u`` escapes are the exception, so such files are
    always parsed). The first file to declare a name wins: this file, then its
    siblings in name order.
    """

    def __init__(self, own: HclFile, path: str, project=None):
        self._own, self._path, self._project = own, path, project
        self._siblings: list[_Sibling] | None = None
        self._found: dict[tuple, object] = {}

    def _files(self, *words: str):
        yield self._own
        if self._siblings is None:
            self._siblings = _siblings(self._project, self._path) if self._path and self._project else []
        for sibling in self._siblings:
            text = sibling.text
            if all(word in text for word in words) or "\\u" in text or "\\U" in text:
                yield sibling.file

    def _memo(self, key: tuple, find):
        if key not in self._found:
            self._found[key] = find()
        return self._found[key]

    def variable(self, name: str) -> tuple[HclFile, object] | None:
        def find():
            for file in self._files(name):
                for block in file.blocks():
                    if block.type == "variable" and block.labels and block.labels[0] == name:
                        default = block.attributes().get("default")
                        if default is not None:
                            return file, default
            return None

        return self._memo(("var", name), find)

    def local(self, name: str) -> tuple[HclFile, object] | None:
        def find():
            for file in self._files(name):
                for block in file.blocks():
                    if block.type == "locals":
                        attributes = block.attributes()
                        if name in attributes:
                            return file, attributes[name]
            return None

        return self._memo(("local", name), find)

    def resource(self, rtype: str, name: str) -> Block | None:
        def find():
            for file in self._files(rtype, name):
                for block in file.blocks():
                    if block.type == "resource" and block.labels == [rtype, name]:
                        return block
            return None

        return self._memo(("resource", rtype, name), find)

    def resources_of(self, rtype: str) -> list[Block]:
        """Every resource of one type, the first declaration of each name."""
        def find():
            first: dict[str, Block] = {}
            for file in self._files(rtype):
                for block in file.blocks():
                    if block.type == "resource" and len(block.labels) == 2 and block.labels[0] == rtype:
                        first.setdefault(block.labels[1], block)
            return list(first.values())

        return self._memo(("resources", rtype), find)

    def reference(self, file: HclFile, node) -> tuple[HclFile, object, str] | None:
        """``var.x`` / ``local.x`` -> the expression it stands for."""
        node = unwrap(node)
        if node is None or node.type != "variable_expr":
            return None
        expr = node.parent
        text = file.source(expr).strip() if expr is not None else ""
        parts = text.split(".")
        if len(parts) != 2:
            return None
        lookup = {"var": self.variable, "local": self.local}.get(parts[0])
        found = lookup(parts[1]) if lookup is not None else None
        if found is None:
            return None
        target_file, target = found
        return target_file, target, text

    def value(self, file: HclFile, node, depth: int = 0) -> Setting:
        """A scalar's resolved value; the span only when it is written in place in the document."""
        if node is None:
            return Setting()
        if depth > 6:
            return Setting(UNKNOWN)
        inner = unwrap(node)
        if inner is not None and inner.type == "null_lit":
            return Setting()
        literal = string_literal(file, node)
        if literal is None and inner is not None and inner.type in ("numeric_lit", "bool_lit"):
            literal = file.source(inner)
        if literal is not None:
            return Setting(literal, file.span(node) if file.own and depth == 0 else None)
        ref = self.reference(file, node)
        if ref is not None:
            target_file, target, text = ref
            resolved = self.value(target_file, target, depth + 1)
            return Setting(resolved.value, None, text)
        return Setting(UNKNOWN, None, file.source(node).strip()[:60])

    def object(self, file: HclFile, node, depth: int = 0) -> tuple[HclFile, dict[str, object]] | None:
        items = object_items(file, node)
        if items is not None:
            return file, items
        ref = self.reference(file, node)
        if ref is not None and depth < 6:
            return self.object(ref[0], ref[1], depth + 1)
        return None


class _Sibling:
    """A sibling .tf file: read for every lookup, parsed only for one whose name it holds."""

    __slots__ = ("text", "_file")

    def __init__(self, text: str):
        self.text = text
        self._file: HclFile | None = None

    @property
    def file(self) -> HclFile:
        if self._file is None:
            self._file = HclFile(self.text, own=False)
        return self._file


def _siblings(project, path: str) -> list[_Sibling]:
    """The other .tf files of the folder that the project index admits; listed and read once per
    folder state (a file renamed into the folder, as --fix does, changes it)."""
    folder = os.path.dirname(os.path.abspath(path))
    own = os.path.abspath(path)
    state = project.folder_state(folder)
    if state is None:
        return []
    listed = project.memo(("terraform siblings", *state), lambda: _list_siblings(project, folder))
    return [sibling for full, sibling in listed if full != own]


def _list_siblings(project, folder: str) -> list[tuple[str, _Sibling]]:
    reads = (project.read(full, _MAX_SIBLING_BYTES)
             for full in project.files_in(folder, lambda name: name.endswith(".tf"))[:_MAX_SIBLINGS])
    return [(read.path, _Sibling(read.text)) for read in reads if read is not None]


def _script_kind(text: str) -> str:
    """What a user-data script is: shell unless it declares cloud-init, MIME or PowerShell."""
    declared = sniff(text)
    if declared is not None:
        return declared
    return Kind.SHELL


class _Analyzer:
    def __init__(self, document: Document, session):
        self.document = document
        self.session = session
        self.file = HclFile(document.text, own=True)
        # The file the root document came from (the engine's session knows it), for sibling .tf files and templates.
        origin = getattr(session, "origin", None)
        self.path = str(origin) if origin is not None and document.parent is None else ""
        self.project = getattr(session, "project", None)
        self.module = _Module(self.file, self.path, self.project)
        self.analysis = Analysis(document)
        self.children: list[Analysis] = []
        self.embedded: set[Span] = set()

    def run(self) -> list[Analysis]:
        # Rendered user-data sources first, so instances that use them see their scripts.
        self.rendered: dict[str, str] = {}
        for block in self.file.blocks():
            if block.type == "data" and len(block.labels) == 2 and block.labels[0] in ("cloudinit_config", "template_file"):
                self.rendered_source(block)
        for block in self.file.blocks():
            if block.type == "resource" and len(block.labels) == 2:
                self.resource(block)
            elif block.type == "module" and block.labels:
                self.module_block(block)
            elif block.type == "data" and block.labels[:1] == ["http"]:
                self.http_data(block)
            elif block.type in ("source", "build"):  # Packer HCL2 (.pkr.hcl)
                from imds_lint.frontends import packer

                packer.hcl_block(self, block)
        self.problems()
        from imds_lint.frontends import blobs

        self.children.extend(blobs.scan(self.document, self.session, skip=sorted(self.embedded)))
        return [self.analysis, *self.children]

    # -- user-data ------------------------------------------------------------
    def user_data(self, block: Block) -> str:
        """Embed the block's user-data scripts; return their text (for container signs)."""
        texts = []
        for name in _USER_DATA:
            expr = block.attributes().get(name)
            if expr is not None:
                texts.append(self.script(self.file, expr, literal_base64=name == "user_data_base64"))
        return "\n".join(t for t in texts if t)

    def script(self, file: HclFile, node, literal_base64: bool = False, depth: int = 0) -> str:
        if depth > 6:
            return ""
        inner = unwrap(node)
        if inner is None:
            return ""
        if inner.type in ("heredoc_template", "quoted_template", "string_lit"):
            return self.embed_template(file, inner, literal_base64)
        if inner.type == "function_call":
            name = file.source(inner.named_children[0]) if inner.named_children else ""
            args_node = next((c for c in inner.named_children if c.type == "function_arguments"), None)
            args = [c for c in args_node.named_children if c.type == "expression"] if args_node is not None else []
            if name in ("templatefile", "file") and args:
                return self.linked_file(file, name, args[0])
            if name in _WRAPPERS and args:
                # The script is the first argument (format's template, replace's subject).
                return self.script(file, args[0], depth=depth + 1)
            return ""
        ref = self.module.reference(file, node)
        if ref is not None:
            return self.script(ref[0], ref[1], literal_base64, depth + 1)
        source = file.source(node).strip()
        for prefix, text in getattr(self, "rendered", {}).items():
            if source.startswith(prefix + "."):
                return text
        return ""

    def embed_template(self, file: HclFile, node, literal_base64: bool) -> str:
        region = _template_region(file, node)
        if region is None:
            return ""
        start, end, quoted = region
        inner, segments = hcl_template.decode(file.text, start, end, quoted=quoted)
        if literal_base64 and quoted:
            decoded = _decode_base64(inner)
            if decoded is not None:
                inner, segments = decoded, [_whole(start, end, len(decoded))]
                return self.embed(file, inner, segments, None, "base64 user_data", writable=False)
        escape = hcl_template.escape_quoted if quoted else hcl_template.escape_template
        return self.embed(file, inner, segments, escape, "terraform user_data")

    def embed(self, file: HclFile, inner: str, segments, escape, label: str, writable: bool = True) -> str:
        if not file.own:
            return inner  # a sibling file's script is scanned when that file is
        key = Span(segments[0].outer_start, segments[-1].outer_end) if segments else Span(0, 0)
        if key in self.embedded or not inner.strip():
            return inner
        self.embedded.add(key)
        from imds_lint.model import no_escape

        doc = self.document.embed(_script_kind(inner), inner, OffsetMap(segments),
                                  escape=escape or no_escape, label=label, writable=writable)
        self.children.extend(self.session.analyze(doc))
        return inner

    def rendered_source(self, block: Block) -> None:
        """``data "cloudinit_config"`` parts and ``data "template_file"`` templates are user-data too."""
        kind, name = block.labels
        texts = []
        if kind == "cloudinit_config":
            for part in block.sub_blocks("part"):
                content = part.attributes().get("content")
                if content is not None:
                    texts.append(self.script(self.file, content))
        else:
            template = block.attributes().get("template")
            if template is not None:
                texts.append(self.script(self.file, template))
        self.rendered[f"data.{kind}.{name}"] = "\n".join(t for t in texts if t)

    def linked_file(self, file: HclFile, function: str, path_node) -> str:
        node = unwrap(path_node)
        written = file.source(path_node).strip()
        resolved = ""
        if node is not None and node.type == "quoted_template":
            span = file.span(node)
            raw = file.text[span.start + 1:span.end - 1]
            relative = raw
            for prefix in ("${path.module}/", "${path.root}/", "${path.cwd}/", "./"):
                if relative.startswith(prefix):
                    relative = relative[len(prefix):]
                    break
            if "${" not in relative and self.path and self.project is not None:
                # Outside the scan root it is neither read nor recorded.
                resolved = self.project.relative_to(self.path, relative) or ""
        read = self.project.read(resolved, _MAX_TEMPLATE_BYTES) if resolved else None
        content = read.text if read is not None else None
        if file.own:
            self.analysis.add_fact(TEMPLATE_LINK, TemplateLink(function, resolved, written, file.span(path_node),
                                                               content is not None))
        return content or ""

    # -- compute resources ----------------------------------------------------
    def resource(self, block: Block) -> None:
        rtype, name = block.labels
        if rtype == "aws_ec2_instance_metadata_defaults":
            attrs = block.attributes()
            self.analysis.add_fact(COMPUTE, ComputeResource(
                "terraform", rtype, name, block.header_span, self.file.span(block.node), True,
                tokens=self.module.value(self.file, attrs.get("http_tokens")),
                endpoint=self.module.value(self.file, attrs.get("http_endpoint")),
                hop_limit=self.module.value(self.file, attrs.get("http_put_response_hop_limit")),
                default_tokens="no-preference", account_defaults=True,
                handle=TerraformHandle(block, None, "attributes"),
            ))
            return
        if rtype == "aws_ecs_task_definition":
            self.ecs_task(block)
            return
        if rtype not in _INSTANCE_TYPES:
            return
        script = self.user_data(block)
        options = block.sub_blocks("metadata_options")
        mo = options[0] if options else None
        attrs = mo.attributes() if mo is not None else {}
        # Modules write the options as `dynamic "metadata_options" { content { ... } }`: that
        # is a block that is there (values usually from variables), not an absent one.
        dynamic = block.dynamic_content("metadata_options") if mo is None else None
        if dynamic is not None:
            attrs = dynamic.attributes()
        enforced = None
        if mo is None and dynamic is None and rtype in ("aws_instance", "aws_spot_instance_request"):
            enforced = self.launch_template_enforcing(block)
        # Every signal the block has: its user-data, and its own text (Kubernetes tags, an
        # EKS/ECS-optimized AMI), then the node group that uses it.
        containers = container_signs(script + "\n" + block.file.source(block.node))
        if containers is None and rtype == "aws_launch_template" and self.used_by_eks(name):
            containers = "is the launch template of an EKS node group"
        self.analysis.add_fact(COMPUTE, ComputeResource(
            "terraform", rtype, name, block.header_span, self.file.span(block.node), mo is not None or dynamic is not None,
            tokens=self.module.value(self.file, attrs.get("http_tokens")),
            endpoint=self.module.value(self.file, attrs.get("http_endpoint")),
            hop_limit=self.module.value(self.file, attrs.get("http_put_response_hop_limit")),
            enforced_by=enforced, containers=containers, handle=TerraformHandle(block, mo, "block"),
        ))

    # -- ECS task definitions ---------------------------------------------------
    def ecs_task(self, block: Block) -> None:
        """Container commands of ``aws_ecs_task_definition``, with the task's ``network_mode``."""
        from imds_lint.frontends import orchestrators

        attrs = block.attributes()
        definitions = attrs.get("container_definitions")
        if definitions is None:
            return
        containers = self.ecs_containers(definitions)
        if not containers:
            return
        self.embedded.add(self.file.span(definitions))
        mode = self.module.value(self.file, attrs.get("network_mode"))
        network = None if mode.value == UNKNOWN else orchestrators.ecs_network(mode.value)
        shown = network or f"unresolved {mode.via or 'network_mode'}"
        task = f"ECS task definition aws_ecs_task_definition.{block.labels[1]} (network_mode {shown})"
        orchestrators.emit_ecs_task(self.document, self.session, self.analysis, self.children, task, network,
                                    containers)

    def ecs_containers(self, node, depth: int = 0) -> list:
        """``container_definitions``: ``jsonencode([...])`` of HCL values, or a JSON heredoc/string."""
        import json

        from imds_lint.frontends import orchestrators

        inner = unwrap(node)
        if inner is None or depth > 6:
            return []
        if inner.type == "function_call":
            name = self.file.source(inner.named_children[0]) if inner.named_children else ""
            args_node = next((c for c in inner.named_children if c.type == "function_arguments"), None)
            args = [c for c in args_node.named_children if c.type == "expression"] if args_node is not None else []
            if name == "jsonencode" and args:
                return self.hcl_containers(args[0])
            return []
        if inner.type in ("heredoc_template", "quoted_template", "string_lit"):
            region = _template_region(self.file, inner)
            if region is None:
                return []
            start, end, quoted = region
            text, segments = hcl_template.decode(self.file.text, start, end, quoted=quoted)
            try:
                data = json.loads(text)
            except ValueError:
                return []
            offsets = OffsetMap(segments)
            locator = orchestrators.JsonLocator(text)

            def find(value: str):
                # Findings land on the JSON string; no rewrites through JSON inside HCL.
                word = locator.find(value)
                if word.span is None:
                    return word
                return orchestrators.Word(value, Span(offsets.to_outer(word.span.start), offsets.to_outer(word.span.end)))

            return orchestrators.ecs_containers(data, find)
        ref = self.module.reference(self.file, node)
        if ref is not None and ref[0] is self.file:
            return self.ecs_containers(ref[1], depth + 1)
        return []

    def hcl_containers(self, node) -> list:
        """The container objects of a ``jsonencode`` argument, read from the HCL tree."""
        from imds_lint.frontends import orchestrators

        inner = unwrap(node)
        if inner is None or inner.type != "tuple":
            return []
        found = []
        for element in (c for c in inner.named_children if c.type == "expression"):
            items = object_items(self.file, element)
            if items is None:
                continue
            name = string_literal(self.file, items["name"]) if "name" in items else None
            health = object_items(self.file, items["healthCheck"]) if "healthCheck" in items else None
            found.append(orchestrators.EcsContainer(
                name or "?",
                self.hcl_words(items.get("entryPoint")),
                self.hcl_words(items.get("command")),
                self.hcl_words((health or {}).get("command")),
            ))
        return found

    def hcl_words(self, node) -> list:
        """A list of HCL strings as command words mapped back to the source, with HCL escaping."""
        from imds_lint.frontends import orchestrators

        inner = unwrap(node)
        if inner is None or inner.type != "tuple":
            return []
        words = []
        for element in (c for c in inner.named_children if c.type == "expression"):
            value = unwrap(element)
            region = _template_region(self.file, value) if value is not None else None
            if region is None:
                words.append(orchestrators.Word(hcl_template.PLACEHOLDER, self.file.span(element)))
                continue
            start, end, quoted = region
            text, segments = hcl_template.decode(self.file.text, start, end, quoted=quoted)
            escape = hcl_template.escape_quoted if quoted else hcl_template.escape_template
            words.append(orchestrators.Word(text, Span(start, end), offsets=OffsetMap(segments), escape=escape))
        return words

    def launch_template_enforcing(self, block: Block) -> str | None:
        for lt in block.sub_blocks("launch_template"):
            for ref in lt.attributes().values():
                text = self.file.source(ref)
                parts = text.strip().split(".")
                if len(parts) >= 2 and parts[0] == "aws_launch_template":
                    target = self.module.resource("aws_launch_template", parts[1])
                    if target is None:
                        continue
                    mos = target.sub_blocks("metadata_options")
                    if mos:
                        tokens = self.module.value(target.file, mos[0].attributes().get("http_tokens"))
                        if tokens.value == "required":
                            return f"launch template {parts[1]}"
        return None

    def used_by_eks(self, name: str) -> bool:
        needle = f"aws_launch_template.{name}."
        for block in self.module.resources_of("aws_eks_node_group"):
            if needle in block.file.source(block.node):
                return True
        return False

    def module_block(self, block: Block) -> None:
        attrs = block.attributes()
        source = string_literal(self.file, attrs["source"]) if "source" in attrs else None
        if not source or "terraform-aws-modules" not in source and "terraform-aws-" not in source:
            return
        match = next((m for m in _MODULES if m[0] in source), None)
        if match is None:
            return
        _, mtype, default_tokens, default_hop, module_containers = match
        if mtype == "module:autoscaling":
            create = self.module.value(self.file, attrs.get("create_launch_template"))
            if create.value == "false":
                return
        script = self.user_data(block)
        options = self.module.object(self.file, attrs["metadata_options"]) if "metadata_options" in attrs else None
        items = options[1] if options is not None else {}
        ofile = options[0] if options is not None else self.file
        in_place = options is not None and ofile is self.file and object_items(self.file, attrs["metadata_options"]) is not None

        def setting(key: str) -> Setting:
            node = items.get(key)
            if node is None:
                return Setting()
            value = self.module.value(ofile, node)
            return value if in_place else Setting(value.value, None, value.via or "metadata_options")

        if options is None and "metadata_options" in attrs:
            unknown = Setting(UNKNOWN, None, self.file.source(attrs["metadata_options"]).strip()[:60])
            tokens, endpoint, hop = unknown, Setting(), Setting()
        else:
            tokens, endpoint, hop = setting("http_tokens"), setting("http_endpoint"), setting("http_put_response_hop_limit")
        containers = module_containers or (container_signs(script) if script else None)
        self.analysis.add_fact(COMPUTE, ComputeResource(
            "terraform", mtype, block.labels[0], block.header_span, self.file.span(block.node),
            "metadata_options" in attrs, tokens=tokens, endpoint=endpoint, hop_limit=hop,
            default_tokens=default_tokens, default_hop_limit=default_hop, containers=containers,
            handle=TerraformHandle(block, attrs.get("metadata_options") if in_place else None, "object"),
        ))

    # -- data "http" ------------------------------------------------------------
    def http_data(self, block: Block) -> None:
        attrs = block.attributes()
        url_node = attrs.get("url")
        url = string_literal(self.file, url_node) if url_node is not None else None
        if url is None:
            return
        imds = parse_imds_url(url)
        if imds is None:
            return
        method = string_literal(self.file, attrs["method"]) if "method" in attrs else None
        headers = []
        unknown_headers = False
        if "request_headers" in attrs:
            items = self.module.object(self.file, attrs["request_headers"])
            if items is None:
                unknown_headers = True
            else:
                for key, value in items[1].items():
                    headers.append(Header(key, string_literal(items[0], value), span=None,
                                          name_span=None, value_span=None))
        self.analysis.requests.append(Request(
            client='terraform data "http"', url=url, endpoint=imds.endpoint, path=imds.path,
            method=(method or "GET").upper(), method_explicit=method is not None, headers=tuple(headers),
            span=self.file.span(block.node), anchor=self.file.span(url_node), document=self.document,
            headers_unknown=unknown_headers,
        ))

    def problems(self) -> None:
        root = self.file.tree.root_node
        if not root.has_error:
            return
        for node in _walk(root):
            if node.type == "ERROR" or node.is_missing:
                self.analysis.problems.append(ParseProblem(self.file.span(node), "the HCL grammar could not parse this"))
                return


def _template_region(file: HclFile, node) -> tuple[int, int, bool] | None:
    """(start, end, quoted) of a heredoc's or quoted string's content, for ``hcl_template.decode``."""
    if node.type not in ("heredoc_template", "quoted_template", "string_lit"):
        return None
    span = file.span(node)
    if node.type == "heredoc_template":
        first_newline = file.text.find("\n", span.start)
        closing_line = file.text.rfind("\n", span.start, span.end)
        if first_newline == -1 or closing_line <= first_newline:
            return None
        return first_newline + 1, closing_line + 1, False
    return span.start + 1, span.end - 1, True


def _decode_base64(text: str) -> str | None:
    compact = "".join(text.split())
    if len(compact) < 8 or len(compact) % 4:
        return None
    try:
        raw = base64.b64decode(compact, validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _whole(start: int, end: int, length: int):
    from imds_lint.model import Segment

    return Segment(0, length, start, end)




def analyze(document: Document, session) -> list[Analysis]:
    return _Analyzer(document, session).run()


def syntax_errors(text: str) -> int:
    tree, _ = parse(text)
    if not tree.root_node.has_error:
        return 0
    return sum(1 for n in _walk(tree.root_node) if n.type == "ERROR" or n.is_missing)

