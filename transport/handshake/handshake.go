package handshake

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/wire"
)

// DefaultTimeout is the whole-handshake deadline used when
// Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// hsFailGrace is how long a failing handshake lets its queued lines drain
// before it closes the connection.
const hsFailGrace = 100 * time.Millisecond

// Config configures one AEMP handshake (spec §3.1–§3.10). The zero
// value of each optional field is a documented default. Run copies the
// configuration and never modifies it, so one value may be shared by
// concurrent handshakes.
type Config struct {
	// NodeID is our node ID (required; must not contain ';', '#', CR, LF
	// or NUL).
	NodeID string

	// Secret is the shared secret; non-empty enables hmac_sha3_512.
	Secret []byte

	// TLS is our certificate bundle; non-nil enables TLS (the greeting key
	// tls=1.0) and the methods tls_sha3_512 and tls_anon. TLS is used when
	// the peer announces it too, and is then mandatory.
	TLS *auth.Bundle

	// SecretTLS, with a Secret, asks for secret-keyed TLS (greeting key
	// stls=1, a Go extension): when the peer asks for it too and
	// certificate TLS is not used, the connection runs inside TLS 1.3 with
	// ephemeral keys and both sides authenticate with tls_hmac_sha3_512,
	// the HMAC token bound to the TLS channel. A relay between two such
	// nodes can neither read nor inject anything; stripping stls=1 from a
	// greeting changes the lines the tokens cover, so it fails the
	// handshake. Perl nodes ignore the key and authenticate as before.
	SecretTLS bool

	// RequireTLS refuses a peer with which the connection would not run
	// inside TLS (certificate or secret-keyed): a Perl node without a
	// certificate, a Go node with SecretTLS off. The handshake fails with
	// wire.ErrNoTLS before any token is sent.
	RequireTLS bool

	// AuthAccept is the list of methods we accept from the peer, advertised
	// in greeting line 1 in this order. Default (when empty): tls_sha3_512
	// (if TLS), hmac_sha3_512 (if Secret), tls_anon (if TLS). "cleartext"
	// is accepted only when listed here explicitly.
	AuthAccept []string

	// AuthOffer is the set of methods we may send; which one is used is
	// decided by the peer's accept order. Default (when empty): tls_sha3_512,
	// hmac_sha3_512. "cleartext" is refused here (it would reveal the
	// secret); hmac_sha3_512 is dropped without Secret, tls_* without TLS.
	AuthOffer []string

	// Framings is our framing_format list in preference order, e.g.
	// {"goframe1", "json"}. The peer picks what it sends from it, and we
	// pick what we send from the peer's list. Default: {"json"}.
	Framings []string

	// Extra holds further greeting pairs (capabilities). The handshake
	// always sends provider, peeraddr, mproto, gproto (and tls with TLS)
	// first; Extra must not repeat those keys.
	Extra []wire.KV

	// PeerAddr is sent as peeraddr= (the peer's address as seen by us).
	// Default: conn.RemoteAddr().String().
	PeerAddr string

	// Timeout bounds the whole handshake. Default DefaultTimeout;
	// an earlier deadline of the context passed to Run wins.
	Timeout time.Duration

	// OnGreeting, if set, is called with the peer's parsed greeting line 1
	// before the protocol, version, self and already-connected checks (as
	// Perl runs its greeting hooks, e.g. the seed logic). It is called on
	// the goroutine that called Run, may block (the handshake
	// deadline keeps running) and must not retain or modify g. A non-nil
	// error aborts the handshake with that error wrapped.
	OnGreeting func(g *wire.Greeting) error

	// IsConnected, if set, reports whether an established connection to
	// nodeID exists; if it returns true the handshake fails with
	// wire.ErrAlreadyConnected. It is called on the goroutine that called
	// Run, after the other greeting checks, and should not block.
	IsConnected func(nodeID string) bool

	// WrapTLS, if set, wraps the connection before TLS runs over it
	// (transport.WrapTLS: the link can then write sparse messages at once
	// over TLS too). It must return a net.Conn that passes everything on
	// to the one it is given.
	WrapTLS func(net.Conn) net.Conn

	// testLines, when set by tests, replaces our greeting line 1 and nonce
	// line (to replay recorded sessions byte for byte).
	testLines *[2]string
}

// Result describes an authenticated connection.
type Result struct {
	// Conn is the connection for the data phase: the conn passed to
	// Handshake, or a *tls.Conn over it when TLS is active. Its deadline
	// is cleared.
	Conn net.Conn

	// Buffered holds data-phase bytes that were read together with the
	// peer's auth line. They precede everything still to be read from
	// Conn and MUST be fed to the data reader first.
	Buffered []byte

	// Peer is the peer's parsed greeting line 1.
	Peer wire.Greeting

	// The four greeting lines exactly as sent/received, without LF.
	PeerLine1, PeerLine2, OurLine1, OurLine2 string

	// SendFraming is the framing we send with (named in our auth line);
	// RecvFraming the framing the peer sends with (its auth line's third
	// field, always one of our Framings).
	SendFraming, RecvFraming string

	// AuthMethod is the method we authenticated with; PeerAuthMethod the
	// one the peer used (tls_anon marks an "untrusted" peer in Perl).
	AuthMethod, PeerAuthMethod string

	// TLS reports whether the connection runs inside TLS; SecretTLS
	// whether that TLS is secret-keyed (ephemeral certificates, the token
	// bound to the channel) rather than certificate TLS.
	TLS, SecretTLS bool
}

// Error is the error Run returns. It names the peer and wraps
// the reason, which in turn wraps the wire/auth sentinels (match with
// errors.Is). It implements net.Error; Timeout reports whether the handshake
// deadline or the context's deadline expired.
type Error struct {
	Addr   string // the peer's address
	NodeID string // the peer's node ID, if its greeting was read
	Err    error  // the reason
}

// Error returns e.g. "aemp: handshake with 127.0.0.1:4040 (perlseed):
// authentication failed: hmac_sha3_512: token mismatch (wrong secret?)".
func (e *Error) Error() string {
	peer := e.Addr
	if e.NodeID != "" {
		peer += " (" + e.NodeID + ")"
	}
	return "aemp: handshake with " + peer + ": " + e.Err.Error()
}

// Unwrap returns the reason.
func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the handshake ran out of time.
func (e *Error) Timeout() bool {
	return errors.Is(e.Err, wire.ErrHandshakeTimeout) || errors.Is(e.Err, context.DeadlineExceeded)
}

// Temporary reports false: a failed handshake is not retried on the same
// connection. (Part of net.Error.)
func (e *Error) Temporary() bool { return false }

// Run runs the AEMP handshake on conn (spec §3.1) and returns the
// authenticated connection. It is symmetric: the dialling and the accepting
// side call it the same way.
//
// Our two greeting lines are written at once (from a short-lived goroutine,
// so that unbuffered transports such as net.Pipe cannot deadlock). The peer's
// line 1 is read and checked (OnGreeting, protocol, version, self,
// IsConnected), then its nonce line (echo check); the auth method and our
// send framing are chosen from the peer's lists; if both sides have TLS the
// TLS handshake starts now, with the role decided by the nonces. Then our
// auth line is sent and the peer's is read and verified. No data is written
// before the peer is verified.
//
// Lines are limited to wire.MaxLine bytes and read through a fixed 4 KiB
// buffer. The deadline is cfg.Timeout or ctx's deadline, whichever is
// earlier; cancelling ctx interrupts blocked reads and writes. On failure
// the lines already queued get a moment (at most 100 ms, never past the
// deadline) to reach the peer, so that it learns why, then conn is closed
// and the error is a *Error. On success the
// deadline is cleared and no goroutine of the handshake remains.
func Run(ctx context.Context, conn net.Conn, cfg *Config) (*Result, error) {
	h := &handshaker{conn: conn}
	if cfg != nil {
		h.cfg = *cfg
		// Our own copies: the caller may reuse its slices.
		h.cfg.Secret = bytes.Clone(cfg.Secret)
		h.cfg.AuthAccept = slices.Clone(cfg.AuthAccept)
		h.cfg.AuthOffer = slices.Clone(cfg.AuthOffer)
		h.cfg.Framings = slices.Clone(cfg.Framings)
		h.cfg.Extra = slices.Clone(cfg.Extra)
	}
	h.addr = h.cfg.PeerAddr
	if h.addr == "" && conn.RemoteAddr() != nil {
		h.addr = conn.RemoteAddr().String()
	}
	res, err := h.run(ctx)
	if err != nil {
		return nil, &Error{Addr: h.addr, NodeID: h.peerID, Err: err}
	}
	return res, nil
}

// handshaker holds the state of one Run call.
type handshaker struct {
	cfg    Config   // our copy, with defaults filled in
	conn   net.Conn // the raw connection
	addr   string   // peer address for messages
	peerID string   // set once the peer's greeting is parsed

	timedOut bool       // the deadline came from cfg.Timeout, not ctx
	writes   []*hsWrite // background writes in order, joined on exit
}

// hsWrite is one background write; done is closed when it has finished.
type hsWrite struct {
	done chan struct{}
	err  error
}

func (h *handshaker) run(ctx context.Context) (res *Result, err error) {
	if err := h.applyDefaults(); err != nil {
		h.conn.Close()
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		h.conn.Close()
		return nil, context.Cause(ctx)
	}

	deadline := time.Now().Add(h.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	} else {
		h.timedOut = true
	}
	// An error here means the conn is closed already (net.Pipe also reports
	// a closed remote end this way); the first read then says which.
	_ = h.conn.SetDeadline(deadline)
	// Cancelling ctx sets a past deadline, which interrupts blocked I/O.
	cancelled := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(cancelled)
		h.conn.SetDeadline(time.Unix(1, 0))
	})

	defer func() {
		cancelledNow := !stop()
		if cancelledNow {
			<-cancelled
			if err == nil {
				err = context.Cause(ctx)
			}
		}
		if err != nil {
			if !cancelledNow {
				// Let lines already queued (greeting, auth line) reach the
				// peer for a moment, so that it sees why we hang up.
				grace := time.Now().Add(hsFailGrace)
				if deadline.Before(grace) {
					grace = deadline
				}
				h.conn.SetWriteDeadline(grace)
				h.conn.SetReadDeadline(time.Unix(1, 0))
				h.joinWrites()
			}
			h.conn.Close() // unblocks whatever still writes
			h.joinWrites()
			res, err = nil, h.classify(ctx, err)
			return
		}
		if werr := h.joinWrites(); werr != nil {
			h.conn.Close()
			res, err = nil, h.classify(ctx, fmt.Errorf("write: %w", werr))
			return
		}
		if derr := h.conn.SetDeadline(time.Time{}); derr != nil {
			h.conn.Close()
			res, err = nil, fmt.Errorf("clear deadline: %w", derr)
		}
	}()
	return h.exchange()
}

// exchange runs the protocol steps; run wraps it with deadline handling.
func (h *handshaker) exchange() (*Result, error) {
	our1, our2, err := h.ourLines()
	if err != nil {
		return nil, err
	}
	greet := make([]byte, 0, len(our1)+len(our2)+2)
	greet = append(append(append(append(greet, our1...), '\n'), our2...), '\n')
	greetDone := h.writeAsync(h.conn, greet)

	r := &hsLineReader{src: h.conn}
	peer1, err := r.readLine()
	if err != nil {
		return nil, fmt.Errorf("reading greeting: %w", err)
	}
	peer, err := h.checkGreeting(peer1)
	if err != nil {
		return nil, err
	}
	peer2, err := r.readLine()
	if err != nil {
		return nil, fmt.Errorf("reading nonce: %w", err)
	}
	if err := wire.CheckNonce([]byte(peer2)); err != nil {
		return nil, err
	}
	if err := wire.CheckEcho(our1, our2, peer1, peer2); err != nil {
		return nil, err
	}

	useTLS := h.cfg.TLS != nil && peer.WantsTLS()
	secretTLS := !useTLS && h.cfg.SecretTLS && len(h.cfg.Secret) > 0 && peer.WantsSecretTLS()
	if h.cfg.RequireTLS && !useTLS && !secretTLS {
		return nil, fmt.Errorf("%w (greeting: tls=%v, stls=%v)", wire.ErrNoTLS, peer.WantsTLS(), peer.WantsSecretTLS())
	}
	offer := h.cfg.AuthOffer
	if secretTLS {
		offer = []string{auth.MethodHMACTLS} // inside secret TLS only a bound token proves the peer
	}
	method, err := wire.ChooseAuth(peer.Auth, offer, useTLS || secretTLS)
	if err != nil {
		return nil, err
	}
	sendFraming, err := wire.ChooseFraming(peer.Framings, h.cfg.Framings)
	if err != nil {
		return nil, err
	}

	conn := h.conn
	var binding []byte
	if useTLS || secretTLS {
		// TLS records must not interleave with the greeting bytes.
		<-greetDone.done
		if greetDone.err != nil {
			return nil, fmt.Errorf("writing greeting: %w", greetDone.err)
		}
		tc, err := h.startTLS(r.rest(), our2, peer2, secretTLS)
		if err != nil {
			return nil, err
		}
		conn = tc
		r = &hsLineReader{src: tc}
		if secretTLS {
			if binding, err = auth.Binding(tc.ConnectionState()); err != nil {
				return nil, err
			}
		}
	}
	token, err := auth.Token(method, h.cfg.Secret, binding, our1, our2, peer1, peer2)
	if err != nil {
		return nil, err
	}

	line := wire.AppendAuthLine(nil, wire.AuthLine{Method: method, Token: token, Framing: sendFraming})
	h.writeAsync(conn, append(line, '\n'))

	authText, err := r.readLine()
	if err != nil {
		var oe *net.OpError
		if useTLS && errors.As(err, &oe) && oe.Op == "remote error" {
			// TLS 1.3: the server rejects our certificate after our
			// side of the handshake has completed.
			return nil, fmt.Errorf("reading auth line: %w: %w", wire.ErrTLSHandshake, err)
		}
		return nil, fmt.Errorf("reading auth line: %w", err)
	}
	al, err := wire.ParseAuthLine([]byte(authText))
	if err != nil {
		return nil, err
	}
	if secretTLS && al.Method != auth.MethodHMACTLS {
		return nil, fmt.Errorf("%w: %s inside secret-keyed TLS, want %s", wire.ErrAuthFailed, al.Method, auth.MethodHMACTLS)
	}
	err = auth.Verify(al.Method, al.Token, auth.Params{
		Accept: h.cfg.AuthAccept, Secret: h.cfg.Secret, TLS: useTLS || secretTLS, Binding: binding,
		Local1: our1, Local2: our2, Remote1: peer1, Remote2: peer2,
	})
	if err != nil {
		return nil, err
	}
	if !slices.Contains(h.cfg.Framings, al.Framing) {
		return nil, fmt.Errorf("%w: peer sends %q, we support [%s]", wire.ErrUnusableFraming,
			al.Framing, strings.Join(h.cfg.Framings, ","))
	}
	return &Result{
		Conn:           conn,
		Buffered:       r.rest(),
		Peer:           peer,
		PeerLine1:      peer1,
		PeerLine2:      peer2,
		OurLine1:       our1,
		OurLine2:       our2,
		SendFraming:    sendFraming,
		RecvFraming:    al.Framing,
		AuthMethod:     method,
		PeerAuthMethod: al.Method,
		TLS:            useTLS || secretTLS,
		SecretTLS:      secretTLS,
	}, nil
}

// checkGreeting parses the peer's line 1 and applies the checks of §3.5 in
// Perl's order: hook first, then protocol, version, self, already connected.
func (h *handshaker) checkGreeting(line string) (wire.Greeting, error) {
	g, err := wire.ParseGreeting([]byte(line))
	if err != nil {
		return g, err
	}
	h.peerID = g.NodeID
	if h.cfg.OnGreeting != nil {
		if err := h.cfg.OnGreeting(&g); err != nil {
			return g, fmt.Errorf("greeting hook: %w", err)
		}
	}
	if err := wire.CheckPeer(g, h.cfg.NodeID); err != nil {
		return g, err
	}
	if h.cfg.IsConnected != nil && h.cfg.IsConnected(g.NodeID) {
		return g, fmt.Errorf("%s %w, not connecting again", g.NodeID, wire.ErrAlreadyConnected)
	}
	return g, nil
}

// startTLS runs the TLS handshake over the raw conn, replaying the bytes the
// line reader already holds; the smaller nonce is the client. secret
// selects secret-keyed TLS (ephemeral certificates) instead of the bundle.
func (h *handshaker) startTLS(pending []byte, our2, peer2 string, secret bool) (*tls.Conn, error) {
	var raw net.Conn = h.conn
	if h.cfg.WrapTLS != nil {
		raw = h.cfg.WrapTLS(raw)
	}
	if len(pending) > 0 {
		raw = &hsReplayConn{Conn: raw, pending: pending}
	}
	client := wire.TLSClient(our2, peer2)
	var cfg *tls.Config
	switch {
	case secret:
		var err error
		if cfg, err = auth.EphemeralConfig(client); err != nil {
			return nil, err
		}
	case client:
		cfg = h.cfg.TLS.ClientConfig()
	default:
		cfg = h.cfg.TLS.ServerConfig()
	}
	var tc *tls.Conn
	if client {
		tc = tls.Client(raw, cfg)
	} else {
		tc = tls.Server(raw, cfg)
	}
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrTLSHandshake, err)
	}
	return tc, nil
}

// joinWrites waits for all background writes and returns the first error.
func (h *handshaker) joinWrites() error {
	var first error
	for _, w := range h.writes {
		<-w.done
		if first == nil {
			first = w.err
		}
	}
	return first
}

// writeAsync writes p to dst on a new goroutine, after the previous
// background write has finished (so the bytes keep their order); run joins
// it before returning. A failed write fails the ones queued after it.
func (h *handshaker) writeAsync(dst io.Writer, p []byte) *hsWrite {
	w := &hsWrite{done: make(chan struct{})}
	var prev *hsWrite
	if n := len(h.writes); n > 0 {
		prev = h.writes[n-1]
	}
	h.writes = append(h.writes, w)
	go func() {
		defer close(w.done)
		if prev != nil {
			if <-prev.done; prev.err != nil {
				w.err = prev.err
				return
			}
		}
		_, w.err = dst.Write(p)
	}()
	return w
}

// ourLines returns our greeting line 1 and nonce line.
func (h *handshaker) ourLines() (string, string, error) {
	if t := h.cfg.testLines; t != nil {
		return t[0], t[1], nil
	}
	g := wire.Greeting{
		Protocol: wire.Protocol,
		Version:  wire.Version,
		NodeID:   h.cfg.NodeID,
		Auth:     h.cfg.AuthAccept,
		Framings: h.cfg.Framings,
		KV: []wire.KV{
			{Key: wire.KeyProvider, Value: wire.Provider, HasValue: true},
			{Key: wire.KeyPeerAddr, Value: h.addr, HasValue: true},
			{Key: wire.KeyMProto, Value: "1", HasValue: true},
			{Key: wire.KeyGProto, Value: "1", HasValue: true},
		},
	}
	if h.cfg.TLS != nil {
		g.KV = append(g.KV, wire.KV{Key: wire.KeyTLS, Value: "1.0", HasValue: true})
	}
	if h.secretTLS() {
		g.KV = append(g.KV, wire.KV{Key: wire.KeySecretTLS, Value: "1", HasValue: true})
	}
	g.KV = append(g.KV, h.cfg.Extra...)
	if err := g.Validate(); err != nil {
		return "", "", fmt.Errorf("%w: our greeting: %w", wire.ErrConfig, err)
	}
	nonce, err := wire.NewNonce()
	if err != nil {
		return "", "", err
	}
	return string(wire.AppendGreeting(nil, g)), nonce, nil
}

// secretTLS reports whether we ask for secret-keyed TLS.
func (h *handshaker) secretTLS() bool { return h.cfg.SecretTLS && len(h.cfg.Secret) > 0 }

// applyDefaults fills in the documented defaults and validates the copy.
func (h *handshaker) applyDefaults() error {
	c := &h.cfg
	if c.NodeID == "" || strings.ContainsAny(c.NodeID, ";#\r\n\x00") {
		return fmt.Errorf("%w: node ID %q is empty or contains ';', '#', CR, LF or NUL", wire.ErrConfig, c.NodeID)
	}
	if len(c.Secret) == 0 && c.TLS == nil {
		return fmt.Errorf("%w: unable to handshake TLS and no shared secret configured", wire.ErrConfig)
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if len(c.Framings) == 0 {
		c.Framings = []string{"json"}
	}
	if len(c.AuthAccept) == 0 {
		var accept []string
		if h.secretTLS() {
			accept = append(accept, auth.MethodHMACTLS)
		}
		if c.TLS != nil {
			accept = append(accept, auth.MethodTLS)
		}
		if len(c.Secret) > 0 {
			accept = append(accept, auth.MethodHMAC)
		}
		if c.TLS != nil {
			accept = append(accept, auth.MethodTLSAnon)
		}
		c.AuthAccept = accept
	}
	for _, m := range c.AuthAccept {
		if !auth.Known(m) {
			return fmt.Errorf("%w: unknown auth method %q in AuthAccept", wire.ErrConfig, m)
		}
	}
	if !slices.Contains(c.AuthAccept, auth.MethodHMACTLS) {
		c.SecretTLS = false // an explicit accept list without it: not asked for
	}
	if len(c.AuthOffer) > 0 && !slices.Contains(c.AuthOffer, auth.MethodHMACTLS) {
		c.SecretTLS = false // an explicit offer without it: not asked for
	}
	offer := c.AuthOffer
	if len(offer) == 0 {
		offer = []string{auth.MethodTLS, auth.MethodHMAC}
	}
	c.AuthOffer = nil
	for _, m := range offer {
		switch {
		case !auth.Known(m):
			return fmt.Errorf("%w: unknown auth method %q in AuthOffer", wire.ErrConfig, m)
		case m == auth.MethodCleartext:
			return fmt.Errorf("%w: refusing to offer cleartext (it reveals the secret)", wire.ErrConfig)
		case m == auth.MethodHMAC && len(c.Secret) == 0:
		case m != auth.MethodHMAC && c.TLS == nil:
		default:
			c.AuthOffer = append(c.AuthOffer, m)
		}
	}
	reserved := []string{wire.KeyProvider, wire.KeyPeerAddr, wire.KeyMProto, wire.KeyGProto, wire.KeyTLS, wire.KeySecretTLS}
	for _, kv := range c.Extra {
		if slices.Contains(reserved, kv.Key) {
			return fmt.Errorf("%w: Extra must not set the greeting key %q", wire.ErrConfig, kv.Key)
		}
	}
	return nil
}

// classify turns a low-level I/O error into one that says what happened:
// deadline (ours or the context's), cancellation, or the peer hanging up.
func (h *handshaker) classify(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil && !errors.Is(err, context.Cause(ctx)):
		return fmt.Errorf("%w (%w)", context.Cause(ctx), err)
	case errors.Is(err, os.ErrDeadlineExceeded) && h.timedOut:
		return fmt.Errorf("%w after %v: %w", wire.ErrHandshakeTimeout, h.cfg.Timeout, err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	case errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w (peer closed the connection: %w)", err, io.ErrUnexpectedEOF)
	}
	return err
}

// hsLineReader reads handshake lines through a fixed buffer of wire.MaxLine
// bytes: a line longer than that fails with wire.ErrLineTooLong, nothing is
// buffered without bound, and bytes read past the last line stay available
// through rest.
type hsLineReader struct {
	src        io.Reader
	buf        [wire.MaxLine]byte
	start, end int
}

// readLine returns the next line without LF and without a CR before the LF.
func (r *hsLineReader) readLine() (string, error) {
	for {
		if i := bytes.IndexByte(r.buf[r.start:r.end], '\n'); i >= 0 {
			line := r.buf[r.start : r.start+i]
			r.start += i + 1
			line = bytes.TrimSuffix(line, []byte{'\r'})
			return string(line), nil
		}
		if r.end-r.start >= len(r.buf) {
			return "", fmt.Errorf("%w: no LF within %d bytes", wire.ErrLineTooLong, wire.MaxLine)
		}
		if r.start > 0 {
			r.end = copy(r.buf[:], r.buf[r.start:r.end])
			r.start = 0
		}
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		if err != nil && n == 0 {
			if errors.Is(err, io.EOF) {
				return "", fmt.Errorf("peer closed the connection: %w", io.ErrUnexpectedEOF)
			}
			return "", err
		}
	}
}

// rest returns a copy of the bytes read past the last line (nil if none).
func (r *hsLineReader) rest() []byte {
	if r.start == r.end {
		return nil
	}
	return bytes.Clone(r.buf[r.start:r.end])
}

// hsReplayConn serves pending before reading from the wrapped conn; it hands
// bytes the line reader consumed past the nonce line to the TLS layer.
type hsReplayConn struct {
	net.Conn
	pending []byte
}

// NetConn returns the wrapped conn (as tls.Conn.NetConn does), for the
// transport to find the TCP connection under a link.
func (c *hsReplayConn) NetConn() net.Conn { return c.Conn }

func (c *hsReplayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
