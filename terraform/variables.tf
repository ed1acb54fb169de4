# Inputs of the courtmesh rollout. The regions themselves (names, cloud
# regions, ports, which may host homes) come from the region catalog, never
# from here: see main.tf.

variable "catalog_path" {
  description = "Path of the region catalog (regions/regions.json); tests point it at a test catalog."
  type        = string
  default     = "../regions/regions.json"

  validation {
    condition     = can(jsondecode(file(var.catalog_path)).regions[0].name)
    error_message = "catalog_path must name a region catalog (JSON with a non-empty \"regions\" list), like regions/regions.json."
  }
}

# --- versions and rollout -------------------------------------------------

variable "courtd_version" {
  description = "The courtd release every region runs unless region_versions says otherwise (the image is format(image_name_format, version))."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.]+)?$", var.courtd_version))
    error_message = "courtd_version must be a release version like 1.4.0 or 1.5.0-rc.1."
  }
}

variable "region_versions" {
  description = "Per-region courtd release, by catalog region name: a rollout moves one region at a time (e.g. { asia = \"1.5.0\" }, then us). Regions not listed run courtd_version."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for name in keys(var.region_versions) :
      contains([for r in jsondecode(file(var.catalog_path)).regions : r.name], name)
    ])
    error_message = "region_versions names a region that is not in the region catalog."
  }
  validation {
    condition = alltrue([
      for v in values(var.region_versions) :
      can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.]+)?$", v))
    ])
    error_message = "Every version in region_versions must be a release version like 1.4.0 or 1.5.0-rc.1."
  }
}

variable "canary" {
  description = "Per-region canary: the first `edges` edges and the first `homes` homes of the region run `version` ahead of the region's version. Raise homes one by one to roll homes node by node."
  type = map(object({
    version = string
    edges   = optional(number, 1)
    homes   = optional(number, 0)
  }))
  default = {}

  validation {
    condition = alltrue([
      for name in keys(var.canary) :
      contains([for r in jsondecode(file(var.catalog_path)).regions : r.name], name)
    ])
    error_message = "canary names a region that is not in the region catalog."
  }
  validation {
    condition = alltrue([
      for c in values(var.canary) :
      can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.]+)?$", c.version)) && c.edges >= 0 && c.homes >= 0 && floor(c.edges) == c.edges && floor(c.homes) == c.homes
    ])
    error_message = "A canary needs a release version like 1.5.0 and whole, non-negative edge and home counts."
  }
}

variable "image_name_format" {
  description = "Glance image name of a courtd release, as a format string of the version. The image carries courtd, courtctl, curl and jq (see README)."
  type        = string
  default     = "courtmesh-%s"

  validation {
    condition     = length(regexall("%s", var.image_name_format)) == 1
    error_message = "image_name_format must contain exactly one %s (the version)."
  }
}

# --- sizes and placement ---------------------------------------------------

variable "edge_count" {
  description = "Edges per region (spread over the region's availability zones)."
  type        = number
  default     = 2

  validation {
    condition     = var.edge_count >= 1 && var.edge_count <= 50 && floor(var.edge_count) == var.edge_count
    error_message = "edge_count must be a whole number from 1 to 50."
  }
}

variable "home_count" {
  description = "Homes per home region. At least two, so a home that stops has its sessions taken over in its region."
  type        = number
  default     = 2

  validation {
    condition     = var.home_count >= 2 && var.home_count <= 50 && floor(var.home_count) == var.home_count
    error_message = "home_count must be a whole number from 2 to 50: a region with one home loses its sessions while that home restarts."
  }
}

variable "region_sizes" {
  description = "Per-region overrides of edge_count and home_count, by catalog region name."
  type = map(object({
    edges = optional(number)
    homes = optional(number)
  }))
  default = {}

  validation {
    condition = alltrue([
      for name in keys(var.region_sizes) :
      contains([for r in jsondecode(file(var.catalog_path)).regions : r.name], name)
    ])
    error_message = "region_sizes names a region that is not in the region catalog."
  }
  validation {
    condition = alltrue([
      for s in values(var.region_sizes) :
      (s.edges == null ? true : s.edges >= 1 && s.edges <= 50) && (s.homes == null ? true : s.homes >= 2 && s.homes <= 50)
    ])
    error_message = "region_sizes: edges must be 1 to 50 and homes 2 to 50."
  }
}

variable "flavors" {
  description = "Nova flavors of the two roles."
  type = object({
    edge = string
    home = string
  })
  default = {
    edge = "m1.medium"
    home = "m1.large"
  }
}

variable "external_network" {
  description = "Name of the external (floating IP) network, the same in every region unless external_networks overrides it."
  type        = string
  default     = "public"
}

variable "external_networks" {
  description = "Per-region external network names, by catalog region name."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for name in keys(var.external_networks) :
      contains([for r in jsondecode(file(var.catalog_path)).regions : r.name], name)
    ])
    error_message = "external_networks names a region that is not in the region catalog."
  }
}

variable "node_cidr" {
  description = "Subnet of the nodes in every region (regions are separate networks; they talk over public addresses)."
  type        = string
  default     = "10.42.0.0/24"

  validation {
    condition     = can(cidrhost(var.node_cidr, 250)) && endswith(var.node_cidr, "/24")
    error_message = "node_cidr must be an IPv4 /24 (homes take .10 to .59, the Redis replica .60, edges .100 to .250)."
  }
}

variable "lb_cidr" {
  description = "Subnet of the load balancer's VIP in every region. Edges accept the client port from this subnet only."
  type        = string
  default     = "10.42.1.0/24"

  validation {
    condition     = can(cidrhost(var.lb_cidr, 1))
    error_message = "lb_cidr must be an IPv4 CIDR."
  }
}

variable "dns_nameservers" {
  description = "Resolvers handed to the nodes by DHCP."
  type        = list(string)
  default     = []
}

# --- ports and access ------------------------------------------------------

variable "public_port" {
  description = "Port of the load balancer's TLS listener: the one URL of the app (https)."
  type        = number
  default     = 443
}

variable "ops_port" {
  description = "Port of /metrics, /healthz, /readyz and /debug/pprof (courtd --ops-addr) on every node."
  type        = number
  default     = 9100

  validation {
    condition     = var.ops_port >= 1024 && var.ops_port <= 65535
    error_message = "ops_port must be from 1024 to 65535."
  }
}

variable "admin_port" {
  description = "Port of the operators' admin listener (courtctl drain/status), opened like the ops port."
  type        = number
  default     = 9443

  validation {
    condition     = var.admin_port >= 1024 && var.admin_port <= 65535
    error_message = "admin_port must be from 1024 to 65535."
  }
  validation {
    condition = var.admin_port != var.ops_port && alltrue([
      for r in jsondecode(file(var.catalog_path)).regions :
      !contains([r.edge_port, r.mesh_port], var.admin_port) && !contains([r.edge_port, r.mesh_port], var.ops_port)
    ])
    error_message = "ops_port and admin_port must differ from each other and from every edge_port and mesh_port of the catalog."
  }
}

variable "operator_cidrs" {
  description = "Networks of the operators and of Prometheus: the only sources allowed on the ops and admin ports. Never the world."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.operator_cidrs : can(cidrhost(c, 0))])
    error_message = "operator_cidrs must hold CIDRs like 192.0.2.0/24."
  }
  validation {
    condition     = alltrue([for c in var.operator_cidrs : tonumber(split("/", c)[1]) >= 8])
    error_message = "operator_cidrs may not open the ops and admin ports to the world (0.0.0.0/0) or any network wider than a /8."
  }
}

# --- courtd behaviour ------------------------------------------------------

variable "drain_window_seconds" {
  description = "How long a node drains on SIGTERM. systemd waits longer (TimeoutStopSec = drain window + 15 s) before it kills."
  type        = number
  default     = 30

  validation {
    condition     = var.drain_window_seconds >= 5 && var.drain_window_seconds <= 600
    error_message = "drain_window_seconds must be from 5 to 600."
  }
}

variable "edge_ready_timeout_seconds" {
  description = "How long an apply waits for a new edge to be ONLINE behind its load balancer (/readyz) before it removes the edge it replaces."
  type        = number
  default     = 300

  validation {
    condition     = var.edge_ready_timeout_seconds >= 30 && var.edge_ready_timeout_seconds <= 3600
    error_message = "edge_ready_timeout_seconds must be from 30 to 3600."
  }
}

variable "home_policy" {
  description = "courtd edge --home-policy: primary, or creator (the home region nearest the creating edge)."
  type        = string
  default     = "primary"

  validation {
    condition     = contains(["primary", "creator"], var.home_policy)
    error_message = "home_policy must be primary or creator."
  }
}

variable "judge" {
  description = "courtd home --judge settings, required (no default, as courtd home has none): mode http (url), openai (endpoint; key in judge_api_key) or dev (canned verdicts, for test deployments only)."
  type = object({
    mode     = string
    url      = optional(string, "")
    endpoint = optional(string, "")
  })

  validation {
    condition     = contains(["dev", "http", "openai"], var.judge.mode)
    error_message = "judge.mode must be dev, http or openai."
  }
  validation {
    condition     = var.judge.mode != "http" || startswith(var.judge.url, "http")
    error_message = "judge.mode http needs judge.url (the judge service's base URL)."
  }
}

variable "retention" {
  description = "courtd home --retention: how long transitions of ended sessions and delivered outbox rows are kept (30d, 36h; at least 1h), 0 for ever."
  type        = string
  default     = "30d"

  validation {
    condition     = can(regex("^(0|[0-9]+d|[0-9]+h)$", var.retention))
    error_message = "retention must be whole days or hours, like 30d or 36h, or 0 to keep rows for ever."
  }
}

variable "webhook_url" {
  description = "courtd home --webhook: where the outbox POSTs side effects, signed with webhook_secret; none discards them; empty holds them pending (with a warning)."
  type        = string
  default     = ""
}

variable "redis_prefix" {
  description = "COURT_REDIS_PREFIX of every node."
  type        = string
  default     = "court:"
}

# --- secrets (sensitive: they go to Barbican, never into user data) --------

variable "auth_url" {
  description = "Keystone URL the nodes authenticate against at boot to read their secrets from Barbican."
  type        = string

  validation {
    condition     = startswith(var.auth_url, "https://")
    error_message = "auth_url must be the https URL of Keystone (v3)."
  }
}

variable "supabase_jwt_secret" {
  description = "SUPABASE_JWT_SECRET (HS256) the edges verify client tokens with."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.supabase_jwt_secret) >= 32
    error_message = "supabase_jwt_secret must be the project's JWT secret (at least 32 characters)."
  }
}

variable "redis_url" {
  description = "REDIS_URL of the primary Redis (rediss:// with its password), an input: Terraform does not run the primary (it runs the regions' replicas of it, see redis_replica)."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^rediss?://", var.redis_url))
    error_message = "redis_url must be a redis:// or rediss:// URL."
  }
  # A replica Terraform runs takes the primary's user and password into its
  # redis.conf as they are, and Terraform cannot decode a URL.
  validation {
    condition = !strcontains(try(regex("^rediss?://([^@/]*)@", var.redis_url)[0], ""), "%") || !var.redis_replica.create || alltrue([
      for r in jsondecode(file(var.catalog_path)).regions :
      r.name == jsondecode(file(var.catalog_path)).primary || contains(keys(var.redis_replica_urls), r.name)
    ])
    error_message = "redis_url's user or password is percent-encoded, which the Redis replicas Terraform runs cannot use: choose a password of characters a URL carries as they are, or give every non-primary region's replica in redis_replica_urls (or redis_replica.create = false)."
  }
}

variable "redis_replica" {
  description = "The Redis replica Terraform runs in every region but the catalog's primary, whose edges read the directory there (REDIS_REPLICA_URL): its server's image (cloud-init and systemd; redis-server >= 7.0, openssl, curl and jq are installed at boot when missing) and flavor, its port, and the PEM CA that verifies a rediss:// primary (empty: the image's system CAs). create = false runs none: regions then use redis_replica_urls or read the primary."
  type = object({
    create     = optional(bool, true)
    image      = optional(string, "debian-12")
    flavor     = optional(string, "m1.small")
    port       = optional(number, 6379)
    primary_ca = optional(string, "")
  })
  default = {}

  validation {
    condition     = var.redis_replica.port >= 1 && var.redis_replica.port <= 65535 && floor(var.redis_replica.port) == var.redis_replica.port
    error_message = "redis_replica.port must be a port number from 1 to 65535."
  }
  validation {
    condition     = var.redis_replica.primary_ca == "" || startswith(trimspace(var.redis_replica.primary_ca), "-----BEGIN CERTIFICATE-----")
    error_message = "redis_replica.primary_ca must be empty or a PEM certificate."
  }
}

variable "redis_replica_urls" {
  description = "Per-region REDIS_REPLICA_URL, by catalog region name, instead of the replica Terraform would run there: a managed Redis's read replica in that region (redis:// or rediss://, with its password), or \"\" for none (the region's edges read the primary). Regions not listed get Terraform's replica (redis_replica), the primary region none."
  type        = map(string)
  default     = {}
  sensitive   = true

  validation {
    condition = alltrue([
      for name in keys(var.redis_replica_urls) :
      contains([for r in jsondecode(file(var.catalog_path)).regions : r.name], name)
    ])
    error_message = "redis_replica_urls names a region that is not in the region catalog."
  }
  validation {
    condition     = alltrue([for u in values(var.redis_replica_urls) : u == "" || can(regex("^rediss?://[^/?#]+", u))])
    error_message = "Every URL in redis_replica_urls must be a redis:// or rediss:// URL, or \"\" for no replica."
  }
}

variable "database_url" {
  description = "DATABASE_URL of the Supabase Postgres (the homes' only database), an input: Terraform does not run Postgres."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^postgres(ql)?://", var.database_url))
    error_message = "database_url must be a postgres:// URL."
  }
}

variable "judge_api_key" {
  description = "COURT_JUDGE_API_KEY for judge.mode openai (empty otherwise)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "webhook_secret" {
  description = "COURT_WEBHOOK_SECRET, whsec_<base64>: the Standard Webhooks key that signs the outbox's POSTs; required with a webhook_url."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = var.webhook_secret == "" || can(regex("^whsec_[A-Za-z0-9+/]{32,}={0,2}$", var.webhook_secret))
    error_message = "webhook_secret must be whsec_<base64> of at least 24 bytes."
  }
}

variable "tls_certificate" {
  description = "PEM certificate of public_hostname that the load balancers serve (stored in Barbican)."
  type        = string
  sensitive   = true

  validation {
    condition     = startswith(trimspace(var.tls_certificate), "-----BEGIN CERTIFICATE-----")
    error_message = "tls_certificate must be a PEM certificate."
  }
}

variable "tls_private_key" {
  description = "PEM private key of tls_certificate (stored in Barbican)."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^-----BEGIN [A-Z ]*PRIVATE KEY-----", trimspace(var.tls_private_key)))
    error_message = "tls_private_key must be a PEM private key."
  }
}

variable "tls_intermediates" {
  description = "PEM intermediate certificates of tls_certificate, if any."
  type        = string
  default     = ""
  sensitive   = true
}

# --- nearest-region DNS ----------------------------------------------------

variable "public_hostname" {
  description = "The app's one host name (court.example.com): a latency or geo record set at a DNS provider that can steer (see README)."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.public_hostname))
    error_message = "public_hostname must be a lower-case DNS name like court.example.com."
  }
}

variable "dns_zone" {
  description = "Optional Designate zone for the per-region names (<region>.<zone>): its id, its name with the trailing dot, and the cloud region of the Designate that holds it."
  type = object({
    id           = string
    name         = string
    cloud_region = string
  })
  default = null

  validation {
    condition     = var.dns_zone == null || endswith(try(var.dns_zone.name, ""), ".")
    error_message = "dns_zone.name must be the zone's name with its trailing dot, like example.com."
  }
}

variable "geo_hints" {
  description = "Per-region continent codes (AF AN AS EU NA OC SA) for geo DNS, by catalog region name. A region without hints is served by latency records only."
  type        = map(list(string))
  default = {
    us   = ["NA", "SA"]
    eu   = ["EU", "AF"]
    asia = ["AS", "OC"]
  }

  validation {
    condition = alltrue(flatten([
      for codes in values(var.geo_hints) : [for c in codes : contains(["AF", "AN", "AS", "EU", "NA", "OC", "SA"], c)]
    ]))
    error_message = "geo_hints holds continent codes: AF, AN, AS, EU, NA, OC, SA."
  }
  validation {
    condition     = length(flatten(values(var.geo_hints))) == length(distinct(flatten(values(var.geo_hints))))
    error_message = "geo_hints gives a continent to two regions: each continent steers to one region."
  }
}
