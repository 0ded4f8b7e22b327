package fuzz

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/transport/handshake"
)

// handshakeSeeds returns the seed scripts of FuzzHandshake: the greeting,
// nonce and auth lines of every recorded connection in both directions,
// as recorded and with the token replaced by tokenMark (so that they can
// succeed against a fresh nonce), and a real Go handshake transcript with
// mutations of it.
func handshakeSeeds(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	for _, conns := range loadAll(f) {
		for _, c := range conns {
			for _, dir := range []string{"C>S", "S>C"} {
				g1, g2, a := c.Line(dir, "greeting1"), c.Line(dir, "greeting2"), c.Line(dir, "auth")
				if g1 == "" {
					continue
				}
				out = append(out, []byte(g1+"\n"+g2+"\n"+a+"\n"))
				out = append(out, []byte(g1+"\n"+g2+"\n"+templateAuth(a)+"\n"))
			}
		}
	}
	return append(out, transcriptMutations(realTranscript(f))...)
}

// templateAuth replaces the token field of an auth line with tokenMark.
func templateAuth(line string) string {
	f := strings.SplitN(line, ";", 3)
	if len(f) < 3 {
		return line
	}
	return f[0] + ";" + tokenMark + ";" + f[2]
}

// transcriptMutations derives scripts from a real transcript (three lines):
// the templated transcript with data after it, cut at every line boundary
// and inside lines, and with one defect each.
func transcriptMutations(lines [3]string) [][]byte {
	g1, g2, a := lines[0], lines[1], templateAuth(lines[2])
	valid := g1 + "\n" + g2 + "\n" + a + "\n"
	out := [][]byte{
		[]byte(valid),
		[]byte(valid + `["","keepalive"]`),
		[]byte(valid + "\x00\x00\x00\x05\x00[1,2]"),
		[]byte(strings.ReplaceAll(valid, "\n", "\r\n")),
		[]byte(g1 + "\n" + g2 + "\n" + lines[2] + "\n"), // stale token
		[]byte(g1 + "\n" + g1 + "\n" + a + "\n"),        // greeting as nonce
		[]byte(g1 + "\n" + g2 + "\n" + "cleartext;" + tokenMark + ";json\n"),
		[]byte(g1 + "\n" + g2 + "\n" + "tls_anon;;json\n"),
		[]byte(g1 + "\n" + g2 + "\n" + "hmac_sha3_512;" + tokenMark + ";cbor\n"),
		[]byte(g1 + "\n" + g2 + "\n" + "hmac_sha3_512;" + tokenMark + "\n"),
		[]byte(strings.Replace(g1, "aemp;1;", "aemp;2;", 1) + "\n" + g2 + "\n" + a + "\n"),
		[]byte(strings.Replace(g1, "aemp;1;", "aemp-dataconn;1;", 1) + "\n" + g2 + "\n" + a + "\n"),
		[]byte(strings.Replace(g1, ";other;", ";gonode;", 1) + "\n" + g2 + "\n" + a + "\n"), // self
		[]byte(strings.Repeat("x", 5000) + "\n"),
		[]byte(g1 + "\x00\n" + g2 + "\n" + a + "\n"),
		[]byte("\n\n\n"),
		{},
	}
	for _, cut := range []int{1, len(g1) / 2, len(g1), len(g1) + 1, len(g1) + 1 + len(g2)/2, len(g1) + len(g2) + 2, len(valid) - 2} {
		if cut > 0 && cut < len(valid) {
			out = append(out, []byte(valid[:cut]))
		}
	}
	return out
}

// realTranscript runs one handshake between two Go nodes over net.Pipe and
// returns the lines one of them wrote.
func realTranscript(f *testing.F) [3]string {
	f.Helper()
	return realTranscriptT(f)
}

// realTranscriptT is realTranscript for any test.
func realTranscriptT(f testing.TB) [3]string {
	f.Helper()
	defer leakcheck.Check(f)()
	a, b := net.Pipe()
	rec := &recordingConn{Conn: a}
	other := make(chan *handshake.Result, 1)
	go func() {
		res, _ := handshake.Run(context.Background(), b, &handshake.Config{NodeID: "peer", Secret: hsSecret})
		other <- res
	}()
	res, err := handshake.Run(context.Background(), rec, &handshake.Config{NodeID: "other", Secret: hsSecret, Framings: []string{"goframe1", "json"}})
	// close only when both are done: net.Pipe fails the other side's
	// clearing of its deadline once this end is closed
	if res2 := <-other; res2 != nil {
		res2.Conn.Close()
	}
	if err != nil {
		f.Fatal(err)
	}
	res.Conn.Close()
	lines := strings.SplitN(string(rec.written()), "\n", 4)
	if len(lines) < 3 {
		f.Fatalf("transcript %q has fewer than three lines", rec.written())
	}
	return [3]string{lines[0], lines[1], lines[2]}
}

// recordingConn records what is written through it.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recordingConn) written() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}
