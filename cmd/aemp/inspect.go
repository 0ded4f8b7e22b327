package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aemp-go/aemp"
)

// nodes, db, stats and trace: what a mesh looks like, from the shell.

// nodesCmd is `aemp nodes`: the nodes the global database knows (family
// 'l: a node's listeners, published while it is linked to a global node),
// each with its addresses, marked "master" (the tool's master, the seed it
// asked) and "global" (family 'g).
func nodesCmd(s *session, args []arg) error {
	var timeout time.Duration
	args, err := parseFlags("nodes", args, func(fs *flag.FlagSet) { timeoutFlag(fs, &timeout) })
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usagef("no arguments expected")
	}
	n, ctx, stop, err := s.startTimed(timeout)
	if err != nil {
		return err
	}
	defer stop()
	listeners, err := n.DBFamily(ctx, "'l")
	if err != nil {
		return fmt.Errorf("asking the seeds: %w", err)
	}
	globals, err := n.DBFamily(ctx, "'g")
	if err != nil {
		return fmt.Errorf("asking the seeds: %w", err)
	}
	master := n.Stats().Registry.Master // known: it answered
	ids := slices.Sorted(maps.Keys(listeners))
	for id := range globals {
		if _, ok := listeners[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	w := tabwriter.NewWriter(s.stdout, 0, 0, 2, ' ', 0)
	for _, id := range ids {
		if id == n.ID() {
			continue // this tool's own node
		}
		var addrs []string
		if list, ok := listeners[id].([]any); ok {
			for _, a := range list {
				addrs = append(addrs, fmt.Sprint(a))
			}
		}
		if len(addrs) == 0 {
			addrs = []string{"-"}
		}
		var roles []string
		if id == master {
			roles = append(roles, "master")
		}
		if _, ok := globals[id]; ok {
			roles = append(roles, "global")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", id, strings.Join(addrs, ","), strings.Join(roles, ","))
	}
	return w.Flush()
}

// dbCmd is `aemp db [--watch] <family>`: the family as its master holds it,
// as a JSON object; with --watch, every key as it is added, changed or
// deleted, one line each ("add <key> <value>", "change <key> <value>",
// "del <key>", the key as a JSON string), until SIGINT or SIGTERM.
func dbCmd(s *session, args []arg) error {
	var timeout time.Duration
	var watch bool
	args, err := parseFlags("db", args, func(fs *flag.FlagSet) {
		timeoutFlag(fs, &timeout)
		fs.BoolVar(&watch, "watch", false, "print the changes until interrupted")
	})
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("one family expected")
	}
	family := args[0].str()
	n, ctx, stop, err := s.startTimed(0)
	if err != nil {
		return err
	}
	defer stop()
	if watch {
		return watchFamily(ctx, s.stdout, n, family)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f, err := n.DBFamily(ctx, family)
	if err != nil {
		return fmt.Errorf("asking the seeds: %w", err)
	}
	b, err := json.MarshalIndent(printable(f), "", "   ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.stdout, "%s\n", b)
	return err
}

// watchFamily prints a family's changes until ctx ends.
func watchFamily(ctx context.Context, w io.Writer, n *aemp.Node, family string) error {
	m := n.DBMon(family, func(c aemp.DBChange) {
		// (on the tool node's registry port: a slow terminal holds up only
		// this tool)
		var b strings.Builder
		for _, k := range c.Added {
			fmt.Fprintf(&b, "add %s %s\n", jsonText(k), jsonText(c.Values[k]))
		}
		for _, k := range c.Changed {
			fmt.Fprintf(&b, "change %s %s\n", jsonText(k), jsonText(c.Values[k]))
		}
		for _, k := range c.Deleted {
			fmt.Fprintf(&b, "del %s\n", jsonText(k))
		}
		io.WriteString(w, b.String())
	})
	defer m.Cancel()
	<-ctx.Done()
	return nil // interrupted: the normal end
}

// statsCmd is `aemp stats <node>`: the node's Stats (the aemp::stats node
// request of Go nodes), as JSON.
func statsCmd(s *session, args []arg) error {
	var timeout time.Duration
	args, err := parseFlags("stats", args, func(fs *flag.FlagSet) { timeoutFlag(fs, &timeout) })
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("one node expected")
	}
	node, err := nodeArg(args[0])
	if err != nil {
		return err
	}
	n, ctx, stop, err := s.startTimed(timeout)
	if err != nil {
		return err
	}
	defer stop()
	st, err := remoteStats(ctx, n, node)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(printable(st), "", "   ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.stdout, "%s\n", b)
	return err
}

// errNoStats: the node does not serve aemp::stats.
var errNoStats = errors.New("does not answer " + aemp.StatsRequest + " (not an aemp for Go node)")

// remoteStats asks a Go node for its Stats (JSON values).
func remoteStats(ctx context.Context, n *aemp.Node, node string) (map[string]any, error) {
	ok, err := can(ctx, n, node, aemp.StatsRequest)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("node %s %w", node, errNoStats)
	}
	return fetchStats(ctx, n, node)
}

// fetchStats sends the aemp::stats request.
func fetchStats(ctx context.Context, n *aemp.Node, node string) (map[string]any, error) {
	v, err := request(ctx, n, node, aemp.StatsRequest)
	if err != nil {
		return nil, err
	}
	st, _ := v[0].(map[string]any)
	if len(v) != 1 || st == nil {
		return nil, fmt.Errorf("node %s answered %s with %.200s", node, aemp.StatsRequest, jsonText(v))
	}
	return st, nil
}

// traceCmd is `aemp trace <node>`: the connection graph, found by asking
// each node for the nodes it has links to, starting at node: a Go node
// with aemp::stats, a Perl node with eval of AnyEvent::MP::Kernel::up_nodes
// (as Perl's aemp trace). One line per node: "<node> -> <peer>, …"; a node
// that cannot be asked shows why. The tool's own node is left out.
func traceCmd(s *session, args []arg) error {
	timeout := 15 * time.Second
	args, err := parseFlags("trace", args, func(fs *flag.FlagSet) {
		fs.DurationVar(&timeout, "timeout", timeout, "give up on a node after this long")
	})
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("one node expected")
	}
	start, err := nodeArg(args[0])
	if err != nil {
		return err
	}
	n, ctx, stop, err := s.startTimed(0)
	if err != nil {
		return err
	}
	defer stop()
	seen := map[string]bool{start: true, n.ID(): true}
	queue := []string{start}
	failed := 0
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		nctx, ncancel := context.WithTimeout(ctx, timeout)
		peers, err := upNodes(nctx, n, id)
		ncancel()
		if ctx.Err() != nil {
			return waitErr(ctx)
		}
		if err != nil {
			fmt.Fprintf(s.stdout, "%s: %v\n", id, err)
			failed++
			continue
		}
		peers = slices.DeleteFunc(peers, func(p string) bool { return p == n.ID() })
		slices.Sort(peers)
		fmt.Fprintf(s.stdout, "%s -> %s\n", id, strings.Join(peers, ", "))
		for _, p := range peers {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d node(s) could not be asked", failed)
	}
	return nil
}

// upNodes asks a node which nodes it has links to.
func upNodes(ctx context.Context, n *aemp.Node, node string) ([]string, error) {
	if ok, err := can(ctx, n, node, aemp.StatsRequest); err != nil {
		return nil, err
	} else if ok {
		st, err := fetchStats(ctx, n, node)
		if err != nil {
			return nil, err
		}
		var ids []string
		links, _ := st["links"].([]any)
		for _, l := range links {
			if m, ok := l.(map[string]any); ok && m["up"] == true {
				id, _ := m["node"].(string)
				ids = append(ids, id)
			}
		}
		return ids, nil
	}
	res, err := evalOn(ctx, n, node, "AnyEvent::MP::Kernel::up_nodes")
	if errors.Is(err, errNoEval) {
		return nil, errors.New("answers neither " + aemp.StatsRequest + " nor eval")
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, v := range res {
		if id, ok := v.(string); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
