resource "aws_instance" "bastion" {
  ami           = var.ami
  instance_type = "t3.micro"

  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}

resource "aws_launch_template" "jumphost" {
  name_prefix = "jumphost-"
  image_id    = var.ami

  metadata_options {
    http_tokens = "optional"
  }
}
