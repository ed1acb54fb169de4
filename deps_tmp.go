package deps
import (
 _ "github.com/quic-go/quic-go"
 _ "github.com/gorilla/websocket"
 _ "github.com/redis/rueidis"
 _ "github.com/jackc/pgx/v5"
 _ "github.com/spf13/cobra"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "github.com/stretchr/testify/require"
 _ "go.uber.org/goleak"
 _ "golang.org/x/sync/errgroup"
)
