package transport

import (
	"fmt"
	"time"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/pool"
)

// writeLoop is the link's writer goroutine: it sleeps until kicked, then
// takes the queued batches at once (senders continue into fresh batches)
// and writes them with one writev, preceded by a credit frame when the
// reader has credit to grant. With flow control on it takes batches only
// while it has send credit (a batch that starts within the credit goes out
// whole).
//
// It returns true when it parks (parkWriter: idle for writerLinger; the
// next kick starts a new one) and false when the link has ended.
func (l *Link) writeLoop() (parked bool) {
	iov := make([][]byte, 0, 8)
	ctrl := make([]byte, 0, frame.CreditLen)
	var batch []*pool.Buf
	var idle <-chan time.Time
	var t *time.Timer
	if l.parkWriter {
		t = time.NewTimer(l.linger)
		defer t.Stop()
		idle = t.C
	}
	for {
		select {
		case <-l.kick:
		case <-l.quit:
			return false
		case <-idle:
			// checked once per linger (a write does not reset it)
			if time.Duration(monoNow()-l.lastWrite.Load()) >= l.linger && l.park() {
				return true
			}
			t.Reset(l.linger)
			continue
		}
		for {
			l.mu.Lock()
			hasData := !(len(l.chunks) == 0 || len(l.chunks) == 1 && len(l.chunks[0].B) == l.headOff) ||
				l.express != nil && len(l.express.B) > 0
			canData := hasData && (!l.creditOn || l.sendCredit > 0)
			grant := l.grantPending
			if l.writing || !canData && grant == 0 && !l.io.pending() {
				// nothing to write, no credit, or a direct write is in
				// flight (it kicks again if it leaves anything behind)
				if l.draining && l.queued == 0 && !l.io.pending() {
					select {
					case <-l.drained:
					default:
						close(l.drained)
					}
				}
				l.mu.Unlock()
				break
			}
			l.grantPending = 0
			iov = iov[:0]
			if grant > 0 {
				ctrl = frame.AppendCredit(ctrl[:0], grant)
				iov = append(iov, ctrl)
			}
			batch = batch[:0]
			total, first := 0, len(iov)
			if canData {
				batch, total = l.takeBatches(&iov)
			}
			l.writing = true
			l.mu.Unlock()

			saved := 0
			if l.pack != nil && canData {
				saved = l.pack.frames(iov[first:], l.takenPartial)
			}
			err := l.io.writev(iov)
			if err != nil {
				l.shutdown(fmt.Errorf("transport: write: %w", err))
				l.io.quiesce()
			}
			for i, c := range batch {
				c.Release()
				batch[i] = nil
			}
			if l.pack != nil {
				l.pack.release()
			}
			clear(iov[:cap(iov)])
			l.mu.Lock()
			l.writing = false
			for _, k := range l.writeKeys { // Express: these frames are in the kernel now
				if l.keyCount[k]--; l.keyCount[k] <= 0 {
					delete(l.keyCount, k)
				}
			}
			l.writeKeys = l.writeKeys[:0]
			if err != nil {
				l.mu.Unlock()
				l.shutdown(fmt.Errorf("transport: write: %w", err))
				return
			}
			l.queued -= total
			l.sendCredit += int64(saved) // takeBatches counted the frames as they were
			l.sent(total - saved)
			if w := l.lastWrite.Load(); w > l.lastSend { // sending goes on: not sparse (CommitKey)
				l.lastSend = w
			}
			if l.spare == nil && batch != nil {
				l.spare = batch[:0]
			}
			l.mu.Unlock()
		}
	}
}

// writerLinger is how long a parkable writer stays without writing before
// it parks (a variable for tests; a link reads it at Open).
var writerLinger = time.Second

// park ends an idle writer goroutine of a parkWriter link. It reports
// false, and the writer carries on, if a kick came in meanwhile and no
// kicker has started another writer.
func (l *Link) park() bool {
	l.writerUp.Store(false)
	if len(l.kick) == 0 && !l.isQuit() {
		return true
	}
	return !l.writerUp.CompareAndSwap(false, true)
}

// runWriter is a parkable writer goroutine; the one that sees the link end
// reports it.
func (l *Link) runWriter() {
	if !l.writeLoop() {
		l.exited()
	}
}

// takeBatches moves the batches to write from l.chunks into the returned
// list and their bytes into iov. With flow control only as many as the
// send credit covers (at least one). Called with mu held.
func (l *Link) takeBatches(iov *[][]byte) (batch []*pool.Buf, total int) {
	if l.keyCount != nil {
		return l.takeExpress(iov)
	}
	k := len(l.chunks)
	if l.creditOn {
		sum := int64(len(l.chunks[0].B) - l.headOff)
		k = 1
		for k < len(l.chunks) && sum < l.sendCredit {
			sum += int64(len(l.chunks[k].B))
			k++
		}
	}
	if k == len(l.chunks) {
		batch, l.chunks, l.spare = l.chunks, l.spare[:0], nil
		l.curMsgs = 0
	} else {
		batch = append(l.spare[:0], l.chunks[:k]...)
		l.spare = nil
		n := copy(l.chunks, l.chunks[k:])
		clear(l.chunks[n:])
		l.chunks = l.chunks[:n]
	}
	off := l.headOff
	l.headOff = 0
	l.takenPartial = off > 0
	for i, c := range batch {
		b := c.B
		if i == 0 {
			b = b[off:]
		}
		if len(b) > 0 {
			*iov = append(*iov, b)
			total += len(b)
		}
	}
	l.sendCredit -= int64(total)
	return batch, total
}

// takeExpress is takeBatches with Config.Express on: the express frames
// first, then at most one queued chunk, so that express frames committed
// while this write runs wait for one chunk at most. The chunk's keys stay
// counted until the write returns (writeKeys). Called with mu held; there
// are no direct writes in this mode, so headOff is 0.
func (l *Link) takeExpress(iov *[][]byte) (batch []*pool.Buf, total int) {
	batch = l.spare[:0]
	l.spare = nil
	if e := l.express; e != nil && len(e.B) > 0 {
		l.express = nil // commitExpress gets a new one
		batch = append(batch, e)
		*iov = append(*iov, e.B)
		total += len(e.B)
	}
	if len(l.chunks) > 0 && (!l.creditOn || l.sendCredit > int64(total)) {
		c := l.chunks[0]
		batch = append(batch, c)
		if len(c.B) > 0 {
			*iov = append(*iov, c.B)
			total += len(c.B)
		}
		l.writeKeys = append(l.writeKeys, l.chunkKeys[0]...)
		n := copy(l.chunks, l.chunks[1:])
		l.chunks[n] = nil
		l.chunks = l.chunks[:n]
		copy(l.chunkKeys, l.chunkKeys[1:])
		l.chunkKeys[n] = nil
		l.chunkKeys = l.chunkKeys[:n]
		if n == 0 {
			l.curMsgs = 0
		}
	}
	l.sendCredit -= int64(total)
	return batch, total
}

// packer turns the frames of one outbound batch into a single compressed
// batch frame (frame.FlagBatch|frame.FlagS2) with Config.Compress, on the
// writer goroutine: s2 compresses across messages, so many small similar
// messages (JSON envelopes) shrink where each alone would not. Inbound
// batch and compressed frames are always taken (a goframe1 receiver
// decodes both), so only the sender decides.
type packer struct {
	threshold int         // batches up to this size go as they are
	maxFrame  int         // the largest (decompressed) payload the peer takes
	items     []byte      // scratch: the batch payload before compression
	out       []*pool.Buf // the packed frames of the write in flight
}

// frames packs each batch of data (the queued chunks about to be written,
// each a sequence of whole frames, the first one cut if partial) that is
// worth it, replacing its slice, and returns the bytes saved.
func (p *packer) frames(data [][]byte, partial bool) (saved int) {
	for i, b := range data {
		if i == 0 && partial || len(b) <= p.threshold {
			continue
		}
		if packed := p.pack(b); packed != nil {
			saved += len(b) - len(packed.B)
			data[i] = packed.B
			p.out = append(p.out, packed)
		}
	}
	return saved
}

// pack returns b's frames as one compressed batch frame, or nil if b is not
// a run of at least two plain frames, or if packing would not shrink it.
func (p *packer) pack(b []byte) *pool.Buf {
	p.items = p.items[:0]
	n := 0
	for rest := b; len(rest) > 0; n++ {
		f, used, err := frame.Parse(rest, p.maxFrame)
		if err != nil || used == 0 || f.Flags != 0 {
			return nil // a compressed or control frame: leave the batch as it is
		}
		p.items = frame.AppendBatchItem(p.items, f.Payload)
		rest = rest[used:]
	}
	if n < 2 || len(p.items) > p.maxFrame {
		return nil
	}
	out := pool.Get(frame.HeaderLen + frame.MaxCompressedLen(len(p.items)))
	out.B = frame.Compress(out.B[:frame.HeaderLen], p.items)
	size := len(out.B) - frame.HeaderLen
	if len(out.B) >= len(b) {
		out.Release()
		return nil
	}
	frame.PutHeader(out.B, frame.FlagBatch|frame.FlagS2, size)
	return out
}

// release gives back the packed frames once written.
func (p *packer) release() {
	for i, b := range p.out {
		b.Release()
		p.out[i] = nil
	}
	p.out = p.out[:0]
}
