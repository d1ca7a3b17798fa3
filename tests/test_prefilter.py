from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imds_lint import prefilter


def test_both_matchers_agree_with_a_plain_search():
    fast = prefilter._matcher()
    slow = prefilter._Substrings(prefilter.NEEDLES)
    samples = [b"", b"nothing here", b"curl http://169.254.169.254/", b"x instance-data.ec2.internal",
               b"[fd00:ec2::254]", b"169.254.170.2", b"ec2-metadata --instance-id", b"169.254.169.25"]
    for sample in samples:
        assert fast.search(sample) == slow.search(sample) == any(n in sample for n in prefilter.NEEDLES)


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
