"""Orchestrators decide the network: compose, Kubernetes, ECS; and containers started from scripts."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from imds_lint.frontends import structured
from tests.helpers import codes, fix, lint

URL = "http://169.254.169.254/latest/meta-data/instance-id"


def hop(findings):
    return [f for f in findings if f.code == "IMDS201"]


@pytest.mark.parametrize("text, compose, kubernetes", [
    ("services:\n  web:\n    image: x\n", True, False),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", False, True),
    ("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n", False, False),
    ("#cloud-config\nruncmd:\n  - curl x\n", False, False),
])
def test_yaml_routes_by_content(text, compose, kubernetes):
    assert structured.looks_like_compose(text) is compose
    assert structured.looks_like_kubernetes(text) is kubernetes


def test_compose_host_network_is_exempt_and_bridge_is_not():
    text = ("services:\n"
            "  agent:\n    network_mode: host\n    command: curl -s " + URL + "\n"
            "  web:\n    command: curl -s " + URL + "\n")
    found = hop(lint(text, "yaml", path="compose.yaml"))
    assert [f.start.line for f in found] == [6]
    assert "compose service 'web' of compose.yaml via command" in found[0].message


def test_compose_healthcheck_forms():
    text = ("services:\n  web:\n    healthcheck:\n"
            f"      test: [\"CMD-SHELL\", \"curl -f {URL} || exit 1\"]\n"
            "  api:\n    healthcheck:\n"
            f"      test: curl -f {URL}\n")
    assert [f.start.line for f in hop(lint(text, "yaml"))] == [4, 7]


def test_compose_literal_block_fix_keeps_indentation():
    text = ("services:\n  web:\n    entrypoint:\n      - sh\n      - -c\n      - |\n"
            f"        set -e\n        curl -s {URL}\n        exec app\n")
    fixed = fix(text, "yaml")
    lines = fixed.splitlines()
    # compose reads `$` itself: the shell's `$` is `$$` in the file.
    assert lines[7].startswith('        : "$${IMDS_TOKEN=$$(curl -fs -X PUT')
    assert lines[8].startswith('        curl -H "X-aws-ec2-metadata-token: $$IMDS_TOKEN"')
    assert fixed.endswith("        exec app\n")
    assert structured.syntax_errors(fixed) == 0
    assert fix(fixed, "yaml") == fixed


def test_quoted_yaml_strings_are_rewritten_with_their_escapes():
    text = f'services:\n  web:\n    command: ["sh", "-c", "curl -s \\"{URL}\\""]\n'
    assert codes(lint(text, "yaml")) == ["IMDS101", "IMDS201"]
    fixed = fix(text, "yaml")
    script = yaml.safe_load(fixed)["services"]["web"]["command"][2].replace("$$", "$")
    assert script.startswith(': "${IMDS_TOKEN=$(curl -fs -X PUT') and script.endswith(f'-s "{URL}"')
    assert fixed.count("\n") == text.count("\n")


def _pod(kind: str, host: bool, command: str) -> str:
    spec = ("      hostNetwork: true\n" if host else "") + (
        "      containers:\n        - name: c\n          image: x\n"
        f"          command: {command}\n")
    if kind == "CronJob":
        body = "\n".join("      " + line for line in spec.splitlines())
        return (f"apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  schedule: '* * * * *'\n"
                f"  jobTemplate:\n    spec:\n      template:\n        spec:\n{body}\n")
    return f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: w\nspec:\n  template:\n    spec:\n{spec}"


@pytest.mark.parametrize("kind", ["Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob"])
@pytest.mark.parametrize("host", [True, False])
def test_kubernetes_workloads(kind, host):
    text = _pod(kind, host, f'["curl", "-s", "{URL}"]')
    found = lint(text, "yaml")
    assert "IMDS101" in codes(found)
    assert bool(hop(found)) is not host
    if not host:
        assert f"of {kind} " in hop(found)[0].message


def test_kubernetes_pod():
    text = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n"
            f"      readinessProbe:\n        exec:\n          command: [\"sh\", \"-c\", \"curl -f {URL}\"]\n")
    found = hop(lint(text, "yaml"))
    assert len(found) == 1 and "container 'c' of Pod p via readinessProbe" in found[0].message


def test_kubernetes_multi_document_and_non_workloads():
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  url: " + URL + "\n---\n"
            + _pod("Deployment", False, f'["sh", "-c", "curl -s {URL}"]'))
    found = lint(text, "yaml")
    assert len(hop(found)) == 1 and hop(found)[0].start.line == text[:text.rindex("curl")].count("\n") + 1


def test_unrendered_helm_template_falls_back_to_text():
    text = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
            "  containers:\n  {{- range .Values.c }}\n    - command: [\"curl\", \"" + URL + "\"]\n  {{- end }}\n")
    found = lint(text, "yaml")
    assert codes(found) == ["IMDS101"]


def _task(mode: str | None, **container) -> str:
    task = {"family": "f", "containerDefinitions": [{"name": "c", "image": "x", **container}]}
    if mode is not None:
        task["networkMode"] = mode
    return json.dumps(task, indent=2)


@pytest.mark.parametrize("mode, flagged", [("bridge", True), (None, True), ("none", True), ("host", False), ("awsvpc", False)])
def test_ecs_network_modes(mode, flagged):
    text = _task(mode, entryPoint=["sh", "-c"], command=[f"curl -s {URL}"])
    found = lint(text, "json")
    assert "IMDS101" in codes(found)
    assert bool(hop(found)) is flagged
    assert all(f.start.line == text[:text.index(URL)].count("\n") + 1 for f in found)


def test_ecs_wrapped_as_the_cli_prints_it_and_health_checks():
    inner = json.loads(_task("bridge", healthCheck={"command": ["CMD", "curl", "-f", URL]}))
    text = json.dumps({"taskDefinition": inner}, indent=2)
    assert len(hop(lint(text, "json"))) == 1


def test_other_json_has_no_container_context():
    assert hop(lint(json.dumps({"command": f"curl -s {URL}"}), "json")) == []


# -- containers started from scripts ------------------------------------------

@pytest.mark.parametrize("line, network", [
    (f"docker run --rm -e A=1 -v /x:/x alpine:3 curl -s {URL}", "bridge"),
    (f"docker container run --name t alpine sh -c 'curl -s {URL}'", "bridge"),
    (f"podman run -it busybox wget -qO- {URL}", "bridge"),
    (f"nerdctl run --network=host alpine curl -s {URL}", "host"),
    (f"docker run --net host alpine curl -s {URL}", "host"),
    (f"docker run --network=none alpine curl -s {URL}", "none"),
    (f"docker exec -u root web sh -c \"curl -s {URL}\"", "bridge"),
    (f"kubectl run probe --image=curlimages/curl --restart=Never -- curl -s {URL}", "pod"),
    (f"kubectl exec -n ops deploy/app -c main -- sh -c 'curl -s {URL}'", "pod"),
])
def test_container_started_from_a_script(line, network):
    found = lint(line + "\n")
    assert "IMDS101" in codes(found)
    if network == "host":
        assert hop(found) == []
    else:
        assert len(hop(found)) == 1
        assert hop(found)[0].start.column > line.index(" ") + 1, "reported at the container's command"


def test_docker_commands_that_start_nothing_are_ignored():
    assert lint(f"docker build --build-arg URL={URL} .\ndocker ps\n") == []
    assert codes(lint(f"curl -s {URL}\n")) == ["IMDS101"]


def test_option_values_are_not_taken_for_the_image():
    # -e takes a value, so "curl" is the image's command and not an option value.
    line = f"docker run -e MODE=x --workdir /w alpine curl -s {URL}"
    found = lint(line + "\n")
    assert len(hop(found)) == 1 and hop(found)[0].start.column == line.index("curl") + 1


def test_curl_image_runs_its_arguments():
    found = lint(f"docker run --rm curlimages/curl:8.8.0 -sS {URL}\n")
    assert codes(found) == ["IMDS101", "IMDS201"]


def test_compose_service_network_reaches_the_image_it_builds(tmp_path):
    from imds_lint.config import Settings
    from imds_lint.engine import Linter

    (tmp_path / "agent").mkdir()
    (tmp_path / "web").mkdir()
    body = f"FROM alpine\nRUN apk add curl\nCMD curl -s {URL}\n"
    (tmp_path / "agent/Dockerfile").write_text(body)
    (tmp_path / "web/Dockerfile").write_text(body)
    (tmp_path / "compose.yaml").write_text(
        "services:\n  agent:\n    build: ./agent\n    network_mode: host\n"
        "  web:\n    build:\n      context: web\n      dockerfile: Dockerfile\n")
    linter = Linter(Settings(root=tmp_path))
    assert hop(linter.lint_file(tmp_path / "agent/Dockerfile", "agent/Dockerfile").findings) == []
    web = hop(linter.lint_file(tmp_path / "web/Dockerfile", "web/Dockerfile").findings)
    assert len(web) == 1 and "built for compose service 'web' of compose.yaml" in web[0].message


@given(st.lists(st.sampled_from(["services:\n", "  web:\n", "    command: ", "apiVersion: v1\n", "kind: Pod\n",
                                 "spec:\n", "  containers:\n", "  - ", "[", "]", '"', "|\n", "curl ", URL, "{{ x }}",
                                 "network_mode: host\n", '{"containerDefinitions": [', "}", ",", "\n"]),
                max_size=40).map("".join))
def test_any_structured_text_is_read_without_raising(text):
    from imds_lint.engine import Session
    from imds_lint.model import Document

    for kind in ("yaml", "json"):
        notes: list[str] = []
        Session(notes).analyze(Document(kind, text))
        assert not any("internal error" in n for n in notes), notes
        structured.syntax_errors(text)


def test_ecs_task_definition_command_is_fixed_inside_its_json_string():
    task = {"family": "inventory", "networkMode": "host", "containerDefinitions": [{
        "name": "inventory", "image": "inventory:3.2", "entryPoint": ["sh", "-c"],
        "command": [f'ID="$(curl -fsS --max-time 1 {URL})" && exec inventory --id "$ID"']}]}
    text = json.dumps(task, indent=2) + "\n"
    fixed = fix(text, "json")
    after = json.loads(fixed)
    script = after["containerDefinitions"][0]["command"][0]
    assert script.startswith(': "${IMDS_TOKEN=$(curl -fs --max-time 1 -X PUT')
    assert script.endswith(f'ID="$(curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -fsS --max-time 1 {URL})" '
                           '&& exec inventory --id "$ID"')
    after["containerDefinitions"][0]["command"] = task["containerDefinitions"][0]["command"]
    assert after == task, "nothing but the script changed"


def test_exec_form_client_list_gets_an_unsafe_sh_c_rewrite_naming_why():
    text = (f'services:\n  probe:\n    image: curl\n    command: ["curl", "-fsS", "{URL}"]\n'
            f'    healthcheck:\n      test: ["CMD", "curl", "-f", "{URL}"]\n')
    found = [f for f in lint(text, "yaml") if f.code == "IMDS101"]
    assert len(found) == 2 and all(f.fix.applicability.value == "unsafe" for f in found)
    assert all("without a shell" in f.fix.title for f in found)
    assert fix(text, "yaml") == text, "--fix leaves them alone"
    service = yaml.safe_load(fix(text, "yaml", unsafe=True))["services"]["probe"]
    command, test = service["command"], service["healthcheck"]["test"]
    assert command[:2] == ["sh", "-c"] and test[0] == "CMD-SHELL" and len(command) == 3 and len(test) == 2
    for script in (command[2], test[1]):
        assert script.replace("$$", "$").startswith(': "${IMDS_TOKEN=$(curl -fs -X PUT')
