variable "region" {
  description = "Catalog name of the region."
  type        = string
}

variable "cloud_region" {
  description = "OpenStack region the catalog maps this region to."
  type        = string
}

variable "home" {
  description = "Whether the catalog lets homes run here."
  type        = bool
}

variable "home_count" {
  description = "Number of homes (0 where home is false)."
  type        = number
}

variable "edge_port" {
  description = "The edges' client (Socket.IO) port, from the catalog."
  type        = number
}

variable "mesh_port" {
  description = "The homes' QUIC mesh port (UDP), from the catalog."
  type        = number
}

variable "ops_port" {
  description = "Port of /metrics and the probes."
  type        = number
}

variable "admin_port" {
  description = "Port of the operators' admin listener."
  type        = number
}

variable "operator_cidrs" {
  description = "The only sources allowed on the ops and admin ports."
  type        = list(string)
}

variable "node_cidr" {
  description = "Subnet of the nodes."
  type        = string
}

variable "lb_cidr" {
  description = "Subnet of the load balancer VIP."
  type        = string
}

variable "dns_nameservers" {
  description = "Resolvers handed out by DHCP."
  type        = list(string)
}

variable "external_network" {
  description = "Name of the external network (router gateway, floating IPs)."
  type        = string
}
