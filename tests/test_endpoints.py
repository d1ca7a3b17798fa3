"""Which URLs are EC2's metadata service: other clouds answer on the same address, elsewhere."""

from __future__ import annotations

import pytest

from imds_lint.endpoints import parse_imds_url


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/instance-id",
    "http://169.254.169.254/2009-04-04/user-data",
    "http://169.254.169.254/1.0/meta-data/",
    "http://169.254.169.254/",
    "169.254.169.254/latest/api/token",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://169.254.169.254//latest/user-data",
    # Paths the front-end could not resolve may be EC2's.
    "http://169.254.169.254/*",
    "http://169.254.169.254/\u2026/meta-data",
    "http://169.254.169.254/${path}",
])
def test_ec2_paths(url):
    assert parse_imds_url(url) is not None


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/metadata/instance?api-version=2021-02-01",  # Azure
    "http://169.254.169.254/computeMetadata/v1/instance/id",  # GCP
    "http://169.254.169.254/openstack/latest/meta_data.json",
    "http://169.254.169.254/opc/v2/instance/",  # Oracle
    "http://169.254.169.254/v1.json",  # Vultr
    "http://169.254.169.254/metadata/v1/id",  # DigitalOcean
    "http://169.254.169.254/hetzner/v1/metadata",
    "http://169.254.169.2540/latest/meta-data/",
])
def test_other_clouds_and_look_alikes(url):
    assert parse_imds_url(url) is None
