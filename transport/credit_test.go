package transport

import (
	"errors"
	"testing"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/internal/leakcheck"
)

func TestLinkCreditInOrder(t *testing.T) {
	for _, be := range backends {
		t.Run(be.String(), func(t *testing.T) {
			defer leakcheck.Check(t)()
			// a small window forces many grant round trips
			p := linkPair(t, "goframe1", "goframe1", Config{Backend: be, Credit: 8 << 10})
			defer p.close()
			go sendN(t, p.a, 50000)
			go sendN(t, p.b, 50000)
			checkSeq(t, p.rb, 50000)
			checkSeq(t, p.ra, 50000)
			for i, s := range []int{100, frame.DefaultMaxFrame, 70000} {
				if err := p.a.Send(bigMsg(i, s)); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "large messages", func() bool { return p.rb.n.Load() == 50003 })
		})
	}
}

// TestLinkCreditBoundsNetpoll: with flow control the netpoll backend keeps
// inbound memory bounded by stalling the sender instead of failing.
func TestLinkCreditBounds(t *testing.T) {
	for _, be := range backends {
		t.Run(be.String(), func(t *testing.T) {
			defer leakcheck.Check(t)()
			cfg := Config{Backend: be, MaxInbound: 256 << 10, ReadBuffer: 16 << 10, Credit: 256 << 10}
			ca, cb := tcpPair(t, cfg)
			ra, rb := newRecorder(), newRecorder()
			rb.hold = true
			p := newPair(t, ca, cb, "goframe1", "goframe1", cfg, cfg, ra, rb)
			defer p.close()
			const n = 20000
			floodUntilPaused(t, p, rb, n)
			if p.b.io.backend() == BackendNetpoll {
				if buffered := p.b.io.eagerBuffered(); buffered > 256<<10+int(cfg.populated().creditSlack()) {
					t.Fatalf("netpoll buffered %d bytes", buffered)
				}
			}
			select {
			case <-rb.closed:
				t.Fatalf("link failed: %v", rb.reason)
			default:
			}
			rb.releaseHeld()
			waitFor(t, "all messages", func() bool { return rb.n.Load() == n })
		})
	}
}

func TestLinkCreditOverrun(t *testing.T) {
	if !BackendNetpoll.Available() {
		t.Skip("no netpoll on this platform")
	}
	defer leakcheck.Check(t)()
	ca, cb := tcpPair(t, Config{})
	defer cb.Close()
	r := newRecorder()
	r.hold = true // pause: no more grants
	l, err := NewLink(ca, nil, "goframe1", "goframe1", r, Config{Backend: BackendNetpoll, Credit: 4096, MaxInbound: 4096, MaxFrame: 1024, BatchBytes: 1024, ReadBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// a peer ignoring flow control: far beyond window + slack, never reading
	// grants; netpoll reads it all eagerly while the link is paused
	var b []byte
	for len(b) < 4<<20 {
		b = frame.AppendFrame(b, 0, []byte(`["x","y"]`))
	}
	go cb.Write(b)
	if err := r.waitClosed(t); !errors.Is(err, ErrInboundOverflow) {
		t.Fatalf("reason %v, want ErrInboundOverflow", err)
	}
	r.releaseHeld()
	if _, err := NewLink(ca, nil, "json", "goframe1", r, Config{Credit: 1}); !errors.Is(err, ErrConfig) {
		t.Fatalf("credit with json: %v", err)
	}
}

func TestLinkCreditFrameWithoutFlowControl(t *testing.T) {
	defer leakcheck.Check(t)()
	ca, cb := tcpPair(t, Config{})
	defer cb.Close()
	r := newRecorder()
	l, err := NewLink(ca, nil, "goframe1", "goframe1", r, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go cb.Write(frame.AppendCredit(nil, 10))
	if err := r.waitClosed(t); !errors.Is(err, ErrFraming) {
		t.Fatalf("reason %v", err)
	}
}
