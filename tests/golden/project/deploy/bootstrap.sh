#!/bin/bash
# Node bootstrap: tags the instance and registers it.
set -euo pipefail
ID=$(curl -fsS http://169.254.169.254/latest/meta-data/instance-id)
AZ=$(curl -fsS http://169.254.169.254/latest/meta-data/placement/availability-zone)
AMI=$(wget -q -O - http://169.254.169.254/latest/meta-data/ami-id)
TYPE=$(ec2-metadata --instance-type | cut -d' ' -f2)
echo "$ID $AZ $AMI $TYPE"
