"""The project index: front-ends read other files only through it, and only inside the scan root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imds_lint.cli import main
from imds_lint.config import Settings
from imds_lint.engine import Linter
from imds_lint.project_index import ProjectIndex

SECRET = "botocore==1.12.0  # the-outside-file\n"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def _opened(monkeypatch) -> list[str]:
    """Every path the process opens from here on (builtins.open and os.open)."""
    seen: list[str] = []
    real_open, real_os_open = open, os.open

    def spy_open(file, *args, **kwargs):
        seen.append(os.fspath(file) if not isinstance(file, int) else str(file))
        return real_open(file, *args, **kwargs)

    def spy_os_open(path, *args, **kwargs):
        seen.append(os.fspath(path))
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    return seen


def test_requirements_include_outside_the_scan_root_is_neither_read_nor_echoed(tmp_path, monkeypatch, capsys):
    root = _tree(tmp_path, {"outside.txt": SECRET, "proj/requirements.txt": "-r ../outside.txt\nrequests\n"})
    monkeypatch.chdir(root / "proj")
    opened = _opened(monkeypatch)
    code = main(["--format", "json", "."])
    out = capsys.readouterr().out
    assert not any(p.endswith("outside.txt") for p in opened), opened
    assert "botocore" not in out and "the-outside-file" not in out and "outside.txt" not in out
    assert code == 0


def test_requirements_include_inside_the_scan_root_is_followed(tmp_path, monkeypatch, capsys):
    root = _tree(tmp_path, {"common.in": "botocore==1.12.0\n", "sub/requirements.txt": "-r ../common.in\n"})
    monkeypatch.chdir(root)
    assert main(["--format", "json", "."]) == 1
    assert "botocore" in capsys.readouterr().out


TF_OUTSIDE = '''resource "aws_instance" "web" {
  ami           = "ami-123"
  instance_type = "t3.micro"
  user_data     = file("${path.module}/../outside.sh")
}
'''


def test_terraform_file_outside_the_scan_root_is_neither_read_nor_echoed(tmp_path, monkeypatch, capsys):
    root = _tree(tmp_path, {
        "outside.sh": "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/the-outside-file\n",
        "proj/main.tf": TF_OUTSIDE,
    })
    monkeypatch.chdir(root / "proj")
    opened = _opened(monkeypatch)
    main(["--format", "json", "."])
    out = capsys.readouterr().out
    assert not any(p.endswith("outside.sh") for p in opened), opened
    assert "the-outside-file" not in out and "outside.sh" not in out


def _terraform_facts(tf: Path, project: ProjectIndex | None):
    from imds_lint.frontends import terraform
    from imds_lint.kinds import Kind
    from imds_lint.model import Document

    class Session:
        origin = tf

        def __init__(self):
            self.project = project

        def analyze(self, document):
            return []

    return terraform.analyze(Document(Kind.TERRAFORM, tf.read_text()), Session())[0].facts


@pytest.mark.parametrize("written, read", [("${path.module}/init.sh", True), ("${path.module}/../outside/init.sh", False)])
def test_terraform_templates_are_read_only_inside_the_root(tmp_path, written, read):
    root = _tree(tmp_path, {"outside/init.sh": "#!/bin/bash\nsystemctl enable --now docker\n",
                            "proj/init.sh": "#!/bin/bash\nsystemctl enable --now docker\n",
                            "proj/main.tf": TF_OUTSIDE.replace("${path.module}/../outside.sh", written)})
    facts = _terraform_facts(root / "proj/main.tf", ProjectIndex((root / "proj",)))
    (link,) = facts["terraform.template_link"]
    (compute,) = facts["iac.compute"]
    assert link.exists is read and (compute.containers is not None) is read
    assert link.path == (str(root / "proj/init.sh") if read else "")


def test_without_an_index_a_front_end_reads_no_other_file(tmp_path):
    root = _tree(tmp_path, {"proj/init.sh": "#!/bin/bash\nsystemctl enable --now docker\n",
                            "proj/main.tf": TF_OUTSIDE.replace("../outside.sh", "init.sh")})
    (link,) = _terraform_facts(root / "proj/main.tf", None)["terraform.template_link"]
    assert not link.exists


def test_sibling_tf_files_in_an_excluded_folder_or_outside_are_not_read(tmp_path):
    root = _tree(tmp_path, {
        "mod/main.tf": 'resource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = var.tokens\n  }\n}\n',
        "mod/variables.tf": 'variable "tokens" {\n  default = "optional"\n}\n',
    })
    found = Linter(Settings(root=root)).lint_file(root / "mod/main.tf", "mod/main.tf").findings
    assert "IMDS301" in [f.code for f in found]
    excluded = Linter(Settings(root=root, exclude=("variables.tf",))).lint_file(root / "mod/main.tf", "mod/main.tf")
    assert "IMDS301" not in [f.code for f in excluded.findings]


def test_index_rules(tmp_path):
    root = _tree(tmp_path, {
        "scan/a.tf": "", "scan/.terraform/m.tf": "", "scan/ignored/x.tf": "", "scan/.gitignore": "ignored/\n",
        "scan/build/y.tf": "", "elsewhere/z.tf": "",
    })
    (root / "scan/link.tf").symlink_to(root / "elsewhere/z.tf")
    (root / "scan/inner.tf").symlink_to(root / "scan/a.tf")
    index = ProjectIndex((root / "scan",), excludes=("build/",), anchor=root / "scan")
    assert index.admits(root / "scan/a.tf")
    assert index.admits(root / "scan/inner.tf")  # a link that stays inside
    assert not index.admits(root / "scan/link.tf")  # a link that leads out
    assert not index.admits(root / "scan/.terraform/m.tf")  # a skipped folder
    assert not index.admits(root / "scan/ignored/x.tf")  # .gitignore
    assert not index.admits(root / "scan/build/y.tf")  # an exclude
    assert not index.admits(root / "elsewhere/z.tf")
    assert index.relative_to(root / "scan/a.tf", "../elsewhere/z.tf") is None
    assert index.read(root / "elsewhere/z.tf") is None
    assert [Path(p).name for p in index.files_in(root / "scan", lambda n: n.endswith(".tf"))] == ["a.tf", "inner.tf"]


def test_gitignore_is_not_applied_when_it_is_not_respected(tmp_path):
    root = _tree(tmp_path, {"ignored/x.tf": "", ".gitignore": "ignored/\n"})
    assert ProjectIndex((root,), respect_gitignore=False).admits(root / "ignored/x.tf")


def test_a_file_linted_from_outside_every_root_has_its_own_folder(tmp_path):
    index = ProjectIndex((tmp_path / "nowhere",))
    _tree(tmp_path, {"a/b.tf": "", "c.tf": ""})
    own = index.with_root_for(tmp_path / "a/b.tf")
    assert own.admits(tmp_path / "a/b.tf") and not own.admits(tmp_path / "c.tf")


@pytest.mark.parametrize("size, admitted", [(10, True), (2_000_000, False)])
def test_large_files_are_not_read(tmp_path, size, admitted):
    (tmp_path / "big.tf").write_text("#" * size)
    assert (ProjectIndex((tmp_path,)).read(tmp_path / "big.tf") is not None) is admitted


URL = "http://169.254.169.254/latest/meta-data/instance-id"
DOCKERFILE = f"FROM alpine\nRUN apk add curl\nCMD curl -s {URL}\n"


def _task(family: str, mode: str | None, *images: str) -> str:
    import json

    task = {"family": family, "containerDefinitions": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}
    if mode is not None:
        task["networkMode"] = mode
    return json.dumps(task, indent=2)


def _hop(root: Path, name: str, settings: Settings | None = None) -> list:
    found = Linter(settings or Settings(root=root)).lint_file(root / name, name).findings
    return [f for f in found if f.code == "IMDS201"]


def test_an_ecs_task_definition_beside_the_dockerfile_decides_its_network(tmp_path):
    # The "Deploy to Amazon ECS" starter: task-definition.json beside the Dockerfile, image filled in by CI.
    root = _tree(tmp_path, {"Dockerfile": DOCKERFILE, "task-definition.json": _task("web", "awsvpc", "<IMAGE>")})
    assert _hop(root, "Dockerfile") == []
    (root / "task-definition.json").write_text(_task("web", "bridge", "<IMAGE>"))
    (hop,) = _hop(root, "Dockerfile")
    assert "run by container 'c0' of ECS task web (task-definition.json, networkMode bridge)" in hop.message


def test_a_task_definition_in_a_parent_folder_runs_the_image_it_names(tmp_path):
    ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    root = _tree(tmp_path, {
        "services/api/Dockerfile": DOCKERFILE, "services/worker/Dockerfile": DOCKERFILE,
        "ecs-taskdef.json": _task("app", "host", f"{ecr}/team/api:1.4", "nginx:1.27"),
    })
    assert _hop(root, "services/api/Dockerfile") == []  # its image runs with networkMode host
    assert len(_hop(root, "services/worker/Dockerfile")) == 1  # no task names the worker image
    # Dockerfile.<name> names its image too.
    (root / "services/api/Dockerfile").rename(root / "services/Dockerfile.api")
    assert _hop(root, "services/Dockerfile.api") == []


def test_a_script_the_image_runs_gets_the_tasks_network(tmp_path):
    root = _tree(tmp_path, {
        "app/Dockerfile": "FROM alpine\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT [\"/entrypoint.sh\"]\n",
        "app/entrypoint.sh": f"#!/bin/sh\ncurl -s {URL}\n",
        "app/task-definition.json": _task("app", "awsvpc", "app"),
    })
    assert _hop(root, "app/entrypoint.sh") == []
    (root / "app/task-definition.json").write_text(_task("app", None, "app"))  # bridge by default on EC2
    (hop,) = _hop(root, "app/entrypoint.sh")
    assert "via ENTRYPOINT" in hop.message and "ECS task app (app/task-definition.json, networkMode bridge)" in hop.message


@pytest.mark.parametrize("placement", ["excluded", "gitignored", "skipped folder", "link out", "outside"])
def test_task_definitions_the_scan_would_not_read_decide_nothing(tmp_path, monkeypatch, placement):
    """Excludes, .gitignore, skipped folders, links out of the root and files above it are not read."""
    awsvpc = _task("web", "awsvpc", "web")
    files = {"scan/web/Dockerfile": DOCKERFILE, "elsewhere/task-definition.json": awsvpc}
    settings_for = {"excluded": {"exclude": ("web/task-definition.json",)}}
    if placement in ("excluded", "gitignored"):
        files["scan/web/task-definition.json"] = awsvpc
    if placement == "gitignored":
        files["scan/.gitignore"] = "task-definition.json\n"
    if placement == "skipped folder":
        files["scan/web/node_modules/task-definition.json"] = awsvpc
        files["scan/web/node_modules/Dockerfile"] = DOCKERFILE
    if placement == "outside":
        files["task-definition.json"] = _task("web", "awsvpc", "web", "scan")
    root = _tree(tmp_path, files)
    if placement == "link out":
        (root / "scan/web/task-definition.json").symlink_to(root / "elsewhere/task-definition.json")
    settings = Settings(root=root / "scan", **settings_for.get(placement, {}))
    opened = _opened(monkeypatch)
    name = "web/node_modules/Dockerfile" if placement == "skipped folder" else "web/Dockerfile"
    hops = _hop(root / "scan", name, settings)
    assert len(hops) == 1 and "ECS task" not in hops[0].message
    read = [p for p in opened if p.endswith("task-definition.json")]
    assert read == [], read


# -- every cross-file question under every policy ---------------------------------------------
# Each question: the file linted, the other file it needs (written by a function of the path from
# the other file's folder to the linted file, or of nothing), where the other file sits normally,
# how the linted file names it when it names it (None: found by its own name, near the file), and
# what the findings look like when the other file was used.
MARKER = "the-other-file-was-read"


def _codes(found) -> set[str]:
    return {f.code for f in found}


_QUESTIONS = {
    "sibling .tf": dict(
        linted=("mod/main.tf", 'resource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = var.tokens\n'
                               '  }\n}\n'),
        other=("variables.tf", lambda rel: f'# {MARKER}\nvariable "tokens" {{\n  default = "optional"\n}}\n'),
        names=None, used=lambda found: "IMDS301" in _codes(found)),
    "templatefile": dict(
        linted=("mod/main.tf", 'resource "aws_instance" "a" {\n  user_data = templatefile("${path.module}/REF", {})\n'
                               '  metadata_options {\n    http_tokens = "required"\n  }\n}\n'),
        other=("init.sh.tftpl", lambda rel: f"#!/bin/bash\n# {MARKER}\ndocker run -d nginx\n"),
        names="REF", used=lambda found: "IMDS210" in _codes(found)),
    "requirements -r": dict(
        linted=("app/requirements.txt", "-r REF\nrequests==2.31.0\n"),
        other=("common.in", lambda rel: f"botocore==1.12.0  # {MARKER}\n"),
        names="REF", used=lambda found: any(c.startswith("IMDS4") for c in _codes(found))),
    "Dockerfile runs a script": dict(
        linted=("app/entrypoint.sh", f"#!/bin/sh\ncurl -s {URL}\n"),
        other=("Dockerfile", lambda rel: f'# {MARKER}\nFROM alpine\nCOPY {rel} /entrypoint.sh\n'
                                         'ENTRYPOINT ["/entrypoint.sh"]\n'),
        names=None, used=lambda found: "IMDS201" in _codes(found)),
    "compose runs a Dockerfile": dict(
        linted=("web/Dockerfile", DOCKERFILE),
        other=("compose.yaml", lambda rel: f"# {MARKER}\nservices:\n  web:\n    build: {os.path.dirname(rel) or '.'}\n"
                                           "    network_mode: host\n"),
        names=None, used=lambda found: "IMDS201" not in _codes(found)),
    "ECS task runs a Dockerfile": dict(
        linted=("web/Dockerfile", DOCKERFILE),
        other=("task-definition.json", lambda rel: _task(MARKER, "awsvpc", "web")),
        names=None, used=lambda found: "IMDS201" not in _codes(found)),
    "Terraform ECS task runs a Dockerfile": dict(
        linted=("web/Dockerfile", DOCKERFILE),
        other=("ecs.tf", lambda rel: f'resource "aws_ecs_task_definition" "{MARKER}" {{\n  network_mode = "awsvpc"\n'
                                     '  container_definitions = jsonencode([{ name = "web", image = "web:1" }])\n}\n'),
        names=None, used=lambda found: "IMDS201" not in _codes(found)),
    "CloudFormation ECS task runs a Dockerfile": dict(
        linted=("web/Dockerfile", DOCKERFILE),
        other=("ecs.yaml", lambda rel: f'AWSTemplateFormatVersion: "2010-09-09"\nDescription: {MARKER}\nResources:\n'
                                       '  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n'
                                       '      NetworkMode: awsvpc\n      ContainerDefinitions:\n'
                                       '        - Name: web\n          Image: web:1\n'),
        names=None, used=lambda found: "IMDS201" not in _codes(found)),
}
_PLACEMENTS = ["read", "excluded", "gitignored", "skipped folder", "link out", "outside"]


def _layout(tmp_path: Path, question: dict, placement: str) -> tuple[Path, str, Settings, str]:
    """The tree for one case: (scan root, linted file, settings, the other file's real path)."""
    scan = tmp_path / "scan"
    linted, text = question["linted"]
    folder, linted_name = linted.rsplit("/", 1)
    other_name, other_text = question["other"]
    named = question["names"] is not None
    if placement == "skipped folder" and not named:
        folder = f"{folder}/node_modules"  # found near the file: both sit in a skipped folder
    other_folder = {"outside": tmp_path, "link out": scan / folder}.get(placement, scan / folder)
    if placement == "skipped folder" and named:
        other_folder = scan / folder / "node_modules"
    if placement == "outside" and not named:
        other_folder = tmp_path  # the scan root's parent, where the search would go next
    other = other_folder / other_name
    linted_path = scan / folder / linted_name
    rel = os.path.relpath(linted_path, other_folder)
    if named:
        text = text.replace("REF", os.path.relpath(other, linted_path.parent))
    files = {str(linted_path.relative_to(tmp_path)): text}
    real_other = other
    if placement == "link out":
        real_other = tmp_path / "elsewhere" / other_name
    files[str(real_other.relative_to(tmp_path))] = other_text(rel)
    if placement == "gitignored":
        files["scan/.gitignore"] = f"{other_name}\n"
    _tree(tmp_path, files)
    if placement == "link out":
        other.symlink_to(real_other)
    exclude = (str(other.relative_to(scan)),) if placement == "excluded" else ()
    return scan, str(linted_path.relative_to(scan)), Settings(root=scan, exclude=exclude), str(real_other)


@pytest.mark.parametrize("placement", _PLACEMENTS)
@pytest.mark.parametrize("question", sorted(_QUESTIONS))
def test_every_cross_file_question_holds_the_scans_rules(tmp_path, monkeypatch, question, placement):
    """A file the scan would not read (excluded, .gitignored, in a skipped folder, a link out of the
    root, outside the root) answers no cross-file question, is never opened and never echoed."""
    spec = _QUESTIONS[question]
    if placement == "outside" and question == "sibling .tf":
        pytest.skip("a file's siblings share its folder, inside the root")
    scan, linted, settings, other = _layout(tmp_path, spec, placement)
    opened = _opened(monkeypatch)
    found = Linter(settings).lint_file(scan / linted, linted).findings
    monkeypatch.undo()
    read = any(os.path.realpath(p) == os.path.realpath(other) for p in opened)
    if placement == "read":
        assert spec["used"](found) and read, (found, opened)
        return
    assert not spec["used"](found), found
    assert not read, opened
    assert MARKER not in repr(found)


TF_TASK = '''resource "aws_ecr_repository" "app" {
  name = "billing-api"
}

variable "mode" {
  default = "MODE"
}

resource "aws_ecs_task_definition" "svc" {
  family       = "svc"
  network_mode = var.mode
  container_definitions = jsonencode([
    { name = "sidecar", image = "public.ecr.aws/aws-observability/aws-otel-collector:latest" },
    { name = "app", image = "IMAGE" },
  ])
}
'''


@pytest.mark.parametrize("image", ['"${aws_ecr_repository.app.repository_url}:latest"',
                                   '"${var.registry}/billing-api:${var.tag}"'])
def test_a_terraform_task_definition_runs_the_image_it_names(tmp_path, image):
    root = _tree(tmp_path, {
        "services/billing-api/Dockerfile": DOCKERFILE,
        "services/other/Dockerfile": DOCKERFILE,
        "ecs.tf": TF_TASK.replace('"IMAGE"', image).replace("MODE", "awsvpc"),
    })
    assert _hop(root, "services/billing-api/Dockerfile") == []
    assert len(_hop(root, "services/other/Dockerfile")) == 1
    (root / "ecs.tf").write_text(TF_TASK.replace('"IMAGE"', image).replace("MODE", "bridge"))
    (hop,) = _hop(root, "services/billing-api/Dockerfile")
    assert "run by container 'app' of ECS task aws_ecs_task_definition.svc (ecs.tf, network_mode bridge)" in hop.message


def test_a_terraform_task_definition_with_an_unknown_network_decides_nothing(tmp_path):
    task = TF_TASK.replace('"IMAGE"', '"billing-api"').replace("var.mode", "local.mode")
    root = _tree(tmp_path, {"billing-api/Dockerfile": DOCKERFILE, "billing-api/ecs.tf": task})
    (hop,) = _hop(root, "billing-api/Dockerfile")
    assert "ECS task" not in hop.message  # the Dockerfile's own bridge default stands


# -- CloudFormation AWS::ECS::TaskDefinition ---------------------------------------------------
CFN_TASK = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ImageTag:
    Type: String
    Default: "2.3"
  Mode:
    Type: String
    Default: MODE
Resources:
  ApiRepository:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: billing-api
  ApiTask:
    Type: AWS::ECS::TaskDefinition
    Properties:
      NetworkMode: !Ref Mode
      ContainerDefinitions:
        - Name: xray
          Image: public.ecr.aws/xray/aws-xray-daemon:3.3.7
        - Name: app
          Image: IMAGE
"""
CFN_TASK_JSON = """{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "ApiRepository": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "billing-api"}},
    "ApiTask": {
      "Type": "AWS::ECS::TaskDefinition",
      "Properties": {
        "NetworkMode": "MODE",
        "ContainerDefinitions": [
          {"Name": "xray", "Image": "public.ecr.aws/xray/aws-xray-daemon:3.3.7"},
          {"Name": "app", "Image": IMAGE}
        ]
      }
    }
  }
}
"""
_CFN_IMAGES = {
    "yaml GetAtt": ("ecs.yaml", CFN_TASK, "!GetAtt ApiRepository.RepositoryUri"),
    "yaml Sub repository": ("ecs.yaml", CFN_TASK, '!Sub "${ApiRepository.RepositoryUri}:${ImageTag}"'),
    "yaml Sub written": ("ecs.yaml", CFN_TASK,
                         '!Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/billing-api:${ImageTag}"'),
    "yaml Sub variables": ("ecs.yaml", CFN_TASK, '!Sub ["${Uri}:latest", {Uri: !GetAtt ApiRepository.RepositoryUri}]'),
    "yaml Join": ("ecs.yaml", CFN_TASK, '!Join ["", [!GetAtt ApiRepository.RepositoryUri, ":", !Ref ImageTag]]'),
    "json written": ("ecs.template.json", CFN_TASK_JSON, '"123456789012.dkr.ecr.eu-west-1.amazonaws.com/billing-api:2.3"'),
    "json Sub": ("ecs.template.json", CFN_TASK_JSON, '{"Fn::Sub": "${ApiRepository.RepositoryUri}:latest"}'),
    "json Join": ("ecs.template.json", CFN_TASK_JSON,
                  '{"Fn::Join": ["", [{"Fn::GetAtt": ["ApiRepository", "RepositoryUri"]}, ":latest"]]}'),
}


@pytest.mark.parametrize("case", sorted(_CFN_IMAGES))
def test_a_cloudformation_task_definition_runs_the_image_it_names(tmp_path, case):
    name, template, image = _CFN_IMAGES[case]
    written = template.replace("IMAGE", image)
    root = _tree(tmp_path, {
        "services/billing-api/Dockerfile": DOCKERFILE,
        "services/other/Dockerfile": DOCKERFILE,
        name: written.replace("MODE", "awsvpc"),
    })
    assert _hop(root, "services/billing-api/Dockerfile") == []
    assert len(_hop(root, "services/other/Dockerfile")) == 1  # no container runs the other image
    (root / name).write_text(written.replace("MODE", "bridge"))
    (hop,) = _hop(root, "services/billing-api/Dockerfile")
    assert f"run by container 'app' of ECS task ApiTask ({name}, NetworkMode bridge)" in hop.message


@pytest.mark.parametrize("mode", ["!If [UseAwsvpc, awsvpc, bridge]", "!Ref NoDefault", "!FindInMap [Net, Mode, x]"])
def test_a_cloudformation_task_with_an_unresolved_network_mode_decides_nothing(tmp_path, mode):
    template = (CFN_TASK.replace("IMAGE", "billing-api:1").replace("!Ref Mode", mode)
                .replace("Parameters:\n", "Parameters:\n  NoDefault:\n    Type: String\n"))
    root = _tree(tmp_path, {"billing-api/Dockerfile": DOCKERFILE, "billing-api/ecs.yaml": template})
    (hop,) = _hop(root, "billing-api/Dockerfile")
    assert "ECS task" not in hop.message  # the Dockerfile's own bridge default stands
    # Left out, NetworkMode is bridge (the default on EC2), and the task says so.
    (root / "billing-api/ecs.yaml").write_text(template.replace(f"      NetworkMode: {mode}\n", ""))
    (hop,) = _hop(root, "billing-api/Dockerfile")
    assert "of ECS task ApiTask (billing-api/ecs.yaml, NetworkMode bridge)" in hop.message


@pytest.mark.parametrize("text", [
    "Resources: [AWS::ECS::TaskDefinition\n",  # does not parse
    "AWSTemplateFormatVersion: x\nResources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties: 3\n",
    "AWSTemplateFormatVersion: x\nResources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n"
    "      NetworkMode: host\n      ContainerDefinitions: [{Name: [1], Image: {Fn::GetAtt: 3}}, 7]\n",
    "AWSTemplateFormatVersion: x\nResources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n"
    "      NetworkMode: host\n      ContainerDefinitions:\n        - Image: !Join [\"\", !Ref Parts]\n"
    "        - Image: !Sub [[1], 2]\n",
])
def test_a_broken_cloudformation_task_definition_decides_nothing(tmp_path, text):
    # In the parent folder: a one-container task beside the Dockerfile would run its image whatever it names.
    root = _tree(tmp_path, {"web/Dockerfile": DOCKERFILE, "ecs.yaml": text})
    (hop,) = _hop(root, "web/Dockerfile")
    assert "ECS task" not in hop.message


def test_a_template_is_parsed_once_per_file_version(tmp_path, monkeypatch):
    from imds_lint.frontends import runners

    parsed = []
    real = runners._cloudformation_tasks
    monkeypatch.setattr(runners, "_cloudformation_tasks", lambda text: parsed.append(text) or real(text))
    template = CFN_TASK.replace("IMAGE", "billing-api:1")
    root = _tree(tmp_path, {"a/Dockerfile": DOCKERFILE, "b/Dockerfile": DOCKERFILE, "c/Dockerfile": DOCKERFILE,
                            "ecs.yaml": template.replace("MODE", "host")})
    assert main([str(root), "--select", "IMDS201", "--quiet"]) == 1  # a, b and c: none is billing-api
    assert len(parsed) == 1
