// Package regions owns the region catalog: the names of the regions, which of
// them may host home nodes, their default ports, and the round-trip-time
// matrix between them. regions.json is the one source for node config, the WAN
// simulator (mesh/meshtest) and the Terraform in terraform/.
package regions

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

//go:embed regions.json
var catalogJSON []byte

// Region is one entry of the catalog.
type Region struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Home reports whether home nodes (session owners) may run here.
	Home bool `json:"home"`
	// CloudRegion is the provider region Terraform deploys this region into.
	CloudRegion string `json:"cloud_region"`
	// EdgePort and MeshPort are the default listen ports of this region's
	// nodes in `courtd dev` and in the Terraform module.
	EdgePort int `json:"edge_port"`
	MeshPort int `json:"mesh_port"`
}

type rttEntry struct {
	A  string `json:"a"`
	B  string `json:"b"`
	MS int    `json:"ms"`
}

// Catalog is the validated region catalog.
type Catalog struct {
	Primary          string     `json:"primary"`
	Regions          []Region   `json:"regions"`
	RTTs             []rttEntry `json:"rtt_ms"`
	IntraRegionRTTMS int        `json:"intra_region_rtt_ms"`

	byName map[string]Region
	rtt    map[[2]string]time.Duration
}

// Default returns the catalog embedded from regions.json. It panics if the
// embedded file is invalid, which TestDefaultCatalogValid rules out.
func Default() *Catalog {
	c, err := Parse(catalogJSON)
	if err != nil {
		panic(fmt.Sprintf("regions: embedded catalog: %v", err))
	}
	return c
}

// Parse decodes and validates a catalog.
func Parse(data []byte) (*Catalog, error) {
	var c Catalog
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("regions: decode catalog: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Catalog) validate() error {
	if len(c.Regions) == 0 {
		return errors.New("regions: catalog has no regions")
	}
	c.byName = make(map[string]Region, len(c.Regions))
	for _, r := range c.Regions {
		if r.Name == "" {
			return errors.New("regions: region with empty name")
		}
		if _, dup := c.byName[r.Name]; dup {
			return fmt.Errorf("regions: duplicate region %q", r.Name)
		}
		c.byName[r.Name] = r
	}
	p, ok := c.byName[c.Primary]
	if !ok {
		return fmt.Errorf("regions: primary region %q is not in the catalog", c.Primary)
	}
	if !p.Home {
		return fmt.Errorf("regions: primary region %q may not host homes", c.Primary)
	}
	if c.IntraRegionRTTMS < 0 {
		return errors.New("regions: negative intra-region RTT")
	}
	c.rtt = make(map[[2]string]time.Duration)
	for _, e := range c.RTTs {
		if _, ok := c.byName[e.A]; !ok {
			return fmt.Errorf("regions: RTT names unknown region %q", e.A)
		}
		if _, ok := c.byName[e.B]; !ok {
			return fmt.Errorf("regions: RTT names unknown region %q", e.B)
		}
		if e.A == e.B {
			return fmt.Errorf("regions: RTT entry %s-%s pairs a region with itself", e.A, e.B)
		}
		if e.MS <= 0 {
			return fmt.Errorf("regions: RTT %s-%s must be positive", e.A, e.B)
		}
		k := pairKey(e.A, e.B)
		if _, dup := c.rtt[k]; dup {
			return fmt.Errorf("regions: duplicate RTT entry %s-%s", e.A, e.B)
		}
		c.rtt[k] = time.Duration(e.MS) * time.Millisecond
	}
	for i, a := range c.Regions {
		for _, b := range c.Regions[i+1:] {
			if _, ok := c.rtt[pairKey(a.Name, b.Name)]; !ok {
				return fmt.Errorf("regions: no RTT between %s and %s", a.Name, b.Name)
			}
		}
	}
	return nil
}

func pairKey(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// Lookup returns the named region.
func (c *Catalog) Lookup(name string) (Region, bool) {
	r, ok := c.byName[name]
	return r, ok
}

// Names returns the region names in catalog order.
func (c *Catalog) Names() []string {
	names := make([]string, len(c.Regions))
	for i, r := range c.Regions {
		names[i] = r.Name
	}
	return names
}

// RTT returns the round-trip time between two regions: the intra-region RTT
// when a == b. Unknown regions return 0 and false.
func (c *Catalog) RTT(a, b string) (time.Duration, bool) {
	if _, ok := c.byName[a]; !ok {
		return 0, false
	}
	if _, ok := c.byName[b]; !ok {
		return 0, false
	}
	if a == b {
		return time.Duration(c.IntraRegionRTTMS) * time.Millisecond, true
	}
	d, ok := c.rtt[pairKey(a, b)]
	return d, ok
}

// NearestHome returns the home-capable region with the lowest RTT from
// region from (from itself when it may host homes). Ties go to the primary.
func (c *Catalog) NearestHome(from string) (string, bool) {
	if r, ok := c.byName[from]; !ok {
		return "", false
	} else if r.Home {
		return from, true
	}
	best, bestRTT := c.Primary, time.Duration(-1)
	for _, r := range c.Regions {
		if !r.Home {
			continue
		}
		d, _ := c.RTT(from, r.Name)
		if bestRTT < 0 || d < bestRTT || (d == bestRTT && r.Name == c.Primary) {
			best, bestRTT = r.Name, d
		}
	}
	return best, true
}
