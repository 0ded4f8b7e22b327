package vectors

import (
	"bytes"
	"testing"
)

func TestLoadSessions(t *testing.T) {
	files := Sessions()
	if len(files) != 9 {
		t.Fatalf("found %d session files, want 9", len(files))
	}
	for _, p := range files {
		conns, err := LoadSession(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(conns) == 0 {
			t.Fatalf("%s: no connections", p)
		}
		for i, c := range conns {
			if c.C == "" || c.S == "" {
				t.Fatalf("%s conn %d: node IDs missing", p, i)
			}
			for _, dir := range []string{"C>S", "S>C"} {
				for _, k := range []string{"greeting1", "greeting2", "auth"} {
					if c.Line(dir, k) == "" {
						t.Fatalf("%s conn %d: no %s %s", p, i, dir, k)
					}
				}
				for _, m := range c.Messages(dir) {
					if len(m.Wire) == 0 || m.JSON == "" {
						t.Fatalf("%s conn %d: message without bytes or json: %+v", p, i, m)
					}
				}
			}
		}
		if _, err := Secret(p); err != nil {
			t.Fatal(err)
		}
	}
}

// The readable transcript and the raw capture must agree byte for byte.
func TestRawMatchesTranscript(t *testing.T) {
	conns, err := LoadSession(Path("session-ping-json.txt"))
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := Stream("session-ping-json.raw.jsonl", 1, "c2s")
	if err != nil {
		t.Fatal(err)
	}
	c := conns[0]
	var want []byte
	for _, k := range []string{"greeting1", "greeting2", "auth"} {
		want = append(want, c.Line("C>S", k)+"\n"...)
	}
	for _, m := range c.Messages("C>S") {
		want = append(want, m.Wire...)
	}
	if !bytes.Equal(all, want) {
		t.Fatalf("raw c2s stream differs from transcript:\nraw  %q\ntext %q", all, want)
	}
}

func TestAuthVectors(t *testing.T) {
	v, err := LoadAuthVectors()
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 6 {
		t.Fatalf("%d vectors, want 6", len(v))
	}
	for _, x := range v {
		if x.HMACSent == "" || x.LGreeting1 == "" && x.Name != "edge-72byte-secret-empty-nonces" {
			t.Fatalf("vector %q incomplete", x.Name)
		}
	}
}
