package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/internal/syncbuf"
)

// TestReceiverAndSender runs the tutorial's pair as in the tutorial: the
// receiver as a process of its own (built from ../receiver), the sender
// here; the sender finds the receiver through the global database, and
// each prints what the tutorial's programs print.
func TestReceiverAndSender(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the receiver")
	}
	bin := filepath.Join(t.TempDir(), "receiver")
	if out, err := exec.Command(goTool, "build", "-o", bin, "../receiver").CombinedOutput(); err != nil {
		t.Fatalf("building the receiver: %v\n%s", err, out)
	}
	t.Setenv("PERL_ANYEVENT_MP_RC", os.DevNull) // no profile: the flags say it all
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-listen", addr, "-secret", "tutorial")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(what string) string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the receiver ended before %s; stderr:\n%s", what, &stderr)
			}
			return l
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; stderr:\n%s", what, &stderr)
		}
		return ""
	}
	if l := next("the receiver to listen"); !strings.Contains(l, "listening on "+addr) {
		t.Fatalf("receiver said %q", l)
	}

	check := leakcheck.Check(t)
	var out syncbuf.Buffer
	if err := run(ctx, []string{"-seed", addr, "-secret", "tutorial", "-data", "123"}, &out); err != nil {
		t.Fatalf("sender: %v\n%s", err, &out)
	}
	check()
	if !strings.Contains(out.String(), `answered ["received",123]`) {
		t.Fatalf("sender printed %q", &out)
	}
	if l := next("the receiver's line"); l != "Received data: 123" {
		t.Fatalf("receiver printed %q", l)
	}
	if err := run(ctx, []string{"-bogus"}, &out); err == nil {
		t.Fatal("a bad flag was accepted")
	}
}
