package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/aemp-go/aemp"
	"github.com/aemp-go/aemp/internal/rcfile"
)

// The protocol subcommands (spec §7.3) run a short-lived node, as Perl's
// aemp does: node ID aemp/%n/%u, configured from the "aemp" profile of
// the configuration file (seeds, secret, cert and the transport options;
// it listens nowhere: the nodes it talks to answer over the links it
// opens). It finds other nodes through its seeds, like any node of a
// mesh.

const (
	toolProfile = "aemp"
	toolNodeID  = "aemp/%n/%u"
	// defaultTimeout is how long a protocol subcommand waits for an
	// answer (Perl's aemp gives up after 5 s).
	defaultTimeout = 5 * time.Second
)

// profileConfig is a node's configuration from the effective configuration
// of profile name (rcfile.Effective): the keys a Go node understands,
// Perl's defaults left out where they differ from the Go node's own
// (framing_format, auth_accept). services are the profile's services, as
// Perl strings.
func profileConfig(eff *rcfile.Value, name string) (cfg aemp.Config, services []string, err error) {
	defaults := rcfile.Defaults()
	cfg.Profile = name
	cfg.NodeID = scalar(eff, "nodeid")
	cfg.Secret = scalar(eff, "secret")
	cfg.Cert = scalar(eff, "cert")
	for _, b := range strList(eff.Get("binds")) {
		cfg.Binds = append(cfg.Binds, bindAddr(b))
	}
	cfg.Seeds = strList(eff.Get("seeds"))
	if v := eff.Get("monitor_timeout"); v != nil && v.IsScalar() {
		if f, err := strconv.ParseFloat(v.PerlString(), 64); err == nil && f > 0 {
			cfg.MonitorTimeout = time.Duration(f * float64(time.Second))
		}
	}
	if v := eff.Get("framing_format"); v != nil && !rcfile.Same(v, defaults.Get("framing_format")) {
		for _, f := range strList(v) {
			if (&aemp.Config{Framings: []string{f}}).Validate() == nil {
				cfg.Framings = append(cfg.Framings, f) // the ones Go nodes speak, in the file's order
			}
		}
	}
	if v := eff.Get("auth_accept"); v != nil && !rcfile.Same(v, defaults.Get("auth_accept")) {
		cfg.AuthAccept = strList(v)
	}
	services = strList(eff.Get("services"))
	return cfg, services, cfg.Validate()
}

// scalar returns the string of a scalar setting ("" if absent).
func scalar(v *rcfile.Value, key string) string {
	if x := v.Get(key); x != nil && x.IsScalar() {
		return x.PerlString()
	}
	return ""
}

// strList returns a list setting's entries as strings: a JSON array's
// elements (arrays in it as their JSON text), or a comma-separated string.
func strList(v *rcfile.Value) []string {
	if v == nil {
		return nil
	}
	if v.Kind() != rcfile.Array {
		if v.IsScalar() {
			return splitComma(v.PerlString())
		}
		return nil
	}
	var out []string
	for _, it := range v.Items() {
		out = append(out, it.PerlString())
	}
	return out
}

// bindAddr turns a Perl bind ("*:4040", "4040", "host:*") into a listen
// address: "*" as host is every address, "*" (or nothing) as port a free
// one.
func bindAddr(b string) string {
	host, port, err := net.SplitHostPort(b)
	if err != nil {
		host, port = "", b // a bare port
	}
	if host == "*" {
		host = ""
	}
	if port == "*" || port == "" {
		port = "0"
	}
	return net.JoinHostPort(host, port)
}

// logger is the tool's logger: errors only on standard error, everything
// with AEMP_TRACE=1 (message traces included).
func logger(w io.Writer, level slog.Level) *slog.Logger {
	if on, _ := strconv.ParseBool(os.Getenv(aemp.TraceEnv)); on {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// startNode starts the tool's node from the "aemp" profile.
func (s *session) startNode() (*aemp.Node, error) {
	f, err := s.config()
	if err != nil {
		return nil, err
	}
	eff, err := rcfile.Effective(f.Root, toolProfile, nil)
	if err != nil {
		return nil, err
	}
	cfg, _, err := profileConfig(eff, toolProfile)
	if err != nil {
		return nil, err
	}
	if len(cfg.Seeds) == 0 {
		return nil, errors.New("no seeds configured (aemp setseeds <host:port>,...): the tool finds nodes through them")
	}
	if cfg.Secret == "" && cfg.Cert == "" {
		return nil, errors.New("no secret or certificate configured (aemp gensecret, or aemp setcert <file>)")
	}
	cfg.NodeID = toolNodeID
	cfg.Binds = nil
	cfg.Logger = logger(s.stderr, slog.LevelError)
	return aemp.NewNode(cfg)
}

// startTimed starts the tool's node (startNode) and a context that ends
// at SIGINT or SIGTERM or after timeout (0: no limit). stop closes both.
func (s *session) startTimed(timeout time.Duration) (n *aemp.Node, ctx context.Context, stop func(), err error) {
	n, err = s.startNode()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancelSig := signalContext(context.Background())
	cancel := func() {}
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	return n, ctx, func() { cancel(); cancelSig(); n.Close() }, nil
}

// signalContext is ctx, cancelled on SIGINT or SIGTERM.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// parseFlags parses the leading flags of a subcommand's arguments (they
// stop at the first argument that is not a flag, or is JSON) and returns
// the rest. define adds the flags to the set.
func parseFlags(name string, args []arg, define func(fs *flag.FlagSet)) ([]arg, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	define(fs)
	var words []string
	for _, a := range args {
		if !a.plain {
			break
		}
		words = append(words, a.str())
	}
	if err := fs.Parse(words); err != nil {
		return nil, usagef("%v", err)
	}
	return args[len(words)-fs.NArg():], nil
}

// timeoutFlag adds -timeout to a flag set.
func timeoutFlag(fs *flag.FlagSet, d *time.Duration) {
	fs.DurationVar(d, "timeout", defaultTimeout, "give up after this long")
}

// value is an argument as a message element: a plain word is a string, a
// JSON argument the value it holds (numbers as int64 or float64).
func value(v *rcfile.Value) any {
	switch v.Kind() {
	case rcfile.Null:
		return nil
	case rcfile.Bool:
		return v.Truthy()
	case rcfile.Number:
		s := v.PerlString()
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	case rcfile.Array:
		out := []any{}
		for _, it := range v.Items() {
			out = append(out, value(it))
		}
		return out
	case rcfile.Object:
		out := map[string]any{}
		for _, k := range v.Keys() {
			out[k] = value(v.Get(k))
		}
		return out
	}
	s, _ := v.Str()
	return s
}

func values(args []arg) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = value(a.v)
	}
	return out
}

// portArg checks a port ID argument.
func portArg(a arg) (aemp.PortID, error) {
	id := aemp.PortID(a.str())
	if id.Node() == "" {
		return "", usagef("%q is not a port ID (node#port) or node ID", a.str())
	}
	return id, nil
}

// jsonText is v as compact JSON, byte strings as text where they are
// UTF-8 (they came from a Go node's raw bytes).
func jsonText(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(printable(v)); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// jsonList is a message's elements as JSON without the outer brackets, as
// Perl's aemp prints replies.
func jsonList(vals []any) string {
	s := jsonText(vals)
	return s[1 : len(s)-1]
}

func printable(v any) any {
	switch x := v.(type) {
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = printable(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = printable(e)
		}
		return out
	case aemp.Reason:
		return printable([]any(x))
	}
	return v
}

// exchange is one request and its answer: a reply port for the answer,
// and monitors of the ports whose death means there will be none. (cal
// uses Node.Call; the node requests and snd's acknowledgement use this,
// because their reply spec carries a tag after the reply port.)
type exchange struct {
	n     *aemp.Node
	reply *aemp.Port
	got   chan []any
	died  chan death
	mons  []*aemp.Monitor
}

type death struct {
	port   aemp.PortID
	reason aemp.Reason
}

func newExchange(n *aemp.Node) *exchange {
	x := &exchange{n: n, got: make(chan []any, 1), died: make(chan death, 1)}
	x.reply = n.NewPortFunc(func(m *aemp.Msg) error {
		v, err := m.Values()
		if err != nil {
			return err
		}
		select {
		case x.got <- v:
		default: // one answer is all we wait for
		}
		return nil
	})
	return x
}

// watch monitors id: if it dies, wait returns its reason.
func (x *exchange) watch(id aemp.PortID) {
	x.mons = append(x.mons, x.n.Mon(id, aemp.MonFunc(func(r aemp.Reason) {
		select {
		case x.died <- death{id, r}:
		default:
		}
	})))
}

// close cancels the monitors and kills the reply port.
func (x *exchange) close() {
	for _, m := range x.mons {
		m.Cancel()
	}
	x.reply.Kill()
}

// errDied is a watched port's death (or its node's link lost).
type errDied struct{ death }

func (e errDied) Error() string {
	if e.port.Local() == "" {
		return fmt.Sprintf("node %s: %s", e.port, jsonText(e.reason))
	}
	return fmt.Sprintf("port %s died: %s", e.port, jsonText(e.reason))
}

// wait waits for the answer's elements, a watched port's death (errDied)
// or the end of ctx.
func (x *exchange) wait(ctx context.Context) ([]any, error) {
	select {
	case v := <-x.got:
		return v, nil
	case d := <-x.died:
		return nil, errDied{d}
	case <-ctx.Done():
		return nil, waitErr(ctx)
	}
}

// waitErr explains why ctx ended.
func waitErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errors.New("no answer in time")
	}
	return errors.New("interrupted")
}

// request sends the node request ["", tag, args…, <reply port>, "answer"]
// to node and waits for its answer, ("answer", results…): the reply spec's
// extra element becomes the answer's tag (spec §4: the reply is
// snd @reply, results), so that a result that is not a string never has
// to be one. It returns the results. The node's link failing ends the
// wait.
func request(ctx context.Context, n *aemp.Node, node, tag string, args ...any) ([]any, error) {
	x := newExchange(n)
	defer x.close()
	x.watch(aemp.PortID(node))
	if err := n.Snd(aemp.PortID(node), tag, append(args, string(x.reply.ID()), answerTag)...); err != nil {
		return nil, err
	}
	v, err := x.wait(ctx)
	if err != nil {
		return nil, err
	}
	if len(v) == 0 || v[0] != answerTag {
		return nil, fmt.Errorf("node %s answered %s with %.200s", node, tag, jsonText(v))
	}
	return v[1:], nil
}

// answerTag is the tag of the answers to request's node requests.
const answerTag = "answer"

// can asks node whether it serves the node request tag (spec §4.2).
func can(ctx context.Context, n *aemp.Node, node, tag string) (bool, error) {
	v, err := request(ctx, n, node, "can", tag)
	if err != nil {
		return false, err
	}
	if len(v) != 1 {
		return false, fmt.Errorf("node %s answered can with %s", node, jsonText(v))
	}
	s, _ := v[0].(string)
	b, _ := v[0].(bool)
	return s == "1" || b, nil
}

// nodeArg checks a node ID argument.
func nodeArg(a arg) (string, error) {
	id := aemp.PortID(a.str())
	if id.Node() == "" || id.Local() != "" || strings.Contains(a.str(), "#") {
		return "", usagef("%q is not a node ID", a.str())
	}
	return a.str(), nil
}
