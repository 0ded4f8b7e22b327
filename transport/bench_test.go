package transport

import (
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/pool"
)

// benchMsg is a small tagged message, 30 bytes as JSON.
var benchMsg = []byte(`["a#b","ping","x",12345678901]`)

type countHandler struct {
	n    atomic.Int64
	want int64
	done chan struct{}
	echo *Link // if set, every message is sent back on it
	recv chan struct{}
}

func (h *countHandler) OnMessage(buf *pool.Buf, msg []byte) {
	if h.echo != nil {
		h.echo.Send(msg)
		return
	}
	if h.recv != nil {
		h.recv <- struct{}{}
		return
	}
	if h.n.Add(1) == h.want {
		close(h.done)
	}
}
func (h *countHandler) OnClose(error) {}

func BenchmarkLinkThroughput(b *testing.B) {
	old := pool.SetDebug(false)
	defer pool.SetDebug(old)
	for _, be := range backends {
		for _, fr := range []string{"goframe1", "json", "goframe1+credit"} {
			b.Run(be.String()+"/"+fr, func(b *testing.B) {
				cfg := Config{Backend: be}
				if fr == "goframe1+credit" {
					fr, cfg.Credit = "goframe1", 1<<20
				}
				ca, cb := tcpPair(b, cfg)
				h := &countHandler{want: int64(b.N), done: make(chan struct{})}
				a, err := NewLink(ca, nil, fr, fr, &countHandler{}, cfg)
				if err != nil {
					b.Fatal(err)
				}
				bl, err := NewLink(cb, nil, fr, fr, h, cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer bl.Close()
				defer a.Close()
				b.ReportAllocs()
				b.SetBytes(int64(len(benchMsg)))
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					if err := a.Commit(append(a.Begin(), benchMsg...)); err != nil {
						b.Fatal(err)
					}
					if i&1023 == 0 {
						pace(a)
					}
				}
				<-h.done
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			})
		}
	}
}

// pace is the benchmark's flow control: a real sender is paced by the node
// (mailbox bounds, application back-pressure); without it the producer
// outruns the loopback and hits MaxOutbound.
func pace(l *Link) {
	for l.Queued() > 4<<20 {
		time.Sleep(50 * time.Microsecond)
	}
}

func BenchmarkLinkPingPong(b *testing.B) {
	old := pool.SetDebug(false)
	defer pool.SetDebug(old)
	for _, be := range backends {
		b.Run(be.String(), func(b *testing.B) {
			cfg := Config{Backend: be}
			ca, cb := tcpPair(b, cfg)
			ha := &countHandler{recv: make(chan struct{}, 1)}
			hb := &countHandler{}
			a, err := NewLink(ca, nil, "goframe1", "goframe1", ha, cfg)
			if err != nil {
				b.Fatal(err)
			}
			// hb.echo must be set before the first message arrives
			bl, err := NewLink(cb, nil, "goframe1", "goframe1", hb, cfg)
			if err != nil {
				b.Fatal(err)
			}
			hb.echo = bl
			defer bl.Close()
			defer a.Close()
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				a.Send(benchMsg)
				<-ha.recv
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			reportLatency(b, lat)
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkRawTCPThroughput is the baseline: pre-encoded goframe1 frames
// written in 64 KiB blocks, read and parsed with frame.Parse, no link.
func BenchmarkRawTCPThroughput(b *testing.B) {
	ca, cb := tcpPair(b, Config{})
	defer ca.Close()
	defer cb.Close()
	var block []byte
	per := 0
	for len(block)+frame.HeaderLen+len(benchMsg) <= 64<<10 {
		block = frame.AppendFrame(block, 0, benchMsg)
		per++
	}
	done := make(chan int)
	go func() {
		buf := make([]byte, 128<<10)
		n, start, end := 0, 0, 0
		for n < b.N {
			m, err := cb.Read(buf[end:])
			if err != nil {
				break
			}
			end += m
			for {
				_, k, _ := frame.Parse(buf[start:end], 1<<20)
				if k == 0 {
					break
				}
				start += k
				n++
			}
			end = copy(buf, buf[start:end])
			start = 0
		}
		done <- n
	}()
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; sent += per {
		k := min(per, b.N-sent)
		if _, err := ca.Write(block[:k*(frame.HeaderLen+len(benchMsg))]); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkRawTCPPingPong is the RTT baseline: one pre-encoded frame each
// way per operation, blocking reads, no link.
func BenchmarkRawTCPPingPong(b *testing.B) {
	ca, cb := tcpPair(b, Config{})
	defer ca.Close()
	defer cb.Close()
	f := frame.AppendFrame(nil, 0, benchMsg)
	go func() {
		buf := make([]byte, len(f))
		for {
			if _, err := io.ReadFull(cb, buf); err != nil {
				return
			}
			if _, err := cb.Write(buf); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, len(f))
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		ca.Write(f)
		if _, err := io.ReadFull(ca, buf); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportLatency(b, lat)
}
