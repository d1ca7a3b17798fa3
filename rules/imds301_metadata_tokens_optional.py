from __future__ import annotations

from imds_lint.frontends import COMPUTE
from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class MetadataTokensOptional(Rule):
    """
    ## What it does
    Flags an EC2 instance, launch template, launch configuration or
    terraform-aws-modules instance / autoscaling / node-group module (Terraform,
    CloudFormation `AWS::EC2::Instance` / `AWS::EC2::LaunchTemplate`, CDK
    `ec2.Instance` / `ec2.LaunchTemplate`) whose metadata service still accepts
    IMDSv1: `metadata_options` is missing, or `http_tokens` is not `"required"`
    while the endpoint is enabled. `var.*` and `local.*` values are resolved to
    their defaults in the same module; an instance whose launch template requires
    tokens, a CDK `InstanceRequireImdsv2Aspect` or a custom resource calling
    `modifyInstanceMetadataOptions` with `HttpTokens: required` counts as enforced.
    Parity with Checkov CKV_AWS_79 and Trivy AVD-AWS-0028.

    ## Why it breaks under IMDSv2-only
    Nothing breaks yet, and that is the problem: every process on the instance
    (and anything an SSRF bug can reach) can read role credentials without a
    token. Requiring tokens is the switch this linter prepares for; flip it once
    the code on the instance is token-first.

    ## Example
    ```hcl
    resource "aws_instance" "web" {
      ami           = "ami-0abcdef1234567890"
      instance_type = "t3.micro"
    }
    ```

    ## Use instead
    ```hcl
    resource "aws_instance" "web" {
      ami           = "ami-0abcdef1234567890"
      instance_type = "t3.micro"
      metadata_options {
        http_tokens = "required"
      }
    }
    ```

    ## Fix safety
    Unsafe: requiring tokens breaks every IMDSv1 caller on the instance, and on
    existing instances some tools replace the resource. The fix adds or edits the
    setting written in place; a value that comes from a variable is left for you
    to change where it is defined.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html
    - https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/instance#metadata-options
    - https://docs.prismacloud.io/en/enterprise-edition/policy-reference/aws-policies/aws-general-policies/bc-aws-general-31
    - https://avd.aquasec.com/misconfig/aws/ec2/avd-aws-0028/
    """

    code = "IMDS301"
    name = "metadata-tokens-optional"
    category = Category.ENFORCEMENT
    severity = Severity.WARNING
    summary = "EC2 resource does not require IMDSv2 tokens"
    fix_title = "Require IMDSv2 tokens in the metadata options"

    valid = [
        Valid("terraform", 'resource "aws_instance" "web" {\n  ami           = "ami-0abcdef1234567890"\n'
                           '  instance_type = "t3.micro"\n  metadata_options {\n    http_tokens = "required"\n  }\n}\n'),
        Valid("terraform", 'resource "aws_instance" "off" {\n  metadata_options {\n    http_endpoint = "disabled"\n  }\n}\n'),
        Valid("terraform", 'variable "tokens" {\n  default = "required"\n}\n\nresource "aws_launch_template" "lt" {\n'
                           '  metadata_options {\n    http_tokens = var.tokens\n  }\n}\n'),
        Valid("terraform", 'resource "aws_launch_template" "lt" {\n  metadata_options {\n    http_tokens = "required"\n  }\n}\n\n'
                           'resource "aws_instance" "a" {\n  launch_template {\n    id = aws_launch_template.lt.id\n  }\n}\n'),
        Valid("terraform", 'module "ec2" {\n  source = "terraform-aws-modules/ec2-instance/aws"\n}\n'),
    ]
    invalid = [
        Invalid(
            "terraform",
            'resource "aws_instance" "web" {\n  ami           = "ami-0abcdef1234567890"\n  instance_type = "t3.micro"\n}\n',
            fixed='resource "aws_instance" "web" {\n  ami           = "ami-0abcdef1234567890"\n  instance_type = "t3.micro"\n'
                  '  metadata_options {\n    http_tokens = "required"\n  }\n}\n',
            unsafe_fixes=True,
        ),
        Invalid(
            "terraform",
            'resource "aws_launch_template" "lt" {\n  metadata_options {\n    http_endpoint = "enabled"\n    http_tokens   = "optional"\n  }\n}\n',
            fixed='resource "aws_launch_template" "lt" {\n  metadata_options {\n    http_endpoint = "enabled"\n    http_tokens   = "required"\n  }\n}\n',
            unsafe_fixes=True,
        ),
        Invalid("terraform", 'variable "imds_tokens" {\n  default = "optional"\n}\n\nresource "aws_instance" "a" {\n'
                             '  metadata_options {\n    http_tokens = var.imds_tokens\n  }\n}\n'),
        Invalid("terraform", 'resource "aws_launch_configuration" "lc" {\n  image_id = "ami-1"\n}\n'),
        Invalid("terraform", 'module "asg" {\n  source = "terraform-aws-modules/autoscaling/aws"\n}\n'),
        Invalid(
            "terraform",
            'resource "aws_instance" "a" {\n  metadata_options {\n    http_endpoint = "enabled"\n  }\n}\n',
            fixed='resource "aws_instance" "a" {\n  metadata_options {\n    http_endpoint = "enabled"\n    http_tokens = "required"\n  }\n}\n',
            unsafe_fixes=True,
        ),
    ]

    def check_analysis(self, analysis, ctx):
        for resource in analysis.facts.get(COMPUTE, ()):
            from imds_lint.frontends.iac import spelled  # loaded with the file's IaC front-end already

            if resource.account_defaults or resource.effective_endpoint == "disabled":
                continue
            tokens = resource.effective_tokens
            if tokens == "required" or tokens == "*":
                continue
            where = f" ({resource.tokens.via} is {tokens!r})" if resource.tokens.via else ""
            what = "has no metadata options" if not resource.has_metadata_options and resource.tokens.value is None \
                else f"sets http_tokens to {tokens!r}{where}"
            message = (f"{resource.type} {resource.name} {what}, so IMDSv1 stays open to every process and SSRF on it; "
                       f"require tokens ({spelled(resource, 'http_tokens', 'required')}) once its code is token-first")
            fix = ctx.fixer.set_option(resource, "http_tokens", "required", self.fix_title)
            ctx.report(self, resource.anchor, message, fix, extent=resource.extent)
