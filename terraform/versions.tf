terraform {
  required_version = ">= 1.9.0"

  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = "3.4.0"
    }
  }
}

# Credentials come from the environment (OS_CLOUD with clouds.yaml, or
# OS_AUTH_URL and an application credential): never from variables. Every
# resource names its own region, so one provider serves every catalog region
# and a region added to regions/regions.json needs no new provider block.
provider "openstack" {}
