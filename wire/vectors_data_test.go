package wire

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aemp-go/aemp/internal/vectors"
)

// recordedMessage is one data-phase message of the recorded Perl traffic
// as JSON text: the exact wire bytes of json-framed records, and the JSON
// view of cbor-framed records.
type recordedMessage struct {
	name string
	text []byte
}

// cborOnly names the sessions whose CBOR records have no JSON view (NaN,
// infinities, integers beyond int64): the CBOR tests replay those.
var cborOnly = map[string]bool{"session-cbor-only.txt": true, "session-big-deep.txt.gz": true}

func recordedMessages(t testing.TB) []recordedMessage {
	t.Helper()
	files := vectors.Sessions()
	if len(files) == 0 {
		t.Fatal("no recorded sessions found")
	}
	var out []recordedMessage
	for _, path := range files {
		conns, err := vectors.LoadSession(path)
		if err != nil {
			t.Fatal(err)
		}
		for ci, c := range conns {
			for _, dir := range []string{"C>S", "S>C"} {
				for mi, r := range c.Messages(dir) {
					name := filepath.Base(path) + "/" + strconv.Itoa(ci) + "/" + dir + "/" + r.Framing + "/" + strconv.Itoa(mi)
					switch r.Framing {
					case "json":
						out = append(out, recordedMessage{name, r.Wire})
						if r.JSON != string(r.Wire) {
							out = append(out, recordedMessage{name + "/view", []byte(r.JSON)})
						}
					case "cbor":
						if cborOnly[filepath.Base(path)] {
							continue
						}
						out = append(out, recordedMessage{name, []byte(r.JSON)})
					default:
						t.Fatalf("%s: unknown framing %q", name, r.Framing)
					}
				}
			}
		}
	}
	return out
}

// TestRecordedMessages scans and fully decodes every recorded message and
// checks the result against an independent decode with encoding/json.
func TestRecordedMessages(t *testing.T) {
	msgs := recordedMessages(t)
	var sawJSON, sawCBOR, sawUnicode, saw2p32, sawFloat, sawNested bool
	for _, m := range msgs {
		sawJSON = sawJSON || strings.Contains(m.name, "/json/")
		sawCBOR = sawCBOR || strings.Contains(m.name, "/cbor/")

		dec := json.NewDecoder(bytes.NewReader(m.text))
		dec.UseNumber()
		var ref []any
		if err := dec.Decode(&ref); err != nil {
			t.Fatalf("%s: encoding/json cannot decode %s: %v", m.name, m.text, err)
		}

		e, err := ScanEnvelope(m.text)
		if err != nil {
			t.Errorf("%s: ScanEnvelope(%s): %v", m.name, m.text, err)
			continue
		}
		if len(ref) == 0 {
			if e.LocalKind != KindNone {
				t.Errorf("%s: empty message scanned with a local part", m.name)
			}
			continue
		}
		// local part: a string (or null) — compare the unescaped text.
		wantLocal, _ := ref[0].(string)
		if got := string(e.LocalText(nil)); got != wantLocal {
			t.Errorf("%s: local = %q, want %q", m.name, got, wantLocal)
		}
		if len(ref) < 2 {
			if e.TagKind != KindNone {
				t.Errorf("%s: tag found in a message without one", m.name)
			}
			continue
		}
		if wantTag, ok := ref[1].(string); !ok {
			if e.TagKind == KindString { // a relayed non-string first element (session-cal)
				t.Errorf("%s: tag %v scanned as a string", m.name, ref[1])
			}
		} else if got := string(e.TagText(nil)); got != wantTag || e.TagKind != KindString {
			t.Errorf("%s: tag = %q (%v), want %q", m.name, got, e.TagKind, wantTag)
		}
		wantArgs := ref[2:]
		if e.NArgs != len(wantArgs) {
			t.Errorf("%s: NArgs = %d, want %d", m.name, e.NArgs, len(wantArgs))
		}
		var it ArgIter
		it.Reset(e.Args)
		if n, err := it.Len(); n != len(wantArgs) || err != nil {
			t.Errorf("%s: ArgIter.Len = %d, %v", m.name, n, err)
		}
		for i, want := range wantArgs {
			raw, err := it.At(i)
			if err != nil {
				t.Errorf("%s: arg %d: %v", m.name, i, err)
				continue
			}
			if raw2, err := ArgAt(e.Args, i); err != nil || !bytes.Equal(raw, raw2) {
				t.Errorf("%s: ArgAt(%d) = %q, %v; ArgIter gave %q", m.name, i, raw2, err, raw)
			}
			got, err := DecodeAny(raw)
			if err != nil {
				t.Errorf("%s: arg %d: DecodeAny(%s): %v", m.name, i, raw, err)
				continue
			}
			if exp := expectAny(t, want); !reflect.DeepEqual(got, exp) {
				t.Errorf("%s: arg %d: DecodeAny(%s) = %#v, want %#v", m.name, i, raw, got, exp)
			}
			checkTyped(t, m.name, i, raw, want)
			// Decode via sonic into a generic value agrees as well.
			var viaSonic struct {
				V any `json:"v"`
			}
			if err := Decode([]byte(`{"v":`+string(raw)+`}`), &viaSonic); err != nil || !reflect.DeepEqual(viaSonic.V, want) {
				t.Errorf("%s: arg %d: Decode(struct) = %#v, %v; want %#v", m.name, i, viaSonic.V, err, want)
			}
			// Re-encoding the decoded value gives an equivalent JSON text.
			again, err := AppendValue(nil, got)
			if err != nil {
				t.Errorf("%s: arg %d: AppendValue: %v", m.name, i, err)
			} else if back, err := DecodeAny(again); err != nil || !reflect.DeepEqual(back, got) {
				t.Errorf("%s: arg %d: re-encoded %s decodes to %#v, %v", m.name, i, again, back, err)
			}

			if s, ok := want.(string); ok && s == "héllo wörld ✓ 日本語 😀" {
				sawUnicode = true
			}
			if n, ok := want.(json.Number); ok {
				saw2p32 = saw2p32 || n == "4294967296"
				sawFloat = sawFloat || strings.ContainsAny(string(n), ".eE")
			}
			if _, ok := want.([]any); ok {
				sawNested = true
			}
		}
		if _, err := it.At(len(wantArgs)); err == nil {
			t.Errorf("%s: ArgIter.At past the end succeeded", m.name)
		}
	}
	if !sawJSON || !sawCBOR || !sawUnicode || !saw2p32 || !sawFloat || !sawNested {
		t.Fatalf("coverage of the recordings: json %v cbor %v unicode %v 4294967296 %v float %v nested %v (%d messages)",
			sawJSON, sawCBOR, sawUnicode, saw2p32, sawFloat, sawNested, len(msgs))
	}
	t.Logf("%d recorded messages checked", len(msgs))
}

// expectAny converts an encoding/json (UseNumber) value into what DecodeAny
// must return for the same text.
func expectAny(t *testing.T, v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if strings.ContainsAny(s, ".eE") {
			f, err := x.Float64()
			if err != nil {
				return x
			}
			return f
		}
		if n, err := x.Int64(); err == nil {
			return n
		}
		var u uint64
		if err := json.Unmarshal([]byte(s), &u); err == nil {
			return u
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = expectAny(t, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = expectAny(t, e)
		}
		return out
	}
	return v
}

// checkTyped runs the typed decoder that fits the reference value.
func checkTyped(t *testing.T, name string, i int, raw []byte, want any) {
	t.Helper()
	switch w := want.(type) {
	case string:
		s, err := DecodeString(raw)
		if err != nil || s != w {
			t.Errorf("%s: arg %d: DecodeString = %q, %v; want %q", name, i, s, err, w)
		}
		var scratch [64]byte
		sb, err := decodeStringBytes(raw, scratch[:0])
		if err != nil || string(sb) != w {
			t.Errorf("%s: arg %d: decodeStringBytes = %q, %v; want %q", name, i, sb, err, w)
		}
	case json.Number:
		f, _ := w.Float64()
		got, err := DecodeFloat(raw)
		if err != nil || got != f {
			t.Errorf("%s: arg %d: DecodeFloat = %v, %v; want %v", name, i, got, err, f)
		}
		if n, err := w.Int64(); err == nil {
			got, err := DecodeInt(raw)
			if err != nil || got != n {
				t.Errorf("%s: arg %d: DecodeInt = %d, %v; want %d", name, i, got, err, n)
			}
		} else if f == math.Trunc(f) {
			t.Errorf("%s: arg %d: integral number %s outside int64 in the recordings", name, i, w)
		} else if _, err := DecodeInt(raw); err == nil {
			t.Errorf("%s: arg %d: DecodeInt accepted the non-integer %s", name, i, raw)
		}
		if s, err := DecodeString(raw); err != nil || s != string(w) {
			t.Errorf("%s: arg %d: DecodeString(number) = %q, %v", name, i, s, err)
		}
	case bool:
		got, err := DecodeBool(raw)
		if err != nil || got != w {
			t.Errorf("%s: arg %d: DecodeBool = %v, %v", name, i, got, err)
		}
	case nil:
		if got, err := DecodeBool(raw); err != nil || got {
			t.Errorf("%s: arg %d: DecodeBool(null) = %v, %v", name, i, got, err)
		}
		if _, err := DecodeInt(raw); err == nil {
			t.Errorf("%s: arg %d: DecodeInt(null) succeeded", name, i)
		}
	default:
		if _, err := DecodeString(raw); err == nil {
			t.Errorf("%s: arg %d: DecodeString(%s) succeeded", name, i, raw)
		}
	}
}
