package transport

import (
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/aemp-go/aemp/internal/leakcheck"
)

// With Compress, the writer packs each batch of small messages into one
// compressed batch frame: far fewer bytes on the wire for JSON-like
// messages, every message delivered in order, also with credit flow
// control counting the wire bytes. The sender's first write waits until
// every message is committed, so the batches are made from a full queue
// whatever the scheduler does (on 2 busy cores the writer otherwise keeps
// up with the producer and sends batches of one or two messages).
func TestCompressPacksBatches(t *testing.T) {
	for _, credit := range []int{0, 256 << 10} {
		t.Run(fmt.Sprint("credit=", credit), func(t *testing.T) {
			defer leakcheck.Check(t)()
			cfg := Config{Compress: true, CompressThreshold: 512, Credit: credit}
			ca, cb := tcpPair(t, cfg)
			gate := &gatedConn{Conn: ca, open: make(chan struct{})}
			p := newPair(t, gate, cb, "goframe1", "goframe1", cfg, cfg, newRecorder(), newRecorder())
			defer p.close()
			const n = 20000
			msg := func(b []byte, i int) []byte {
				return fmt.Appendf(b, `["port","update",{"id":%d,"name":"sensor","unit":"celsius","value":21.5}]`, i)
			}
			raw := 0
			for i := range n {
				b := msg(p.a.Begin(), i)
				raw += len(msg(nil, i)) + 5
				if err := p.a.Commit(b); err != nil {
					gate.release()
					t.Fatal(err)
				}
			}
			gate.release()
			waitFor(t, "every message", func() bool { return p.rb.n.Load() >= n })
			p.rb.mu.Lock()
			for i, m := range p.rb.msgs {
				if string(m) != string(msg(nil, i)) {
					p.rb.mu.Unlock()
					t.Fatalf("message %d = %q", i, m)
				}
			}
			p.rb.mu.Unlock()
			wire := p.a.Stats().BytesOut
			t.Logf("%d messages, %d bytes framed, %d bytes on the wire", n, raw, wire)
			if wire > uint64(raw)/3 {
				t.Fatalf("%d bytes on the wire for %d bytes of frames: batches not packed", wire, raw)
			}
		})
	}
}

// gatedConn holds every Write until release.
type gatedConn struct {
	net.Conn
	open chan struct{}
	once sync.Once
}

func (g *gatedConn) release() { g.once.Do(func() { close(g.open) }) }

func (g *gatedConn) Write(b []byte) (int, error) {
	<-g.open
	return g.Conn.Write(b)
}
