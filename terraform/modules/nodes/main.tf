# One region's nodes: the secrets in the region's Barbican, the edges behind
# a TLS load balancer whose health check is /readyz, and the homes on their
# fixed ports. Every node runs courtd under systemd from cloud-init; SIGTERM
# drains it, and stop_before_destroy makes Nova stop the server gracefully
# (ACPI shutdown, so systemd sends that SIGTERM) before deleting it.

locals {
  name = "courtmesh-${var.region}"

  # systemd waits this long after SIGTERM before it kills: longer than the
  # drain window, so a drain always finishes.
  stop_timeout = var.drain_window_seconds + 15

  zones = sort(data.openstack_compute_availability_zones_v2.zones.names)

  edges = { for e in var.edges : tostring(e.slot) => e }
  homes = { for h in var.homes : tostring(h.slot) => h }

  # What an edge of this region dials: homes of its own region at their
  # private address, the others at their floating IP.
  home_flags = [
    for h in var.mesh_homes :
    "${h.region}:${h.node_id}@${h.region == var.region ? h.private_ip : h.public_ip}:${h.mesh_port}"
  ]

  edge_units = {
    for k, e in local.edges : k => templatefile("${path.module}/templates/courtd-edge.service.tftpl", {
      node_id      = e.node_id
      version      = e.version
      region       = var.region
      edge_port    = var.edge_port
      ops_port     = var.ops_port
      homes        = local.home_flags
      home_policy  = var.home_policy
      replica      = var.redis_replica_endpoint
      drain_window = var.drain_window_seconds
      stop_timeout = local.stop_timeout
    })
  }
  home_units = {
    for k, h in local.homes : k => templatefile("${path.module}/templates/courtd-home.service.tftpl", {
      node_id   = h.node_id
      version   = h.version
      region    = var.region
      mesh_port = var.mesh_port
      ops_port  = var.ops_port
      # systemd expands % in ExecStart; URLs may hold percent-encoding.
      judge        = merge(var.judge, { url = replace(var.judge.url, "%", "%%"), endpoint = replace(var.judge.endpoint, "%", "%%") })
      webhook_url  = replace(var.webhook_url, "%", "%%")
      retention    = var.retention
      drain_window = var.drain_window_seconds
      stop_timeout = local.stop_timeout
    })
  }

  # EnvironmentFile lines, quoted for systemd.
  edge_env = merge(
    {
      SUPABASE_JWT_SECRET = var.supabase_jwt_secret
      REDIS_URL           = var.redis_url
      COURT_REDIS_PREFIX  = var.redis_prefix
    },
    var.redis_replica_endpoint == "" ? {} : { REDIS_REPLICA_URL = var.redis_replica_url },
  )
  home_env = merge(
    {
      REDIS_URL          = var.redis_url
      DATABASE_URL       = var.database_url
      COURT_REDIS_PREFIX = var.redis_prefix
    },
    var.judge_api_key == "" ? {} : { COURT_JUDGE_API_KEY = var.judge_api_key },
    var.webhook_secret == "" ? {} : { COURT_WEBHOOK_SECRET = var.webhook_secret },
  )
  env_file = {
    edge = join("", [for k, v in local.edge_env : "${k}=\"${replace(replace(v, "\\", "\\\\"), "\"", "\\\"")}\"\n"])
    home = join("", [for k, v in local.home_env : "${k}=\"${replace(replace(v, "\\", "\\\\"), "\"", "\\\"")}\"\n"])
  }

  fetch_script = file("${path.module}/files/fetch-secrets.sh")
}

data "openstack_compute_availability_zones_v2" "zones" {
  region = var.cloud_region
  state  = "available"
}

# --- secrets ---------------------------------------------------------------

resource "openstack_keymanager_secret_v1" "env" {
  for_each = length(var.homes) > 0 ? toset(["edge", "home"]) : toset(["edge"])

  region               = var.cloud_region
  name                 = "${local.name}-${each.key}.env"
  secret_type          = "opaque"
  payload              = local.env_file[each.key]
  payload_content_type = "text/plain"
}

resource "openstack_keymanager_secret_v1" "tls_certificate" {
  region               = var.cloud_region
  name                 = "${local.name}-lb-certificate"
  secret_type          = "certificate"
  payload              = var.tls_certificate
  payload_content_type = "text/plain"
}

resource "openstack_keymanager_secret_v1" "tls_private_key" {
  region               = var.cloud_region
  name                 = "${local.name}-lb-private-key"
  secret_type          = "private"
  payload              = var.tls_private_key
  payload_content_type = "text/plain"
}

resource "openstack_keymanager_secret_v1" "tls_intermediates" {
  count = nonsensitive(var.tls_intermediates != "") ? 1 : 0

  region               = var.cloud_region
  name                 = "${local.name}-lb-intermediates"
  secret_type          = "certificate"
  payload              = var.tls_intermediates
  payload_content_type = "text/plain"
}

resource "openstack_keymanager_container_v1" "tls" {
  region = var.cloud_region
  name   = "${local.name}-lb-tls"
  type   = "certificate"

  secret_refs {
    name       = "certificate"
    secret_ref = openstack_keymanager_secret_v1.tls_certificate.secret_ref
  }
  secret_refs {
    name       = "private_key"
    secret_ref = openstack_keymanager_secret_v1.tls_private_key.secret_ref
  }
  dynamic "secret_refs" {
    for_each = openstack_keymanager_secret_v1.tls_intermediates
    content {
      name       = "intermediates"
      secret_ref = secret_refs.value.secret_ref
    }
  }
}

# The nodes' only credential: it may read Barbican secrets and nothing else.
resource "openstack_identity_application_credential_v3" "nodes" {
  region      = var.cloud_region
  name        = "${local.name}-nodes"
  description = "courtmesh nodes of ${var.region}: read their secrets from Barbican at boot"

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

# --- servers ---------------------------------------------------------------

resource "openstack_compute_servergroup_v2" "edges" {
  region   = var.cloud_region
  name     = "${local.name}-edges"
  policies = ["soft-anti-affinity"]
}

resource "openstack_compute_servergroup_v2" "homes" {
  count = length(var.homes) > 0 ? 1 : 0

  region   = var.cloud_region
  name     = "${local.name}-homes"
  policies = ["soft-anti-affinity"]
}

resource "openstack_compute_instance_v2" "edge" {
  for_each = local.edges

  region              = var.cloud_region
  name                = each.value.node_id
  image_name          = format(var.image_name_format, each.value.version)
  flavor_name         = var.flavors.edge
  availability_zone   = length(local.zones) > 0 ? local.zones[(each.value.slot - 1) % length(local.zones)] : null
  security_groups     = [var.edge_security_group_name]
  stop_before_destroy = true
  user_data = templatefile("${path.module}/templates/cloud-init.yaml.tftpl", {
    role            = "edge"
    node_id         = each.value.node_id
    region          = var.region
    cloud_region    = var.cloud_region
    auth_url        = var.auth_url
    app_cred_id     = openstack_identity_application_credential_v3.nodes.id
    app_cred_secret = openstack_identity_application_credential_v3.nodes.secret
    fetch_script    = local.fetch_script
    unit            = local.edge_units[each.key]
  })
  metadata = {
    courtmesh_role    = "edge"
    courtmesh_region  = var.region
    courtmesh_node_id = each.value.node_id
    courtd_version    = each.value.version
  }

  network {
    uuid = var.network_id
  }

  scheduler_hints {
    group = openstack_compute_servergroup_v2.edges.id
  }

  # The new edge is up and in the pool before the old one drains and goes.
  lifecycle {
    create_before_destroy = true
  }
}

# A home keeps its node id and its port for life, so it cannot overlap with
# its replacement: it is stopped (and drained) first, and the region's other
# homes hold its sessions meanwhile. Roll homes one at a time (see canary).
resource "openstack_compute_instance_v2" "home" {
  for_each = local.homes

  region              = var.cloud_region
  name                = each.value.node_id
  image_name          = format(var.image_name_format, each.value.version)
  flavor_name         = var.flavors.home
  availability_zone   = length(local.zones) > 0 ? local.zones[(each.value.slot - 1) % length(local.zones)] : null
  stop_before_destroy = true
  user_data = templatefile("${path.module}/templates/cloud-init.yaml.tftpl", {
    role            = "home"
    node_id         = each.value.node_id
    region          = var.region
    cloud_region    = var.cloud_region
    auth_url        = var.auth_url
    app_cred_id     = openstack_identity_application_credential_v3.nodes.id
    app_cred_secret = openstack_identity_application_credential_v3.nodes.secret
    fetch_script    = local.fetch_script
    unit            = local.home_units[each.key]
  })
  metadata = {
    courtmesh_role    = "home"
    courtmesh_region  = var.region
    courtmesh_node_id = each.value.node_id
    courtd_version    = each.value.version
  }

  network {
    port = each.value.port_id
  }

  scheduler_hints {
    group = openstack_compute_servergroup_v2.homes[0].id
  }

  # A setting in the homes' unit (judge, webhook, retention) would otherwise
  # replace every home of the region at once. It takes effect when a home is
  # next replaced: by a version step, or one by one with -replace.
  lifecycle {
    ignore_changes = [user_data]
  }
}

# --- load balancer -----------------------------------------------------------

resource "openstack_lb_loadbalancer_v2" "edges" {
  region        = var.cloud_region
  name          = "${local.name}-edges"
  description   = "courtmesh ${var.region}: the app's URL in this region"
  vip_subnet_id = var.lb_subnet_id
}

resource "openstack_lb_listener_v2" "client" {
  region                    = var.cloud_region
  name                      = "${local.name}-client"
  loadbalancer_id           = openstack_lb_loadbalancer_v2.edges.id
  protocol                  = "TERMINATED_HTTPS"
  protocol_port             = var.public_port
  default_tls_container_ref = openstack_keymanager_container_v1.tls.container_ref

  # WebSockets live for hours; the edges ping every 25 s.
  timeout_client_data = 3600000
  timeout_member_data = 3600000
  insert_headers = {
    X-Forwarded-For   = "true"
    X-Forwarded-Proto = "true"
  }
}

resource "openstack_lb_pool_v2" "edges" {
  region      = var.cloud_region
  name        = "${local.name}-edges"
  listener_id = openstack_lb_listener_v2.client.id
  protocol    = "HTTP"
  lb_method   = "LEAST_CONNECTIONS"
}

resource "openstack_lb_monitor_v2" "readyz" {
  region           = var.cloud_region
  name             = "${local.name}-readyz"
  pool_id          = openstack_lb_pool_v2.edges.id
  type             = "HTTP"
  http_method      = "GET"
  url_path         = "/readyz"
  expected_codes   = "200"
  delay            = 2
  timeout          = 2
  max_retries      = 2
  max_retries_down = 2
}

# No subnet_id: the load balancer reaches the edges from its own (VIP)
# subnet through the router, the only source the edges' client port admits.
resource "openstack_lb_member_v2" "edge" {
  for_each = local.edges

  region        = var.cloud_region
  name          = openstack_compute_instance_v2.edge[each.key].name
  pool_id       = openstack_lb_pool_v2.edges.id
  address       = openstack_compute_instance_v2.edge[each.key].access_ip_v4
  protocol_port = var.edge_port

  lifecycle {
    create_before_destroy = true
  }
}

# Terraform waits until the load balancer sees a new edge ONLINE (its /readyz
# passes) before it removes the member and the server it replaces, so a
# rollout never lowers the number of serving edges. The wait runs where
# terraform runs, with the openstack CLI and the same credentials; if the
# edge never gets ready, the apply fails with the old edge still serving.
resource "terraform_data" "edge_ready" {
  for_each = local.edges

  triggers_replace = openstack_lb_member_v2.edge[each.key].id

  provisioner "local-exec" {
    interpreter = ["/bin/sh", "-c"]
    command     = <<-EOT
      i=0
      while [ "$i" -lt "$TRIES" ]; do
        s=$(openstack --os-region-name "$CLOUD_REGION" loadbalancer member show "$POOL" "$MEMBER" -f value -c operating_status) && [ "$s" = ONLINE ] && exit 0
        i=$((i + 1))
        sleep 5
      done
      echo "edge $NODE: not ONLINE behind the load balancer (/readyz) after $((TRIES * 5)) s (last status: $s)" >&2
      exit 1
    EOT
    environment = {
      CLOUD_REGION = var.cloud_region
      POOL         = openstack_lb_pool_v2.edges.id
      MEMBER       = openstack_lb_member_v2.edge[each.key].id
      NODE         = each.value.node_id
      TRIES        = ceil(var.edge_ready_timeout_seconds / 5)
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "openstack_networking_floatingip_v2" "lb" {
  region      = var.cloud_region
  pool        = var.external_network
  port_id     = openstack_lb_loadbalancer_v2.edges.vip_port_id
  description = "courtmesh ${var.region}: the app's address in this region"
}

# <region>.<zone> in Designate, when a zone is given: the per-region name the
# steering records at the DNS provider point to (and that tests dial).
resource "openstack_dns_recordset_v2" "region" {
  count = var.dns_zone == null ? 0 : 1

  region  = var.dns_zone.cloud_region
  zone_id = var.dns_zone.id
  name    = "${var.region}.${var.dns_zone.name}"
  type    = "A"
  ttl     = 60
  records = [openstack_networking_floatingip_v2.lb.address]
}
