package aemp

import (
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/mesh"
)

// Config configures a [Node]. The zero value of every field means the
// documented default, so Config{} is a valid local-only node. NewNode copies
// the Config; changing it afterwards has no effect.
type Config struct {
	// NodeID is the node ID template (AnyEvent::MP's "nodeid", spec §1.2).
	// "%n" is replaced by the host name; a trailing "/" appends 10 random
	// characters, and "%u" is replaced by the same random text. Default:
	// "<Profile>/", e.g. "myhost/Ab3xYz09QK".
	NodeID string

	// Profile names the configuration profile; it is the default node ID
	// prefix. Default: the host name.
	Profile string

	// Workers is the number of goroutines that run port handlers. A
	// message from another node that finds its port idle, with nothing
	// else read behind it, is handled on its link's reader goroutine
	// instead, without a hand-off (if the handler blocks, another goroutine
	// takes over reading that link after 50 µs). Default:
	// runtime.GOMAXPROCS(0).
	Workers int

	// MailboxRing is the number of slots of a port's lock-free mailbox ring
	// (rounded up to a power of two). Messages beyond it wait in an
	// overflow list; nothing is dropped. Default: 64.
	MailboxRing int

	// MailboxLimit is the most messages a port may hold (waiting, and the
	// one its handler is running with). A Snd past it kills the port with
	// ("overflow", …) so that its monitors fire; a SndCtx waits for room
	// instead. Default: 1<<20. Negative: no limit.
	MailboxLimit int

	// Batch is the most messages a port handles in one turn before other
	// ports get a worker. Default: 64.
	Batch int

	// Logger receives the node's log records (handshake failures, links
	// lost, unmonitored ports dying). Default: slog.Default().
	Logger *slog.Logger

	// Trace logs every message sent to or received from another node (at
	// Debug, with a "trace" attribute: see trace.go), like AnyEvent::MP's
	// trace mode. The environment variable AEMP_TRACE=1 turns it on for
	// every node of the process. Off, it costs one branch per message.
	Trace bool

	// Networking. A node with no Binds, Nodes or Seeds is local-only.

	// Binds are the listen endpoints, "host:port" ("127.0.0.1:4040",
	// "[::1]:0"; port 0 picks a free port), also in AnyEvent::MP's forms
	// (spec §1.7): host "*" is every interface (one wildcard listener,
	// published with each interface address), port "*" or no port a free
	// port, a bare port number or "" the host name with that port, and
	// several specs in one entry separated by commas ("*:4040,10.0.0.9:4041").
	// Node.Binds reports the bound addresses.
	Binds []string

	// Nodes maps node IDs to the addresses they listen on, for nodes this
	// node may have to connect to ("host:port" each).
	Nodes map[string][]string

	// Seeds are the "host:port" endpoints of seed nodes (AnyEvent::MP's
	// seeds, spec §4.8). The node keeps a link to every seed it can reach
	// (retrying with back-off), tells each to run the global service, and
	// takes the first one that is up as its master: the node it publishes
	// its part of the global database to and asks where other nodes
	// listen. A seed endpoint that turns out to be this node makes it a
	// global node. All nodes of a mesh should use the same seed list.
	Seeds []string

	// Global makes the node a global node from the start (AnyEvent::MP's
	// global service): it holds the merged global database and serves it
	// to the nodes that use it as their master. A node also becomes
	// global when it is its own seed or another node asks it to (g_slave).
	Global bool

	// MonitorTimeout caps the back-off of seed reconnects and of the links
	// a global node keeps to the other global nodes (AnyEvent::MP's
	// monitor_timeout). Default: 30s.
	MonitorTimeout time.Duration

	// Secret is the shared secret for hmac_sha3_512 authentication.
	Secret string

	// Cert is a PEM bundle (private key, certificate, CA certificates) that
	// enables TLS, as in AnyEvent::MP's "cert" setting.
	Cert string

	// PlainGoLinks turns off secret-keyed TLS between Go nodes. By
	// default two Go nodes that share only a Secret run their link inside
	// TLS 1.3 with ephemeral keys, authenticated by an HMAC token bound to
	// that TLS channel: an attacker on the path can neither read, relay
	// nor inject (docs/security.md). With PlainGoLinks they use plain TCP
	// and AEMP's hmac_sha3_512, as toward Perl nodes, which authenticates
	// the handshake but not the stream: faster, for trusted networks only.
	// Links with a Cert use certificate TLS either way.
	PlainGoLinks bool

	// RequireTLS refuses every link that would not run inside TLS: Perl
	// nodes without a certificate (plain hmac_sha3_512, which a relay can
	// hijack), and Go nodes with PlainGoLinks. Off by default.
	RequireTLS bool

	// Framings is the framing_format list offered to peers, in preference
	// order: "goframe1", "cbor", "json". Default: {"goframe1", "cbor",
	// "json"}: Go peers use the length-prefixed framing; a Perl 2.x peer
	// picks the first of this list it supports, cbor, and is sent the first
	// of its own list we support, cbor by default (json if it is configured
	// so). Over cbor, Go strings that are pure ASCII travel as CBOR byte
	// strings, as Perl's do (see Msg.Value); between Go nodes goframe1 is
	// always preferred.
	Framings []string

	// AuthAccept lists the auth methods accepted from peers (advertised in
	// the greeting). Default: tls_sha3_512 and tls_anon when Cert is set,
	// hmac_sha3_512 when Secret is set. "cleartext" is accepted only when
	// listed here.
	AuthAccept []string

	// AuthOffer lists the auth methods this node is willing to send
	// (AnyEvent::MP's auth_offer); the peer's accept order picks one.
	// Default: tls_sha3_512, hmac_sha3_512 (each only when Cert or Secret
	// makes it possible). "cleartext" is refused: it reveals the secret.
	AuthOffer []string

	// Funcs are the functions other nodes may start by name (spec §2.14,
	// §4.4): with [Node.Spawn] (AnyEvent::MP's spawn), as function-call
	// node requests (snd_to_func, aemp snd), and as Services. Names have
	// Perl's form "Package::function" ("::f" is "main::f"). Only the
	// functions listed here can run; the registry is per node, so nodes
	// in one process can offer different ones. See [Func].
	Funcs map[string]Func

	// Services are started when the node starts, in order, as AnyEvent::MP's
	// configure starts its services: each is the name of a function in
	// Funcs, run as a local spawn (no arguments) before NewNode returns;
	// an init function that fails makes NewNode fail. A name ending in
	// "::" is a Perl module to load: "AnyEvent::MP::Global::" sets Global,
	// any other is ignored (logged).
	Services []string

	// Secure refuses what would run code for another node (AnyEvent::MP's
	// secure): spawns, function-call requests and eval from other nodes
	// get no answer and are logged. Sending, relays, monitoring and kills
	// stay allowed, as in Perl.
	Secure bool

	// Backend selects the transport for plain TCP links: "netpoll" or
	// "std". Default: "std", which has the higher one-way and bulk
	// throughput (docs/performance.md). "netpoll" suits a node with many
	// mostly idle links: a Go↔Go (goframe1) link on it has no goroutine
	// while idle and about 30 % less memory; it installs netpoll's
	// process-wide callback runner (docs/transport.md). TLS links (the
	// default between Go nodes that share a secret) always use std.
	// "netpoll" exists on linux (amd64, arm64, loong64), darwin and
	// freebsd (amd64, arm64); elsewhere NewNode fails with an error
	// wrapping ErrConfig and mesh.ErrBackend.
	Backend string

	// HandshakeTimeout bounds a connection's handshake. Default: 10s.
	HandshakeTimeout time.Duration

	// ConnectTimeout bounds an on-demand connection attempt (AnyEvent::MP's
	// connect_interval deadline); when it passes, monitors of the node's
	// ports fire with ("transport_error", node, "connect timeout") and
	// queued messages are discarded. Default: 5s.
	ConnectTimeout time.Duration

	// MaxFrame is the largest message accepted from or sent to a peer, in
	// bytes: a larger one fails alone (Snd returns ErrTooLarge; one from
	// a peer closes that link, as a framing error). Between Go nodes each
	// announces its limit, so neither sends the other what it would
	// refuse. Perl nodes have no limit. Default: 64 MiB.
	MaxFrame int

	// MaxDepth is the deepest nesting of arrays and objects a message from
	// a peer may have (the message itself counts as 1). Default: 512, as
	// JSON::XS and CBOR::XS.
	MaxDepth int

	// MaxQueue bounds the bytes queued for one other node: messages
	// waiting for its link to come up, then those not yet written to the
	// socket. Past it Snd returns ErrQueueFull and SndCtx waits for room
	// (back-pressure to the producer); the link is never torn down for
	// it. Default: 32 MiB. (docs/reliability.md states every bound.)
	MaxQueue int

	// KeepAlive, if positive, makes the node probe every link that has
	// been quiet for that long with a request every AEMP node answers
	// (Perl nodes too), and close a link whose peer has sent nothing for
	// KeepAliveTimeout (default 3×KeepAlive): its monitors fire with
	// ("transport_error", node, "keepalive timeout"). A link whose reader
	// is paused behind slow handlers is not timed out. Off by default
	// (TCP keep-alive, every 15 s, stays on).
	KeepAlive        time.Duration
	KeepAliveTimeout time.Duration

	// OrderPerPort relaxes the order of messages to another Go node from
	// one FIFO per node pair (AEMP's order) to one per destination port: a
	// small message (up to 4 KiB) may overtake larger messages queued
	// before it for other ports of that node, so a large transfer does not
	// hold up small messages behind it. Messages to one port keep their
	// order, and node-protocol messages (kill and monitor requests, relays)
	// are barriers that nothing overtakes. Links to Perl nodes (json
	// framing) always keep the FIFO. Off by default. It helps most with a
	// small SendBuffer: bytes already in the kernel cannot be overtaken.
	OrderPerPort bool

	// Compress, if positive, compresses (s2) every message larger than
	// this many bytes that goes to another Go node (goframe1 links; Perl
	// nodes never see it). Inbound compressed messages are always taken.
	// It pays where bandwidth is scarce and messages compress (JSON-like
	// text), and costs CPU on both ends; 0 (the default) is off.
	Compress int

	// SendBuffer sets the send buffer (SO_SNDBUF) of every link's socket,
	// in bytes. 0 (the default) keeps the system's autotuned buffer, right
	// for most links; a small one (e.g. 256 KiB) bounds the bytes queued
	// in the kernel, which lowers the latency of small messages behind
	// bulk traffic (with OrderPerPort) at some cost on links with a large
	// bandwidth-delay product.
	SendBuffer int
}

// Defaults.
const (
	DefaultMailboxRing      = 64
	DefaultMailboxLimit     = 1 << 20
	DefaultBatch            = 64
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultConnectTimeout   = 5 * time.Second
	DefaultMonitorTimeout   = 30 * time.Second
	DefaultMaxFrame         = 64 << 20
	DefaultMaxDepth         = 512
	DefaultMaxQueue         = 32 << 20
)

// Validate reports the first problem with c, wrapping [ErrConfig].
func (c *Config) Validate() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...))
	}
	if strings.ContainsAny(c.NodeID, "#;\r\n\x00") {
		return bad("node ID template %q contains '#', ';' or a line break", c.NodeID)
	}
	if c.NodeID == "0" {
		return bad(`node ID "0" is not allowed`)
	}
	if c.Workers < 0 || c.MailboxRing < 0 || c.Batch < 0 || c.MaxFrame < 0 || c.SendBuffer < 0 || c.Compress < 0 ||
		c.MaxQueue < 0 || c.MaxDepth < 0 {
		return bad("negative Workers, MailboxRing, Batch, MaxFrame, MaxDepth, MaxQueue, SendBuffer or Compress")
	}
	if c.MaxFrame > 1<<30 {
		return bad("MaxFrame %d above 1 GiB", c.MaxFrame)
	}
	if c.MaxDepth > DefaultMaxDepth {
		return bad("MaxDepth %d above %d (the decoders' own limit)", c.MaxDepth, DefaultMaxDepth)
	}
	if c.KeepAlive < 0 || c.KeepAliveTimeout < 0 {
		return bad("negative KeepAlive or KeepAliveTimeout")
	}
	if c.HandshakeTimeout < 0 || c.ConnectTimeout < 0 || c.MonitorTimeout < 0 {
		return bad("negative timeout")
	}
	switch c.Backend {
	case "", "std":
	case "netpoll":
		if !mesh.BackendAvailable("netpoll") {
			return fmt.Errorf("%w: %w: netpoll is not available on %s/%s (use std)",
				ErrConfig, mesh.ErrBackend, runtime.GOOS, runtime.GOARCH)
		}
	default:
		return bad("unknown backend %q (want netpoll or std)", c.Backend)
	}
	for id, addrs := range c.Nodes {
		if !validNodeID(id) {
			return bad("Nodes: invalid node ID %q", id)
		}
		if len(addrs) == 0 {
			return bad("Nodes: no address for node %q", id)
		}
	}
	for _, s := range c.Seeds {
		if _, port, err := net.SplitHostPort(s); err != nil || port == "" || port == "0" {
			return bad("Seeds: %q is not host:port with a port (seeds have no default port)", s)
		}
	}
	for _, f := range c.Framings {
		if f != "goframe1" && f != "json" && f != "cbor" {
			return bad("unsupported framing %q (want goframe1, cbor or json)", f)
		}
	}
	if _, err := listenAddrs(c.Binds); err != nil {
		return bad("Binds: %v", err)
	}
	for _, m := range c.AuthOffer {
		if !auth.Known(m) || m == auth.MethodCleartext {
			return bad("AuthOffer: %q is not a method this node can offer", m)
		}
	}
	return c.validateFuncs(bad)
}

// validateFuncs checks Funcs and Services.
func (c *Config) validateFuncs(bad func(string, ...any) error) error {
	for name, f := range c.Funcs {
		if !validFuncName(name) || f == nil {
			return bad("Funcs: %q is not Package::function with a function", name)
		}
	}
	for _, s := range c.Services {
		if strings.HasSuffix(s, "::") {
			continue // a Perl module
		}
		if !validFuncName(s) || c.Funcs[s] == nil && c.Funcs[canonicalFunc(s)] == nil {
			return bad("Services: %q is not a function in Funcs", s)
		}
	}
	return nil
}

// withDefaults returns a copy of c with the defaults filled in.
func (c Config) withDefaults() Config {
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.MailboxRing == 0 {
		c.MailboxRing = DefaultMailboxRing
	}
	if c.MailboxLimit == 0 {
		c.MailboxLimit = DefaultMailboxLimit
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.MaxFrame == 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	if c.MaxDepth == 0 {
		c.MaxDepth = DefaultMaxDepth
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = DefaultMaxQueue
	}
	if c.KeepAlive > 0 && c.KeepAliveTimeout == 0 {
		c.KeepAliveTimeout = 3 * c.KeepAlive
	}
	if c.MonitorTimeout == 0 {
		c.MonitorTimeout = DefaultMonitorTimeout
	}
	if len(c.Framings) == 0 {
		c.Framings = []string{"goframe1", "cbor", "json"}
	}
	// Never share the caller's slices and maps.
	c.Binds = append([]string(nil), c.Binds...)
	c.Seeds = append([]string(nil), c.Seeds...)
	c.Framings = append([]string(nil), c.Framings...)
	c.AuthAccept = append([]string(nil), c.AuthAccept...)
	c.AuthOffer = append([]string(nil), c.AuthOffer...)
	c.Services = append([]string(nil), c.Services...)
	if slices.Contains(c.Services, globalService) {
		c.Global = true
	}
	funcs := make(map[string]Func, len(c.Funcs))
	for name, f := range c.Funcs {
		funcs[canonicalFunc(name)] = f
	}
	c.Funcs = funcs
	nodes := make(map[string][]string, len(c.Nodes))
	for k, v := range c.Nodes {
		nodes[k] = append([]string(nil), v...)
	}
	c.Nodes = nodes
	return c
}
