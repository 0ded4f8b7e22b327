// Package fakepeer is a scripted AEMP peer for tests: the real handshake
// (package transport/handshake) and a real link (package transport) on the
// wire, the test's code behind it. Root tests use it to play a Perl node,
// or a Go node that sends what a correct one never would, without
// importing the transport themselves.
package fakepeer

import (
	"context"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/transport"
	"github.com/aemp-go/aemp/transport/handshake"
)

// Config configures a fake peer.
type Config struct {
	NodeID   string
	Secret   string
	Framings []string // default: json only, as a Perl node forced to JSON ("cbor": as a Perl node's default)
	MaxFrame int      // largest message sent or received; default the transport's
	// OnMessage, if set, is called on the link's reader goroutine after
	// each message is recorded; it may Send.
	OnMessage func(p *Peer, msg []byte)
}

// Peer is one connected fake peer.
type Peer struct {
	// Result is the handshake's result (framings, the peer's greeting).
	Result *handshake.Result

	cfg  Config
	link *transport.Link

	mu   sync.Mutex
	msgs []string
}

// Dial connects to addr and runs the handshake as cfg.NodeID.
func Dial(ctx context.Context, addr string, cfg Config) (*Peer, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return Serve(ctx, c, cfg)
}

// Serve runs the handshake on an established connection (accepted or
// dialled) and starts the link. The connection is closed on failure.
func Serve(ctx context.Context, c net.Conn, cfg Config) (*Peer, error) {
	if len(cfg.Framings) == 0 {
		cfg.Framings = []string{"json"}
	}
	res, err := handshake.Run(ctx, c, &handshake.Config{
		NodeID: cfg.NodeID, Secret: []byte(cfg.Secret), Framings: cfg.Framings, Timeout: 5 * time.Second,
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	p := &Peer{Result: res, cfg: cfg}
	l, err := transport.Open(res.Conn, res.Buffered, res.SendFraming, res.RecvFraming, (*handler)(p), transport.Config{MaxFrame: cfg.MaxFrame})
	if err != nil {
		res.Conn.Close()
		return nil, err
	}
	p.link = l // before Start: OnMessage may Send
	l.Start()
	return p, nil
}

// Send sends one encoded message (a JSON envelope or CBOR item, or any
// bytes: the link frames them as they are).
func (p *Peer) Send(msg []byte) error { return p.link.Send(msg) }

// Messages returns copies of the messages received so far, in order.
func (p *Peer) Messages() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.msgs)
}

// Done is closed when the link has ended.
func (p *Peer) Done() <-chan struct{} { return p.link.Done() }

// Close closes the link and waits for its goroutines.
func (p *Peer) Close() error { return p.link.Close() }

type handler Peer

func (h *handler) OnMessage(_ *pool.Buf, msg []byte) {
	p := (*Peer)(h)
	p.mu.Lock()
	p.msgs = append(p.msgs, string(msg))
	p.mu.Unlock()
	if p.cfg.OnMessage != nil {
		p.cfg.OnMessage(p, msg)
	}
}

func (h *handler) OnClose(error) {}
