"""The Python HTTP clients, as tables: module functions that send, constructors of client objects, subprocess and boto 2 entry points."""

from __future__ import annotations

from imds_lint.model import Span
from imds_lint.records import dataclass


VERBS = {"get", "post", "put", "delete", "head", "patch", "options"}

# Module functions that send one request: qualified name -> (client, method or None = first argument).
MODULE_SENDERS: dict[str, tuple[str, str | None]] = {}
for _verb in VERBS:
    MODULE_SENDERS[f"requests.{_verb}"] = ("requests", _verb.upper())
    MODULE_SENDERS[f"requests.api.{_verb}"] = ("requests", _verb.upper())
    MODULE_SENDERS[f"httpx.{_verb}"] = ("httpx", _verb.upper())
for _name, _client in (("requests.request", "requests"), ("requests.api.request", "requests"),
                       ("httpx.request", "httpx"), ("urllib3.request", "urllib3"),
                       ("aiohttp.request", "aiohttp")):
    MODULE_SENDERS[_name] = (_client, None)

# Constructors of objects that send requests (sessions, pools, connections).
CONSTRUCTORS = {
    "requests.Session": "requests", "requests.session": "requests", "requests.sessions.Session": "requests",
    "httpx.Client": "httpx", "httpx.AsyncClient": "httpx-async",
    "aiohttp.ClientSession": "aiohttp",
    "urllib3.PoolManager": "urllib3", "urllib3.poolmanager.PoolManager": "urllib3",
    "urllib3.HTTPConnectionPool": "urllib3-pool",
    "http.client.HTTPConnection": "http.client", "http.client.HTTPSConnection": "http.client",
    "httplib.HTTPConnection": "http.client",
    "urllib.request.Request": "urllib-request", "urllib2.Request": "urllib-request",
}
URLOPEN = {"urllib.request.urlopen", "urllib2.urlopen", "six.moves.urllib.request.urlopen"}
SUBPROCESS_ARGV = {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
                    "subprocess.Popen", "asyncio.create_subprocess_exec"}
SHELL_STRING = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput",
                 "asyncio.create_subprocess_shell", "commands.getoutput"}
MOCK_MODULES = {"responses", "requests_mock", "moto", "httpretty", "respx", "aioresponses",
                 "pytest_httpserver", "vcr", "betamax"}
BOTO2_CALLS = {
    "boto.utils.get_instance_metadata": "get_instance_metadata",
    "boto.utils.get_instance_identity": "get_instance_identity",
    "boto.utils.get_instance_userdata": "get_instance_userdata",
    "boto.utils.retry_url": "retry_url",
}
# boto 2 entry points whose credentials come from IMDSv1 on an instance.
BOTO2_CREDENTIAL_CALLS = {"boto.connect_ec2", "boto.connect_s3", "boto.connect_sqs", "boto.connect_sns",
                          "boto.connect_dynamodb", "boto.ec2.connect_to_region", "boto.s3.connect_to_region",
                          "boto.sqs.connect_to_region", "boto.provider.Provider"}


@dataclass(frozen=True)
class Boto2Call:
    """A boto 2 call that reads IMDS (v1 only): ``boto.utils.get_instance_metadata()`` and kin."""

    function: str
    span: Span
    anchor: Span
    credentials: bool = False
