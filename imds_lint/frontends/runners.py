"""Who runs a Dockerfile's image: a compose service or an ECS task definition of the repo.

The answer is the network the image's containers get (``ContainerContext``),
which decides whether a token PUT with hop limit 1 reaches IMDS (IMDS201).
Compose files and task definitions are read through the project index, in the
Dockerfile's folder and up to three parents (never above the scan root),
nearest folder first, compose before ECS within a folder:

* a compose service whose ``build`` context is the Dockerfile's folder (and
  whose ``dockerfile``, if given, names it);
* an ECS task definition (a ``*task-def*.json`` / ``*taskdef*.json`` file, the
  names the ECS deploy actions and CodeDeploy use, a Terraform
  ``aws_ecs_task_definition`` in a ``.tf`` file there, or a CloudFormation
  ``AWS::ECS::TaskDefinition`` in a JSON or YAML template there) with a
  container whose ``image`` repository is the Dockerfile's folder name or its
  ``Dockerfile.<name>`` suffix (in Terraform, also the ``aws_ecr_repository``
  it takes the image from; in CloudFormation, the ``AWS::ECR::Repository`` a
  ``!GetAtt``, ``!Ref``, ``!Sub`` or ``!Join`` names), or with one container
  beside the Dockerfile (the deploy pipeline writes its image in: the image is
  a placeholder).

The Dockerfile front-end asks the same of the Dockerfile that runs a script
by CMD/ENTRYPOINT, so the script's requests get the task's network too.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath

from imds_lint.kinds import Kind, kind_from_name
from imds_lint.model import ContainerContext

_COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
_TASK_DEFINITION_NAMES = re.compile(r"task[-_.]?def[^/]*\.json$", re.I)
_DOCKERFILE_SUFFIX = re.compile(r"^(?:dockerfile|containerfile)\.(.+)$|^(.+)\.(?:dockerfile|containerfile)$", re.I)
_TEMPLATE_NAMES = re.compile(r"\.(?:ya?ml|json|template|cfn|cform)$", re.I)
_LEVELS = 4


def task_definitions(data):
    """The task definitions in a JSON file: bare, or wrapped as the CLI prints or takes them."""
    if isinstance(data, dict):
        if isinstance(data.get("containerDefinitions"), list):
            yield data
        for key in ("taskDefinition", "TaskDefinition"):
            yield from task_definitions(data.get(key))
    elif isinstance(data, list):
        for item in data:
            yield from task_definitions(item)


def ecs_network(mode: str | None) -> str:
    """The task's network mode; ``bridge`` is the default on EC2 when none is given."""
    return str(mode or "bridge").strip().lower() or "bridge"


def container_context(path, project) -> ContainerContext | None:
    """For a Dockerfile that a compose service or ECS task of the repo runs: where it runs."""
    if project is None or kind_from_name(path) != Kind.DOCKERFILE:
        return None
    real = project.inside(path)
    if real is None:
        return None
    dockerfile, root = PurePath(real), PurePath(project.root_of(real))
    directory = dockerfile.parent
    for _ in range(_LEVELS):
        for name in _COMPOSE_NAMES:
            read = project.read(directory / name)
            found = _compose_builds(directory / name, read.text, dockerfile, root, project) if read else None
            if found is not None:
                return found
        for candidate in project.files_in(directory, _TASK_DEFINITION_NAMES.search):
            read = project.read(candidate)
            found = _task_runs(PurePath(candidate), read.text, dockerfile, root) if read else None
            if found is not None:
                return found
        for candidate in project.files_in(directory, lambda name: name.endswith(".tf")):
            read = project.read(candidate)
            if read is not None and "aws_ecs_task_definition" in read.text:
                # Parsed once per file version, however many Dockerfiles below it ask.
                tasks = project.memo(("ecs tasks", read.key),
                                     lambda: _terraform_tasks(candidate, read.text, project))
                found = _declared_task_runs(PurePath(candidate), tasks, dockerfile, root,
                                            "aws_ecs_task_definition.", "network_mode")
                if found is not None:
                    return found
        for candidate in project.files_in(directory, _TEMPLATE_NAMES.search):
            read = project.read(candidate)
            if read is not None and "AWS::ECS::TaskDefinition" in read.text:
                tasks = project.memo(("cfn ecs tasks", read.key), lambda: _cloudformation_tasks(read.text))
                found = _declared_task_runs(PurePath(candidate), tasks, dockerfile, root, "", "NetworkMode")
                if found is not None:
                    return found
        if directory == root or root not in directory.parents:
            break
        directory = directory.parent
    return None


def _shown(file: PurePath, root: PurePath) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.name


def _compose_builds(compose_file: PurePath, text: str, dockerfile: PurePath, root: PurePath,
                    project) -> ContainerContext | None:
    import yaml

    from imds_lint.frontends import yaml_nodes

    try:
        data = yaml_nodes.safe_load(text)
    except yaml.YAMLError:
        return None
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        return None
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        build = service.get("build")
        context, file = (build, "Dockerfile") if isinstance(build, str) else (
            (build.get("context", "."), build.get("dockerfile", "Dockerfile")) if isinstance(build, dict) else (None, None))
        if context is None or not isinstance(context, str) or not isinstance(file, str):
            continue
        if project.inside(compose_file.parent / context / file) != str(dockerfile):
            continue
        mode = str(service.get("network_mode") or "")
        network = "host" if mode == "host" else ("none" if mode == "none" else "bridge")
        return ContainerContext(f"built for compose service '{name}' of {_shown(compose_file, root)}", network)
    return None


def image_repository(image: str) -> str:
    """``123.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.2@sha256:...`` -> ``api``."""
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0].lower()


def _image_names(dockerfile: PurePath) -> set[str]:
    """The repository names an image built from this Dockerfile is taken to have."""
    suffix = _DOCKERFILE_SUFFIX.match(dockerfile.name)
    return {dockerfile.parent.name.lower(), *(g.lower() for g in (suffix.groups() if suffix else ()) if g)}


def _runs_image(images: list[tuple[str, ...]], index: int, names: set[str], beside: bool) -> bool:
    """Whether container ``index`` of a task runs the Dockerfile's image (see the module's docstring);
    ``images`` holds what each container's image may be called."""
    return any(image_repository(i) in names for i in images[index]) or (beside and len(images) == 1)


def _task_runs(task_file: PurePath, text: str, dockerfile: PurePath, root: PurePath) -> ContainerContext | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    names, beside = _image_names(dockerfile), task_file.parent == dockerfile.parent
    for task in task_definitions(data):
        containers = [c for c in task["containerDefinitions"] if isinstance(c, dict)]
        images = [(c["image"],) if isinstance(c.get("image"), str) else () for c in containers]
        for index, container in enumerate(containers):
            if _runs_image(images, index, names, beside):
                mode = ecs_network(task.get("networkMode"))
                return ContainerContext(f"run by container '{container.get('name') or '?'}' of ECS task "
                                        f"{task.get('family') or '?'} ({_shown(task_file, root)}, networkMode {mode})",
                                        mode)
    return None


# "${aws_ecr_repository.api.repository_url}": the repository resource names the image.
_ECR_REFERENCE = re.compile(r"aws_ecr_repository\.([A-Za-z0-9_-]+)\.")


def _terraform_tasks(tf_file: str, text: str, project) -> list[tuple[str, str | None, list]]:
    """Each ``resource "aws_ecs_task_definition"`` with ``container_definitions = jsonencode([...])``:
    (label, network mode or None when this module cannot tell, [(container name, image names)]).
    An image is named as written (``"${var.registry}/api:${var.tag}"`` names ``api``) or by the
    ``aws_ecr_repository`` it comes from; ``network_mode`` is resolved through the module's variables."""
    from imds_lint.frontends.iac import UNKNOWN
    from imds_lint.hcl.module import HclModule
    from imds_lint.hcl.tree import HclFile, object_items, string_literal, unwrap

    file = HclFile(text, own=False)
    module = HclModule(file, tf_file, project)
    tasks = []
    for block in file.blocks():
        if block.type != "resource" or block.labels[:1] != ["aws_ecs_task_definition"] or len(block.labels) != 2:
            continue
        attributes = block.attributes()
        call = unwrap(attributes.get("container_definitions"))
        if call is None or call.type != "function_call" or file.source(call).split("(", 1)[0].strip() != "jsonencode":
            continue
        arguments = next((c for c in call.named_children if c.type == "function_arguments"), None)
        listed = unwrap(arguments.named_children[0]) if arguments is not None and arguments.named_children else None
        if listed is None or listed.type != "tuple":
            continue
        containers = [object_items(file, e) for e in listed.named_children if e.type == "expression"]
        setting = module.value(file, attributes.get("network_mode"))
        tasks.append((block.labels[1], None if setting.value == UNKNOWN else ecs_network(setting.value), [
            ((string_literal(file, c["name"]) if "name" in c else None) or "?", _hcl_image(file, module, c.get("image")))
            for c in containers if c is not None]))
    return tasks


def _declared_task_runs(file: PurePath, tasks: list, dockerfile: PurePath, root: PurePath,
                        prefix: str, setting: str) -> ContainerContext | None:
    """The first of an IaC file's ``tasks`` (label, network mode or None, [(container, image names)])
    that runs the Dockerfile's image; ``prefix`` and ``setting`` spell the task and its mode as the
    file does (``aws_ecs_task_definition.`` / ``network_mode``)."""
    names, beside = _image_names(dockerfile), file.parent == dockerfile.parent
    for label, mode, containers in tasks:
        images = [image for _, image in containers]
        for index, (name, _) in enumerate(containers):
            if not _runs_image(images, index, names, beside):
                continue
            if mode is None:
                break  # the task runs the image, on a network the file cannot tell
            return ContainerContext(f"run by container '{name}' of ECS task {prefix}{label} "
                                    f"({_shown(file, root)}, {setting} {mode})", mode)
    return None


def _hcl_image(file, module, node) -> tuple[str, ...]:
    """An image as far as its text tells: interpolations left out, or the ECR repository it names
    (by its label and its ``name``)."""
    from imds_lint.hcl.tree import string_literal

    if node is None:
        return ()
    written = file.source(node).strip()
    ecr = _ECR_REFERENCE.search(written)
    if ecr is not None:
        repository = module.resource("aws_ecr_repository", ecr.group(1))
        name = repository.attributes().get("name") if repository is not None else None
        spelled = string_literal(repository.file, name) if name is not None else None
        return (ecr.group(1), spelled) if spelled else (ecr.group(1),)
    if not written.startswith('"'):
        return ()
    image = re.sub(r"\$\{[^}]*\}", "", written.strip('"'))
    return (image,) if image else ()


# -- CloudFormation ---------------------------------------------------------------------------
def _cloudformation_tasks(text: str) -> list[tuple[str, str | None, list]]:
    """Each ``AWS::ECS::TaskDefinition`` under a template's ``Resources``: (logical id, network mode or None when
    the template cannot tell, [(container name, image names)]). ``NetworkMode`` is written out or a
    ``Ref`` to a parameter's default; any other intrinsic leaves it unknown."""
    import yaml

    from imds_lint.frontends import yaml_nodes as yn

    try:
        root = yn.compose(text)
    except (yaml.YAMLError, RecursionError):
        return []
    resources = yn.get(root, "Resources")
    if resources is None or resources.id != "mapping":
        return []
    template = _Template(yn.get(root, "Parameters"),
                         {k.value: v for k, v in resources.value if k.id == "scalar" and isinstance(k.value, str)})
    tasks = []
    for name, resource in template.resources.items():
        if template.scalar(yn.get(resource, "Type")) != "AWS::ECS::TaskDefinition":
            continue
        properties = yn.get(resource, "Properties")
        definitions = yn.get(properties, "ContainerDefinitions")
        if definitions is None or definitions.id != "sequence":
            continue
        mode_node = yn.get(properties, "NetworkMode")
        mode = template.resolved(mode_node) if mode_node is not None else "bridge"
        tasks.append((name, None if mode is None else ecs_network(mode), [
            (template.scalar(yn.get(c, "Name")) or "?", template.image(yn.get(c, "Image")))
            for c in definitions.value if c.id == "mapping"]))
    return tasks


class _Template:
    """What a template's values say without deploying it: parameter defaults, ECR repository names."""

    def __init__(self, parameters, resources: dict):
        self.parameters = parameters
        self.resources = resources

    @staticmethod
    def scalar(node) -> str | None:
        from imds_lint.frontends import yaml_nodes as yn

        if node is None or node.id != "scalar" or yn.tag_name(node) is not None or not isinstance(node.value, str):
            return None
        return node.value

    def resolved(self, node) -> str | None:
        """A string written out or a ``Ref`` to a parameter with a default; None otherwise."""
        from imds_lint.frontends import yaml_nodes as yn

        written = self.scalar(node)
        if written is not None:
            return written
        call = yn.intrinsic(node)
        if call is not None and call[0] == "Ref" and call[1].id == "scalar":
            return self.scalar(yn.get(yn.get(self.parameters, call[1].value), "Default"))
        return None

    def repository(self, name: str) -> tuple[str, ...]:
        """An ``AWS::ECR::Repository``'s names (its logical id and its ``RepositoryName``); () otherwise."""
        from imds_lint.frontends import yaml_nodes as yn

        resource = self.resources.get(name)
        if resource is None or self.scalar(yn.get(resource, "Type")) != "AWS::ECR::Repository":
            return ()
        spelled = self.resolved(yn.get(yn.get(resource, "Properties"), "RepositoryName"))
        return (name, spelled) if spelled else (name,)

    def image(self, node, depth: int = 0) -> tuple[str, ...]:
        """What an ``Image`` value may be called: its text with ``${...}`` and intrinsics left out,
        and the ECR repositories it takes the URI or name of."""
        from imds_lint.frontends import yaml_nodes as yn

        written = self.scalar(node)
        if written is not None:
            return (written,)
        call = yn.intrinsic(node) if node is not None and depth < 8 else None
        if call is None:
            return ()
        function, argument = call
        if function == "Ref":
            name = argument.value if argument.id == "scalar" and isinstance(argument.value, str) else None
            default = self.resolved(node)
            return self.repository(name) + ((default,) if default else ()) if name else ()
        if function == "Fn::GetAtt":
            target = argument.value if argument.id == "scalar" else (
                argument.value[0].value if argument.id == "sequence" and argument.value
                and argument.value[0].id == "scalar" else "")
            return self.repository(str(target).split(".", 1)[0])
        if function == "Fn::Sub":
            body, variables = argument, None
            if argument.id == "sequence" and argument.value:
                body, variables = argument.value[0], (argument.value[1] if len(argument.value) > 1 else None)
            if body.id != "scalar" or not isinstance(body.value, str):
                return ()
            names = []
            for reference in re.findall(r"\$\{([^!}][^}]*)\}", body.value):
                bound = yn.get(variables, reference)
                names.extend(self.image(bound, depth + 1) if bound is not None
                             else self.repository(reference.split(".", 1)[0]))
            shown = re.sub(r"\$\{[^}]*\}", "", body.value)
            return ((shown,) if shown else ()) + tuple(names)
        if function == "Fn::Join" and argument.id == "sequence" and len(argument.value) == 2:
            parts = argument.value[1]
            if parts.id != "sequence":
                return ()
            shown, names = "", []
            for part in parts.value:
                written = self.resolved(part)  # a parameter's default is part of the text
                if written is not None:
                    shown += written
                else:
                    names.extend(self.image(part, depth + 1))
            return ((shown,) if shown else ()) + tuple(names)
        return ()

