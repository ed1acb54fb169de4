# Clients reach the nearest region: Designate cannot steer by latency or
# location, so Terraform outputs, for the app's one host name, one record per
# region with its latency region (the catalog's cloud_region) and its geo
# hints, plus per-region names in Designate when a zone is given.

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

# Each region's load balancer has its own floating IP.
override_resource {
  target          = module.nodes["us"].openstack_networking_floatingip_v2.lb
  values          = { address = "203.0.113.101" }
  override_during = plan
}
override_resource {
  target          = module.nodes["asia"].openstack_networking_floatingip_v2.lb
  values          = { address = "203.0.113.102" }
  override_during = plan
}
override_resource {
  target          = module.nodes["eu"].openstack_networking_floatingip_v2.lb
  values          = { address = "203.0.113.103" }
  override_during = plan
}

run "nearest_region_records" {
  command = plan

  assert {
    condition     = output.nearest_region_dns.name == "court.example.com." && output.nearest_region_dns.type == "A" && output.nearest_region_dns.default_region == "us"
    error_message = "One steered A record set for the app's host name, falling back to the primary region."
  }
  assert {
    condition = jsonencode({ for r in output.nearest_region_dns.records : r.set_identifier => [r.value, r.latency_region, r.geo_continents] }) == jsonencode({
      asia = ["203.0.113.102", "ap-northeast-1", ["AS", "OC"]]
      eu   = ["203.0.113.103", "eu-central-1", ["EU", "AF"]]
      us   = ["203.0.113.101", "us-east-1", ["NA", "SA"]]
    })
    error_message = "One record per region: its load balancer, its cloud region for latency routing, its continents: ${jsonencode(output.nearest_region_dns.records)}."
  }
  assert {
    condition     = alltrue([for r in output.nearest_region_dns.records : r.health_check.path == "/readyz" && r.health_check.port == 443])
    error_message = "The DNS provider health-checks each region's /readyz through its load balancer."
  }
  assert {
    condition     = output.endpoints["asia"].probe == "curl -fsS --resolve court.example.com:443:203.0.113.102 https://court.example.com:443/readyz"
    error_message = "The endpoint output says how to probe one region: ${output.endpoints["asia"].probe}"
  }
  assert {
    condition     = output.endpoints["asia"].name == null && output.endpoints["asia"].url == "https://203.0.113.102"
    error_message = "Without a Designate zone a region is known by its address."
  }
}

run "designate_names_per_region" {
  command = plan

  variables {
    dns_zone = { id = "zone-1", name = "example.com.", cloud_region = "us-east-1" }
  }

  assert {
    condition     = { for name, e in output.endpoints : name => e.name } == { asia = "asia.example.com.", eu = "eu.example.com.", us = "us.example.com." }
    error_message = "Every region gets <region>.<zone> in Designate: ${jsonencode(output.endpoints)}."
  }
  assert {
    condition     = output.endpoints["eu"].url == "https://eu.example.com"
    error_message = "A region's URL is its Designate name."
  }
  assert {
    condition     = [for r in output.nearest_region_dns.records : r.fallback_target] == ["asia.example.com.", "eu.example.com.", "us.example.com."]
    error_message = "The steering records name each region's Designate name, for providers that steer CNAMEs."
  }
}

run "continent_in_two_regions_refused" {
  command = plan

  variables {
    geo_hints = { us = ["NA"], asia = ["AS", "NA"] }
    dns_zone  = { id = "zone-1", name = "example.com", cloud_region = "us-east-1" }
  }

  expect_failures = [var.geo_hints, var.dns_zone]
}
