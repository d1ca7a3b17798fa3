from __future__ import annotations

from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid

RECIPE = ("migrate to boto3/botocore (their credential chain and botocore.utils.InstanceMetadataFetcher "
          "use IMDSv2 tokens) or to the ec2-metadata package >= 2.2.0 "
          "(`from ec2_metadata import ec2_metadata; ec2_metadata.instance_id`)")


class Boto2MetadataCall(Rule):
    """
    ## What it does
    Flags calls into boto 2 that read the instance metadata service:
    `boto.utils.get_instance_metadata`, `get_instance_identity`,
    `get_instance_userdata`, `retry_url`, and boto 2 connections made without
    explicit keys (which take their role credentials from IMDS).

    ## Why it breaks under IMDSv2-only
    boto 2 is unmaintained and only speaks IMDSv1: it never fetches a session
    token. Once the instance requires tokens, IMDS answers it with `401`, and
    boto 2 retries, then quietly returns an empty dict or no credentials, so the
    code fails later and far from the cause.

    ## Example
    ```python
    from boto.utils import get_instance_metadata
    metadata = get_instance_metadata(timeout=2)
    instance_id = metadata["instance-id"]
    ```

    ## Use instead
    ```python
    from ec2_metadata import ec2_metadata
    instance_id = ec2_metadata.instance_id
    ```

    ## Fix safety
    Never fixed automatically: the replacement is a different library with a
    different API (boto3/botocore, or `ec2-metadata` >= 2.2.0, which fetches
    tokens). The message gives the recipe.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-transition-to-version-2.html
    - https://pypi.org/project/ec2-metadata/
    """

    code = "IMDS103"
    name = "boto2-metadata-call"
    category = Category.IMDSV1_CALL
    severity = Severity.ERROR
    summary = "boto 2 reads instance metadata with IMDSv1 only"

    valid = [
        Valid("python", "from ec2_metadata import ec2_metadata\ninstance_id = ec2_metadata.instance_id\n"),
        Valid("python", "import boto3\nregion = boto3.session.Session().region_name\n"),
        Valid("python", "import boto\nec2 = boto.connect_ec2(aws_access_key_id=KEY, aws_secret_access_key=SECRET)\n"),
        Valid("python", "def get_instance_metadata():\n    return {}\nget_instance_metadata()\n"),
    ]
    invalid = [
        Invalid("python", 'from boto.utils import get_instance_metadata\nmetadata = get_instance_metadata(timeout=2)\n'
                          'instance_id = metadata["instance-id"]\n'),
        Invalid("python", 'import boto.utils\nidentity = boto.utils.get_instance_identity()["document"]\n'
                          'user_data = boto.utils.get_instance_userdata()\n', count=2),
        Invalid("python", "import boto\nec2 = boto.connect_ec2()\n"),
        Invalid("python", 'import boto.ec2\nconn = boto.ec2.connect_to_region("eu-west-1")\n'),
    ]

    def check_analysis(self, analysis, ctx):
        for call in analysis.facts.get("boto2", ()):
            if call.credentials:
                message = (f"{call.function}() without explicit keys makes boto 2 read role credentials "
                           f"from IMDS with IMDSv1 only, which gets 401 once the instance requires tokens; {RECIPE}")
            else:
                message = (f"{call.function}() is boto 2, which reads IMDS with IMDSv1 only and gets 401 "
                           f"(then an empty result) once the instance requires tokens; {RECIPE}")
            ctx.report(self, call.anchor, message, extent=call.span)
