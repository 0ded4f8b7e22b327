package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeInt(t *testing.T) {
	ok := map[string]int64{
		`0`: 0, `-0`: 0, `42`: 42, ` -7 `: -7, `4294967296`: 4294967296,
		`9223372036854775807`: math.MaxInt64, `-9223372036854775808`: math.MinInt64,
		`2.0`: 2, `1e3`: 1000, `1E+2`: 100, `-2.50e1`: -25, `12.34e2`: 1234, `1000e-3`: 1,
		`0.0e-5`: 0, `0e999999999999`: 0, `9223372036854775807.000`: math.MaxInt64,
		`922337203685477580.7e1`: math.MaxInt64,
		`"42"`:                   42, `" 42 "`: 42, `"+42"`: 42, `"-42"`: -42, `"007"`: 7, `"4e2"`: 400, `"\u0034\u0032"`: 42,
	}
	for in, want := range ok {
		got, err := DecodeInt([]byte(in))
		if err != nil || got != want {
			t.Errorf("DecodeInt(%s) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]error{
		`9223372036854775808`: ErrRange, `-9223372036854775809`: ErrRange, `18446744073709551616`: ErrRange,
		`1e19`: ErrRange, `1e999`: ErrRange, `123456789012345678901234567890`: ErrRange, `"1e20"`: ErrRange,
		`2.5`: ErrType, `1e-1`: ErrType, `0.1`: ErrType, `"2.5"`: ErrType,
		`null`: ErrType, `true`: ErrType, `[1]`: ErrType, `{}`: ErrType, `""`: ErrType, `"abc"`: ErrType,
		`"42abc"`: ErrType, `"0x10"`: ErrType, `"Inf"`: ErrType, `"NaN"`: ErrType, `"1_0"`: ErrType,
		``: ErrType, `-`: ErrSyntax, `01`: ErrSyntax, `1.`: ErrSyntax, `1e`: ErrSyntax, `+1`: ErrSyntax,
		`1 2`: ErrSyntax, `"42`: ErrSyntax, `[1`: ErrSyntax, `nul`: ErrSyntax, `x`: ErrSyntax,
	}
	for in, want := range bad {
		got, err := DecodeInt([]byte(in))
		if !errors.Is(err, want) {
			t.Errorf("DecodeInt(%s) = %d, %v; want error %v", in, got, err, want)
		}
	}
	// The error names the kind found.
	if _, err := DecodeInt([]byte(`"x"`)); err == nil || !strings.Contains(err.Error(), "string") {
		t.Errorf("error text %v does not name the kind", err)
	}
	if _, err := DecodeInt([]byte(`[]`)); err == nil || !strings.Contains(err.Error(), "array") {
		t.Errorf("error text %v does not name the kind", err)
	}
}

func TestDecodeUint(t *testing.T) {
	ok := map[string]uint64{
		`0`: 0, `-0`: 0, `18446744073709551615`: math.MaxUint64, `1.8446744073709551615e19`: math.MaxUint64,
		`"18446744073709551615"`: math.MaxUint64, `4294967296`: 1 << 32,
	}
	for in, want := range ok {
		got, err := DecodeUint([]byte(in))
		if err != nil || got != want {
			t.Errorf("DecodeUint(%s) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]error{
		`-1`: ErrRange, `18446744073709551616`: ErrRange, `1.5`: ErrType, `"x"`: ErrType, `false`: ErrType, `--1`: ErrSyntax,
	}
	for in, want := range bad {
		if got, err := DecodeUint([]byte(in)); !errors.Is(err, want) {
			t.Errorf("DecodeUint(%s) = %d, %v; want error %v", in, got, err, want)
		}
	}
}

func TestDecodeFloat(t *testing.T) {
	ok := map[string]float64{
		`0`: 0, `3.25`: 3.25, `0.1`: 0.1, `-1e-3`: -0.001, `1e308`: 1e308, `4294967296`: 4294967296,
		`"2.5"`: 2.5, `" -1e2 "`: -100, `1e-400`: 0, `17976931348623157e292`: math.MaxFloat64,
	}
	for in, want := range ok {
		got, err := DecodeFloat([]byte(in))
		if err != nil || got != want {
			t.Errorf("DecodeFloat(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]error{
		`1e999`: ErrRange, `-1e309`: ErrRange, `"1e999"`: ErrRange, `null`: ErrType, `"abc"`: ErrType,
		`{}`: ErrType, `1.e1`: ErrSyntax, `.5`: ErrSyntax, `NaN`: ErrSyntax,
	}
	for in, want := range bad {
		if got, err := DecodeFloat([]byte(in)); !errors.Is(err, want) {
			t.Errorf("DecodeFloat(%s) = %v, %v; want error %v", in, got, err, want)
		}
	}
}

func TestDecodeString(t *testing.T) {
	ok := map[string]string{
		`""`: "", `"hello"`: "hello", ` "héllo wörld ✓ 日本語 😀" `: "héllo wörld ✓ 日本語 😀",
		`"a\"b\\c\/d\b\f\n\r\t"`: "a\"b\\c/d\b\f\n\r\t", `"\u00e9\u65E5"`: "é日",
		`"\ud83d\ude00"`: "😀", `"\ud800"`: "\uFFFD", `"\udc00x"`: "\uFFFDx", `"\ud800\u0041"`: "\uFFFDA",
		`42`: "42", `-1.5e3`: "-1.5e3",
	}
	for in, want := range ok {
		got, err := DecodeString([]byte(in))
		if err != nil || got != want {
			t.Errorf("DecodeString(%s) = %q, %v; want %q", in, got, err, want)
		}
		var scratch [4]byte
		gb, err := decodeStringBytes([]byte(in), scratch[:0])
		if err != nil || string(gb) != want {
			t.Errorf("decodeStringBytes(%s) = %q, %v; want %q", in, gb, err, want)
		}
	}
	bad := map[string]error{
		`null`: ErrType, `true`: ErrType, `[]`: ErrType, `{}`: ErrType, ``: ErrType,
		`"abc`: ErrSyntax, `"a\qb"`: ErrSyntax, `"\u12"`: ErrSyntax, "\"a\x01\"": ErrSyntax,
		"\"\xff\"": ErrSyntax, "\"\xc0\xaf\"": ErrSyntax, `"a" "b"`: ErrSyntax, `[1,`: ErrSyntax,
	}
	for in, want := range bad {
		if got, err := DecodeString([]byte(in)); !errors.Is(err, want) {
			t.Errorf("DecodeString(%q) = %q, %v; want error %v", in, got, err, want)
		}
		if got, err := decodeStringBytes([]byte(in), nil); !errors.Is(err, want) {
			t.Errorf("decodeStringBytes(%q) = %q, %v; want error %v", in, got, err, want)
		}
	}
}

func TestDecodeStringBytesZeroCopy(t *testing.T) {
	raw := []byte(`"plain text"`)
	got, err := decodeStringBytes(raw, nil)
	if err != nil || &got[0] != &raw[1] {
		t.Fatalf("decodeStringBytes copied an unescaped string: %q, %v", got, err)
	}
	scratch := make([]byte, 0, 64)
	got, err = decodeStringBytes([]byte(`"esc\naped"`), scratch)
	if err != nil || string(got) != "esc\naped" || &got[0] != &scratch[:1][0] {
		t.Fatalf("decodeStringBytes did not use the scratch buffer: %q, %v", got, err)
	}
	s, _ := DecodeString(raw)
	raw[1] = 'X'
	if s != "plain text" {
		t.Fatal("DecodeString result aliases its input")
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := decodeStringBytes([]byte(`"esc\"aped"`), scratch); err != nil {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("decodeStringBytes with scratch allocates %v times", allocs)
	}
}

func TestDecodeBool(t *testing.T) {
	ok := map[string]bool{
		`true`: true, `false`: false, `null`: false, `0`: false, `-0`: false, `0.0`: false, `0e5`: false,
		`1`: true, `-1`: true, `0.5`: true, `1e-3`: true, `""`: false, `"0"`: false, `"\u0030"`: false,
		`"1"`: true, `"0.0"`: true, `"00"`: true, `"false"`: true, `" "`: true, `"x"`: true,
	}
	for in, want := range ok {
		got, err := DecodeBool([]byte(in))
		if err != nil || got != want {
			t.Errorf("DecodeBool(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]error{
		`[]`: ErrType, `{}`: ErrType, ``: ErrType, `tru`: ErrSyntax, `truex`: ErrSyntax, `"x`: ErrSyntax,
		`01`: ErrSyntax, `[1,]`: ErrSyntax, `x`: ErrSyntax,
	}
	for in, want := range bad {
		if got, err := DecodeBool([]byte(in)); !errors.Is(err, want) {
			t.Errorf("DecodeBool(%s) = %v, %v; want error %v", in, got, err, want)
		}
	}
}

func TestDecodeBytes(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	enc := AppendBytes(nil, all)
	got, err := DecodeBytes(enc)
	if err != nil || string(got) != string(all) {
		t.Fatalf("DecodeBytes(AppendBytes(0..255)) = %v, %v", got, err)
	}
	for in, want := range map[string]string{`""`: "", `"abc"`: "abc", `"\u00ff\u0000é"`: "\xff\x00\xe9"} {
		if got, err := DecodeBytes([]byte(in)); err != nil || string(got) != want {
			t.Errorf("DecodeBytes(%s) = %q, %v", in, got, err)
		}
	}
	bad := map[string]error{`"\u0100"`: ErrRange, `"日本"`: ErrRange, `"😀"`: ErrRange, `1`: ErrType, `null`: ErrType, `"x`: ErrSyntax}
	for in, want := range bad {
		if got, err := DecodeBytes([]byte(in)); !errors.Is(err, want) {
			t.Errorf("DecodeBytes(%s) = %q, %v; want error %v", in, got, err, want)
		}
	}
}

func TestDecodeAny(t *testing.T) {
	tests := map[string]any{
		`null`: nil, `true`: true, `false`: false, `0`: int64(0), `-7`: int64(-7),
		`4294967296`:           int64(4294967296),
		`9223372036854775807`:  int64(math.MaxInt64),
		`-9223372036854775808`: int64(math.MinInt64),
		`9223372036854775808`:  uint64(1 << 63),
		`18446744073709551615`: uint64(math.MaxUint64),
		`18446744073709551616`: json.Number("18446744073709551616"),
		`-9223372036854775809`: json.Number("-9223372036854775809"),
		`1e999`:                json.Number("1e999"),
		`2.0`:                  float64(2), `1e3`: float64(1000), `3.25`: 3.25, `0.1`: 0.1, `-0.0`: math.Copysign(0, -1),
		`"héllo wörld ✓ 日本語 😀"`:                 "héllo wörld ✓ 日本語 😀",
		`"a\u00e9\n"`:                           "aé\n",
		` [1,[2,[3,[]]],"x"] `:                  []any{int64(1), []any{int64(2), []any{int64(3), []any{}}}, "x"},
		`{"b":[true,null],"c":{"d":"e"},"a":1}`: map[string]any{"b": []any{true, nil}, "c": map[string]any{"d": "e"}, "a": int64(1)},
		`{"a":1,"a":2}`:                         map[string]any{"a": int64(2)},
		`[{}]`:                                  []any{map[string]any{}},
	}
	for in, want := range tests {
		got, err := DecodeAny([]byte(in))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeAny(%s) = %#v, %v; want %#v", in, got, err, want)
		}
	}
	bad := map[string]error{
		``: ErrSyntax, `[`: ErrTruncated, `[1,]`: ErrSyntax, `{"a"}`: ErrSyntax, `{"a":1,}`: ErrSyntax, `{1:1}`: ErrSyntax,
		`[1 2]`: ErrSyntax, `01`: ErrSyntax, `"\x"`: ErrSyntax, "\"\xff\"": ErrSyntax, `1 1`: ErrSyntax, `[1}`: ErrSyntax,
		strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1):           ErrTooDeep,
		strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1): ErrTooDeep,
	}
	for in, want := range bad {
		if got, err := DecodeAny([]byte(in)); !errors.Is(err, want) {
			t.Errorf("DecodeAny(%.40s) = %#v, %v; want error %v", in, got, err, want)
		}
	}
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := DecodeAny([]byte(deep)); err != nil {
		t.Errorf("DecodeAny at MaxDepth: %v", err)
	}
}

type decodeTarget struct {
	Name  string         `json:"name"`
	N     int64          `json:"n"`
	F     float64        `json:"f"`
	Any   any            `json:"any"`
	List  []any          `json:"list"`
	M     map[string]any `json:"m"`
	Inner *decodeTarget  `json:"inner"`
}

func TestDecode(t *testing.T) {
	var s string
	var bs []byte
	var b bool
	var i int
	var i8 int8
	var u16 uint16
	var u64 uint64
	var f32 float32
	var f64 float64
	var a any
	var l []any
	var m map[string]any
	var r Raw
	var jr json.RawMessage
	for _, tt := range []struct {
		in   string
		p    any
		want any
	}{
		{`"x\u00e9"`, &s, "xé"},
		{`"\u00ff\u0001"`, &bs, []byte{0xff, 1}},
		{`"0"`, &b, false},
		{`"42"`, &i, 42},
		{`-128`, &i8, int8(-128)},
		{`65535`, &u16, uint16(65535)},
		{`18446744073709551615`, &u64, uint64(math.MaxUint64)},
		{`1.5`, &f32, float32(1.5)},
		{`"2.5"`, &f64, 2.5},
		{`[1,2.5]`, &a, []any{int64(1), 2.5}},
		{`[1,"x"]`, &l, []any{int64(1), "x"}},
		{`null`, &l, []any(nil)},
		{`{"k":18446744073709551616}`, &m, map[string]any{"k": json.Number("18446744073709551616")}},
		{` [1, 2] `, &r, Raw(`[1, 2]`)},
		{`{"a":1}`, &jr, json.RawMessage(`{"a":1}`)},
	} {
		if err := Decode([]byte(tt.in), tt.p); err != nil {
			t.Errorf("Decode(%s, %T): %v", tt.in, tt.p, err)
			continue
		}
		if got := reflect.ValueOf(tt.p).Elem().Interface(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Decode(%s, %T) = %#v, want %#v", tt.in, tt.p, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		p    any
		want error
	}{
		{`128`, &i8, ErrRange}, {`-1`, &u16, ErrRange}, {`65536`, &u16, ErrRange}, {`1e39`, &f32, ErrRange},
		{`1.5`, &i, ErrType}, {`"x"`, &f64, ErrType}, {`[1]`, &s, ErrType}, {`{}`, &l, ErrType}, {`[]`, &m, ErrType},
		{`[1,]`, &a, ErrSyntax}, {`[1,]`, &r, ErrSyntax}, {`{"name":1}`, &decodeTarget{}, ErrType},
		{`{"name":"x",}`, &decodeTarget{}, ErrSyntax},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), &decodeTarget{}, ErrTooDeep},
	} {
		if err := Decode([]byte(tt.in), tt.p); !errors.Is(err, tt.want) {
			t.Errorf("Decode(%.30s, %T) error = %v, want %v", tt.in, tt.p, err, tt.want)
		}
	}

	// Everything else goes through the JSON backend; interface fields get json.Number.
	buf := []byte(`{"name":"héllo","n":4294967296,"f":2.5,"any":18446744073709551616,"list":[1,2.5,"s"],
		"m":{"k":[true,null]},"inner":{"name":"in","n":-1}}`)
	var dt decodeTarget
	if err := Decode(buf, &dt); err != nil {
		t.Fatal(err)
	}
	want := decodeTarget{
		Name: "héllo", N: 4294967296, F: 2.5, Any: json.Number("18446744073709551616"),
		List: []any{json.Number("1"), json.Number("2.5"), "s"}, M: map[string]any{"k": []any{true, nil}},
		Inner: &decodeTarget{Name: "in", N: -1},
	}
	if !reflect.DeepEqual(dt, want) {
		t.Fatalf("Decode(struct) = %#v\nwant %#v", dt, want)
	}
	// Strings must not alias the (pooled) input buffer.
	for i := range buf {
		buf[i] = 'X'
	}
	if dt.Name != "héllo" || dt.Inner.Name != "in" {
		t.Fatal("decoded strings alias the input buffer")
	}
}

// FuzzPlainInt: the shortcut for plain integers agrees with the full
// number scanner on every input (value, and whether it is an error).
func FuzzPlainInt(f *testing.F) {
	for _, s := range []string{"0", "-0", "7", "-1", "01", "-01", "1.0", "1e3", " 1", "+1", "-", "",
		"123456789012345678", "-123456789012345678", "1234567890123456789", "9223372036854775808", `"12"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := DecodeInt(raw)
		want, werr := scanInt(raw)
		if got != want || (err == nil) != (werr == nil) {
			t.Fatalf("%q: DecodeInt %d, %v; scanner %d, %v", raw, got, err, want, werr)
		}
		u, err := DecodeUint(raw)
		wantU, werr := scanUint(raw)
		if u != wantU || (err == nil) != (werr == nil) {
			t.Fatalf("%q: DecodeUint %d, %v; scanner %d, %v", raw, u, err, wantU, werr)
		}
	})
}

// argIntCases are argument lists for ArgIter.Int: plain integers in every
// position, and the texts its shortcut must leave to At and DecodeInt.
var argIntCases = []string{
	`1,2,3`, `-7, 0 ,123456789012345678`, "12\t,\n-3", `0`, `-0`, `01,2`, `1.5,2`, `1e3`, `-`, `"12",3`,
	`1234567890123456789`, `9223372036854775808`, `-123456789012345678`, `12x,3`, `[1,2],3`, `{"a":1},4`,
	`null,5`, `1,`, `,1`, ``, `true`, ` 5 `, `5]`, `"\u00e9",6`,
}

// ArgIter.Int agrees with At followed by DecodeInt wherever it answers,
// and answers for plain integers.
func TestArgIterInt(t *testing.T) {
	for _, args := range argIntCases {
		checkArgIterInt(t, []byte(args))
	}
	var it ArgIter
	it.Reset([]byte(`7, -12 ,123456789012345678`))
	for i, want := range []int64{7, -12, 123456789012345678} {
		if v, ok := it.Int(i); !ok || v != want {
			t.Errorf("Int(%d) = %d, %v; want %d", i, v, ok, want)
		}
	}
	for _, args := range []string{`1.5`, `01`, `1e3`, `1234567890123456789`, `"1"`, `12x`} {
		it.Reset([]byte(args))
		if v, ok := it.Int(0); ok {
			t.Errorf("Int(0) of %s = %d: the shortcut took it", args, v)
		}
	}
}

func checkArgIterInt(t *testing.T, args []byte) {
	t.Helper()
	for i := -1; i < 5; i++ {
		var fast, slow ArgIter
		fast.Reset(args)
		slow.Reset(args)
		v, ok := fast.Int(i)
		if !ok {
			continue
		}
		raw, err := slow.At(i)
		if err != nil {
			t.Fatalf("%q: Int(%d) = %d, but At fails: %v", args, i, v, err)
		}
		want, err := DecodeInt(raw)
		if err != nil || want != v {
			t.Fatalf("%q: Int(%d) = %d; At and DecodeInt give %d, %v", args, i, v, want, err)
		}
		if u, err := DecodeUint(raw); v >= 0 && (err != nil || u != uint64(v)) { // (Msg.Uint's shortcut)
			t.Fatalf("%q: Int(%d) = %d; DecodeUint gives %d, %v", args, i, v, u, err)
		}
		// the iterator stays usable: the next argument reads as from a fresh one
		next, nerr := fast.At(i + 1)
		wantNext, wnerr := slow.At(i + 1)
		if !bytes.Equal(next, wantNext) || (nerr == nil) != (wnerr == nil) {
			t.Fatalf("%q: after Int(%d), At(%d) = %q, %v; want %q, %v", args, i, i+1, next, nerr, wantNext, wnerr)
		}
	}
}

// FuzzArgIterInt: ArgIter.Int's one-pass shortcut never disagrees with At
// and DecodeInt, and leaves the iterator as At would.
func FuzzArgIterInt(f *testing.F) {
	for _, s := range argIntCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, args []byte) {
		checkArgIterInt(t, args)
	})
}
