"""Shell hiding in YAML: Ansible playbooks and task files, and CI workflows.

* Ansible: ``uri``/``ansible.builtin.uri`` and ``get_url`` tasks are requests
  (url, method, headers; ``{{ var }}`` resolved from ``vars`` in the file);
  ``shell``/``command``/``raw`` (and ``cmd:``) are embedded shell. Plays with
  ``connection: docker`` run their tasks in containers.
* GitHub Actions ``run:`` steps, GitLab CI ``script``/``before_script``/
  ``after_script``, Buildkite ``command``/``commands``, CircleCI ``run`` steps:
  embedded shell. A job with ``container:`` (GitHub), ``image:`` (GitLab), a
  ``docker:`` executor (CircleCI) or the docker plugin (Buildkite) runs its
  steps in a container.

YAML goes through the safe composer in ``yaml_nodes``; scalars become embedded
documents through ``cloudinit._scalar_document`` (offset maps and YAML quoting
on the way back out).
"""

from __future__ import annotations

import re

from imds_lint.endpoints import is_foreign_metadata_header, parse_imds_url
from imds_lint.frontends import Analysis, ParseProblem
from imds_lint.frontends import yaml_nodes as yn
from imds_lint.kinds import Kind
from imds_lint.model import ContainerContext, Document, Header, Request, Span

_ANSIBLE_MODULE = re.compile(
    r"^\s*-?\s*(?:(?:ansible\.builtin|ansible\.legacy)\.)?(?:shell|command|raw|uri|get_url|hosts|tasks|"
    r"import_tasks|include_tasks|become)\s*:", re.M)
_GITHUB = re.compile(r"^jobs\s*:", re.M)
_RUNS_ON = re.compile(r"^\s+runs-on\s*:", re.M)
_GITLAB_SCRIPT = re.compile(r"^\s+(?:before_|after_)?script\s*:", re.M)
_CIRCLE = re.compile(r"^version\s*:\s*['\"]?2", re.M)
_BUILDKITE = re.compile(r"^steps\s*:", re.M)


def looks_like_github_actions(text: str) -> bool:
    return _GITHUB.search(text) is not None and _RUNS_ON.search(text) is not None


def looks_like_circleci(text: str) -> bool:
    return _CIRCLE.search(text) is not None and _GITHUB.search(text) is not None and "steps" in text


def looks_like_gitlab_ci(text: str) -> bool:
    return _GITLAB_SCRIPT.search(text) is not None and _GITHUB.search(text) is None


def looks_like_buildkite(text: str) -> bool:
    return _BUILDKITE.search(text) is not None and ("command:" in text or "commands:" in text)


def looks_like_ansible(text: str) -> bool:
    body = re.sub(r"(?m)^\s*(#.*)?$\n?", "", text).lstrip()
    body = body[3:].lstrip() if body.startswith("---") else body
    return body.startswith("- ") and _ANSIBLE_MODULE.search(text) is not None


def _root(document: Document) -> tuple[Analysis, object | None]:
    import yaml

    analysis = Analysis(document)
    try:
        return analysis, yn.compose(document.text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = mark.index if mark is not None else 0
        analysis.problems.append(ParseProblem(Span(at, min(at + 1, len(document.text))),
                                              f"YAML does not parse: {getattr(exc, 'problem', exc)}", exact=True))
        return analysis, None


def _shell(document: Document, session, node, label: str, container: ContainerContext | None,
           variables: dict[str, str] | None = None) -> list[Analysis]:
    from imds_lint.frontends.cloudinit import _scalar_document

    if node is None:
        return []
    if node.id == "sequence":
        return [a for item in node.value for a in _shell(document, session, item, label, container, variables)]
    if node.id != "scalar" or not isinstance(node.value, str) or not node.value.strip():
        return []
    if variables is not None and "{{" in node.value:
        # Jinja renders before the shell runs: scan the rendered text, read-only, at the scalar.
        rendered, offsets = _render_mapped(document.text, node, variables)
        inner = document.embed(Kind.SHELL, rendered, offsets, label=label, writable=False, container=container)
        return session.analyze(inner)
    inner = _scalar_document(document, node, Kind.SHELL, label)
    if container is not None:
        inner.container = container
    return session.analyze(inner)


def _mapping_items(node):
    """A mapping's (key, value) pairs with plain scalar keys; YAML also allows a mapping as a key."""
    if node is None or node.id != "mapping":
        return []
    return [(key, value) for key, value in node.value if key.id == "scalar" and isinstance(key.value, str)]


def _scalar(node) -> str | None:
    return node.value if node is not None and node.id == "scalar" and isinstance(node.value, str) else None


# -- CI workflows --------------------------------------------------------------------------


def analyze_github_actions(document: Document, session) -> list[Analysis]:
    analysis, root = _root(document)
    children: list[Analysis] = []
    for name_node, job in _mapping_items(yn.get(root, "jobs")):
        container = None
        spec = yn.get(job, "container")
        if spec is not None:
            image = _scalar(spec) or _scalar(yn.get(spec, "image")) or "a container"
            container = ContainerContext(f"GitHub Actions job '{name_node.value}' runs in container {image}")
        steps = yn.get(job, "steps")
        for step in steps.value if steps is not None and steps.id == "sequence" else []:
            children.extend(_shell(document, session, yn.get(step, "run"), "GitHub Actions run", container))
    return [analysis, *children]


_GITLAB_RESERVED = {"stages", "variables", "include", "workflow", "default", "image", "services", "cache",
                    "before_script", "after_script"}


def analyze_gitlab_ci(document: Document, session) -> list[Analysis]:
    analysis, root = _root(document)
    children: list[Analysis] = []
    default = yn.get(root, "default")
    default_image = _image(yn.get(root, "image")) or _image(yn.get(default, "image"))
    for key in ("before_script", "after_script"):
        for node in (yn.get(root, key), yn.get(default, key)):
            children.extend(_shell(document, session, node, f"GitLab CI {key}", _gitlab_context("default", default_image)))
    for name_node, job in _mapping_items(root):
        if name_node.value in _GITLAB_RESERVED or job.id != "mapping":
            continue
        image = _image(yn.get(job, "image")) or default_image
        context = _gitlab_context(name_node.value, image)
        for key in ("before_script", "script", "after_script"):
            children.extend(_shell(document, session, yn.get(job, key), f"GitLab CI {key}", context))
    return [analysis, *children]


def _image(node) -> str | None:
    return _scalar(node) or _scalar(yn.get(node, "name"))


def _gitlab_context(job: str, image: str | None) -> ContainerContext | None:
    if image is None:
        return None
    return ContainerContext(f"GitLab CI job '{job}' runs in image {image} (Docker/Kubernetes executor)")


def analyze_circleci(document: Document, session) -> list[Analysis]:
    analysis, root = _root(document)
    children: list[Analysis] = []
    for name_node, job in _mapping_items(yn.get(root, "jobs")):
        docker = yn.get(job, "docker")
        container = None
        if docker is not None and docker.id == "sequence" and docker.value:
            image = _scalar(yn.get(docker.value[0], "image")) or "a Docker image"
            container = ContainerContext(f"CircleCI job '{name_node.value}' runs in {image}")
        steps = yn.get(job, "steps")
        for step in steps.value if steps is not None and steps.id == "sequence" else []:
            run = yn.get(step, "run")
            command = yn.get(run, "command") if run is not None and run.id == "mapping" else run
            children.extend(_shell(document, session, command, "CircleCI run", container))
    return [analysis, *children]


def analyze_buildkite(document: Document, session) -> list[Analysis]:
    analysis, root = _root(document)
    children: list[Analysis] = []
    steps = yn.get(root, "steps")
    for step in steps.value if steps is not None and steps.id == "sequence" else []:
        plugins = document.text[step.start_mark.index:step.end_mark.index]
        container = ContainerContext("Buildkite step runs in the docker plugin's container") \
            if re.search(r"docker(?:-compose)?#v", plugins) else None
        for key in ("command", "commands"):
            children.extend(_shell(document, session, yn.get(step, key), "Buildkite command", container))
    return [analysis, *children]


# -- Ansible -------------------------------------------------------------------------------

_SHELL_MODULES = {"shell", "command", "raw", "script"}
_JINJA = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def analyze_ansible(document: Document, session) -> list[Analysis]:
    analysis, root = _root(document)
    if root is None or root.id != "sequence":
        return [analysis]
    variables: dict[str, str] = {}
    _collect_vars(root, variables)
    children: list[Analysis] = []
    for item in root.value:
        if yn.get(item, "hosts") is not None or yn.get(item, "tasks") is not None:
            connection = _scalar(yn.get(item, "connection"))
            container = ContainerContext(f"Ansible play with connection: {connection}") \
                if connection in ("docker", "community.docker.docker", "podman", "containers.podman.podman") else None
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                tasks = yn.get(item, key)
                for task in tasks.value if tasks is not None and tasks.id == "sequence" else []:
                    children.extend(_task(document, session, analysis, task, variables, container))
        else:
            children.extend(_task(document, session, analysis, item, variables, None))
    return [analysis, *children]


def _collect_vars(node, variables: dict[str, str]) -> None:
    if node is None:
        return
    if node.id == "sequence":
        for item in node.value:
            _collect_vars(item, variables)
    elif node.id == "mapping":
        for key, value in node.value:
            if key.value in ("vars", "set_fact", "ansible.builtin.set_fact"):
                for k, v in _mapping_items(value):
                    if _scalar(v) is not None:
                        variables.setdefault(k.value, v.value)
            elif value.id in ("sequence", "mapping"):
                _collect_vars(value, variables)


def _module(task) -> tuple[str, object] | tuple[None, None]:
    for key, value in _mapping_items(task):
        name = str(key.value).rsplit(".", 1)[-1] if str(key.value).startswith(("ansible.builtin.", "ansible.legacy.")) \
            else key.value
        if name in _SHELL_MODULES or name in ("uri", "get_url"):
            return name, value
    return None, None


def _task(document, session, analysis, task, variables, container) -> list[Analysis]:
    if task is None or task.id != "mapping":
        return []
    children: list[Analysis] = []
    for key in ("block", "rescue", "always"):
        block = yn.get(task, key)
        for inner in block.value if block is not None and block.id == "sequence" else []:
            children.extend(_task(document, session, analysis, inner, variables, container))
    module, value = _module(task)
    if module is None:
        return children
    if module in _SHELL_MODULES:
        if module == "script":
            return children
        command = value if value.id == "scalar" else yn.get(value, "cmd")
        children.extend(_shell(document, session, command, f"Ansible {module}", container, variables))
        return children
    _ansible_request(document, analysis, module, task, value, variables, container)
    return children


def _render_mapped(text: str, node, variables: dict[str, str]):
    """The rendered scalar and its map back: text between ``{{ }}`` maps character for character,
    each ``{{ name }}`` to its own whole span (so a finding's caret covers the expression, and the
    words around it stay where they are). Scalars with escapes map wholly to their start."""
    from imds_lint.model import OffsetMap, Segment

    value = node.value
    chars, exact = yn.scalar_chars(text, node)
    if not exact or not chars:
        rendered = _render(value, variables)
        start, end = node.start_mark.index, node.end_mark.index
        return rendered, OffsetMap([Segment(0, len(rendered), start, end)])
    body = chars[0][1]
    pieces: list[str] = []
    segments: list[Segment] = []
    inner = previous = 0
    for match in _JINJA.finditer(value):
        if match.start() > previous:
            run = value[previous:match.start()]
            segments.append(Segment(inner, inner + len(run), body + previous, body + match.start()))
            pieces.append(run)
            inner += len(run)
        substituted = _render(variables.get(match.group(1), "…"), variables)
        segments.append(Segment(inner, inner + len(substituted), body + match.start(), body + match.end()))
        pieces.append(substituted)
        inner += len(substituted)
        previous = match.end()
    if previous < len(value):
        segments.append(Segment(inner, inner + len(value) - previous, body + previous, body + len(value)))
        pieces.append(value[previous:])
    return "".join(pieces), OffsetMap(segments)


def _render(value: str, variables: dict[str, str], depth: int = 0) -> str:
    if depth > 4:
        return value
    rendered = _JINJA.sub(lambda m: variables.get(m.group(1), "…"), value)
    return _render(rendered, variables, depth + 1) if rendered != value and "{{" in rendered else rendered


def _ansible_request(document, analysis, module, task, args, variables, container) -> None:
    from imds_lint.frontends.sourcecode import normalise_url

    url_node = yn.get(args, "url")
    url = _scalar(url_node)
    if url is None:
        return
    url = normalise_url(_render(url, variables))
    imds = parse_imds_url(url)
    if imds is None:
        return
    method_node = yn.get(args, "method")
    method = (_scalar(method_node) or "GET").upper()
    headers = []
    headers_node = yn.get(args, "headers")
    unknown = headers_node is not None and headers_node.id != "mapping"
    for key, value in _mapping_items(headers_node):
        headers.append(Header(str(key.value), _render(_scalar(value) or "", variables),
                              span=Span(key.start_mark.index, value.end_mark.index),
                              name_span=Span(key.start_mark.index, key.end_mark.index) if key.style is None else None))
    if any(is_foreign_metadata_header(h.name, h.value) for h in headers):
        return
    anchor = url_node
    analysis.requests.append(Request(
        client=f"Ansible {module}", url=url, endpoint=imds.endpoint, path=imds.path, method=method,
        method_explicit=method_node is not None, headers=tuple(headers), headers_unknown=unknown,
        span=Span(task.start_mark.index, task.end_mark.index),
        anchor=Span(anchor.start_mark.index, anchor.end_mark.index), document=document,
        container=container or document.container,
    ))
