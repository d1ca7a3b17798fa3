"""What a release ships besides the code: LICENSE, CHANGELOG, version tags the docs can name, and
a container recipe (checked statically: no container engine runs here)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib

import pytest

from imds_lint import __version__
from imds_lint.cli import main
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_license_is_the_apache_2_text_pyproject_names():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text.splitlines()) > 190
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"


def test_changelog_names_this_version_and_its_tag():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    assert releases and releases[0] == __version__, "the newest CHANGELOG release is the package's version"
    assert f"[{__version__}]: https://github.com/imds-lint/imds-lint/releases/tag/v{__version__}" in changelog


def test_docs_pin_the_released_version():
    assert re.findall(r"^\s+rev: (v\S+)$", README, re.M) == [f"v{__version__}"]
    assert set(re.findall(r"uses: imds-lint/imds-lint@(\S+)", README)) == {f"v{__version__}"}
    assert set(re.findall(r"pip install imds-lint==(\S+)", README)) == {__version__}


# -- Dockerfile, hadolint-style ------------------------------------------------------------------

def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " " if line.endswith("\\") else line.strip()
        if not line.endswith("\\"):
            lines.append(current)
            current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_dockerfile_follows_the_hadolint_rules_that_apply():
    steps = instructions()
    names = [name for name, _ in steps]
    froms = [args.split()[0] for name, args in steps if name == "FROM"]
    for image in froms:
        name, _, tag = image.partition(":")
        assert tag and tag != "latest", f"DL3006/DL3007: pin {image} to a version tag"
    stages = {args.split()[-1] for name, args in steps if name == "FROM" and " AS " in args.upper()}
    for name, args in steps:
        if name == "WORKDIR":
            assert args.startswith("/"), "DL3000: WORKDIR must be absolute"
        if name == "RUN":
            assert "sudo " not in args, "DL3004"
            for command in re.split(r"&&|;", args):
                words = command.split()
                if words[:2] == ["pip", "install"] or words[:4] == ["python", "-m", "pip", "install"]:
                    assert "--no-cache-dir" in words, "DL3042: pip install --no-cache-dir"
                    packages = [w for w in words[2:] if not w.startswith("-")]
                    for package in packages:
                        assert "==" in package or package.endswith(".whl") or package.startswith(("/", ".")), \
                            f"DL3013: pin {package}"
                if "apt-get install" in command:
                    assert "--no-install-recommends" in command and "-y" in words, "DL3015/DL3014"
        if name == "COPY" and not args.startswith("--from="):
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        if name == "COPY" and args.startswith("--from="):
            assert args.split()[0][len("--from="):] in stages, "DL3022: COPY --from names a stage"
    assert "MAINTAINER" not in names, "DL4000"
    users = [args for name, args in steps if name == "USER"]
    assert users and users[-1] not in ("root", "0"), "DL3002: the last USER must not be root"
    entrypoint = next(args for name, args in steps if name == "ENTRYPOINT")
    assert json.loads(entrypoint) == ["imds-lint"], "DL3025: exec form"
    assert json.loads(next(args for name, args in steps if name == "CMD")) == ["."]


def dockerignored(patterns: list[str], path: str) -> bool:
    """Docker's .dockerignore rules (moby's patternmatcher), not git's: a pattern matches a path or
    any of its parent folders, ``*`` stays within one path element, ``**`` spans any, the last
    matching pattern wins and ``!`` re-includes."""
    def regex(pattern: str) -> re.Pattern[str]:
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out + "$")

    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for line in patterns:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = regex(line.lstrip("!").strip("/"))
        if any(pattern.match(c) for c in candidates):
            ignored = not negated
    return ignored


def test_dockerignore_lets_in_exactly_what_the_build_copies():
    patterns = (ROOT / ".dockerignore").read_text().splitlines()
    copied = [source for name, args in instructions() if name == "COPY" and not args.startswith("--from=")
              for source in args.split()[:-1]]
    for source in copied:
        path = ROOT / source
        files = [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts] if path.is_dir() else [path]
        for file in files:
            assert not dockerignored(patterns, str(file.relative_to(ROOT))), f"{file}: copied, but .dockerignore drops it"
    assert dockerignored(patterns, "tests/test_cli.py") and dockerignored(patterns, ".git/HEAD")
    assert dockerignored(patterns, "imds_lint/__pycache__/cli.cpython-311.pyc")


def test_imds_lint_finds_nothing_in_its_own_recipes(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(ROOT)
    assert main(["Dockerfile", "action.yml"]) == 0


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint not installed (static checks above instead)")
def test_hadolint_itself_when_installed():
    proc = subprocess.run(["hadolint", str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
