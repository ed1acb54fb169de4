output "network_id" {
  description = "The region's courtmesh network, once it is routed (nodes reach Keystone and Barbican at boot)."
  value       = openstack_networking_network_v2.mesh.id
  depends_on  = [openstack_networking_router_interface_v2.nodes]
}

output "lb_subnet_id" {
  description = "Subnet of the load balancer VIP, once it is routed (its floating IP needs the router)."
  value       = openstack_networking_router_interface_v2.lb.subnet_id
}

output "nodes_subnet_id" {
  description = "Subnet of the nodes, once it is routed (the Redis replica takes its fixed address there and reaches the primary through the router)."
  value       = openstack_networking_router_interface_v2.nodes.subnet_id
}

output "edge_security_group_id" {
  description = "Security group of the edges (the Redis replica admits it)."
  value       = openstack_networking_secgroup_v2.edge.id
}

output "edge_security_group_name" {
  description = "Security group of the edges."
  value       = openstack_networking_secgroup_v2.edge.name
}

output "home_security_group_id" {
  description = "Security group of the homes (null where homes may not run)."
  value       = var.home ? openstack_networking_secgroup_v2.home[0].id : null
}

output "egress_ip" {
  description = "The address the region's nodes leave through (the router's gateway)."
  value       = terraform_data.egress.output[0].ip_address
}

output "homes" {
  description = "Per home slot: its port, private address and floating IP."
  value = [
    for i in range(var.home_count) : {
      port_id    = openstack_networking_port_v2.home[i].id
      private_ip = cidrhost(var.node_cidr, 10 + i)
      public_ip  = openstack_networking_floatingip_v2.home[i].address
    }
  ]
}

output "ingress_rules" {
  description = "Every ingress rule of the region's groups, as read back from the planned rules: group, protocol, ports, and the source (a group of this region, or a CIDR)."
  value = [
    for r in concat(
      [openstack_networking_secgroup_rule_v2.edge_client_from_lb],
      openstack_networking_secgroup_rule_v2.home_mesh_from_edges,
      openstack_networking_secgroup_rule_v2.home_mesh_from_homes,
      values(openstack_networking_secgroup_rule_v2.operator),
      ) : {
      group     = r.security_group_id == openstack_networking_secgroup_v2.edge.id ? "edge" : "home"
      direction = r.direction
      protocol  = r.protocol
      ports     = [r.port_range_min, r.port_range_max]
      from = (
        r.remote_group_id == openstack_networking_secgroup_v2.edge.id ? "group:edge" :
        var.home && r.remote_group_id == try(openstack_networking_secgroup_v2.home[0].id, "") ? "group:home" :
        "cidr:${r.remote_ip_prefix}"
      )
    }
  ]
}
