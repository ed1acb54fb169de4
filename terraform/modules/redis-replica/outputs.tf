output "url" {
  description = "REDIS_URL of the replica for the region's edges (REDIS_REPLICA_URL), once its server exists."
  value       = local.url
  sensitive   = true
  depends_on  = [openstack_compute_instance_v2.replica]
}

output "endpoint" {
  description = "host:port of the replica, once its server exists (the edges' unit names it, so they come after it)."
  value       = local.endpoint
  depends_on  = [openstack_compute_instance_v2.replica]
}

output "server" {
  description = "The replica's server as planned: name, cloud region, image, flavor, whether Nova stops it before deleting it."
  value = {
    name         = openstack_compute_instance_v2.replica.name
    cloud_region = openstack_compute_instance_v2.replica.region
    image        = openstack_compute_instance_v2.replica.image_name
    flavor       = openstack_compute_instance_v2.replica.flavor_name
    graceful     = openstack_compute_instance_v2.replica.stop_before_destroy
  }
}

output "ingress_rules" {
  description = "Every ingress rule of the replica's security group, as planned: protocol, ports, source (the edge group's id or a CIDR)."
  value = [
    for r in [openstack_networking_secgroup_rule_v2.from_edges] : {
      protocol = r.protocol
      ports    = [r.port_range_min, r.port_range_max]
      from     = r.remote_group_id != "" ? "group:${r.remote_group_id}" : "cidr:${r.remote_ip_prefix}"
    }
  ]
}

output "config" {
  description = "The replica's redis.conf and systemd unit (no secret: those come from Barbican at boot)."
  value = {
    redis_conf = local.conf
    unit       = local.unit
  }
}

output "barbican_secret" {
  description = "The Barbican secret the replica reads its replication settings from."
  value       = openstack_keymanager_secret_v1.conf.name
}

output "replication" {
  description = "What the replica's settings in Barbican say, secrets left out: the primary it replicates (host:port) and whether it authenticates to it and asks its own clients for the password."
  value = {
    replicaof   = nonsensitive(join(":", regex("(?m)^replicaof ([^ ]+) ([0-9]+)$", local.secret_conf)))
    masterauth  = nonsensitive(strcontains(local.secret_conf, "\nmasterauth "))
    requirepass = nonsensitive(strcontains(local.secret_conf, "\nrequirepass "))
  }
}
