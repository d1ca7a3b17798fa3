"""Handles from infrastructure front-ends to their fixers: where a compute resource's options are written.

Each ``iac.ComputeResource`` carries one of these; the fixer for the document's
language (``fixers.terraform``, ``fixers.cloudformation``, ``fixers.cdk``) reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Union

from imds_lint.model import Span
from imds_lint.records import dataclass, field

if TYPE_CHECKING:
    from imds_lint.hcl.tree import Block


@dataclass(frozen=True)
class TerraformHandle:
    """An HCL resource, module or account-defaults block (Terraform and Packer alike)."""

    block: Block
    options: Any  # metadata_options block (Block) or object expression node, or None
    style: str  # "block" (resource), "object" (module attribute), "attributes" (account defaults)


@dataclass(frozen=True)
class CloudFormationHandle:
    parent: Any  # the YAML mapping that holds (or should hold) MetadataOptions
    options: Any  # the MetadataOptions mapping, or None
    json: bool
    text: str


@dataclass(frozen=True)
class CdkHandle:
    call: Any  # the libcst Call building the construct
    text: str
    span: Callable[[Any], Span] = field(compare=False)
    instance: bool  # ec2.Instance (changing it replaces the instance) rather than a launch template


IacHandle = Union[TerraformHandle, CloudFormationHandle, CdkHandle]
