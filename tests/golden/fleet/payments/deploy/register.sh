#!/bin/bash
set -euo pipefail
# Register this instance with the load balancer pool.
INSTANCE_ID=$(curl -fsS --max-time 2 http://169.254.169.254/latest/meta-data/instance-id)
aws elbv2 register-targets --target-group-arn "$TG_ARN" --targets "Id=$INSTANCE_ID"
