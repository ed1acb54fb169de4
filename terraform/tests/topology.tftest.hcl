# The topology planned from regions/regions.json (us with homes, asia and eu
# edges only), checked against the cloud resources themselves: one edge group
# per catalog region, homes only where the catalog allows them, the mesh port
# open only to courtmesh nodes, the client port only through the load
# balancer, the ops and admin ports never to the world.

mock_provider "openstack" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  judge               = { mode = "http", url = "http://judge.internal:8090" }
  courtd_version      = "1.4.0"
  auth_url            = "https://keystone.example:5000/v3"
  supabase_jwt_secret = "0123456789abcdef0123456789abcdef"
  redis_url           = "rediss://:pw@redis.example:6380"
  database_url        = "postgres://court:pw@db.example:5432/postgres"
  tls_certificate     = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
  tls_private_key     = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
  public_hostname     = "court.example.com"
}

# Each region's nodes leave through their own router address.
override_resource {
  target = module.network["us"].terraform_data.egress
  values = { output = [{ ip_address = "198.51.100.1" }] }

  override_during = plan
}
override_resource {
  target = module.network["asia"].terraform_data.egress
  values = { output = [{ ip_address = "198.51.100.2" }] }

  override_during = plan
}
override_resource {
  target = module.network["eu"].terraform_data.egress
  values = { output = [{ ip_address = "198.51.100.3" }] }

  override_during = plan
}

# Security groups with ids, so the rules can be told apart by their groups.
override_resource {
  target          = module.network["us"].openstack_networking_secgroup_v2.edge
  values          = { id = "sg-us-edge" }
  override_during = plan
}
override_resource {
  target          = module.network["us"].openstack_networking_secgroup_v2.home
  values          = { id = "sg-us-home" }
  override_during = plan
}
override_resource {
  target          = module.network["asia"].openstack_networking_secgroup_v2.edge
  values          = { id = "sg-asia-edge" }
  override_during = plan
}
override_resource {
  target          = module.network["eu"].openstack_networking_secgroup_v2.edge
  values          = { id = "sg-eu-edge" }
  override_during = plan
}

run "one_edge_group_per_catalog_region" {
  command = plan

  assert {
    condition     = sort(keys(output.regions)) == sort([for r in jsondecode(file("../regions/regions.json")).regions : r.name])
    error_message = "Want one region per catalog entry, got ${jsonencode(keys(output.regions))}."
  }
  assert {
    condition     = { for name, r in output.regions : name => r.cloud_region } == { us = "us-east-1", asia = "ap-northeast-1", eu = "eu-central-1" }
    error_message = "The catalog's cloud_region names must be the cloud's regions."
  }
  assert {
    condition     = output.regions["asia"].edges == ["edge-asia-1-v1.4.0", "edge-asia-2-v1.4.0"]
    error_message = "asia's edge group: ${jsonencode(output.regions["asia"].edges)}."
  }
  assert {
    condition = output.load_balancers["asia"].members == {
      "edge-asia-1-v1.4.0" = "10.42.0.100:8081"
      "edge-asia-2-v1.4.0" = "10.42.0.100:8081"
    }
    error_message = "asia's load balancer must send to its two edges on the catalog's edge_port 8081: ${jsonencode(output.load_balancers["asia"].members)}."
  }
  assert {
    condition     = alltrue([for name, lb in output.load_balancers : length(lb.members) == length(output.regions[name].edges)])
    error_message = "Every edge of a region must be a member of its load balancer."
  }
  assert {
    condition     = alltrue([for lb in values(output.load_balancers) : lb.ready_gates == sort(keys(lb.members))])
    error_message = "Every edge must have a readiness gate, so its predecessor leaves only once it is ONLINE."
  }
  assert {
    condition     = output.zones["edge-us-1-v1.4.0"] != output.zones["edge-us-2-v1.4.0"] && output.zones["home-us-1"] != output.zones["home-us-2"]
    error_message = "The nodes of a role must be spread over availability zones: ${jsonencode(output.zones)}."
  }
  assert {
    condition     = length(flatten([for rules in values(output.ingress_rules) : [for r in rules : r if contains([var.ops_port, var.admin_port], r.ports[0])]])) == 0
    error_message = "Without operator_cidrs, nothing may reach the ops and admin ports."
  }
}

run "homes_only_in_home_regions" {
  command = plan

  assert {
    condition     = output.regions["us"].homes == ["home-us-1", "home-us-2"]
    error_message = "us (home: true) must run two homes: ${jsonencode(output.regions["us"].homes)}."
  }
  assert {
    condition     = output.regions["asia"].homes == [] && output.regions["eu"].homes == []
    error_message = "asia and eu (home: false) must run no home."
  }
  assert {
    condition     = length([for id in keys(output.systemd_units) : id if startswith(id, "home-") && !startswith(id, "home-us-")]) == 0
    error_message = "A home unit outside us."
  }
  assert {
    condition     = alltrue([for r in concat(output.ingress_rules["asia"], output.ingress_rules["eu"]) : r.group == "edge"])
    error_message = "Regions without homes must have no home security group rules."
  }
  assert {
    condition     = output.barbican_env_secrets == { us = ["courtmesh-us-edge.env", "courtmesh-us-home.env"], asia = ["courtmesh-asia-edge.env"], eu = ["courtmesh-eu-edge.env"] }
    error_message = "Only home regions hold the homes' environment (DATABASE_URL): ${jsonencode(output.barbican_env_secrets)}."
  }
  assert {
    condition     = output.mesh_cross_region_rules == ["us<-asia", "us<-eu"]
    error_message = "Only us homes accept mesh traffic from other regions: ${jsonencode(output.mesh_cross_region_rules)}."
  }
}

run "mesh_port_only_from_node_groups" {
  command = plan

  assert {
    condition     = toset([for r in output.ingress_rules["us"] : r.from if r.protocol == "udp"]) == toset(["group:edge", "group:home"])
    error_message = "In us the mesh port must admit exactly the edge and home groups: ${jsonencode(output.ingress_rules["us"])}."
  }
  assert {
    condition     = alltrue([for r in output.ingress_rules["us"] : r.group == "home" && r.ports == [7000, 7000] if r.protocol == "udp"])
    error_message = "UDP is open only on the homes' mesh port (7000 for us)."
  }
  assert {
    condition = {
      for k, r in openstack_networking_secgroup_rule_v2.mesh_cross_region : k => "${r.region} ${r.protocol} ${r.port_range_min}-${r.port_range_max} from ${r.remote_ip_prefix}"
      } == {
      "us<-asia" = "us-east-1 udp 7000-7000 from 198.51.100.2/32"
      "us<-eu"   = "us-east-1 udp 7000-7000 from 198.51.100.3/32"
    }
    error_message = "Other regions may reach the us mesh port only from their nodes' egress address (/32)."
  }
  assert {
    condition = alltrue(flatten([
      for rules in values(output.ingress_rules) : [for r in rules : !contains(["cidr:0.0.0.0/0", "cidr:::/0"], r.from)]
    ]))
    error_message = "No rule may admit the world."
  }
}

run "client_port_only_through_load_balancer" {
  command = plan

  assert {
    condition = alltrue([
      for name, rules in output.ingress_rules :
      [for r in rules : "${r.group} ${r.protocol} from ${r.from}" if r.ports[0] == jsondecode(file("../regions/regions.json")).regions[index(jsondecode(file("../regions/regions.json")).regions[*].name, name)].edge_port] == ["edge tcp from cidr:10.42.1.0/24"]
    ])
    error_message = "In every region the edges' client port must admit the load balancer's subnet (10.42.1.0/24) and nothing else."
  }
  assert {
    condition = alltrue([
      for lb in values(output.load_balancers) :
      lb.listener_protocol == "TERMINATED_HTTPS" && lb.listener_port == 443 && lb.tls_container && lb.pool_protocol == "HTTP" && lb.floating_ip_on == "vip"
    ])
    error_message = "Clients must enter through a TLS listener on 443 (certificate from Barbican) at the VIP's floating IP: ${jsonencode(output.load_balancers)}."
  }
  assert {
    condition     = alltrue([for lb in values(output.load_balancers) : lb.monitor == "HTTP GET /readyz"])
    error_message = "The load balancer must check the edges' /readyz."
  }
}

run "ops_and_admin_ports_only_from_operators" {
  command = plan

  variables {
    operator_cidrs = ["192.0.2.0/24"]
  }

  assert {
    condition = jsonencode({
      for name, rules in output.ingress_rules : name => sort([for r in rules : "${r.group}:${r.ports[0]} from ${r.from}" if contains([9100, 9443], r.ports[0])])
      }) == jsonencode({
      us   = ["edge:9100 from cidr:192.0.2.0/24", "edge:9443 from cidr:192.0.2.0/24", "home:9100 from cidr:192.0.2.0/24", "home:9443 from cidr:192.0.2.0/24"]
      asia = ["edge:9100 from cidr:192.0.2.0/24", "edge:9443 from cidr:192.0.2.0/24"]
      eu   = ["edge:9100 from cidr:192.0.2.0/24", "edge:9443 from cidr:192.0.2.0/24"]
    })
    error_message = "The ops and admin ports must be open to the operators' network only: ${jsonencode(output.ingress_rules)}."
  }
}

run "ops_port_for_the_world_refused" {
  command = plan

  variables {
    operator_cidrs = ["192.0.2.0/24", "0.0.0.0/0"]
  }

  expect_failures = [var.operator_cidrs]
}

run "nodes_drain_before_they_stop" {
  command = plan

  variables {
    drain_window_seconds = 60
  }

  assert {
    condition     = alltrue(values(output.graceful_stop))
    error_message = "Nova must stop every node gracefully (SIGTERM, a drain) before deleting it."
  }
  assert {
    condition = alltrue([
      for u in values(output.systemd_units) :
      strcontains(u, "KillSignal=SIGTERM") && strcontains(u, "Restart=on-failure") && tonumber(regex("TimeoutStopSec=([0-9]+)s", u)[0]) > 60
    ])
    error_message = "Every unit must stop with SIGTERM, wait longer than the 60 s drain window, and restart on failure."
  }
  assert {
    condition = alltrue([
      for flag in ["courtd edge", "--node-id edge-asia-1-v1.4.0", "--region asia", "--addr 0.0.0.0:8081", "--ops-addr 0.0.0.0:9100", "--tls-dir /run/courtmesh/tls", "--home us:home-us-1@203.0.113.10:7000", "--home us:home-us-2@203.0.113.10:7000"] :
      strcontains(output.systemd_units["edge-asia-1-v1.4.0"], flag)
    ])
    error_message = "An asia edge serves the catalog's edge port and dials the us homes at their floating IPs: ${output.systemd_units["edge-asia-1-v1.4.0"]}"
  }
  assert {
    condition     = strcontains(output.systemd_units["edge-us-2-v1.4.0"], "--home us:home-us-1@10.42.0.10:7000")
    error_message = "A us edge dials the us homes at their private addresses."
  }
  assert {
    condition = alltrue([
      for flag in ["courtd home", "--node-id home-us-2", "--region us", "--mesh-addr 0.0.0.0:7000", "--retention 30d", "ExecStartPre=/usr/local/bin/courtd migrate", "EnvironmentFile=-/run/courtmesh/env", "After=network-online.target courtmesh-secrets.service"] :
      strcontains(output.systemd_units["home-us-2"], flag)
    ])
    error_message = "A us home listens on the catalog's mesh port: ${output.systemd_units["home-us-2"]}"
  }
  assert {
    condition     = !anytrue([for u in values(output.systemd_units) : strcontains(u, "rediss://") || strcontains(u, "postgres://") || strcontains(u, "0123456789abcdef")])
    error_message = "No secret may appear in a unit: they come from Barbican at boot."
  }
}

run "homes_sign_their_webhook" {
  command = plan

  variables {
    webhook_url    = "https://hooks.example.com/court"
    webhook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
  }

  assert {
    condition = alltrue([
      for flag in ["--webhook https://hooks.example.com/court", "--judge http", "--judge-url http://judge.internal:8090"] :
      strcontains(output.systemd_units["home-us-1"], flag)
    ])
    error_message = "A home POSTs to the webhook and calls the judge it is given: ${output.systemd_units["home-us-1"]}"
  }
  assert {
    condition     = !anytrue([for u in values(output.systemd_units) : strcontains(u, "whsec_")])
    error_message = "The webhook secret comes from Barbican at boot, never from a unit."
  }
}
