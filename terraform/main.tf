# courtmesh on OpenStack, one region per entry of the region catalog.
#
# Per region: a network (module network: subnets, router, security groups,
# the homes' fixed ports and floating IPs), the nodes (module nodes:
# Barbican secrets, edges behind a load balancer, homes where the catalog
# says "home": true) and, outside the primary region, a Redis replica the
# edges read the directory from (module redis_replica). The mesh rules
# between regions live here, because a security group can only name groups
# of its own region.

locals {
  catalog      = jsondecode(file(var.catalog_path))
  regions      = { for r in local.catalog.regions : r.name => r }
  region_names = [for r in local.catalog.regions : r.name]
  home_regions = [for r in local.catalog.regions : r.name if r.home]

  # The release each region runs, and its canary.
  region_version = { for name in local.region_names : name => lookup(var.region_versions, name, var.courtd_version) }
  canary         = { for name in local.region_names : name => lookup(var.canary, name, { version = "", edges = 0, homes = 0 }) }

  edge_count = { for name in local.region_names : name => coalesce(try(var.region_sizes[name].edges, null), var.edge_count) }
  home_count = { for name, r in local.regions : name => r.home ? coalesce(try(var.region_sizes[name].homes, null), var.home_count) : 0 }

  # Every node, by region. An edge's node id carries its release, so a
  # replacement (created before the old edge is destroyed) never shares an id
  # with the node it replaces. A home keeps its id and its mesh address for
  # life: the edges dial it there.
  edges = {
    for name in local.region_names : name => [
      for i in range(local.edge_count[name]) : {
        slot    = i + 1
        version = i < local.canary[name].edges ? local.canary[name].version : local.region_version[name]
        node_id = format("edge-%s-%d-v%s", name, i + 1, i < local.canary[name].edges ? local.canary[name].version : local.region_version[name])
      }
    ]
  }
  homes = {
    for name in local.region_names : name => [
      for i in range(local.home_count[name]) : {
        slot    = i + 1
        version = i < local.canary[name].homes ? local.canary[name].version : local.region_version[name]
        node_id = format("home-%s-%d", name, i + 1)
      }
    ]
  }

  # Every home of every region, as the edges dial it: the private address
  # from inside its region, the floating IP from the others.
  mesh_homes = flatten([
    for name in local.home_regions : [
      for i, h in local.homes[name] : {
        region     = name
        node_id    = h.node_id
        private_ip = module.network[name].homes[i].private_ip
        public_ip  = module.network[name].homes[i].public_ip
        mesh_port  = local.regions[name].mesh_port
      }
    ]
  ])

  # Where each region's edges read the directory (REDIS_REPLICA_URL): an
  # operator's URL (redis_replica_urls; "" for none), else the replica
  # Terraform runs in every region but the primary, whose edges read the
  # primary. Region names are not secret; the URLs are.
  primary_region   = local.catalog.primary
  replica_override = nonsensitive({ for name, url in var.redis_replica_urls : name => url != "" })
  replica_reads = {
    for name in local.region_names : name => (
      contains(keys(local.replica_override), name) ? (local.replica_override[name] ? "override" : "primary") :
      var.redis_replica.create && name != local.primary_region ? "terraform" : "primary"
    )
  }
  replica_regions = [for name in local.region_names : name if local.replica_reads[name] == "terraform"]
  replica_url = {
    for name in local.region_names : name => (
      local.replica_reads[name] == "override" ? var.redis_replica_urls[name] :
      local.replica_reads[name] == "terraform" ? module.redis_replica[name].url : ""
    )
  }
  # host:port of each region's replica, "" where the edges read the primary.
  replica_endpoint = {
    for name in local.region_names : name => (
      local.replica_reads[name] == "override" ? nonsensitive(regex("^rediss?://(?:[^@/?#]*@)?([^/?#]+)", var.redis_replica_urls[name])[0]) :
      local.replica_reads[name] == "terraform" ? module.redis_replica[name].endpoint : ""
    )
  }

  # The mesh port of a home region is open to the other regions' nodes: each
  # region's nodes leave through its router, so its egress address is theirs.
  mesh_cross_region = {
    for pair in setproduct(local.home_regions, local.region_names) :
    "${pair[0]}<-${pair[1]}" => { home = pair[0], from = pair[1] }
    if pair[0] != pair[1]
  }
}

module "network" {
  source   = "./modules/network"
  for_each = local.regions

  region           = each.key
  cloud_region     = each.value.cloud_region
  home             = each.value.home
  home_count       = local.home_count[each.key]
  edge_port        = each.value.edge_port
  mesh_port        = each.value.mesh_port
  ops_port         = var.ops_port
  admin_port       = var.admin_port
  operator_cidrs   = var.operator_cidrs
  node_cidr        = var.node_cidr
  lb_cidr          = var.lb_cidr
  dns_nameservers  = var.dns_nameservers
  external_network = lookup(var.external_networks, each.key, var.external_network)
}

resource "openstack_networking_secgroup_rule_v2" "mesh_cross_region" {
  for_each = local.mesh_cross_region

  region            = local.regions[each.value.home].cloud_region
  security_group_id = module.network[each.value.home].home_security_group_id
  description       = "courtmesh mesh from the ${each.value.from} nodes (their router's egress address)"
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "udp"
  port_range_min    = local.regions[each.value.home].mesh_port
  port_range_max    = local.regions[each.value.home].mesh_port
  remote_ip_prefix  = "${module.network[each.value.from].egress_ip}/32"
}

module "redis_replica" {
  source   = "./modules/redis-replica"
  for_each = toset(local.replica_regions)

  region                 = each.key
  cloud_region           = local.regions[each.key].cloud_region
  network_id             = module.network[each.key].network_id
  subnet_id              = module.network[each.key].nodes_subnet_id
  address                = cidrhost(var.node_cidr, 60)
  edge_security_group_id = module.network[each.key].edge_security_group_id
  port                   = var.redis_replica.port
  image_name             = var.redis_replica.image
  flavor                 = var.redis_replica.flavor
  primary_ca             = var.redis_replica.primary_ca
  auth_url               = var.auth_url
  redis_url              = var.redis_url
}

module "nodes" {
  source   = "./modules/nodes"
  for_each = local.regions

  region       = each.key
  cloud_region = each.value.cloud_region
  edge_port    = each.value.edge_port
  mesh_port    = each.value.mesh_port
  edges        = local.edges[each.key]
  homes = [
    for i, h in local.homes[each.key] : merge(h, {
      port_id    = module.network[each.key].homes[i].port_id
      private_ip = module.network[each.key].homes[i].private_ip
    })
  ]
  mesh_homes = local.mesh_homes

  network_id               = module.network[each.key].network_id
  lb_subnet_id             = module.network[each.key].lb_subnet_id
  edge_security_group_name = module.network[each.key].edge_security_group_name
  external_network         = lookup(var.external_networks, each.key, var.external_network)

  image_name_format          = var.image_name_format
  flavors                    = var.flavors
  public_port                = var.public_port
  ops_port                   = var.ops_port
  drain_window_seconds       = var.drain_window_seconds
  edge_ready_timeout_seconds = var.edge_ready_timeout_seconds
  home_policy                = var.home_policy
  judge                      = var.judge
  webhook_url                = var.webhook_url
  retention                  = var.retention
  redis_prefix               = var.redis_prefix
  auth_url                   = var.auth_url
  dns_zone                   = var.dns_zone
  redis_replica_endpoint     = local.replica_endpoint[each.key]

  supabase_jwt_secret = var.supabase_jwt_secret
  redis_url           = var.redis_url
  redis_replica_url   = local.replica_url[each.key]
  database_url        = var.database_url
  judge_api_key       = var.judge_api_key
  webhook_secret      = var.webhook_secret
  tls_certificate     = var.tls_certificate
  tls_private_key     = var.tls_private_key
  tls_intermediates   = var.tls_intermediates
}
