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

output "edge_environment" {
  description = "The edges' environment file as stored in Barbican, secrets masked: URLs keep scheme, host and port; other secrets read ***."
  value = {
    for k, v in local.edge_env : k => nonsensitive(
      k == "COURT_REDIS_PREFIX" ? v :
      can(regex("^[a-z]+://", v)) ? replace(v, "/\\/\\/[^@/]*@/", "//***@") : "***"
    )
  }
}

output "load_balancer" {
  description = "The region's entry point as planned: listener, pool, health monitor, members, floating IP."
  value = {
    listener_protocol = openstack_lb_listener_v2.client.protocol
    listener_port     = openstack_lb_listener_v2.client.protocol_port
    tls_container     = openstack_lb_listener_v2.client.default_tls_container_ref == openstack_keymanager_container_v1.tls.container_ref
    pool_protocol     = openstack_lb_pool_v2.edges.protocol
    monitor           = "${openstack_lb_monitor_v2.readyz.type} ${openstack_lb_monitor_v2.readyz.http_method} ${openstack_lb_monitor_v2.readyz.url_path}"
    members           = { for k, m in openstack_lb_member_v2.edge : m.name => "${m.address}:${m.protocol_port}" }
    ready_gates       = sort([for k, g in terraform_data.edge_ready : openstack_lb_member_v2.edge[k].name])
    floating_ip_on    = openstack_networking_floatingip_v2.lb.port_id == openstack_lb_loadbalancer_v2.edges.vip_port_id ? "vip" : "other"
  }
}

output "zones" {
  description = "The availability zone of every node, by node id."
  value = merge(
    { for k, e in local.edges : e.node_id => openstack_compute_instance_v2.edge[k].availability_zone },
    { for k, h in local.homes : h.node_id => openstack_compute_instance_v2.home[k].availability_zone },
  )
}

output "graceful_stop" {
  description = "Whether every node is stopped (so drained) before Nova deletes it, by node id."
  value = merge(
    { for k, e in local.edges : e.node_id => openstack_compute_instance_v2.edge[k].stop_before_destroy },
    { for k, h in local.homes : h.node_id => openstack_compute_instance_v2.home[k].stop_before_destroy },
  )
}
