package courtmesh_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/edge"
	"courtmesh/home"
	"courtmesh/home/judge"
	"courtmesh/home/outbox"
	"courtmesh/home/store"
	"courtmesh/home/store/pgtest"
	"courtmesh/lifecycle"
	"courtmesh/mesh"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
	"courtmesh/token"
)

// role is what package lifecycle asks of every long-running role.
type role interface {
	Run(ctx context.Context) error
	Shutdown(ctx context.Context) error
	Close() error
	Ready() <-chan struct{}
}

// TestEveryRoleKeepsTheLifecycleContract holds the edge, the home, the mesh
// node and the outbox dispatcher to package lifecycle's contract: a second
// Run fails with ErrRunTwice, Shutdown ends Run, Close waits for Run and is
// idempotent, and Run after Close fails with ErrClosed.
func TestEveryRoleKeepsTheLifecycleContract(t *testing.T) {
	t.Parallel()
	roles := map[string]func(t *testing.T) role{
		"edge":   newEdge,
		"home":   newHome,
		"mesh":   newMeshNode,
		"outbox": newOutbox,
	}
	for name, build := range roles {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := build(t)
			done := make(chan error, 1)
			go func() { done <- r.Run(t.Context()) }()
			select {
			case <-r.Ready():
			case err := <-done:
				t.Fatalf("Run returned before Ready: %v", err)
			}
			require.ErrorIs(t, r.Run(t.Context()), lifecycle.ErrRunTwice, "a second Run")
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			require.NoError(t, r.Shutdown(ctx))
			requireReturned(t, done, "Shutdown")
			require.NoError(t, r.Close())
			require.NoError(t, r.Close())
			require.ErrorIs(t, r.Run(t.Context()), lifecycle.ErrRunTwice, "Run after Run")

			fresh := build(t)
			require.NoError(t, fresh.Close(), "Close without Run")
			require.ErrorIs(t, fresh.Run(t.Context()), lifecycle.ErrClosed, "Run after Close")

			again := build(t)
			go func() { done <- again.Run(t.Context()) }()
			<-again.Ready()
			require.NoError(t, again.Close())
			requireReturned(t, done, "Close")
		})
	}
}

// requireReturned checks that Run returned nil by the time step returned
// (its result reaches done a moment after).
func requireReturned(t *testing.T, done <-chan error, step string) {
	t.Helper()
	select {
	case err := <-done:
		require.NoError(t, err, "Run after %s", step)
	case <-time.After(time.Second):
		t.Fatalf("Run still running after %s returned", step)
	}
}

// nullMesh is a mesh that reaches nobody.
type nullMesh struct{}

func (nullMesh) Request(context.Context, string, *wire.Request) (*wire.Response, error) {
	return nil, &wire.Error{Code: wire.CodeUnavailable, Reason: "no mesh in this test"}
}
func (nullMesh) HomeNodes(string) []string           { return nil }
func (nullMesh) SendEvent(string, *wire.Event) error { return nil }
func (nullMesh) TakesStateDocs(string) bool          { return false }
func (nullMesh) TakesDocAcks(string) bool            { return false }
func (nullMesh) Edges() []string                     { return nil }

func newEdge(t *testing.T) role {
	s, err := edge.New(edge.Config{NodeID: "edge-us-1", Region: "us", Addr: "127.0.0.1:0",
		Verifier:  &token.Verifier{Secret: []byte("0123456789abcdef0123456789abcdef")},
		Directory: directory.NewMemory(), Mesh: nullMesh{}})
	require.NoError(t, err)
	return s
}

func newHome(t *testing.T) role {
	j, err := judge.NewDev(judge.DevConfig{})
	require.NoError(t, err)
	s, err := home.New(home.Config{NodeID: "home-us-1", Region: "us", Directory: directory.NewMemory(),
		Store: store.NewMemory(), Judge: j, Mesh: nullMesh{}})
	require.NoError(t, err)
	return s
}

func newMeshNode(t *testing.T) role {
	ids, err := pki.DevCluster(t.TempDir(), pki.Claims{ID: "home-us-1", Role: wire.RoleHome, Region: "us"})
	require.NoError(t, err)
	n, err := mesh.New(mesh.Config{Region: "us", Role: wire.RoleHome, ListenAddr: "127.0.0.1:0",
		Identity: ids["home-us-1"], Handler: nullHandler{}})
	require.NoError(t, err)
	return n
}

type nullHandler struct{}

func (nullHandler) HandleRequest(context.Context, mesh.PeerInfo, *wire.Request) (*wire.Response, error) {
	return nil, &wire.Error{Code: wire.CodeBadFrame, Reason: "none"}
}
func (nullHandler) HandleEvent(mesh.PeerInfo, *wire.Event) {}

func newOutbox(t *testing.T) role {
	d, err := outbox.New(outbox.Config{DB: pgtest.Pool(t)})
	require.NoError(t, err)
	return d
}
