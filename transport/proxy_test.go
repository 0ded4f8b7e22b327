package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/faultproxy"
	"github.com/aemp-go/aemp/internal/leakcheck"
)

// proxiedPair connects two links through a fault-injecting proxy:
// a → proxy → b.
func proxiedPair(t *testing.T, be Backend, cfgA Config) (*pair, *faultproxy.Proxy) {
	t.Helper()
	ln, err := Listen("127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	px, err := faultproxy.New(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	ca, err := Dial(t.Context(), px.Addr(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	cb := <-ch
	if cb == nil {
		t.Fatal("accept failed")
	}
	cfgA.Backend = be
	return newPair(t, ca, cb, "goframe1", "goframe1", cfgA, Config{Backend: be}, newRecorder(), newRecorder()), px
}

func TestLinkProxyStallResume(t *testing.T) {
	for _, be := range backends {
		t.Run(be.String(), func(t *testing.T) {
			defer leakcheck.Check(t)()
			p, px := proxiedPair(t, be, Config{})
			defer px.Close()
			defer p.close()
			px.Stall(faultproxy.Up, true)
			px.Delay(faultproxy.Down, time.Millisecond)
			sendN(t, p.a, 20000)
			time.Sleep(50 * time.Millisecond)
			if p.rb.n.Load() == 20000 {
				t.Fatal("stall did not hold messages back")
			}
			px.Stall(faultproxy.Up, false)
			checkSeq(t, p.rb, 20000)
		})
	}
}

// A stalled peer fills the outbound queue: senders get ErrOutboundFull,
// wait with WaitRoom, and once the peer reads again everything arrives, in
// order, on the same link.
func TestLinkProxyStallBackPressure(t *testing.T) {
	for _, be := range backends {
		t.Run(be.String(), func(t *testing.T) {
			defer leakcheck.Check(t)()
			p, px := proxiedPair(t, be, Config{MaxOutbound: 2 << 20})
			defer px.Close()
			defer p.close()
			px.Stall(faultproxy.Up, true)
			const n = 300 // 300 × 60 KiB: several times the bound
			pad := bytes.Repeat([]byte{'x'}, 60<<10)
			msg := func(b []byte, i int) []byte { return fmt.Appendf(b, `["port","tag",%d,"%s"]`, i, pad) }
			full := 0
			released := false
			for i := 0; i < n; {
				err := p.a.Commit(msg(p.a.Begin(), i))
				if err == nil {
					i++
					continue
				}
				if !errors.Is(err, ErrOutboundFull) {
					t.Fatalf("send %d: %v", i, err)
				}
				full++
				if !released {
					released = true
					px.Stall(faultproxy.Up, false)
				}
				if err := p.a.WaitRoom(context.Background(), 61<<10); err != nil {
					t.Fatal(err)
				}
			}
			if full == 0 {
				t.Fatal("the queue never filled")
			}
			waitFor(t, "every message", func() bool { return p.rb.n.Load() >= n })
			p.rb.mu.Lock()
			defer p.rb.mu.Unlock()
			for i, m := range p.rb.msgs {
				if !bytes.Equal(m, msg(nil, i)) {
					t.Fatalf("message %d: %.40q", i, m)
				}
			}
		})
	}
}

func TestLinkProxyCut(t *testing.T) {
	for _, be := range backends {
		t.Run(be.String(), func(t *testing.T) {
			defer leakcheck.Check(t)()
			p, px := proxiedPair(t, be, Config{})
			defer px.Close()
			defer p.close()
			go func() {
				for i := 0; i < 1_000_000; i++ {
					if p.a.Commit(appendMsg(p.a.Begin(), i)) != nil {
						return // closed by the cut
					}
				}
			}()
			waitFor(t, "traffic", func() bool { return p.rb.n.Load() > 1000 })
			px.Cut()
			if r := p.ra.waitClosed(t); r == nil {
				t.Fatal("sender: OnClose(nil) after a cut")
			}
			if r := p.rb.waitClosed(t); r == nil {
				t.Fatal("receiver: OnClose(nil) after a cut")
			}
		})
	}
}
