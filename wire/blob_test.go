package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// buildBlob encodes a blob envelope with the given JSON text and blobs
// (argument index → bytes, in increasing order).
func buildBlob(t testing.TB, text string, args []int, data [][]byte) []byte {
	b, mark := BeginBlobEnvelope([]byte("prefix")) // appends after existing bytes
	b = append(b, text...)
	b, err := EndBlobJSON(b, mark, len(args))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		b = AppendBlobEntry(b, a, len(data[i]))
	}
	for _, d := range data {
		b = append(b, d...)
	}
	return b[len("prefix"):]
}

func TestBlobEnvelopeRoundTrip(t *testing.T) {
	text := `["p","t",null,1,null,null]`
	data := [][]byte{[]byte("ab"), {}, {0, 0xff}}
	env := buildBlob(t, text, []int{0, 2, 3}, data)
	if !IsBlobEnvelope(env) {
		t.Fatal("not recognised")
	}
	gotText, bs, err := SplitBlobEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	if string(gotText) != text || bs.Len() != 3 {
		t.Fatalf("text %q, %d blobs", gotText, bs.Len())
	}
	for j, a := range []int{0, 2, 3} {
		arg, d := bs.At(j)
		g, ok := bs.Get(a)
		if arg != a || !bytes.Equal(d, data[j]) || !ok || !bytes.Equal(g, data[j]) {
			t.Errorf("blob %d: At %d %q, Get %q %v", j, arg, d, g, ok)
		}
		if cap(g) != len(g) {
			t.Errorf("blob %d: appending to it would overwrite the next", j)
		}
	}
	if _, ok := bs.Get(1); ok {
		t.Error("argument 1 is not a blob")
	}
	if _, ok := bs.Get(9); ok {
		t.Error("argument 9 is not a blob")
	}
	if IsBlobEnvelope([]byte(`["p","t"]`)) || IsBlobEnvelope(nil) {
		t.Error("JSON text taken for a blob envelope")
	}
}

func TestBlobEnvelopeErrors(t *testing.T) {
	good := buildBlob(t, `["p","t",null,null]`, []int{0, 1}, [][]byte{[]byte("x"), []byte("yz")})
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	hdr := 5 + len(`["p","t",null,null]`)
	for name, in := range map[string][]byte{
		"short":          {BlobMagic, 0, 0},
		"magic":          edit(func(b []byte) []byte { b[0] = '['; return b }),
		"json too long":  edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[1:], 1<<31); return b }),
		"no table":       good[:hdr+1],
		"empty table":    edit(func(b []byte) []byte { binary.BigEndian.PutUint16(b[hdr:], 0); return b }),
		"table cut":      good[:hdr+2+8],
		"order":          edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[hdr+2+8:], 0); return b }),
		"data short":     good[:len(good)-1],
		"data long":      append(bytes.Clone(good), 0),
		"length overrun": edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[hdr+2+4:], 1<<32-1); return b }),
	} {
		if _, _, err := SplitBlobEnvelope(in); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: err %v, want ErrSyntax", name, err)
		}
	}
	if _, err := EndBlobJSON(good, 5, 0); !errors.Is(err, ErrRange) {
		t.Errorf("EndBlobJSON with no blobs: %v", err)
	}
}

func TestBlobEnvelopeToJSON(t *testing.T) {
	data := [][]byte{{0, 0xff, '"'}, []byte("x")}
	env := buildBlob(t, `["p\u0041","t",null, 1 ,null,[2]]`, []int{0, 2}, data)
	got, err := BlobEnvelopeToJSON([]byte("keep"), env)
	if err != nil {
		t.Fatal(err)
	}
	want := `keep["p\u0041","t",` + string(AppendBytes(nil, data[0])) + `,1,` + string(AppendBytes(nil, data[1])) + `,[2]]`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	noArgs := buildBlob(t, `["p","t"]`, []int{0}, [][]byte{{}})
	if got, err := BlobEnvelopeToJSON(nil, noArgs); err != nil || string(got) != `["p","t"]` {
		t.Fatalf("no arguments: %s, %v", got, err)
	}
	if _, err := BlobEnvelopeToJSON(nil, env[:len(env)-1]); err == nil {
		t.Fatal("malformed blob envelope converted")
	}
}

// FuzzSplitBlobEnvelope: never panics; what it accepts is self-consistent
// (At and Get agree and the blobs cover the data exactly).
func FuzzSplitBlobEnvelope(f *testing.F) {
	f.Add(buildBlob(f, `["p","t",null]`, []int{0}, [][]byte{[]byte("abc")}))
	f.Add(buildBlob(f, `[]`, []int{1, 5}, [][]byte{{}, {1, 2}}))
	f.Add(buildBlob(f, `[]`, []int{62, 63, 70}, [][]byte{{1}, {2}, {3}}))
	f.Add([]byte{BlobMagic, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		text, bs, err := SplitBlobEnvelope(in)
		if err != nil {
			return
		}
		total := len(text) + 5 + 2 + 8*bs.Len()
		prev := -1
		for j := range bs.Len() {
			arg, d := bs.At(j)
			g, ok := bs.Get(arg)
			if arg <= prev || !ok || !bytes.Equal(g, d) {
				t.Fatalf("blob %d: arg %d after %d, Get ok %v", j, arg, prev, ok)
			}
			prev = arg
			total += len(d)
		}
		if total != len(in) {
			t.Fatalf("accounted for %d of %d bytes", total, len(in))
		}
		checkBlobMask(t, bs)
		if out, err := BlobEnvelopeToJSON(nil, in); err == nil {
			if _, err := ScanEnvelope(out); err != nil {
				t.Fatalf("converted %q into invalid %q: %v", in, out, err)
			}
		}
	})
}

// checkBlobMask: an argument whose bit of Mask is clear has no blob (bit 63
// stands for every argument from 63 on), and every blob's bit is set.
func checkBlobMask(t *testing.T, bs Blobs) {
	t.Helper()
	mask := bs.Mask()
	for a := range 80 {
		_, blob := bs.Get(a)
		if set := mask&(1<<min(a, 63)) != 0; blob && !set {
			t.Fatalf("argument %d is a blob, but its bit of mask %#x is clear", a, mask)
		}
	}
}

func TestBlobMask(t *testing.T) {
	for _, args := range [][]int{{0}, {1, 5}, {62}, {63}, {62, 63, 70}, {100}} {
		blobs := make([][]byte, len(args))
		for i := range blobs {
			blobs[i] = []byte{byte(i)}
		}
		_, bs, err := SplitBlobEnvelope(buildBlob(t, `[]`, args, blobs))
		if err != nil {
			t.Fatal(err)
		}
		var want uint64
		for _, a := range args {
			want |= 1 << min(a, 63)
		}
		if got := bs.Mask(); got != want {
			t.Errorf("blobs at %v: Mask %#x, want %#x", args, got, want)
		}
		checkBlobMask(t, bs)
	}
}
