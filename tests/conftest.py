"""Shared fixtures. The suite runs in pytest-xdist workers (pyproject addopts: -n auto), each a
process of its own, so nothing here or in a test may assume it has the machine to itself:

- servers (the IMDS emulator, the refusing and black-holed ports) bind 127.0.0.1 port 0 and are
  started per worker (session scope is per worker);
- files go under tmp_path / tmp_path_factory (a base folder per worker), never into the
  checkout; the wheel and pre-commit tests build from the checkout into their own temp folders;
- the current folder and the environment are changed only through monkeypatch (per process);
- time bounds are CPU time or best-of-several where a loaded core could stretch wall time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"

def pytest_xdist_auto_num_workers(config):
    """``-n auto`` (pyproject addopts) takes every core for the suite or a selection of it
    (``-m "not slow"``, ``-k``), but one process for a run that names files or tests: starting
    the workers (an interpreter, imports and collection each) costs more than such a run saves."""
    if config.args_source is pytest.Config.ArgsSource.ARGS and any(
            os.path.isfile(arg.split("::", 1)[0]) for arg in config.args):
        return 0
    return None  # xdist's own count: the cores this process may use


# A fast profile for every run; IMDS_LINT_FUZZ=1 selects the long one.
settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile("fuzz" if os.environ.get("IMDS_LINT_FUZZ") == "1" else "default")


@pytest.fixture(autouse=True, scope="session")
def _results_cache_outside_the_checkout(tmp_path_factory):
    """Runs keep their results cache in a folder of this session, never in the checkout or a
    fixture tree (the default is .imds_lint_cache in the project root). The cache stays on, so
    every CLI test also checks that cached answers are right; tests/test_cache.py compares warm
    and cold runs directly."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IMDS_LINT_CACHE_DIR", str(tmp_path_factory.mktemp("results-cache")))
        patch.setenv("IMDS_LINT_SECRET_DIR", str(tmp_path_factory.mktemp("results-cache-key")))
        yield


@pytest.fixture(autouse=True, scope="session")
def _quick_hcl_from_the_first_file():
    """The exact quick HCL reading (``hcl.quick``) from the first file on, in this process and the
    command lines it starts, so that every Terraform and Packer test also holds it to the same
    results (a process would start on it only after some hundred files); tests/test_hcl_quick.py
    compares it with tree-sitter directly. IMDS_LINT_HCL_QUICK=0 runs the suite without it."""
    from imds_lint.hcl import tree

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IMDS_LINT_HCL_QUICK", os.environ.get("IMDS_LINT_HCL_QUICK", "1"))
        before = tree._QUICK_IN
        tree.set_quick(os.environ["IMDS_LINT_HCL_QUICK"] != "0")
        yield
        tree._QUICK_IN = before


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository (``tmp_path/repo``) as the current folder, colour off, with room beside it
    (its parent) for what must stay outside it: a cache folder, a config above the root."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("NO_COLOR", "1")
    return root


@pytest.fixture
def git_repo(tmp_path, monkeypatch):
    """An empty repository (a .git folder is all imds-lint looks for) as the current folder, colour off."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def imds_emulator():
    server = Emulator().start()
    yield server
    server.stop()


@pytest.fixture
def emulator(imds_emulator):
    imds_emulator.reset()
    return imds_emulator


@pytest.fixture(scope="session")
def bash():
    path = shutil.which("bash")
    if path is None:
        pytest.skip("bash is not installed")
    return path


@pytest.fixture(scope="session")
def three_worlds(tmp_path_factory):
    """One emulator, one refusing port and one black-holed port for the whole session."""
    from tests.differential import Worlds

    worlds = Worlds(tmp_path_factory.mktemp("three-worlds"))
    yield worlds
    worlds.stop()
