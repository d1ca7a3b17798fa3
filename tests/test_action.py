"""action.yml, run locally: each step's shell commands with the environment the runner gives them.

`uses:` steps (setup-python, upload-sarif) cannot run here; the test checks what they are handed.
The `if:` conditions are evaluated by a small evaluator for the forms action.yml uses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = {step.get("id") or step.get("name") or step["uses"]: step for step in ACTION["runs"]["steps"]}
TOKENLESS = "#!/bin/bash\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n"


class Runner:
    """Enough of a GitHub runner for a composite action: contexts, GITHUB_OUTPUT, the job summary."""

    def __init__(self, workspace: Path, temp: Path, inputs: dict[str, str]):
        self.workspace, self.temp = workspace, temp
        self.inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()} | inputs
        self.outputs: dict[str, dict[str, str]] = {}
        self.summary = temp / "step-summary.md"
        self.summary.touch()

    def lookup(self, expression: str) -> str:
        expression = expression.strip()
        if expression.startswith("inputs."):
            return self.inputs[expression[len("inputs."):]]
        if expression == "github.action_path":
            return str(ROOT)
        if expression == "runner.temp":
            return str(self.temp)
        match = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if match:
            return self.outputs.get(match.group(1), {}).get(match.group(2), "")
        raise AssertionError(f"action.yml uses an expression this test does not know: {expression}")

    def substitute(self, value: str) -> str:
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: self.lookup(m.group(1)), str(value))

    def condition(self, text: str | None) -> bool:
        if text is None:
            return True
        text = text.strip()
        if text.startswith("${{"):
            text = text[3:-2]
        result = True
        for term in text.split("&&"):
            term = term.strip()
            if term == "always()":
                continue
            left, op, right = re.fullmatch(r"(\S+)\s*(==|!=)\s*'(.*)'", term).groups()
            value = self.lookup(left)
            result &= (value == right) if op == "==" else (value != right)
        return result

    def run(self, key: str) -> subprocess.CompletedProcess | None:
        step = STEPS[key]
        if not self.condition(step.get("if")):
            return None
        assert step["shell"] == "bash"
        output = self.temp / f"output-{key}"
        output.write_text("")
        env = {**os.environ, "RUNNER_TEMP": str(self.temp), "GITHUB_OUTPUT": str(output),
               "GITHUB_STEP_SUMMARY": str(self.summary), "NO_COLOR": "1",
               "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
        env.update({name: self.substitute(value) for name, value in (step.get("env") or {}).items()})
        # GitHub runs `shell: bash` steps as `bash --noprofile --norc -eo pipefail {0}`.
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                              cwd=self.workspace, env=env, capture_output=True, text=True, timeout=120)
        if "id" in step:
            self.outputs[step["id"]] = dict(line.split("=", 1) for line in output.read_text().splitlines() if line)
        return proc


@pytest.fixture
def runner(tmp_path):
    workspace = tmp_path / "checkout"
    (workspace / "scripts").mkdir(parents=True)
    (workspace / "scripts" / "boot.sh").write_text(TOKENLESS)
    (workspace / "README.md").write_text("nothing to see\n")
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    return lambda **inputs: Runner(workspace, temp, inputs)


def test_the_action_is_composite_and_keeps_inputs_out_of_scripts():
    assert ACTION["runs"]["using"] == "composite"
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], f"{step['name']}: inputs must reach scripts through env"
    uses = [step["uses"] for step in ACTION["runs"]["steps"] if "uses" in step]
    assert uses == ["actions/setup-python@v5", "github/codeql-action/upload-sarif@v3"]
    assert ACTION["outputs"]["exit-code"]["value"] == "${{ steps.scan.outputs.exit-code }}"


def test_scan_summary_sarif_and_failure_steps_run_as_on_a_runner(runner):
    run = runner()
    scan = run.run("scan")
    assert scan.returncode == 0, scan.stderr
    assert "::error file=scripts/boot.sh,line=2,col=1" in scan.stdout
    outputs = run.outputs["scan"]
    assert outputs["exit-code"] == "1"
    sarif = json.loads(Path(outputs["sarif"]).read_text())
    assert sarif["runs"][0]["results"][0]["ruleId"] == "IMDS101"
    assert json.loads(Path(outputs["json"]).read_text())["findings"][0]["path"] == "scripts/boot.sh"

    assert run.run("Readiness summary").returncode == 0
    assert run.summary.read_text().startswith("# IMDSv2 readiness\n\n**❌ Not ready: 1 finding in 1 file")
    upload = STEPS["Upload SARIF"]
    assert run.condition(upload.get("if")) and Path(run.substitute(upload["with"]["sarif_file"])).is_file()
    failed = run.run("Fail on findings")
    assert failed.returncode == 1 and "::error title=imds-lint::" in failed.stdout


def test_inputs_turn_steps_off_and_usage_errors_fail_the_scan(runner):
    run = runner(**{"fail-on-findings": "false", "summary": "false", "sarif": "false",
                    "args": "--ignore IMDS101", "paths": "scripts README.md"})
    assert run.run("scan").returncode == 0
    assert run.outputs["scan"]["exit-code"] == "0"
    assert run.run("Readiness summary") is None and run.run("Fail on findings") is None
    assert not run.condition(STEPS["Upload SARIF"]["if"])

    bad = runner(args="--no-such-option")
    scan = bad.run("scan")
    assert scan.returncode == 2 and "::error title=imds-lint::imds-lint failed with exit code 2" in scan.stdout
    assert bad.outputs["scan"]["exit-code"] == "2"


@pytest.mark.slow
def test_the_install_step_installs_the_action_checkout(runner, tmp_path, monkeypatch):
    """The real pip command of the install step, kept offline: no index, no build isolation
    (hatchling comes from the test environment), into a target folder instead of site-packages."""
    target = tmp_path / "site"
    for name, value in {"PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1", "PIP_NO_BUILD_ISOLATION": "0",
                        "PIP_TARGET": str(target)}.items():
        monkeypatch.setenv(name, value)
    proc = runner().run("Install imds-lint")
    assert proc.returncode == 0, proc.stderr
    assert (target / "imds_lint" / "__init__.py").is_file() and (target / "imds_lint" / "rules").is_dir()
    assert (target / "bin" / "imds-lint").is_file()
