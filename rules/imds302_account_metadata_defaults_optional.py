from __future__ import annotations

from imds_lint.frontends import COMPUTE
from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class AccountMetadataDefaultsOptional(Rule):
    """
    ## What it does
    Flags `aws_ec2_instance_metadata_defaults` (the account- and region-wide
    defaults for new instances) when `http_tokens` is not `"required"`.

    ## Why it breaks under IMDSv2-only
    Instances launched without their own metadata options take these defaults;
    with `no-preference` or `optional` they still answer IMDSv1 requests, so new
    instances are not protected and the code on them is never pushed to be
    token-first.

    ## Example
    ```hcl
    resource "aws_ec2_instance_metadata_defaults" "this" {
      http_tokens = "optional"
    }
    ```

    ## Use instead
    ```hcl
    resource "aws_ec2_instance_metadata_defaults" "this" {
      http_tokens = "required"
    }
    ```

    ## Fix safety
    Unsafe: every instance launched afterwards without its own setting requires
    tokens, which breaks IMDSv1 callers on it. A value from a variable is not
    rewritten.

    ## References
    - https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/ec2_instance_metadata_defaults
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html#set-imdsv2-account-defaults
    """

    code = "IMDS302"
    name = "account-metadata-defaults-optional"
    category = Category.ENFORCEMENT
    severity = Severity.WARNING
    summary = "Account metadata defaults do not require IMDSv2 tokens"
    fix_title = "Require IMDSv2 tokens by default"

    valid = [
        Valid("terraform", 'resource "aws_ec2_instance_metadata_defaults" "this" {\n  http_tokens = "required"\n}\n'),
        Valid("terraform", 'resource "aws_ec2_instance_metadata_defaults" "this" {\n  http_endpoint = "disabled"\n}\n'),
    ]
    invalid = [
        Invalid(
            "terraform",
            'resource "aws_ec2_instance_metadata_defaults" "this" {\n  http_tokens = "optional"\n}\n',
            fixed='resource "aws_ec2_instance_metadata_defaults" "this" {\n  http_tokens = "required"\n}\n',
            unsafe_fixes=True,
        ),
        Invalid("terraform", 'resource "aws_ec2_instance_metadata_defaults" "this" {\n  http_put_response_hop_limit = 2\n}\n'),
    ]

    def check_analysis(self, analysis, ctx):
        for resource in analysis.facts.get(COMPUTE, ()):
            if not resource.account_defaults or resource.effective_endpoint == "disabled":
                continue
            tokens = resource.effective_tokens
            if tokens in ("required", "*"):
                continue
            message = (f"account metadata defaults leave http_tokens at {tokens!r}, so new instances without their own "
                       "setting accept IMDSv1; set http_tokens = \"required\" once their code is token-first")
            fix = ctx.fixer.set_option(resource, "http_tokens", "required", self.fix_title)
            ctx.report(self, resource.anchor, message, fix, extent=resource.extent)
