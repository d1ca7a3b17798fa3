"""The first versions of SDKs and tools that fetch an IMDSv2 token: one table, one edit per update.

Sources:
- AWS_SDK_PAGE: "Use a supported AWS SDK for IMDSv2" (EC2 User Guide), which lists the
  first SDK and CLI releases that use IMDSv2 by default.
- The tools' own changelogs, quoted in each row's ``source``.

``minimum=None`` marks a legacy package that never learned tokens (boto 2).
Package names are matched case-insensitively; a trailing ``*`` matches a prefix.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imds_lint.records import dataclass
from imds_lint.patterns import lazy

AWS_SDK_PAGE = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/use-a-supported-sdk-version-for-imdsv2.html"
_DATADOG = "Datadog Agent 7.64.0 release notes: IMDSv2 is used by default (ec2_prefer_imdsv2 earlier)"


class Role:
    SDK = "sdk"          # an AWS SDK or the AWS CLI (IMDS401)
    LEGACY = "legacy"    # never token-aware (IMDS402)
    TOOL = "tool"        # metadata tools and agents (IMDS403)


@dataclass(frozen=True, slots=True)
class Minimum:
    ecosystem: str
    package: str
    product: str
    minimum: str | None
    role: str
    source: str = AWS_SDK_PAGE


TABLE: tuple[Minimum, ...] = (
    # -- AWS SDKs and CLIs (AWS_SDK_PAGE) --------------------------------------------
    Minimum("pypi", "awscli", "AWS CLI v1", "1.16.289", Role.SDK),
    Minimum("pypi", "botocore", "botocore (AWS SDK for Python)", "1.13.25", Role.SDK),
    Minimum("pypi", "boto3", "boto3 (AWS SDK for Python)", "1.12.6", Role.SDK),
    Minimum("npm", "aws-sdk", "AWS SDK for JavaScript v2", "2.722.0", Role.SDK),
    Minimum("go", "github.com/aws/aws-sdk-go", "AWS SDK for Go", "1.25.38", Role.SDK),
    Minimum("go", "github.com/aws/aws-sdk-go-v2", "AWS SDK for Go v2", "0.19.0", Role.SDK),
    Minimum("maven", "com.amazonaws:aws-java-sdk*", "AWS SDK for Java 1.x", "1.11.678", Role.SDK),
    Minimum("maven", "software.amazon.awssdk:*", "AWS SDK for Java 2.x", "2.10.21", Role.SDK),
    Minimum("rubygems", "aws-sdk-core", "AWS SDK for Ruby v3", "3.79.0", Role.SDK),
    Minimum("packagist", "aws/aws-sdk-php", "AWS SDK for PHP", "3.147.7", Role.SDK),
    Minimum("nuget", "AWSSDK.Core", "AWS SDK for .NET", "3.3.634.1", Role.SDK),
    Minimum("psgallery", "AWSPowerShell", "AWS Tools for PowerShell", "4.0.1.0", Role.SDK),
    Minimum("psgallery", "AWSPowerShell.NetCore", "AWS Tools for PowerShell", "4.0.1.0", Role.SDK),
    Minimum("psgallery", "AWS.Tools.*", "AWS Tools for PowerShell", "4.0.1.0", Role.SDK),
    # No manifest format is scanned for C++ (vcpkg/conan); kept so the table is complete.
    Minimum("cpp", "aws-sdk-cpp", "AWS SDK for C++", "1.7.229", Role.SDK),
    # -- legacy clients with no token support --------------------------------------------
    Minimum("pypi", "boto", "boto 2", None, Role.LEGACY,
            "boto 2 is unmaintained; its instance metadata and credential code speak only IMDSv1"),
    # -- metadata tools and agents ---------------------------------------------------------
    Minimum("deb", "cloud-utils", "cloud-utils ec2metadata", "0.32", Role.TOOL,
            "cloud-utils 0.32 changelog: ec2metadata uses IMDSv2 tokens"),
    Minimum("deb", "cloud-image-utils", "cloud-utils ec2metadata", "0.32", Role.TOOL,
            "cloud-utils 0.32 changelog: ec2metadata uses IMDSv2 tokens"),
    Minimum("rpm", "ec2-utils", "Amazon Linux ec2-utils ec2-metadata", "1.1-1", Role.TOOL,
            "Amazon Linux ec2-utils 1.1-1: ec2-metadata supports IMDSv2"),
    Minimum("rpm", "amazon-ec2-net-utils", "amazon-ec2-net-utils", "1.3", Role.TOOL,
            "amazon-ec2-net-utils 1.3 changelog: IMDSv2 support"),
    Minimum("pypi", "ec2-metadata", "ec2-metadata (PyPI)", "2.2.0", Role.TOOL,
            "ec2-metadata 2.2.0 changelog: uses IMDSv2 tokens"),
    Minimum("datadog", "datadog-agent", "Datadog Agent", "7.64.0", Role.TOOL, _DATADOG),
)


def normalize(ecosystem: str, name: str) -> str:
    name = name.strip().lower()
    if ecosystem == "pypi":
        return re.sub(r"[-_.]+", "-", name)
    return name


@lru_cache(maxsize=4096)
def lookup(ecosystem: str, name: str) -> Minimum | None:
    """The table row for a package, or None when its versions do not matter here."""
    wanted = normalize(ecosystem, name)
    for row in TABLE:
        if row.ecosystem != ecosystem:
            continue
        pattern = normalize(ecosystem, row.package)
        if pattern.endswith("*") and wanted.startswith(pattern[:-1]) or wanted == pattern:
            return row
    return None


def names(ecosystem: str) -> list[str]:
    return [row.package for row in TABLE if row.ecosystem == ecosystem]


# ---------------------------------------------------------------------------
# Comparing versions the way each ecosystem does (as far as the rules need).

_NUM = lazy(r"\d+")


def _release(text: str) -> tuple[tuple[int, ...], bool]:
    """(numeric release, is-prerelease) for semver-like versions: 1.2.3, v1.2.3-rc.1, 1.2.3.RELEASE."""
    text = text.strip().lstrip("vV=")
    match = re.match(r"\d+(?:\.\d+)*", text)
    if match is None:
        return (), True
    release = tuple(int(p) for p in match.group(0).split("."))
    rest = text[match.end():].split("+", 1)[0].lower()
    pre = bool(rest) and rest not in (".release", ".final", "-release", "-final", ".ga", "-ga")
    return release, pre


def _pad(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def _cmp(a, b) -> int:
    return (a > b) - (a < b)


def _package_version(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Debian/RPM: (upstream numbers, revision numbers), epoch dropped."""
    text = text.strip()
    if ":" in text:
        text = text.split(":", 1)[1]
    upstream, _, revision = text.rpartition("-") if "-" in text else (text, "", "")
    return (tuple(int(n) for n in _NUM.findall(upstream)[:6]),
            tuple(int(n) for n in _NUM.findall(revision)[:1]))


def compare(ecosystem: str, a: str, b: str) -> int:
    """-1, 0 or 1 as version ``a`` sorts before, with, or after ``b``."""
    if ecosystem == "pypi":
        from packaging.version import InvalidVersion, Version

        try:
            return _cmp(Version(a), Version(b))
        except InvalidVersion:
            pass
    if ecosystem in ("deb", "rpm"):
        (ua, ra), (ub, rb) = _package_version(a), _package_version(b)
        ua, ub = _pad(ua, ub)
        if ua != ub:
            return _cmp(ua, ub)
        if not ra or not rb:
            return 0
        return _cmp(ra, rb)
    (ra, pa), (rb, pb) = _release(a), _release(b)
    ra, rb = _pad(ra, rb)
    if ra != rb:
        return _cmp(ra, rb)
    # A pre-release (and a Go pseudo-version built on an untagged commit) sorts first.
    return _cmp(not pa, not pb)


def older(ecosystem: str, version: str, minimum: str) -> bool:
    return compare(ecosystem, version, minimum) < 0
