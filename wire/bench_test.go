package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// Benchmarks of the hot paths, each next to encoding/json (and sonic, where
// it is built: sonicBench) doing the same work on the same []any in the
// same run:
//
//	go test -run '^$' -bench . -benchmem ./wire/

// benchCodec is a JSON library's API for the side-by-side benchmarks.
type benchCodec struct {
	marshal      func(any) ([]byte, error)
	unmarshal    func([]byte, any) error
	unmarshalAPI func([]byte, any) error // configured as Decode's backend
}

var benchCases = []struct {
	name string
	msg  []any // [local, tag, args…]
}{
	{"tag+int", []any{"9q3J9HyJQb", "ping", 42}},
	{"tag+string+float", []any{"9q3J9HyJQb", "ping", "perlclient/6g3BKcNkvW#b", 3.25}},
	{"1KiB-string", []any{"9q3J9HyJQb", "ping", strings.Repeat("0123456789abcdef", 64)}},
	{"map-any", []any{"", "g_slave", map[string]any{"'l": map[string]any{"perlclient/6g3BKcNkvW": []any{"127.0.0.1:35451"}}}}},
	{"map-sonic", []any{"b", "stats", map[string]int{"sent": 1234, "received": 5678, "dropped": 0, "queued": 17}}},
}

func BenchmarkAppendEnvelope(b *testing.B) {
	for _, bc := range benchCases {
		local, tag, args := bc.msg[0].(string), bc.msg[1].(string), bc.msg[2:]
		b.Run(bc.name+"/wire", func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = appendEnvelopeArgs(buf[:0], local, tag, args); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
		b.Run(bc.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				out, err := json.Marshal(bc.msg)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.SetBytes(int64(n))
		})
		if sonicBench != nil {
			b.Run(bc.name+"/sonic", func(b *testing.B) {
				b.ReportAllocs()
				var n int
				for b.Loop() {
					out, err := sonicBench.marshal(bc.msg)
					if err != nil {
						b.Fatal(err)
					}
					n = len(out)
				}
				b.SetBytes(int64(n))
			})
		}
	}
}

// BenchmarkAppendEnvelopeTyped is the boxing-free path (AppendEnvelopeHead
// plus typed encoders) for tag+string+float.
func BenchmarkAppendEnvelopeTyped(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEnvelopeHead(buf[:0], "9q3J9HyJQb", "ping")
		buf = AppendString(append(buf, ','), "perlclient/6g3BKcNkvW#b")
		buf, _ = AppendFloat(append(buf, ','), 3.25)
		buf = append(buf, ']')
	}
}

var receiveMsg = []byte(`["9q3J9HyJQb","ping","perlclient/6g3BKcNkvW#b",4294967296]`)

// BenchmarkReceiveInt: what the receive path does for m.Int(1): scan the
// envelope (validating it), then decode argument 1.
func BenchmarkReceiveInt(b *testing.B) {
	b.Run("wire", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(receiveMsg)))
		var it ArgIter
		for b.Loop() {
			e, err := ScanEnvelope(receiveMsg)
			if err != nil {
				b.Fatal(err)
			}
			it.Reset(e.Args)
			raw, err := it.At(1)
			if err != nil {
				b.Fatal(err)
			}
			if n, err := DecodeInt(raw); err != nil || n != 4294967296 {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(receiveMsg)))
		for b.Loop() {
			var v []json.RawMessage
			if err := json.Unmarshal(receiveMsg, &v); err != nil {
				b.Fatal(err)
			}
			var local, tag string
			var n int64
			if json.Unmarshal(v[0], &local) != nil || json.Unmarshal(v[1], &tag) != nil || json.Unmarshal(v[3], &n) != nil {
				b.Fatal("decode")
			}
		}
	})
	if sonicBench != nil {
		b.Run("sonic", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(receiveMsg)))
			for b.Loop() {
				var v []json.RawMessage
				if err := sonicBench.unmarshal(receiveMsg, &v); err != nil {
					b.Fatal(err)
				}
				var local, tag string
				var n int64
				if sonicBench.unmarshal(v[0], &local) != nil || sonicBench.unmarshal(v[1], &tag) != nil || sonicBench.unmarshal(v[3], &n) != nil {
					b.Fatal("decode")
				}
			}
		})
	}
}

var mixedMsg = []byte(`["9q3J9HyJQb","ping","perlclient/6g3BKcNkvW#b","mixed",1,2.5,null,false,[{}],{},` +
	`{"b":[true,null],"c":{"d":"e"},"a":1},"héllo wörld ✓ 日本語 😀",-7,0,4294967296]`)

// BenchmarkDecodeAnyMixed decodes a whole mixed message into Go values.
func BenchmarkDecodeAnyMixed(b *testing.B) {
	b.Run("wire", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(mixedMsg)))
		for b.Loop() {
			if _, err := DecodeAny(mixedMsg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(mixedMsg)))
		for b.Loop() {
			var v []any
			if err := json.Unmarshal(mixedMsg, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	if sonicBench != nil {
		b.Run("sonic", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(mixedMsg)))
			for b.Loop() {
				var v []any
				if err := sonicBench.unmarshalAPI(mixedMsg, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScanEnvelope is the routing step alone on the mixed message.
func BenchmarkScanEnvelope(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(mixedMsg)))
	for b.Loop() {
		if _, err := ScanEnvelope(mixedMsg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeString: a 1 KiB string argument, zero-copy and copied.
func BenchmarkDecodeString(b *testing.B) {
	raw := AppendString(nil, strings.Repeat("0123456789abcdef", 64))
	b.Run("bytes", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := decodeStringBytes(raw, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("string", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := DecodeString(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkScanHead is the receive path's scan of a W1 message's head,
// without and with the memo of the previous envelope's head (a flood to
// one port with one tag).
func BenchmarkScanHead(b *testing.B) {
	msg := []byte(`["k3f9Qa7Lw2Zx","data",1,123456,null]`)
	var e Envelope
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			if err := ScanHeadInto(&e, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("memo", func(b *testing.B) {
		var m HeadMemo
		for b.Loop() {
			if err := ScanHeadMemo(&e, msg, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
