"""The cheap byte search that decides whether a file is worth parsing at all.

One pass over the bytes with a database of literals: every endpoint
spelling (plain, and base64 at each of its three alignments, so encoded
user-data still gets through) and the file kind's own words. Hyperscan where
its wheel exists (x86-64; ~5 GB/s, and ~1 ms to compile because it is
literals only), else a loop of ``bytes.__contains__`` (~3 GB/s per needle). A kind word
that only approximates its rule (``boto`` for "imports boto 2") is confirmed
by an exact regex, run only on the rare file that has the word. Files without
a hit cost only their read.
"""

from __future__ import annotations

import re
from collections import namedtuple

from imds_lint import kinds as _kinds
from imds_lint.patterns import lazy

_SPELLINGS = (
    b"169.254.169.254", b"fd00:ec2::254", b"FD00:EC2::254", b"instance-data",
    # The wrapper tools talk to IMDS without naming it.
    b"ec2-metadata", b"ec2metadata",
)


def _base64_fragments(needle: bytes) -> list[bytes]:
    """The parts of ``needle``'s base64 encoding that do not depend on what surrounds it.

    A string encodes differently at each of its three possible alignments in a
    blob; for each, the characters built only from needle bytes are fixed.
    """
    import binascii  # base64.b64encode, without its import

    fragments = []
    for shift in range(3):
        encoded = binascii.b2a_base64(b"\0" * shift + needle, newline=False)
        # Skip the chars touched by the padding prefix, and the tail that may
        # mix with whatever follows the needle.
        start = (shift * 4 + 2) // 3
        end = ((shift + len(needle)) // 3) * 4
        fragments.append(encoded[start:end])
    return fragments


# What _base64_fragments makes of b"169.254.169.254" and b"instance-data" (tests/test_prefilter.py
# recomputes it), written out: computing it at import loads binascii for every run.
_BASE64 = (b"MTY5LjI1NC4xNjkuMjU0", b"E2OS4yNTQuMTY5LjI1", b"xNjkuMjU0LjE2OS4y",
           b"aW5zdGFuY2UtZGF0", b"luc3RhbmNlLWRh", b"pbnN0YW5jZS1kYXRh")
NEEDLES: tuple[bytes, ...] = _SPELLINGS + _BASE64
# PowerShell files are often UTF-16 (and now and then UTF-32) with a byte order mark: the
# endpoint in those encodings, made for the first file that has one (four codecs to import).
_UTF16: list[bytes] = []


def _utf16_needles() -> list[bytes]:
    if not _UTF16:
        _UTF16.extend(s.decode().encode(enc) for s in (b"169.254.169.254", b"instance-data")
                      for enc in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))
    return _UTF16


class KindWords(namedtuple("KindWords", "words confirm", defaults=(None,))):
    """What makes a file of one kind a candidate without naming the endpoint.

    ``words``: literals (a tuple of bytes), one of which every match contains (none: only
    ``confirm`` can tell, for a kind whose files are few and small).
    ``confirm``: the exact test (a bytes pattern), when the words alone would let too much
    through (None: any word is enough). A collections named tuple: typing.NamedTuple would
    import typing (~2.5 ms of a pre-commit run).
    """

    __slots__ = ()

    def matches(self, raw: bytes) -> bool:
        """The reference semantics, and the matcher where Hyperscan is missing."""
        if self.words and not any(word in raw for word in self.words):
            return False
        return self.confirm is None or self.confirm.search(raw) is not None


# Kinds whose files matter without naming the endpoint (dependency manifests,
# say). A kind absent here is a candidate only through NEEDLES.
KIND_NEEDLES: dict[str, KindWords] = {}

# IaC enforcement: files that declare EC2 compute resources matter without naming IMDS.
KIND_NEEDLES["terraform"] = KindWords((
    b"aws_instance", b"aws_launch_template", b"aws_launch_configuration", b"aws_spot_instance_request",
    b"aws_ec2_instance_metadata_defaults", b"terraform-aws-modules", b"metadata_options"))
# Packer: every amazon-* builder launches a build instance (IMDS301 without the endpoint named).
KIND_NEEDLES[_kinds.Kind.PACKER] = KindWords((b"amazon-", b"metadata_options"))
_CLOUDFORMATION = KindWords(
    (b"AWS::EC2::Instance", b"AWS::EC2::LaunchTemplate", b"AWS::AutoScaling::LaunchConfiguration", b"amazon-ebs"),
    lazy(rb"AWS::EC2::(?:Instance|LaunchTemplate)\b|AWS::AutoScaling::LaunchConfiguration"
               rb'|"type"\s*:\s*"amazon-ebs'))
KIND_NEEDLES["yaml"] = _CLOUDFORMATION
KIND_NEEDLES["json"] = _CLOUDFORMATION
# CDK apps declare instances without naming IMDS; boto 2 reads IMDS without spelling the endpoint.
KIND_NEEDLES["python"] = KindWords(
    (b"aws_cdk", b"get_instance_metadata", b"get_instance_identity", b"get_instance_userdata", b"boto"),
    lazy(rb"aws_cdk|\bget_instance_(?:metadata|identity|userdata)\b|^\s*(?:import|from)\s+boto(?:[.\s,]|$)",
               re.M))
# Manifests and lock files matter when they name a package imds_lint.versions knows.
_MANIFEST_WORDS = (b"boto", b"awscli", b"aws-sdk", b"aws-java-sdk", b"awssdk", b"AWSSDK", b"aws/aws-sdk-php",
                   b"ec2-metadata", b"datadog", b"AWSPowerShell", b"AWS.Tools")
_MANIFEST = KindWords(_MANIFEST_WORDS)
KIND_NEEDLES.update({kind: _MANIFEST for kind in _kinds.MANIFESTS})
# A requirements file may pin nothing itself and include one that does. "-r" is too short a
# literal for the shared database (it slows every scan): requirements files are few and small,
# so the regex alone decides.
KIND_NEEDLES[_kinds.Kind.REQUIREMENTS] = KindWords(
    (),
    lazy(b"|".join(re.escape(w) for w in _MANIFEST_WORDS)
               + rb"|(?m:^[ \t]*(?:-r|-c|--requirement|--constraint)\b)"))
# Scripts matter when they install a versioned AWS SDK or metadata tool.
_INSTALL = KindWords((
    b"awscli", b"boto", b"aws-sdk", b"cloud-utils", b"cloud-image-utils", b"ec2-utils", b"ec2-net-utils",
    b"ec2-metadata", b"datadog-agent", b"DD_AGENT_MINOR_VERSION", b"AWSPowerShell", b"AWS.Tools"))
# Source that uses an AWS SDK's own metadata client names the client, not the endpoint.
KIND_NEEDLES[_kinds.Kind.JAVASCRIPT] = KindWords((b"MetadataService",))
KIND_NEEDLES[_kinds.Kind.TYPESCRIPT] = KIND_NEEDLES[_kinds.Kind.JAVASCRIPT]
KIND_NEEDLES[_kinds.Kind.TSX] = KIND_NEEDLES[_kinds.Kind.JAVASCRIPT]
KIND_NEEDLES[_kinds.Kind.JAVA] = KindWords((b"EC2MetadataUtils",))
KIND_NEEDLES[_kinds.Kind.CSHARP] = KindWords((b"EC2InstanceMetadata",))
for _kind in (_kinds.Kind.SHELL, _kinds.Kind.MAKEFILE, _kinds.Kind.JUSTFILE, _kinds.Kind.DOCKERFILE,
              _kinds.Kind.POWERSHELL, _kinds.Kind.USER_DATA):
    KIND_NEEDLES.setdefault(_kind, _INSTALL)


class _Hyperscan:
    """One literal database: the endpoint spellings plus one kind's words.

    A database per kind rather than one for all: scanning slows with the
    number of literals (~50 literals cost twice what 15 do), and a literal
    database compiles in about a millisecond.
    """

    def __init__(self, group: KindWords | None):
        import hyperscan

        self._hs = hyperscan
        self._group = group
        literals = NEEDLES + (group.words if group is not None else ())
        # Ids below len(NEEDLES) are endpoint spellings; the kind's words share the next one.
        ids = list(range(len(NEEDLES))) + [len(NEEDLES)] * (len(literals) - len(NEEDLES))
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(expressions=[re.escape(lit) for lit in literals], ids=ids, elements=len(literals),
                         flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(literals))

    @staticmethod
    def _stop(match_id, _start, _end, _flags, first) -> bool:
        first.append(match_id)
        return True  # the first hit is enough: stop scanning

    def _first_hit(self, raw: bytes) -> int | None:
        first: list[int] = []
        try:
            self._db.scan(raw, match_event_handler=self._stop, context=first)
        except self._hs.ScanTerminated:
            return first[0]
        return None

    def search(self, raw: bytes) -> bool:
        hit = self._first_hit(raw)
        group = self._group
        if hit is None:
            return group is not None and not group.words and group.confirm.search(raw) is not None
        if hit < len(NEEDLES) or group.confirm is None or group.confirm.search(raw):
            return True
        return _matcher_for(None).search(raw)  # the word was not the real thing; an endpoint may be


class _Substrings:
    def __init__(self, group: KindWords | None):
        self._group = group

    def search(self, raw: bytes) -> bool:
        return any(needle in raw for needle in NEEDLES) or (self._group is not None and self._group.matches(raw))


def _matcher(group: KindWords | None = None):
    try:
        return _Hyperscan(group)
    except Exception:  # no wheel for this platform, or a broken one
        return _Substrings(group)


# Compiled lazily, one per distinct kind's words (the manifest kinds share one);
# None is the endpoint-only matcher every other kind uses.
_MATCHERS: dict[int | None, object] = {}
# Loading Hyperscan costs 3-15 ms, which a pre-commit run over a few small files never earns
# back: plain substring searches serve until this many bytes have been scanned.
HYPERSCAN_AFTER_BYTES = 256 * 1024
_scanned = 0


def _matcher_for(group: KindWords | None, size: int = 0):
    global _scanned
    if _scanned < HYPERSCAN_AFTER_BYTES:
        _scanned += size
        return _Substrings(group)
    key = id(group) if group is not None else None
    matcher = _MATCHERS.get(key)
    if matcher is None:
        matcher = _MATCHERS[key] = _matcher(group)
    return matcher


def _utf16_hit(raw: bytes) -> bool:
    marked = raw[:2] in (b"\xff\xfe", b"\xfe\xff") or raw[:4] == b"\0\0\xfe\xff"
    return marked and any(u in raw for u in _utf16_needles())


def may_touch_imds(raw: bytes) -> bool:
    """True when the bytes contain an IMDS endpoint spelling (plain, base64 or UTF-16)."""
    return _matcher_for(None, len(raw)).search(raw) or _utf16_hit(raw)


def is_candidate(raw: bytes, kind_by_name: str) -> bool:
    """The prefilter: endpoint spellings for every file, plus the kind's own words, in one pass."""
    return _matcher_for(KIND_NEEDLES.get(kind_by_name), len(raw)).search(raw) or _utf16_hit(raw)
