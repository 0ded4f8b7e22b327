package transport

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/pool"
)

// retainer keeps a random subset of the buffers it is handed (so the reader
// must never overwrite them) and checks every message against want.
type retainer struct {
	*recorder
	rng  *rand.Rand
	keep []*pool.Buf
	kept [][]byte // the retained messages (aliasing the buffers)
	copy [][]byte // their contents when handed over
}

func (r *retainer) OnMessage(buf *pool.Buf, msg []byte) {
	if r.rng.IntN(4) == 0 {
		buf.Retain()
		r.keep = append(r.keep, buf)
		r.kept = append(r.kept, msg)
		r.copy = append(r.copy, bytes.Clone(msg))
	}
	if len(r.keep) > 8 {
		if !bytes.Equal(r.kept[0], r.copy[0]) {
			panic("retained message overwritten")
		}
		r.keep[0].Release()
		r.keep, r.kept, r.copy = r.keep[1:], r.kept[1:], r.copy[1:]
	}
	r.recorder.OnMessage(buf, msg)
}

// TestReaderChunking feeds random messages, framed every way the reader
// accepts, in random chunk sizes (from the handshake's buffered bytes on),
// to a link with a tiny read buffer, while the handler retains random
// buffers; every message must arrive intact and in order, and retained
// messages must stay intact.
func TestReaderChunking(t *testing.T) {
	defer leakcheck.Check(t)()
	for seed := uint64(1); seed <= 12; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		goFr := seed%2 == 0
		var want [][]byte
		var stream []byte
		for i := 0; i < 300; i++ {
			size := rng.IntN(200)
			if rng.IntN(20) == 0 {
				size = rng.IntN(200 << 10)
			}
			m := bigMsg(i, size+20)
			switch {
			case !goFr:
				stream = append(stream, m...)
				if rng.IntN(3) == 0 {
					stream = append(stream, " \r\n"[:rng.IntN(4)]...)
				}
				want = append(want, m)
			case rng.IntN(4) == 0: // a batch of 1–3
				var p []byte
				for k := rng.IntN(3); k >= 0; k-- {
					m := bigMsg(len(want), rng.IntN(300)+20)
					p = frame.AppendBatchItem(p, m)
					want = append(want, m)
				}
				flags := frame.FlagBatch
				if rng.IntN(2) == 0 {
					p, flags = frame.Compress(nil, p), flags|frame.FlagS2
				}
				stream = frame.AppendFrame(stream, flags, p)
			case rng.IntN(4) == 0:
				stream = frame.AppendFrame(stream, frame.FlagS2, frame.Compress(nil, m))
				want = append(want, m)
			default:
				stream = frame.AppendFrame(stream, 0, m)
				want = append(want, m)
			}
		}
		for _, be := range backends {
			t.Run(fmt.Sprintf("seed%d/go=%v/%v", seed, goFr, be), func(t *testing.T) {
				readChunked(t, seed, goFr, be, stream, want)
			})
		}
	}
}

// readChunked is one run of TestReaderChunking. On std the link reads a
// net.Pipe; on netpoll a loopback TCP connection, where goframe1 takes the
// poller's event path (each cut frame completed through the carry buffer).
// Every other goframe1 seed on netpoll reads with a buffer of copyBelow or
// more and is written in large pieces, so that its chunks are zero-copy
// slices of netpoll's buffer rather than copies.
func readChunked(t *testing.T, seed uint64, goFr bool, be Backend, stream []byte, want [][]byte) {
	rng := rand.New(rand.NewPCG(seed, 7))
	var ca, cb net.Conn
	if be == BackendNetpoll {
		ca, cb = tcpPair(t, Config{})
	} else {
		ca, cb = net.Pipe()
	}
	defer cb.Close()
	r := &retainer{recorder: newRecorder(), rng: rand.New(rand.NewPCG(seed, 9))}
	fr := "json"
	if goFr {
		fr = "goframe1"
	}
	nb := rng.IntN(100)
	readBuf, maxWrite := 512+rng.IntN(4096), 3000
	if be == BackendNetpoll && goFr && seed%4 == 0 {
		readBuf, maxWrite = copyBelow+rng.IntN(32<<10), 256<<10
	}
	l, err := NewLink(ca, stream[:nb], fr, fr, r, Config{Backend: be, ReadBuffer: readBuf})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	wrng := rand.New(rand.NewPCG(seed, 11))
	go func() {
		rest := stream[nb:]
		for len(rest) > 0 {
			n := min(len(rest), 1+wrng.IntN(maxWrite))
			if _, err := cb.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
	}()
	waitFor(t, "all messages", func() bool { return r.n.Load() == int64(len(want)) })
	waitFor(t, "the counts", func() bool { // (msgsIn is stored when a parse ends)
		st := l.Stats()
		return st.BytesIn == uint64(len(stream)) && st.MsgsIn == uint64(len(want))
	})
	for i, w := range want {
		if !bytes.Equal(r.msgs[i], w) {
			t.Fatalf("message %d differs (%d vs %d bytes)", i, len(r.msgs[i]), len(w))
		}
	}
	for i, k := range r.kept {
		if !bytes.Equal(k, r.copy[i]) {
			t.Fatalf("retained message %d was overwritten: %.40q", i, k)
		}
	}
	for _, b := range r.keep {
		b.Release()
	}
}
