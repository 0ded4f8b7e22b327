// Command chat is the tutorial's chat (Intro.pod, "The Chat Client" and
// "The Server") on AnyEvent::MP 2.x's global database instead of 1.x's
// reg/lookup: the server registers its port under the family
// eg_chat_server (DBReg), clients find it with DBMon, join, and the server
// relays every line to every client. It also fixes what the tutorial
// leaves open ("The Remaining Problems"): lines carry their sender's name,
// and the server monitors its clients and forgets those that go away.
//
// Three roles, each a node; the seed holds the database:
//
//	chat -seed 127.0.0.1:4040 -secret s3cret
//	chat -server -seeds 127.0.0.1:4040 -secret s3cret
//	chat -seeds 127.0.0.1:4040 -secret s3cret -name alice
//
// A client sends each line of its standard input and prints what the server
// relays ("bob> hello"). At the end of its input it waits until its own last
// line has come back (and then -linger longer, to see the others) and
// leaves.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"sync"
	"time"

	"github.com/aemp-go/aemp"
)

// family is where the server registers its port.
const family = "eg_chat_server"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

type options struct {
	seed, seeds, secret, name string
	server, verbose           bool
	linger, timeout           time.Duration
}

// run runs one role until ctx ends (seed, server) or the client's input is
// done.
func run(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.StringVar(&o.seed, "seed", "", "run a seed node listening on this address")
	fs.BoolVar(&o.server, "server", false, "run the chat server")
	fs.StringVar(&o.seeds, "seeds", "", "the seed node's address (server and client)")
	fs.StringVar(&o.secret, "secret", "", "shared secret of the mesh")
	fs.StringVar(&o.name, "name", "anonymous", "the client's name")
	fs.DurationVar(&o.linger, "linger", 0, "client: stay this long after the last line came back")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "client: give up finding the server or getting a line back after this long")
	fs.BoolVar(&o.verbose, "v", false, "log link events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.secret == "" {
		return errors.New("-secret is required")
	}
	cfg := aemp.Config{Secret: o.secret, Binds: []string{"127.0.0.1:0"}, Logger: logger(o.verbose)}
	switch {
	case o.seed != "":
		cfg.NodeID, cfg.Binds, cfg.Global = "chat-seed", []string{o.seed}, true
	case o.seeds == "":
		return errors.New("-seeds is required for the server and the clients")
	case o.server:
		cfg.NodeID, cfg.Seeds = "chat-server/", []string{o.seeds}
	default:
		cfg.NodeID, cfg.Seeds = "chat-"+o.name+"/", []string{o.seeds}
	}
	node, err := aemp.NewNode(cfg)
	if err != nil {
		return err
	}
	defer node.Close()
	switch {
	case o.seed != "":
		fmt.Fprintf(out, "seed listening on %s\n", node.Binds()[0])
		<-ctx.Done()
		return nil
	case o.server:
		return serve(ctx, node, out)
	default:
		return client(ctx, node, o, in, out)
	}
}

func logger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// serve runs the chat server: joins, relays, and clients that go away.
func serve(ctx context.Context, node *aemp.Node, out io.Writer) error {
	var mu sync.Mutex // out is shared with the monitors' goroutines
	say := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", a...)
	}
	clients := map[aemp.PortID]string{} // port context only
	var port *aemp.Port
	broadcast := func(tag string, args ...any) {
		for c := range clients {
			node.Snd(c, tag, args...)
		}
	}
	port = node.NewPort().
		Rcv("join", func(m *aemp.Msg) error {
			var c, name string
			if err := m.Scan(&c, &name); err != nil {
				return nil // a malformed join is ignored, not fatal to the server
			}
			id := aemp.PortID(c)
			clients[id] = name
			say("%s joined", name)
			broadcast("message", "server", name+" joined")
			// The client's port dies (or its node goes away): forget it.
			node.Mon(id, aemp.MonFunc(func(aemp.Reason) {
				port.Exec(func() error {
					if name, ok := clients[id]; ok {
						delete(clients, id)
						say("%s left", name)
						broadcast("message", "server", name+" left")
					}
					return nil
				})
			}))
			return nil
		}).
		Rcv("message", func(m *aemp.Msg) error {
			var name, text string
			if err := m.Scan(&name, &text); err != nil {
				return nil
			}
			say("%s> %s", name, text)
			broadcast("message", name, text)
			return nil
		})
	if _, err := node.DBReg(family, port.ID(), nil); err != nil {
		return err
	}
	say("chat server %s registered under %s", port.ID(), family)
	<-ctx.Done()
	return nil
}

// client finds the server, joins, sends its input line by line, prints
// what comes back, and leaves once its last line has come back.
func client(ctx context.Context, node *aemp.Node, o options, in io.Reader, out io.Writer) error {
	found := make(chan aemp.PortID, 1)
	mon := node.DBMon(family, func(c aemp.DBChange) {
		if keys := slices.Sorted(maps.Keys(c.Values)); len(keys) > 0 {
			select {
			case found <- aemp.PortID(keys[0]): // any registered server will do
			default:
			}
		}
	})
	defer mon.Cancel()
	var server aemp.PortID
	select {
	case server = <-found:
	case <-time.After(o.timeout):
		return fmt.Errorf("no chat server registered under %s after %v", family, o.timeout)
	case <-ctx.Done():
		return nil
	}

	lines := make(chan string, 64) // what the server relays, as printed
	port := node.NewPort().Rcv("message", func(m *aemp.Msg) error {
		var name, text string
		if err := m.Scan(&name, &text); err != nil {
			return nil
		}
		lines <- name + "> " + text
		return nil
	})
	gone := make(chan aemp.Reason, 1)
	node.Mon(server, aemp.MonFunc(func(r aemp.Reason) { gone <- r }))
	if err := node.Snd(server, "join", string(port.ID()), o.name); err != nil {
		return err
	}

	var last string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		last = sc.Text()
		if err := node.Snd(server, "message", o.name, last); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	want := o.name + "> " + last
	deadline := time.After(o.timeout)
	var linger <-chan time.Time
	if last == "" {
		linger = time.After(o.linger)
	}
	for {
		select {
		case l := <-lines:
			fmt.Fprintln(out, l)
			if last != "" && l == want && linger == nil {
				linger = time.After(o.linger)
			}
		case <-linger:
			return nil
		case <-deadline:
			if linger == nil {
				return fmt.Errorf("my last line did not come back within %v", o.timeout)
			}
		case r := <-gone:
			return fmt.Errorf("the chat server went away: %v", r)
		case <-ctx.Done():
			return nil
		}
	}
}
