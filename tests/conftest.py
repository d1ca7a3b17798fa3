from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"

# A fast profile for every run; IMDS_LINT_FUZZ=1 selects the long one.
settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile("fuzz" if os.environ.get("IMDS_LINT_FUZZ") == "1" else "default")


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
