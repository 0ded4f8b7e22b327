package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/wire"
)

// memNet is an in-memory network for meshes: Listen registers an address,
// Dial connects to it over net.Pipe. A dial to an address nobody listens
// on is refused at once, as TCP would.
type memNet struct {
	mu      sync.Mutex
	ls      map[string]*memListener
	conns   []net.Conn
	dials   map[string]int // dial attempts per address
	next    int
	written atomic.Int64 // bytes written by dialling ends
	dialEnd []*holeConn  // the dialling ends, for Blackhole
}

// holeConn is a dialling end that Blackhole can fail without the other
// end seeing anything: no EOF, no data, as when a path vanishes without a
// FIN (or the dialling node froze).
type holeConn struct {
	countConn
	dead atomic.Bool
}

var errBlackholed = errors.New("blackholed")

func (c *holeConn) Read(p []byte) (int, error) {
	if c.dead.Load() {
		return 0, errBlackholed
	}
	n, err := c.countConn.Read(p)
	if c.dead.Load() {
		return 0, errBlackholed
	}
	return n, err
}

func (c *holeConn) Write(p []byte) (int, error) {
	if c.dead.Load() {
		return 0, errBlackholed
	}
	return c.countConn.Write(p)
}

// Close leaves a blackholed pipe open: the other end must not see it.
func (c *holeConn) Close() error {
	if c.dead.Load() {
		return nil
	}
	return c.countConn.Close()
}

// countConn counts the bytes written into its net.Conn.
type countConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countConn) Write(p []byte) (int, error) {
	k, err := c.Conn.Write(p)
	c.n.Add(int64(k))
	return k, err
}

func newMemNet() *memNet {
	return &memNet{ls: map[string]*memListener{}, dials: map[string]int{}}
}

type memAddr string

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }

type memListener struct {
	n      *memNet
	addr   string
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.n.mu.Lock()
		delete(l.n.ls, l.addr)
		l.n.mu.Unlock()
	})
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr(l.addr) }

// Listen listens on addr ("" or ":0": a new address).
func (n *memNet) Listen(addr string) (net.Listener, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if addr == "" || strings.HasSuffix(addr, ":0") {
		n.next++
		addr = fmt.Sprintf("mem:%d", n.next)
	}
	if n.ls[addr] != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, syscall.EADDRINUSE)
	}
	l := &memListener{n: n, addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
	n.ls[addr] = l
	return l, nil
}

// Dial connects to addr.
func (n *memNet) Dial(ctx context.Context, addr string) (net.Conn, error) {
	n.mu.Lock()
	n.dials[addr]++
	l := n.ls[addr]
	n.mu.Unlock()
	if l == nil {
		return nil, &net.OpError{Op: "dial", Net: "mem", Err: syscall.ECONNREFUSED}
	}
	c, s := net.Pipe()
	select {
	case l.ch <- s:
	case <-l.closed:
		c.Close()
		s.Close()
		return nil, &net.OpError{Op: "dial", Net: "mem", Err: syscall.ECONNREFUSED}
	case <-ctx.Done():
		c.Close()
		s.Close()
		return nil, ctx.Err()
	}
	hc := &holeConn{countConn: countConn{c, &n.written}}
	n.mu.Lock()
	n.conns = append(n.conns, c, s)
	n.dialEnd = append(n.dialEnd, hc)
	n.mu.Unlock()
	return hc, nil
}

// Blackhole fails every dialling end made so far for its own side only:
// its reads and writes fail at once (a deadline in the past wakes a
// blocked read) while the accepting end sees nothing. Cut closes the
// pipes.
func (n *memNet) Blackhole() {
	n.mu.Lock()
	ends := n.dialEnd
	n.dialEnd = nil
	n.mu.Unlock()
	for _, c := range ends {
		c.dead.Store(true)
		c.SetDeadline(time.Unix(1, 0))
	}
}

// Cut closes every connection made so far (both ends), like a network
// failure.
func (n *memNet) Cut() {
	n.mu.Lock()
	conns := n.conns
	n.conns = nil
	n.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// recorder is a test's Events: it keeps the ordered events as text
// ("up B", "down B text", "seed B", "master B", "self addr") and each
// peer's messages and downs.
type recorder struct {
	mu     sync.Mutex
	events []string
	peers  map[string]*peerRec
}

type peerRec struct {
	r     *recorder
	id    string
	mu    sync.Mutex
	msgs  []string
	downs []string
	lost  []string
}

func newRecorder() *recorder { return &recorder{peers: map[string]*peerRec{}} }

func (r *recorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// count returns how many events start with prefix.
func (r *recorder) count(prefix string) int {
	n := 0
	for _, e := range r.got() {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

func (r *recorder) NewPeer(p *Peer) PeerHandler {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pr := r.peers[p.ID()]; pr != nil {
		return pr
	}
	pr := &peerRec{r: r, id: p.ID()}
	r.peers[p.ID()] = pr
	return pr
}

func (r *recorder) LinkUp(id string)         { r.add("up " + id) }
func (r *recorder) LinkDown(id, text string) { r.add("down " + id) }
func (r *recorder) SeedUp(id string)         { r.add("seed " + id) }
func (r *recorder) Master(id string)         { r.add("master " + id) }
func (r *recorder) SelfSeed(addr string)     { r.add("self " + addr) }

func (r *recorder) peer(id string) *peerRec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peers[id]
}

func (p *peerRec) OnMessage(_ *pool.Buf, msg []byte) {
	p.mu.Lock()
	p.msgs = append(p.msgs, string(msg))
	p.mu.Unlock()
}

func (p *peerRec) OnDown(text string, wasUp bool) {
	p.mu.Lock()
	p.downs = append(p.downs, fmt.Sprintf("%v %s", wasUp, text))
	p.mu.Unlock()
}

func (p *peerRec) OnLost(env []byte, err error) {
	p.mu.Lock()
	p.lost = append(p.lost, string(env))
	p.mu.Unlock()
}

func (p *peerRec) messages() []string {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.msgs)
}

func (p *peerRec) failures() []string {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.downs)
}

// node is one mesh of a test with its recorder.
type node struct {
	*Mesh
	rec *recorder
}

// start starts a mesh with ID id on the memNet (one listener unless cfg
// has Binds; secret, logger and timeouts filled in); it is closed when the
// test ends.
func start(t *testing.T, n *memNet, id string, cfg Config) *node {
	t.Helper()
	cfg.NodeID = id
	if cfg.Secret == nil {
		cfg.Secret = []byte("mesh-test")
	}
	if cfg.Binds == nil {
		cfg.Binds = []string{""}
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second // generous: -race under a loaded machine
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := newRecorder()
	cfg.Events = rec
	cfg.Dial, cfg.Listen = n.Dial, n.Listen
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	t.Cleanup(func() { m.Close() })
	return &node{m, rec}
}

// send commits one JSON envelope ["b", tag, i] to node to.
func (n *node) send(t *testing.T, to, tag string, i int) {
	t.Helper()
	p := n.Peer(to)
	b, _ := p.Begin(0)
	b = fmt.Appendf(b, `["b",%q,%d]`, tag, i)
	if err := p.Commit(b, 0); err != nil {
		t.Fatal(err)
	}
}

// sendBlob commits a blob envelope ["b","blob",<bytes>] to node to.
func (n *node) sendBlob(t *testing.T, to string, data []byte) {
	t.Helper()
	p := n.Peer(to)
	b, f := p.Begin(0)
	if !f.TakesBlobs() {
		b = append(b, `["b","blob",`...)
		b = wire.AppendBytes(b, data)
		b = append(b, ']')
	} else {
		var mark int
		b, mark = wire.BeginBlobEnvelope(b)
		b = append(b, `["b","blob",null]`...)
		var err error
		if b, err = wire.EndBlobJSON(b, mark, 1); err != nil {
			t.Fatal(err)
		}
		b = wire.AppendBlobEntry(b, 0, len(data))
		b = append(b, data...)
	}
	if err := p.Commit(b, 0); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// leakFree checks for leaked goroutines when the test ends (registered
// first, so it runs after the meshes are closed).
func leakFree(t *testing.T) { t.Cleanup(leakcheck.Check(t)) }
