from __future__ import annotations

from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid

_VERSIONS = {
    "ec2-metadata": "Amazon Linux ec2-utils 1.1-1 (the old S3-hosted ec2-metadata script never learned tokens)",
    "ec2metadata": "cloud-utils (cloud-image-utils) 0.32",
    "Get-EC2InstanceMetadata": "AWS Tools for PowerShell 4.0.1.0",
}


class MetadataWrapperTool(Rule):
    """
    ## What it does
    Notes each use of the `ec2-metadata` (Amazon Linux) and `ec2metadata`
    (cloud-utils) commands, which talk to IMDS on the script's behalf.

    ## Why it breaks under IMDSv2-only
    Current versions of both tools fetch a token first, but older ones send IMDSv1
    requests and get 401 once tokens are required. The script is fine exactly when
    the image it runs on ships a token-aware version.

    ## Example
    ```shell
    INSTANCE_ID=$(ec2-metadata --instance-id | cut -d' ' -f2)
    ```

    ## Use instead
    ```shell
    INSTANCE_ID=$(ec2-metadata --instance-id | cut -d' ' -f2)  # imds-lint: ignore[IMDS102] AMIs ship ec2-utils 1.2
    ```

    ## Fix safety
    No fix: check the version on your images (`rpm -q ec2-utils`,
    `dpkg -s cloud-image-utils`), then suppress with `# imds-lint: ignore[IMDS102]`.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html
    """

    code = "IMDS102"
    name = "metadata-wrapper-tool"
    category = Category.IMDSV1_CALL
    severity = Severity.INFO
    summary = "Metadata wrapper tool that is token-aware only in recent versions"

    valid = [
        Valid("shell", "aws ec2 describe-instances --instance-ids i-0abc\n"),
        Valid("shell", "INSTANCE_ID=$(ec2-metadata --instance-id | cut -d' ' -f2)  # imds-lint: ignore[IMDS102] AMIs ship ec2-utils 1.2\n"),
    ]
    invalid = [
        Invalid("shell", "INSTANCE_ID=$(ec2-metadata --instance-id | cut -d' ' -f2)\n"),
        Invalid("shell", "ec2metadata --availability-zone\n"),
        Invalid("powershell", "$id = Get-EC2InstanceMetadata -Category InstanceId\r\n"),
    ]

    def check_request(self, request, ctx):
        if not request.wrapper:
            return
        since = _VERSIONS.get(request.client, "recent versions")
        ctx.report_request(self, request,
                   f"{request.client} fetches an IMDSv2 token only since {since}; make sure your images ship that")
