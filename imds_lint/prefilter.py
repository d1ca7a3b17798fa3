"""The cheap byte search that decides whether a file is worth parsing at all."""

from __future__ import annotations

import base64
import re

_SPELLINGS = (b"169.254.169.254", b"fd00:ec2::254", b"FD00:EC2::254", b"instance-data",
              # The wrapper tools talk to IMDS without naming it.
              b"ec2-metadata", b"ec2metadata")


def _base64_fragments(needle: bytes) -> list[bytes]:
    """The parts of ``needle``'s base64 encoding that do not depend on what surrounds it.

    A string encodes differently at each of its three possible alignments in a
    blob; for each, the characters built only from needle bytes are fixed.
    """
    fragments = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + needle)
        # Skip the chars touched by the padding prefix, and the tail that may
        # mix with whatever follows the needle.
        start = (shift * 4 + 2) // 3
        end = ((shift + len(needle)) // 3) * 4
        fragments.append(encoded[start:end])
    return fragments


_PATTERNS = [re.escape(s) for s in _SPELLINGS]
_PATTERNS += [re.escape(f) for s in (b"169.254.169.254", b"instance-data") for f in _base64_fragments(s)]
CANDIDATE = re.compile(b"|".join(_PATTERNS))

_UTF16 = [s.decode().encode(enc) for s in (b"169.254.169.254", b"instance-data") for enc in ("utf-16-le", "utf-16-be")]


# Kinds whose files matter without naming the endpoint (dependency manifests,
# say): file kind -> a byte pattern that makes such a file a candidate. Filled by
# the front-ends' issues; a kind absent here is a candidate only by CANDIDATE.
KIND_NEEDLES: dict[str, re.Pattern[bytes]] = {
    # boto 2 reads IMDS without the module ever spelling the endpoint.
    "python": re.compile(rb"\bget_instance_(?:metadata|identity|userdata)\b|^\s*(?:import|from)\s+boto(?:[.\s,]|$)", re.M),
}


def is_candidate(raw: bytes, kind_by_name: str) -> bool:
    """The prefilter: endpoint spellings for every file, plus the kind's own needles."""
    needles = KIND_NEEDLES.get(kind_by_name)
    return may_touch_imds(raw) or (needles is not None and needles.search(raw) is not None)


def may_touch_imds(raw: bytes) -> bool:
    """True when the bytes contain an IMDS endpoint spelling (plain, base64 or UTF-16)."""
    if CANDIDATE.search(raw) is not None:
        return True
    return raw[:2] in (b"\xff\xfe", b"\xfe\xff") and any(u in raw for u in _UTF16)
