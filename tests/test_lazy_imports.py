"""A pre-commit run over files that fail the prefilter loads none of the heavy machinery.

What the benchmark's pre-commit figure rests on, checked as a property
rather than a timing: which modules a run imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

from imds_lint import registry

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


# Without site: an editable install's import hook (and its .pth files) load typing, pathlib and
# more before any code of ours, which would hide what the run itself imports. The console script
# pip writes imports re first; so does this probe.
BARE_PROBE = """
import sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import re
at_start = set(sys.modules)
from imds_lint.cli import main
code = main(sys.argv[3:])
loaded = sorted(set(sys.modules) - at_start)
import json
sys.stdout.flush()
sys.stderr.write(json.dumps({"code": code, "modules": loaded}))
"""


def _run_without_site(tmp_path, *paths):
    import sysconfig

    from tests.conftest import ROOT

    proc = subprocess.run([sys.executable, "-S", "-c", BARE_PROBE, str(ROOT), sysconfig.get_paths()["purelib"], *paths],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    return proc.stdout, json.loads(proc.stderr.strip().splitlines()[-1])


def test_a_pre_commit_run_with_findings_loads_only_what_its_shell_scripts_need(tmp_path):
    tokenless = "REGION=$(curl -s http://169.254.169.254/latest/meta-data/placement/region)\n"
    names = []
    for i in range(5):
        (tmp_path / f"step{i}.sh").write_text(f"#!/bin/bash\nset -eu\napt-get install -y nginx\necho step {i}\n"
                                              + (tokenless if i < 4 else ""))
        names.append(f"step{i}.sh")
    out, probe = _run_without_site(tmp_path, "--no-cache", *names)
    assert probe["code"] == 1 and out.count("IMDS101") == 4
    modules = set(probe["modules"])
    assert {"imds_lint.frontends.shell", "imds_lint.fixers.shell", "tree_sitter._binding", "tree_sitter_bash._binding",
            "imds_lint.rules.imds101_tokenless_request"} <= modules
    # typing (tree-sitter's __init__ imports it for one Protocol; so did our annotations), and what
    # importlib.util brings: ~3 ms of a 40 ms run; pathlib, with urllib.parse and ipaddress, ~3 ms more.
    assert not modules & {"typing", "contextlib", "importlib.util", "tree_sitter", "dataclasses", "inspect",
                          "pathlib", "urllib.parse", "ipaddress"}
    # Nothing another kind needs: parsers, front-ends, fixers, the IaC model, its rules.
    assert not modules & {"libcst", "yaml", "rich", "pathspec", "hyperscan", "argparse", "hashlib", "base64",
                          "imds_lint.frontends.python", "imds_lint.frontends.dockerfile", "imds_lint.frontends.iac",
                          "imds_lint.frontends.text", "imds_lint.fixers.python", "imds_lint.fixers.powershell",
                          "imds_lint.fixers.sourcecode", "imds_lint.fixers.terraform", "imds_lint.fixers.manifests"}
    fact_rules = {f"imds_lint.rules.{name}" for name in registry.FACT_RULES}
    assert not modules & fact_rules, "a shell script with no IaC or dependency facts loaded the rules that read them"
    # apt-get install of packages no rule knows: no dependency or version model.
    assert not modules & {"imds_lint.dependencies", "imds_lint.versions", "packaging"}


def test_the_probe_without_site_sees_what_a_run_imports(tmp_path):
    # The same probe on a Terraform file: the IaC rules and their model load (the check above can fail).
    (tmp_path / "main.tf").write_text('resource "aws_instance" "web" {\n  ami = "ami-1"\n}\n')
    _, probe = _run_without_site(tmp_path, "--no-cache", "main.tf")
    assert probe["code"] == 1
    assert {"imds_lint.rules.imds301_metadata_tokens_optional", "imds_lint.frontends.iac"} <= set(probe["modules"])
    # And a script pinning an old awscli: the dependency model and its rules.
    (tmp_path / "setup.sh").write_text("#!/bin/bash\npip install awscli==1.10.0\n")
    out, probe = _run_without_site(tmp_path, "--no-cache", "setup.sh")
    assert probe["code"] == 1 and "IMDS40" in out
    assert {"imds_lint.dependencies", "imds_lint.versions"} <= set(probe["modules"])


def test_a_pre_commit_run_in_a_repository_with_a_config_loads_no_pathlib(tmp_path):
    # What most hooks run in: a git checkout (HEAD and the origin remote read for the report) and a
    # [tool.imds-lint] table; files that fail the prefilter and one with a finding.
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text("0123456789abcdef0123456789abcdef01234567\n")
    (git / "config").write_text('[remote "origin"]\n\turl = git@github.com:acme/infra.git\n')
    (tmp_path / "pyproject.toml").write_text('[tool.imds-lint]\nexclude = ["vendor/"]\n')
    (tmp_path / "clean.sh").write_text("#!/bin/sh\necho hi\n")
    (tmp_path / "boot.sh").write_text("#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\n")
    for names, code in ((["clean.sh"], 0), (["clean.sh", "boot.sh"], 1)):
        out, probe = _run_without_site(tmp_path, "--no-cache", *names)
        assert probe["code"] == code, out
        # (typing does load here: tomllib, reading the config, imports it and datetime.)
        assert not set(probe["modules"]) & {"pathlib", "urllib.parse", "ipaddress"}
