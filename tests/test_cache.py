"""The results cache: a warm run says exactly what a cold one says, whatever changed in between.

Every run here is compared with ``--no-cache`` on the same tree at the same moment: stdout (byte
for byte), stderr and the exit code. The cache folder is the test's own (``--cache-dir``).
"""

from __future__ import annotations

import errno
import json
import os
import random
import time
from pathlib import Path

import pytest

from imds_lint import cache as results_cache
from imds_lint.cli import main
from tests.conftest import FIXTURES
from tests.helpers import write
from tests.test_project_index import _QUESTIONS, _layout

URL = "http://169.254.169.254/latest/meta-data/instance-id"


def run(capsys, tree: Path, *args: str, cache: Path | None) -> tuple[int, str, str]:
    options = ["--no-cache"] if cache is None else ["--cache-dir", str(cache)]
    code = main([*options, *args, str(tree)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def same_as_cold(capsys, tree: Path, cache: Path, *args: str) -> tuple[int, str, str]:
    """Run warm, then cold; assert they agree and return the cold answer."""
    warm = run(capsys, tree, *args, cache=cache)
    cold = run(capsys, tree, *args, cache=None)
    assert warm == cold
    return cold


def entries(cache: Path) -> list[Path]:
    folder = cache / results_cache.ENTRIES
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []


# -- warm == cold on the fixtures ----------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "sarif", "text"])
def test_fixtures_warm_equals_cold(capsys, tmp_path, fmt):
    cache = tmp_path / "cache"
    first = run(capsys, FIXTURES, "--format", fmt, cache=cache)
    assert entries(cache), "the cold run stored nothing"
    warm = run(capsys, FIXTURES, "--format", fmt, cache=cache)
    cold = run(capsys, FIXTURES, "--format", fmt, cache=None)
    assert first == warm == cold
    assert first[0] == 1


def test_every_format_warm_equals_cold(capsys, repo):
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    write(repo / "b.py", f"import requests\nrequests.get('{URL}')\n")
    write(repo / "broken.json", '{"UserData": "curl ' + URL + '",\n')
    (repo / "bad.sh").write_bytes(b"#!/bin/sh\ncurl \xff " + URL.encode() + b"\n")
    cache = repo.parent / "cache"
    from imds_lint.cli import FORMATS

    for fmt in FORMATS:
        run(capsys, repo, "--format", fmt, cache=cache)
        assert same_as_cold(capsys, repo, cache, "--format", fmt)[0] == 1, fmt


def test_results_are_served_from_the_cache(capsys, repo, monkeypatch):
    """A warm run does not run the front-ends at all (else the cache would only cost)."""
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    cache = repo.parent / "cache"
    cold = run(capsys, repo, "--format", "json", cache=cache)
    from imds_lint import engine

    def no_lint(*args, **kwargs):
        raise AssertionError("linted although the cache holds the result")

    monkeypatch.setattr(engine.Linter, "lint_text", no_lint)
    assert run(capsys, repo, "--format", "json", cache=cache) == cold


# -- each cross-file question, changed between two runs ------------------------------------------
def _other_file(tmp_path: Path, question: str) -> tuple[Path, Path, Path]:
    scan, linted, settings, other = _layout(tmp_path, _QUESTIONS[question], "read")
    return scan, scan / linted, Path(other)


def _uses(out: str, question: str) -> bool:
    from types import SimpleNamespace

    found = [SimpleNamespace(code=f["rule"]) for f in json.loads(out)["findings"]]
    return _QUESTIONS[question]["used"](found)


@pytest.mark.parametrize("question", sorted(_QUESTIONS))
def test_the_other_file_edited_removed_or_added_gives_the_cold_answer(capsys, tmp_path, monkeypatch, question):
    scan, linted, other = _other_file(tmp_path, question)
    monkeypatch.chdir(scan)
    cache = tmp_path / "cache"
    text = other.read_text()
    assert _uses(same_as_cold(capsys, scan, cache, "--format", "json")[1], question)
    # Edited so that it says nothing to the linted file any more (same name, other content).
    other.write_text("\n" * len(text))
    assert not _uses(same_as_cold(capsys, scan, cache, "--format", "json")[1], question)
    other.write_text(text)
    assert _uses(same_as_cold(capsys, scan, cache, "--format", "json")[1], question)
    # Removed, then added back to its folder.
    other.unlink()
    assert not _uses(same_as_cold(capsys, scan, cache, "--format", "json")[1], question)
    other.write_text(text)
    assert _uses(same_as_cold(capsys, scan, cache, "--format", "json")[1], question)
    # .gitignored, then no longer.
    gitignore = scan / ".gitignore"
    gitignore.write_text(f"{other.name}\n")
    assert not _uses(same_as_cold(capsys, scan, cache, "--format", "json")[1], question)
    gitignore.write_text("# nothing\n")
    assert _uses(same_as_cold(capsys, scan, cache, "--format", "json")[1], question)
    # Excluded by the config, then not.
    config = scan / "imds-lint.toml"
    config.write_text(f'exclude = ["{other.relative_to(scan).as_posix()}"]\n')
    assert not _uses(same_as_cold(capsys, scan, cache, "--format", "json")[1], question)
    config.write_text("")
    assert _uses(same_as_cold(capsys, scan, cache, "--format", "json")[1], question)


def test_every_file_of_a_module_sees_its_siblings_change(capsys, repo):
    """The second file of a module takes the siblings from the index's memo, not from the disk:
    what building the memo asked must be in its entry too."""
    for name in ("a", "b", "c"):
        write(repo / f"mod/{name}.tf", f'resource "aws_instance" "{name}" {{\n  metadata_options {{\n'
                                            '    http_tokens = var.tokens\n  }\n}\n')
    variables = write(repo / "mod/variables.tf", 'variable "tokens" {\n  default = "optional"\n}\n')
    cache = repo.parent / "cache"
    flagged = json.loads(same_as_cold(capsys, repo, cache, "--format", "json")[1])["findings"]
    assert len([f for f in flagged if f["rule"] == "IMDS301"]) == 3
    variables.write_text('variable "tokens" {\n  default = "required"\n}\n')
    assert same_as_cold(capsys, repo, cache, "--format", "json")[0] == 0


def test_a_file_turned_into_a_link_elsewhere_gives_the_cold_answer(capsys, repo):
    """Same path, same bytes, but its real place (where its Dockerfile is looked for) moved."""
    script = f"#!/bin/sh\ncurl -s {URL}\n"
    write(repo / "app/entrypoint.sh", script)
    write(repo / "app/Dockerfile", 'FROM alpine\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["/entrypoint.sh"]\n')
    cache = repo.parent / "cache"
    shown = same_as_cold(capsys, repo, cache, "--format", "json", "app/entrypoint.sh")[1]
    assert "IMDS201" in {f["rule"] for f in json.loads(shown)["findings"]}
    write(repo / "lib/entrypoint.sh", script)
    (repo / "app/entrypoint.sh").unlink()
    (repo / "app/entrypoint.sh").symlink_to(repo / "lib/entrypoint.sh")
    shown = same_as_cold(capsys, repo, cache, "--format", "json", "app/entrypoint.sh")[1]
    assert "IMDS201" not in {f["rule"] for f in json.loads(shown)["findings"]}


def test_a_config_change_gives_the_cold_answer(capsys, repo):
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    cache = repo.parent / "cache"
    assert same_as_cold(capsys, repo, cache, "--format", "json")[0] == 1
    write(repo / "imds-lint.toml", 'ignore = ["IMDS101"]\n')
    assert same_as_cold(capsys, repo, cache, "--format", "json")[0] == 0
    write(repo / "imds-lint.toml", 'per-file-ignores = { "b.sh" = ["IMDS1"] }\n')
    assert same_as_cold(capsys, repo, cache, "--format", "json")[0] == 1
    assert same_as_cold(capsys, repo, cache, "--format", "json", "--select", "IMDS3")[0] == 0


def test_a_nested_config_gives_its_own_answer(capsys, repo):
    body = f"#!/bin/sh\ncurl -s {URL}\n"
    write(repo / "a.sh", body)
    write(repo / "sub/a.sh", body)
    cache = repo.parent / "cache"
    same_as_cold(capsys, repo, cache, "--format", "json")
    write(repo / "sub/imds-lint.toml", 'ignore = ["IMDS101"]\n')
    out = same_as_cold(capsys, repo, cache, "--format", "json")[1]
    shown = [f["path"] for f in json.loads(out)["findings"] if f["rule"] == "IMDS101"]
    assert len(shown) == 1 and not shown[0].endswith("sub/a.sh")


def test_the_same_file_shown_under_another_name_is_its_own_entry(capsys, repo):
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    cache = repo.parent / "cache"
    same_as_cold(capsys, repo, cache, "--format", "json")
    code = main(["--cache-dir", str(cache), "--format", "json", "./a.sh"])
    warm = capsys.readouterr().out
    main(["--no-cache", "--format", "json", "./a.sh"])
    assert code == 1 and warm == capsys.readouterr().out


# -- random edit sequences -----------------------------------------------------------------------
_VARIANTS = {
    "mod/main.tf": ['resource "aws_instance" "a" {\n  user_data = templatefile("${path.module}/init.sh.tftpl", {})\n'
                    '  metadata_options {\n    http_tokens = var.tokens\n  }\n}\n',
                    'resource "aws_instance" "a" {\n  metadata_options {\n    http_tokens = "required"\n  }\n}\n'],
    "mod/variables.tf": ['variable "tokens" {\n  default = "optional"\n}\n',
                         'variable "tokens" {\n  default = "required"\n}\n', None],
    "mod/init.sh.tftpl": [f"#!/bin/bash\ncurl -s {URL}\n", "#!/bin/bash\ndocker run -d nginx\n", None],
    "app/requirements.txt": ["-r ../common.in\nrequests==2.31.0\n", "requests==2.31.0\n"],
    "common.in": ["botocore==1.12.0\n", "botocore==1.35.0\n", None],
    "app/entrypoint.sh": [f"#!/bin/sh\ncurl -s {URL}\n", f"#!/bin/sh\n# v2\ncurl -s {URL}/x\n"],
    "app/Dockerfile": ['FROM alpine\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["/entrypoint.sh"]\n',
                       "FROM alpine\nCOPY entrypoint.sh /entrypoint.sh\n", None],
    "compose.yaml": ["services:\n  app:\n    build: app\n    network_mode: host\n",
                     "services:\n  app:\n    build: app\n", None],
    ".gitignore": ["common.in\n", "mod/variables.tf\n", "# none\n", None],
    "imds-lint.toml": ['ignore = ["IMDS4"]\n', 'exclude = ["mod/init.sh.tftpl"]\n', "", None],
}


def _apply(root: Path, name: str, text: str | None) -> None:
    path = root / name
    if text is None:
        if path.exists():
            path.unlink()
        return
    write(path, text)


def test_random_edit_sequences_keep_warm_equal_to_cold(capsys, tmp_path, monkeypatch):
    """Random edits to a small project of every cross-file kind; after each step the cached run
    says what --no-cache says. Fixed seeds (a fixed set of steps, whatever the machine's load),
    stopped early only by a generous time bound."""
    scan = tmp_path / "scan"
    (scan / ".git").mkdir(parents=True)
    monkeypatch.chdir(scan)
    cache = tmp_path / "cache"
    for name, variants in _VARIANTS.items():
        _apply(scan, name, variants[0])
    seen: set[str] = set()
    deadline = time.process_time() + 60
    for seed in range(3):
        rng = random.Random(seed)
        for _ in range(25):
            for _ in range(rng.randint(1, 3)):
                name = rng.choice(sorted(_VARIANTS))
                _apply(scan, name, rng.choice(_VARIANTS[name]))
            out = same_as_cold(capsys, scan, cache, "--format", "json")[1]
            seen.add(out)
            if time.process_time() > deadline:
                break
    assert len(seen) >= 5, "the edits hardly changed the answer: the test proves little"


# -- hostile cache contents ----------------------------------------------------------------------
def _hostile_payloads(key: str) -> dict[str, bytes]:
    clean = {"format": 1, "key": key, "asked": [], "dialect": None, "notes": [], "findings": []}
    return {
        "garbage": os.urandom(512),
        "empty": b"",
        "not an object": b"[1, 2, 3]",
        "wrong key": json.dumps({**clean, "key": "0" * 32}).encode(),
        "wrong format": json.dumps({**clean, "format": 99}).encode(),
        "wrong types": json.dumps({**clean, "findings": [["IMDS101", 1, 2]], "notes": [7]}).encode(),
        "finding of wrong shape": json.dumps({**clean, "findings": [[None] * 16]}).encode(),
        "asked garbage": json.dumps({**clean, "asked": [["read", 5, None, "x"], ["nope", "/", 1]]}).encode(),
        "asked too much": json.dumps({**clean, "asked": [["inside", "/", "/"]] * 30_000}).encode(),
        "deep": b"[" * 200_000 + b"]" * 200_000,
        "huge": b'{"format": 1, "pad": "' + b"x" * (results_cache.MAX_ENTRY_BYTES + 10) + b'"}',
        "big number": b'{"format": 1, "key": ' + b"9" * 100_000 + b"}",
        "not UTF-8": b'{"format": 1, "key": "\xff\xfe"}',
    }


def _warm(capsys, tree: Path, cache: Path) -> tuple[int, str, str]:
    cold = run(capsys, tree, "--format", "json", cache=None)
    run(capsys, tree, "--format", "json", cache=cache)
    return cold


def test_hostile_entries_are_misses_never_crashes_never_hidden_findings(capsys, repo):
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    cache = repo.parent / "cache"
    cold = _warm(capsys, repo, cache)
    (entry,) = entries(cache)
    for label, payload in _hostile_payloads(entry.name).items():
        entry.write_bytes(payload)
        assert run(capsys, repo, "--format", "json", cache=cache) == cold, label
        # The miss stored the right entry again.
        assert json.loads(entry.read_bytes())["key"] == entry.name, label


def test_a_forged_clean_entry_for_another_file_is_not_taken(capsys, repo):
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    write(repo / "b.sh", "#!/bin/sh\ncurl -s http://169.254.169.254/latest/api/token -X PUT "
                              "-H 'X-aws-ec2-metadata-token-ttl-seconds: 60'\n")
    cache = repo.parent / "cache"
    cold = _warm(capsys, repo, cache)
    stored = {p.name: json.loads(p.read_bytes()) for p in entries(cache)}
    clean = next(e for e in stored.values() if not e["findings"])
    for name in stored:  # every entry swapped for the clean one, under its own name
        (cache / results_cache.ENTRIES / name).write_text(json.dumps(clean))
    assert run(capsys, repo, "--format", "json", cache=cache) == cold


@pytest.fixture
def fresh_secret(tmp_path, monkeypatch):
    """This user's key for entry names made anew in a folder of the test's own."""
    folder = tmp_path / "key"
    monkeypatch.setenv("IMDS_LINT_SECRET_DIR", str(folder))
    monkeypatch.setattr(results_cache, "_secret", None)
    monkeypatch.setattr(results_cache, "_secret_problem", None)
    return folder


def test_an_entry_planted_by_someone_without_this_users_key_is_not_taken(capsys, repo, fresh_secret,
                                                                        monkeypatch):
    # A repository can commit a cache folder, and everything in a key but the user's secret is
    # public (version, RECORD, CI's checkout path). The attacker here runs imds-lint with a key of
    # their own at the same path and edits the entries it wrote to say "no findings".
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    cache = repo.parent / "cache"
    cold = run(capsys, repo, "--format", "json", cache=None)
    assert json.loads(cold[1])["findings"]
    theirs = os.urandom(results_cache.SECRET_BYTES)
    monkeypatch.setattr(results_cache, "_secret", theirs)
    run(capsys, repo, "--format", "json", cache=cache)
    for entry in entries(cache):
        forged = json.loads(entry.read_bytes())
        forged["findings"], forged["notes"] = [], []
        entry.write_text(json.dumps(forged))
    # With the attacker's key the forgery works (so this test can fail)...
    assert json.loads(run(capsys, repo, "--format", "json", cache=cache)[1])["findings"] == []
    # ...with this user's own key it is never looked at.
    monkeypatch.setattr(results_cache, "_secret", None)
    assert run(capsys, repo, "--format", "json", cache=cache) == cold
    assert (fresh_secret / "secret").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("problem", ["others may read it", "short", "a link", "a file in the folder's place"])
def test_a_key_that_is_not_private_turns_the_cache_off_with_one_note(capsys, repo, fresh_secret, problem):
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    fresh_secret.mkdir()
    key = fresh_secret / "secret"
    if problem == "others may read it":
        key.write_bytes(os.urandom(results_cache.SECRET_BYTES))
        key.chmod(0o644)
    elif problem == "short":
        key.write_bytes(b"0123")
        key.chmod(0o600)
    elif problem == "a link":
        target = repo.parent / "planted"
        target.write_bytes(os.urandom(results_cache.SECRET_BYTES))
        target.chmod(0o600)
        key.symlink_to(target)
    else:
        fresh_secret.rmdir()
        fresh_secret.write_text("")
    cold = run(capsys, repo, "--format", "json", cache=None)
    cache = repo.parent / "cache"
    code, out, err = run(capsys, repo, "--format", "json", cache=cache)
    assert (code, out) == cold[:2]
    assert err.count("imds-lint: note: results cache") == 1, err
    assert not entries(cache)


def test_a_group_whose_questions_are_not_its_name_is_not_taken(capsys, repo):
    """A module's shared answers are stored once, named by their digest: a group edited to say
    nothing (so that every answer 'holds') is refused, and the edited sibling counts."""
    write(repo / "mod/a.tf", 'resource "aws_instance" "a" {\n  metadata_options {\n'
                                  '    http_tokens = var.tokens\n  }\n}\n')
    variables = write(repo / "mod/variables.tf", 'variable "tokens" {\n  default = "optional"\n}\n')
    cache = repo.parent / "cache"
    assert same_as_cold(capsys, repo, cache, "--format", "json")[0] == 1
    groups = [p for p in entries(cache) if "findings" not in json.loads(p.read_bytes())]
    assert groups, "the module's siblings were not stored as a group"
    variables.write_text('variable "tokens" {\n  default = "required"\n}\n')
    for group in groups:
        group.write_text(json.dumps({**json.loads(group.read_bytes()), "asked": []}))
    assert same_as_cold(capsys, repo, cache, "--format", "json")[0] == 0


def test_a_memo_built_unrecorded_makes_the_recording_unknown(tmp_path):
    """What a memo built while nothing recorded asked is unknown: a file that takes it is not stored."""
    from imds_lint import project_index

    index = project_index.ProjectIndex((tmp_path,))
    index.memo(("k",), lambda: index.read(write(tmp_path / "a.tf", "x = 1\n")))
    project_index.start_recording()
    index.memo(("k",), lambda: None)
    assert project_index.stop_recording() is None
    project_index.start_recording()
    index.memo(("j",), lambda: index.read(tmp_path / "a.tf"))
    index.memo(("j",), lambda: None)
    asked = project_index.stop_recording()
    assert asked is not None and [q[0] for q in asked] == ["group"]


@pytest.mark.parametrize("what", ["link to a folder", "link to /dev/zero", "fifo", "folder", "link loop"])
def test_entries_that_are_not_files_are_misses(capsys, repo, what):
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    cache = repo.parent / "cache"
    cold = _warm(capsys, repo, cache)
    (entry,) = entries(cache)
    entry.unlink()
    if what == "link to a folder":
        entry.symlink_to(repo)
    elif what == "link to /dev/zero":
        entry.symlink_to("/dev/zero")
    elif what == "fifo":
        os.mkfifo(entry)
    elif what == "folder":
        entry.mkdir()
    else:
        entry.symlink_to(entry)
    assert run(capsys, repo, "--format", "json", cache=cache) == cold


def test_a_default_cache_folder_that_is_a_link_is_not_used(capsys, repo, monkeypatch):
    """A scanned repository may commit .imds_lint_cache as a link to anywhere: nothing is written
    through it (one note), and the run's answer is the cold one."""
    monkeypatch.delenv("IMDS_LINT_CACHE_DIR", raising=False)
    monkeypatch.delenv("IMDS_LINT_NO_CACHE", raising=False)
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    elsewhere = repo.parent / "elsewhere"
    elsewhere.mkdir()
    (repo / ".imds_lint_cache").symlink_to(elsewhere)
    code = main(["--format", "json", "."])
    captured = capsys.readouterr()
    assert code == 1 and captured.err.count("results cache") == 1 and "symbolic link" in captured.err
    assert list(elsewhere.iterdir()) == []
    main(["--no-cache", "--format", "json", "."])
    assert captured.out == capsys.readouterr().out


def test_the_entries_folder_as_a_link_is_not_followed(capsys, repo):
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    cache = repo.parent / "cache"
    cache.mkdir()
    elsewhere = repo.parent / "elsewhere"
    elsewhere.mkdir()
    (cache / results_cache.ENTRIES).symlink_to(elsewhere)
    cold = run(capsys, repo, "--format", "json", cache=None)
    code, out, err = run(capsys, repo, "--format", "json", cache=cache)
    assert (code, out) == cold[:2] and err.count("results cache") == 1
    assert list(elsewhere.iterdir()) == []


def test_the_default_folder_is_made_with_its_gitignore_and_tag_and_never_scanned(capsys, repo, monkeypatch):
    monkeypatch.delenv("IMDS_LINT_CACHE_DIR", raising=False)
    monkeypatch.delenv("IMDS_LINT_NO_CACHE", raising=False)
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    assert main(["--format", "json", "."]) == 1
    first = capsys.readouterr().out
    folder = repo / ".imds_lint_cache"
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert entries(folder)
    # Neither discovery nor --no-gitignore scans the entries (whose snippets name the address).
    for extra in ([], ["--no-gitignore"]):
        assert main(["--no-cache", "--format", "json", *extra, "."]) == 1
        data = json.loads(capsys.readouterr().out)
        assert {f["path"] for f in data["findings"]} == {"a.sh"}
        assert data["summary"]["files_scanned"] == json.loads(first)["summary"]["files_scanned"]


def test_a_configured_cache_dir_elsewhere_in_the_tree_is_not_scanned(capsys, repo, monkeypatch):
    monkeypatch.delenv("IMDS_LINT_CACHE_DIR", raising=False)
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    write(repo / "imds-lint.toml", 'cache-dir = "build/lint-cache"\n')
    main(["--format", "json", "--no-gitignore", "."])
    first = capsys.readouterr().out
    assert entries(repo / "build/lint-cache")
    main(["--format", "json", "--no-gitignore", "."])
    assert capsys.readouterr().out == first
    main(["--no-cache", "--format", "json", "--no-gitignore", "."])
    assert capsys.readouterr().out == first


def test_environment_and_option_choose_the_folder(capsys, repo, monkeypatch, tmp_path_factory):
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    from_env = tmp_path_factory.mktemp("env-cache")
    monkeypatch.setenv("IMDS_LINT_CACHE_DIR", str(from_env))
    main(["."])
    assert entries(from_env)
    option = tmp_path_factory.mktemp("option-cache")
    main(["--cache-dir", str(option), "."])
    assert entries(option)
    monkeypatch.setenv("IMDS_LINT_NO_CACHE", "1")
    nowhere = tmp_path_factory.mktemp("unused") / "cache"
    main(["--cache-dir", str(nowhere), "."])
    assert not nowhere.exists()
    capsys.readouterr()


@pytest.mark.parametrize("options", [["--fix"], ["--diff"], ["--watch"]])
def test_fix_diff_and_watch_runs_use_no_cache(capsys, repo, monkeypatch, options):
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    cache = repo.parent / "cache"
    if options == ["--watch"]:
        from imds_lint import watch

        monkeypatch.setattr(watch, "watch", lambda scan, paths: scan())
    main(["--cache-dir", str(cache), *options, "."])
    capsys.readouterr()
    assert not cache.exists()


def test_standard_input_uses_no_cache(capsys, repo, monkeypatch):
    import io
    import sys

    cache = repo.parent / "cache"
    text = f"#!/bin/sh\ncurl -s {URL}\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert main(["--cache-dir", str(cache), "--stdin-filename", "a.sh", "-"]) == 1
    capsys.readouterr()
    assert not cache.exists()


@pytest.mark.parametrize("where", ["decode_result", "entry_key"])
def test_a_failing_cache_costs_the_file_nothing(capsys, repo, monkeypatch, where):
    """Whatever goes wrong inside the cache (a bug included), the file is linted as without it."""
    for n in range(3):
        write(repo / f"s{n}.sh", f"#!/bin/sh\ncurl -s {URL}/{n}\n")
    cache = repo.parent / "cache"
    cold = _warm(capsys, repo, cache)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the cache")

    monkeypatch.setattr(results_cache, where, broken)
    assert run(capsys, repo, "--format", "json", cache=cache) == cold


# -- a folder that cannot take entries -----------------------------------------------------------
def test_an_unwritable_cache_folder_is_one_note_and_the_cold_answer(capsys, repo):
    write(repo / "a.sh", f"#!/bin/sh\ncurl -s {URL}\n")
    write(repo / "b.sh", f"#!/bin/sh\ncurl -s {URL}/b\n")
    blocker = repo.parent / "a-file"
    blocker.write_text("")
    cold = run(capsys, repo, "--format", "json", cache=None)
    code, out, err = run(capsys, repo, "--format", "json", cache=blocker / "cache")
    assert (code, out) == cold[:2]
    assert err.count("imds-lint: note: results cache") == 1, err


def test_a_full_disk_turns_writing_off(capsys, repo, monkeypatch):
    for n in range(3):
        write(repo / f"s{n}.sh", f"#!/bin/sh\ncurl -s {URL}/{n}\n")
    cache = repo.parent / "cache"
    cold = run(capsys, repo, "--format", "json", cache=None)
    calls = []
    real_rename = os.rename

    def full(*args, **kwargs):
        calls.append(args)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "rename", full)
    assert run(capsys, repo, "--format", "json", cache=cache)[:2] == cold[:2]
    monkeypatch.setattr(os, "rename", real_rename)
    assert len(calls) == 1, "writing went on after the disk was full"
    assert entries(cache) == [] and not [p for p in (cache / results_cache.ENTRIES).iterdir()
                                         if p.name.startswith(".tmp-")]


# -- size ----------------------------------------------------------------------------------------
def test_prune_removes_entries_unused_for_a_month_and_leftover_temporaries(tmp_path):
    store = results_cache.ResultsCache(str(tmp_path / "cache"), named=True)
    assert store.probe() is None
    for key in ("a" * 32, "b" * 32):
        store.put(key, {"asked": [], "dialect": None, "notes": [], "findings": []})
    folder = tmp_path / "cache" / results_cache.ENTRIES
    (folder / ".tmp-1-dead").write_text("half")
    old = time.time() - results_cache.MAX_AGE_SECONDS - 10
    os.utime(folder / ("a" * 32), (old, old))
    os.utime(folder / ".tmp-1-dead", (old, old))
    assert store.prune() == 2
    assert sorted(p.name for p in folder.iterdir()) == [".last-prune", "b" * 32]
    assert store.prune() == 0  # at most once a day
    # A hit refreshes an entry's time: in use, it is kept.
    os.utime(folder / ("b" * 32), (old, old))
    assert store.get("b" * 32) is not None
    assert time.time() - (folder / ("b" * 32)).stat().st_mtime < 60


def test_the_tool_fingerprint_follows_the_package_files(tmp_path, monkeypatch):
    """A checkout (this editable install) is fingerprinted by its files: an edit is a new tool."""
    package = Path(results_cache.__file__).parent
    assert results_cache._installed_record(str(package)) is None
    module = write(tmp_path / "pkg/mod.py", "x = 1\n")
    before = results_cache._module_files(str(tmp_path / "pkg"))
    module.write_text("x = 22\n")
    assert results_cache._module_files(str(tmp_path / "pkg")) != before
    monkeypatch.setattr(results_cache, "_tool", None)
    first = results_cache.tool_fingerprint()
    monkeypatch.setattr(results_cache, "_tool", None)
    monkeypatch.setattr(results_cache, "_module_files", lambda folder: [f"{folder} edited"])
    assert results_cache.tool_fingerprint() != first


@pytest.mark.slow
def test_parallel_runs_and_two_concurrent_runs_share_one_cache(tmp_path):
    """-j 2 on a tree big enough for the worker pool, twice at once on one cache folder, then
    warm: every output equals the cold -j 1 one."""
    import subprocess
    import sys

    tree = tmp_path / "tree"
    for n in range(700):
        body = (f'resource "aws_instance" "i{n}" {{\n  ami = "ami-{n}"\n}}\n' if n % 3 else
                f"#!/bin/sh\ncurl -s {URL}/{n}\n")
        write(tree / f"d{n % 20}" / (f"m{n}.tf" if n % 3 else f"s{n}.sh"), body)
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "imds_lint", "--format", "json"]
    env = {**os.environ, "NO_COLOR": "1"}
    cold = subprocess.run([*command, "--no-cache", "-j", "1", str(tree)], capture_output=True, env=env)
    both = [subprocess.Popen([*command, "--cache-dir", str(cache), "-j", "2", str(tree)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(2)]
    for process in both:
        out, err = process.communicate(timeout=600)
        assert (process.returncode, out, err) == (cold.returncode, cold.stdout, cold.stderr)
    assert len(entries(cache)) >= 600
    warm = subprocess.run([*command, "--cache-dir", str(cache), "-j", "2", str(tree)], capture_output=True, env=env)
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)
