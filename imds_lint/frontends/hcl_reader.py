"""What the HCL front-ends (Terraform, Packer) read alike, on the public tree of ``imds_lint.hcl``.

* user-data scripts written as heredocs or quoted strings (possibly base64 or
  wrapped in ``base64encode`` and friends, or held in a ``local``), embedded as
  documents whose fixes are escaped back into HCL (``$${``, ``%%{``, quoted
  strings' backslashes);
* ``templatefile(...)`` / ``file(...)`` targets, read through the project index
  only to learn whether the instance runs containers (the template is scanned
  as a file of its own), recorded as ``TemplateLink`` facts;
* ``var.*`` / ``local.*`` references, through the module (``hcl.module``);
* syntax problems of the tree.

A front-end subclasses ``HclReader`` and adds the blocks of its language.
"""

from __future__ import annotations

import base64
import binascii

from imds_lint.frontends import Analysis, ParseProblem
from imds_lint.frontends.iac import Setting
from imds_lint.hcl import template as hcl_template
from imds_lint.hcl.module import HclModule
from imds_lint.hcl.tree import Block, HclFile, unwrap
from imds_lint.kinds import Kind, sniff
from imds_lint.model import Document, OffsetMap, Span
from imds_lint.records import dataclass
from imds_lint.syntax.treesitter import walk

TEMPLATE_LINK = "terraform.template_link"
MAX_TEMPLATE_BYTES = 1_000_000
USER_DATA = ("user_data", "user_data_base64")
# Functions whose value is (a transform of) their first argument's script.
WRAPPERS = {"base64encode", "base64gzip", "trimspace", "chomp", "trim", "replace", "format"}


@dataclass(frozen=True, slots=True)
class TemplateLink:
    """``user_data = templatefile("x.tftpl", ...)``: the template is scanned as a file of its own."""

    function: str
    path: str  # as resolved against the .tf file's folder ("" when unknown)
    written: str
    span: Span
    exists: bool


def script_kind(text: str) -> str:
    """What a user-data script is: shell unless it declares cloud-init, MIME or PowerShell."""
    declared = sniff(text)
    if declared is not None:
        return declared
    return Kind.SHELL


class HclReader:
    """One HCL document: its tree, module namespace, analysis and embedded documents."""

    # What labels embedded documents ("terraform user_data") and which sibling files share the module.
    language = "terraform"
    sibling_suffix = ".tf"

    def __init__(self, document: Document, session):
        self.document = document
        self.session = session
        self.file = HclFile(document.text, own=True)
        # The file the root document came from (the engine's session knows it), for sibling .tf files and templates.
        origin = getattr(session, "origin", None)
        self.path = str(origin) if origin is not None and document.parent is None else ""
        self.project = getattr(session, "project", None)
        self.module = HclModule(self.file, self.path, self.project, self.sibling_suffix)
        self.analysis = Analysis(document)
        self.children: list[Analysis] = []
        self.embedded: set[Span] = set()

    # -- user-data ------------------------------------------------------------
    def user_data(self, block: Block) -> str:
        """Embed the block's user-data scripts; return their text (for container signs)."""
        texts = []
        # A launch template's user_data is base64 by the EC2 API's contract (Terraform passes it on as is).
        template = bool(block.labels) and block.labels[0] == "aws_launch_template"
        for name in USER_DATA:
            expr = block.attributes().get(name)
            if expr is not None:
                texts.append(self.script(self.file, expr, literal_base64=name == "user_data_base64" or template))
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
            if name in WRAPPERS and args:
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
        region = template_region(file, node)
        if region is None:
            return ""
        start, end, quoted = region
        inner, segments = hcl_template.decode(file.text, start, end, quoted=quoted)
        if literal_base64 and quoted:
            decoded = decode_base64(inner)
            if decoded is not None:
                from imds_lint.decoding import b64_renderer

                # A literal without interpolations is written back re-encoded, laid out as it was.
                render = b64_renderer(inner) if file.text[start:end] == inner else None
                literal = Span(start, end)
                inner, segments = decoded, [whole(start, end, len(decoded))]
                return self.embed(file, inner, segments, None, "base64 user_data", writable=render is not None,
                                  render=render, rendered_span=literal)
        escape = hcl_template.escape_quoted if quoted else hcl_template.escape_template
        return self.embed(file, inner, segments, escape, f"{self.language} user_data")

    def embed(self, file: HclFile, inner: str, segments, escape, label: str, writable: bool = True,
              render=None, rendered_span: Span | None = None) -> str:
        if not file.own:
            return inner  # a sibling file's script is scanned when that file is
        key = Span(segments[0].outer_start, segments[-1].outer_end) if segments else Span(0, 0)
        if key in self.embedded or not inner.strip():
            return inner
        self.embedded.add(key)
        from imds_lint.model import no_escape

        doc = self.document.embed(script_kind(inner), inner, OffsetMap(segments),
                                  escape=escape or no_escape, label=label, writable=writable, render=render,
                                  rendered_span=rendered_span)
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
        read = self.project.read(resolved, MAX_TEMPLATE_BYTES) if resolved else None
        content = read.text if read is not None else None
        if file.own:
            self.analysis.add_fact(TEMPLATE_LINK, TemplateLink(function, resolved, written, file.span(path_node),
                                                               content is not None))
        return content or ""

    def problems(self) -> None:
        root = self.file.tree.root_node
        if not root.has_error:
            return
        for node in walk(root):
            if node.type == "ERROR" or node.is_missing:
                self.analysis.problems.append(ParseProblem(self.file.span(node), "the HCL grammar could not parse this"))
                return

    def metadata_options(self, block: Block) -> tuple[Block | None, bool, dict[str, Setting]]:
        """A block's ``metadata_options``: the block (None when absent or dynamic), whether options
        are written, and each option's resolved value. Modules write them as ``dynamic
        "metadata_options" { content { ... } }``: a block that is there (values usually from
        variables), not an absent one."""
        options = block.sub_blocks("metadata_options")
        mo = options[0] if options else None
        attrs = mo.attributes() if mo is not None else {}
        dynamic = block.dynamic_content("metadata_options") if mo is None else None
        if dynamic is not None:
            attrs = dynamic.attributes()
        values = {key: self.module.value(self.file, attrs.get(key))
                  for key in ("http_tokens", "http_endpoint", "http_put_response_hop_limit")}
        return mo, mo is not None or dynamic is not None, values

    def finish(self) -> list[Analysis]:
        """Syntax problems and encoded payloads the blocks did not embed; the analyses to return."""
        self.problems()
        from imds_lint.frontends import blobs

        self.children.extend(blobs.scan(self.document, self.session, skip=sorted(self.embedded)))
        return [self.analysis, *self.children]


def read_document(make_reader) -> list[Analysis]:
    """``make_reader().run()``; when it fails while ``hcl.quick`` was reading, once more on
    tree-sitter's trees, so a disagreement between quick's patterns and its reader costs time,
    never the file's findings (the engine would text-scan it and call it an internal error)."""
    from imds_lint.hcl import tree as hcl_tree

    try:
        return make_reader().run()
    except Exception:
        if not hcl_tree.quick_on():
            raise
        return hcl_tree.without_quick(lambda: make_reader().run())


def template_region(file: HclFile, node) -> tuple[int, int, bool] | None:
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


def decode_base64(text: str) -> str | None:
    compact = "".join(text.split())
    if len(compact) < 8 or len(compact) % 4:
        return None
    try:
        raw = base64.b64decode(compact, validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def whole(start: int, end: int, length: int):
    from imds_lint.model import Segment

    return Segment(0, length, start, end)
