// Command zishang is the comparison server for docs/framing.md: the court
// events the load generator drives (register, serve, accept, dismiss), served
// by the Go Socket.IO library github.com/zishang520/socket.io instead of
// courtmesh's own Engine.IO/Socket.IO framing. It keeps no court state beyond
// who served whom; it exists only to measure the library's framing.
package main

import (
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"time"

	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3201", "listen address")
	flag.Parse()
	secret := os.Getenv("SUPABASE_JWT_SECRET")
	if secret == "" {
		slog.Error("SUPABASE_JWT_SECRET is not set")
		os.Exit(2)
	}
	if err := run(*addr, []byte(secret)); err != nil {
		slog.Error("zishang server", "err", err)
		os.Exit(1)
	}
}

func run(addr string, secret []byte) error {
	opts := socket.DefaultServerOptions()
	opts.SetTransports(types.NewSet(engine.WebSocket))
	opts.SetPingInterval(25 * time.Second)
	opts.SetPingTimeout(20 * time.Second)
	opts.SetMaxHttpBufferSize(1e6)
	opts.SetServeClient(false)
	io := socket.NewServer(nil, opts)
	io.Use(authMiddleware(secret))
	c := newCourt(io)
	if err := io.On("connection", func(args ...any) {
		if s, ok := args[0].(*socket.Socket); ok {
			c.attach(s)
		}
	}); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(opts))
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	slog.Info("zishang socket.io server listening", "addr", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// authMiddleware rejects a CONNECT whose auth.token is not a valid HS256
// token signed with secret; the user id (sub) is kept as the socket's data.
func authMiddleware(secret []byte) socket.NamespaceMiddleware {
	return func(s *socket.Socket, next func(*socket.ExtendedError)) {
		tok, _ := s.Handshake().Auth["token"].(string)
		sub, err := verify(secret, tok, time.Now())
		if err != nil {
			next(socket.NewExtendedError("Unauthorized", nil))
			return
		}
		s.SetData(sub)
		next(nil)
	}
}
