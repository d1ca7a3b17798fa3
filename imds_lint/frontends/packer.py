"""Packer templates: HCL2 (``.pkr.hcl``, ``Kind.PACKER``) and legacy JSON.

HCL2 templates are read on the same tree model as Terraform (``imds_lint.hcl``,
through ``frontends.hcl_reader``), as a peer: Terraform never sees a Packer
block, and a Packer template's variables come from the folder's other
``.pkr.hcl`` files (the ones Packer loads with it), not from its ``.tf`` files.

* ``source "amazon-ebs" ...`` (and the other ``amazon-*`` builders): the
  build instance is a compute resource (``iac.compute`` fact, language
  "packer"), with ``metadata_options { http_tokens = ... }`` as for
  Terraform, so IMDS301 applies; ``user_data`` is embedded shell.
* ``provisioner "shell"`` ``inline`` strings are embedded shell; ``script``/
  ``scripts`` paths are files of the repo and are scanned on their own.
"""

from __future__ import annotations

from imds_lint.frontends import Analysis
from imds_lint.frontends.hcl_reader import HclReader, read_document
from imds_lint.frontends import yaml_nodes as yn
from imds_lint.frontends.iac import COMPUTE, ComputeResource, Setting
# The fix loop's parse check, shared with Terraform.
from imds_lint.hcl.tree import Block, syntax_errors  # noqa: F401
from imds_lint.kinds import Kind
from imds_lint.model import Document, Span
from imds_lint.syntax.iac import TerraformHandle


class _PackerReader(HclReader):
    """A Packer HCL2 template: its ``source`` and ``build`` blocks."""

    language = "packer"
    sibling_suffix = ".pkr.hcl"

    def run(self) -> list[Analysis]:
        for block in self.file.blocks():
            if block.type == "source":
                self.source(block)
            elif block.type == "build":
                self.build(block)
        return self.finish()

    def source(self, block: Block) -> None:
        if len(block.labels) != 2 or not block.labels[0].startswith("amazon-"):
            return
        builder, name = block.labels
        self.user_data(block)
        mo, written, options = self.metadata_options(block)
        self.analysis.add_fact(COMPUTE, ComputeResource(
            "packer", builder, name, block.header_span, self.file.span(block.node), written,
            tokens=options["http_tokens"], endpoint=options["http_endpoint"],
            hop_limit=options["http_put_response_hop_limit"], handle=TerraformHandle(block, mo, "block"),
        ))

    def build(self, block: Block) -> None:
        for provisioner in block.sub_blocks("provisioner"):
            if provisioner.labels[:1] != ["shell"]:
                continue
            inline = provisioner.attributes().get("inline")
            if inline is None:
                continue
            for node in _strings(inline):
                self.script(self.file, node)


def analyze(document: Document, session) -> list[Analysis]:
    """A ``.pkr.hcl`` template (legacy JSON templates come through ``structured``: ``analyze_json``)."""
    return read_document(lambda: _PackerReader(document, session))


def _strings(node):
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in ("string_lit", "quoted_template", "heredoc_template"):
            yield current
            continue
        stack.extend(reversed(current.named_children))


def analyze_json(document: Document, session) -> list[Analysis]:
    import yaml

    from imds_lint.frontends.cloudinit import _scalar_document

    analysis = Analysis(document)
    try:
        root = yn.compose(document.text)
    except yaml.YAMLError:
        from imds_lint.frontends import text

        return text.analyze(document, session)
    children: list[Analysis] = []
    builders = yn.get(root, "builders")
    for builder in builders.value if builders is not None and builders.id == "sequence" else []:
        btype = yn.get(builder, "type")
        if btype is None or not str(btype.value).startswith("amazon-"):
            continue
        user_data = yn.get(builder, "user_data")
        if user_data is not None and user_data.id == "scalar":
            children.extend(session.analyze(_scalar_document(document, user_data, Kind.SHELL, "packer user_data")))
        options = yn.get(builder, "metadata_options")
        name = yn.get(builder, "name")
        analysis.add_fact(COMPUTE, ComputeResource(
            "packer", str(btype.value), str(name.value) if name is not None else str(btype.value),
            Span(builder.start_mark.index, builder.start_mark.index + 1),
            Span(builder.start_mark.index, builder.end_mark.index), options is not None,
            tokens=_setting(yn.get(options, "http_tokens")),
            endpoint=_setting(yn.get(options, "http_endpoint")),
            hop_limit=_setting(yn.get(options, "http_put_response_hop_limit")),
        ))
    provisioners = yn.get(root, "provisioners")
    for provisioner in provisioners.value if provisioners is not None and provisioners.id == "sequence" else []:
        ptype = yn.get(provisioner, "type")
        if ptype is None or ptype.value != "shell":
            continue
        inline = yn.get(provisioner, "inline")
        items = [i for i in inline.value if i.id == "scalar"] if inline is not None and inline.id == "sequence" else []
        if len(items) == 1:
            children.extend(session.analyze(_scalar_document(document, items[0], Kind.SHELL, "packer inline")))
        elif items:
            children.extend(session.analyze(_inline_script(document, items)))
    return [analysis, *children]


def _inline_script(document: Document, items) -> Document:
    """A shell provisioner's ``inline`` lines as the one script Packer runs.

    Packer writes the elements to one file, one per line: ``if ...; then`` in one
    element and ``fi`` in another is a valid script, and a token read in one line
    is there for the next. Parsed element by element, neither was.
    """
    chars: yn.Chars = []
    exact = True
    for index, item in enumerate(items):
        item_chars, item_exact = yn.scalar_chars(document.text, item)
        exact = exact and item_exact and item.style == '"' and "\n" not in item.value
        if index:
            # The joining newline sits at the start of this element's string, so a line
            # inserted before its command is written into the same element.
            at = item_chars[0][1] if item_chars else item.start_mark.index + 1
            chars.append(("\n", at, at))
        chars.extend(item_chars)
    escape = (lambda s: s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")) if exact else None
    from imds_lint.model import no_escape

    inner = "".join(c for c, _, _ in chars)
    return document.embed(Kind.SHELL, inner, yn.offset_map(chars), escape=escape or no_escape,
                          label="packer inline", writable=escape is not None)


def _setting(node) -> Setting:
    if node is None or node.id != "scalar":
        return Setting()
    return Setting(str(node.value), Span(node.start_mark.index, node.end_mark.index))
