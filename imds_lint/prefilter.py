"""The cheap byte search that decides whether a file is worth parsing at all.

One pass over the bytes for every endpoint spelling (plain, and base64 at each
of its three alignments, so encoded user-data still gets through): Hyperscan
where its wheel exists (x86-64; ~6 GB/s), else a loop of ``bytes.__contains__``
(~3 GB/s per needle). Files without a hit cost only their read.
"""

from __future__ import annotations

import base64
import re

from imds_lint import kinds as _kinds

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
    fragments = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + needle)
        # Skip the chars touched by the padding prefix, and the tail that may
        # mix with whatever follows the needle.
        start = (shift * 4 + 2) // 3
        end = ((shift + len(needle)) // 3) * 4
        fragments.append(encoded[start:end])
    return fragments


NEEDLES: tuple[bytes, ...] = _SPELLINGS + tuple(
    f for s in (b"169.254.169.254", b"instance-data") for f in _base64_fragments(s)
)
_UTF16 = [s.decode().encode(enc) for s in (b"169.254.169.254", b"instance-data") for enc in ("utf-16-le", "utf-16-be")]

# Kinds whose files matter without naming the endpoint (dependency manifests,
# say): file kind -> a byte pattern that makes such a file a candidate. A kind
# absent here is a candidate only through NEEDLES.
KIND_NEEDLES: dict[str, re.Pattern[bytes]] = {}

# IaC enforcement: files that declare EC2 compute resources matter without naming IMDS.
_TERRAFORM_NEEDLE = re.compile(rb"aws_instance|aws_launch_(?:template|configuration)|aws_spot_instance_request|"
                               rb"aws_ec2_instance_metadata_defaults|terraform-aws-modules|metadata_options|amazon-ebs")
KIND_NEEDLES["terraform"] = _TERRAFORM_NEEDLE
_CLOUDFORMATION_NEEDLE = re.compile(rb"AWS::EC2::(?:Instance|LaunchTemplate)\b|AWS::AutoScaling::LaunchConfiguration"
                                    rb'|"type"\s*:\s*"amazon-ebs')
KIND_NEEDLES["yaml"] = _CLOUDFORMATION_NEEDLE
KIND_NEEDLES["json"] = _CLOUDFORMATION_NEEDLE
# CDK apps declare instances without naming IMDS; boto 2 reads IMDS without spelling the endpoint.
KIND_NEEDLES["python"] = re.compile(
    rb"aws_cdk|\bget_instance_(?:metadata|identity|userdata)\b|^\s*(?:import|from)\s+boto(?:[.\s,]|$)", re.M)
# Manifests and lock files matter when they name a package imds_lint.versions knows.
_MANIFEST_NEEDLE = re.compile(
    rb"boto|awscli|aws-sdk|aws-java-sdk|awssdk|AWSSDK|aws/aws-sdk-php|ec2-metadata|datadog|AWSPowerShell|AWS\.Tools")
KIND_NEEDLES.update({kind: _MANIFEST_NEEDLE for kind in _kinds.MANIFESTS})
# A requirements file may pin nothing itself and include one that does.
KIND_NEEDLES[_kinds.Kind.REQUIREMENTS] = re.compile(
    _MANIFEST_NEEDLE.pattern + rb"|(?m:^[ \t]*(?:-r|-c|--requirement|--constraint)\b)")
# Scripts matter when they install a versioned AWS SDK or metadata tool.
_INSTALL_NEEDLE = re.compile(
    rb"awscli|boto|botocore|aws-sdk|cloud-(?:image-)?utils|ec2-utils|ec2-net-utils|ec2-metadata|datadog-agent"
    rb"|DD_AGENT_MINOR_VERSION|AWSPowerShell|AWS\.Tools")
# Source that uses an AWS SDK's own metadata client names the client, not the endpoint.
KIND_NEEDLES[_kinds.Kind.JAVASCRIPT] = re.compile(rb"MetadataService")
KIND_NEEDLES[_kinds.Kind.TYPESCRIPT] = KIND_NEEDLES[_kinds.Kind.JAVASCRIPT]
KIND_NEEDLES[_kinds.Kind.TSX] = KIND_NEEDLES[_kinds.Kind.JAVASCRIPT]
KIND_NEEDLES[_kinds.Kind.JAVA] = re.compile(rb"EC2MetadataUtils")
KIND_NEEDLES[_kinds.Kind.CSHARP] = re.compile(rb"EC2InstanceMetadata")
for _kind in (_kinds.Kind.SHELL, _kinds.Kind.MAKEFILE, _kinds.Kind.JUSTFILE, _kinds.Kind.DOCKERFILE,
              _kinds.Kind.POWERSHELL, _kinds.Kind.USER_DATA):
    KIND_NEEDLES.setdefault(_kind, _INSTALL_NEEDLE)


class _Hyperscan:
    """One database: the endpoint spellings plus, optionally, one kind's own pattern."""

    def __init__(self, needles: tuple[bytes, ...], extra: re.Pattern[bytes] | None = None):
        import hyperscan

        self._hs = hyperscan
        expressions = [re.escape(n) for n in needles]
        flags = [hyperscan.HS_FLAG_SINGLEMATCH] * len(needles)
        if extra is not None:
            expressions.append(extra.pattern)
            flags.append(hyperscan.HS_FLAG_SINGLEMATCH
                         | (hyperscan.HS_FLAG_MULTILINE if extra.flags & re.M else 0)
                         | (hyperscan.HS_FLAG_CASELESS if extra.flags & re.I else 0))
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(expressions=expressions, ids=list(range(len(expressions))),
                         elements=len(expressions), flags=flags)

    @staticmethod
    def _stop(*_args) -> bool:
        return True  # the first hit is enough: stop scanning

    def search(self, raw: bytes) -> bool:
        try:
            self._db.scan(raw, match_event_handler=self._stop)
        except self._hs.ScanTerminated:
            return True
        return False


class _Substrings:
    def __init__(self, needles: tuple[bytes, ...], extra: re.Pattern[bytes] | None = None):
        self._needles = needles
        self._extra = extra

    def search(self, raw: bytes) -> bool:
        return any(needle in raw for needle in self._needles) or (
            self._extra is not None and self._extra.search(raw) is not None)


def _matcher(extra: re.Pattern[bytes] | None = None):
    try:
        return _Hyperscan(NEEDLES, extra)
    except Exception:  # no wheel for this platform, a broken one, or a pattern it cannot take
        return _Substrings(NEEDLES, extra)


# Compiled lazily, one per distinct kind pattern (the manifest kinds share one);
# None is the endpoint-only matcher every other kind uses.
_MATCHERS: dict[re.Pattern[bytes] | None, object] = {}


def _matcher_for(kind: str | None):
    pattern = KIND_NEEDLES.get(kind) if kind is not None else None
    matcher = _MATCHERS.get(pattern)
    if matcher is None:
        matcher = _MATCHERS[pattern] = _matcher(pattern)
    return matcher


def may_touch_imds(raw: bytes) -> bool:
    """True when the bytes contain an IMDS endpoint spelling (plain, base64 or UTF-16)."""
    if _matcher_for(None).search(raw):
        return True
    return raw[:2] in (b"\xff\xfe", b"\xfe\xff") and any(u in raw for u in _UTF16)


def is_candidate(raw: bytes, kind_by_name: str) -> bool:
    """The prefilter: endpoint spellings for every file, plus the kind's own needles, in one pass."""
    if kind_by_name not in KIND_NEEDLES:
        return may_touch_imds(raw)
    if _matcher_for(kind_by_name).search(raw):
        return True
    return raw[:2] in (b"\xff\xfe", b"\xfe\xff") and any(u in raw for u in _UTF16)
