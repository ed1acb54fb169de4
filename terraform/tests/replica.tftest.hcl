# The edges of every region but the primary read the directory from a Redis
# replica in their own region (REDIS_REPLICA_URL): Terraform runs one there,
# replicating the primary with its password and TLS, reachable from that
# region's edges only; an operator's URL (redis_replica_urls) wins over it,
# "" leaves a region on the primary, and a URL for a region the catalog does
# not have is refused.

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

# Edge groups with ids, so the replica's rule shows whose group it admits.
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

# eu's replica port reports another address than asia's (the mock's
# 10.42.0.60), so the edges' URLs tell the two replicas apart.
override_resource {
  target          = module.redis_replica["eu"].openstack_networking_port_v2.replica
  values          = { all_fixed_ips = ["10.42.0.61"] }
  override_during = plan
}

run "replica_in_every_region_but_the_primary" {
  command = plan

  assert {
    condition     = { for name, r in output.redis_replicas : name => r.reads } == { us = "primary", asia = "terraform", eu = "terraform" }
    error_message = "asia and eu (not the primary) get a replica, us (the primary) none: ${jsonencode(output.redis_replicas)}."
  }
  assert {
    condition = { for name, d in output.redis_replica_details : name => "${d.name} in ${d.cloud_region}, ${d.image}, ${d.flavor}" } == {
      asia = "courtmesh-asia-redis in ap-northeast-1, debian-12, m1.small"
      eu   = "courtmesh-eu-redis in eu-central-1, debian-12, m1.small"
    }
    error_message = "One replica server in each non-primary region's own cloud region, none in us: ${jsonencode(output.redis_replica_details)}."
  }
  assert {
    condition     = output.redis_replica_details["asia"].ingress_rules == [{ protocol = "tcp", ports = [6379, 6379], from = "group:sg-asia-edge" }] && output.redis_replica_details["eu"].ingress_rules == [{ protocol = "tcp", ports = [6379, 6379], from = "group:sg-eu-edge" }]
    error_message = "A replica's port admits its own region's edge group and nothing else: ${jsonencode({ for n, d in output.redis_replica_details : n => d.ingress_rules })}."
  }
  assert {
    condition     = alltrue([for d in values(output.redis_replica_details) : d.replication == { replicaof = "redis.example:6380", masterauth = true, requirepass = true }])
    error_message = "A replica replicates the primary of redis_url with its password and asks its clients for it: ${jsonencode({ for n, d in output.redis_replica_details : n => d.replication })}."
  }
  assert {
    condition = alltrue(flatten([
      for d in values(output.redis_replica_details) : [
        for line in ["tls-replication yes", "tls-ca-cert-dir /etc/ssl/certs", "replica-read-only yes", "save \"\"", "appendonly no", "include /run/courtmesh/redis.conf", "port 6379"] :
        strcontains(d.redis_conf, line)
      ]
    ]))
    error_message = "A replica of a rediss:// primary replicates over TLS, keeps nothing on disk and reads its secrets from Barbican: ${output.redis_replica_details["asia"].redis_conf}"
  }
  assert {
    condition = alltrue([
      for d in values(output.redis_replica_details) :
      strcontains(d.unit, "ExecStart=/usr/bin/redis-server /etc/courtmesh/redis-replica.conf") && strcontains(d.unit, "After=network-online.target courtmesh-secrets.service") && strcontains(d.unit, "openssl req -x509") && d.graceful
    ])
    error_message = "A replica runs redis-server under systemd once its settings are fetched: ${output.redis_replica_details["asia"].unit}"
  }
  assert {
    condition     = !anytrue([for d in values(output.redis_replica_details) : strcontains(d.redis_conf, "pw") || strcontains(d.unit, "pw") || strcontains(d.redis_conf, "masterauth ")])
    error_message = "The primary's password comes from Barbican at boot, never from the replica's config or unit."
  }
  assert {
    condition     = output.redis_replica_details["asia"].barbican_secret == "courtmesh-asia-redis.conf"
    error_message = "asia's replica reads its settings from courtmesh-asia-redis.conf (what fetch-secrets redis fetches)."
  }
  assert {
    condition     = output.redis_replicas["asia"].primary_admits == "198.51.100.2/32" && output.redis_replicas["eu"].primary_admits == "198.51.100.3/32" && output.redis_replicas["us"].primary_admits == null
    error_message = "The primary must admit each replica from its region's router address: ${jsonencode(output.redis_replicas)}."
  }
}

run "edges_read_their_own_regions_replica" {
  command = plan

  assert {
    condition     = output.edge_environment["asia"].REDIS_REPLICA_URL == "redis://***@10.42.0.60:6379" && output.edge_environment["eu"].REDIS_REPLICA_URL == "redis://***@10.42.0.61:6379"
    error_message = "Each region's edges read their own region's replica: ${jsonencode(output.edge_environment)}."
  }
  assert {
    condition     = output.redis_replicas["asia"].endpoint == "10.42.0.60:6379" && output.redis_replicas["eu"].endpoint == "10.42.0.61:6379" && output.redis_replicas["us"].endpoint == ""
    error_message = "The replica endpoints per region: ${jsonencode(output.redis_replicas)}."
  }
  assert {
    condition     = !contains(keys(output.edge_environment["us"]), "REDIS_REPLICA_URL")
    error_message = "The primary region's edges read the primary: ${jsonencode(output.edge_environment["us"])}."
  }
  assert {
    condition     = alltrue([for env in values(output.edge_environment) : env.REDIS_URL == "rediss://***@redis.example:6380" && env.SUPABASE_JWT_SECRET == "***"])
    error_message = "Every edge still writes to the primary: ${jsonencode(output.edge_environment)}."
  }
  assert {
    condition     = strcontains(output.systemd_units["edge-asia-1-v1.4.0"], "Redis replica at 10.42.0.60:6379") && !strcontains(output.systemd_units["edge-us-1-v1.4.0"], "replica")
    error_message = "An asia edge's unit names the replica it reads (a new replica rolls the region's edges); a us edge's none."
  }
}

run "override_wins" {
  command = plan

  variables {
    redis_replica_urls = {
      asia = "rediss://:cachepw@asia.cache.example:6380"
      eu   = ""
    }
  }

  assert {
    condition     = { for name, r in output.redis_replicas : name => r.reads } == { us = "primary", asia = "override", eu = "primary" }
    error_message = "asia reads the operator's replica, eu (\"\") the primary: ${jsonencode(output.redis_replicas)}."
  }
  assert {
    condition     = output.redis_replica_details == {}
    error_message = "Terraform runs no replica where redis_replica_urls names the region: ${jsonencode(keys(output.redis_replica_details))}."
  }
  assert {
    condition     = output.edge_environment["asia"].REDIS_REPLICA_URL == "rediss://***@asia.cache.example:6380" && output.redis_replicas["asia"].endpoint == "asia.cache.example:6380"
    error_message = "asia's edges read the operator's URL: ${jsonencode(output.edge_environment["asia"])}."
  }
  assert {
    condition     = !contains(keys(output.edge_environment["eu"]), "REDIS_REPLICA_URL") && !contains(keys(output.edge_environment["us"]), "REDIS_REPLICA_URL")
    error_message = "eu (\"\") and us read the primary."
  }
}

run "plain_primary_plain_replica" {
  command = plan

  variables {
    redis_url     = "redis://redis.internal"
    redis_replica = { primary_ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", port = 6390 }
  }

  assert {
    condition     = output.redis_replica_details["asia"].replication == { replicaof = "redis.internal:6379", masterauth = false, requirepass = false }
    error_message = "A primary without password: the replica authenticates nowhere: ${jsonencode(output.redis_replica_details["asia"].replication)}."
  }
  assert {
    condition     = !strcontains(output.redis_replica_details["asia"].redis_conf, "tls-") && strcontains(output.redis_replica_details["asia"].redis_conf, "port 6390")
    error_message = "A redis:// primary is replicated without TLS: ${output.redis_replica_details["asia"].redis_conf}"
  }
  assert {
    condition     = output.edge_environment["asia"].REDIS_REPLICA_URL == "redis://10.42.0.60:6390"
    error_message = "The edges' URL carries no password when the primary has none: ${output.edge_environment["asia"].REDIS_REPLICA_URL}."
  }
}

run "primary_ca_verifies_a_tls_primary" {
  command = plan

  variables {
    redis_replica = { primary_ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" }
  }

  assert {
    condition     = strcontains(output.redis_replica_details["asia"].redis_conf, "tls-ca-cert-file /etc/courtmesh/redis-primary-ca.pem") && !strcontains(output.redis_replica_details["asia"].redis_conf, "tls-ca-cert-dir")
    error_message = "With primary_ca the replica verifies the primary with that CA only: ${output.redis_replica_details["asia"].redis_conf}"
  }
}

run "no_replicas" {
  command = plan

  variables {
    redis_replica = { create = false }
  }

  assert {
    condition     = output.redis_replica_details == {} && alltrue([for r in values(output.redis_replicas) : r.reads == "primary" && r.endpoint == ""])
    error_message = "create = false runs no replica and every edge reads the primary: ${jsonencode(output.redis_replicas)}."
  }
  assert {
    condition     = alltrue([for env in values(output.edge_environment) : !contains(keys(env), "REDIS_REPLICA_URL")])
    error_message = "Without replicas no edge gets REDIS_REPLICA_URL."
  }
}

run "unknown_region_in_replica_urls_refused" {
  command = plan

  variables {
    redis_replica_urls = { mars = "redis://cache.mars.example:6379" }
  }

  expect_failures = [var.redis_replica_urls]
}

run "malformed_replica_url_refused" {
  command = plan

  variables {
    redis_replica_urls = { asia = "https://asia.cache.example" }
  }

  expect_failures = [var.redis_replica_urls]
}

run "percent_encoded_password_refused_for_a_replica" {
  command = plan

  variables {
    redis_url = "rediss://:p%40ss@redis.example:6380"
  }

  expect_failures = [var.redis_url]
}

run "percent_encoded_password_with_operator_replicas" {
  command = plan

  variables {
    redis_url          = "rediss://:p%40ss@redis.example:6380"
    redis_replica_urls = { asia = "rediss://:p%40ss@asia.cache.example:6380", eu = "" }
  }

  assert {
    condition     = output.edge_environment["asia"].REDIS_REPLICA_URL == "rediss://***@asia.cache.example:6380"
    error_message = "Without a replica of Terraform's, a percent-encoded password is the edges' business (rueidis decodes it)."
  }
}
