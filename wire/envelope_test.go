package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

func TestScanEnvelope(t *testing.T) {
	tests := []struct {
		in         string
		local, tag string
		lk, tk     Kind
		args       string
		nargs      int
		keepAlive  bool
	}{
		{in: `[]`, lk: KindNone, tk: KindNone, keepAlive: true},
		{in: ` [ ] `, lk: KindNone, tk: KindNone, keepAlive: true},
		{in: `[""]`, lk: KindString, tk: KindNone, keepAlive: true},
		{in: `["",""]`, lk: KindString, tk: KindString, keepAlive: true},
		{in: `[null]`, lk: KindNull, tk: KindNone, keepAlive: true},
		{in: `[null,"eval","1+1"]`, lk: KindNull, tag: "eval", tk: KindString, args: `"1+1"`, nargs: 1},
		{in: `["","g_slave"]`, lk: KindString, tag: "g_slave", tk: KindString},
		{in: `["b","pong",42]`, local: "b", lk: KindString, tag: "pong", tk: KindString, args: `42`, nargs: 1},
		{in: `["b","pong",-7,0,4294967296]`, local: "b", lk: KindString, tag: "pong", tk: KindString, args: `-7,0,4294967296`, nargs: 3},
		{in: "[ \"p\" ,\t\"t\" ,\n 1 , [2, {\"a\": 3}] \r\n]\n", local: "p", lk: KindString, tag: "t", tk: KindString, args: "1 , [2, {\"a\": 3}]", nargs: 2},
		{in: `["p",1,"x"]`, local: "p", lk: KindString, tag: "1", tk: KindNumber, args: `"x"`, nargs: 1},
		{in: `["p",-2.5e3]`, local: "p", lk: KindString, tag: "-2.5e3", tk: KindNumber},
		{in: `["p",true]`, local: "p", lk: KindString, tag: "1", tk: KindBool},
		{in: `["p",false]`, local: "p", lk: KindString, tag: "0", tk: KindBool},
		{in: `["p",null,1]`, local: "p", lk: KindString, tk: KindNull, args: `1`, nargs: 1},
		{in: `[7,"t"]`, local: "7", lk: KindNumber, tag: "t", tk: KindString},
		{in: `["p",[1,2],3]`, local: "p", lk: KindString, tag: "[1,2]", tk: KindArray, args: `3`, nargs: 1},
		{in: `[{"a":1},"t"]`, local: `{"a":1}`, lk: KindObject, tag: "t", tk: KindString},
		{in: `["héllo","日本語","😀"]`, local: "héllo", lk: KindString, tag: "日本語", tk: KindString, args: `"😀"`, nargs: 1},
		{in: `["a","b",[],{},"",null]`, local: "a", lk: KindString, tag: "b", tk: KindString, args: `[],{},"",null`, nargs: 4},
	}
	for _, tt := range tests {
		e, err := ScanEnvelope([]byte(tt.in))
		if err != nil {
			t.Errorf("ScanEnvelope(%q): %v", tt.in, err)
			continue
		}
		if string(e.Local) != tt.local || e.LocalKind != tt.lk || string(e.Tag) != tt.tag || e.TagKind != tt.tk ||
			string(e.Args) != tt.args || e.NArgs != tt.nargs || e.IsKeepAlive() != tt.keepAlive {
			t.Errorf("ScanEnvelope(%q) = local %q/%v tag %q/%v args %q n=%d keepalive=%v; want %q/%v %q/%v %q n=%d keepalive=%v",
				tt.in, e.Local, e.LocalKind, e.Tag, e.TagKind, e.Args, e.NArgs, e.IsKeepAlive(),
				tt.local, tt.lk, tt.tag, tt.tk, tt.args, tt.nargs, tt.keepAlive)
		}
		if n, err := CountArgs(e.Args); err != nil || n != e.NArgs {
			t.Errorf("CountArgs(%q) = %d, %v; want %d", e.Args, n, err, e.NArgs)
		}
	}
}

func TestScanEnvelopeEscapes(t *testing.T) {
	in := []byte(`["a\"b\u00e9","t\\ag\ud83d\ude00\n",1]`)
	e, err := ScanEnvelope(in)
	if err != nil {
		t.Fatal(err)
	}
	if !e.LocalEscaped || !e.TagEscaped {
		t.Fatalf("escape flags not set: %+v", e)
	}
	var scratch [32]byte
	if got := string(e.LocalText(scratch[:0])); got != "a\"bé" {
		t.Errorf("LocalText = %q", got)
	}
	if got := string(e.TagText(nil)); got != "t\\ag😀\n" {
		t.Errorf("TagText = %q", got)
	}
	// Without escapes the text is the buffer itself.
	e, _ = ScanEnvelope([]byte(`["port","tag"]`))
	if e.LocalEscaped || e.TagEscaped {
		t.Fatal("escape flags set for plain strings")
	}
	if &e.LocalText(nil)[0] != &e.Local[0] {
		t.Error("LocalText copied an unescaped local part")
	}
}

func TestScanEnvelopeErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{``, ErrTruncated},
		{`   `, ErrTruncated},
		{`[`, ErrTruncated},
		{`["a"`, ErrTruncated},
		{`["a",`, ErrTruncated},
		{`["a","b",1`, ErrTruncated},
		{`["a","b",[1,2`, ErrTruncated},
		{`["a","b","unterminated`, ErrTruncated},
		{`["a","b",tru`, ErrTruncated},
		{`["a","b",-`, ErrTruncated},
		{"[\"a\",\"\xe6\x97", ErrTruncated},
		{`{"a":1}`, ErrNotArray},
		{`"a"`, ErrNotArray},
		{`42`, ErrNotArray},
		{`null`, ErrNotArray},
		{`x`, ErrSyntax},
		{`[,]`, ErrSyntax},
		{`["a",]`, ErrSyntax},
		{`["a","b",]`, ErrSyntax},
		{`["a","b",1,]`, ErrSyntax},
		{`["a",,"b"]`, ErrSyntax},
		{`["a" "b"]`, ErrSyntax},
		{`["a","b",1 2]`, ErrSyntax},
		{`["a","b"]]`, ErrSyntax},
		{`["a","b"],`, ErrSyntax},
		{`["a","b"][]`, ErrSyntax},
		{`["a","b\x"]`, ErrSyntax},
		{`["a","b\u12g4"]`, ErrSyntax},
		{"[\"a\",\"b\tc\"]", ErrSyntax},
		{"[\"a\",\"b\x00\"]", ErrSyntax},
		{"[\"a\",\"\xff\"]", ErrSyntax},
		{"[\"a\",\"\xc3\x28\"]", ErrSyntax},
		{"[\"\xed\xa0\x80\"]", ErrSyntax}, // UTF-8-encoded surrogate
		{`["a","b",01]`, ErrSyntax},
		{`["a","b",-01]`, ErrSyntax},
		{`["a","b",1.]`, ErrSyntax},
		{`["a","b",.5]`, ErrSyntax},
		{`["a","b",1e]`, ErrSyntax},
		{`["a","b",1e+]`, ErrSyntax},
		{`["a","b",+1]`, ErrSyntax},
		{`["a","b",- 1]`, ErrSyntax},
		{`["a","b",NaN]`, ErrSyntax},
		{`["a","b",True]`, ErrSyntax},
		{`["a","b",nul]`, ErrSyntax},
		{`["a","b",{1:2}]`, ErrSyntax},
		{`["a","b",{"a" 2}]`, ErrSyntax},
		{`["a","b",{"a":2,}]`, ErrSyntax},
		{`["a","b",{"a":2]`, ErrSyntax},
		{`["a","b",[1}]`, ErrSyntax},
		{`["a","b",'x']`, ErrSyntax},
		{`[x]`, ErrSyntax},
		{`["a",x]`, ErrSyntax},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), ErrTooDeep},
		{`["a","b",` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `]`, ErrTooDeep},
		{`["a",` + strings.Repeat("{\"k\":", MaxDepth) + "1" + strings.Repeat("}", MaxDepth) + `]`, ErrTooDeep},
	}
	for _, tt := range tests {
		_, err := ScanEnvelope([]byte(tt.in))
		if !errors.Is(err, tt.want) {
			t.Errorf("ScanEnvelope(%q) error = %v, want %v", tt.in, err, tt.want)
		}
		if errors.Is(err, ErrTruncated) && !errors.Is(err, ErrSyntax) {
			t.Errorf("ScanEnvelope(%q): truncation error %v is not an ErrSyntax", tt.in, err)
		}
	}
	// The deepest accepted nesting.
	ok := `["a","b",` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `]`
	if _, err := ScanEnvelope([]byte(ok)); err != nil {
		t.Errorf("nesting of exactly MaxDepth: %v", err)
	}
}

func TestScanNextEnvelopeStream(t *testing.T) {
	// Back-to-back texts, optionally separated by whitespace (spec §3.11).
	stream := []byte("[\"a\",\"x\",1][\"b\",\"y\"]\n  [\"c\",\"z\",[2]]\r\n[]")
	var tags []string
	for len(stream) > 0 {
		e, n, err := ScanNextEnvelope(stream)
		if err != nil {
			t.Fatalf("at %q: %v", stream, err)
		}
		tags = append(tags, string(e.Local)+":"+string(e.Tag))
		stream = stream[n:]
	}
	if got := strings.Join(tags, ","); got != "a:x,b:y,c:z,:" {
		t.Fatalf("tags = %s", got)
	}
	// Every proper prefix of a message is reported as truncated.
	msg := `["port","tag",{"k":[1,"v\u00e9",true,null]},-1.5e3,"é"]`
	for i := 0; i < len(msg); i++ {
		_, _, err := ScanNextEnvelope([]byte(msg[:i]))
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("prefix %q: error %v, want ErrTruncated", msg[:i], err)
		}
	}
	if _, n, err := ScanNextEnvelope([]byte(msg + "[")); err != nil || n != len(msg) {
		t.Errorf("ScanNextEnvelope with following data = %d, %v", n, err)
	}
	// A comma between texts is not allowed (JSON::XS would croak).
	_, n, _ := ScanNextEnvelope([]byte(`["a"],["b"]`))
	if _, _, err := ScanNextEnvelope([]byte(`["a"],["b"]`)[n:]); !errors.Is(err, ErrSyntax) || errors.Is(err, ErrTruncated) {
		t.Errorf("comma between messages: %v", err)
	}
}

func TestScanEnvelopeAllocs(t *testing.T) {
	msg := []byte(`["9q3J9HyJQb","ping","perlclient/6g3BKcNkvW#b","mixed",1,2.5,null,false,[{}],{"a":"é"}]`)
	allocs := testing.AllocsPerRun(100, func() {
		e, err := ScanEnvelope(msg)
		if err != nil || e.NArgs != 8 {
			panic("bad scan")
		}
	})
	if allocs != 0 {
		t.Fatalf("ScanEnvelope allocates %v times", allocs)
	}
}

func TestNextValueAndArgAt(t *testing.T) {
	args := []byte(` 1 ,"two" , [3,[4]] ,{"five":5},null,true, -6.5e1 `)
	want := []string{`1`, `"two"`, `[3,[4]]`, `{"five":5}`, `null`, `true`, `-6.5e1`}
	rest := args
	for i, w := range want {
		raw, r, err := NextValue(rest)
		if err != nil || string(raw) != w {
			t.Fatalf("NextValue #%d = %q, %v; want %q", i, raw, err, w)
		}
		rest = r
	}
	if len(rest) != 0 {
		t.Fatalf("rest after last value = %q", rest)
	}
	if _, _, err := NextValue(rest); !errors.Is(err, ErrNoArg) {
		t.Fatalf("NextValue(empty) error = %v", err)
	}
	for i, w := range want {
		raw, err := ArgAt(args, i)
		if err != nil || string(raw) != w {
			t.Errorf("ArgAt(%d) = %q, %v; want %q", i, raw, err, w)
		}
	}
	for _, i := range []int{-1, len(want), 100} {
		if _, err := ArgAt(args, i); !errors.Is(err, ErrNoArg) {
			t.Errorf("ArgAt(%d) error = %v, want ErrNoArg", i, err)
		}
	}
	if n, err := CountArgs(args); n != len(want) || err != nil {
		t.Errorf("CountArgs = %d, %v", n, err)
	}
	if n, err := CountArgs(nil); n != 0 || err != nil {
		t.Errorf("CountArgs(nil) = %d, %v", n, err)
	}
	for _, bad := range []string{`1,`, `1,,2`, `1 2`, `[1`, `"x`, `1,]`, `}`} {
		if _, err := CountArgs([]byte(bad)); !errors.Is(err, ErrSyntax) {
			t.Errorf("CountArgs(%q) error = %v, want ErrSyntax", bad, err)
		}
	}
	if _, err := ArgAt([]byte(`1,2,`), 1); !errors.Is(err, ErrSyntax) {
		t.Errorf("ArgAt before a trailing comma: %v", err)
	}
}

func TestArgIter(t *testing.T) {
	var parts []string
	for i := 0; i < 20; i++ {
		parts = append(parts, strings.Repeat("[", i%3)+`"a`+strings.Repeat("x", i)+`"`+strings.Repeat("]", i%3))
	}
	args := []byte(strings.Join(parts, " , "))

	var zero ArgIter
	if _, err := zero.At(0); !errors.Is(err, ErrNoArg) {
		t.Errorf("zero ArgIter At(0) error = %v", err)
	}
	if n, err := zero.Len(); n != 0 || err != nil {
		t.Errorf("zero ArgIter Len = %d, %v", n, err)
	}

	orders := [][]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19},
		{19, 0, 18, 1, 10, 9, 8, 7, 15, 12, 2, 3, 4, 5, 6, 11, 13, 14, 16, 17},
		{5, 5, 3, 12, 12, 11, 0},
	}
	for _, order := range orders {
		var it ArgIter
		it.Reset(args)
		for _, i := range order {
			raw, err := it.At(i)
			if err != nil || string(raw) != parts[i] {
				t.Fatalf("At(%d) = %q, %v; want %q", i, raw, err, parts[i])
			}
		}
		if n, err := it.Len(); n != len(parts) || err != nil {
			t.Fatalf("Len = %d, %v", n, err)
		}
		if _, err := it.At(len(parts)); !errors.Is(err, ErrNoArg) {
			t.Fatalf("At(past end) error = %v", err)
		}
	}

	var it ArgIter
	it.Reset([]byte(`1,2,{"bad"}`))
	if raw, err := it.At(1); err != nil || string(raw) != "2" {
		t.Fatalf("At(1) before a bad argument = %q, %v", raw, err)
	}
	if _, err := it.At(2); !errors.Is(err, ErrSyntax) {
		t.Fatalf("At(bad argument) error = %v", err)
	}
	if _, err := it.Len(); !errors.Is(err, ErrSyntax) {
		t.Fatalf("Len with a bad argument: %v", err)
	}
}

func TestArgIterSequentialIsLinear(t *testing.T) {
	// 2000 arguments accessed in order: after At(i) the iterator must
	// resume at argument i (not rescan from the start), so the total work
	// is linear. Timing is too noisy for a test; check the resume point.
	var parts []string
	for i := 0; i < 2000; i++ {
		parts = append(parts, `"v"`)
	}
	args := []byte(strings.Join(parts, ","))
	var it ArgIter
	it.Reset(args)
	for i := range parts {
		if _, err := it.At(i); err != nil {
			t.Fatal(err)
		}
		if k, off := it.start(i + 1); i >= argCache && (k != i || off != 4*i) {
			t.Fatalf("after At(%d) the iterator restarts at argument %d (offset %d)", i, k, off)
		}
	}
	allocs := testing.AllocsPerRun(10, func() {
		it.Reset(args)
		for i := 0; i < 50; i++ {
			if _, err := it.At(i); err != nil {
				panic(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("ArgIter allocates %v times", allocs)
	}
}

func TestKindOf(t *testing.T) {
	for in, want := range map[string]Kind{
		``: KindNone, ` `: KindNone, `x`: KindNone, `null`: KindNull, `true`: KindBool, `false`: KindBool,
		`-1`: KindNumber, `0`: KindNumber, ` "s"`: KindString, `[]`: KindArray, `{}`: KindObject,
	} {
		if got := KindOf([]byte(in)); got != want {
			t.Errorf("KindOf(%q) = %v, want %v", in, got, want)
		}
	}
	if KindObject.String() != "object" || Kind(99).String() != "Kind(99)" {
		t.Error("Kind.String")
	}
}

func TestValid(t *testing.T) {
	for in, want := range map[string]bool{
		`1`: true, ` [1, {"a": [null]}] `: true, `"\u00e9"`: true, `[1,]`: false, "\"\xff\"": false, ``: false, `1 2`: false,
	} {
		if got := Valid([]byte(in)); got != want {
			t.Errorf("Valid(%q) = %v", in, got)
		}
	}
}

func TestScanStringEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 10; pos++ {
			s := `"` + strings.Repeat("a", pos) + string([]byte{byte(c)}) + strings.Repeat("b", 9) + `"`
			end, _, err := scanString([]byte(s), 1)
			switch {
			case c == '"':
				if err != nil || end != pos+2 {
					t.Fatalf("%q: end %d, %v", s, end, err)
				}
			case c == '\\':
				if err != nil || end != len(s) {
					t.Fatalf("%q: end %d, %v", s, end, err)
				}
			case c < 0x20 || c >= 0x80:
				if !errors.Is(err, ErrSyntax) || errors.Is(err, ErrTruncated) {
					t.Fatalf("%q: end %d, %v; want a syntax error", s, end, err)
				}
			default:
				if err != nil || end != len(s) {
					t.Fatalf("%q: end %d, %v", s, end, err)
				}
			}
		}
	}
}

func TestArgIterSize(t *testing.T) {
	if size := unsafe.Sizeof(ArgIter{}); size > 80 {
		t.Fatalf("ArgIter is %d bytes; the root keeps one per message, keep it small", size)
	}
}

// TestScanStringUTF8 compares scanString's UTF-8 check with utf8.Valid on
// every lead byte followed by representative continuation bytes.
func TestScanStringUTF8(t *testing.T) {
	follow := []byte{0x00, 'a', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff}
	for lead := 0x80; lead < 0x100; lead++ {
		for _, b1 := range follow {
			for _, b2 := range follow {
				for _, b3 := range follow {
					seq := []byte{byte(lead), b1, b2, b3}
					body := bytes.ReplaceAll(seq, []byte{0}, []byte{'z'})
					s := append(append([]byte{'"'}, body...), '"', ',', '1', '2', '3', '4', '5', '6', '7', '8')
					end, _, err := scanString(s, 1)
					valid := utf8.Valid(body)
					if valid != (err == nil) || (valid && end != len(body)+2) {
						t.Fatalf("%x: scanString end %d, %v; utf8.Valid %v", body, end, err, valid)
					}
				}
			}
		}
	}
}

// A HeadMemo keeps the head of an envelope whose local part and tag are
// strings, from its '[' through the tag, and nothing else.
func TestHeadMemoKeeps(t *testing.T) {
	for _, c := range []struct{ msg, head string }{
		{`["p","t",1]`, `["p","t"`},
		{`[ "p" , "t\n" ]`, `[ "p" , "t\n"`},
		{`["p",7,1]`, ``},    // the tag is not a string
		{` ["p","t",1]`, ``}, // whitespace before '['
		{`["p"]`, ``},        // no tag: the memo is left as it was (empty here)
	} {
		var m HeadMemo
		var e Envelope
		if err := ScanHeadMemo(&e, []byte(c.msg), &m); err != nil {
			t.Fatalf("%s: %v", c.msg, err)
		}
		if string(m.head) != c.head {
			t.Errorf("%s: memo %q, want %q", c.msg, m.head, c.head)
		}
	}
}
