# One region's Redis replica: a server on a fixed private address that runs
# redis-server as a replica of the primary (REDIS_URL), with the primary's
# password and, for a rediss:// primary, TLS on the link across the ocean.
# The region's edges read the directory from it (REDIS_REPLICA_URL); only
# their security group reaches its port. Its replication settings come from
# Barbican at boot, like the nodes' secrets; the password never enters the
# user data.

locals {
  name = "courtmesh-${var.region}-redis"

  # scheme, user, password, host, port of the primary's URL (the password
  # as written in the URL, percent-encoding included).
  url_pattern = "^(rediss?)://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/?@]+)(?::([0-9]+))?(?:[/?].*)?$"
  parsed      = can(regex(local.url_pattern, var.redis_url)) ? regex(local.url_pattern, var.redis_url) : ["redis", null, null, "", null]
  primary = {
    tls      = nonsensitive(local.parsed[0] == "rediss")
    user     = local.parsed[1] == null ? "" : local.parsed[1]
    password = local.parsed[2] == null ? "" : local.parsed[2]
    host     = local.parsed[3]
    port     = local.parsed[4] == null ? "6379" : local.parsed[4]
  }
  has_password = nonsensitive(local.primary.password != "")

  # The replication settings, included by the replica's redis.conf from
  # /run/courtmesh (a Redis config fragment; strings double-quoted). The
  # replica asks its clients for the primary's password, as the primary
  # does; its default user has it (ACL users are not replicated).
  secret_conf = join("", [
    "replicaof ${local.primary.host} ${local.primary.port}\n",
    local.primary.user != "" && local.primary.user != "default" ? "masteruser ${local.quoted.user}\n" : "",
    local.has_password ? "masterauth ${local.quoted.password}\n" : "",
    local.has_password ? "requirepass ${local.quoted.password}\n" : "",
  ])
  quoted = {
    user     = "\"${replace(replace(local.primary.user, "\\", "\\\\"), "\"", "\\\"")}\""
    password = "\"${replace(replace(local.primary.password, "\\", "\\\\"), "\"", "\\\"")}\""
  }

  # What the region's edges get as REDIS_REPLICA_URL: the address of the
  # replica's port, the primary's password (percent-encoded as in REDIS_URL).
  endpoint = "${openstack_networking_port_v2.replica.all_fixed_ips[0]}:${var.port}"
  url      = "redis://${local.has_password ? ":${local.primary.password}@" : ""}${local.endpoint}"

  conf = templatefile("${path.module}/templates/redis-replica.conf.tftpl", {
    region     = var.region
    port       = var.port
    tls        = local.primary.tls
    primary_ca = var.primary_ca != ""
  })
  unit = templatefile("${path.module}/templates/courtmesh-redis-replica.service.tftpl", {
    region = var.region
    tls    = local.primary.tls
  })

  # The boot script of the nodes: with role "redis" it fetches this
  # replica's settings and no mesh certificate.
  fetch_script = file("${path.module}/../nodes/files/fetch-secrets.sh")
}

resource "openstack_networking_secgroup_v2" "replica" {
  region      = var.cloud_region
  name        = local.name
  description = "courtmesh Redis replica of ${var.region}: its port from this region's edges only"
}

resource "openstack_networking_secgroup_rule_v2" "from_edges" {
  region            = var.cloud_region
  security_group_id = openstack_networking_secgroup_v2.replica.id
  description       = "Redis (directory reads) from this region's edges"
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = var.port
  port_range_max    = var.port
  remote_group_id   = var.edge_security_group_id
}

# The replica's address outlives its server: it is in every edge's
# environment.
resource "openstack_networking_port_v2" "replica" {
  region             = var.cloud_region
  name               = local.name
  network_id         = var.network_id
  security_group_ids = [openstack_networking_secgroup_v2.replica.id]

  fixed_ip {
    subnet_id  = var.subnet_id
    ip_address = var.address
  }
}

resource "openstack_keymanager_secret_v1" "conf" {
  region               = var.cloud_region
  name                 = "${local.name}.conf"
  secret_type          = "opaque"
  payload              = local.secret_conf
  payload_content_type = "text/plain"

  lifecycle {
    precondition {
      condition     = can(regex(local.url_pattern, var.redis_url))
      error_message = "redis_url must be redis[s]://[[user]:password@]host[:port][/db] for Terraform to run a replica of it; otherwise give the region's replica in redis_replica_urls."
    }
  }
}

# The replica's only credential: it may read Barbican secrets and nothing
# else (the same rules as the nodes').
resource "openstack_identity_application_credential_v3" "replica" {
  region      = var.cloud_region
  name        = local.name
  description = "courtmesh Redis replica of ${var.region}: read its settings from Barbican at boot"

  access_rules {
    service = "key-manager"
    method  = "GET"
    path    = "/v1/secrets"
  }
  access_rules {
    service = "key-manager"
    method  = "GET"
    path    = "/v1/secrets/*/payload"
  }
}

resource "openstack_compute_instance_v2" "replica" {
  region              = var.cloud_region
  name                = local.name
  image_name          = var.image_name
  flavor_name         = var.flavor
  stop_before_destroy = true
  user_data = templatefile("${path.module}/templates/cloud-init.yaml.tftpl", {
    region          = var.region
    cloud_region    = var.cloud_region
    auth_url        = var.auth_url
    app_cred_id     = openstack_identity_application_credential_v3.replica.id
    app_cred_secret = openstack_identity_application_credential_v3.replica.secret
    fetch_script    = local.fetch_script
    conf            = local.conf
    primary_ca      = var.primary_ca
    unit            = local.unit
  })
  metadata = {
    courtmesh_role   = "redis-replica"
    courtmesh_region = var.region
  }

  network {
    port = openstack_networking_port_v2.replica.id
  }

  # The replica keeps its address, so its replacement cannot overlap with
  # it, and the region's edges read nothing while it is away: a change of
  # its settings waits for a deliberate -replace (README, "Redis replicas").
  lifecycle {
    ignore_changes = [user_data]
  }

  depends_on = [openstack_keymanager_secret_v1.conf]
}
