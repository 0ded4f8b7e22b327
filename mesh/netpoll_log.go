package mesh

import (
	"bytes"
	"log/slog"
	"sync"
	"time"

	"github.com/aemp-go/aemp/transport"
)

// cloudwego/netpoll logs its own troubles ("NETPOLL: …") with one
// process-wide standard logger, to standard error by default. A mesh on
// the netpoll backend points that logger at netpollLog, which passes each
// line on, at Warn, to the logger of the oldest such mesh still open (or
// slog.Default once none is), so that netpoll's messages land where the
// node's own do.

var netpollLog netpollWriter

type netpollWriter struct {
	once    sync.Once
	mu      sync.Mutex
	loggers []*slog.Logger
}

// use makes l a recipient of netpoll's log lines until release is called.
func (w *netpollWriter) use(l *slog.Logger) (release func()) {
	w.once.Do(func() { transport.SetNetpollLogOutput(w) })
	w.mu.Lock()
	w.loggers = append(w.loggers, l)
	w.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			for i, x := range w.loggers {
				if x == l {
					w.loggers = append(w.loggers[:i], w.loggers[i+1:]...)
					break
				}
			}
		})
	}
}

// Write takes what netpoll's logger writes: one or more lines, each with
// the standard log package's date and time prefix.
func (w *netpollWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	l := slog.Default()
	if len(w.loggers) > 0 {
		l = w.loggers[0]
	}
	w.mu.Unlock()
	for line := range bytes.Lines(p) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) > len(stdLogPrefix) {
			if _, err := time.Parse(stdLogPrefix, string(line[:len(stdLogPrefix)])); err == nil {
				line = line[len(stdLogPrefix):]
			}
		}
		line = bytes.TrimPrefix(line, []byte("NETPOLL: "))
		if len(line) > 0 {
			l.Warn("aemp: netpoll", "log", string(line))
		}
	}
	return len(p), nil
}

// stdLogPrefix is the layout of log.LstdFlags' prefix, with its space.
const stdLogPrefix = "2006/01/02 15:04:05 "
