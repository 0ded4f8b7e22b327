package prometheus_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aemp-go/aemp"
	aempprom "github.com/aemp-go/aemp/contrib/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newNode(t *testing.T, id string, nodes map[string][]string) *aemp.Node {
	t.Helper()
	n, err := aemp.NewNode(aemp.Config{NodeID: id, Secret: "s", Binds: []string{"127.0.0.1:0"}, Nodes: nodes,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// After 10 messages from a to b, b's collector shows the link, the
// traffic, the ports and a kill, and passes the Prometheus linter.
func TestCollector(t *testing.T) {
	b := newNode(t, "b", nil)
	a := newNode(t, "a", map[string][]string{"b": b.Binds()})
	got := make(chan struct{}, 10)
	port := b.NewPortFunc(func(*aemp.Msg) error { got <- struct{}{}; return nil })
	for i := range 10 {
		if err := a.Snd(port.ID(), "m", i); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("timed out")
		}
	}
	b.NewPort().Kill("stop")

	c := aempprom.NewCollector(b)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	deadline := time.Now().Add(5 * time.Second)
	for st := b.Stats(); st.Ports.Kills["stop"] != 1 || len(st.Links) != 1 || st.Links[0].MsgsIn != 10; st = b.Stats() {
		// (the kill is processed on a worker; the reader counts what it
		// read once it has parsed it all)
		if time.Now().After(deadline) {
			t.Fatal("the kill never showed")
		}
		time.Sleep(time.Millisecond)
	}
	want := `
# HELP aemp_link_received_messages_total Messages received from the peer.
# TYPE aemp_link_received_messages_total counter
aemp_link_received_messages_total{node="b",peer="a"} 10
# HELP aemp_link_up Whether the link to the peer node is established.
# TYPE aemp_link_up gauge
aemp_link_up{node="b",peer="a"} 1
# HELP aemp_ports Live ports.
# TYPE aemp_ports gauge
aemp_ports{node="b"} 1
# HELP aemp_port_kills_total Ports that died, by the kind of their reason.
# TYPE aemp_port_kills_total counter
aemp_port_kills_total{kind="stop",node="b"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"aemp_link_received_messages_total", "aemp_link_up", "aemp_ports", "aemp_port_kills_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c, "aemp_link_info"); n != 1 {
		t.Errorf("%d aemp_link_info series", n)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}
