package frame

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/aemp-go/aemp/internal/vectors"
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
