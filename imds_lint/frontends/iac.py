"""Facts the infrastructure front-ends (Terraform, CloudFormation, CDK) share with the rules.

A front-end turns each EC2 compute resource it finds into a ``ComputeResource``:
what the template says about the metadata options (resolved through variables
where it can), what the platform defaults are when it says nothing, whether
something else enforces tokens for it, and whether its user-data runs
containers. Rules read these facts; the fixer of the document's language writes the text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from imds_lint.frontends import COMPUTE  # noqa: F401 (re-exported: the front-ends' name for it)
from imds_lint.model import Span
from imds_lint.records import dataclass

if TYPE_CHECKING:
    from imds_lint.syntax.iac import IacHandle

# An unknown value (a variable without a default, a reference to another resource).
UNKNOWN = "*"


@dataclass(frozen=True, slots=True)
class Setting:
    """One metadata option: its resolved value (None when not written) and where it is written."""

    value: str | None = None
    # The literal's span when the value is written in place and can be edited.
    span: Span | None = None
    # Where the value came from when it is not a literal ("var.imds_tokens").
    via: str | None = None

    @property
    def known(self) -> bool:
        return self.value is not None and self.value != UNKNOWN


@dataclass(frozen=True, slots=True)
class ComputeResource:
    """An EC2 instance, launch template, launch configuration, node group module or account default."""

    language: str  # "terraform", "cloudformation", "cdk"
    type: str  # "aws_instance", "module:ec2-instance", "AWS::EC2::Instance", "ec2.Instance"
    name: str
    anchor: Span  # the header line: where findings go
    extent: Span  # the whole block
    has_metadata_options: bool
    tokens: Setting = Setting()
    endpoint: Setting = Setting()
    hop_limit: Setting = Setting()
    # What AWS (or the module) uses when the option is not written.
    default_tokens: str = "optional"
    default_hop_limit: int = 1
    # Account-level defaults (aws_ec2_instance_metadata_defaults): different message, same checks.
    account_defaults: bool = False
    # Something else requires tokens for this resource: "launch template web", "InstanceRequireImdsv2Aspect".
    enforced_by: str | None = None
    # Why we think workloads on it run in containers ("user-data starts docker"), or None.
    containers: str | None = None
    # A weaker sign of a container host (Kubernetes tags, an EKS/ECS AMI): IMDS211 stays quiet.
    container_hint: str | None = None
    # Where the options are written, for the fixer of the document's language.
    handle: IacHandle | None = None

    @property
    def effective_tokens(self) -> str:
        if self.enforced_by is not None:
            return "required"
        if self.tokens.value is None:
            return self.default_tokens
        return self.tokens.value

    @property
    def effective_endpoint(self) -> str:
        return self.endpoint.value if self.endpoint.value is not None else "enabled"

    @property
    def effective_hop_limit(self) -> int | None:
        """The hop limit in force, None when it cannot be known."""
        value = self.hop_limit.value
        if value is None:
            return self.default_hop_limit
        try:
            return int(str(value).strip())
        except ValueError:
            return None


# Signs that an instance runs containers whose processes call IMDS through a
# network hop (bridge networking): a heuristic over user-data text, not a parse.
# Each pattern comes with the words every one of its matches contains: a text holding none of
# them (most resource blocks) is turned away by substring searches instead of a regex scan.
_CONTAINER_SIGNS = [
    (("bootstrap.sh", "nodeadm", "NodeConfig"),
     re.compile(r"/etc/eks/bootstrap\.sh|\bbootstrap\.sh\b.*--kubelet|\bnodeadm\b|NodeConfig\b.*node\.eks\.aws", re.S),
     "bootstraps an EKS node"),
    (("ECS_CLUSTER",), re.compile(r"\bECS_CLUSTER\s*="), "joins an ECS cluster"),
    (("k3s", "kubeadm", "microk8s", "rke2"), re.compile(r"\b(?:k3s|kubeadm\s+join|microk8s|rke2)\b"),
     "runs a Kubernetes node"),
    (("docker", "containerd", "podman"),
     re.compile(r"\b(?:systemctl\s+(?:enable|start|restart)(?:\s+--now)?\s+docker|service\s+docker\s+start|"
                r"(?:yum|dnf|apt-get|apt|amazon-linux-extras|zypper|apk)\s+(?:-\S+\s+)*install\b[^\n]*\b(?:docker(?:\.io|-ce)?|containerd|podman)\b|"
                r"get\.docker\.com|docker\s+(?:run|compose|pull)|docker-compose\s+up|podman\s+run)"),
     "installs or starts a container runtime"),
    (("/etc/ecs/ecs.config",), re.compile(r"/etc/ecs/ecs\.config"), "joins an ECS cluster"),
]
# Signs that the instance is a container host whose operators chose its hop limit (kops,
# eksctl tags, EKS/ECS AMIs): enough to withhold "lower the hop limit" advice (IMDS211), not
# enough to say its containers need a higher one (kops and EKS keep nodes at 1 on purpose).
_NODE_SIGNS = [
    (("nodeup", "kops"), re.compile(r"\bnodeup\b|kops-configuration|/opt/kops/"), "runs a kops Kubernetes node"),
    (("kubernetes.io/cluster/", "k8s.io/role/", "alpha.eksctl.io/nodegroup", "eks:nodegroup-name"),
     re.compile(r"kubernetes\.io/cluster/|k8s\.io/role/(?:master|node|control-plane)|alpha\.eksctl\.io/nodegroup|"
                r"eks:nodegroup-name"), "is tagged as a Kubernetes node"),
    (("/aws/service/", "amazon-eks-node-", "amzn2-ami-ecs-"),
     re.compile(r"/aws/service/(?:eks|ecs|bottlerocket)/|amazon-eks-node-|amzn2-ami-ecs-"),
     "boots a container-optimized (EKS/ECS) AMI"),
]


def _first_sign(signs, text: str) -> str | None:
    for words, pattern, reason in signs:
        if any(word in text for word in words) and pattern.search(text):
            return reason
    return None


def container_signs(text: str) -> str | None:
    """Why ``text`` (user-data, a module source) suggests containers run on the instance."""
    return _first_sign(_CONTAINER_SIGNS, text)


def node_signs(text: str) -> str | None:
    """Why ``text`` (a resource's own source) suggests a container host, short of proof."""
    return _first_sign(_NODE_SIGNS, text)


_SPELLING = {
    "cloudformation": {"http_tokens": "HttpTokens: {}", "http_put_response_hop_limit": "HttpPutResponseHopLimit: {}"},
    "cdk": {"http_tokens": "require_imdsv2=True", "http_put_response_hop_limit": "http_put_response_hop_limit={}"},
}


def spelled(resource: ComputeResource, key: str, value: object) -> str:
    """How a metadata option is written in the resource's own language (for messages)."""
    template = _SPELLING.get(resource.language, {}).get(key)
    if template is None:
        return f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value}"
    return template.format(value)
