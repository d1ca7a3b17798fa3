"""The wheel ships the catalog inside imds_lint/ and nothing called rules at top level."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0 and "No module named build" in result.stderr:
        pytest.skip("the 'build' package is not installed (pip install -e '.[test]')")
    assert result.returncode == 0, result.stderr[-2000:]
    (path,) = out.glob("imds_lint-*.whl")
    return path


@pytest.mark.slow
def test_wheel_has_no_top_level_rules_and_ships_every_rule(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/", 1)[0] for n in names}
    assert "rules" not in top_level
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"imds_lint"}
    shipped = {n.rsplit("/", 1)[-1] for n in names if n.startswith("imds_lint/rules/imds")}
    in_checkout = {p.name for p in (ROOT / "rules").glob("imds*.py")}
    assert shipped == in_checkout


@pytest.mark.slow
def test_installed_wheel_runs_and_rules_is_not_importable(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                    "--target", str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    probe = (
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(target)!r})\n"
        "assert importlib.util.find_spec('rules') is None, 'rules must not be importable'\n"
        "from imds_lint.registry import all_rules\n"
        "print(len(all_rules()))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(list((ROOT / "rules").glob("imds*.py")))


def test_checkout_does_not_expose_rules_either():
    result = subprocess.run([sys.executable, "-c", "import rules"], capture_output=True, text=True, cwd="/")
    assert result.returncode != 0
