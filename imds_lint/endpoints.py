"""What an IMDS URL looks like, and which look-alikes are not IMDS."""

from __future__ import annotations

import re

from imds_lint.records import dataclass

# The three spellings AWS documents, at the start of a URL (scheme optional,
# as curl and wget accept bare hosts). The look-aheads keep 169.254.169.2540
# and instance-data-backup from matching.
_HOST = (
    r"(?P<host>169\.254\.169\.254(?![\d.\w-])"
    r"|\[fd00:ec2::254\]"
    r"|instance-data(?:\.ec2\.internal|\.[a-z0-9-]+\.compute\.internal)?(?![\w.-]))"
)
_URL = re.compile(rf"^(?:(?P<scheme>https?)://)?{_HOST}(?::(?P<port>\d{{1,5}}))?(?P<path>[/?#].*)?$", re.I | re.S)

# EC2 answers under a version (/latest, a dated one such as /2009-04-04, /1.0) and lists them at
# the root. Other clouds answer on 169.254.169.254 too, elsewhere: /metadata (Azure, DigitalOcean),
# /computeMetadata (GCP), /openstack, /opc/v2 (Oracle), /v1.json (Vultr), /hetzner/v1. A path that
# starts with a part the front-end could not resolve (*, …, a template) may still be EC2's.
_EC2_PATH = re.compile(r"/*(?:(?:latest|\d{4}-\d{2}-\d{2}|1\.0)(?:/|$)|$|[*\u2026\x00$%{<])", re.I)
_FOREIGN_HEADERS = {"metadata": "true", "metadata-flavor": "google"}


@dataclass(frozen=True, slots=True)
class ImdsUrl:
    endpoint: str
    path: str | None


def parse_imds_url(url: str) -> ImdsUrl | None:
    """Recognise ``url`` (possibly with unknown parts) as an IMDS URL."""
    match = _URL.match(url.strip())
    if match is None:
        return None
    path = match.group("path") or "/"
    path = path.split("#", 1)[0].split("?", 1)[0] or "/"
    if _EC2_PATH.match(path) is None:
        return None
    return ImdsUrl(endpoint=match.group("host"), path=path)


def is_foreign_metadata_header(name: str, value: str | None) -> bool:
    """Azure (``Metadata: true``) and GCP (``Metadata-Flavor: Google``) metadata calls."""
    expected = _FOREIGN_HEADERS.get(name.strip().lower())
    return expected is not None and (value or "").strip().lower() == expected

