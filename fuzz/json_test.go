package fuzz

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/wire"
)

// FuzzJSONAgreement checks that the one JSON grammar (package wire's
// documentation, "JSON grammar") is applied alike by every part of the
// library that reads JSON, for arbitrary bytes:
//
//   - as one message (the contents of a goframe1 frame): the reference
//     predicate ValidMessage, wire.ScanEnvelope, wire.ScanHead followed by
//     the iteration of every argument, wire.DecodeAny, wire.Valid and
//     frame.JSONSplitter (in one piece and cut at the fuzz-chosen
//     boundaries) accept or reject it together; where they accept, every
//     value decodes (DecodeAny per argument and whole, DecodeString, the
//     routing texts) to what encoding/json decodes;
//   - as a json-framing stream: the splitter (whole and chunked) and
//     wire.ScanNextEnvelope split it into the same texts and agree on how
//     it ends (cleanly, inside a text, or at a malformed one), and no
//     prefix of a rejected text is a valid message.
func FuzzJSONAgreement(f *testing.F) {
	for _, m := range recordedMessages(f) {
		f.Add([]byte(m), []byte{7, 3})
	}
	for _, s := range grammarSeeds {
		f.Add([]byte(s), []byte{0})
	}
	f.Add([]byte(strings.Repeat("[", wire.MaxDepth)+strings.Repeat("]", wire.MaxDepth)), []byte{200})
	f.Add([]byte(strings.Repeat("[", wire.MaxDepth+1)+strings.Repeat("]", wire.MaxDepth+1)), []byte{1})
	f.Add([]byte(`[1] ["a",{"b":[2.5e3]}]`+"\n"+`["\u00e9"`), []byte{2, 5})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		checkMessage(t, data, cuts)
		checkStream(t, data, cuts)
	})
}

// grammarSeeds are texts at the edges of the grammar.
var grammarSeeds = []string{
	`[]`, ` [ ] `, `[""]`, `["",""]`, `[null,true,false]`, `["b","t","\xff"]`,
	"[\"b\",\"t\",\"\xff\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]", "[\"\xf4\x8f\xbf\xbf\"]", "[\"\xf4\x90\x80\x80\"]",
	"[\"\xe6\x97\"]", "[\"é✓😀\"]", `["\ud800"]`, `["\ud83d\ude00"]`, `["\ud800\u0041"]`, `["\u0000"]`,
	`[1,-0,0.5,-1e-400,1e400,18446744073709551616,-9223372036854775808,9223372036854775808]`,
	`[01]`, `[1.]`, `[-]`, `[1,]`, `[,1]`, `[tru]`, `[{"a"}]`, `[{"a":1,}]`, `[{1:1}]`, `{"a":1}`, `"s"`, `12`,
	"[\"\x01\"]", `["\x"]`, `["\u12G4"]`, `[1]x`, `[1],[2]`, `[1][2]`, "\ufeff[1]", `[1e5, 2E-3, 0e0]`,
	`[{"a":1,"a":2}]`, `[[],{},[[]],{"":{}}]`, `["a\"]","\\"]`, "[\"\x7f\"]", `[1 2]`, `["a" "b"]`,
	// arguments that take wire.Decode's sonic path ([]string, map[string]string)
	`["b","t",["\ud800","x",null],{"\udc00":"y","k":"\ud83d\ude00"}]`, `["b","t",["a",1],{"k":[]}]`,
	`[1,true,["é✓😀"],{"é":"✓"}]`,
}

// messageVerdict is what each reader says about one message text.
type messageVerdict struct {
	ref, envelope, head, anyOK, valid, split bool
}

// checkMessage: the accept/reject agreement on data as one message, and
// value agreement where it is accepted.
func checkMessage(t *testing.T, data, cuts []byte) {
	v := messageVerdict{ref: ValidMessage(data, wire.MaxDepth)}
	env, err := wire.ScanEnvelope(data)
	v.envelope = err == nil
	if head, err := wire.ScanHead(data); err == nil {
		var it wire.ArgIter
		it.Reset(head.Args)
		_, err = it.Len()
		v.head = err == nil
	}
	whole, err := wire.DecodeAny(data)
	_, isArray := whole.([]any)
	v.anyOK = err == nil && isArray
	v.valid = wire.Valid(data) && wire.KindOf(data) == wire.KindArray
	trimmed := bytes.Trim(data, " \t\r\n")
	v.split = splitsAs(data, cuts, trimmed)
	if v != (messageVerdict{v.ref, v.ref, v.ref, v.ref, v.ref, v.ref}) {
		t.Fatalf("disagreement on %q: %+v", data, v)
	}
	if !v.ref {
		return
	}
	var want []any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		t.Fatalf("encoding/json rejects %q: %v", data, err)
	}
	if !sameValue(whole, want) {
		t.Fatalf("DecodeAny(%q) = %#v, encoding/json %#v", data, whole, want)
	}
	checkEnvelopeValues(t, data, env, want)
}

// splitsAs reports whether the splitter, fed data whole and in the chunks
// cuts chooses, yields exactly the one text want and ends cleanly.
func splitsAs(data, cuts, want []byte) bool {
	for _, chunks := range [][][]byte{{data}, cutAt(data, cuts)} {
		texts, end, _ := split(chunks)
		if end != Clean || len(texts) != 1 || !bytes.Equal(texts[0], want) {
			return false
		}
	}
	return true
}

// checkEnvelopeValues compares the routing texts and every argument of an
// accepted message with encoding/json's decoding of it.
func checkEnvelopeValues(t *testing.T, data []byte, env wire.Envelope, want []any) {
	heads := []struct {
		text []byte
		kind wire.Kind
	}{{env.LocalText(nil), env.LocalKind}, {env.TagText(nil), env.TagKind}}
	for i, h := range heads {
		if i < len(want) && !sameRouting(h.text, h.kind, want[i]) {
			t.Fatalf("%q: routing text %d %q (%v), encoding/json %#v", data, i, h.text, h.kind, want[i])
		}
	}
	if len(want) > 2 && env.NArgs != len(want)-2 {
		t.Fatalf("%q: NArgs %d, encoding/json sees %d arguments", data, env.NArgs, len(want)-2)
	}
	var it wire.ArgIter
	it.Reset(env.Args)
	for k := 0; k < env.NArgs; k++ {
		raw, err := it.At(k)
		if err != nil {
			t.Fatalf("%q: argument %d: %v", data, k, err)
		}
		got, err := wire.DecodeAny(raw)
		if err != nil || !sameValue(got, want[k+2]) {
			t.Fatalf("%q: argument %d DecodeAny = %#v, %v; encoding/json %#v", data, k, got, err, want[k+2])
		}
		if s, ok := want[k+2].(string); ok {
			if got, err := wire.DecodeString(raw); err != nil || got != s {
				t.Fatalf("%q: argument %d DecodeString = %q, %v; encoding/json %q", data, k, got, err, s)
			}
		}
		checkSonic(t, raw, want[k+2])
	}
	if _, err := it.At(env.NArgs); !errors.Is(err, wire.ErrNoArg) {
		t.Fatalf("%q: argument past the end: %v", data, err)
	}
}

// checkSonic decodes arrays and objects through wire.Decode's sonic path
// (a []string and a map[string]string target) and compares with
// encoding/json on the same target where both succeed.
func checkSonic(t *testing.T, raw []byte, want any) {
	switch want.(type) {
	case []any:
		var got, ref []string
		if wire.Decode(raw, &got) == nil && json.Unmarshal(raw, &ref) == nil && !equalStrings(got, ref) {
			t.Fatalf("Decode(%q, *[]string) = %q, encoding/json %q", raw, got, ref)
		}
	case map[string]any:
		var got, ref map[string]string
		if wire.Decode(raw, &got) == nil && json.Unmarshal(raw, &ref) == nil && !equalStringMaps(got, ref) {
			t.Fatalf("Decode(%q, *map[string]string) = %q, encoding/json %q", raw, got, ref)
		}
	}
}

// checkStream: the splitter (whole and chunked) and wire.ScanNextEnvelope
// agree on the texts of data as a json-framing stream and on its end.
func checkStream(t *testing.T, data, cuts []byte) {
	texts, end, restAt := split([][]byte{data})
	ctexts, cend, _ := split(cutAt(data, cuts))
	ref := ParseJSONStream(data, frame.DefaultMaxFrame)
	if cend != end || len(ctexts) != len(texts) {
		t.Fatalf("%q: whole %d texts, %v; chunked %d texts, %v", data, len(texts), end, len(ctexts), cend)
	}
	if ref.End != end || len(ref.Msgs) != len(texts) {
		t.Fatalf("%q: splitter %q, %v; wire.ScanNextEnvelope %q, %v", data, texts, end, ref.Msgs, ref.End)
	}
	for i := range texts {
		if !bytes.Equal(texts[i], ctexts[i]) || !bytes.Equal(texts[i], ref.Msgs[i]) {
			t.Fatalf("%q: text %d: whole %q, chunked %q, wire %q", data, i, texts[i], ctexts[i], ref.Msgs[i])
		}
		if !ValidMessage(texts[i], wire.MaxDepth) {
			t.Fatalf("%q: text %q is no valid message", data, texts[i])
		}
	}
	if end != Malformed {
		return
	}
	rest := bytes.TrimLeft(data[restAt:], " \t\r\n")
	for n := 1; n <= len(rest) && n <= 512; n++ {
		if ValidMessage(rest[:n], wire.MaxDepth) {
			t.Fatalf("%q: refused at %q, whose prefix %q is a valid message", data, rest, rest[:n])
		}
	}
}

// split runs a frame.JSONSplitter over chunks the way the link's reader
// does; it returns the texts, how the stream ended and the offset of the
// first unconsumed byte.
func split(chunks [][]byte) (texts [][]byte, end End, consumed int) {
	var s frame.JSONSplitter
	var pending []byte
	for _, c := range chunks {
		pending = append(pending, c...)
		for {
			msg, n, err := s.Next(pending)
			if err != nil {
				return texts, Malformed, consumed
			}
			if n == 0 {
				break
			}
			if msg != nil {
				texts = append(texts, bytes.Clone(msg))
			}
			pending = pending[n:]
			consumed += n
		}
	}
	if s.Pending() || len(bytes.Trim(pending, " \t\r\n")) > 0 {
		return texts, Truncated, consumed
	}
	return texts, Clean, consumed
}

// cutAt cuts data into chunks whose sizes are the bytes of cuts plus one,
// used cyclically.
func cutAt(data, cuts []byte) [][]byte {
	if len(cuts) == 0 {
		return [][]byte{data}
	}
	var out [][]byte
	for i, k := 0, 0; i < len(data); k++ {
		n := min(int(cuts[k%len(cuts)])+1, len(data)-i)
		out = append(out, data[i:i+n])
		i += n
	}
	return out
}
