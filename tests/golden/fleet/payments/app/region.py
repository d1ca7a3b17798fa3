"""Which region this worker runs in, for the payment provider's endpoint."""

import requests

METADATA = "http://169.254.169.254/latest/meta-data"


def current_region() -> str:
    response = requests.get(f"{METADATA}/placement/region", timeout=2)
    response.raise_for_status()
    return response.text
