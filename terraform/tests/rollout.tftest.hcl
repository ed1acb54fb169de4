# Rollouts go region by region, and inside a region node by node: the version
# is a per-region map with a canary per region, and a change to one region
# leaves every other region's nodes exactly as they were. Bad rollout inputs
# are refused by variable validation before anything is planned.

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

override_resource {
  target          = module.network["us"].terraform_data.egress
  values          = { output = [{ ip_address = "198.51.100.1" }] }
  override_during = plan
}
override_resource {
  target          = module.network["asia"].terraform_data.egress
  values          = { output = [{ ip_address = "198.51.100.2" }] }
  override_during = plan
}
override_resource {
  target          = module.network["eu"].terraform_data.egress
  values          = { output = [{ ip_address = "198.51.100.3" }] }
  override_during = plan
}

run "baseline_everything_on_one_version" {
  command = plan

  assert {
    condition     = toset(values(output.node_versions)) == toset(["1.4.0"])
    error_message = "Every node runs courtd_version: ${jsonencode(output.node_versions)}."
  }
  assert {
    condition     = toset(values(output.node_images)) == toset(["courtmesh-1.4.0"])
    error_message = "Every node boots the image of its version: ${jsonencode(output.node_images)}."
  }
}

run "asia_edge_canary" {
  command = plan

  variables {
    canary = { asia = { version = "1.5.0" } }
  }

  assert {
    condition     = output.node_versions["edge-asia-1-v1.5.0"] == "1.5.0" && output.node_images["edge-asia-1-v1.5.0"] == "courtmesh-1.5.0"
    error_message = "The canary is asia's first edge, on 1.5.0."
  }
  assert {
    condition     = [for id, v in output.node_versions : id if v == "1.5.0"] == ["edge-asia-1-v1.5.0"]
    error_message = "Only the canary moves: ${jsonencode(output.node_versions)}."
  }
  assert {
    condition     = { for id, u in output.systemd_units : id => u if !startswith(id, "edge-asia-1-") } == { for id, u in run.baseline_everything_on_one_version.systemd_units : id => u if !startswith(id, "edge-asia-1-") }
    error_message = "Every other node keeps its unit, so it is not replaced."
  }
}

run "roll_asia" {
  command = plan

  variables {
    region_versions = { asia = "1.5.0" }
  }

  assert {
    condition     = output.regions["asia"].edges == ["edge-asia-1-v1.5.0", "edge-asia-2-v1.5.0"] && output.regions["asia"].version == "1.5.0"
    error_message = "Every asia edge runs 1.5.0 under a new node id: ${jsonencode(output.regions["asia"])}."
  }
  assert {
    condition     = { for id, u in output.systemd_units : id => u if !startswith(id, "edge-asia-") } == { for id, u in run.baseline_everything_on_one_version.systemd_units : id => u if !startswith(id, "edge-asia-") }
    error_message = "Rolling asia must not touch us or eu."
  }
  assert {
    condition     = { for id, i in output.node_images : id => i if !startswith(id, "edge-asia-") } == { for id, i in run.baseline_everything_on_one_version.node_images : id => i if !startswith(id, "edge-asia-") }
    error_message = "Rolling asia must not change another region's images."
  }
}

run "roll_us_homes_one_at_a_time" {
  command = plan

  variables {
    region_versions = { asia = "1.5.0" }
    canary          = { us = { version = "1.5.0", edges = 0, homes = 1 } }
  }

  assert {
    condition     = output.node_versions["home-us-1"] == "1.5.0" && output.node_versions["home-us-2"] == "1.4.0"
    error_message = "homes = 1 moves the first us home only."
  }
  assert {
    condition     = output.regions["us"].homes == ["home-us-1", "home-us-2"]
    error_message = "A home keeps its node id (and its mesh address) across versions."
  }
  assert {
    condition     = { for id, u in output.systemd_units : id => u if !startswith(id, "home-us-1") } == { for id, u in run.roll_asia.systemd_units : id => u if !startswith(id, "home-us-1") }
    error_message = "Only home-us-1 changes; the edges keep dialing the same homes."
  }
}

run "unknown_region_in_version_map_refused" {
  command = plan

  variables {
    region_versions = { mars = "1.5.0" }
    canary          = { atlantis = { version = "1.5.0" } }
  }

  expect_failures = [var.region_versions, var.canary]
}

run "malformed_versions_refused" {
  command = plan

  variables {
    courtd_version  = "latest"
    region_versions = { asia = "v1.5" }
  }

  expect_failures = [var.courtd_version, var.region_versions]
}
