"""The fleet readiness report: three small repositories scanned one by one (as a CI matrix would),
their JSON reports merged, against reviewed golden files; and the README's GitHub Actions matrix
recipe, run locally step by step."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from imds_lint import __version__
from imds_lint.cli import main
from tests.conftest import ROOT
from tests.helpers import check_golden

GOLDEN = Path(__file__).with_name("golden")
FLEET = GOLDEN / "fleet"
REPOSITORIES = {"payments": "acme/payments", "web": "acme/web", "platform-infra": "acme/platform-infra"}


def commit_of(folder: str) -> str:
    return (folder.encode().hex() * 40)[:40]


def checkout(folder: str, target: Path) -> Path:
    """What actions/checkout leaves: the files, and a .git naming the origin and HEAD's commit."""
    shutil.copytree(FLEET / folder, target)
    git = target / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text(commit_of(folder) + "\n")
    (git / "config").write_text(f'[remote "origin"]\n\turl = https://github.com/{REPOSITORIES[folder]}\n')
    return target


def stable(document: dict) -> str:
    document["tool"]["version"] = "VERSION"  # a release must not rewrite the golden file
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@pytest.fixture
def reports(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    for folder in REPOSITORIES:
        repo = checkout(folder, tmp_path / "repos" / folder)
        args = [str(repo), "--format", "json", "--output-file", f"reports/{folder}.json", "--exit-zero"]
        if (repo / ".imds-lint-baseline.json").is_file():
            args += ["--baseline", str(repo / ".imds-lint-baseline.json")]
        assert main(args) == 0
    return tmp_path / "reports"


def test_each_report_names_its_repository_and_commit(reports):
    for folder, name in REPOSITORIES.items():
        data = json.loads((reports / f"{folder}.json").read_text())
        assert (data["repository"], data["commit"]) == (name, commit_of(folder))


def test_golden_fleet_report(reports, capsys, tmp_path):
    assert main(["--merge", "reports", "--format", "markdown", "--output", "json:fleet.json"]) == 1
    check_golden("fleet.md", capsys.readouterr().out, tmp_path)
    check_golden("fleet.json", stable(json.loads((tmp_path / "fleet.json").read_text())), tmp_path)


def test_fleet_numbers_agree_with_each_repository_report(reports, capsys):
    main(["--merge", "reports", "--format", "json"])
    fleet = json.loads(capsys.readouterr().out)
    rows = {row["repository"]: row for row in fleet["repositories"]}
    for folder, name in REPOSITORIES.items():
        main(["--format", "markdown", str(Path("repos") / folder)]
             + (["--baseline", f"repos/{folder}/.imds-lint-baseline.json"] if folder == "web" else []))
        own = capsys.readouterr().out
        assert rows[name]["verdict_text"] in own, f"{name}: the fleet and the repository's own report disagree"
    assert fleet["summary"]["findings"] == sum(row["findings"] for row in rows.values())
    assert fleet["summary"]["breaking"] == sum(row["breaking"] for row in rows.values())
    assert sum(r["findings"] for r in fleet["by_rule"]) == fleet["summary"]["findings"]
    assert fleet["fix_first"] == ["acme/payments", "acme/web"]
    assert rows["acme/web"]["baselined"] == 1 and not rows["acme/web"]["ready"], "baselined still breaks"


def test_bad_inputs_are_usage_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.json").write_text('{"hello": 1}\n')
    assert main(["--merge", "notes.json"]) == 2
    assert "not an imds-lint JSON report" in capsys.readouterr().err
    assert main(["--merge", "missing"]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["--merge", "empty"]) == 2
    assert main(["--merge", "empty", "--format", "sarif"]) == 2


def test_a_repository_reported_twice_keeps_the_last_report(reports, capsys):
    shutil.copy(reports / "web.json", reports / "zz-web-again.json")
    assert main(["--merge", "reports", "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)["repositories"]) == 3
    assert "acme/web is in reports/web.json and reports/zz-web-again.json; using reports/zz-web-again.json" in captured.err


# -- the README's matrix recipe, run locally --------------------------------------------------

README = (ROOT / "README.md").read_text(encoding="utf-8")


def recipe() -> dict:
    block = re.search(r"### Fleet readiness across repositories\n.*?```yaml\n(.*?)```", README, re.S).group(1)
    return yaml.safe_load(block)


def test_the_readme_matrix_recipe_pins_this_release():
    text = yaml.safe_dump(recipe())
    assert re.findall(r"imds-lint==([\d.]+)", text) == [__version__, __version__]


def run_steps(steps, cwd: Path, env: dict, uses) -> None:
    for step in steps:
        if "uses" in step:
            uses(step)
            continue
        command = step["run"]
        if command.startswith("pip install"):
            continue  # the test environment has imds-lint installed already
        assert "${{" not in command, "expressions belong in env, not in scripts"
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command], cwd=cwd,
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"


def test_the_readme_matrix_recipe_runs_and_writes_the_fleet_report(tmp_path):
    workflow = recipe()
    scan, fleet = workflow["jobs"]["scan"], workflow["jobs"]["fleet"]
    assert fleet["needs"] == "scan" and fleet["if"] == "always()"
    matrix = scan["strategy"]["matrix"]["repository"]
    artifacts = tmp_path / "artifacts"
    env = {**os.environ, "NO_COLOR": "1",
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    by_name = {name: folder for folder, name in REPOSITORIES.items()}
    for index, repository in enumerate(matrix):
        job = tmp_path / f"scan-{index}"
        job.mkdir()

        def uses(step, job=job, index=index, repository=repository):
            action = step["uses"].split("@")[0]
            if action == "actions/checkout":
                assert step["with"]["repository"] == "${{ matrix.repository }}"
                checkout(by_name[repository], job / step["with"]["path"])
            elif action == "actions/upload-artifact":
                name = step["with"]["name"].replace("${{ strategy.job-index }}", str(index))
                (artifacts / name).mkdir(parents=True)
                shutil.copy(job / step["with"]["path"], artifacts / name)

        run_steps(scan["steps"], job, env, uses)

    merge = tmp_path / "fleet"
    merge.mkdir()
    summary = tmp_path / "step-summary.md"

    def download(step):
        action = step["uses"].split("@")[0]
        if action == "actions/download-artifact":
            assert step["with"]["pattern"] == "imds-lint-*"
            shutil.copytree(artifacts, merge / step["with"]["path"])  # one folder per artifact, as v4 does

    run_steps(fleet["steps"], merge, {**env, "GITHUB_STEP_SUMMARY": str(summary)}, download)
    text = summary.read_text()
    golden = (GOLDEN / "fleet.md").read_text()
    # The same report as the golden one, read from the artifacts' folders.
    assert text == golden
    assert json.loads((merge / "fleet.json").read_text())["summary"]["repositories"] == 3
