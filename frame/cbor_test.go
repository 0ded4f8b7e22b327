package frame

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/vectors"
)

// cborStream is one recorded direction of a connection that carried CBOR.
type cborStream struct {
	name   string
	data   []byte   // the data phase
	chunks [][]byte // as the relay read it
	want   []string // the transcript's messages
}

// recordedCBOR returns every recorded direction that used the cbor framing.
func recordedCBOR(tb testing.TB) []cborStream {
	tb.Helper()
	var out []cborStream
	for _, path := range vectors.Sessions() {
		conns, err := vectors.LoadSession(path)
		if err != nil {
			tb.Fatal(err)
		}
		for ci, c := range conns {
			for _, d := range []struct{ raw, txt string }{{"c2s", "C>S"}, {"s2c", "S>C"}} {
				msgs := c.Messages(d.txt)
				if len(msgs) == 0 || msgs[0].Framing != NameCBOR {
					continue
				}
				all, chunks, err := vectors.Stream(vectors.RawOf(path), ci+1, d.raw)
				if err != nil {
					tb.Fatal(err)
				}
				s := cborStream{name: vectors.RawOf(path) + " " + d.raw}
				s.data, s.chunks = dataPhase(tb, all, chunks)
				for _, m := range msgs {
					s.want = append(s.want, string(m.Wire))
				}
				out = append(out, s)
			}
		}
	}
	if len(out) < 8 {
		tb.Fatalf("only %d recorded CBOR streams", len(out))
	}
	return out
}

// Every recorded CBOR stream splits into exactly the transcript's
// messages, however it is chunked.
func TestCBORSplitterRecorded(t *testing.T) {
	for _, st := range recordedCBOR(t) {
		for mode, cs := range map[string][][]byte{"recorded": st.chunks, "bytewise": bytewise(st.data), "oneshot": {st.data}} {
			var s CBORSplitter
			got, err := splitAll(&s, cs)
			if err != nil {
				t.Fatalf("%s %s: %v", st.name, mode, err)
			}
			if strings.Join(got, "\x00") != strings.Join(st.want, "\x00") {
				t.Fatalf("%s %s: %d items, want %d", st.name, mode, len(got), len(st.want))
			}
		}
	}
}

func unhex(s string) string {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestCBORSplitterCases(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("\x81", n) + "\x00" }
	for _, c := range []struct {
		in   string
		want []string
		err  error
	}{
		{unhex("80"), []string{"\x80"}, nil},
		{unhex("80 82 01 02 9f ff 9f 01 9f ff ff"), []string{"\x80", "\x82\x01\x02", "\x9f\xff", "\x9f\x01\x9f\xff\xff"}, nil},
		{unhex("83 40 44 6d6f6e31 41 62"), []string{unhex("83 40 44 6d6f6e31 41 62")}, nil},
		// every kind of item inside the array
		{unhex("8c 17 18 18 19 0100 1a 00010000 1b 0000000100000000 37 5f 41 61 40 ff 7f 61 61 ff a1 61 6b f6 c2 41 01 f9 3c00 f8 20"), nil, nil},
		{unhex("82 bf 61 61 01 ff fa 40500000"), []string{unhex("82 bf 61 61 01 ff fa 40500000")}, nil},
		{unhex("a0"), nil, ErrNotArray},
		{unhex("41 61"), nil, ErrNotArray},
		{unhex("c6 80"), nil, ErrNotArray},
		{unhex("ff"), nil, ErrMalformed},
		{unhex("9c"), nil, ErrMalformed},
		{unhex("81 1c"), nil, ErrMalformed},
		{unhex("81 ff"), nil, ErrMalformed},          // break in a definite array
		{unhex("81 1f"), nil, ErrMalformed},          // indefinite integer
		{unhex("81 df 00"), nil, ErrMalformed},       // indefinite tag
		{unhex("81 f8 17"), nil, ErrMalformed},       // simple value < 32 in two bytes
		{unhex("81 5f 61 61 ff"), nil, ErrMalformed}, // text chunk in a byte string
		{unhex("81 5f 5f ff ff"), nil, ErrMalformed}, // indefinite chunk
		{unhex("81 bf 01 ff"), nil, ErrMalformed},    // break after a key
		{unhex("80 00"), []string{"\x80"}, ErrNotArray},
		{deep(DefaultMaxDepth), []string{deep(DefaultMaxDepth)}, nil},
		{deep(DefaultMaxDepth + 1), nil, ErrTooDeep},
		{strings.Repeat("\x81", DefaultMaxDepth-1) + "\xc6\x00", []string{strings.Repeat("\x81", DefaultMaxDepth-1) + "\xc6\x00"}, nil},
		{strings.Repeat("\x81", DefaultMaxDepth) + "\xc6\x00", nil, ErrTooDeep},
	} {
		if c.want == nil && c.err == nil {
			c.want = []string{c.in}
		}
		for _, mode := range []string{"oneshot", "bytewise"} {
			var s CBORSplitter
			cs := [][]byte{[]byte(c.in)}
			if mode == "bytewise" {
				cs = bytewise([]byte(c.in))
			}
			got, err := splitAll(&s, cs)
			if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
				t.Errorf("%x %s: err %v, want %v", c.in, mode, err, c.err)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("%x %s: got %x want %x", c.in, mode, got, c.want)
			}
		}
	}
}

func TestCBORSplitterMaxSize(t *testing.T) {
	s := CBORSplitter{MaxSize: 100}
	if _, _, err := s.Next([]byte(unhex("81 58 ff"))); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("a string longer than the limit must fail at its head: %v", err)
	}
	s = CBORSplitter{MaxSize: 100}
	if _, _, err := s.Next([]byte(unhex("9a 7fffffff"))); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("an array with more items than the limit has bytes: %v", err)
	}
	s = CBORSplitter{MaxSize: 10}
	if m, _, err := s.Next([]byte(unhex("81 48 3132333435363738"))); err != nil || len(m) != 10 {
		t.Fatalf("item of exactly MaxSize: %x %v", m, err)
	}
	s = CBORSplitter{MaxSize: 10}
	if _, _, err := s.Next([]byte(unhex("9f 01 02 03 04 05 06 07 08 09 0a ff"))); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("indefinite array beyond MaxSize: %v", err)
	}
	// A 2 MiB byte string (5a 00200000 …) with the limit raised.
	big := append([]byte(unhex("82 41 62 5a 00200000")), bytes.Repeat([]byte("0123456789abcdef"), 1<<17)...)
	s = CBORSplitter{MaxSize: 4 << 20}
	if _, _, err := s.Next(big[:1000]); err != nil {
		t.Fatal(err)
	}
	if need := s.Need(); need != len(big) {
		t.Fatalf("Need %d, want %d", need, len(big))
	}
	if m, n, err := s.Next(big); err != nil || n != len(big) || len(m) != len(big) {
		t.Fatalf("2 MiB item: %d %v", n, err)
	}
}

// TestCBORSplitterLinear: a 1 MiB item of small items fed one byte at a
// time is scanned in linear time.
func TestCBORSplitterLinear(t *testing.T) {
	msg := []byte(unhex("9f 44 706f7274"))
	for len(msg) < 1<<20 {
		msg = append(msg, unhex("83 19 0100 a1 61 6b f6 5f 41 61 ff")...)
	}
	msg = append(msg, 0xff)
	var s CBORSplitter
	s.MaxSize = 2 << 20
	start := time.Now()
	for i := 1; i <= len(msg); i++ {
		m, n, err := s.Next(msg[:i])
		if err != nil {
			t.Fatal(err)
		}
		if i < len(msg) && n != 0 {
			t.Fatalf("early result at %d", i)
		}
		if i == len(msg) && !bytes.Equal(m, msg) {
			t.Fatal("wrong item")
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("1 MiB bytewise took %v (quadratic?)", d)
	}
}

func BenchmarkCBORSplitter(b *testing.B) {
	var data []byte
	for _, st := range recordedCBOR(b) {
		data = append(data, st.data...)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var s CBORSplitter
	for b.Loop() {
		rest := data
		for len(rest) > 0 {
			_, n, err := s.Next(rest)
			if err != nil || n == 0 {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
}
