# What the cloud would compute, made known at plan time so the tests can
# assert on it (see override_during in the test files).

mock_resource "openstack_networking_floatingip_v2" {
  defaults = {
    address = "203.0.113.10"
  }
}


mock_resource "openstack_identity_application_credential_v3" {
  defaults = {
    id     = "appcred-id"
    secret = "appcred-secret"
  }
}

mock_resource "openstack_compute_instance_v2" {
  defaults = {
    access_ip_v4 = "10.42.0.100"
  }
}

mock_resource "openstack_keymanager_secret_v1" {
  defaults = {
    secret_ref = "https://barbican.example:9311/v1/secrets/mock"
  }
}

mock_resource "openstack_keymanager_container_v1" {
  defaults = {
    container_ref = "https://barbican.example:9311/v1/containers/mock"
  }
}

mock_data "openstack_compute_availability_zones_v2" {
  defaults = {
    names = ["az-1", "az-2", "az-3"]
  }
}

# A rule names either a group or a CIDR; the other stays empty.
mock_resource "openstack_networking_secgroup_rule_v2" {
  defaults = {
    remote_group_id  = ""
    remote_ip_prefix = ""
  }
}

mock_resource "openstack_lb_loadbalancer_v2" {
  defaults = {
    vip_port_id = "lb-vip-port"
  }
}

# A port gets the fixed address it asks for (the Redis replica's, .60).
mock_resource "openstack_networking_port_v2" {
  defaults = {
    all_fixed_ips = ["10.42.0.60"]
  }
}
