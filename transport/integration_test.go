package transport

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/aemp-go/aemp/transport/handshake"

	"github.com/aemp-go/aemp/internal/leakcheck"
)

// TestHandshakeThenLink runs the real handshake over Dial/Listen
// connections and hands the result to NewLink on each backend, sending right
// away so that data-phase bytes may arrive together with the auth line
// (handshake.Result.Buffered).
func TestHandshakeThenLink(t *testing.T) {
	for _, be := range backends {
		for _, fr := range [][]string{{"goframe1", "json"}, {"json"}} {
			t.Run(be.String()+"/"+fr[0], func(t *testing.T) {
				defer leakcheck.Check(t)()
				cfg := Config{Backend: be}
				ca, cb := tcpPair(t, cfg)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				type out struct {
					res *handshake.Result
					err error
				}
				hs := func(conn net.Conn, id string, ch chan<- out) {
					res, err := handshake.Run(ctx, conn, &handshake.Config{NodeID: id, Secret: []byte("s3cret"), Framings: fr})
					ch <- out{res, err}
				}
				cha, chb := make(chan out, 1), make(chan out, 1)
				go hs(ca, "nodeA", cha)
				go hs(cb, "nodeB", chb)
				oa, ob := <-cha, <-chb
				if oa.err != nil || ob.err != nil {
					t.Fatalf("handshake: %v / %v", oa.err, ob.err)
				}
				if oa.res.SendFraming != fr[0] || ob.res.RecvFraming != fr[0] {
					t.Fatalf("framings %s/%s", oa.res.SendFraming, ob.res.RecvFraming)
				}
				ra, rb := newRecorder(), newRecorder()
				a, err := NewLink(oa.res.Conn, oa.res.Buffered, oa.res.SendFraming, oa.res.RecvFraming, ra, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				go sendN(t, a, 10000)
				b, err := NewLink(ob.res.Conn, ob.res.Buffered, ob.res.SendFraming, ob.res.RecvFraming, rb, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				go sendN(t, b, 10000)
				checkSeq(t, rb, 10000)
				checkSeq(t, ra, 10000)
			})
		}
	}
}
