package expvarstats_test

import (
	"encoding/json"
	"expvar"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aemp-go/aemp"
	"github.com/aemp-go/aemp/expvarstats"
	"github.com/aemp-go/aemp/internal/leakcheck"
)

// runs numbers the runs of TestPublish: expvar names cannot be taken back,
// so each run (go test -count=N) publishes under its own.
var runs atomic.Int64

func TestPublish(t *testing.T) {
	defer leakcheck.Check(t)()
	name := fmt.Sprint("aemp-test-", runs.Add(1))
	n, err := aemp.NewNode(aemp.Config{NodeID: "expvar-test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := expvarstats.Publish(name, n); err != nil {
		t.Fatal(err)
	}
	if err := expvarstats.Publish(name, n); err == nil {
		t.Error("a second Publish under the same name succeeded")
	}
	p := n.NewPort()
	p.Kill("stop")
	var st aemp.Stats
	for deadline := time.Now().Add(5 * time.Second); st.Ports.Kills["stop"] == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the kill never showed: %+v", st)
		}
		if err := json.Unmarshal([]byte(expvar.Get(name).String()), &st); err != nil {
			t.Fatal(err)
		}
	}
	if st.Node != "expvar-test" {
		t.Errorf("stats %+v", st)
	}
	// And over HTTP, as /debug/vars serves it.
	rec := httptest.NewRecorder()
	expvar.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/vars", nil))
	if !strings.Contains(rec.Body.String(), `"`+name+`": {"node":"expvar-test"`) {
		t.Errorf("/debug/vars: %.300s", rec.Body.String())
	}
}
