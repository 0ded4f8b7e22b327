package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestGoFrameRoundTrip(t *testing.T) {
	var b []byte
	msgs := [][]byte{[]byte(`["a","b"]`), {}, bytes.Repeat([]byte("x"), 70000)}
	for _, m := range msgs {
		b = AppendFrame(b, 0, m)
	}
	for i, m := range msgs {
		f, n, err := Parse(b, DefaultMaxFrame)
		if err != nil || n != HeaderLen+len(m) || !bytes.Equal(f.Payload, m) || f.Flags != 0 {
			t.Fatalf("msg %d: n=%d err=%v", i, n, err)
		}
		b = b[n:]
	}
	if len(b) != 0 {
		t.Fatalf("%d bytes left", len(b))
	}
}

func TestParseNeedMore(t *testing.T) {
	full := AppendFrame(nil, FlagBatch, AppendBatchItem(nil, []byte("hi")))
	for i := 0; i < len(full); i++ {
		f, n, err := Parse(full[:i], DefaultMaxFrame)
		if n != 0 || err != nil || f.Payload != nil {
			t.Fatalf("prefix %d: n=%d err=%v", i, n, err)
		}
	}
	if _, n, err := Parse(full, DefaultMaxFrame); n != len(full) || err != nil {
		t.Fatalf("full: n=%d err=%v", n, err)
	}
}

func TestParseLimits(t *testing.T) {
	h := AppendHeader(nil, 0, 1<<20+1)
	if _, _, err := Parse(h, 1<<20); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	h = AppendHeader(nil, 0xff, 3)
	if _, _, err := Parse(h, 1<<20); !errors.Is(err, ErrReservedFlags) {
		t.Fatalf("reserved: %v", err)
	}
	// 4 GiB - 1 header with a small max: rejected from the header alone.
	h = binary.BigEndian.AppendUint32(nil, 0xffffffff)
	h = append(h, 0)
	if n, err := Need(h, 100); n != 0 || !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("huge: %d %v", n, err)
	}
}

func TestBatch(t *testing.T) {
	var p []byte
	want := []string{`["a"]`, ``, `["b",1]`}
	for _, w := range want {
		p = AppendBatchItem(p, []byte(w))
	}
	it := NewBatch(p)
	var got []string
	for m, ok := it.Next(); ok; m, ok = it.Next() {
		got = append(got, string(m))
	}
	if it.Err() != nil || len(got) != len(want) {
		t.Fatalf("got %q err %v", got, it.Err())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("item %d: %q", i, got[i])
		}
	}
	it = NewBatch(p[:len(p)-1])
	for _, ok := it.Next(); ok; _, ok = it.Next() {
	}
	if !errors.Is(it.Err(), ErrCorrupt) {
		t.Fatalf("truncated batch: %v", it.Err())
	}
	it = NewBatch([]byte{0, 0})
	if _, ok := it.Next(); ok || !errors.Is(it.Err(), ErrCorrupt) {
		t.Fatalf("short header: %v", it.Err())
	}
}

func TestCompress(t *testing.T) {
	src := bytes.Repeat([]byte(`["port","tag","some text that repeats"],`), 1000)
	c := Compress([]byte("prefix"), src)
	if string(c[:6]) != "prefix" || len(c)-6 >= len(src)/4 {
		t.Fatalf("compressed to %d bytes", len(c)-6)
	}
	d, err := Decompress([]byte("p"), c[6:], DefaultMaxFrame)
	if err != nil || string(d[:1]) != "p" || !bytes.Equal(d[1:], src) {
		t.Fatalf("decompress: %v", err)
	}
	if _, err := Decompress(nil, c[6:], len(src)-1); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("decoded size not checked: %v", err)
	}
	if _, err := Decompress(nil, []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2}, 1<<30); err == nil {
		t.Fatal("garbage decompressed")
	}
	// A lying header claiming 1 GiB is rejected before allocating.
	lie := binary.AppendUvarint(nil, 1<<30)
	if _, err := DecodedLen(lie, DefaultMaxFrame); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("lying length: %v", err)
	}
}

func TestParseAllocs(t *testing.T) {
	b := AppendFrame(nil, 0, []byte(`["x","y",1]`))
	b = AppendFrame(b, FlagBatch, AppendBatchItem(AppendBatchItem(nil, []byte("[1]")), []byte("[2]")))
	out := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		rest := b
		for len(rest) > 0 {
			f, n, err := Parse(rest, DefaultMaxFrame)
			if err != nil || n == 0 {
				t.Fatal(err)
			}
			if f.Flags&FlagBatch != 0 {
				it := NewBatch(f.Payload)
				for _, ok := it.Next(); ok; _, ok = it.Next() {
				}
			}
			rest = rest[n:]
		}
		out = AppendFrame(out[:0], 0, []byte("[1]"))
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per run", allocs)
	}
}

func BenchmarkParse(b *testing.B) {
	var buf []byte
	for i := 0; i < 100; i++ {
		buf = AppendFrame(buf, 0, []byte(`["port","tag",12345,"hello"]`))
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		rest := buf
		for len(rest) > 0 {
			_, n, _ := Parse(rest, DefaultMaxFrame)
			rest = rest[n:]
		}
	}
}

func TestCredit(t *testing.T) {
	b := AppendCredit(nil, 123456)
	f, n, err := Parse(b, DefaultMaxFrame)
	if err != nil || n != CreditLen {
		t.Fatal(n, err)
	}
	if g, err := ParseCredit(f); err != nil || g != 123456 {
		t.Fatal(g, err)
	}
	if _, err := ParseCredit(Frame{Flags: FlagCredit, Payload: []byte{1}}); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
	if _, err := ParseCredit(Frame{Flags: FlagCredit | FlagS2, Payload: []byte{1, 2, 3, 4}}); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
}
