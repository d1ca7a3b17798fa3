from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imds_lint import prefilter


def test_both_matchers_agree_with_a_plain_search():
    fast = prefilter._matcher()
    assert isinstance(fast, prefilter._Hyperscan), "the Hyperscan wheel is a dependency on this platform"
    slow = prefilter._Substrings(None)
    samples = [b"", b"nothing here", b"curl http://169.254.169.254/", b"x instance-data.ec2.internal",
               b"[fd00:ec2::254]", b"169.254.170.2", b"ec2-metadata --instance-id", b"169.254.169.25"]
    for sample in samples:
        assert fast.search(sample) == slow.search(sample) == any(n in sample for n in prefilter.NEEDLES)


# Words and near misses for every kind's needle, and the endpoint, to build files from.
_FRAGMENTS = sorted({w for g in prefilter.KIND_NEEDLES.values() for w in g.words} | {
    b"169.254.169.254", b"169.254.170.2", b"import boto", b"import boto3", b"from  boto.utils import x",
    b"get_instance_metadata()", b"xget_instance_metadata", b"AWS::EC2::InstanceConnectEndpoint",
    b'"type": "amazon-ebs"', b"-r base.txt", b"x -r", b"--constraint c.txt", b"\n", b"\n  ", b" ", b"x"})


@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=8), st.sampled_from(sorted(prefilter.KIND_NEEDLES) + ["md"]))
def test_the_literal_database_decides_like_the_reference_for_every_kind(parts, kind):
    raw = b"".join(parts)
    group = prefilter.KIND_NEEDLES.get(kind)
    expected = any(n in raw for n in prefilter.NEEDLES) or (group is not None and group.matches(raw))
    assert _hyperscan(group).search(raw) == prefilter._Substrings(group).search(raw) == expected


_COMPILED = {}


def _hyperscan(group):
    if id(group) not in _COMPILED:
        _COMPILED[id(group)] = prefilter._matcher(group)
        assert isinstance(_COMPILED[id(group)], prefilter._Hyperscan)
    return _COMPILED[id(group)]


def test_small_runs_use_substring_search_and_large_ones_hyperscan(monkeypatch):
    monkeypatch.setattr(prefilter, "_scanned", 0)
    assert isinstance(prefilter._matcher_for(None, 1000), prefilter._Substrings)
    assert not prefilter.is_candidate(b"x" * prefilter.HYPERSCAN_AFTER_BYTES, "shell")
    assert isinstance(prefilter._matcher_for(None, 1000), prefilter._Hyperscan)
    assert prefilter.is_candidate(b"curl 169.254.169.254", "shell")


def test_kind_words_are_confirmed_exactly():
    assert not prefilter.is_candidate(b"import boto3\n", "python")
    assert prefilter.is_candidate(b"import boto\n", "python")
    assert prefilter.is_candidate(b"import boto3\nURL = 'http://169.254.169.254/'\n", "python")
    assert not prefilter.is_candidate(b"Type: AWS::EC2::InstanceConnectEndpoint\n", "yaml")
    assert prefilter.is_candidate(b"Type: AWS::EC2::Instance\n", "yaml")
    assert not prefilter.is_candidate(b"Type: AWS::EC2::Instance\n", "md")


@given(st.binary(max_size=64), st.binary(max_size=64), st.sampled_from([b"169.254.169.254", b"instance-data"]))
def test_base64_user_data_passes_at_every_alignment(before, after, spelling):
    blob = base64.b64encode(before + b"curl http://" + spelling + b"/latest/meta-data/" + after)
    assert prefilter.may_touch_imds(blob)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_scripts_with_a_bom_pass(encoding):
    bom = b"\xff\xfe" if encoding.endswith("le") else b"\xfe\xff"
    assert prefilter.may_touch_imds(bom + "iwr http://169.254.169.254/latest/meta-data/".encode(encoding))


def test_look_alikes_do_not_pass():
    assert not prefilter.may_touch_imds(b"curl http://169.254.170.2/v2/credentials")
    assert not prefilter.may_touch_imds(b"NO_PROXY=localhost")


def test_the_written_out_needles_are_what_the_fragments_make():
    from imds_lint import prefilter

    made = tuple(f for s in (b"169.254.169.254", b"instance-data") for f in prefilter._base64_fragments(s))
    assert prefilter._BASE64 == made and prefilter.NEEDLES[-len(made):] == made
    assert len(prefilter._utf16_needles()) == 8 and "169.254.169.254".encode("utf-16-le") in prefilter._utf16_needles()
