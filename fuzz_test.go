package aemp

import (
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/wire"
)

// FuzzInbound feeds arbitrary messages (JSON texts, blob envelopes, CBOR
// items) to a node as if they had come over a link: envelope scanning, routing, the node protocol (mon1, kil1,
// snd relay, time, can, the global database's g_* requests, served by a
// global node) and the handlers' typed accessors must never panic or crash
// the node, whatever the peer sends.
func FuzzInbound(f *testing.F) {
	for _, p := range vectors.Sessions() {
		conns, err := vectors.LoadSession(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range conns {
			for _, dir := range []string{"C>S", "S>C"} {
				for _, m := range c.Messages(dir) {
					f.Add([]byte(m.JSON))
					if m.Framing == "cbor" {
						f.Add(m.Wire) // a CBOR item, as from a cbor link
					}
				}
			}
		}
	}
	for _, s := range []string{
		`["b","test",1,"x",[1,2],{"a":null}]`, `["","mon1","b"]`, `["","kil1","b","why",1]`,
		`["","kil1",""]`, `["","snd","fuzz#b","test",1]`, `["","time","fuzz#b","t"]`,
		`["","can","snd","fuzz#b"]`, `["","kil0","x","r"]`, `[]`, `[null]`, `[1,2]`, `{"a":1}`,
		`["b","\u0000\ud800",1e999,-0.0,18446744073709551616]`, `["b"`, `"x"`,
		`["","g_slave",{"'l":{"peer":["127.0.0.1:1"]},"f":{"k":[1]}}]`, `["","g_upd","f",{"k":2},["j"]]`,
		`["","g_upd","f",null,["k"]]`, `["","g_set",{"f":{"x":null}}]`, `["","g_mon1","f"]`,
		`["","g_db_family","f","b"]`, `["","g_find","peer"]`, `["","g_slave","x"]`,
	} {
		f.Add([]byte(s))
	}
	for _, m := range []*Msg{ // blob envelopes, as a Go peer sends them
		NewMsg("b").AppendBytes([]byte{0, 0xff, '"'}),
		NewMsg("b", 1, "x").AppendBytes(nil).AppendInt(2).AppendBytes([]byte("yz")),
		NewMsg("snd").AppendString("fuzz#b").AppendBytes([]byte("relayed")),
	} {
		local := "b"
		if m.tag == "snd" {
			local = ""
		}
		for _, format := range []wire.Format{wire.FormatBlobs, wire.FormatCBOR} {
			env, err := appendEnvelope(nil, local, m, format, wire.NonFiniteError, nil)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(env)
		}
	}
	for _, s := range []string{ // CBOR: a numeric tag, NaN, tags, indefinite lengths, a relay
		"83 4162 182a 4178", "83 4162 4174 fb7ff8000000000001", "84 4162 4174 c249010000000000000000 d81900",
		"9f 4162 5f41744161ff bf4161f5ff ff", "85 40 43736e64 46667a7a23 62 182a 4178", "84 40 4474696d65 46667a7a23 62 fa7fc00000",
	} {
		f.Add(unhexT(f, s))
	}
	n, err := NewNode(Config{NodeID: "fuzz", Workers: 1, Global: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Binds: []string{"127.0.0.1:0"}, Secret: "fuzz", ConnectTimeout: 10 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	defer n.Close()
	rn := n.mesh.Peer("peer").Handler().(*remoteNode) // never connected: answers to it are dropped
	port := n.newPort("b")                            // the port the seeds address
	port.RcvDefault(func(m *Msg) error {
		for i := 0; i < m.Len()+1; i++ {
			m.Int(i)
			m.Float(i)
			m.String(i)
			m.Bool(i)
			m.Bytes(i)
			m.BytesView(i)
			m.Value(i)
			var v any
			m.Decode(i, &v)
			var s struct{ A []int }
			m.Decode(i, &s)
		}
		m.Values()
		m.textValues()
		m.Clone()
		m.GoString()
		echo := NewMsg("e")
		for i := 0; i < m.Len(); i++ {
			echo.AppendElem(m, i)
		}
		for _, x := range []*Msg{m, echo} { // relaying, to a Go peer and to a Perl one (json, cbor)
			for _, format := range []wire.Format{wire.FormatBlobs, wire.FormatJSON, wire.FormatCBOR} {
				appendEnvelope(nil, "x", x, format, wire.NonFiniteError, nil)
				appendEnvelope(nil, "x", x, format, wire.NonFiniteSubstitute, nil)
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, text []byte) {
		buf := pool.Get(len(text))
		copy(buf.B, text)
		rn.deliver(buf, buf.B, nil)
		buf.Release()
		if !port.Alive() { // a kil1 from the fuzzer: make a new one for the next input
			port = n.newPort("b")
			port.RcvDefault(func(*Msg) error { return nil })
		}
	})
}

func unhexT(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzReadConfigFile: the relaxed-JSON config reader never panics.
func FuzzReadConfigFile(f *testing.F) {
	f.Add([]byte(`{"version":1,"secret":"s", # comment
	"profile":{"a":{"parent":"b","binds":["*:4040",],},"b":{"nodeid":"x/%n"}},}`), "a")
	f.Add([]byte(`{"profile":{"a":{"parent":"a"}}}`), "a")
	f.Add([]byte(`{"seeds":"a:1,b:2","monitor_timeout":"1e9","profile":{"x":{"monitor_timeout":-1}}}`), "x")
	f.Add([]byte(`[1,2`), "")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, profile string) {
		p := filepath.Join(dir, "rc")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ReadConfigFile(p, profile)
	})
}

// FuzzHeadCache: a peer's cached envelope head is always what encoding the
// local part and tag afresh gives, whatever came before (runs of one head,
// changes, heads too long to keep, strings that need escapes).
func FuzzHeadCache(f *testing.F) {
	f.Add("k3f9Qa7Lw2", "w1", "k3f9Qa7Lw2", "w2", uint8(3))
	f.Add("a\"b", "é\x00", "a\"b", "é\x00", uint8(7))
	f.Add(strings.Repeat("p", 300), "t", "p", "t", uint8(5))
	f.Add("", "", "x", "", uint8(0))
	f.Fuzz(func(t *testing.T, l1, t1, l2, t2 string, pattern uint8) {
		var c headCache
		for i := range 8 {
			local, tag := l1, t1
			if pattern&(1<<i) != 0 {
				local, tag = l2, t2
			}
			got := c.appendHead([]byte("pre"), local, tag)
			want := wire.AppendEnvelopeHead([]byte("pre"), local, tag)
			if string(got) != string(want) {
				t.Fatalf("call %d (%q, %q): %q, want %q", i, local, tag, got, want)
			}
			if len(c.head) > headCacheMax {
				t.Fatalf("cache holds %d bytes, more than %d", len(c.head), headCacheMax)
			}
		}
	})
}
