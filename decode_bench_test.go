package aemp

import (
	"errors"
	"testing"

	"github.com/aemp-go/aemp/wire"
)

// BenchmarkRemoteDecode is the receiving side of W1 without the network:
// an envelope as a Go node sends it (two integers and a 64-byte blob) is
// scanned as the link reader does and handed to a port's handler with
// Port.deliver, which reads it with Int, Int and BytesView as the bench
// harness does.
func BenchmarkRemoteDecode(b *testing.B) {
	n, err := NewNode(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	var sum int64
	var failed error
	p := n.NewPort().Rcv("w1", func(m *Msg) error {
		s, err1 := m.Int(1)
		q, err2 := m.Int(2)
		v, err3 := m.BytesView(3)
		if err := errors.Join(err1, err2, err3); err != nil || len(v) != 64 {
			failed = errors.Join(err, errors.New("wrong message"))
		}
		sum += s + q
		return nil
	})
	body := make([]byte, 64)
	env, err := appendEnvelope(nil, p.ID().Local(), NewMsg("w1").AppendUint(7).AppendUint(123456).AppendBytes(body), wire.FormatMixed, wire.NonFiniteError, nil)
	if err != nil {
		b.Fatal(err)
	}
	m := new(Msg) // one message reused, as a mailbox slot is
	b.ReportAllocs()
	var e wire.Envelope
	for b.Loop() {
		_, bs, err := scanEnvelope(&e, env, nil)
		if err != nil {
			b.Fatal(err)
		}
		*m = Msg{tag: "w1"} // (the reader interns the tag: no allocation)
		m.setRemote(e.Args, bs, nil, nil)
		p.deliver(m)
		if failed != nil {
			b.Fatal(failed)
		}
	}
	if want := int64(b.N) * (7 + 123456); sum != want {
		b.Fatalf("sum %d, want %d", sum, want)
	}
}
