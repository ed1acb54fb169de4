variable "region" {
  description = "Catalog name of the region the replica serves."
  type        = string
}

variable "cloud_region" {
  description = "OpenStack region the catalog maps this region to."
  type        = string
}

variable "network_id" {
  description = "The region's courtmesh network."
  type        = string
}

variable "subnet_id" {
  description = "The nodes' subnet, where the replica takes its fixed address."
  type        = string
}

variable "address" {
  description = "The replica's fixed private address on the nodes' subnet: its URL outlives its server."
  type        = string
}

variable "edge_security_group_id" {
  description = "Security group of the region's edges: the only source the replica's port admits."
  type        = string
}

variable "port" {
  description = "The replica's Redis port."
  type        = number
}

variable "image_name" {
  description = "Glance image of the replica's server (cloud-init, systemd; redis-server >= 7.0 is installed at boot if missing)."
  type        = string
}

variable "flavor" {
  description = "Nova flavor of the replica's server."
  type        = string
}

variable "primary_ca" {
  description = "PEM CA the replica verifies a rediss:// primary with; empty for the image's system CAs."
  type        = string
}

variable "auth_url" {
  description = "Keystone URL the replica authenticates against at boot to read its configuration from Barbican."
  type        = string
}

variable "redis_url" {
  description = "REDIS_URL of the primary, which the replica replicates with the same credentials and TLS."
  type        = string
  sensitive   = true
}
