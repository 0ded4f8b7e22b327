// Command receiver is the tutorial's receiver ("Passing Messages Between
// Processes", Intro.pod): it registers a port under eg_receivers in the
// global database and prints the data of every ["test", data] message it
// gets; a sender that called (Node.Call) gets ["received", data] back.
//
// The receiver's node is also the mesh's seed (a global node), so the two
// programs need nothing else:
//
//	receiver -listen 127.0.0.1:4040 -secret s3cret
//	receiver eg_simple_receiver/Xy3kP9aQzL#b listening on 127.0.0.1:4040
//	Received data: 123
//
// The node starts from the profile eg_simple_receiver of AnyEvent::MP's
// configuration file (aemp.Configure, as the tutorial's
// initialise_node "eg_simple_receiver"); the flags override it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"

	"github.com/aemp-go/aemp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
}

// run runs the receiver until ctx ends.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("receiver", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:4040", "address to listen on (the mesh's seed)")
	secret := fs.String("secret", "", "shared secret (default: from the configuration file)")
	verbose := fs.Bool("v", false, "log link events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	node, err := aemp.Configure("eg_simple_receiver", func(c *aemp.Config) {
		c.Binds = []string{*listen}
		c.Global = true // the mesh's seed: this node holds the global database
		if *secret != "" {
			c.Secret = *secret
		}
		c.Logger = logger(*verbose)
	})
	if err != nil {
		return err
	}
	defer node.Close()

	port := node.NewPort()
	port.Rcv("test", func(m *aemp.Msg) error {
		data, err := m.Value(1)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Received data: %v\n", data)
		if m.Len() > 2 { // called: the last element is the reply port
			return m.Reply("received", data)
		}
		return nil
	})
	if _, err := node.DBReg("eg_receivers", port.ID(), nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "receiver %s listening on %s\n", port.ID(), node.Binds()[0])
	<-ctx.Done()
	return nil
}

func logger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
