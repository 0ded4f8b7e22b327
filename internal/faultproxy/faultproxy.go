// Package faultproxy is a TCP proxy for tests that injects faults per
// direction: delay, stall (stop forwarding, keep the connection) and cut
// (close both sides abruptly).
//
//	p, _ := faultproxy.New("127.0.0.1:4040") // forwards to the target
//	conn, _ := net.Dial("tcp", p.Addr())
//	p.Stall(faultproxy.Up, true)            // client→target stops
//	p.Cut()                                 // every proxied conn is closed
//	p.Close()                               // waits for its goroutines
//
// Up is client→target, Down is target→client. All methods are safe for
// concurrent use.
package faultproxy

import (
	"net"
	"sync"
	"time"
)

// Direction selects one half of a proxied connection.
type Direction int

// Directions.
const (
	Up   Direction = iota // client → target
	Down                  // target → client
)

// Proxy forwards TCP connections from its listener to a target address.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	cond    *sync.Cond
	delay   [2]time.Duration
	stalled [2]bool
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// New starts a proxy on a random loopback port forwarding to target.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address clients dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Delay sets a delay applied to every chunk forwarded in direction d.
func (p *Proxy) Delay(d Direction, delay time.Duration) {
	p.mu.Lock()
	p.delay[d] = delay
	p.mu.Unlock()
}

// Stall stops (on) or resumes (off) forwarding in direction d. While
// stalled the proxy does not read from the source, so TCP back-pressure
// builds up at the sender.
func (p *Proxy) Stall(d Direction, on bool) {
	p.mu.Lock()
	p.stalled[d] = on
	p.cond.Broadcast()
	p.mu.Unlock()
}

// Cut closes every proxied connection (both sides) at once, like a network
// failure seen as a reset/EOF. New connections are still accepted.
func (p *Proxy) Cut() {
	p.mu.Lock()
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST instead of FIN
		}
		c.Close()
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}

// Close stops the proxy, closes all connections and waits for its goroutines.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		t, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			t.Close()
			return
		}
		p.conns[c], p.conns[t] = struct{}{}, struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(Up, c, t)
		go p.pipe(Down, t, c)
	}
}

func (p *Proxy) pipe(d Direction, src, dst net.Conn) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, src)
		delete(p.conns, dst)
		p.mu.Unlock()
		src.Close()
		dst.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		p.mu.Lock()
		for p.stalled[d] && !p.closed {
			if _, ok := p.conns[src]; !ok {
				break
			}
			p.cond.Wait()
		}
		_, alive := p.conns[src]
		delay := p.delay[d]
		p.mu.Unlock()
		if !alive {
			return
		}
		n, err := src.Read(buf)
		if n > 0 {
			if delay > 0 {
				time.Sleep(delay)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or error: both sides are closed (no half-close)
		}
	}
}
