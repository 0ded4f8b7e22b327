package main

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/internal/syncbuf"
)

func waitOutput(t *testing.T, what string, b *syncbuf.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (%q); output so far:\n%s", what, want, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestChat runs a seed, the server and two clients in one process: each
// client finds the server through the global database, every line reaches
// every client with its sender's name, and the server notices a client
// leave.
func TestChat(t *testing.T) {
	defer leakcheck.Check(t)()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seedAddr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	start := func(out *syncbuf.Buffer, in string, args ...string) chan error {
		done := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			done <- run(ctx, append(args, "-secret", "chat-test"), strings.NewReader(in), out)
		}()
		return done
	}
	var seedOut, serverOut, bobOut, aliceOut syncbuf.Buffer
	start(&seedOut, "", "-seed", seedAddr)
	waitOutput(t, "the seed", &seedOut, "seed listening on")
	start(&serverOut, "", "-server", "-seeds", seedAddr)
	waitOutput(t, "the server's registration", &serverOut, "registered under eg_chat_server")

	bob := start(&bobOut, "hello from bob\n", "-seeds", seedAddr, "-name", "bob", "-linger", "2s")
	waitOutput(t, "bob to join", &serverOut, "bob joined")
	alice := start(&aliceOut, "hi everyone\nbye\n", "-seeds", seedAddr, "-name", "alice")
	if err := <-alice; err != nil {
		t.Fatalf("alice: %v", err)
	}
	for _, want := range []string{"alice> hi everyone", "alice> bye"} {
		waitOutput(t, "alice's lines at bob", &bobOut, want)
	}
	if !strings.Contains(aliceOut.String(), "alice> bye") {
		t.Fatalf("alice did not get her own line back:\n%s", &aliceOut)
	}
	waitOutput(t, "the server to see alice leave", &serverOut, "alice left")
	waitOutput(t, "bob to hear that alice left", &bobOut, "server> alice left")
	if err := <-bob; err != nil {
		t.Fatalf("bob: %v", err)
	}
}

func TestChatUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"-secret", "s"}, {"-secret", "s", "-server"}, {"-bogus"}} {
		if err := run(context.Background(), args, strings.NewReader(""), &syncbuf.Buffer{}); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
