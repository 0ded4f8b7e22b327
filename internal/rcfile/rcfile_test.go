package rcfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// perlFile is a configuration file as Perl's Config.pm writes it
// (JSON::XS->new->pretty->utf8, then "\n"; its key order is Perl's hash
// order).
const perlFile = `{
   "seeds" : [
      "10.0.0.19:4040"
   ],
   "profile" : {
      "doomed" : {
         "services" : [
            "AnyEvent::MP::Global::",
            [
               "mymod::myfun",
               1,
               2.5
            ]
         ],
         "parent" : "server",
         "nodeid" : "doomed"
      },
      "empty" : {},
      "seed" : {
         "binds" : []
      }
   },
   "version" : 1,
   "x" : {
      "t" : true,
      "f" : false,
      "n" : null,
      "café" : "☺\t\"q\" \\ /"
   },
   "secret" : "abc"
}

`

func TestRoundTripPerlFile(t *testing.T) {
	v, err := Parse([]byte(perlFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(AppendFile(nil, v)) + "\n"; got != perlFile {
		t.Errorf("round trip changed the file:\n%s", got)
	}
	if got := strings.Join(v.Keys(), ","); got != "seeds,profile,version,x,secret" {
		t.Errorf("key order %s", got)
	}
}

// Scalars keep their literal text in the file layout, whatever their
// escapes; the display layout re-encodes them as Perl does.
func TestLiteralsKept(t *testing.T) {
	v, err := Parse([]byte(`{"\u0061": "\u00e9\/", "n": 1.50, "big": 123456789012345678901234}`))
	if err != nil {
		t.Fatal(err)
	}
	file := string(AppendFile(nil, v))
	want := "{\n   \"\\u0061\" : \"\\u00e9\\/\",\n   \"n\" : 1.50,\n   \"big\" : 123456789012345678901234\n}\n"
	if file != want {
		t.Errorf("file layout:\n%s\nwant\n%s", file, want)
	}
	disp := string(AppendDisplay(nil, v))
	want = "{\n   \"a\" : \"é/\",\n   \"n\" : 1.5,\n   \"big\" : \"123456789012345678901234\"\n}\n"
	if disp != want {
		t.Errorf("display layout:\n%s\nwant\n%s", disp, want)
	}
}

// testdata/jsonxs-display.txt is JSON::XS 4.04's pretty output for the
// value below: escapes, Perl's number formatting, nesting.
func TestDisplayMatchesJSONXS(t *testing.T) {
	in := `["a\u0001\u001f\u007f\b\f\n\r\t\"\\\/\u00e9\u2028\ud83d\ude00", 1.0, -0, -0.0, 1e3, 1E-7,
		12345678901234567890, 123456789012345678901234, -9223372036854775809, 0.30000000000000004,
		1.5e300, 100000000000000000000.0, 123456789012345.6, 1e15, 5.0, 0.5, {"k\n":[]}, {}, true, false, null]`
	want, err := os.ReadFile("testdata/jsonxs-display.txt")
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseArg(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendDisplay(nil, v); string(got) != string(want) {
		t.Errorf("display:\n%s\nwant (JSON::XS)\n%s", got, want)
	}
	// ParseArg normalises: the file layout writes the same.
	if got := AppendFile(nil, v); string(got) != string(want) {
		t.Errorf("file layout of an argument:\n%s\nwant (JSON::XS)\n%s", got, want)
	}
}

func TestParseRelaxed(t *testing.T) {
	v, err := Parse([]byte("# comment\n{\"a\": [1, 2,], # more\n \"b\": \"x\ty\", \"a\": 3,}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(AppendFile(nil, v)); got != "{\n   \"a\" : 3,\n   \"b\" : \"x\ty\"\n}\n" {
		t.Errorf("relaxed parse: %q (a duplicate key keeps its place and takes the last value)", got)
	}
	bad := map[string]string{
		"array top level":  `[1]`,
		"string top level": `"x"`,
		"garbage":          `{} x`,
		"leading zero":     `{"a": 01}`,
		"bare dot":         `{"a": 1.}`,
		"unterminated":     `{"a": "x`,
		"control":          "{\"a\": \"\x01\"}",
		"lone surrogate":   `{"a": "\udc00"}`,
		"bad escape":       `{"a": "\q"}`,
		"missing colon":    `{"a" 1}`,
		"single quotes":    `{'a': 1}`,
		"invalid utf-8":    "{\"a\": \"\xff\"}",
		"out of range":     `{"a": 1e400}`,
		"too deep":         `{"a": ` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
	}
	for name, in := range bad {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: %q parsed (err %v)", name, in, err)
		}
	}
	if _, err := Parse([]byte(`{"a": ` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`)); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
}

// Arguments are strict JSON (no comments, no trailing commas, no literal
// tabs) but any value, as JSON::XS->new->utf8->allow_nonref.
func TestParseArg(t *testing.T) {
	for in, want := range map[string]string{
		`"x"`:                   `"x"` + "\n",
		`["a",{"b":1}]`:         "[\n   \"a\",\n   {\n      \"b\" : 1\n   }\n]\n",
		`{"t":1.0e1}`:           "{\n   \"t\" : 10\n}\n",
		`  "padded"   `:         `"padded"` + "\n",
		`[9223372036854775808]`: "[\n   9223372036854775808\n]\n",
	} {
		v, err := ParseArg(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := string(AppendFile(nil, v)); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{`[1,]`, "[1] # c", "\"a\tb\"", `{"a":1,}`, `[`, `"`} {
		if _, err := ParseArg(in); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

func TestObjectEdits(t *testing.T) {
	v, _ := Parse([]byte(`{"a": 1, "b": 2}`))
	v.Set("a", NewString("x"))
	v.Set("c", NewStrings("p", "q"))
	if !v.Delete("b") || v.Delete("b") {
		t.Error("Delete")
	}
	want := "{\n   \"a\" : \"x\",\n   \"c\" : [\n      \"p\",\n      \"q\"\n   ]\n}\n"
	if got := string(AppendFile(nil, v)); got != want {
		t.Errorf("%q", got)
	}
}

func TestPerlString(t *testing.T) {
	for in, want := range map[string]string{
		`"x"`: "x", `1.50`: "1.5", `true`: "1", `false`: "0", `null`: "", `-0`: "0",
	} {
		v, err := Parse([]byte(`{"v": ` + in + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Get("v").PerlString(); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
	truth := map[string]bool{`""`: false, `"0"`: false, `0`: false, `0.0`: false, `null`: false, `false`: false,
		`"00"`: true, `"a"`: true, `1`: true, `true`: true, `[]`: true, `{}`: true}
	for in, want := range truth {
		v, _ := Parse([]byte(`{"v": ` + in + `}`))
		if got := v.Get("v").Truthy(); got != want {
			t.Errorf("Truthy(%s) = %v", in, got)
		}
	}
	a, _ := ParseArg(`["f", 1]`)
	b, _ := ParseArg(`["f",1.0]`)
	if !Same(a, b) || Same(a, NewString("f")) || !Same(NewString("1"), NewInt(1)) {
		t.Error("Same")
	}
}

func TestEffective(t *testing.T) {
	root, err := Parse([]byte(`{
		"version": 1, "secret": "top", "monitor_timeout": "10", "seeds": ["s:1"],
		"profile": {
			"base": {"binds": ["*:4040"], "secret": "base", "connect_interval": "3"},
			"leaf": {"parent": "base", "secret": "leaf"},
			"loop1": {"parent": "loop2"}, "loop2": {"parent": "loop1"},
			"str": "not an object"
		}}`))
	if err != nil {
		t.Fatal(err)
	}
	get := func(v *Value, k string) string {
		if m := v.Get(k); m != nil {
			return m.PerlString()
		}
		return "<none>"
	}
	kv := NewObject()
	kv.Set("secret", NewString("arg"))
	kv.Set("nodeid", NewString("arg/"))
	e, err := Effective(root, "leaf", kv)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"secret": "leaf", "connect_interval": "3", "monitor_timeout": "10", "nodeid": "arg/",
		"parent": "base", "version": "1", "seeds": "[\n   \"s:1\"\n]", "norc": "<none>",
	} {
		if got := get(e, k); got != want {
			t.Errorf("leaf: %s = %q, want %q", k, got, want)
		}
	}
	kv.Set("force", NewString("1"))
	e, _ = Effective(root, "leaf", kv)
	if get(e, "secret") != "arg" || get(e, "monitor_timeout") != "30" || get(e, "force") != "<none>" {
		t.Errorf("force: secret %q, monitor_timeout %q (the defaults win too)", get(e, "secret"), get(e, "monitor_timeout"))
	}
	kv.Set("norc", NewInt(1))
	e, _ = Effective(root, "leaf", kv)
	if get(e, "secret") != "arg" || get(e, "version") != "<none>" {
		t.Errorf("norc: %s", AppendDisplay(nil, e))
	}
	e, _ = Effective(root, "missing", nil)
	if get(e, "secret") != "top" || get(e, "framing_format") != "[\n   \"cbor\",\n   \"json\",\n   \"storable\"\n]" {
		t.Errorf("missing profile: %s", AppendDisplay(nil, e))
	}
	if _, err := Effective(root, "loop1", nil); !errors.Is(err, ErrCycle) {
		t.Errorf("cycle: %v", err)
	}
	if _, err := Effective(root, "str", nil); !errors.Is(err, ErrShape) {
		t.Errorf("non-object profile: %v", err)
	}
	if root.Get("profile").Get("leaf").Get("monitor_timeout") != nil {
		t.Error("Effective changed the file's tree")
	}
}

func TestProfileCreate(t *testing.T) {
	root, _ := Parse([]byte(`{"version": 1, "profile": {"z": ""}}`))
	if p, err := Profile(root, "a", false); p != nil || err != nil {
		t.Errorf("missing profile: %v, %v", p, err)
	}
	if _, err := Profile(root, "a", true); err != nil {
		t.Fatal(err)
	}
	if _, err := Profile(root, "z", true); err != nil { // ||= replaces a false value
		t.Fatal(err)
	}
	want := "{\n   \"version\" : 1,\n   \"profile\" : {\n      \"z\" : {},\n      \"a\" : {}\n   }\n}\n"
	if got := string(AppendFile(nil, root)); got != want {
		t.Errorf("%s", got)
	}
	root, _ = Parse([]byte(`{"profile": []}`))
	if _, err := Profile(root, "a", true); !errors.Is(err, ErrShape) {
		t.Errorf("profile is an array: %v", err)
	}
}

func TestLoadSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rc")

	// A missing file is {"version": 1}; nothing is written unless it changes.
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if wrote, err := f.Save(); wrote || err != nil {
		t.Fatalf("unchanged missing file: wrote %v, %v", wrote, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a file was created for no change")
	}
	f.Root.Set("secret", NewString("s"))
	if wrote, err := f.Save(); !wrote || err != nil {
		t.Fatalf("save: %v, %v", wrote, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if string(data) != "{\n   \"version\" : 1,\n   \"secret\" : \"s\"\n}\n\n" {
		t.Errorf("new file: %q", data)
	}

	// An existing file keeps its mode, and the previous one stays as "rc~".
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	f, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Root.Set("secret", NewString("t"))
	if _, err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}
	if old, err := os.ReadFile(path + "~"); err != nil || !strings.Contains(string(old), `"s"`) {
		t.Errorf("backup: %q, %v", old, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}

	// A symbolic link is followed: the file it names is replaced.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(path, link); err != nil {
		t.Skip(err)
	}
	f, err = Load(link)
	if err != nil {
		t.Fatal(err)
	}
	f.Root.Set("secret", NewString("u"))
	if _, err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"u"`) {
		t.Errorf("target not updated: %s", data)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rc")
	os.WriteFile(path, []byte("{ not json"), 0o600)
	if _, err := Load(path); !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), path) {
		t.Errorf("unparsable: %v", err)
	}
	os.WriteFile(path, []byte(" \n"), 0o600)
	f, err := Load(path)
	if err != nil || f.Root.Get("version") == nil {
		t.Errorf("blank file: %v", err)
	}
	if f.Changed() {
		t.Error("a blank file counts as changed")
	}
}

func TestPath(t *testing.T) {
	t.Setenv(EnvPath, "/x/rc")
	t.Setenv("HOME", "/home/u")
	t.Setenv("APPDATA", "/appdata")
	if p, _ := Path(); p != "/x/rc" {
		t.Errorf("env: %s", p)
	}
	t.Setenv(EnvPath, "")
	if p, _ := Path(); p != filepath.Join("/home/u", ".perl-anyevent-mp") {
		t.Errorf("home: %s", p)
	}
	t.Setenv("HOME", "")
	if p, _ := Path(); p != filepath.Join("/appdata", "perl-anyevent-mp") {
		t.Errorf("appdata: %s", p)
	}
	t.Setenv("APPDATA", "")
	if _, err := Path(); err == nil {
		t.Error("no location: no error")
	}
}
