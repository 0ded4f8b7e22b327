package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/aemp-go/aemp/internal/vectors"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recordedCBORMessages returns every CBOR message of every recording.
func recordedCBORMessages(t testing.TB) []vectors.Record {
	t.Helper()
	var out []vectors.Record
	for _, p := range vectors.Sessions() {
		conns, err := vectors.LoadSession(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range conns {
			for _, r := range c.Records {
				if r.Kind == "msg" && r.Framing == "cbor" {
					out = append(out, r)
				}
			}
		}
	}
	if len(out) < 100 {
		t.Fatalf("only %d recorded CBOR messages", len(out))
	}
	return out
}

// The encoder writes Perl values exactly as CBOR::XS 1.86 did in the
// recordings (README "CBOR-only framing").
func TestCBOREncodeRecorded(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{0, "00"}, {1, "01"}, {23, "17"}, {24, "1818"}, {255, "18ff"}, {256, "190100"}, {65535, "19ffff"},
		{65536, "1a00010000"}, {int64(4294967295), "1affffffff"}, {int64(4294967296), "1b0000000100000000"},
		{-1, "20"}, {-24, "37"}, {-25, "3818"}, {-256, "38ff"}, {-257, "390100"}, {int64(-4294967297), "3b0000000100000000"},
		{int64(math.MaxInt64), "1b7fffffffffffffff"}, {int64(math.MinInt64), "3b7fffffffffffffff"},
		{uint64(math.MaxUint64), "1bffffffffffffffff"},
		{1.0 / 3, "fb3fd5555555555555"}, {5e-324, "fb0000000000000001"},
		{3.25, "fa40500000"}, {-0.5, "fabf000000"}, {1.5, "fa3fc00000"}, {0.1, "fb3fb999999999999a"},
		{3.0, "03"}, {65504.0, "19ffe0"}, {math.Copysign(0, -1), "00"},
		{4294967296.0, "fa4f800000"}, {1e20, "fb4415af1d78b58c40"},
		{math.Inf(1), "fa7f800000"}, {math.Inf(-1), "faff800000"},
		{math.Float64frombits(0xfff8000000000000), "fbfff8000000000000"},
		{"hello", "4568656c6c6f"}, {"", "40"}, {"42", "423432"}, {" 7", "422037"},
		{"\u00e9\u00ff", "64c3a9c3bf"}, {"\xe9t\xe9", "43e974e9"}, {[]byte{0, 1, 0x7f, 0x80, 0xfe, 0xff}, "4600017f80feff"},
		{true, "f5"}, {false, "f4"}, {nil, "f6"}, {[]any{}, "80"}, {map[string]any{}, "a0"},
		{[]any{int64(1), []any{int64(2), []any{int64(3), []any{}}}, "x"}, "8301820282038041 78"},
		{map[string]any{"\xff\x80": []byte("byte key")}, "a142ff804862797465206b6579"},
		{-3.0, "fac0400000"}, // CBOR::XS takes only non-negative integral floats as integers
	} {
		got, err := AppendCBORValue(nil, c.v)
		if err != nil {
			t.Fatalf("%#v: %v", c.v, err)
		}
		if want := unhex(t, c.want); !bytes.Equal(got, want) {
			t.Errorf("%#v: got %x, want %x", c.v, got, want)
		}
	}
	// 43 elements: array head 98 2b
	if b := AppendCBORArrayHead(nil, 43); !bytes.Equal(b, []byte{0x98, 0x2b}) {
		t.Errorf("array head %x", b)
	}
	// the 2 MiB byte string of session-big-deep: 5a 00200000
	big := AppendCBORBytes(nil, make([]byte, 2<<20))
	if !bytes.Equal(big[:5], []byte{0x5a, 0, 0x20, 0, 0}) {
		t.Errorf("2 MiB head %x", big[:5])
	}
}

// Every recorded CBOR message scans; decoded element by element and
// encoded again it gives the same bytes, except for Perl's random map
// order and the one ASCII string Perl had UTF-8-flagged (a Go string
// cannot carry the flag).
func TestCBORRecordedRoundTrip(t *testing.T) {
	for _, r := range recordedCBORMessages(t) {
		e, err := ScanCBOR(r.Wire)
		if err != nil {
			t.Fatalf("%x: %v", r.Wire, err)
		}
		var want []any
		d := json.NewDecoder(strings.NewReader(strings.NewReplacer("-Infinity", "null", "Infinity", "null", "NaN", "null").Replace(r.JSON)))
		d.UseNumber()
		if err := d.Decode(&want); err != nil {
			t.Fatalf("%s: %v", r.JSON, err)
		}
		if len(want) > 0 && want[0] != string(e.LocalText(nil)) || len(want) > 1 && want[1] != string(e.TagText(nil)) {
			if len(want) < 2 || want[1] != json.Number(e.TagText(nil)) { // the relayed 42
				t.Fatalf("%s: local %q tag %q", r.JSON, e.LocalText(nil), e.TagText(nil))
			}
		}
		var it ArgIter
		it.ResetCBOR(e.Args)
		if n, err := it.Len(); err != nil || n != e.NArgs || n != len(want)-2 && len(want) > 2 {
			t.Fatalf("%s: %d args, %v; NArgs %d", r.JSON, n, err, e.NArgs)
		}
		out := AppendCBORArrayHead(nil, 2+e.NArgs)
		out = append(append(out, AppendCBORString(nil, string(e.LocalText(nil)))...), e.TagRaw...)
		for i := range e.NArgs {
			raw, _ := it.At(i)
			v, err := DecodeCBORAny(raw)
			if err != nil {
				t.Fatalf("%s arg %d: %v", r.JSON, i, err)
			}
			if out, err = AppendCBORValue(out, v); err != nil {
				t.Fatal(err)
			}
		}
		if bytes.Equal(out, r.Wire) {
			continue
		}
		switch {
		case bytes.Contains(r.Wire, []byte("ascii but utf8-flagged")):
		case bytes.IndexByte(r.Wire, 0xa0) < 0 && !hasMap(r.Wire):
			t.Errorf("%s:\n got %x\nwant %x", r.JSON, out, r.Wire)
		default: // maps: equal as values
			a, _ := DecodeCBORAny(out)
			b, _ := DecodeCBORAny(r.Wire)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: %#v vs %#v", r.JSON, a, b)
			}
		}
	}
}

func hasMap(b []byte) bool {
	v, err := DecodeCBORAny(b)
	if err != nil {
		return false
	}
	var walk func(any) bool
	walk = func(x any) bool {
		switch y := x.(type) {
		case map[string]any:
			return len(y) > 1
		case []any:
			for _, e := range y {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// The typed decoders convert as the JSON ones do, with CBOR's extras.
func TestCBORDecodeInt(t *testing.T) {
	h := func(s string) []byte { return unhex(t, s) }
	ints := []struct {
		in   string
		want int64
		err  error
	}{
		{"00", 0, nil}, {"37", -24, nil}, {"1b7fffffffffffffff", math.MaxInt64, nil}, {"3b7fffffffffffffff", math.MinInt64, nil},
		{"1b8000000000000000", 0, ErrRange}, {"03", 3, nil}, {"fa40400000", 3, nil}, {"fa40500000", 0, ErrType},
		{"423432", 42, nil}, {"622b37", 7, nil}, {"4568656c6c6f", 0, ErrType}, {"f6", 0, ErrType}, {"80", 0, ErrType},
		{"c24101", 1, nil}, {"c349010000000000000000", 0, ErrRange}, {"fa7f800000", 0, ErrRange}, {"fbfff8000000000000", 0, ErrType},
		{"d8200a", 10, nil},    // a tag is skipped
		{"d8190a", 0, ErrType}, // but not a stringref
	}
	for _, c := range ints {
		v, err := DecodeCBORInt(h(c.in))
		if c.err != nil && !errors.Is(err, c.err) || c.err == nil && (err != nil || v != c.want) {
			t.Errorf("DecodeCBORInt(%s) = %d, %v; want %d, %v", c.in, v, err, c.want, c.err)
		}
	}
}

func TestCBORDecodeNumbers(t *testing.T) {
	h := func(s string) []byte { return unhex(t, s) }
	if v, err := DecodeCBORUint(h("1bffffffffffffffff")); err != nil || v != math.MaxUint64 {
		t.Errorf("uint64 max: %d %v", v, err)
	}
	if _, err := DecodeCBORUint(h("20")); !errors.Is(err, ErrRange) {
		t.Errorf("uint of -1: %v", err)
	}
	// a numeric string out of range names itself, as DecodeUint's text does
	if _, err := DecodeCBORUint(h("622d35")); !errors.Is(err, ErrRange) || !strings.Contains(err.Error(), `"-5"`) {
		t.Errorf(`uint of "-5": %v`, err)
	}
	if _, err := DecodeCBORInt(append([]byte{0x74}, strings.Repeat("9", 20)...)); !errors.Is(err, ErrRange) || !strings.Contains(err.Error(), `"99999999999999999999"`) {
		t.Errorf(`int of "99999999999999999999": %v`, err)
	}
	for in, want := range map[string]float64{"fb3fd5555555555555": 1.0 / 3, "f93c00": 1, "fa40500000": 3.25, "3b7fffffffffffffff": math.MinInt64,
		"43312e35": 1.5, "1bffffffffffffffff": math.MaxUint64} {
		if v, err := DecodeCBORFloat(h(in)); err != nil || v != want {
			t.Errorf("DecodeCBORFloat(%s) = %v, %v", in, v, err)
		}
	}
	if v, _ := DecodeCBORFloat(h("fa7f800000")); !math.IsInf(v, 1) {
		t.Errorf("inf: %v", v)
	}
}

func TestCBORDecodeStrings(t *testing.T) {
	h := func(s string) []byte { return unhex(t, s) }
	for in, want := range map[string]string{"4568656c6c6f": "hello", "64c3a9c3bf": "éÿ", "43e29c93": "✓", "42ff80": "\xff\x80",
		"5f41614162ff": "ab", "182a": "42", "3b7fffffffffffffff": "-9223372036854775808", "fa40500000": "3.25", "fa7f800000": "Inf",
		"3bffffffffffffffff": "-18446744073709551616"} {
		if v, err := DecodeCBORString(h(in)); err != nil || v != want {
			t.Errorf("DecodeCBORString(%s) = %q, %v; want %q", in, v, err, want)
		}
	}
	for _, in := range []string{"f5", "f4", "80", "a0"} {
		if _, err := DecodeCBORString(h(in)); !errors.Is(err, ErrType) {
			t.Errorf("DecodeCBORString(%s): %v", in, err)
		}
	}
	for in, want := range map[string]bool{"f5": true, "f4": false, "f6": false, "f7": false, "00": false, "01": true, "20": true,
		"40": false, "4130": false, "60": false, "6130": false, "43302e30": true, "fa00000000": false, "fa3f800000": true} {
		if v, err := DecodeCBORBool(h(in)); err != nil || v != want {
			t.Errorf("DecodeCBORBool(%s) = %v, %v", in, v, err)
		}
	}
	if b, err := DecodeCBORBytes(h("4600017f80feff")); err != nil || !bytes.Equal(b, []byte{0, 1, 0x7f, 0x80, 0xfe, 0xff}) {
		t.Errorf("bytes %x %v", b, err)
	}
	if b, err := DecodeCBORBytes(h("64c3a9c3bf")); err != nil || !bytes.Equal(b, []byte{0xe9, 0xff}) {
		t.Errorf("bytes of a text string (Latin-1) %x %v", b, err)
	}
	if _, err := DecodeCBORBytes(h("63e29c93")); !errors.Is(err, ErrRange) {
		t.Errorf("bytes of ✓: %v", err)
	}
}

func TestCBORDecodeAny(t *testing.T) {
	h := func(s string) []byte { return unhex(t, s) }
	anys := map[string]any{
		"1bffffffffffffffff": uint64(math.MaxUint64), "3bffffffffffffffff": -18446744073709551616.0, "fa40500000": 3.25,
		"4568656c6c6f": "hello", "43e29c93": []byte("✓"), "4200ff": []byte{0, 0xff}, "6568656c6c6f": "hello", "f7": nil,
		"a3 426b00 01 4134 182a 0a 610a": map[string]any{"k\x00": int64(1), "4": int64(42), "10": "\n"},
		"c249010000000000000000":         json.Number("18446744073709551616"), "9f01ff": []any{int64(1)},
	}
	for in, want := range anys {
		v, err := DecodeCBORAny(h(in))
		if err != nil || !reflect.DeepEqual(v, want) {
			t.Errorf("DecodeCBORAny(%s) = %#v, %v; want %#v", in, v, err, want)
		}
	}
	for _, in := range []string{"d81900", "f0", "a18001"} {
		if _, err := DecodeCBORAny(h(in)); !errors.Is(err, ErrType) {
			t.Errorf("DecodeCBORAny(%s): %v", in, err)
		}
	}
	var s struct {
		Name  string `json:"name"`
		Count int
		Data  []byte
	}
	if err := DecodeCBOR(h("a3 446e616d65 43616263 45436f756e74 07 4444617461 4201ff"), &s); err != nil || s.Name != "abc" || s.Count != 7 || !bytes.Equal(s.Data, []byte{1, 0xff}) {
		t.Errorf("struct: %+v %v", s, err)
	}
	var i8 int8
	if err := DecodeCBOR(h("190100"), &i8); !errors.Is(err, ErrRange) {
		t.Errorf("int8 of 256: %v", err)
	}
	var raw Raw
	if err := DecodeCBOR(h("824100f5"), &raw); err != nil || string(raw) != `["\u0000",true]` {
		t.Errorf("Raw: %s %v", raw, err)
	}
}

// CBOR → JSON and back, on values JSON can carry, and the handling of
// what it cannot.
func TestCBORJSONTranscode(t *testing.T) {
	h := func(s string) []byte { return unhex(t, s) }
	for in, want := range map[string]string{
		"83 40 44 6d6f6e31 41 62":             `["","mon1","b"]`,
		"82 4600017f80feff 64c3a9c3bf":        `["\u0000\u0001` + "\u007f\u0080\u00fe\u00ff" + `","éÿ"]`,
		"a2 4134 182a 01 f4":                  `{"4":42,"1":false}`,
		"83 3bffffffffffffffff fa40500000 03": `[-18446744073709551616,3.25,3]`,
		"82 fb3fb999999999999a c24101":        `[0.1,1]`,
		"9f 5f4161ff bf ff ff":                `["a",{}]`,
	} {
		got, err := AppendCBORAsJSON(nil, h(in), NonFiniteError)
		if err != nil || string(got) != want {
			t.Errorf("%s → %s, %v; want %s", in, got, err, want)
		}
		back, err := AppendJSONAsCBOR(nil, got)
		if err != nil {
			t.Fatalf("%s: back %v", got, err)
		}
		again, err := AppendCBORAsJSON(nil, back, NonFiniteError)
		if err != nil || string(again) != want {
			t.Errorf("%s: JSON → CBOR → JSON gives %s, %v", want, again, err)
		}
	}
	nonFinite := h("83 fa7f800000 faff800000 fbfff8000000000000")
	if _, err := AppendCBORAsJSON(nil, nonFinite, NonFiniteError); !errors.Is(err, ErrUnsupportedValue) {
		t.Errorf("NaN to JSON: %v", err)
	}
	got, err := AppendCBORAsJSON(nil, nonFinite, NonFiniteSubstitute)
	if err != nil || string(got) != `[1e999,-1e999,null]` {
		t.Errorf("substituted: %s %v", got, err)
	}
	if c, _ := AppendJSONAsCBOR(nil, got); !bytes.Equal(c, h("83 fa7f800000 faff800000 f6")) {
		t.Errorf("1e999 back to CBOR: %x", c)
	}
	for in, want := range map[string]string{
		`["a\n","é",2.0,-18446744073709551616,18446744073709551616]`: "85 42610a 62c3a9 02 3bffffffffffffffff fa5f800000",
		`{"k":[true,null,false,-1]}`:                                 "a1 416b 84 f5 f6 f4 20",
		`[` + strings.Repeat("1,", 23) + `1]`:                        "9818" + strings.Repeat("01", 24),
	} {
		got, err := AppendJSONAsCBOR(nil, []byte(in))
		if err != nil || !bytes.Equal(got, h(want)) {
			t.Errorf("%s → %x, %v; want %s", in, got, err, want)
		}
	}
}

func TestScanCBOR(t *testing.T) {
	h := func(s string) []byte { return unhex(t, s) }
	e, err := ScanCBOR(h("84 40 47 675f736c617665 18 2a 80"))
	if err != nil || string(e.Local) != "" || string(e.Tag) != "g_slave" || e.NArgs != 2 || !bytes.Equal(e.Args, h("182a80")) || !bytes.Equal(e.TagRaw, h("47675f736c617665")) {
		t.Fatalf("%+v %v", e, err)
	}
	// a relay's first element: the integer 42, kept raw, text "42"
	e, err = ScanCBOR(h("83 41 78 18 2a 41 78"))
	if err != nil || !e.TagEscaped || string(e.TagText(nil)) != "42" || e.TagKind != KindNumber || !bytes.Equal(e.TagRaw, h("182a")) {
		t.Fatalf("numeric tag: %+v %v", e, err)
	}
	e, err = ScanCBOR(h("9f 5f 41 61 41 62 ff 63 746167 ff"))
	if err != nil || string(e.LocalText(nil)) != "ab" || string(e.Tag) != "tag" || e.NArgs != 0 {
		t.Fatalf("indefinite: %+v %v", e, err)
	}
	for _, in := range []string{"80", "9fff", "81f6"} {
		if e, err := ScanCBOR(h(in)); err != nil || !e.IsKeepAlive() {
			t.Errorf("%s: %+v %v", in, e, err)
		}
	}
	for in, want := range map[string]error{"a0": ErrNotArray, "82 40": ErrTruncated, "81 40 00": ErrSyntax, "9f 40": ErrSyntax,
		"83 40 40 5f 61 61 ff": ErrSyntax} {
		if _, err := ScanCBOR(h(in)); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", in, err, want)
		}
	}
	deep := func(n int) []byte {
		return append(append([]byte{0x83, 0x41, 'b', 0x41, 't'}, bytes.Repeat([]byte{0x81}, n-1)...), 0x00)
	}
	if _, err := ScanCBOR(deep(MaxDepth)); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
	if _, err := ScanCBOR(deep(MaxDepth + 1)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("%d levels: %v", MaxDepth+1, err)
	}
}

// The envelope converters that mesh uses on queued messages.
func TestConvertEnvelope(t *testing.T) {
	blob, err := AppendEnvelope(nil, "p", "t", 1, "x")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ConvertEnvelope(nil, blob, FormatCBOR, NonFiniteError)
	if err != nil || !bytes.Equal(c, unhex(t, "84 4170 4174 01 4178")) {
		t.Fatalf("JSON → CBOR %x %v", c, err)
	}
	b, mark := BeginBlobEnvelope(nil)
	b = append(b, `["p","t",null,2]`...)
	b, _ = EndBlobJSON(b, mark, 1)
	b = AppendBlobEntry(b, 0, 2)
	b = append(b, 0xff, 0)
	if c, err = ConvertEnvelope(nil, b, FormatCBOR, NonFiniteError); err != nil || !bytes.Equal(c, unhex(t, "84 4170 4174 42ff00 02")) {
		t.Fatalf("blobs → CBOR %x %v", c, err)
	}
	if j, err := ConvertEnvelope(nil, c, FormatJSON, NonFiniteError); err != nil || string(j) != `["p","t","ÿ\u0000",2]` {
		t.Fatalf("CBOR → JSON %s %v", j, err)
	}
	if j, err := ConvertEnvelope(nil, c, FormatCBOR, NonFiniteError); err != nil || !bytes.Equal(j, c) {
		t.Fatalf("CBOR → CBOR %x %v", j, err)
	}
}

func TestHalfFloat(t *testing.T) {
	for h, want := range map[uint16]float64{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 5.960464477539063e-8, 0x0400: 6.103515625e-05, 0x3555: 0.333251953125} {
		if got := halfFloat(h); got != want {
			t.Errorf("%04x: %v, want %v", h, got, want)
		}
	}
	if !math.IsInf(halfFloat(0x7c00), 1) || !math.IsInf(halfFloat(0xfc00), -1) || !math.IsNaN(halfFloat(0x7e00)) {
		t.Error("inf/nan")
	}
}
