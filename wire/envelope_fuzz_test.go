package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

func addFuzzSeeds(f *testing.F) {
	for _, m := range recordedMessages(f) {
		f.Add(m.text)
	}
	for _, s := range []string{
		`[]`, `[""]`, `[null,"eval","1+1"]`, `["p",1,true,false]`, `["p",[1],{"a":[]}]`,
		`["a\u00e9\ud83d\ude00","t\n",-0.0,1e999,18446744073709551616,"\ud800"]`,
		`["p","t",01]`, `["p","t",1,]`, "[\"p\",\"\xff\"]", `["p","t"`, `{"a":1}`, ` [ "p" , "t" ] `,
		`["p","t","42"," 7 ","+1","1e3","2.5","","0","\u00ff"]`,
	} {
		f.Add([]byte(s))
	}
}

// jsonDepth returns the maximum nesting depth of valid JSON text.
func jsonDepth(b []byte) int {
	depth, maxD, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{':
			depth++
			maxD = max(maxD, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return maxD
}

func FuzzScanEnvelope(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ScanEnvelope(data)
		first := skipWS(data, 0)
		acceptable := json.Valid(data) && utf8.Valid(data) && first < len(data) && data[first] == '[' &&
			jsonDepth(data) <= MaxDepth
		if (err == nil) != acceptable {
			t.Fatalf("ScanEnvelope(%q) error = %v, but encoding/json validity (array, UTF-8, depth) = %v", data, err, acceptable)
		}
		if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrTooDeep) && !errors.Is(err, ErrNotArray) && err != nil {
			t.Fatalf("ScanEnvelope(%q) error %v matches no sentinel", data, err)
		}
		// ScanHead accepts everything ScanEnvelope accepts, with the same
		// head and arguments; what it accepts beyond that has arguments
		// that the lazy accessors reject.
		if h, herr := ScanHead(data); err == nil {
			if herr != nil || !bytes.Equal(h.Local, e.Local) || !bytes.Equal(h.Tag, e.Tag) || !bytes.Equal(h.Args, e.Args) ||
				h.LocalKind != e.LocalKind || h.TagKind != e.TagKind || h.LocalEscaped != e.LocalEscaped || h.TagEscaped != e.TagEscaped {
				t.Fatalf("ScanHead(%q) = %+v, %v; ScanEnvelope = %+v", data, h, herr, e)
			}
		} else if herr == nil && errors.Is(err, ErrSyntax) {
			if _, cerr := CountArgs(h.Args); cerr == nil && len(h.Args) > 0 {
				// the head and brackets were fine, the arguments must be the problem
				if _, err2 := ScanEnvelope(append(append([]byte(`["",""`), ","...), append(h.Args, ']')...)); err2 != nil {
					t.Fatalf("ScanHead(%q) accepted arguments %q that CountArgs accepts but ScanEnvelope rejects: %v", data, h.Args, err2)
				}
			}
		}
		// ScanHeadInto overwrites whatever its Envelope held with what
		// ScanHead returns, the zero Envelope on error.
		dirty := Envelope{Local: []byte("x"), Args: []byte("1"), NArgs: 7, TagKind: KindString, CBOR: true}
		h, herr := ScanHead(data)
		if ierr := ScanHeadInto(&dirty, data); (ierr == nil) != (herr == nil) || !reflect.DeepEqual(dirty, h) {
			t.Fatalf("ScanHeadInto(%q) = %+v, %v; ScanHead = %+v, %v", data, dirty, ierr, h, herr)
		}
		// The stream scanner agrees on the first message.
		se, n, serr := ScanNextEnvelope(data)
		if serr == nil {
			if _, err2 := ScanEnvelope(data[:n]); err2 != nil {
				t.Fatalf("ScanNextEnvelope used %d bytes of %q, which do not scan: %v", n, data, err2)
			}
		}
		if err != nil {
			return
		}
		if serr != nil || !reflect.DeepEqual(se, e) {
			t.Fatalf("ScanNextEnvelope(%q) = %+v, %v; ScanEnvelope = %+v", data, se, serr, e)
		}

		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var ref []any
		if err := dec.Decode(&ref); err != nil {
			t.Fatalf("encoding/json rejects %q: %v", data, err)
		}
		if len(ref) > 0 {
			if s, ok := ref[0].(string); ok && string(e.LocalText(nil)) != s {
				t.Fatalf("local %q, encoding/json %q", e.LocalText(nil), s)
			}
		}
		if len(ref) > 1 {
			if s, ok := ref[1].(string); ok && string(e.TagText(nil)) != s {
				t.Fatalf("tag %q, encoding/json %q", e.TagText(nil), s)
			}
		}
		args := max(len(ref)-2, 0)
		if e.NArgs != args {
			t.Fatalf("NArgs = %d, encoding/json sees %d", e.NArgs, args)
		}
		var it ArgIter
		it.Reset(e.Args)
		for i := 0; i < e.NArgs; i++ {
			raw, err := it.At(i)
			if err != nil {
				t.Fatalf("At(%d) on a scanned message: %v", i, err)
			}
			if raw2, err := ArgAt(e.Args, i); err != nil || !bytes.Equal(raw, raw2) {
				t.Fatalf("ArgAt(%d) = %q, %v; At gave %q", i, raw2, err, raw)
			}
			v, err := DecodeAny(raw)
			if err != nil {
				t.Fatalf("DecodeAny(%q) on a scanned argument: %v", raw, err)
			}
			if want := expectAny(t, ref[i+2]); !reflect.DeepEqual(v, want) {
				t.Fatalf("DecodeAny(%q) = %#v, encoding/json %#v", raw, v, want)
			}
			// None of these may panic; their errors must be typed.
			var scratch [16]byte
			for _, err := range []error{
				second(DecodeInt(raw)), second(DecodeUint(raw)), second(DecodeFloat(raw)),
				second(DecodeString(raw)), second(decodeStringBytes(raw, scratch[:0])), second(DecodeBool(raw)),
				second(DecodeBytes(raw)), Decode(raw, new(any)), Decode(raw, new(decodeTarget)), Decode(raw, new(int16)),
			} {
				if err != nil && !errors.Is(err, ErrType) && !errors.Is(err, ErrRange) {
					t.Fatalf("decoding the valid argument %q: untyped error %v", raw, err)
				}
			}
			if s, ok := ref[i+2].(string); ok {
				if got, err := DecodeString(raw); err != nil || got != s {
					t.Fatalf("DecodeString(%q) = %q, %v; encoding/json %q", raw, got, err, s)
				}
			}
		}
		if _, err := it.At(e.NArgs); !errors.Is(err, ErrNoArg) {
			t.Fatalf("At(NArgs) error = %v", err)
		}
	})
}

func second[T any](_ T, err error) error { return err }

// FuzzValueRoundTrip checks DecodeAny∘AppendValue = identity on values
// produced by encoding/json, both with json.Number and with float64.
func FuzzValueRoundTrip(f *testing.F) {
	addFuzzSeeds(f)
	f.Add([]byte(`{"a":[1.5,2,-3e-7,1e21,"x\u0000"],"b":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var num any
		if dec.Decode(&num) != nil {
			return
		}
		tooDeep := jsonDepth(data) > MaxDepth
		out, err := AppendValue(nil, num)
		if tooDeep {
			if !errors.Is(err, ErrTooDeep) {
				t.Fatalf("AppendValue of a value nested deeper than MaxDepth: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("AppendValue(%#v): %v", num, err)
		}
		if !utf8.Valid(out) || !json.Valid(out) {
			t.Fatalf("AppendValue(%#v) = %q: invalid", num, out)
		}
		got, err := DecodeAny(out)
		if err != nil {
			t.Fatalf("DecodeAny(%q): %v", out, err)
		}
		if want := expectAny(t, num); !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeAny(AppendValue(%#v)) = %#v, want %#v (wire %q)", num, got, want, out)
		}

		var fl any
		if err := json.Unmarshal(data, &fl); err != nil {
			return // e.g. a number beyond float64
		}
		out, err = AppendValue(out[:0], fl)
		if err != nil {
			t.Fatalf("AppendValue(%#v): %v", fl, err)
		}
		got, err = DecodeAny(out)
		if err != nil || !reflect.DeepEqual(got, fl) {
			t.Fatalf("DecodeAny(AppendValue(%#v)) = %#v, %v (wire %q)", fl, got, err, out)
		}
	})
}

// FuzzHeadMemo: scanning with a HeadMemo gives what ScanHead gives, for an
// envelope after any other (the same head and other arguments, a head
// that only starts the same, garbage), and the memo stays bounded.
func FuzzHeadMemo(f *testing.F) {
	f.Add([]byte(`["k3f9Qa7Lw2","w1",1,2]`), []byte(`["k3f9Qa7Lw2","w1",3,null]`))
	f.Add([]byte(`["p","t",1]`), []byte(`["p","t"x]`))
	f.Add([]byte(`["p","t",1]`), []byte(`["p","t"]`))
	f.Add([]byte(`["p","t",1]`), []byte(`["p","t"`))
	f.Add([]byte(`["p\"q","t\u00e9",1]`), []byte(`["p\"q","t\u00e9" , {"a":1}]`))
	f.Add([]byte(`[ "p","t"]`), []byte(`[ "p","t",2]`))
	f.Add([]byte(`["p",7,1]`), []byte(`["p",7,2]`))
	f.Add([]byte(`["","",1]`), []byte(`["","",[]]`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var m HeadMemo
		for _, data := range [][]byte{a, b, b, a} {
			var got Envelope
			err := ScanHeadMemo(&got, data, &m)
			want, werr := ScanHead(data)
			if (err == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
				t.Fatalf("ScanHeadMemo(%q) after %q = %+v, %v; ScanHead = %+v, %v", data, a, got, err, want, werr)
			}
			if len(m.head) > headMemoMax {
				t.Fatalf("memo holds %d bytes", len(m.head))
			}
		}
	})
}
