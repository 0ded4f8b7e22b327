package aemp

import (
	"testing"

	"github.com/aemp-go/aemp/wire"
)

// BenchmarkRemoteDecode is the receiving side of W1 without the network:
// an envelope as a Go node sends it (two integers and a 64-byte blob) is
// scanned as the link reader does, handed to a port's handler as deliver
// does, and read with Int, Int and BytesView as the bench harness does.
func BenchmarkRemoteDecode(b *testing.B) {
	n, err := NewNode(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	p := n.NewPort()
	body := make([]byte, 64)
	env, err := appendEnvelope(nil, p.ID().Local(), NewMsg("w1").AppendUint(7).AppendUint(123456).AppendBytes(body), wire.FormatMixed, wire.NonFiniteError)
	if err != nil {
		b.Fatal(err)
	}
	var sum int64
	b.ReportAllocs()
	for b.Loop() {
		e, text, bs, err := scanEnvelope(env)
		if err != nil {
			b.Fatal(err)
		}
		m := Msg{tag: string(e.Tag)}
		m.setRemote(e.Args, bs, nil, nil)
		_ = text
		m.port = p
		raw := m.raw()
		m.resetArgs(&p.args, raw)
		p.argsBase = &raw[0]
		s, err1 := m.Int(1)
		q, err2 := m.Int(2)
		v, err3 := m.BytesView(3)
		if err1 != nil || err2 != nil || err3 != nil || len(v) != 64 {
			b.Fatal(err1, err2, err3)
		}
		sum += s + q
		p.argsBase = nil
	}
	_ = sum
}
