"""HCL, read once for Terraform and Packer: the tree model (``tree``) and template text (``template``)."""
