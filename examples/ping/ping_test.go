package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/auth"
)

// The test binary doubles as the ping program: with PING_ARGS set it runs
// main's logic with those arguments instead of the tests. So every test
// below runs two real processes on loopback.
func TestMain(m *testing.M) {
	if args := os.Getenv("PING_ARGS"); args != "" {
		if err := run(strings.Fields(args)); err != nil {
			os.Stderr.WriteString("ping: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func command(ctx context.Context, args string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PING_ARGS="+args, "PERL_ANYEVENT_MP_RC="+os.DevNull)
	return cmd
}

// startServer runs the echo node in a child process and returns its address,
// its port ID and its stderr.
func startServer(t *testing.T, flags string) (addr, port string, stderr *syncBuf) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := command(ctx, "-listen 127.0.0.1:0 "+flags)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr = &syncBuf{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cancel()
			<-done
		}
		cancel()
	})
	sc := bufio.NewScanner(out)
	re := regexp.MustCompile(`^listening on (\S+) as node`)
	for sc.Scan() {
		l := sc.Text()
		if m := re.FindStringSubmatch(l); m != nil {
			addr = m[1]
		}
		if p, ok := strings.CutPrefix(l, "port "); ok {
			port = p
			break
		}
	}
	if addr == "" || port == "" {
		t.Fatalf("server did not start; stderr:\n%s", stderr)
	}
	go func() { // keep the pipe drained
		for sc.Scan() {
		}
	}()
	return addr, port, stderr
}

func runClient(t *testing.T, addr, port, flags string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := command(ctx, "-connect "+addr+" -port "+port+" "+flags)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func writeCert(t *testing.T) string {
	t.Helper()
	pem, err := auth.GenerateSelfSigned("AnyEvent::MP", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTwoProcesses(t *testing.T) {
	cert := writeCert(t)
	cases := []struct{ name, flags string }{
		{"goframe", "-secret s3cret"},
		{"json", "-secret s3cret -framing json"},
		{"tls-goframe", "-cert " + cert},
		{"tls-json", "-cert " + cert + " -framing json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr, port, stderr := startServer(t, c.flags)
			out, err := runClient(t, addr, port, c.flags+" -n 2000 -inflight 16")
			if err != nil {
				t.Fatalf("client failed: %v\n%s\nserver stderr:\n%s", err, out, stderr)
			}
			if !strings.Contains(out, "2000 pings") || !strings.Contains(out, "msgs/s") {
				t.Fatalf("unexpected client output:\n%s", out)
			}
		})
	}
}

// The secret can come from AnyEvent::MP's configuration file.
func TestSecretFromConfigFile(t *testing.T) {
	rc := filepath.Join(t.TempDir(), "rc")
	os.WriteFile(rc, []byte(`{"version": 1, "secret": "from-file", # relaxed JSON
	   "profile": {"p": {"nodeid": "ping-server"},},}`), 0o600)
	addr, port, stderr := startServer(t, "-config "+rc+" -profile p")
	out, err := runClient(t, addr, port, "-config "+rc+" -n 100")
	if err != nil {
		t.Fatalf("client failed: %v\n%s\nserver stderr:\n%s", err, out, stderr)
	}
}

func TestRefusals(t *testing.T) {
	cases := []struct {
		name, server, client, logged string
	}{
		{"wrong secret", "-secret right", "-secret wrong", "authentication failed"},
		{"wrong certificate", "-cert " + writeCert(t), "-cert " + writeCert(t), "certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr, port, stderr := startServer(t, c.server)
			out, err := runClient(t, addr, port, c.client+" -n 1 -timeout 10s")
			if err == nil {
				t.Fatalf("client succeeded with %s:\n%s", c.name, out)
			}
			if !strings.Contains(out, "transport_error") {
				t.Fatalf("client error does not say why:\n%s", out)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(strings.ToLower(stderr.String()), c.logged) {
				if time.Now().After(deadline) {
					t.Fatalf("server log does not mention %q:\n%s", c.logged, stderr)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// A client spawns an echo port of its own on the echo node
// (aemp::ping::echo) and pings it.
func TestSpawnedEcho(t *testing.T) {
	addr, _, stderr := startServer(t, "-secret s3cret")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := command(ctx, "-connect "+addr+" -spawn ping-server -secret s3cret -n 500 -inflight 8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("client failed: %v\n%s\nserver stderr:\n%s", err, out, stderr)
	}
	if !strings.Contains(string(out), "spawned ping-server#") || !strings.Contains(string(out), "500 pings") {
		t.Fatalf("unexpected client output:\n%s", out)
	}
}
