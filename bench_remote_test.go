package aemp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aemp-go/aemp/mesh"
	"github.com/aemp-go/aemp/wire"
)

// Remote benchmarks: two nodes in one process, linked over loopback TCP.
// The raw-TCP baselines move pre-encoded length-prefixed frames of the same
// size between two goroutines over loopback: the physical limit for the
// same workload. Compare ratios from the same run (docs/performance.md).

// remoteWindow bounds the messages a sender keeps in flight (acknowledged
// in steps of remoteAck), so the benchmark measures sustainable throughput
// rather than how fast a queue can grow.
const (
	remoteWindow = 1 << 15
	remoteAck    = 1 << 10
)

// benchPair starts two linked nodes. backend "secret-tls" is the Go
// default (secret-keyed TLS, which runs on the std backend); "std" and
// "netpoll" are plain TCP links (PlainGoLinks).
func benchPair(b *testing.B, backend string, framings []string) (a, c *Node) {
	b.Helper()
	if backend == "netpoll" && !mesh.BackendAvailable("netpoll") {
		b.Skip("no netpoll on this platform")
	}
	plain := backend != "secret-tls"
	if !plain {
		backend = ""
	}
	mk := func(id string) *Node {
		n, err := NewNode(Config{
			NodeID: id, Binds: []string{"127.0.0.1:0"}, Secret: "bench",
			Backend: backend, Framings: framings, PlainGoLinks: plain,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { n.Close() })
		return n
	}
	a, c = mk("benchA"), mk("benchB")
	a.AddNode("benchB", c.Binds()...)
	c.AddNode("benchA", a.Binds()...)
	return a, c
}

func BenchmarkRemoteOneWay(b *testing.B) {
	for _, v := range []struct {
		name, backend string
		framings      []string
	}{
		{"goframe-std", "std", nil},
		{"goframe-netpoll", "netpoll", nil},
		{"json-std", "std", []string{"json"}},
		{"goframe-secret-tls", "secret-tls", nil},
	} {
		b.Run(v.name, func(b *testing.B) { benchRemoteOneWay(b, v.backend, v.framings) })
	}
}

func benchRemoteOneWay(b *testing.B, backend string, framings []string) {
	recvNode, sendNode := benchPair(b, backend, framings)
	var acked atomic.Int64
	ackPort := sendNode.NewPort().Rcv("ack", func(m *Msg) error {
		v, err := m.Int(1)
		acked.Store(v)
		return err
	})
	done := make(chan struct{})
	got := int64(0)
	want := int64(b.N)
	sink := recvNode.NewPort().Rcv("test", func(m *Msg) error {
		if _, err := m.Int(1); err != nil {
			return err
		}
		got++
		if got%remoteAck == 0 || got == want {
			recvNode.SndMsg(ackPort.ID(), NewMsg("ack").AppendInt(got))
		}
		if got == want {
			close(done)
		}
		return nil
	})
	id := sink.ID()
	// Warm the link up (connect, handshake) outside the timing.
	sendNode.SndMsg(id, NewMsg("test").AppendInt(-1))
	want++
	for acked.Load() < 1 && got == 0 {
		time.Sleep(time.Millisecond)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%remoteAck == 0 {
			for int64(i)-acked.Load() >= remoteWindow {
				time.Sleep(20 * time.Microsecond)
			}
		}
		sendNode.SndMsg(id, NewMsg("test").AppendInt(int64(i)))
	}
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkRemotePingPong(b *testing.B) {
	for _, v := range []struct {
		name, backend string
		framings      []string
	}{
		{"goframe-std", "std", nil},
		{"goframe-netpoll", "netpoll", nil},
		{"json-std", "std", []string{"json"}},
		{"goframe-secret-tls", "secret-tls", nil},
	} {
		b.Run(v.name, func(b *testing.B) {
			a, c := benchPair(b, v.backend, v.framings)
			// Port to port, closed loop: the pong handler sends the next
			// ping, as the raw-TCP baseline's client writes its next frame
			// right after reading the answer.
			var echo *Port
			rtts := make([]time.Duration, 0, b.N+1)
			done := make(chan struct{})
			var t0 time.Time
			sent := 0
			me := c.NewPort().Rcv("pong", func(*Msg) error {
				rtts = append(rtts, time.Since(t0))
				if sent == b.N+1 { // +1: the warm-up round trip
					close(done)
					return nil
				}
				sent++
				t0 = time.Now()
				return c.SndMsg(echo.ID(), NewMsg("ping").AppendInt(int64(sent)))
			})
			echo = a.NewPort().Rcv("ping", func(m *Msg) error {
				return a.SndMsg(me.ID(), NewMsg("pong").AppendInt(1))
			})
			b.ReportAllocs()
			b.ResetTimer()
			me.Exec(func() error {
				sent++
				t0 = time.Now()
				return c.SndMsg(echo.ID(), NewMsg("ping").AppendInt(0))
			})
			<-done
			reportRTT(b, rtts[1:])
		})
	}
}

// BenchmarkRemoteSparse is sparse traffic: a user goroutine sends one
// message, waits until the remote handler has it, pauses 100 µs and sends
// the next. It measures the one-way latency (SndMsg to the handler), the
// case the direct write of Link.Commit is for (no writer wake-up).
func BenchmarkRemoteSparse(b *testing.B) {
	for _, backend := range []string{"std", "secret-tls"} {
		b.Run(backend, func(b *testing.B) {
			a, c := benchPair(b, backend, nil)
			lat := make([]time.Duration, 0, b.N+1)
			got := make(chan struct{}, 1)
			var t0 time.Time
			sink := a.NewPort().Rcv("sparse", func(*Msg) error {
				lat = append(lat, time.Since(t0))
				got <- struct{}{}
				return nil
			})
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N + 1 { // +1: the warm-up (connect, handshake)
				time.Sleep(100 * time.Microsecond)
				t0 = time.Now()
				if err := c.SndMsg(sink.ID(), NewMsg("sparse").AppendInt(1)); err != nil {
					b.Fatal(err)
				}
				<-got
			}
			reportRTT(b, lat[1:])
		})
	}
}

// BenchmarkFramingPingPong is the ping-pong of a Perl node's echo (spec
// §1.4: ["ping", reply port, args…] answered with ["pong", args…], the
// arguments passed through with AppendElem) between two Go nodes forced
// to one AEMP framing: it stands for the Go↔Perl round trip, json against
// cbor. The ping carries an integer, a string, a float and a small array.
func BenchmarkFramingPingPong(b *testing.B) {
	for _, framing := range []string{"json", "cbor"} {
		b.Run(framing, func(b *testing.B) {
			a, c := benchPair(b, "std", []string{framing})
			var echo *Port
			rtts := make([]time.Duration, 0, b.N+1)
			done := make(chan struct{})
			var t0 time.Time
			sent := 0
			list := []any{int64(1), "two"}
			var me *Port
			ping := func() error {
				sent++
				t0 = time.Now()
				m := NewMsg("ping").AppendString(string(me.ID())).AppendInt(int64(sent)).AppendString("hello").AppendFloat(3.25).Append(list)
				return c.SndMsg(echo.ID(), m)
			}
			me = c.NewPort().Rcv("pong", func(m *Msg) error {
				rtts = append(rtts, time.Since(t0))
				if _, err := m.Int(1); err != nil {
					return err
				}
				if sent == b.N+1 {
					close(done)
					return nil
				}
				return ping()
			})
			echo = a.NewPort().Rcv("ping", func(m *Msg) error {
				reply, err := m.String(1)
				if err != nil {
					return err
				}
				out := NewMsg("pong")
				for i := 2; i < m.Len(); i++ {
					if err := out.AppendElem(m, i); err != nil {
						return err
					}
				}
				return a.SndMsg(PortID(reply), out)
			})
			b.ReportAllocs()
			b.ResetTimer()
			me.Exec(ping)
			<-done
			reportRTT(b, rtts[1:])
		})
	}
}

func reportRTT(b *testing.B, rtts []time.Duration) {
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Nanoseconds()), "p99-ns")
}

// rawFrame is a pre-encoded goframe1 frame carrying the same envelope the
// node benchmarks send.
func rawFrame() []byte {
	env := []byte(`["b","test",123456]`)
	f := binary.BigEndian.AppendUint32(nil, uint32(len(env)))
	f = append(f, 0)
	return append(f, env...)
}

func tcpPair(b *testing.B) (client, server net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	server = <-accepted
	b.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// readFrames reads n frames and returns when done.
func readFrames(r io.Reader, n int) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr [5]byte
	buf := make([]byte, 256)
	for range n {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		l := binary.BigEndian.Uint32(hdr[:4])
		if _, err := io.ReadFull(br, buf[:l]); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkRawTCPOneWay is the baseline for RemoteOneWay.
func BenchmarkRawTCPOneWay(b *testing.B) {
	client, server := tcpPair(b)
	frame := rawFrame()
	done := make(chan error, 1)
	go func() { done <- readFrames(server, b.N) }()
	bw := bufio.NewWriterSize(client, 64<<10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bw.Write(frame)
	}
	bw.Flush()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkRawTCPPingPong is the baseline for RemotePingPong.
func BenchmarkRawTCPPingPong(b *testing.B) {
	client, server := tcpPair(b)
	frame := rawFrame()
	go func() {
		buf := make([]byte, len(frame))
		for {
			if _, err := io.ReadFull(server, buf); err != nil {
				return
			}
			if _, err := server.Write(buf); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, len(frame))
	rtts := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		client.Write(frame)
		if _, err := io.ReadFull(client, buf); err != nil {
			b.Fatal(err)
		}
		rtts = append(rtts, time.Since(t0))
	}
	reportRTT(b, rtts)
}

// BenchmarkEncodeEnvelope is the sender's encoding of the W1 message
// (tag, two integers, a 64-byte []byte) into a batch, JSON, blob and CBOR
// forms.
func BenchmarkEncodeEnvelope(b *testing.B) {
	body := bytes.Repeat([]byte{0xab}, 64)
	buf := make([]byte, 0, 4096)
	for _, f := range []wire.Format{wire.FormatJSON, wire.FormatBlobs, wire.FormatCBOR} {
		b.Run(f.String(), func(b *testing.B) {
			for i := range b.N {
				m := NewMsg("data").AppendUint(1).AppendUint(uint64(i)).AppendBytes(body)
				var err error
				if buf, err = appendEnvelope(buf[:0], "b", m, f, wire.NonFiniteError, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
