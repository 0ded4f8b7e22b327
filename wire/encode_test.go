package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	tests := map[string]string{
		"":                       `""`,
		"hello":                  `"hello"`,
		"a\"b\\c/d":              `"a\"b\\c/d"`,
		"\b\f\n\r\t\x00\x1f\x7f": `"\b\f\n\r\t\u0000\u001f` + "\x7f" + `"`,
		"<&>\u2028\u2029":        "\"<&>\u2028\u2029\"",
		"héllo wörld ✓ 日本語 😀":    `"héllo wörld ✓ 日本語 😀"`,
		"bad\xffutf8\xc3":        "\"bad\uFFFDutf8\uFFFD\"",
		"\xed\xa0\x80":           "\"\uFFFD\uFFFD\uFFFD\"",
		strings.Repeat("abcdefgh", 4) + "\"" + strings.Repeat("x", 9) + "\n": `"` + strings.Repeat("abcdefgh", 4) + `\"` + strings.Repeat("x", 9) + `\n"`,
	}
	for in, want := range tests {
		got := AppendString([]byte("prefix"), in)
		if string(got) != "prefix"+want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got[6:], want)
		}
		if !utf8.Valid(got) || !json.Valid(got[6:]) {
			t.Errorf("AppendString(%q) = %q is not valid UTF-8 JSON", in, got[6:])
		}
		// encoding/json agrees on the decoded text.
		var s string
		if err := json.Unmarshal(got[6:], &s); err != nil || s != strings.ToValidUTF8(in, "\uFFFD") && utf8.ValidString(in) {
			t.Errorf("AppendString(%q) decodes to %q, %v", in, s, err)
		}
	}
	// Every single byte value, in every position of an 8-byte word.
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 9; pos++ {
			in := strings.Repeat("a", pos) + string([]byte{byte(c)}) + strings.Repeat("b", 8)
			out := AppendString(nil, in)
			var s string
			if err := json.Unmarshal(out, &s); err != nil || s != strings.ToValidUTF8(in, "\uFFFD") {
				t.Fatalf("byte %#x at %d: %s decodes to %q, %v", c, pos, out, s, err)
			}
			got, err := DecodeString(out)
			if err != nil || got != strings.ToValidUTF8(in, "\uFFFD") {
				t.Fatalf("byte %#x at %d: DecodeString(%s) = %q, %v", c, pos, out, got, err)
			}
		}
	}
}

func TestAppendBytes(t *testing.T) {
	in := []byte("ab\"\\\n\x00\x7f\x80\xe9\xffplain text longer than eight")
	out := AppendBytes(nil, in)
	if !utf8.Valid(out) || !json.Valid(out) {
		t.Fatalf("AppendBytes = %q: not valid UTF-8 JSON", out)
	}
	var s string
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	var runes []byte
	for _, r := range s {
		if r > 0xff {
			t.Fatalf("rune %U above U+00FF", r)
		}
		runes = append(runes, byte(r))
	}
	if string(runes) != string(in) {
		t.Fatalf("Latin-1 mapping broken: %q", s)
	}
	if got := string(AppendBytes(nil, []byte{0xe9})); got != "\"\u00e9\"" {
		t.Fatalf("AppendBytes(0xe9) = %q", got)
	}
}

func TestAppendFloat(t *testing.T) {
	tests := map[float64]string{
		0: "0.0", 1: "1.0", -2: "-2.0", 3.25: "3.25", 0.1: "0.1", 1e20: "100000000000000000000.0",
		1e21: "1e+21", 1e-7: "1e-7", 1.5e-7: "1.5e-7", 1e-6: "0.000001", math.MaxFloat64: "1.7976931348623157e+308",
		4294967296: "4294967296.0", math.SmallestNonzeroFloat64: "5e-324", math.Copysign(0, -1): "-0.0",
	}
	for in, want := range tests {
		got, err := AppendFloat(nil, in)
		if err != nil || string(got) != want {
			t.Errorf("AppendFloat(%v) = %s, %v; want %s", in, got, err, want)
		}
		back, err := DecodeAny(got)
		if f, ok := back.(float64); err != nil || !ok || f != in {
			t.Errorf("DecodeAny(AppendFloat(%v)) = %#v, %v", in, back, err)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		got, err := AppendFloat([]byte("x"), f)
		if !errors.Is(err, ErrUnsupportedValue) || string(got) != "x" {
			t.Errorf("AppendFloat(%v) = %q, %v", f, got, err)
		}
	}
	for in, want := range map[float32]string{0.1: "0.1", 3.25: "3.25", 1: "1.0", 1e-7: "1e-7", 16777216: "16777216.0"} {
		got, err := appendFloat32(nil, in)
		if err != nil || string(got) != want {
			t.Errorf("appendFloat32(%v) = %s, %v; want %s", in, got, err, want)
		}
	}
}

type sonicStruct struct {
	A int               `json:"a"`
	B string            `json:"b"`
	C map[string][]uint `json:"c"`
	D []byte            `json:"d"`
	R Raw               `json:"r"`
}

type marshalerError struct{}

func (marshalerError) Error() string                { return "as error" }
func (marshalerError) MarshalJSON() ([]byte, error) { return []byte(`{"as":"json"}`), nil }

type myString string

func TestAppendValue(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, `null`}, {"s", `"s"`}, {[]byte("b\xff"), "\"b\u00ff\""}, {true, `true`}, {false, `false`},
		{int(-1), `-1`}, {int8(-8), `-8`}, {int16(16), `16`}, {int32(-32), `-32`}, {int64(math.MinInt64), `-9223372036854775808`},
		{uint(1), `1`}, {uint8(255), `255`}, {uint16(16), `16`}, {uint32(32), `32`}, {uint64(math.MaxUint64), `18446744073709551615`},
		{uintptr(7), `7`}, {2.5, `2.5`}, {float32(0.1), `0.1`}, {float64(3), `3.0`},
		{Raw(` [1, {"a":2}] `), `[1, {"a":2}]`}, {Raw(nil), `null`}, {json.RawMessage(`{"x":1}`), `{"x":1}`},
		{json.Number("18446744073709551616"), `18446744073709551616`},
		{[]any{1, "a", nil, []any{}, map[string]any{}}, `[1,"a",null,[],{}]`},
		{[]any(nil), `null`}, {[]string{"a", "b"}, `["a","b"]`}, {[]string(nil), `null`},
		{[]int{1, -2}, `[1,-2]`}, {[]int64{3}, `[3]`}, {[]float64{1, 0.5}, `[1.0,0.5]`},
		{map[string]any{"k": []any{true}}, `{"k":[true]}`}, {map[string]string{"k": "v"}, `{"k":"v"}`},
		{map[string]any(nil), `null`},
		{errors.New("boom"), `"boom"`}, {fmt.Errorf("wrapped: %w", ErrType), `"wrapped: wrong JSON type"`},
		{marshalerError{}, `{"as":"json"}`},
		{myString("named"), `"named"`}, {&sonicStruct{A: 1}, `{"a":1,"b":"","c":null,"d":null,"r":null}`},
		{sonicStruct{B: "x\xff", C: map[string][]uint{"n": {1}}, D: []byte{1, 2}, R: Raw(`[1]`)},
			`{"a":0,"b":"x\ufffd","c":{"n":[1]},"d":"AQI=","r":[1]}`},
		{[2]int{1, 2}, `[1,2]`}, {map[int]string{1: "a"}, `{"1":"a"}`},
	}
	for _, tt := range tests {
		got, err := AppendValue([]byte("pre"), tt.in)
		if err != nil || string(got) != "pre"+tt.want {
			t.Errorf("AppendValue(%#v) = %s, %v; want %s", tt.in, got, err, tt.want)
			continue
		}
		if !utf8.Valid(got) || !Valid(got[3:]) {
			t.Errorf("AppendValue(%#v) = %q: invalid", tt.in, got)
		}
	}
	cyclic := []any{nil}
	cyclic[0] = cyclic
	bad := []struct {
		in   any
		want error
	}{
		{math.NaN(), ErrUnsupportedValue}, {float32(math.Inf(1)), ErrUnsupportedValue},
		{[]any{1, math.Inf(-1)}, ErrUnsupportedValue}, {map[string]any{"x": math.NaN()}, ErrUnsupportedValue},
		{[]float64{math.NaN()}, ErrUnsupportedValue},
		{Raw(`[1,`), ErrSyntax}, {Raw(`[1,`), ErrUnsupportedValue}, {Raw(``), ErrUnsupportedValue},
		{json.RawMessage("\"\xff\""), ErrUnsupportedValue},
		{json.Number("1.2.3"), ErrUnsupportedValue}, {json.Number(""), ErrUnsupportedValue}, {json.Number("01"), ErrUnsupportedValue},
		{make(chan int), ErrUnsupportedValue}, {func() {}, ErrUnsupportedValue},
		{cyclic, ErrTooDeep},
	}
	for _, tt := range bad {
		got, err := AppendValue([]byte("pre"), tt.in)
		if !errors.Is(err, tt.want) || string(got) != "pre" {
			t.Errorf("AppendValue(%T) = %q, %v; want error %v and the input unchanged", tt.in, got, err, tt.want)
		}
	}
}

func TestAppendEnvelope(t *testing.T) {
	got, err := AppendEnvelope(nil, "b", "pong", -7, 0, int64(4294967296))
	if err != nil || string(got) != `["b","pong",-7,0,4294967296]` {
		t.Fatalf("AppendEnvelope = %s, %v", got, err)
	}
	got, err = AppendEnvelope([]byte("x"), "", "g_slave")
	if err != nil || string(got) != `x["","g_slave"]` {
		t.Fatalf("AppendEnvelope no args = %s, %v", got, err)
	}
	got, err = AppendEnvelope([]byte("x"), "p", "t", 1, math.NaN())
	if !errors.Is(err, ErrUnsupportedValue) || string(got) != "x" {
		t.Fatalf("AppendEnvelope with NaN = %q, %v", got, err)
	}
	h := AppendEnvelopeHead(nil, "pört\n", "tag")
	h = AppendInt(append(h, ','), -5)
	h = AppendUint(append(h, ','), 5)
	h = AppendBool(append(h, ','), true)
	h = AppendNull(append(h, ','))
	h, _ = appendNumber(append(h, ','), "1e3")
	h = append(h, ']')
	if string(h) != `["pört\n","tag",-5,5,true,null,1e3]` {
		t.Fatalf("AppendEnvelopeHead… = %s", h)
	}
	// Deep nesting inside the envelope counts the envelope's own level.
	v := any(1)
	for i := 0; i < MaxDepth-1; i++ {
		v = []any{v}
	}
	if _, err := AppendEnvelope(nil, "p", "t", v); err != nil {
		t.Fatalf("nesting MaxDepth inside an envelope: %v", err)
	}
	if _, err := AppendEnvelope(nil, "p", "t", []any{v}); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("nesting MaxDepth+1 inside an envelope: %v", err)
	}
}

func TestAppendEnvelopeAllocs(t *testing.T) {
	buf := make([]byte, 0, 4096)
	n, f, s := int64(123456789), 3.14159, "a string argument"
	preboxed := [][]any{{n}, {s}, {f}, {s, f}, {n, s, f, true, nil, []byte("xy")}}
	for _, args := range preboxed {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := appendEnvelopeArgs(buf[:0], "9q3J9HyJQb", "ping", args); err != nil {
				panic(err)
			}
		})
		if allocs != 0 {
			t.Errorf("appendEnvelopeArgs(%v) allocates %v times", args, allocs)
		}
	}
	// Constants are boxed statically: the variadic form costs nothing.
	allocs := testing.AllocsPerRun(100, func() {
		b, _ := AppendEnvelope(buf[:0], "b", "pong", 42)
		b, _ = AppendEnvelope(b, "b", "pong", "hello")
		_, _ = AppendEnvelope(b, "b", "pong", 2.5)
	})
	if allocs != 0 {
		t.Errorf("AppendEnvelope with constant arguments allocates %v times", allocs)
	}
	// The typed path never boxes.
	allocs = testing.AllocsPerRun(100, func() {
		b := AppendEnvelopeHead(buf[:0], "b", "pong")
		b = AppendInt(append(b, ','), n)
		b = AppendString(append(b, ','), s)
		b, _ = AppendFloat(append(b, ','), f)
		_ = append(b, ']')
	})
	if allocs != 0 {
		t.Errorf("AppendEnvelopeHead with typed arguments allocates %v times", allocs)
	}
}

// roundTripValues covers every fast-path type (and a few sonic ones) with
// the value DecodeAny must give back.
var roundTripValues = []struct {
	in, want any
}{
	{nil, nil}, {"", ""}, {"héllo wörld ✓ 日本語 😀", "héllo wörld ✓ 日本語 😀"}, {"a\"\\\n\x00", "a\"\\\n\x00"},
	{true, true}, {false, false},
	{int(-1), int64(-1)}, {int8(-128), int64(-128)}, {int16(300), int64(300)}, {int32(-70000), int64(-70000)},
	{int64(math.MaxInt64), int64(math.MaxInt64)}, {int64(math.MinInt64), int64(math.MinInt64)},
	{uint(3), int64(3)}, {uint8(200), int64(200)}, {uint16(60000), int64(60000)}, {uint32(4294967295), int64(4294967295)},
	{uint64(math.MaxUint64), uint64(math.MaxUint64)}, {uint64(1 << 63), uint64(1 << 63)}, {uintptr(9), int64(9)},
	{4294967296.0, 4294967296.0}, {0.1, 0.1}, {-2.0, -2.0}, {1e300, 1e300}, {float32(0.1), 0.1}, // shortest text for the float32
	{[]byte{0, 0x7f, 0x80, 0xff}, "\x00\x7f\u0080\u00ff"},
	{[]any{int64(1), "x", []any{}}, []any{int64(1), "x", []any{}}},
	{[]string{"a"}, []any{"a"}}, {[]int{1}, []any{int64(1)}}, {[]int64{-1}, []any{int64(-1)}}, {[]float64{1}, []any{1.0}},
	{map[string]any{"a": map[string]any{"b": nil}}, map[string]any{"a": map[string]any{"b": nil}}},
	{map[string]string{"k": "v"}, map[string]any{"k": "v"}},
	{Raw(`[1,2.5]`), []any{int64(1), 2.5}}, {json.Number("-18446744073709551617"), json.Number("-18446744073709551617")},
	{errors.New("x"), "x"}, {struct{ A []int }{[]int{1}}, map[string]any{"A": []any{int64(1)}}},
}

func TestRoundTrip(t *testing.T) {
	var args []any
	for _, rt := range roundTripValues {
		args = append(args, rt.in)
		b, err := AppendValue(nil, rt.in)
		if err != nil {
			t.Fatalf("AppendValue(%#v): %v", rt.in, err)
		}
		got, err := DecodeAny(b)
		if err != nil || !reflect.DeepEqual(got, rt.want) {
			t.Errorf("DecodeAny(AppendValue(%#v)) = %#v, %v; want %#v (wire %s)", rt.in, got, err, rt.want, b)
		}
	}
	// The same values as the arguments of one envelope.
	msg, err := appendEnvelopeArgs(nil, "pört#1", "tag\u00e9", args)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ScanEnvelope(msg)
	if err != nil {
		t.Fatal(err)
	}
	if string(e.LocalText(nil)) != "pört#1" || string(e.TagText(nil)) != "tag\u00e9" || e.NArgs != len(args) {
		t.Fatalf("scanned %q %q %d", e.Local, e.Tag, e.NArgs)
	}
	var it ArgIter
	it.Reset(e.Args)
	for i, rt := range roundTripValues {
		raw, err := it.At(i)
		if err != nil {
			t.Fatalf("At(%d): %v", i, err)
		}
		got, err := DecodeAny(raw)
		if err != nil || !reflect.DeepEqual(got, rt.want) {
			t.Errorf("arg %d: DecodeAny = %#v, %v; want %#v", i, got, err, rt.want)
		}
		// The typed decoders agree with DecodeAny.
		switch w := rt.want.(type) {
		case int64:
			if n, err := DecodeInt(raw); err != nil || n != w {
				t.Errorf("arg %d: DecodeInt = %d, %v", i, n, err)
			}
		case uint64:
			if n, err := DecodeUint(raw); err != nil || n != w {
				t.Errorf("arg %d: DecodeUint = %d, %v", i, n, err)
			}
		case float64:
			if f, err := DecodeFloat(raw); err != nil || f != w {
				t.Errorf("arg %d: DecodeFloat = %v, %v", i, f, err)
			}
		case string:
			if s, err := DecodeString(raw); err != nil || s != w {
				t.Errorf("arg %d: DecodeString = %q, %v", i, s, err)
			}
		case bool:
			if v, err := DecodeBool(raw); err != nil || v != w {
				t.Errorf("arg %d: DecodeBool = %v, %v", i, v, err)
			}
		}
		if p, ok := rt.in.([]byte); ok {
			if got, err := DecodeBytes(raw); err != nil || string(got) != string(p) {
				t.Errorf("arg %d: DecodeBytes = %q, %v", i, got, err)
			}
		}
	}
}

type nilErr struct{}

func (*nilErr) Error() string { panic("Error called on nil") }

func TestAppendValueTypedNilError(t *testing.T) {
	var e *nilErr
	got, err := AppendValue(nil, error(e))
	if err != nil || string(got) != "null" {
		t.Fatalf("AppendValue(typed nil error) = %s, %v", got, err)
	}
}

// FuzzAppendString: the shortcut for plain ASCII strings gives the same
// bytes as the escaping encoder, whatever the string.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", "data", "9q3J9HyJQbc", "12345678", "123456789", `a"b`, `back\slash`,
		"tab\there", "\x00", "héllo", "\xff", "exactly8", "sixteen-chars-ok", "ends-with-ctl\x1f", "é1234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendString([]byte("x"), s), appendStringEscaped([]byte("x"), s, 0); string(got) != string(want) {
			t.Fatalf("%q: AppendString %q, escaping encoder %q", s, got, want)
		}
	})
}
