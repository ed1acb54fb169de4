variable "region" {
  description = "Catalog name of the region."
  type        = string
}

variable "cloud_region" {
  description = "OpenStack region the catalog maps this region to."
  type        = string
}

variable "edge_port" {
  description = "The edges' client (Socket.IO) port, from the catalog."
  type        = number
}

variable "mesh_port" {
  description = "The homes' QUIC mesh port, from the catalog."
  type        = number
}

variable "edges" {
  description = "The region's edges: slot, node id and courtd version."
  type = list(object({
    slot    = number
    node_id = string
    version = string
  }))
}

variable "homes" {
  description = "The region's homes: slot, node id, version, and the fixed port they run on."
  type = list(object({
    slot       = number
    node_id    = string
    version    = string
    port_id    = string
    private_ip = string
  }))
}

variable "mesh_homes" {
  description = "Every home of every region, as the edges dial it."
  type = list(object({
    region     = string
    node_id    = string
    private_ip = string
    public_ip  = string
    mesh_port  = number
  }))
}

variable "network_id" {
  description = "The region's courtmesh network (edges take DHCP addresses on it)."
  type        = string
}

variable "lb_subnet_id" {
  description = "Subnet of the load balancer VIP."
  type        = string
}

variable "edge_security_group_name" {
  description = "Security group of the edges."
  type        = string
}

variable "external_network" {
  description = "External network of the load balancer's floating IP."
  type        = string
}

variable "image_name_format" {
  description = "Glance image name of a courtd release, as a format string of the version."
  type        = string
}

variable "flavors" {
  description = "Nova flavors of the two roles."
  type = object({
    edge = string
    home = string
  })
}

variable "public_port" {
  description = "Port of the load balancer's TLS listener."
  type        = number
}

variable "ops_port" {
  description = "Port of /metrics and the probes."
  type        = number
}

variable "edge_ready_timeout_seconds" {
  description = "How long an apply waits for a new edge to be ONLINE behind the load balancer."
  type        = number
}

variable "drain_window_seconds" {
  description = "How long a node drains on SIGTERM."
  type        = number
}

variable "home_policy" {
  description = "courtd edge --home-policy."
  type        = string
}

variable "judge" {
  description = "courtd home --judge settings."
  type = object({
    mode     = string
    url      = string
    endpoint = string
  })
}

variable "webhook_url" {
  description = "courtd home --webhook: a URL, none, or empty (rows held)."
  type        = string
}

variable "retention" {
  description = "courtd home --retention."
  type        = string
}

variable "redis_prefix" {
  description = "COURT_REDIS_PREFIX."
  type        = string
}

variable "auth_url" {
  description = "Keystone URL the nodes authenticate against at boot."
  type        = string
}

variable "dns_zone" {
  description = "Optional Designate zone for <region>.<zone>."
  type = object({
    id           = string
    name         = string
    cloud_region = string
  })
}

variable "redis_replica_endpoint" {
  description = "host:port of the Redis replica the edges read the directory from; empty where they read the primary."
  type        = string
}

variable "redis_replica_url" {
  description = "REDIS_REPLICA_URL of the edges (with redis_replica_endpoint)."
  type        = string
  sensitive   = true
}

variable "supabase_jwt_secret" {
  description = "SUPABASE_JWT_SECRET."
  type        = string
  sensitive   = true
}

variable "redis_url" {
  description = "REDIS_URL."
  type        = string
  sensitive   = true
}

variable "database_url" {
  description = "DATABASE_URL."
  type        = string
  sensitive   = true
}

variable "judge_api_key" {
  description = "COURT_JUDGE_API_KEY."
  type        = string
  sensitive   = true
}

variable "webhook_secret" {
  description = "COURT_WEBHOOK_SECRET."
  type        = string
  sensitive   = true
}

variable "tls_certificate" {
  description = "PEM certificate served by the load balancer."
  type        = string
  sensitive   = true
}

variable "tls_private_key" {
  description = "PEM private key of tls_certificate."
  type        = string
  sensitive   = true
}

variable "tls_intermediates" {
  description = "PEM intermediates of tls_certificate."
  type        = string
  sensitive   = true
}
