package frame

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/fxamacker/cbor/v2"
)

func recordedSeeds(f *testing.F) [][]byte {
	var out [][]byte
	for _, name := range []string{"session-ping-json.raw.jsonl", "session-raw-python-json.raw.jsonl", "session-ping-mixed.raw.jsonl"} {
		for _, dir := range []string{"c2s", "s2c"} {
			all, _, err := vectors.Stream(name, 1, dir)
			if err != nil {
				f.Fatal(err)
			}
			i := 0
			for n := 0; n < 3 && i < len(all); n++ {
				j := bytes.IndexByte(all[i:], '\n')
				if j < 0 {
					break
				}
				i += j + 1
			}
			out = append(out, all[i:])
		}
	}
	return out
}

func FuzzGoFrame(f *testing.F) {
	for _, s := range recordedSeeds(f) {
		f.Add(AppendFrame(nil, 0, s), uint32(DefaultMaxFrame))
		f.Add(AppendFrame(nil, FlagS2, Compress(nil, s)), uint32(DefaultMaxFrame))
		f.Add(AppendFrame(nil, FlagBatch|FlagS2, Compress(nil, AppendBatchItem(AppendBatchItem(nil, s), s[:len(s)/2]))), uint32(1000))
	}
	f.Add(AppendFrame(nil, FlagBatch, AppendBatchItem(nil, []byte(`["a"]`))), uint32(64))
	f.Add([]byte{0, 0, 0, 3, 0x80, 1, 2, 3}, uint32(64))
	f.Fuzz(func(t *testing.T, data []byte, max32 uint32) {
		max := int(max32 % (2 << 20))
		rest := data
		for len(rest) > 0 {
			fr, n, err := Parse(rest, max)
			if err != nil {
				if !errors.Is(err, ErrFrameTooLarge) && !errors.Is(err, ErrReservedFlags) {
					t.Fatalf("unexpected error kind %v", err)
				}
				return
			}
			if n == 0 {
				return // incomplete
			}
			if len(fr.Payload) > max || n != HeaderLen+len(fr.Payload) {
				t.Fatalf("payload %d > max %d or n %d", len(fr.Payload), max, n)
			}
			if re := AppendFrame(nil, fr.Flags, fr.Payload); !bytes.Equal(re, rest[:n]) {
				t.Fatal("re-encoding differs")
			}
			rest = rest[n:]
			p := fr.Payload
			if fr.Flags&FlagS2 != 0 {
				d, err := Decompress(nil, p, max)
				if err != nil {
					continue
				}
				if len(d) > max {
					t.Fatalf("decompressed %d > max %d", len(d), max)
				}
				p = d
			} else if len(p) > 0 {
				c := Compress(nil, p)
				d, err := Decompress(nil, c, len(p))
				if err != nil || !bytes.Equal(d, p) {
					t.Fatalf("compress round trip: %v", err)
				}
			}
			if fr.Flags&FlagBatch != 0 {
				it := NewBatch(p)
				var rebuilt []byte
				for m, ok := it.Next(); ok; m, ok = it.Next() {
					rebuilt = AppendBatchItem(rebuilt, m)
				}
				if it.Err() == nil && !bytes.Equal(rebuilt, p) {
					t.Fatal("batch round trip differs")
				}
			}
		}
	})
}

func splitOnce(data []byte, split int) ([]string, error) {
	var s JSONSplitter
	s.MaxSize = 1 << 16
	if split <= 0 || split >= len(data) {
		return splitAll(&s, [][]byte{data})
	}
	return splitAll(&s, [][]byte{data[:split], data[split:]})
}

func FuzzJSONSplitter(f *testing.F) {
	for _, s := range recordedSeeds(f) {
		f.Add(s, uint16(len(s)/2))
	}
	f.Add([]byte("[1]\n  [2]\r\n[3][4]"), uint16(3))
	f.Add([]byte(`[{"a":[true,false,null,-1.5e3,"\u00e9\\"]}]`), uint16(7))
	f.Add([]byte(`[1],[2]`), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		whole, werr := splitOnce(data, 0)
		parts, perr := splitOnce(data, int(split)%(len(data)+1))
		if (werr == nil) != (perr == nil) || len(whole) != len(parts) {
			t.Fatalf("one-shot %q %v, split %q %v", whole, werr, parts, perr)
		}
		for i := range whole {
			if whole[i] != parts[i] {
				t.Fatalf("text %d differs: %q vs %q", i, whole[i], parts[i])
			}
			if !json.Valid([]byte(whole[i])) || !utf8.ValidString(whole[i]) || whole[i][0] != '[' {
				t.Fatalf("emitted %q which the grammar rejects", whole[i])
			}
		}
		if len(data) < 256 {
			var s JSONSplitter
			s.MaxSize = 1 << 16
			bw, berr := splitAll(&s, bytewise(data))
			if (berr == nil) != (werr == nil) || len(bw) != len(whole) {
				t.Fatalf("bytewise %q %v vs one-shot %q %v", bw, berr, whole, werr)
			}
		}
		// A single array that the grammar accepts must come out whole.
		trim := bytes.TrimLeft(data, " \t\r\n")
		if len(trim) > 0 && trim[0] == '[' && json.Valid(data) && utf8.Valid(data) && len(data) <= 1<<16 && bytes.Count(data, []byte("[")) < DefaultMaxDepth {
			if werr != nil || len(whole) != 1 || whole[0] != string(bytes.TrimSpace(data)) {
				t.Fatalf("valid array %q split as %q, %v", data, whole, werr)
			}
		}
	})
}

// FuzzParseCredit parses arbitrary bytes as a goframe1 frame and, when it
// carries the credit flag, as a credit frame: ParseCredit must accept
// exactly a frame with the credit flag alone and a 4-byte payload, return
// its big-endian grant (which AppendCredit encodes back to the same
// bytes), and refuse anything else with ErrCorrupt. It also takes the
// flags and the payload directly, as a Frame a caller might build.
func FuzzParseCredit(f *testing.F) {
	f.Add(AppendCredit(nil, 0), byte(0), []byte{})
	f.Add(AppendCredit(nil, 1<<31), FlagCredit, []byte{0, 0, 1, 0})
	f.Add(AppendCredit(AppendCredit(nil, 7), 0xffffffff), FlagCredit|FlagBatch, []byte{0, 0, 0, 1})
	f.Add(AppendFrame(nil, FlagCredit, []byte{0, 0, 1}), FlagCredit, []byte{0, 0, 1, 0, 0})
	f.Add(AppendFrame(nil, FlagCredit|FlagS2, []byte{0, 0, 0, 1}), FlagCredit|0x80, []byte{1, 2, 3, 4})
	f.Add(AppendFrame(nil, 0, []byte(`["a"]`)), byte(0), []byte{1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, data []byte, flags byte, payload []byte) {
		checkCredit(t, Frame{Flags: flags, Payload: payload})
		for rest := data; len(rest) > 0; {
			fr, n, err := Parse(rest, 64)
			if err != nil || n == 0 {
				return
			}
			rest = rest[n:]
			if fr.Flags&FlagCredit != 0 {
				checkCredit(t, fr)
			}
		}
	})
}

// checkCredit compares ParseCredit with the definition of a credit frame.
func checkCredit(t *testing.T, fr Frame) {
	g, err := ParseCredit(fr)
	valid := fr.Flags == FlagCredit && len(fr.Payload) == 4
	if !valid {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("ParseCredit(flags %#x, % x) = %d, %v; want ErrCorrupt", fr.Flags, fr.Payload, g, err)
		}
		return
	}
	if err != nil || g != binary.BigEndian.Uint32(fr.Payload) {
		t.Fatalf("ParseCredit(% x) = %d, %v", fr.Payload, g, err)
	}
	if re := AppendCredit(nil, g); !bytes.Equal(re, AppendFrame(nil, fr.Flags, fr.Payload)) || len(re) != CreditLen {
		t.Fatalf("AppendCredit(%d) = % x, not the parsed frame", g, re)
	}
}

// cborRef is the reference for FuzzCBORSplitter: fxamacker/cbor's
// well-formedness check with its limits out of the way (nesting and size
// are checked against the splitter's own limits separately) and without
// UTF-8 validation (the splitter does not look inside strings).
var cborRef = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		MaxNestedLevels: 65535, MaxArrayElements: 2147483647, MaxMapPairs: 2147483647,
		UTF8: cbor.UTF8DecodeInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

func cborSplitOnce(data []byte, split int) ([]string, error) {
	s := CBORSplitter{MaxSize: 1 << 16}
	if split <= 0 || split >= len(data) {
		return splitAll(&s, [][]byte{data})
	}
	return splitAll(&s, [][]byte{data[:split], data[split:]})
}

// FuzzCBORSplitter: the splitter agrees with fxamacker/cbor on which
// streams are well-formed sequences of arrays, emits the same items
// however the stream is chunked, and never emits anything else.
func FuzzCBORSplitter(f *testing.F) {
	for _, st := range recordedCBOR(f) {
		f.Add(st.data, uint16(len(st.data)/2))
	}
	for _, s := range []string{"80", "9f 5f 41 61 40 ff 7f 61 61 ff ff", "82 bf 61 61 01 ff fa 40500000", "81 c2 41 01",
		"81 f8 17", "81 bf 01 ff", "81 1c", "a0", "81 5f 61 61 ff"} {
		f.Add([]byte(unhex(s)), uint16(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		whole, werr := cborSplitOnce(data, 0)
		parts, perr := cborSplitOnce(data, int(split)%(len(data)+1))
		if (werr == nil) != (perr == nil) || len(whole) != len(parts) {
			t.Fatalf("one-shot %x %v, split %x %v", whole, werr, parts, perr)
		}
		for i := range whole {
			if whole[i] != parts[i] {
				t.Fatalf("item %d differs: %x vs %x", i, whole[i], parts[i])
			}
			if err := cborRef.Wellformed([]byte(whole[i])); err != nil || whole[i][0]>>5 != 4 {
				t.Fatalf("emitted %x which fxamacker rejects (%v) or is not an array", whole[i], err)
			}
		}
		if len(data) < 256 {
			s := CBORSplitter{MaxSize: 1 << 16}
			bw, berr := splitAll(&s, bytewise(data))
			if (berr == nil) != (werr == nil) || len(bw) != len(whole) {
				t.Fatalf("bytewise %x %v vs one-shot %x %v", bw, berr, whole, werr)
			}
		}
		// The first item: rejected exactly when fxamacker rejects it (or it
		// is not an array), unless a limit was what the splitter hit.
		if len(data) == 0 || len(whole) > 0 || errors.Is(werr, ErrTooDeep) || errors.Is(werr, ErrFrameTooLarge) {
			return
		}
		dec := cborRef.NewDecoder(bytes.NewReader(data))
		var raw cbor.RawMessage
		err := dec.Decode(&raw)
		switch {
		case err == nil && data[0]>>5 == 4:
			t.Fatalf("fxamacker accepts the array %x, the splitter says %v", raw, werr)
		case err == nil && !errors.Is(werr, ErrNotArray):
			t.Fatalf("a well-formed non-array %x gave %v", raw, werr)
		case err != nil && werr == nil && data[0]>>5 == 4:
			t.Fatalf("fxamacker rejects %x (%v), the splitter waits for more", data, err)
		}
	})
}
