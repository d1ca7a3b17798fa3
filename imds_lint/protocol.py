"""IMDSv2 protocol facts, in a module of their own so the lightest code can use them."""

TOKEN_HEADER = "x-aws-ec2-metadata-token"
TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
TOKEN_PATH = "/latest/api/token"
MAX_TOKEN_TTL = 21600
# The same headers as written in fixes and messages (HTTP header names are case-insensitive).
TOKEN_HEADER_NAME = "X-aws-ec2-metadata-token"
TTL_HEADER_NAME = "X-aws-ec2-metadata-token-ttl-seconds"
