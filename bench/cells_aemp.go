package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aemp-go/aemp"
)

// The aemp cells. API used (github.com/aemp-go/aemp root package):
//
//	aemp.NewNode(aemp.Config{NodeID, Binds, Nodes, Secret, Cert, PlainGoLinks, Backend, MaxFrame,
//		Compress, OrderPerPort, SendBuffer, Logger})
//	(*Node).NewPort, (*Port).Rcv(tag, func(*aemp.Msg) error), (*Port).ID
//	aemp.NewMsg(tag).AppendUint(sender).AppendUint(seq).AppendBytes(body) and (*Node).SndMsg
//	(*Node).SndMsgCtx after aemp.ErrQueueFull
//	(*Msg).Tag, (*Msg).Int(1), (*Msg).Int(2), (*Msg).BytesView(3); (*Node).Close
//	W5: aemp.Config{Seeds, Global, Workers}, (*Node).DBMon, (*Node).DBSet, aemp.DBChange
//
// Each node has one receiving port per message kind, as an aemp user would
// have one port per concern.
func init() {
	register(&System{Order: 30, Key: "aemp", Name: "aemp (one node)", Group: "aemp",
		Note:  "local ports of one node: SndMsg into the target port's mailbox, no serialisation; default Workers, MailboxRing, Batch",
		Local: aempLocal{}})
	register(&System{Order: 37, Key: "aemp-mesh", Name: "aemp mesh", Group: "aemp",
		Note: "W5: n nodes in one process on 127.0.0.1, 2 global seed nodes (started first, and timed) + n-2 normal nodes started concurrently (Seeds = both), Workers 1 each, std backend, the default auth between Go nodes sharing a Secret (secret-keyed TLS 1.3, tls_hmac_sha3_512); formed = when every node's DBMon of 'l (listener addresses) lists all n nodes; change = DBSet on the last node until every node's DBMon (its own included) saw it",
		Mesh: aempMesh{}})
	register(&System{Order: 38, Key: "aemp-mesh-plain", Name: "aemp mesh, plain", Group: "aemp",
		Note: "W5: as aemp mesh with PlainGoLinks (plain TCP, hmac_sha3_512 as between Perl nodes): the closer match to the NATS nodes, which neither authenticate nor encrypt",
		Mesh: aempMesh{plain: true}})
	register(&System{Order: 31, Key: "aemp-netpoll", Name: "aemp netpoll", Group: "aemp",
		Note:   `two nodes over plain TCP on 127.0.0.1 (PlainGoLinks: hmac_sha3_512 handshake, no TLS), Backend "netpoll", goframe1 framing, MaxFrame 8 MiB; W6: the server node with these settings (default MaxFrame), every peer link its own aemp.Node (Workers 1, same settings) in a helper process`,
		Remote: aempRemote{backend: "netpoll", plain: true},
		Links:  aempLinks{backend: "netpoll", plain: true}})
	register(&System{Order: 32, Key: "aemp-std", Name: "aemp std net", Group: "aemp",
		Note:   `as aemp netpoll with Backend "std" (std net): plain TCP, PlainGoLinks (W6 likewise)`,
		Remote: aempRemote{backend: "std", plain: true},
		Links:  aempLinks{backend: "std", plain: true}})
	register(&System{Order: 33, Key: "aemp-default", Name: "aemp (default)", Group: "aemp",
		Note:   "the library's defaults between two Go nodes sharing a Secret: secret-keyed TLS 1.3 (tls_hmac_sha3_512, channel-bound; std backend, as every TLS link), goframe1, default MaxFrame (64 MiB), MaxQueue, no compression; W6 likewise, server and every peer node",
		Remote: aempRemote{defaults: true},
		Links:  aempLinks{}})
	register(&System{Order: 34, Key: "aemp-tls", Name: "aemp TLS", Group: "aemp",
		Note:   "as aemp std net with certificate TLS (Cert: one self-signed ECDSA P-256 certificate shared by both nodes, tls_sha3_512 auth)",
		Remote: aempRemote{tls: true}})
	register(&System{Order: 35, Key: "aemp-perport", Name: "aemp std, per-port order", Group: "aemp",
		Note:   `as aemp std net (plain TCP) with OrderPerPort (small messages may overtake larger ones queued for other ports) and SendBuffer 256 KiB`,
		Remote: aempRemote{backend: "std", plain: true, perPort: true}})
	register(&System{Order: 36, Key: "aemp-s2", Name: "aemp s2", Group: "aemp",
		Note:   "W4c only: as aemp std net (plain TCP) with Compress 4096 (s2 on every message above 4 KiB between the Go nodes)",
		Remote: aempRemote{backend: "std", plain: true, compress: 4096},
		Only:   []string{"W4c"}})
}

// aempMaxFrame fits a 1 MiB body and its envelope, as natsMaxPayload does.
const aempMaxFrame = 8 << 20

var aempKinds = []Kind{KindData, KindPing, KindPong}

// aempConfig is the Config every aemp cell starts from. The node logs are
// discarded unless BENCH_AEMP_LOG is set (then: debug level to stderr, which
// the parent shows in a FAILED cell's reason).
func aempConfig(id string) aemp.Config {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("BENCH_AEMP_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return aemp.Config{
		NodeID:      id,
		Secret:      "bench-secret",
		MaxFrame:    aempMaxFrame,
		Logger:      logger,
		MailboxRing: ringFromEnv(),
	}
}

// aempNode is one node with a receiving port per kind.
type aempNode struct {
	n     *aemp.Node
	ports [3]aemp.PortID // own receivers by Kind
	peer  [3]aemp.PortID // where Send goes, by Kind
}

// listen opens the node's receivers; h gets every message, decoded.
func (an *aempNode) listen(h Handler) {
	for _, k := range aempKinds {
		p := an.n.NewPort().Rcv(k.Tag(), func(m *aemp.Msg) error {
			h(decodeAemp(m, k))
			return nil
		})
		an.ports[k] = p.ID()
	}
}

// decodeAemp turns a received message into a Msg; a malformed one gets an
// impossible sender so that verification reports it.
func decodeAemp(m *aemp.Msg, k Kind) Msg {
	sender, err1 := m.Int(1)
	seq, err2 := m.Int(2)
	body, err3 := m.BytesView(3) // valid during the handler, as Handler allows
	if err := errors.Join(err1, err2, err3); err != nil || m.Tag() != k.Tag() {
		return Msg{Kind: k, Sender: ^uint32(0)}
	}
	return Msg{Kind: k, Sender: uint32(sender), Seq: uint64(seq), Body: body}
}

// Send builds the message with the unboxed Append methods (no allocation)
// and sends it. Should the queue to the other node be full (ErrQueueFull:
// more than Config.MaxQueue bytes waiting; the harness's windows keep far
// fewer in flight, so it should not happen), it waits for room with
// SndMsgCtx as a user would, and counts the wait (Result.SendWaits).
func (an *aempNode) Send(m Msg) error {
	return aempSend(an.n, an.peer[m.Kind], aemp.NewMsg(m.Kind.Tag()).
		AppendUint(uint64(m.Sender)).AppendUint(m.Seq).AppendBytes(m.Body))
}

// aempSendWait bounds one wait for queue room.
const aempSendWait = 30 * time.Second

// aempSend is SndMsg, falling back to SndMsgCtx on ErrQueueFull.
func aempSend(n *aemp.Node, to aemp.PortID, msg *aemp.Msg) error {
	err := n.SndMsg(to, msg)
	if errors.Is(err, aemp.ErrQueueFull) {
		sendWaits.Add(1)
		ctx, cancel := context.WithTimeout(context.Background(), aempSendWait)
		err = n.SndMsgCtx(ctx, to, msg)
		cancel()
	}
	return err
}

// aempRemote is two networking nodes in the child process.
type aempRemote struct {
	backend  string // Config.Backend; "" with tls
	plain    bool   // Config.PlainGoLinks: plain TCP with hmac_sha3_512 instead of secret-keyed TLS
	tls      bool   // certificate TLS (Config.Cert)
	perPort  bool   // Config.OrderPerPort, with a 256 KiB SendBuffer
	compress int    // Config.Compress
	defaults bool   // the library's defaults but for Secret, Binds, Nodes (no MaxFrame)
}

func (r aempRemote) OpenRemote(_ PairConfig, atA, atB Handler) (*Pair, error) {
	addrs, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	cfgA, cfgB := aempConfig("bench-a"), aempConfig("bench-b")
	if r.defaults {
		cfgA.MaxFrame, cfgB.MaxFrame = 0, 0
	}
	cfgA.Binds, cfgB.Binds = []string{addrs[0]}, []string{addrs[1]}
	cfgA.Nodes = map[string][]string{"bench-b": {addrs[1]}}
	cfgB.Nodes = map[string][]string{"bench-a": {addrs[0]}}
	cfgA.Backend, cfgB.Backend = r.backend, r.backend
	cfgA.PlainGoLinks, cfgB.PlainGoLinks = r.plain, r.plain
	cfgA.Compress, cfgB.Compress = r.compress, r.compress
	if r.perPort {
		cfgA.OrderPerPort, cfgB.OrderPerPort = true, true
		cfgA.SendBuffer, cfgB.SendBuffer = 256<<10, 256<<10
	}
	if r.tls {
		pemText, err := selfSignedPEM()
		if err != nil {
			return nil, err
		}
		cfgA.Cert, cfgB.Cert = pemText, pemText
	}
	a, err := newAempNode(cfgA, atA)
	if err != nil {
		return nil, err
	}
	b, err := newAempNode(cfgB, atB)
	if err != nil {
		a.n.Close()
		return nil, err
	}
	a.peer, b.peer = b.ports, a.ports
	return &Pair{A: a, B: b, Close: func() error { return errors.Join(a.n.Close(), b.n.Close()) }}, nil
}

// newAempNode starts a node; a configuration the library rejects (as it
// does while networking is not implemented) makes the cell not available.
func newAempNode(cfg aemp.Config, h Handler) (*aempNode, error) {
	n, err := aemp.NewNode(cfg)
	if errors.Is(err, aemp.ErrConfig) {
		return nil, notAvailable("aemp.NewNode with Binds/Nodes: %v", err)
	}
	if err != nil {
		return nil, err
	}
	an := &aempNode{n: n}
	an.listen(h)
	return an, nil
}

// aempLocal is flows port pairs inside one node.
type aempLocal struct{}

func (aempLocal) OpenLocal(_ PairConfig, recv []Handler) ([]Endpoint, func() error, error) {
	n, err := aemp.NewNode(aempConfig("bench-local"))
	if err != nil {
		return nil, nil, err
	}
	send := make([]Endpoint, len(recv))
	for i, h := range recv {
		an := &aempNode{n: n}
		an.listen(h)
		an.peer = an.ports
		send[i] = an
	}
	return send, n.Close, nil
}

// aempMesh is W5: n nodes in this process, two of them global seed nodes
// (seed2 lists seed1 as its seed), the others normal nodes with both seeds
// in Config.Seeds, each with Workers 1; the normal nodes start
// concurrently once the seeds listen. Formation is timed from the creation
// of the first node until every node's DBMon of family 'l (the
// listener addresses every node publishes, which is what lets a node reach
// any other) holds all n nodes. Propagation is timed from a DBSet on the
// last node until every node's DBMon of family "bench" has seen it. AEMP
// 2.x does not open links between normal nodes until they talk, so "knows
// every other node" means "can reach it", not "is linked to it".
type aempMesh struct {
	plain bool // Config.PlainGoLinks
}

// aempMeshTimeout bounds one formation or propagation.
const aempMeshTimeout = 60 * time.Second

func (m aempMesh) FormMesh(n int) (MeshTimes, error) {
	if n < 3 {
		return MeshTimes{}, fmt.Errorf("aemp mesh: need at least 3 nodes, got %d", n)
	}
	nodes := make([]*aemp.Node, n)
	defer func() {
		for _, nd := range nodes {
			if nd != nil {
				nd.Close()
			}
		}
	}()
	formed := newCountdown(n)
	changed := newChangeRounds(n)
	failed := newCountdown(1) // the first node's error (fail), then done closes ch
	base := meshFootprint()
	start := time.Now()
	// The two seeds first (the others need their addresses), then the
	// normal nodes all at once.
	var seeds []string
	for i := range 2 {
		nd, err := startMeshNode(i, n, m.plain, seeds, formed, changed, failed)
		if err != nil {
			return MeshTimes{}, err
		}
		nodes[i] = nd
		seeds = append(seeds, nd.Binds()...)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 2; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i], errs[i] = startMeshNode(i, n, m.plain, seeds, formed, changed, failed)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return MeshTimes{}, err
	}
	if err := formed.wait(aempMeshTimeout); err != nil {
		return MeshTimes{}, fmt.Errorf("aemp mesh formation: %w", err)
	}
	t := MeshTimes{FormNs: time.Since(start).Nanoseconds()}
	t.RSSPerNode = (meshFootprint() - base) / int64(n)
	var err error
	t.PropagateNs, err = timeChanges(changed,
		func(k int) error { return nodes[n-1].DBSet("bench", "change", changeValue(k)) },
		func(ch <-chan struct{}, _ int) error {
			select {
			case <-ch:
			case <-failed.ch: // a node saw a wrong value: below
			case <-time.After(aempMeshTimeout):
				return fmt.Errorf("aemp mesh propagation: not on every node after %v", aempMeshTimeout)
			}
			if e := failed.err.Load(); e != nil {
				return *e
			}
			return nil
		})
	if err != nil {
		return MeshTimes{}, err
	}
	if e := failed.err.Load(); e != nil {
		return MeshTimes{}, *e
	}
	return t, nil
}

// startMeshNode starts node i of an n-node mesh: nodes 0 and 1 are the
// global seeds (node 1 names node 0 as its seed), the others name both.
// Its DBMon callbacks count it in formed once it knows all n nodes'
// listeners, and in changed for each registry change it sees (in order,
// each once; anything else fails the run through failed).
func startMeshNode(i, n int, plain bool, seeds []string, formed *countdown, changed *changeRounds, failed *countdown) (*aemp.Node, error) {
	cfg := aempConfig(fmt.Sprintf("mesh%d", i))
	cfg.Workers = 1
	cfg.Binds = []string{"127.0.0.1:0"}
	cfg.Global = i < 2
	cfg.Seeds = seeds
	cfg.PlainGoLinks = plain
	nd, err := aemp.NewNode(cfg)
	if err != nil {
		return nil, fmt.Errorf("aemp mesh: node %d: %w", i, err)
	}
	var sawAll bool // the node's registry goroutine only
	next := 0       // the next change round this node waits for
	nd.DBMon("'l", func(c aemp.DBChange) {
		if !sawAll && len(c.Values) == n {
			sawAll = true
			formed.done()
		}
	})
	nd.DBMon("bench", func(c aemp.DBChange) {
		v, ok := c.Values["change"]
		if !ok {
			return // the first notification, of the empty family
		}
		s, _ := v.(string)
		k, isNew, err := nextChange(&next, s)
		if err != nil {
			failed.fail(fmt.Errorf("aemp mesh: %s: %w", nd.ID(), err))
			failed.done()
			return
		}
		if isNew {
			changed.seen(k)
		}
	})
	return nd, nil
}

// countdown waits for n done calls (or the first failure).
type countdown struct {
	left atomic.Int64
	ch   chan struct{}
	err  atomic.Pointer[error]
}

func newCountdown(n int) *countdown {
	c := &countdown{ch: make(chan struct{})}
	c.left.Store(int64(n))
	return c
}

func (c *countdown) done() {
	if c.left.Add(-1) == 0 {
		close(c.ch)
	}
}

func (c *countdown) fail(err error) { c.err.CompareAndSwap(nil, &err) }

func (c *countdown) wait(d time.Duration) error {
	select {
	case <-c.ch:
	case <-time.After(d):
		return fmt.Errorf("%d of the nodes still waiting after %v", c.left.Load(), d)
	}
	if e := c.err.Load(); e != nil {
		return *e
	}
	return nil
}

// freePorts returns n distinct free 127.0.0.1 addresses. The ports are
// released before use, so another process could take one in between; in
// a benchmark child that is unlikely and shows up as a FAILED cell.
func freePorts(n int) ([]string, error) {
	var addrs []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// selfSignedPEM makes the Perl-style node identity: one self-signed CA
// certificate and its key in a PEM text, shared by both nodes.
func selfSignedPEM() (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "AnyEvent::MP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("marshal key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})), nil
}

func ringFromEnv() int { n, _ := strconv.Atoi(os.Getenv("BENCH_RING")); return n }
