# The catalog is the one source of regions: a catalog with a fourth region
# (tests/catalog-four-regions.json, adding sa) adds that region's network,
# nodes, load balancer, Redis replica and mesh rule, and leaves every
# existing node and replica as it was. A catalog that cannot be read is refused.

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
override_resource {
  target          = module.network["sa"].terraform_data.egress
  values          = { output = [{ ip_address = "198.51.100.4" }] }
  override_during = plan
}

run "three_catalog_regions" {
  command = plan

  assert {
    condition     = sort(keys(output.regions)) == sort(["asia", "eu", "us"])
    error_message = "regions/regions.json has three regions."
  }
}

run "four_region_catalog_adds_exactly_its_region" {
  command = plan

  variables {
    catalog_path = "tests/catalog-four-regions.json"
  }

  assert {
    condition     = sort(keys(output.regions)) == sort(["asia", "eu", "sa", "us"]) && output.regions["sa"].cloud_region == "sa-east-1"
    error_message = "The fourth catalog region is planned, in its cloud region."
  }
  assert {
    condition     = output.regions["sa"].edges == ["edge-sa-1-v1.4.0", "edge-sa-2-v1.4.0"] && output.regions["sa"].homes == []
    error_message = "sa (home: false) gets an edge group and no home."
  }
  assert {
    condition     = output.load_balancers["sa"].members == { "edge-sa-1-v1.4.0" = "10.42.0.100:8083", "edge-sa-2-v1.4.0" = "10.42.0.100:8083" }
    error_message = "sa's load balancer sends to its edges on the catalog's edge_port 8083."
  }
  assert {
    condition     = { for id, u in output.systemd_units : id => u if !startswith(id, "edge-sa-") } == run.three_catalog_regions.systemd_units
    error_message = "No existing node changes when a region is added."
  }
  assert {
    condition     = { for name, rules in output.ingress_rules : name => rules if name != "sa" } == run.three_catalog_regions.ingress_rules
    error_message = "No existing security group rule changes when a region is added."
  }
  assert {
    condition     = setsubtract(output.mesh_cross_region_rules, run.three_catalog_regions.mesh_cross_region_rules) == toset(["us<-sa"]) && length(setsubtract(run.three_catalog_regions.mesh_cross_region_rules, output.mesh_cross_region_rules)) == 0
    error_message = "The only new mesh rule lets sa's nodes reach the us homes: ${jsonencode(output.mesh_cross_region_rules)}."
  }
  assert {
    condition     = output.redis_replicas["sa"].reads == "terraform" && { for name, d in output.redis_replica_details : name => d if name != "sa" } == run.three_catalog_regions.redis_replica_details
    error_message = "sa gets its own Redis replica and the other replicas stay as they were: ${jsonencode(keys(output.redis_replica_details))}."
  }
  assert {
    condition     = openstack_networking_secgroup_rule_v2.mesh_cross_region["us<-sa"].remote_ip_prefix == "198.51.100.4/32"
    error_message = "sa's nodes reach the us mesh port from sa's egress address only."
  }
}

run "missing_catalog_refused" {
  command = plan

  variables {
    catalog_path = "tests/no-such-catalog.json"
  }

  expect_failures = [var.catalog_path]
}
