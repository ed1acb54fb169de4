package cli

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
	"courtmesh/home/judge"
	"courtmesh/home/outbox"
	"courtmesh/home/store"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
	"courtmesh/token"
)

// descRecorder is a Registerer that records the name of every metric
// registered on it, labelled or not, observed or not.
type descRecorder struct {
	mu    sync.Mutex
	names map[string]bool
}

var fqName = regexp.MustCompile(`fqName: "([a-zA-Z0-9_:]+)"`)

func (r *descRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 64)
	go func() { c.Describe(ch); close(ch) }()
	r.mu.Lock()
	defer r.mu.Unlock()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
		}
	}
	return nil
}

func (r *descRecorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

func (r *descRecorder) Unregister(prometheus.Collector) bool { return true }

// dashboardMetric finds the metric names in a PromQL expression.
var dashboardMetric = regexp.MustCompile(`\b(court_[a-z_]+)`)

// TestDashboardMetricsExported: every metric the Grafana dashboard queries
// is registered by an edge, a home (its mesh node included), the outbox
// dispatcher or an edge's directory with a replica, so no panel stays empty
// because of a renamed metric.
func TestDashboardMetricsExported(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../deploy/grafana/courtmesh.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	require.NotEmpty(t, dash.Panels)

	rec := &descRecorder{names: map[string]bool{}}
	ids, err := pki.DevCluster(t.TempDir(),
		pki.Claims{ID: "h1", Role: wire.RoleHome, Region: "us"},
		pki.Claims{ID: "e1", Role: wire.RoleEdge, Region: "us"})
	require.NoError(t, err)
	dir := directory.NewMemory()
	j, err := judge.NewDev(judge.DevConfig{})
	require.NoError(t, err)
	_, err = newHomeRole(homeRoleConfig{NodeID: "h1", Region: "us", Identity: ids["h1"], Directory: dir,
		Store: store.NewMemory(), Judge: j, Registerer: rec})
	require.NoError(t, err)
	_, err = newEdgeRole(edgeRoleConfig{NodeID: "e1", Region: "us", Identity: ids["e1"], Directory: dir,
		Verifier: &token.Verifier{Secret: []byte("s")}, Registerer: rec})
	require.NoError(t, err)
	pool, err := pgxpool.New(t.Context(), "postgres://127.0.0.1:1/none") // connects lazily: never here
	require.NoError(t, err)
	defer pool.Close()
	_, err = outbox.New(outbox.Config{DB: pool, Discard: true, Registerer: rec})
	require.NoError(t, err)

	_, closeDir, err := openRedisDirectory(redistest.URL(), redistest.URL(), 1<<20, nil, rec) // any Redis stands for the replica here
	require.NoError(t, err)
	defer closeDir()

	suffix := regexp.MustCompile(`_(bucket|count|sum)$`)
	var queried []string
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, "panel %q queries nothing", p.Title)
		for _, tg := range p.Targets {
			for _, m := range dashboardMetric.FindAllString(tg.Expr, -1) {
				name := m
				if !rec.names[name] {
					name = suffix.ReplaceAllString(m, "")
				}
				require.True(t, rec.names[name], "panel %q queries %s, which no node exports", p.Title, m)
				queried = append(queried, name)
			}
		}
	}
	for _, want := range []string{"court_edge_sockets", "court_home_sessions", "court_edge_action_seconds",
		"court_mesh_link_up", "court_node_draining", "court_outbox_backlog", "court_directory_replica_down"} {
		require.True(t, slices.Contains(queried, want), "the dashboard shows %s", want)
	}
}
