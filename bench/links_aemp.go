package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aemp-go/aemp"
)

// aempLinks is W6 for aemp: the server is one aemp.Node (library defaults
// but for Backend and PlainGoLinks) with a data port and a ping port; every
// peer link is a full aemp.Node of its own in a helper process (Workers 1,
// no listener), which links to the server on its first Snd, as any node
// would. Only the public API is used.
type aempLinks struct {
	backend string // Config.Backend
	plain   bool   // Config.PlainGoLinks
}

// aempLinksServer is the server's node ID; every peer's Nodes map names it.
const aempLinksServer = "w6-server"

// aempLinksSpec is what the helpers need to reach the server.
type aempLinksSpec struct {
	Addr string      `json:"addr"`
	Data aemp.PortID `json:"data"`
	Ping aemp.PortID `json:"ping"`
}

func (l aempLinks) config(id string) aemp.Config {
	cfg := aempConfig(id)
	cfg.MaxFrame = 0 // the library's default
	cfg.Backend, cfg.PlainGoLinks = l.backend, l.plain
	return cfg
}

// Serve starts the server node. A ping is ("ping", sender, seq, body,
// reply port); the server answers ("pong", sender, seq, body) to the reply
// port, as an AnyEvent::MP service answers a request.
func (l aempLinks) Serve(data, ping Handler) (string, func() error, error) {
	cfg := l.config(aempLinksServer)
	cfg.Binds = []string{"127.0.0.1:0"}
	n, err := aemp.NewNode(cfg)
	if errors.Is(err, aemp.ErrConfig) {
		return "", nil, notAvailable("aemp.NewNode: %v", err)
	}
	if err != nil {
		return "", nil, err
	}
	dp := n.NewPort().Rcv(KindData.Tag(), func(m *aemp.Msg) error {
		data(decodeAemp(m, KindData))
		return nil
	})
	pp := n.NewPort().Rcv(KindPing.Tag(), func(m *aemp.Msg) error {
		pm := decodeAemp(m, KindPing)
		ping(pm)
		reply, err := m.String(4)
		if err != nil {
			ping(Msg{Kind: KindPing, Sender: ^uint32(0)}) // fails verification
			return nil
		}
		body := append([]byte(nil), pm.Body...) // the view is valid only during the handler
		if err := aempSend(n, aemp.PortID(reply), aemp.NewMsg(KindPong.Tag()).
			AppendUint(uint64(pm.Sender)).AppendUint(pm.Seq).AppendBytes(body)); err != nil {
			ping(Msg{Kind: KindPing, Sender: ^uint32(0)})
		}
		return nil
	})
	spec, _ := json.Marshal(aempLinksSpec{Addr: n.Binds()[0], Data: dp.ID(), Ping: pp.ID()})
	return string(spec), n.Close, nil
}

// aempLinkEP sends to one port of the server.
type aempLinkEP struct {
	n  *aemp.Node
	to aemp.PortID
}

func (e aempLinkEP) Send(m Msg) error {
	return aempSend(e.n, e.to, aemp.NewMsg(m.Kind.Tag()).
		AppendUint(uint64(m.Sender)).AppendUint(m.Seq).AppendBytes(m.Body))
}

// peerNode starts one peer node that knows where the server listens.
func (l aempLinks) peerNode(id string, sp aempLinksSpec) (*aemp.Node, error) {
	cfg := l.config(id)
	cfg.Workers = 1
	cfg.Nodes = map[string][]string{aempLinksServer: {sp.Addr}}
	return aemp.NewNode(cfg)
}

// waitUp polls until n's link to the server is up.
func waitUp(n *aemp.Node, d time.Duration) error {
	end := time.Now().Add(d)
	for !slices.Contains(n.UpNodes(), aempLinksServer) {
		if time.Now().After(end) {
			return fmt.Errorf("%s: no link to the server within %v", n.ID(), d)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// Peers starts n peer nodes, linksRamp at a time: each sends its hello (its
// link comes up on that first Snd) and waits for the link.
func (l aempLinks) Peers(spec string, first, n int, hello func(int) Msg) ([]Endpoint, func() error, error) {
	var sp aempLinksSpec
	if err := json.Unmarshal([]byte(spec), &sp); err != nil {
		return nil, nil, err
	}
	nodes := make([]*aemp.Node, n)
	eps := make([]Endpoint, n)
	closeAll := func() error {
		return forEach(n, func(j int) error {
			if nodes[j] != nil {
				return nodes[j].Close()
			}
			return nil
		})
	}
	err := forEach(n, func(j int) error {
		nd, err := l.peerNode(fmt.Sprintf("w6-peer%d", first+j), sp)
		if err != nil {
			return err
		}
		nodes[j] = nd
		ep := aempLinkEP{n: nd, to: sp.Data}
		eps[j] = ep
		if err := ep.Send(hello(j)); err != nil {
			return fmt.Errorf("%s: hello: %w", nd.ID(), err)
		}
		return waitUp(nd, linksSetup)
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return eps, closeAll, nil
}

// aempProbeEP sends pings that name the probe's pong port as the reply port.
type aempProbeEP struct {
	n        *aemp.Node
	to, pong aemp.PortID
}

func (e aempProbeEP) Send(m Msg) error {
	return aempSend(e.n, e.to, aemp.NewMsg(m.Kind.Tag()).
		AppendUint(uint64(m.Sender)).AppendUint(m.Seq).AppendBytes(m.Body).AppendString(string(e.pong)))
}

func (l aempLinks) Probe(spec string, pong Handler) (Endpoint, func() error, error) {
	var sp aempLinksSpec
	if err := json.Unmarshal([]byte(spec), &sp); err != nil {
		return nil, nil, err
	}
	nd, err := l.peerNode("w6-probe", sp)
	if err != nil {
		return nil, nil, err
	}
	p := nd.NewPort().Rcv(KindPong.Tag(), func(m *aemp.Msg) error {
		pong(decodeAemp(m, KindPong))
		return nil
	})
	return aempProbeEP{n: nd, to: sp.Ping, pong: p.ID()}, nd.Close, nil
}

// forEach runs f(0…n-1) on linksRamp goroutines and returns the errors.
func forEach(n int, f func(j int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range min(linksRamp, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				if err := f(j); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for j := range n {
		mu.Lock()
		failed := len(errs) > 0
		mu.Unlock()
		if failed {
			break
		}
		next <- j
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}
