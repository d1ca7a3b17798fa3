"""A pre-commit run over files that fail the prefilter loads none of the heavy machinery.

What the benchmark's pre-commit figure rests on, checked as a property
rather than a timing: which modules a run imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("dataclasses", "inspect", "imds_lint.model", "imds_lint.engine", "imds_lint.frontends", "imds_lint.rules",
         "tree_sitter", "libcst", "yaml", "rich", "hyperscan", "pathspec", "tempfile", "shutil")

PROBE = """
import json, sys
from imds_lint.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
sys.stderr.write(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run(tmp_path, *paths):
    proc = subprocess.run([sys.executable, "-c", PROBE, *paths], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    return proc.stdout, json.loads(proc.stderr.strip().splitlines()[-1])


def test_files_that_fail_the_prefilter_load_nothing_heavy(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.imds-lint]\nexclude = ["vendor/"]\n')
    names = []
    for i in range(5):
        (tmp_path / f"step{i}.sh").write_text(f"#!/bin/bash\nset -eu\napt-get install -y nginx\necho step {i}\n")
        names.append(f"step{i}.sh")
    out, probe = _run(tmp_path, *names)
    assert probe["code"] == 0 and "in 5 files" in out
    # What the interpreter loads before any code of ours (an editable install's import hook
    # brings tempfile and shutil) is not the run's doing.
    bare = subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(list(sys.modules)))"],
                          capture_output=True, text=True, timeout=60)
    at_start = set(json.loads(bare.stdout))
    loaded = [m for m in probe["modules"] if m.startswith(HEAVY) and m not in at_start]
    assert loaded == [], f"a clean pre-commit run imported {loaded}"


def test_a_file_that_needs_a_front_end_loads_only_its_own(tmp_path):
    (tmp_path / "boot.sh").write_text("#!/bin/bash\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n")
    out, probe = _run(tmp_path, "boot.sh")
    assert probe["code"] == 1 and "IMDS101" in out
    modules = set(probe["modules"])
    assert {"imds_lint.engine", "imds_lint.frontends.shell", "tree_sitter_bash._binding"} <= modules
    assert not modules & {"libcst", "yaml", "rich", "tree_sitter_hcl", "imds_lint.frontends.python"}
    # No Dockerfile near it: the Dockerfile and compose parsers stay unloaded; no IaC in it: the
    # IaC model too; and nothing pays for dataclasses (with inspect) at start-up.
    assert not modules & {"imds_lint.frontends.dockerfile", "imds_lint.frontends.orchestrators",
                          "imds_lint.frontends.iac", "dataclasses", "inspect"}
    # The grammar's binary is loaded without its package's __init__, whose importlib.resources
    # brings tempfile, shutil, bz2, lzma and random along (~5 ms of a run with findings).
    bare = subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(list(sys.modules)))"],
                          capture_output=True, text=True, timeout=60)
    at_start = set(json.loads(bare.stdout))
    assert not (modules - at_start) & {"importlib.resources", "tempfile", "shutil", "lzma", "bz2", "random"}
    # File names alone are read without argparse (and gettext's catalogue lookups); fingerprints
    # (OpenSSL's hashlib) and base64 payloads load only for a run that uses them.
    assert not (modules - at_start) & {"argparse", "gettext", "locale", "hashlib", "_hashlib", "base64"}
