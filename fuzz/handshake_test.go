package fuzz

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/transport/handshake"
	"github.com/aemp-go/aemp/wire"
)

// hsSecret is the real side's shared secret.
var hsSecret = []byte("fuzz-secret")

// hsTimeout is the real side's handshake deadline: short, so that a peer
// that stalls costs little, and a hang shows at once.
const hsTimeout = 200 * time.Millisecond

// tokenMark in a script after its second line is replaced by the token a
// correct peer would send, computed from the script's greeting lines and
// the real side's, for the method named before it on the same line. It
// lets the fuzzer reach valid handshakes (and everything just short of
// them) although the real side's nonce is new every time.
const tokenMark = "$TOKEN"

// hsMode is what the fuzzer's mode byte selects.
type hsMode struct {
	greetFirst bool // write our greeting before reading the real side's
	hangUp     bool // close our end after the script (else stall until Run returns)
	tls        bool // the real side also has a TLS bundle
	goFraming  bool // the real side offers goframe1 before json
	secretTLS  bool // the real side asks for secret-keyed TLS (stls=1)
	chunk      int  // bytes per write (0: the whole script at once)
}

func hsModeOf(m uint8) hsMode {
	return hsMode{
		greetFirst: m&1 != 0, hangUp: m&2 != 0, tls: m&4 != 0, goFraming: m&8 != 0,
		chunk: []int{0, 1, 7, 100}[m>>4&3], secretTLS: m&0x40 != 0,
	}
}

// FuzzHandshake runs the handshake driver (handshake.Run, with a secret and
// a 200 ms deadline) against a peer played by the fuzzer over net.Pipe: the
// script is what the peer writes (greeting lines, auth line, garbage,
// truncated input; tokenMark stands for a correct token), the mode byte
// picks who speaks first, whether the peer hangs up or stalls, TLS on the
// real side, its framings and the write sizes. The peer reads whatever the
// real side sends. Run must return within its deadline (plus the grace for
// its last lines) and never panic; it succeeds only for a valid handshake
// (checked independently: greeting, nonce, token, framing, and the bytes
// after the auth line handed over as Buffered), else it returns a
// *handshake.Error wrapping a known sentinel; no goroutine stays behind.
func FuzzHandshake(f *testing.F) {
	// Modes of the seeds: greeting first and stall (the real side's
	// deadline ends a truncated script), reply and hang up, and hang up
	// with goframe1 offered and one-byte writes. Stalling costs a deadline
	// per incomplete seed, so only one mode stalls.
	for _, s := range handshakeSeeds(f) {
		for _, m := range []uint8{1, 2, 0x1b} {
			f.Add(m, s)
		}
	}
	f.Add(uint8(4|1), []byte("aemp;1;peer;hmac_sha3_512;json;tls=1.0\n0123456789abcdef0123456789abcdef\n\x16\x03\x01garbage"))
	// secret-keyed TLS asked for by both: the real side starts TLS 1.3
	f.Add(uint8(0x40|1), []byte("aemp;1;peer;tls_hmac_sha3_512,hmac_sha3_512;json;stls=1\n0123456789abcdef0123456789abcdef\n\x16\x03\x01garbage"))
	var leaks leakGuard
	f.Fuzz(func(t *testing.T, mode uint8, script []byte) {
		leaks.run(t, func() { runHandshake(t, hsModeOf(mode), script) })
	})
}

// hsOutcome is what the real side's Run returned and how long it took.
type hsOutcome struct {
	res     *handshake.Result
	err     error
	elapsed time.Duration
}

// runHandshake plays one script against handshake.Run and checks the
// outcome; it reports whether the handshake succeeded.
func runHandshake(t *testing.T, m hsMode, script []byte) bool {
	cfg := &handshake.Config{NodeID: "gonode", Secret: hsSecret, Timeout: hsTimeout}
	if m.goFraming {
		cfg.Framings = []string{"goframe1", "json"}
	}
	if m.tls {
		cfg.TLS = fuzzBundle(t)
	}
	cfg.SecretTLS = m.secretTLS
	real, peer := net.Pipe()
	done := make(chan hsOutcome, 1)
	go func() {
		start := time.Now()
		res, err := handshake.Run(context.Background(), real, cfg)
		done <- hsOutcome{res, err, time.Since(start)}
	}()
	p := newHSPeer(peer)
	written := make(chan []byte, 1)
	go func() { written <- p.play(m, script) }()

	var out hsOutcome
	select {
	case out = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("handshake.Run hangs (deadline %v)", hsTimeout)
	}
	peer.Close()
	p.stopWaiting()
	sent := <-written
	<-p.readDone
	if out.res != nil {
		out.res.Conn.Close()
	}
	if limit := hsTimeout + 100*time.Millisecond + 3*time.Second; out.elapsed > limit {
		t.Fatalf("Run took %v, deadline %v", out.elapsed, hsTimeout)
	}
	if out.err != nil {
		checkHandshakeError(t, out.err)
		return false
	}
	checkValidHandshake(t, cfg, out.res, sent)
	return true
}

// TestHandshakeHarness: the fuzzer's peer reaches a valid handshake with a
// templated real transcript in every mode that does not hang up (so
// FuzzHandshake explores the neighbourhood of success, not only of
// failure; a peer that hangs up right after its auth line may close the
// pipe before the real side's auth line is through, which fails the
// handshake rightly), and fails with a stale token.
func TestHandshakeHarness(t *testing.T) {
	lines := realTranscriptT(t)
	valid := []byte(lines[0] + "\n" + lines[1] + "\n" + templateAuth(lines[2]) + "\n[1]")
	defer leakcheck.Check(t)()
	for _, m := range []uint8{0, 1, 8, 0x1d, 0x29, 0x35} {
		if !runHandshake(t, hsModeOf(m), valid) {
			t.Errorf("mode %#x: the valid script failed", m)
		}
	}
	stale := []byte(lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n")
	if runHandshake(t, hsModeOf(3), stale) {
		t.Error("a stale token succeeded")
	}
}

// hsPeer plays the fuzzer's side of the handshake.
type hsPeer struct {
	conn     net.Conn
	mu       sync.Mutex
	got      []byte        // what the real side sent
	greeted  chan struct{} // closed once got holds two lines (or reading ended)
	readDone chan struct{}
	stop     chan struct{} // closed when Run has returned
	stopOnce sync.Once
}

func newHSPeer(c net.Conn) *hsPeer {
	p := &hsPeer{conn: c, greeted: make(chan struct{}), readDone: make(chan struct{}), stop: make(chan struct{})}
	go p.read()
	return p
}

// read collects everything the real side writes until the pipe closes.
func (p *hsPeer) read() {
	defer close(p.readDone)
	greeted := false
	buf := make([]byte, 4096)
	for {
		n, err := p.conn.Read(buf)
		p.mu.Lock()
		p.got = append(p.got, buf[:n]...)
		lines := bytes.Count(p.got, []byte{'\n'})
		p.mu.Unlock()
		if !greeted && (lines >= 2 || err != nil) {
			greeted = true
			close(p.greeted)
		}
		if err != nil {
			return
		}
	}
}

func (p *hsPeer) stopWaiting() { p.stopOnce.Do(func() { close(p.stop) }) }

// realLines returns the real side's greeting lines once they have arrived
// (ok false if they never did).
func (p *hsPeer) realLines() (l1, l2 string, ok bool) {
	select {
	case <-p.greeted:
	case <-p.stop:
		return "", "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := strings.SplitN(string(p.got), "\n", 3)
	if len(lines) < 3 {
		return "", "", false
	}
	return lines[0], lines[1], true
}

// play writes the script (see FuzzHandshake) and returns what it wrote
// after the token substitution.
func (p *hsPeer) play(m hsMode, script []byte) []byte {
	greeting, rest := splitLines(script, 2)
	if m.greetFirst {
		p.write(greeting, m.chunk)
	}
	real1, real2, ok := p.realLines()
	if !m.greetFirst {
		p.write(greeting, m.chunk)
	}
	if ok && bytes.Contains(rest, []byte(tokenMark)) {
		rest = substituteToken(greeting, rest, real1, real2)
	}
	p.write(rest, m.chunk)
	if m.hangUp {
		p.conn.Close()
	}
	return append(bytes.Clone(greeting), rest...)
}

// write writes b in chunks of the given size (0: at once), ignoring
// errors (the real side may have hung up).
func (p *hsPeer) write(b []byte, chunk int) {
	for len(b) > 0 {
		n := len(b)
		if chunk > 0 {
			n = min(n, chunk)
		}
		if _, err := p.conn.Write(b[:n]); err != nil {
			return
		}
		b = b[n:]
	}
}

// splitLines returns the first n lines of b (with their LFs) and the rest.
func splitLines(b []byte, n int) (head, rest []byte) {
	i := 0
	for k := 0; k < n; k++ {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return b, nil
		}
		i += j + 1
	}
	return b[:i], b[i:]
}

// lineText is a handshake line as the reader sees it: without LF and
// without a CR before it.
func lineText(line []byte) string {
	return strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
}

// substituteToken replaces tokenMark in each line of rest with the token
// for the method that starts the line.
func substituteToken(greeting, rest []byte, real1, real2 string) []byte {
	g1, g2 := splitLines(greeting, 1)
	own1, own2 := lineText(g1), lineText(g2)
	var out []byte
	for len(rest) > 0 {
		line, more := splitLines(rest, 1)
		if bytes.Contains(line, []byte(tokenMark)) {
			method, _, _ := strings.Cut(string(line), ";")
			tok, err := auth.Token(method, hsSecret, nil, own1, own2, real1, real2)
			if err != nil {
				tok, _ = auth.Token(auth.MethodHMAC, hsSecret, nil, own1, own2, real1, real2)
			}
			line = bytes.ReplaceAll(line, []byte(tokenMark), []byte(tok))
		}
		out = append(out, line...)
		rest = more
	}
	return out
}

// knownSentinels are the errors a failed handshake may wrap.
var knownSentinels = []error{
	wire.ErrLineTooLong, wire.ErrBadLine, wire.ErrBadGreeting, wire.ErrProtocol, wire.ErrVersion,
	wire.ErrSelf, wire.ErrAlreadyConnected, wire.ErrEcho, wire.ErrNoCommonAuth, wire.ErrNoCommonFraming,
	wire.ErrBadAuthLine, wire.ErrUnusableFraming, wire.ErrAuthFailed, wire.ErrTLSHandshake,
	wire.ErrHandshakeTimeout, wire.ErrConfig,
	auth.ErrTokenMismatch, auth.ErrMethodNotAccepted, auth.ErrTLSRequired, auth.ErrUnknownMethod, auth.ErrNoSecret,
	io.ErrUnexpectedEOF, io.ErrClosedPipe, os.ErrDeadlineExceeded, context.DeadlineExceeded, net.ErrClosed,
}

func checkHandshakeError(t *testing.T, err error) {
	var he *handshake.Error
	if !errors.As(err, &he) {
		t.Fatalf("Run error %T %v is no *handshake.Error", err, err)
	}
	for _, s := range knownSentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("Run error wraps no known sentinel: %v", err)
}

// checkValidHandshake verifies, without the driver, that what the peer
// sent is a valid handshake that Run was right to accept.
func checkValidHandshake(t *testing.T, cfg *handshake.Config, res *handshake.Result, sent []byte) {
	l1, rest := splitLines(sent, 1)
	l2, rest := splitLines(rest, 1)
	l3, after := splitLines(rest, 1)
	if !bytes.HasSuffix(l3, []byte{'\n'}) {
		t.Fatalf("Run accepted a handshake without a complete auth line: %q", sent)
	}
	peer1, peer2, authText := lineText(l1), lineText(l2), lineText(l3)
	if res.PeerLine1 != peer1 || res.PeerLine2 != peer2 {
		t.Fatalf("Run read greeting %q/%q, the peer sent %q/%q", res.PeerLine1, res.PeerLine2, peer1, peer2)
	}
	g, err := wire.ParseGreeting([]byte(peer1))
	if err != nil || wire.CheckPeer(g, cfg.NodeID) != nil || wire.CheckNonce([]byte(peer2)) != nil {
		t.Fatalf("Run accepted greeting %q / nonce %q: %v", peer1, peer2, err)
	}
	al, err := wire.ParseAuthLine([]byte(authText))
	if err != nil {
		t.Fatalf("Run accepted auth line %q: %v", authText, err)
	}
	want, err := auth.Token(al.Method, cfg.Secret, nil, peer1, peer2, res.OurLine1, res.OurLine2)
	if err != nil || al.Method != auth.MethodHMAC || al.Token != want {
		t.Fatalf("Run accepted auth line %q (want method %s, token %s)", authText, auth.MethodHMAC, want)
	}
	framings := cfg.Framings
	if len(framings) == 0 {
		framings = []string{"json"}
	}
	if res.RecvFraming != al.Framing || !contains(framings, al.Framing) {
		t.Fatalf("Run accepted framing %q (offered %q), reports %q", al.Framing, framings, res.RecvFraming)
	}
	if !bytes.HasPrefix(after, res.Buffered) {
		t.Fatalf("Buffered %q is not what followed the auth line (%q)", res.Buffered, after)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fuzzBundle returns a TLS bundle, generated once per process.
func fuzzBundle(t *testing.T) *auth.Bundle {
	b, err := bundleOnce()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var bundleOnce = sync.OnceValues(func() (*auth.Bundle, error) {
	p, err := auth.GenerateSelfSigned("", 0)
	if err != nil {
		return nil, err
	}
	return auth.LoadBundle(p)
})
