// Command ping measures message round trips between two nodes.
//
// Listen mode runs an echo port that answers ["ping", reply_port, data…]
// with ["pong", data…] sent to reply_port, and prints its port ID:
//
//	ping -listen 127.0.0.1:4040 -secret s3cret
//	listening on 127.0.0.1:4040 as node ping-server
//	port ping-server#b
//
// Client mode sends N pings to that port, checks every pong and prints the
// rate and the round-trip times:
//
//	ping -connect 127.0.0.1:4040 -port ping-server#b -n 100000 -secret s3cret
//
// The echo node also offers the function aemp::ping::echo, which turns a
// port spawned on it into an echo port of its own: -spawn NODE spawns one
// (AnyEvent::MP's spawn) and pings it instead of -port:
//
//	ping -connect 127.0.0.1:4040 -spawn ping-server -secret s3cret
//
// The secret (and cert, node ID, framings) can also come from AnyEvent::MP's
// configuration file (-config, default $PERL_ANYEVENT_MP_RC or
// ~/.perl-anyevent-mp, profile -profile); flags override it. -framing json
// forces the AEMP JSON framing (what a Perl node uses); -cert file enables
// TLS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"time"

	"github.com/aemp-go/aemp"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ping:", err)
		os.Exit(1)
	}
}

type options struct {
	listen, connect, port     string
	spawn                     string
	n, inflight, size         int
	secret, certFile, framing string
	config, profile, nodeID   string
	backend                   string
	timeout                   time.Duration
	verbose                   bool
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("ping", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "", "listen on this address and run the echo port")
	fs.StringVar(&o.connect, "connect", "", "address of the echo node")
	fs.StringVar(&o.port, "port", "", "port ID of the echo port")
	fs.StringVar(&o.spawn, "spawn", "", "spawn an echo port on this node (aemp::ping::echo) and ping it")
	fs.IntVar(&o.n, "n", 10000, "number of pings")
	fs.IntVar(&o.inflight, "inflight", 1, "pings in flight at once (1 = closed loop)")
	fs.IntVar(&o.size, "size", 16, "payload bytes per ping")
	fs.StringVar(&o.secret, "secret", "", "shared secret (default: from the config file)")
	fs.StringVar(&o.certFile, "cert", "", "PEM file with key and certificate (enables TLS)")
	fs.StringVar(&o.framing, "framing", "", `force a framing: "json" or "goframe1"`)
	fs.StringVar(&o.config, "config", "", "AnyEvent::MP config file (default $PERL_ANYEVENT_MP_RC or ~/.perl-anyevent-mp)")
	fs.StringVar(&o.profile, "profile", "", "config file profile (default: host name)")
	fs.StringVar(&o.nodeID, "node", "", "node ID (default: ping-server or ping-client/)")
	fs.StringVar(&o.backend, "backend", "", `transport backend: "netpoll" or "std"`)
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up after this long")
	fs.BoolVar(&o.verbose, "v", false, "log link events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := o.nodeConfig()
	if err != nil {
		return err
	}
	switch {
	case o.listen != "":
		return serve(cfg, o)
	case o.connect != "" && (o.port != "" || o.spawn != ""):
		return client(cfg, o)
	}
	fs.Usage()
	return errors.New("need -listen, or -connect and -port or -spawn")
}

// config_ builds the node configuration from the config file and flags.
func (o *options) nodeConfig() (aemp.Config, error) {
	path := o.config
	if path == "" {
		path = aemp.RCPath()
	}
	cfg, err := aemp.ReadConfigFile(path, o.profile)
	if err != nil && !(o.config == "" && errors.Is(err, fs.ErrNotExist)) {
		return cfg, err
	}
	if o.secret != "" {
		cfg.Secret = o.secret
	}
	if o.certFile != "" {
		pem, err := os.ReadFile(o.certFile)
		if err != nil {
			return cfg, err
		}
		cfg.Cert = string(pem)
	}
	if o.framing != "" {
		cfg.Framings = []string{o.framing}
	}
	cfg.Backend = o.backend
	if o.nodeID != "" {
		cfg.NodeID = o.nodeID
	}
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	return cfg, nil
}

func serve(cfg aemp.Config, o options) error {
	if cfg.NodeID == "" {
		cfg.NodeID = "ping-server"
	}
	cfg.Binds = []string{o.listen}
	// Other nodes may spawn echo ports here (Node.Spawn).
	cfg.Funcs = map[string]aemp.Func{echoFunc: func(p *aemp.Port, _ *aemp.Msg) error {
		p.Rcv("ping", pingHandler(p.Node()))
		return nil
	}}
	node, err := aemp.NewNode(cfg)
	if err != nil {
		return err
	}
	defer node.Close()
	echo := node.NewPort().Rcv("ping", pingHandler(node))
	fmt.Printf("listening on %s as node %s\nport %s\n", node.Binds()[0], node.ID(), echo.ID())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	select {
	case <-sig:
	case <-node.Done():
	}
	return nil
}

// echoFunc is the name under which the echo node offers echo ports.
const echoFunc = "aemp::ping::echo"

// pingHandler answers ["ping", reply_port, data…] with ["pong", data…].
func pingHandler(node *aemp.Node) aemp.Handler {
	return func(m *aemp.Msg) error {
		reply, err := m.String(1)
		if err != nil {
			return err
		}
		pong := aemp.NewMsg("pong")
		for i := 2; i < m.Len(); i++ {
			v, err := m.Value(i)
			if err != nil {
				return err
			}
			pong = pong.Append(v)
		}
		return node.SndMsg(aemp.PortID(reply), pong)
	}
}

type pong struct {
	seq int64
	err error
}

func client(cfg aemp.Config, o options) error {
	if cfg.NodeID == "" {
		cfg.NodeID = "ping-client/"
	}
	target := aemp.PortID(o.port)
	if o.spawn != "" {
		target = aemp.PortID(o.spawn)
	}
	cfg.Nodes = map[string][]string{target.Node(): {o.connect}}
	node, err := aemp.NewNode(cfg)
	if err != nil {
		return err
	}
	defer node.Close()
	if o.spawn != "" {
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		target, err = node.Spawn(ctx, o.spawn, echoFunc)
		cancel()
		if err != nil {
			return err
		}
		fmt.Printf("spawned %s\n", target)
	}

	payload := make([]byte, o.size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	data := string(payload)
	pongs := make(chan pong, o.inflight+1)
	me := node.NewPort().Rcv("pong", func(m *aemp.Msg) error {
		seq, err := m.Int(1)
		if err == nil {
			var d string
			if d, err = m.String(2); err == nil && d != data {
				err = fmt.Errorf("pong %d: payload corrupted", seq)
			}
		}
		pongs <- pong{seq, err}
		return nil
	})
	died := make(chan aemp.Reason, 1)
	node.Mon(target, aemp.MonFunc(func(r aemp.Reason) { died <- r }))

	sent := make([]time.Time, o.n)
	rtts := make([]time.Duration, 0, o.n)
	deadline := time.After(o.timeout)
	start := time.Now()
	next, want := 0, int64(0)
	for int(want) < o.n {
		for next < o.n && next-int(want) < o.inflight {
			sent[next] = time.Now()
			if err := node.Snd(target, "ping", me.ID(), next, data); err != nil {
				return err
			}
			next++
		}
		select {
		case p := <-pongs:
			if p.err != nil {
				return p.err
			}
			if p.seq != want {
				return fmt.Errorf("pong %d arrived, expected %d (lost or reordered)", p.seq, want)
			}
			rtts = append(rtts, time.Since(sent[p.seq]))
			want++
		case r := <-died:
			return fmt.Errorf("echo port died: %v", r)
		case <-deadline:
			return fmt.Errorf("timed out after %d of %d pongs", want, o.n)
		}
	}
	elapsed := time.Since(start)
	slices.Sort(rtts)
	q := func(f float64) time.Duration { return rtts[int(f*float64(len(rtts)-1))] }
	fmt.Printf("%d pings, %d in flight, %d byte payload: %.0f msgs/s, RTT p50 %v p99 %v\n",
		o.n, o.inflight, o.size, float64(o.n)/elapsed.Seconds(), q(0.50), q(0.99))
	return nil
}
