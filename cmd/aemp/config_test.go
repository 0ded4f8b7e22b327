package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aemp-go/aemp/internal/rcfile"
)

// perlSecret is the fixture's secret.
func perlSecret(t *testing.T) string {
	v, err := rcfile.Parse([]byte(perlFile(t)))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := v.Get("secret").Str()
	return s
}

// Commands that change nothing leave a Perl-written file byte for byte as
// it was, and do not write it at all.
func TestPerlFileUnchanged(t *testing.T) {
	e := newEnv(t)
	orig := perlFile(t)
	e.write(orig, 0o640)
	before, err := os.Stat(e.rc)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"showprofile", "doomed"},
		{"showconfig", "doomed"},
		{"profile", "seed"},
		{"setsecret", perlSecret(t)},
		{"profile", "doomed", "setparent", "server", "nodeid", "doomed"},
		{"setseeds", "10.0.0.19:4040,10.0.0.20:4040", "addseed", "10.0.0.20:4040"},
		{"delseed", "10.9.9.9:1", "delbinds", "deleval", "delprofile", "nosuchprofile"},
		{"profile", "server", "setsecure", "1", "profile", "empty"},
		{"setmonitor_timeout", "10", "nodelay", "0", "setframing_format", `["json","cbor"]`},
	} {
		e.ok(args...)
		if got := e.file(); got != orig {
			t.Fatalf("aemp %q changed the file:\n%s", args, got)
		}
	}
	after, _ := os.Stat(e.rc)
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Error("the file was rewritten")
	}
	if _, err := os.Stat(e.rc + "~"); !os.IsNotExist(err) {
		t.Error("a backup was made without a write")
	}
}

// A change rewrites the file with only that change: unknown keys, their
// values and the key order are kept; the mode is kept; the previous file
// stays as <file>~.
func TestPerlFileOneChange(t *testing.T) {
	orig := perlFile(t)
	cases := []struct {
		args     []string
		old, new string
	}{
		{[]string{"setsecret", "new-secret"}, `"secret" : "` + perlSecret(t) + `"`, `"secret" : "new-secret"`},
		{[]string{"profile", "server", "secure", "0"}, `"secure" : "1"`, `"secure" : "0"`},
		{[]string{"profile", "seed", "setnodeid", "seed/"},
			"\"*:4040\"\n         ]\n      }", "\"*:4040\"\n         ],\n         \"nodeid\" : \"seed/\"\n      }"},
		{[]string{"delseed", "10.0.0.19:4040"}, "\"10.0.0.19:4040\",\n      \"10.0.0.20:4040\"", `"10.0.0.20:4040"`},
		{[]string{"delmonitor_timeout"}, "\"0\",\n   \"monitor_timeout\" : \"10\"\n", "\"0\"\n"},
		{[]string{"delprofile", "empty"}, "      \"empty\" : {},\n", ""},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			if strings.Count(orig, c.old) != 1 {
				t.Fatalf("anchor %q is not unique in the fixture", c.old)
			}
			e := newEnv(t)
			e.write(orig, 0o640)
			e.ok(c.args...)
			if got, want := e.file(), strings.Replace(orig, c.old, c.new, 1); got != want {
				t.Errorf("file:\n%s\nwant:\n%s", got, want)
			}
			if st, _ := os.Stat(e.rc); st.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
			}
			if old, _ := os.ReadFile(e.rc + "~"); string(old) != orig {
				t.Error("the previous file is not kept as rc~")
			}
		})
	}
}

// A new file is made only by a change, with mode 0600 (it holds the
// secret), in the layout Perl writes.
func TestNewFile(t *testing.T) {
	e := newEnv(t)
	e.ok("showconfig")
	e.ok("delsecret", "showprofile", "x", "delseed", "a:1")
	if _, err := os.Stat(e.rc); !os.IsNotExist(err) {
		t.Fatalf("a file was made by commands that change nothing: %q", e.file())
	}
	e.ok("setsecret", "s")
	if got := e.file(); got != "{\n   \"version\" : 1,\n   \"secret\" : \"s\"\n}\n\n" {
		t.Errorf("new file %q", got)
	}
	if st, _ := os.Stat(e.rc); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

// Without PERL_ANYEVENT_MP_RC the file is $HOME/.perl-anyevent-mp.
func TestHomeLocation(t *testing.T) {
	e := newEnv(t)
	e.rc = ""
	e.ok("setnodeid", "n/")
	data, err := os.ReadFile(e.home + "/.perl-anyevent-mp")
	if err != nil || !strings.Contains(string(data), `"nodeid" : "n/"`) {
		t.Errorf("%q, %v", data, err)
	}
	e.home = ""
	e.fails(exitFailure, "setnodeid", "n/") // nowhere to put it
}

// The chaining example of Perl's aemp POD.
func TestChain(t *testing.T) {
	e := newEnv(t)
	e.ok("gensecret", "profile", "xyzzy", "binds", "4040,4041", "nodeid", "anon/")
	got := regexp.MustCompile(`"secret" : "[0-9A-Za-z]{180}"`).ReplaceAllString(e.file(), `"secret" : "S"`)
	want := `{
   "version" : 1,
   "secret" : "S",
   "profile" : {
      "xyzzy" : {
         "binds" : [
            "4040",
            "4041"
         ],
         "nodeid" : "anon/"
      }
   }
}

`
	if got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	// Profiles switch in the middle of a line; the top level is edited
	// only before the first profile.
	e.ok("seeds", "a:1", "profile", "p1", "seeds", "b:2", "profile", "p2", "seeds", "c:3")
	for keys, want := range map[string]string{
		"seeds":            `[ "a:1" ]`,
		"profile p1 seeds": `[ "b:2" ]`,
		"profile p2 seeds": `[ "c:3" ]`,
	} {
		if got := strings.Join(strings.Fields(e.get(strings.Fields(keys)...)), " "); got != want {
			t.Errorf("%s = %s, want %s", keys, got, want)
		}
	}
}

// A failing subcommand ends the run and nothing is written, whatever came
// before it.
func TestFailedChainWritesNothing(t *testing.T) {
	e := newEnv(t)
	e.ok("setsecret", "a")
	orig := e.file()
	e.fails(exitUsage, "setsecret", "b", "nosuchcommand")
	e.fails(exitUsage, "setsecret", "b", "addseed")
	e.fails(exitFailure, "setsecret", "b", "setcert", e.home+"/missing.pem")
	if got := e.file(); got != orig {
		t.Errorf("file changed: %s", got)
	}
	// A help request ends the run too: exit 0, help on stdout, nothing
	// written.
	if out := e.ok("setsecret", "b", "setsecret", "--help", "x"); !strings.HasPrefix(out, "usage: aemp setsecret") {
		t.Errorf("help: %q", out)
	}
	if got := e.file(); got != orig {
		t.Errorf("file changed by a line with a help request: %s", got)
	}
}

// Arguments that start with [, { or " are JSON; a lone argument that
// starts with [ holds all the arguments.
func TestJSONArguments(t *testing.T) {
	e := newEnv(t)
	e.ok("setbinds", `["*:4040", "10.0.0.1:4041"]`, "setsecret", `"quoted secret"`,
		"setservices", `[["mymod::myfun", 1, 2.50, 3e0], "AnyEvent::MP::Global::"]`,
		"setmonitor_timeout", "10", "setconnect_interval", `"2.5"`, "setsecure", "1",
		"setauth_accept", `["hmac_sha3_512"]`, "setnodelay", `"0"`)
	for key, want := range map[string]string{
		"binds":            `["*:4040","10.0.0.1:4041"]`,
		"secret":           `"quoted secret"`,
		"services":         `[["mymod::myfun",1,2.5,3],"AnyEvent::MP::Global::"]`,
		"monitor_timeout":  `"10"`, // a plain word is a string, as Perl stores it
		"connect_interval": `"2.5"`,
		"secure":           `"1"`,
		"auth_accept":      `["hmac_sha3_512"]`,
		"nodelay":          `"0"`,
	} {
		if got := compact(e.get(key)); got != want {
			t.Errorf("%s = %s, want %s", key, got, want)
		}
	}
}

func TestJSONArgumentArray(t *testing.T) {
	e := newEnv(t)
	e.ok(`["setmonitor_timeout", 10, "profile", "p", "setseeds", ["a:1", "b:2"], "setsecure", true, "seteval", "[1]"]`)
	for keys, want := range map[string]string{
		"monitor_timeout":  `10`, // a JSON number stays a number
		"profile p seeds":  `["a:1","b:2"]`,
		"profile p secure": `true`,
		"profile p eval":   `"[1]"`, // elements are not decoded again
	} {
		if got := compact(e.get(strings.Fields(keys)...)); got != want {
			t.Errorf("%s = %s, want %s", keys, got, want)
		}
	}
	e.fails(exitUsage, `["setsecret"`)
	e.fails(exitUsage, "setsecret", `{"a":`)
	e.fails(exitUsage, `[1, 2]`) // 1 is no subcommand
}

func TestRefusedValues(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{"setnodelay", `{"a":1}`},
		{"setframing_format", "json,cbor"},
		{"setauth_offer", `["ok", 1]`},
		{"setmonitor_timeout", "soon"},
		{"setconnect_interval", "-1"},
		{"setnodeid", "a#b"},
		{"setnodeid", "0"},
		{"setsecret", `["a"]`},
		{"setseeds", `{"a":1}`},
		{"setbinds", `[["a"]]`},
		{"setservices", `[{"a":1}]`},
		{"addservice", `[1]`},
		{"profile", `["p"]`},
		{"showconfig", "p", "key-without-value"},
	} {
		r := e.fails(exitUsage, args...)
		if !strings.Contains(r.stderr, "usage: aemp "+args[0]) {
			t.Errorf("aemp %q: no usage line in %q", args, r.stderr)
		}
	}
	if e.file() != "" {
		t.Errorf("refused values were written: %s", e.file())
	}
}

func compact(s string) string {
	var b strings.Builder
	inStr, esc := false, false
	for _, r := range s {
		switch {
		case inStr:
			b.WriteRune(r)
			if esc {
				esc = false
			} else if r == '\\' {
				esc = true
			} else if r == '"' {
				inStr = false
			}
		case r == '"':
			inStr = true
			b.WriteRune(r)
		case r == ' ' || r == '\n':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Every set<name> has the alias <name>, except seteval: eval is the
// protocol command.
func TestAliases(t *testing.T) {
	values := map[string]string{
		"nodeid": "n/", "secret": "s", "seeds": "a:1,b:2", "binds": "*:4040", "services": "M::",
		"parent": "base", "secure": "1", "monitor_timeout": "5", "connect_interval": "1",
		"framing_format": `["json"]`, "auth_offer": `["hmac_sha3_512"]`, "auth_accept": `["hmac_sha3_512"]`,
		"autocork": "1", "nodelay": "0",
	}
	for alias, val := range values {
		a, b := newEnv(t), newEnv(t)
		a.ok("profile", "p", alias, val)
		b.ok("profile", "p", "set"+alias, val)
		if a.file() != b.file() || !strings.Contains(a.file(), `"`+alias+`"`) {
			t.Errorf("%s: alias gave\n%s\nset%s gave\n%s", alias, a.file(), alias, b.file())
		}
	}
	if c := lookup("cert"); c == nil || c.name != "setcert" {
		t.Error("cert is not an alias of setcert")
	}
	if c := lookup("eval"); c == nil || c.name != "eval" {
		t.Error("eval is not the protocol command")
	}
	// Every setX in the table has exactly the alias X, except seteval.
	for _, c := range commands {
		if x, ok := strings.CutPrefix(c.name, "set"); ok {
			want := x
			if x == "eval" {
				want = ""
			}
			if strings.Join(c.aliases, ",") != want {
				t.Errorf("%s: aliases %q, want %q", c.name, c.aliases, want)
			}
		} else if len(c.aliases) > 0 {
			t.Errorf("%s has aliases %q", c.name, c.aliases)
		}
	}
}

func TestProfilesAndParents(t *testing.T) {
	e := newEnv(t)
	e.ok("setsecret", "top", "setmonitor_timeout", "12",
		"profile", "server", "setsecret", "srv", "setbinds", "*:4040", "setparent", "base",
		"profile", "base", "setconnect_interval", "3",
		"profile", "doomed", "setparent", "server", "setnodeid", "doomed")
	if got := e.ok("showprofile", "doomed"); got != "{\n   \"parent\" : \"server\",\n   \"nodeid\" : \"doomed\"\n}\n" {
		t.Errorf("showprofile doomed: %q", got)
	}
	if got := e.ok("showprofile", "missing"); got != "{}\n" {
		t.Errorf("showprofile missing: %q", got)
	}
	want := `{
   "auth_accept" : [
      "tls_sha3_512",
      "hmac_sha3_512",
      "tls_anon",
      "cleartext"
   ],
   "auth_offer" : [
      "tls_sha3_512",
      "hmac_sha3_512"
   ],
   "binds" : [
      "*:4040"
   ],
   "connect_interval" : "3",
   "extra" : [
      1
   ],
   "framing_format" : [
      "cbor",
      "json",
      "storable"
   ],
   "monitor_timeout" : "12",
   "nodeid" : "doomed",
   "secret" : "srv",
   "version" : 1
}
`
	if got := e.ok("showconfig", "doomed", "extra", "[1]", "secret", "arg"); got != want {
		t.Errorf("showconfig doomed:\n%s\nwant:\n%s", got, want)
	}
	if got := e.ok("showconfig", "doomed", "secret", "arg", "force", "1"); !strings.Contains(got, `"secret" : "arg"`) ||
		!strings.Contains(got, `"monitor_timeout" : 30`) {
		t.Errorf("force: %s", got)
	}
	if got := e.ok("showconfig", "doomed", "norc", "1"); strings.Contains(got, "secret") || strings.Contains(got, "norc") {
		t.Errorf("norc: %s", got)
	}
	host, _ := os.Hostname()
	e.ok("profile", host, "setnodeid", "me")
	if got := e.ok("showconfig"); !strings.Contains(got, `"nodeid" : "me"`) {
		t.Errorf("showconfig without a name does not use the host name %q: %s", host, got)
	}

	e.ok("profile", "doomed", "delparent")
	if got := e.get("profile", "doomed", "parent"); got != "<none>" {
		t.Errorf("delparent: %s", got)
	}
	e.ok("delprofile", "doomed")
	if got := e.get("profile", "doomed"); got != "<none>" {
		t.Errorf("delprofile: %s", got)
	}
	orig := e.file()
	e.fails(exitFailure, "profile", "server", "delprofile", "server", "setsecret", "lost")
	if e.file() != orig {
		t.Error("an edit of a deleted profile was written")
	}

	e.ok("profile", "a", "parent", "b", "profile", "b", "parent", "a")
	r := e.fails(exitFailure, "showconfig", "a")
	if !strings.Contains(r.stderr, "circular") {
		t.Errorf("circular parents: %q", r.stderr)
	}
}

func TestListCommands(t *testing.T) {
	e := newEnv(t)
	e.ok("setseeds", "a:1,b:2,a:1", "addseed", "a:1", "addseed", "c:3")
	if got := compact(e.get("seeds")); got != `["b:2","a:1","c:3"]` {
		t.Errorf("addseed: %s", got)
	}
	e.ok("delseed", "a:1", "addbind", "x:1", "addbind", "x:1", "delbind", "y:2")
	if got := compact(e.get("seeds")); got != `["b:2","c:3"]` {
		t.Errorf("delseed: %s", got)
	}
	if got := compact(e.get("binds")); got != `["x:1"]` {
		t.Errorf("addbind: %s", got)
	}
	e.ok("addservice", "S::", "addservice", `["f", 1]`, "addservice", "S::", "addservice", `["f",1]`)
	e.ok("delservice", "S::", "delservice", `["f", 1.0]`)
	if got := compact(e.get("services")); got != `["S::",["f",1]]` {
		t.Errorf("services: %s", got)
	}
	e.ok("setseeds", "", "setbinds", "a,,b,,")
	if got := compact(e.get("seeds")); got != `[]` {
		t.Errorf("empty seeds: %s", got)
	}
	if got := compact(e.get("binds")); got != `["a","","b"]` {
		t.Errorf("split: %s", got)
	}
	// Deleting from a list that is not there leaves it not there (it
	// stays inherited).
	e.ok("profile", "p", "delseed", "a:1", "delservice", "S::", "delbind", "x")
	if got := e.get("profile", "p"); got != "{}" {
		t.Errorf("profile p: %s", got)
	}
	e.write(`{"seeds": "a:1,b:2"}`, 0o600)
	if r := e.fails(exitFailure, "addseed", "c:3"); !strings.Contains(r.stderr, "setseeds") {
		t.Errorf("a string seed list: %q", r.stderr)
	}
}

// A file that does not parse is an error and is left alone; one with
// comments and trailing commas parses, survives commands that change
// nothing and is rewritten in Perl's layout by a change.
func TestHandEditedFile(t *testing.T) {
	e := newEnv(t)
	e.write("{ not json", 0o600)
	e.fails(exitFailure, "setsecret", "x")
	e.fails(exitFailure, "showconfig")
	if e.file() != "{ not json" {
		t.Error("an unparsable file was overwritten")
	}
	relaxed := "# my config\n{\"secret\": \"s\", \"seeds\": [\"a:1\",], # seeds\n}\n"
	e.write(relaxed, 0o600)
	e.ok("setsecret", "s", "showprofile", "x")
	if e.file() != relaxed {
		t.Error("a no-op rewrote the hand-edited file")
	}
	e.ok("addseed", "b:2")
	if got := e.file(); got != "{\n   \"secret\" : \"s\",\n   \"seeds\" : [\n      \"a:1\",\n      \"b:2\"\n   ]\n}\n\n" {
		t.Errorf("rewritten: %q", got)
	}
}
