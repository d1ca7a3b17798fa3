"""What an IMDS URL looks like, and which look-alikes are not IMDS."""

from __future__ import annotations

import re
from dataclasses import dataclass

# The three spellings AWS documents, at the start of a URL (scheme optional,
# as curl and wget accept bare hosts). The look-aheads keep 169.254.169.2540
# and instance-data-backup from matching.
_HOST = (
    r"(?P<host>169\.254\.169\.254(?![\d.\w-])"
    r"|\[fd00:ec2::254\]"
    r"|instance-data(?:\.ec2\.internal|\.[a-z0-9-]+\.compute\.internal)?(?![\w.-]))"
)
_URL = re.compile(rf"^(?:(?P<scheme>https?)://)?{_HOST}(?::(?P<port>\d{{1,5}}))?(?P<path>[/?#].*)?$", re.I | re.S)

# Other clouds answer on 169.254.169.254 too; their paths and headers give them away.
_FOREIGN_PATHS = ("/metadata/", "/computemetadata/", "/openstack", "/metadata/v1")
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
    if any(path.lower().startswith(p) for p in _FOREIGN_PATHS):
        return None
    return ImdsUrl(endpoint=match.group("host"), path=path)


def is_foreign_metadata_header(name: str, value: str | None) -> bool:
    """Azure (``Metadata: true``) and GCP (``Metadata-Flavor: Google``) metadata calls."""
    expected = _FOREIGN_HEADERS.get(name.strip().lower())
    return expected is not None and (value or "").strip().lower() == expected

