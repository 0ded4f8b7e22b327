package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/transport"
)

// Config configures a Mesh. New copies it; the zero value of every
// optional field is the documented default.
type Config struct {
	// NodeID is this node's ID (required).
	NodeID string

	// Secret enables hmac_sha3_512; TLS (a bundle from auth.LoadBundle)
	// enables TLS. At least one is required.
	Secret []byte
	TLS    *auth.Bundle

	// AuthAccept and Framings are the greeting's lists, AuthOffer the
	// methods this node may send (see package transport/handshake).
	// Default framings: goframe1, cbor, json.
	AuthAccept []string
	AuthOffer  []string
	Framings   []string

	// SecretTLS asks Go peers for secret-keyed TLS (relay-proof and
	// encrypted with a Secret alone); RequireTLS refuses links that would
	// not run inside TLS. See handshake.Config.
	SecretTLS, RequireTLS bool

	// HandshakeTimeout bounds one handshake (default 10s). MaxHandshakes
	// bounds the incoming handshakes in flight (default 64); more
	// connections wait in the accept queue.
	HandshakeTimeout time.Duration
	MaxHandshakes    int

	// Backend selects the transport for plain TCP links: "", "std" or
	// "netpoll" ("" is the transport's default).
	Backend string

	// MaxFrame is the largest message in bytes, sent or received (default
	// DefaultMaxFrame); MaxDepth the deepest JSON/CBOR nesting taken (0:
	// the framings' default, 512). SendBuffer sets SO_SNDBUF (0: the
	// system's).
	MaxFrame   int
	MaxDepth   int
	SendBuffer int

	// MaxQueue bounds the bytes queued for one peer: messages waiting for
	// its link to come up, then those committed and not yet written
	// (default DefaultMaxQueue). Past it Commit fails with ErrQueueFull;
	// the link is not torn down.
	MaxQueue int

	// KeepAlive, if positive, probes every link that has sent nothing for
	// that long with a node request every node answers (["","time",
	// <this node>,""], answered with ["","",<time>], which is ignored);
	// a link that has received nothing for KeepAliveTimeout (default
	// 3·KeepAlive) while its reader was reading is closed with
	// "keepalive timeout".
	KeepAlive        time.Duration
	KeepAliveTimeout time.Duration

	// Compress, if positive, s2-compresses messages larger than this many
	// bytes on goframe1 links to peers that announce they take it.
	Compress int

	// OrderPerPort lets small messages overtake queued ones for other
	// ports of a Go peer (the transport's Express, with the destination
	// key passed to Commit).
	OrderPerPort bool

	// Binds are the listen endpoints; Nodes the known addresses of other
	// nodes; Seeds the seed endpoints (spec §4.8).
	Binds []string
	Nodes map[string][]string
	Seeds []string

	// ConnectTimeout bounds an on-demand connection attempt (default
	// 5s). MonitorTimeout caps the back-off of seed reconnects and kept
	// links (default 30s).
	ConnectTimeout time.Duration
	MonitorTimeout time.Duration

	// Logger receives the mesh's records (default slog.Default()).
	Logger *slog.Logger

	// Events receives the link events (required).
	Events Events

	// Resolve, if set, is asked for the addresses of a node that is not
	// in Nodes (the node's registry: spec §4.7). It may block until ctx
	// ends, and returns nil when nobody knows.
	Resolve func(ctx context.Context, node string) []string

	// Dial and Listen replace TCP (tests run meshes in memory with them).
	// Default: a net.Dialer and net.Listen("tcp", addr).
	Dial   func(ctx context.Context, addr string) (net.Conn, error)
	Listen func(addr string) (net.Listener, error)
}

// Defaults.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultConnectTimeout   = 5 * time.Second
	DefaultMonitorTimeout   = 30 * time.Second
	DefaultMaxFrame         = 64 << 20
	DefaultMaxQueue         = 32 << 20
	DefaultMaxHandshakes    = 64
)

// ErrConfig: the Config is incomplete.
var ErrConfig = errors.New("aemp: invalid mesh configuration")

func (c Config) populated() (Config, error) {
	switch {
	case c.NodeID == "":
		return c, fmt.Errorf("%w: no NodeID", ErrConfig)
	case len(c.Secret) == 0 && c.TLS == nil:
		return c, fmt.Errorf("%w: networking needs a Secret or a Cert to authenticate peers", ErrConfig)
	case c.Events == nil:
		return c, fmt.Errorf("%w: no Events", ErrConfig)
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.MaxHandshakes <= 0 {
		c.MaxHandshakes = DefaultMaxHandshakes
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.MonitorTimeout <= 0 {
		c.MonitorTimeout = DefaultMonitorTimeout
	}
	if len(c.Framings) == 0 {
		c.Framings = []string{"goframe1", "cbor", "json"}
	}
	if c.MaxFrame <= 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	if c.MaxQueue <= 0 {
		c.MaxQueue = DefaultMaxQueue
	}
	if c.KeepAlive > 0 && c.KeepAliveTimeout <= 0 {
		c.KeepAliveTimeout = 3 * c.KeepAlive
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Dial == nil {
		var d net.Dialer
		c.Dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	if c.Listen == nil {
		c.Listen = func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
	}
	nodes := make(map[string][]string, len(c.Nodes))
	for id, a := range c.Nodes {
		nodes[id] = append([]string(nil), a...)
	}
	c.Nodes = nodes
	c.Binds = append([]string(nil), c.Binds...)
	c.Seeds = append([]string(nil), c.Seeds...)
	c.Framings = append([]string(nil), c.Framings...)
	c.AuthAccept = append([]string(nil), c.AuthAccept...)
	c.AuthOffer = append([]string(nil), c.AuthOffer...)
	return c, nil
}

// ErrBackend: the backend asked for is not available on this platform.
var ErrBackend = transport.ErrBackend

// BackendAvailable reports whether the named backend ("std", "netpoll")
// can run on this platform.
func BackendAvailable(name string) bool {
	switch name {
	case "", "std":
		return true
	case "netpoll":
		return transport.BackendNetpoll.Available()
	}
	return false
}
