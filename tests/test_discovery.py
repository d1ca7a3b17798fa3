"""Ignore patterns: the one-regex shortcut never changes pathspec's answer."""

from __future__ import annotations

import pathspec
from hypothesis import given
from hypothesis import strategies as st

from imds_lint.discovery import IgnorePatterns

_PATTERN_PIECES = ["*", "**", "/", "a", "b", "x.py", ".tmp", "?", "[ab]", "!", "\\!", "#", " ", "dir/", "\\"]
_PATH_PIECES = ["a", "b", "x.py", "dir", "c.tmp", "!", "#", " ", "[ab]", "é"]

patterns = st.lists(st.lists(st.sampled_from(_PATTERN_PIECES), min_size=1, max_size=5).map("".join), max_size=6)
paths = st.tuples(st.lists(st.sampled_from(_PATH_PIECES), min_size=1, max_size=4).map("/".join), st.booleans())


@given(patterns, st.lists(paths, min_size=1, max_size=8))
def test_the_shortcut_agrees_with_pathspec(lines, candidates):
    try:
        reference = pathspec.GitIgnoreSpec.from_lines(lines, backend="simple")
    except Exception:  # a pattern pathspec refuses (a lone "\\") is refused by both
        return
    ours = IgnorePatterns(lines)
    for path, is_dir in candidates:
        path += "/" if is_dir else ""
        assert ours.match_file(path) == reference.match_file(path), (lines, path)


def test_the_shortcut_is_taken_and_the_real_rules_decide_the_rest():
    ours = IgnorePatterns(["build/", "*.log", "!keep.log"])
    assert ours._any is not None
    assert ours.match_file("build/") and ours.match_file("src/x.log")
    assert not ours.match_file("keep.log") and not ours.match_file("src/main.py")


_VENDORED_CLIENT = '''package ec2metadata

// GetMetadata uses the path provided to request information from the EC2
// instance metadata service.
const defaultEndpoint = "http://169.254.169.254/latest"

func (c *EC2Metadata) GetMetadata(p string) (string, error) {
	resp, err := http.Get(defaultEndpoint + "/meta-data/" + p)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}
'''


def _vendored_tree(tmp_path):
    from pathlib import Path

    root = Path(tmp_path)
    for folder in ("vendor/github.com/aws/aws-sdk-go/aws/ec2metadata", "third_party/ec2metadata"):
        (root / folder).mkdir(parents=True)
        (root / folder / "api.go").write_text(_VENDORED_CLIENT)
    (root / "scripts").mkdir()
    (root / "scripts" / "region.sh").write_text(
        "#!/bin/bash\nREGION=$(curl -s http://169.254.169.254/latest/meta-data/placement/region)\n")
    return root


def test_vendored_folders_are_not_walked_into(tmp_path):
    from imds_lint.discovery import Candidate, discover

    root = _vendored_tree(tmp_path)
    found = [c.display for c in discover([str(root)], root, ()) if isinstance(c, Candidate)]
    assert found == [f"{root}/scripts/region.sh"]


def test_a_named_vendored_folder_is_scanned(tmp_path):
    from imds_lint.discovery import Candidate, discover

    root = _vendored_tree(tmp_path)
    named = str(root / "vendor")
    found = [c.display for c in discover([named], root, ()) if isinstance(c, Candidate)]
    assert found == [f"{named}/github.com/aws/aws-sdk-go/aws/ec2metadata/api.go"]
