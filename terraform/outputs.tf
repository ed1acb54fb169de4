output "regions" {
  description = "The regions deployed, from the catalog: cloud region, version, node ids."
  value = {
    for name, r in local.regions : name => {
      cloud_region = r.cloud_region
      home         = r.home
      version      = local.region_version[name]
      edges        = [for e in local.edges[name] : e.node_id]
      homes        = [for h in local.homes[name] : h.node_id]
    }
  }
}

output "node_versions" {
  description = "The courtd release of every node, by node id."
  value = merge(flatten([
    for name in local.region_names : [
      for n in concat(local.edges[name], local.homes[name]) : { (n.node_id) = n.version }
    ]
  ])...)
}

output "node_images" {
  description = "The image every node boots, by node id."
  value       = merge([for name in local.region_names : module.nodes[name].images]...)
}

output "systemd_units" {
  description = "The courtd systemd unit of every node, by node id."
  value       = merge([for name in local.region_names : module.nodes[name].units]...)
}

output "node_secrets" {
  description = "The Barbican secrets the operator stores for each node before it boots (courtctl cert create), by region."
  value = {
    for name, r in local.regions : name => {
      cloud_region = r.cloud_region
      secrets = flatten([
        for n in concat(local.edges[name], local.homes[name]) : [
          for f in ["ca.pem", "node.pem", "node-key.pem"] : "courtmesh/${n.node_id}/${f}"
        ]
      ])
    }
  }
}

output "mesh_cross_region_rules" {
  description = "The mesh rules between regions: home region <- region whose nodes may dial it."
  value       = keys(local.mesh_cross_region)
}

output "endpoints" {
  description = "Per region: the load balancer's address and names, the app's URL there."
  value = {
    for name, r in local.regions : name => {
      cloud_region = r.cloud_region
      address      = module.nodes[name].lb_address
      port         = var.public_port
      name         = module.nodes[name].designate_name
      url          = module.nodes[name].designate_name == null ? "https://${module.nodes[name].lb_address}" : "https://${trimsuffix(module.nodes[name].designate_name, ".")}"
      # Checks this region's edges through its load balancer, whatever the
      # steering records answer.
      probe = "curl -fsS --resolve ${var.public_hostname}:${var.public_port}:${module.nodes[name].lb_address} https://${var.public_hostname}:${var.public_port}/readyz"
    }
  }
}

output "redis_replicas" {
  description = "Per region: where its edges read the directory (REDIS_REPLICA_URL). reads is terraform (the replica Terraform runs there: its endpoint, server, the primary it replicates, and the address the primary must admit it from), override (redis_replica_urls: its endpoint) or primary (no replica: the edges read REDIS_URL)."
  value = {
    for name, r in local.regions : name => {
      cloud_region = r.cloud_region
      reads        = local.replica_reads[name]
      endpoint     = local.replica_endpoint[name]
      server       = local.replica_reads[name] == "terraform" ? module.redis_replica[name].server.name : null
      replicaof    = local.replica_reads[name] == "terraform" ? module.redis_replica[name].replication.replicaof : null
      # The replica reaches the primary through its region's router.
      primary_admits = local.replica_reads[name] == "terraform" ? "${module.network[name].egress_ip}/32" : null
    }
  }
}

# Designate cannot steer by latency or location, so these are the records to
# create at a DNS provider that can (README: "Nearest region"). One record per
# region under the app's one host name; the provider answers each client with
# the region nearest to it (latency) or assigned to its continent (geo).
output "nearest_region_dns" {
  description = "The steering records for public_hostname: one per region, with its latency region and geo hints."
  value = {
    name = "${var.public_hostname}."
    type = "A"
    ttl  = 60
    records = [
      for name, r in local.regions : {
        set_identifier  = name
        value           = module.nodes[name].lb_address
        latency_region  = r.cloud_region
        geo_continents  = lookup(var.geo_hints, name, [])
        health_check    = { protocol = "HTTPS", port = var.public_port, host = var.public_hostname, path = "/readyz" }
        fallback_target = module.nodes[name].designate_name
      }
    ]
    default_region = local.catalog.primary
  }
}

output "ingress_rules" {
  description = "Every ingress rule of every region's security groups, by region (the mesh rules between regions are in mesh_cross_region_rules)."
  value       = { for name in local.region_names : name => module.network[name].ingress_rules }
}

output "load_balancers" {
  description = "Every region's load balancer as planned."
  value       = { for name in local.region_names : name => module.nodes[name].load_balancer }
}

output "zones" {
  description = "The availability zone of every node, by node id."
  value       = merge([for name in local.region_names : module.nodes[name].zones]...)
}

output "graceful_stop" {
  description = "Whether every node is stopped (so drained) before Nova deletes it, by node id."
  value       = merge([for name in local.region_names : module.nodes[name].graceful_stop]...)
}

output "barbican_env_secrets" {
  description = "The environment secrets Terraform keeps in each region's Barbican (the nodes read them at boot)."
  value       = { for name in local.region_names : name => module.nodes[name].env_secret_names }
}

output "edge_environment" {
  description = "The edges' environment file of each region as stored in Barbican, secrets masked (URLs keep scheme, host and port)."
  value       = { for name in local.region_names : name => module.nodes[name].edge_environment }
}

output "redis_replica_details" {
  description = "The Redis replicas Terraform runs, by region: server, security group rules, replication settings (secrets left out), redis.conf and unit."
  value = {
    for name in local.replica_regions : name => merge(module.redis_replica[name].server, {
      ingress_rules   = module.redis_replica[name].ingress_rules
      replication     = module.redis_replica[name].replication
      barbican_secret = module.redis_replica[name].barbican_secret
      redis_conf      = module.redis_replica[name].config.redis_conf
      unit            = module.redis_replica[name].config.unit
    })
  }
}
