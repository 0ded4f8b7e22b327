//go:build unix

package aemp

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain runs the child node of TestKeepAliveHungPeer when the test
// binary is started as one (AEMP_TEST_CHILD set), else the tests.
func TestMain(m *testing.M) {
	if os.Getenv("AEMP_TEST_CHILD") != "" {
		runChildNode()
		return
	}
	os.Exit(m.Run())
}

// runChildNode is a node in its own process: it listens, prints its
// address, serves an echo port and waits to be killed.
func runChildNode() {
	n, err := NewNode(Config{NodeID: "child", Binds: []string{"127.0.0.1:0"}, Secret: "test-secret",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	n.newPort("echo").RcvDefault(func(m *Msg) error { return nil })
	fmt.Println("listening", n.Binds()[0])
	select {}
}

// TestKeepAliveHungPeer: a peer process that is SIGSTOPped (its kernel
// still acknowledges TCP, so nothing but keep-alive notices) is taken down
// within twice the keep-alive timeout, with ("transport_error", node,
// "keepalive timeout…").
func TestKeepAliveHungPeer(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "AEMP_TEST_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		t.Fatalf("child: %q, %v", line, err)
	}
	const timeout = 600 * time.Millisecond
	k := newMeshKit(t)
	a := k.node("parent", Config{Secret: "test-secret", KeepAlive: timeout / 3, KeepAliveTimeout: timeout})
	a.AddNode("child", addr)
	r, _ := reasonMonitor(a, "child#echo")
	a.Snd("child#echo", "hello")
	waitFor(t, "the link", func() bool { return a.mesh.Up("child") })
	time.Sleep(2 * timeout) // alive: probes answered, no timeout
	select {
	case got := <-r:
		t.Fatalf("the live peer was taken down: %v", got)
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	got := recv(t, r)
	took := time.Since(stopped)
	t.Logf("hung peer detected after %v (timeout %v): %v", took.Round(time.Millisecond), timeout, got)
	if got.Kind() != "transport_error" || !strings.HasPrefix(got.Text(), "keepalive timeout") {
		t.Fatalf("reason %v", got)
	}
	if took > 2*timeout {
		t.Fatalf("detected after %v, more than twice the timeout %v", took, timeout)
	}
}
