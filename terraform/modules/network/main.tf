# One region's network: the nodes' subnet and the load balancer's subnet
# behind one router, and the security groups. Edges accept the client port
# only from the load balancer's subnet; homes accept the mesh port (UDP) only
# from the edge and home groups of their region (the root module adds the
# other regions' egress addresses); the ops and admin ports only from the
# operators' networks. Homes get fixed ports and floating IPs that outlive
# their servers, so edges keep dialing the same address across a rollout.

locals {
  name = "courtmesh-${var.region}"

  # (group, port) pairs opened to each operator network.
  operator_rules = merge([
    for cidr in var.operator_cidrs : merge(
      {
        "edge-ops-${cidr}"   = { group = "edge", port = var.ops_port, cidr = cidr }
        "edge-admin-${cidr}" = { group = "edge", port = var.admin_port, cidr = cidr }
      },
      var.home ? {
        "home-ops-${cidr}"   = { group = "home", port = var.ops_port, cidr = cidr }
        "home-admin-${cidr}" = { group = "home", port = var.admin_port, cidr = cidr }
      } : {},
    )
  ]...)
}

data "openstack_networking_network_v2" "external" {
  region   = var.cloud_region
  name     = var.external_network
  external = true
}

resource "openstack_networking_network_v2" "mesh" {
  region         = var.cloud_region
  name           = local.name
  admin_state_up = true
}

resource "openstack_networking_subnet_v2" "nodes" {
  region          = var.cloud_region
  name            = "${local.name}-nodes"
  network_id      = openstack_networking_network_v2.mesh.id
  cidr            = var.node_cidr
  ip_version      = 4
  dns_nameservers = var.dns_nameservers

  # Homes take fixed addresses from .10; DHCP hands the edges .100 and up.
  allocation_pool {
    start = cidrhost(var.node_cidr, 100)
    end   = cidrhost(var.node_cidr, 250)
  }
}

resource "openstack_networking_subnet_v2" "lb" {
  region     = var.cloud_region
  name       = "${local.name}-lb"
  network_id = openstack_networking_network_v2.mesh.id
  cidr       = var.lb_cidr
  ip_version = 4
}

resource "openstack_networking_router_v2" "egress" {
  region              = var.cloud_region
  name                = local.name
  external_network_id = data.openstack_networking_network_v2.external.id
}

# The router's gateway address, where this region's nodes come from when they
# reach another region, as a value of its own: known once the router exists.
resource "terraform_data" "egress" {
  input = openstack_networking_router_v2.egress.external_fixed_ip
}

resource "openstack_networking_router_interface_v2" "nodes" {
  region    = var.cloud_region
  router_id = openstack_networking_router_v2.egress.id
  subnet_id = openstack_networking_subnet_v2.nodes.id
}

resource "openstack_networking_router_interface_v2" "lb" {
  region    = var.cloud_region
  router_id = openstack_networking_router_v2.egress.id
  subnet_id = openstack_networking_subnet_v2.lb.id
}

resource "openstack_networking_secgroup_v2" "edge" {
  region      = var.cloud_region
  name        = "${local.name}-edge"
  description = "courtmesh edges of ${var.region}: client port from the load balancer only"
}

resource "openstack_networking_secgroup_v2" "home" {
  count = var.home ? 1 : 0

  region      = var.cloud_region
  name        = "${local.name}-home"
  description = "courtmesh homes of ${var.region}: mesh port from courtmesh nodes only"
}

# The load balancer's health checks (/readyz) and client traffic come from
# its subnet; nothing else reaches the client port.
resource "openstack_networking_secgroup_rule_v2" "edge_client_from_lb" {
  region            = var.cloud_region
  security_group_id = openstack_networking_secgroup_v2.edge.id
  description       = "client port (Socket.IO) from the load balancer"
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = var.edge_port
  port_range_max    = var.edge_port
  remote_ip_prefix  = var.lb_cidr
}

resource "openstack_networking_secgroup_rule_v2" "home_mesh_from_edges" {
  count = var.home ? 1 : 0

  region            = var.cloud_region
  security_group_id = openstack_networking_secgroup_v2.home[0].id
  description       = "mesh (QUIC) from this region's edges"
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "udp"
  port_range_min    = var.mesh_port
  port_range_max    = var.mesh_port
  remote_group_id   = openstack_networking_secgroup_v2.edge.id
}

resource "openstack_networking_secgroup_rule_v2" "home_mesh_from_homes" {
  count = var.home ? 1 : 0

  region            = var.cloud_region
  security_group_id = openstack_networking_secgroup_v2.home[0].id
  description       = "mesh (QUIC) between this region's homes"
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "udp"
  port_range_min    = var.mesh_port
  port_range_max    = var.mesh_port
  remote_group_id   = openstack_networking_secgroup_v2.home[0].id
}

resource "openstack_networking_secgroup_rule_v2" "operator" {
  for_each = local.operator_rules

  region            = var.cloud_region
  security_group_id = each.value.group == "edge" ? openstack_networking_secgroup_v2.edge.id : openstack_networking_secgroup_v2.home[0].id
  description       = each.value.port == var.ops_port ? "ops (/metrics, probes) from operators" : "admin (courtctl) from operators"
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = each.value.port
  port_range_max    = each.value.port
  remote_ip_prefix  = each.value.cidr
}

# A home's port and floating IP outlive its server: a home replaced by a
# rollout comes back at the same addresses, which every edge dials.
resource "openstack_networking_port_v2" "home" {
  count = var.home_count

  region             = var.cloud_region
  name               = "${local.name}-home-${count.index + 1}"
  network_id         = openstack_networking_network_v2.mesh.id
  security_group_ids = [openstack_networking_secgroup_v2.home[0].id]

  fixed_ip {
    subnet_id  = openstack_networking_subnet_v2.nodes.id
    ip_address = cidrhost(var.node_cidr, 10 + count.index)
  }
}

resource "openstack_networking_floatingip_v2" "home" {
  count = var.home_count

  region      = var.cloud_region
  pool        = var.external_network
  port_id     = openstack_networking_port_v2.home[count.index].id
  description = "courtmesh home-${var.region}-${count.index + 1} mesh address"

  depends_on = [openstack_networking_router_interface_v2.nodes]
}
