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

User-data, templates and variables are read as for Packer (``frontends.hcl_reader``), on
the public tree model of ``imds_lint.hcl``; the fixer is ``fixers.terraform``.
"""

from __future__ import annotations

from imds_lint.endpoints import parse_imds_url
from imds_lint.frontends import Analysis
from imds_lint.frontends.iac import COMPUTE, UNKNOWN, ComputeResource, Setting, container_signs, node_signs
# TEMPLATE_LINK is the fact name rules and tests know this front-end by.
from imds_lint.frontends.hcl_reader import TEMPLATE_LINK, HclReader, read_document, template_region  # noqa: F401
from imds_lint.hcl import template as hcl_template
from imds_lint.hcl.tree import Block, object_items, string_literal, unwrap
# The fix loop's parse check, shared with Packer.
from imds_lint.hcl.tree import syntax_errors  # noqa: F401
from imds_lint.model import Document, Header, OffsetMap, Request, Span
from imds_lint.syntax.iac import TerraformHandle


_INSTANCE_TYPES = {"aws_instance", "aws_launch_template", "aws_launch_configuration", "aws_spot_instance_request"}
# terraform-aws-modules sources -> (type, default tokens, default hop limit, runs containers?)
_MODULES = [
    ("eks-managed-node-group", "module:eks-managed-node-group", "required", 2, "is an EKS node group"),
    ("self-managed-node-group", "module:self-managed-node-group", "required", 2, "is an EKS node group"),
    ("ec2-instance", "module:ec2-instance", "required", 1, None),
    ("autoscaling", "module:autoscaling", "optional", 1, None),
]


class _Analyzer(HclReader):
    """A Terraform document: compute resources, modules, ECS task definitions, data "http"."""

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
        return self.finish()

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
        mo, written, options = self.metadata_options(block)
        enforced = None
        if not written and rtype in ("aws_instance", "aws_spot_instance_request"):
            enforced = self.launch_template_enforcing(block)
        containers = container_signs(script) if script else None
        # Its own text (Kubernetes tags, an EKS/ECS-optimized AMI, kops' nodeup) only hints.
        hint = node_signs(script + "\n" + block.file.source(block.node))
        if containers is None and rtype == "aws_launch_template" and self.used_by_eks(name):
            containers = "is the launch template of an EKS node group"
        self.analysis.add_fact(COMPUTE, ComputeResource(
            "terraform", rtype, name, block.header_span, self.file.span(block.node), written,
            tokens=options["http_tokens"], endpoint=options["http_endpoint"],
            hop_limit=options["http_put_response_hop_limit"], enforced_by=enforced, containers=containers,
            container_hint=hint, handle=TerraformHandle(block, mo, "block"),
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
            region = template_region(self.file, inner)
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
            region = template_region(self.file, value) if value is not None else None
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

def analyze(document: Document, session) -> list[Analysis]:
    return read_document(lambda: _Analyzer(document, session))

