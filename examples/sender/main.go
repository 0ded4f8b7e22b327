// Command sender is the other half of the tutorial's receiver: it joins
// the mesh through the receiver's node (its seed), finds a receiver port
// in the global database (family eg_receivers), calls it with
// ["test", data] and prints the answer:
//
//	sender -seed 127.0.0.1:4040 -secret s3cret -data 123
//	eg_simple_receiver/Xy3kP9aQzL#b answered ["received",123]
//
// Like the receiver it starts from a profile of AnyEvent::MP's
// configuration file (eg_simple_sender); the flags override it.
package main

import (
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
	"strconv"
	"time"

	"github.com/aemp-go/aemp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sender:", err)
		os.Exit(1)
	}
}

// run finds a receiver, calls it once and returns.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("sender", flag.ContinueOnError)
	seed := fs.String("seed", "127.0.0.1:4040", "the seed's address (the receiver's node)")
	secret := fs.String("secret", "", "shared secret (default: from the configuration file)")
	data := fs.String("data", "123", "what to send (a number is sent as a number)")
	wait := fs.Duration("timeout", 10*time.Second, "give up after this long")
	verbose := fs.Bool("v", false, "log link events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	node, err := aemp.Configure("eg_simple_sender", func(c *aemp.Config) {
		c.Seeds = []string{*seed}
		c.Binds = nil // the sender only dials out
		if *secret != "" {
			c.Secret = *secret
		}
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level(*verbose)}))
	})
	if err != nil {
		return err
	}
	defer node.Close()
	ctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()

	// The receiver's port ID is not known in advance: the global database
	// has it. DBMon reports the family as soon as the seed sends it.
	found := make(chan aemp.PortID, 1)
	mon := node.DBMon("eg_receivers", func(c aemp.DBChange) {
		if keys := slices.Sorted(maps.Keys(c.Values)); len(keys) > 0 {
			select {
			case found <- aemp.PortID(keys[0]):
			default:
			}
		}
	})
	defer mon.Cancel()
	var receiver aemp.PortID
	select {
	case receiver = <-found:
	case <-ctx.Done():
		return errors.New("no receiver registered under eg_receivers")
	}

	var payload any = *data
	if n, err := strconv.ParseInt(*data, 10, 64); err == nil {
		payload = n
	}
	reply, err := node.Call(ctx, receiver, "test", payload)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s answered %#v\n", receiver, reply)
	return nil
}

func level(verbose bool) slog.Level {
	if verbose {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}
