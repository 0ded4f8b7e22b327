package mesh

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// netpoll's log lines reach the oldest open mesh's logger at Warn, without
// their date and "NETPOLL: " prefixes.
func TestNetpollLogForwarded(t *testing.T) {
	var first, second bytes.Buffer
	w := &netpollWriter{}
	w.once.Do(func() {}) // leave netpoll's real logger alone
	r1 := w.use(slog.New(slog.NewTextHandler(&first, nil)))
	r2 := w.use(slog.New(slog.NewTextHandler(&second, nil)))
	w.Write([]byte("2026/01/02 03:04:05 NETPOLL: accept conn failed: too many open files\n2026/01/02 03:04:05 second line\n"))
	got := first.String()
	if !strings.Contains(got, `level=WARN msg="aemp: netpoll" log="accept conn failed: too many open files"`) ||
		!strings.Contains(got, `log="second line"`) || second.Len() != 0 {
		t.Errorf("first logger %q, second %q", got, second.String())
	}
	r1()
	r1() // idempotent
	w.Write([]byte("NETPOLL: after\n"))
	if !strings.Contains(second.String(), `log=after`) {
		t.Errorf("second logger %q", second.String())
	}
	r2()
}
