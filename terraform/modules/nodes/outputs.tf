output "lb_address" {
  description = "The floating IP of the region's load balancer."
  value       = openstack_networking_floatingip_v2.lb.address
}

output "designate_name" {
  description = "<region>.<zone> in Designate (null without a zone)."
  value       = var.dns_zone == null ? null : "${var.region}.${var.dns_zone.name}"
}

output "units" {
  description = "The systemd unit of every node, by node id."
  value = merge(
    { for k, e in local.edges : e.node_id => local.edge_units[k] },
    { for k, h in local.homes : h.node_id => local.home_units[k] },
  )
}

output "images" {
  description = "The image every node boots, by node id."
  value = merge(
    { for k, e in local.edges : e.node_id => openstack_compute_instance_v2.edge[k].image_name },
    { for k, h in local.homes : h.node_id => openstack_compute_instance_v2.home[k].image_name },
  )
}

output "env_secret_names" {
  description = "The Barbican secrets Terraform stores for the nodes' environment."
  value       = [for s in openstack_keymanager_secret_v1.env : s.name]
}
