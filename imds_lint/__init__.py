"""imds-lint: find code that breaks when EC2 instances require IMDSv2 tokens."""

__version__ = "0.1.0"
