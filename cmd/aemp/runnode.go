package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aemp-go/aemp"
)

// shutdownTimeout bounds the graceful shutdown of `aemp run` after a
// signal: queued messages get that long to be written.
const shutdownTimeout = 10 * time.Second

// globalService is the service that makes a Perl node global; a Go node
// has it built in (Config.Global).
const globalService = "AnyEvent::MP::Global::"

// runCmd is `aemp run [<profile> [<key> <value>]...]`: a node configured
// from the profile (default: the host name) and the pairs given, as Perl's
// configure would be, running until SIGINT or SIGTERM, which shut it down
// gracefully (Node.Shutdown). A node whose binds include one of its seeds
// is a seed (a global node); the AnyEvent::MP::Global service makes any
// node global. Other services are not started.
func runCmd(s *session, args []arg) error {
	name, eff, err := s.profileArgs(args)
	if err != nil {
		return err
	}
	cfg, services, err := profileConfig(eff, name)
	if err != nil {
		return err
	}
	var ignored []string
	for _, svc := range services {
		if svc == globalService || svc == strings.TrimSuffix(globalService, "::") {
			cfg.Global = true
			continue
		}
		ignored = append(ignored, svc)
	}
	// A Go node runs only Go functions registered with it (Config.Funcs);
	// the tool registers none, so a profile's other services are for a
	// Go program that does (Config.Services), or for a Perl node.
	if len(ignored) > 0 {
		fmt.Fprintf(s.stderr, "aemp: run: the aemp tool registers no Go functions; services not started: %s (a Go program starts them with Config.Funcs and Config.Services)\n", strings.Join(ignored, ", "))
	}
	cfg.Logger = logger(s.stderr, slog.LevelInfo)
	n, err := aemp.NewNode(cfg)
	if err != nil {
		return err
	}
	where := "nowhere"
	if b := n.Binds(); len(b) > 0 {
		where = "on " + strings.Join(b, ", ")
	}
	fmt.Fprintf(s.stdout, "node %s listening %s\n", n.ID(), where)
	ctx, cancel := signalContext(context.Background())
	defer cancel()
	select {
	case <-ctx.Done():
	case <-n.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer scancel()
	return n.Shutdown(sctx)
}
