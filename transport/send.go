package transport

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/pool"
)

// Begin locks the link's outbound batch and returns it. The caller appends
// exactly one encoded message (for both framings: the JSON envelope text) to
// the returned slice — append only, never modify what is already there — and
// then calls Commit with the result or Abort. Between Begin and
// Commit/Abort the link is locked for other senders: keep it short and do
// not call other methods of this link. Any goroutine may call Begin.
func (l *Link) Begin() []byte { return l.BeginN(0) }

// BeginN is Begin for a message of about n bytes: the returned slice has
// room for n more bytes (and the frame header), so that appending a large
// message does not grow and copy the batch. A hint of 0 is Begin.
func (l *Link) BeginN(n int) []byte {
	l.mu.Lock()
	k := len(l.chunks)
	if k == 0 || len(l.chunks[k-1].B) >= l.cfg.BatchBytes || l.curMsgs >= l.cfg.BatchMessages ||
		n > 0 && cap(l.chunks[k-1].B)-len(l.chunks[k-1].B) < n+frame.HeaderLen {
		c := pool.Get(max(l.cfg.BatchBytes, n+frame.HeaderLen))
		c.B = c.B[:0]
		l.chunks = append(l.chunks, c)
		if l.keyCount != nil {
			l.chunkKeys = append(l.chunkKeys, nil)
		}
		l.curMsgs = 0
		k++
	}
	c := l.chunks[k-1]
	l.mark = len(c.B)
	if l.sendGo {
		c.B = append(c.B, 0, 0, 0, 0, 0) // header, filled by Commit
	}
	return c.B
}

// Abort drops what was appended since Begin and unlocks the batch.
func (l *Link) Abort(b []byte) {
	c := l.chunks[len(l.chunks)-1]
	c.B = c.B[:l.mark]
	l.mu.Unlock()
}

// Commit frames the message appended to b since Begin, queues it, unlocks
// the batch and wakes the writer. It never blocks on the network: for
// sparse traffic (std backend, plain TCP, nothing else queued, more than
// 20 µs since the previous Commit) it makes one non-blocking write on the
// caller's goroutine, which saves the writer's wake-up; anything the socket
// does not take goes to the writer. Errors:
//
//   - ErrClosed: the link is closed or draining; the message is dropped.
//   - ErrMessageTooLarge: the message exceeds Config.MaxSend; it is
//     dropped, the link stays up.
//   - ErrOutboundFull: queuing it would exceed Config.MaxOutbound; it is
//     not queued and the link stays up (WaitRoom waits until it fits).
func (l *Link) Commit(b []byte) error { return l.CommitKey(b, 0) }

// CommitKey is Commit for a message to destination key (see Config.Express;
// without Express the key is ignored). Messages with the same key are sent
// in the order they are committed; a small message may overtake queued
// messages with other keys; key 0 is a barrier, kept in order with every
// message.
func (l *Link) CommitKey(b []byte, key uint64) error {
	c := l.chunks[len(l.chunks)-1]
	if len(b) < l.mark {
		c.B = c.B[:l.mark]
		l.mu.Unlock()
		panic("transport: Commit got a slice shorter than Begin returned")
	}
	if cap(b) != cap(c.B) || unsafe.SliceData(b) != unsafe.SliceData(c.B) {
		// append outgrew the pooled batch: move it into a pooled buffer
		// that fits, so the writer can release it like any other.
		nc := pool.Get(len(b))
		copy(nc.B, b)
		c.Release()
		l.chunks[len(l.chunks)-1] = nc
		c = nc
	} else {
		c.B = b
	}
	start := l.mark
	hdr := 0
	if l.sendGo {
		hdr = frame.HeaderLen
	}
	size := len(c.B) - start - hdr
	if l.closed {
		c.B = c.B[:start]
		l.mu.Unlock()
		return ErrClosed
	}
	if size > l.cfg.MaxSend {
		c.B = c.B[:start]
		l.mu.Unlock()
		return fmt.Errorf("%w: %d bytes, limit %d", ErrMessageTooLarge, size, l.cfg.MaxSend)
	}
	if l.sendGo {
		flags := byte(0)
		if l.cfg.Compress && size > l.cfg.CompressThreshold {
			payload := c.B[start+hdr:]
			l.zbuf = frame.Compress(l.zbuf[:0], payload)
			if len(l.zbuf) < size {
				copy(payload, l.zbuf)
				size = len(l.zbuf)
				c.B = c.B[:start+hdr+size]
				flags = frame.FlagS2
			}
		}
		frame.PutHeader(c.B[start:], flags, size)
	}
	added := len(c.B) - start
	if l.queued+added > l.cfg.MaxOutbound && l.queued > 0 { // (one message always fits an empty queue)
		c.B = c.B[:start]
		queued := l.queued
		l.mu.Unlock()
		return fmt.Errorf("%w: %d bytes queued, limit %d", ErrOutboundFull, queued, l.cfg.MaxOutbound)
	}
	l.msgsOut++
	if l.keyCount != nil {
		l.commitExpress(c, start, added, key) // unlocks
		return nil
	}
	l.queued += added
	l.curMsgs++
	if !l.writing && len(l.chunks) == 1 && l.headOff == 0 && l.io.canTryWrite(len(c.B)) &&
		(!l.creditOn || l.sendCredit > 0 && l.grantPending == 0) {
		// Only this message is queued. The clock is read only here: a
		// Commit behind queued data or a busy writer is not sparse, and
		// the writer moves lastSend on as it writes (writeLoop).
		//
		// A reply from a handler running on this link's own reader
		// (RunInline) goes to the writer instead: measured, the round
		// trip is faster and cheaper that way (W2.c1 std p50 about 20
		// against 29 µs, 1.1 against 1.3 cores; docs/performance.md).
		now := monoNow()
		sparse := now-l.lastSend > directGap
		l.lastSend = now
		if sparse && !l.inInline.Load() {
			l.directWrite() // unlocks
			return nil
		}
	}
	l.unlockKick()
	return nil
}

// unlockKick unlocks mu after a Commit and wakes the writer, unless a
// write is in flight: the writer then finds the message when it looks for
// more after its write (writeLoop), and a direct write kicks it when it
// ends with anything queued (directWrite). In a flood most Commits come
// while the writer writes, and skip the channel send. Called with mu held.
func (l *Link) unlockKick() {
	writing := l.writing
	l.mu.Unlock()
	if !writing {
		l.kickWriter()
	}
}

// commitExpress queues the frame at c.B[start:] (added bytes, header
// included) with Express on: into the express buffer when it may overtake
// what is queued, otherwise behind it, counting its key. Called with mu
// held; unlocks.
func (l *Link) commitExpress(c *pool.Buf, start, added int, key uint64) {
	l.queued += added
	ahead := start > 0 || len(l.chunks) > 1 // frames queued before this one
	if l.express == nil {
		l.express = pool.Get(l.cfg.BatchBytes)
		l.express.B = l.express.B[:0]
	}
	if ahead && key != 0 && added <= l.cfg.Express && l.keyCount[key] == 0 && l.keyCount[0] == 0 &&
		len(l.express.B)+added <= cap(l.express.B) { // (full: the frame waits in line)
		l.express.B = append(l.express.B, c.B[start:]...)
		c.B = c.B[:start]
	} else {
		last := len(l.chunkKeys) - 1
		l.chunkKeys[last] = append(l.chunkKeys[last], key)
		l.keyCount[key]++
		l.curMsgs++
	}
	l.unlockKick()
}

// directGap: a Commit that follows the previous one by more than this is
// "sparse" traffic and is written at once by the committing goroutine (one
// non-blocking write, no writer wake-up, lower latency); denser traffic is
// left to the writer goroutine, which batches it.
const directGap = int64(20 * time.Microsecond)

var epoch = time.Now()

func monoNow() int64 { return int64(time.Since(epoch)) }

// directWrite writes the only queued batch with one non-blocking write on
// the caller's goroutine. Called with mu held; returns with it released.
// Whatever the socket does not take goes back to the writer goroutine.
func (l *Link) directWrite() {
	l.directs++
	c := l.chunks[0]
	l.chunks[0] = nil
	l.chunks = l.chunks[:0]
	l.curMsgs = 0
	l.writing = true
	l.sendCredit -= int64(len(c.B))
	l.mu.Unlock()

	n, err := l.io.tryWrite(c.B)

	l.mu.Lock()
	l.writing = false
	if err != nil {
		l.mu.Unlock()
		c.Release()
		l.shutdown(fmt.Errorf("transport: write: %w", err))
		return
	}
	l.queued -= n
	l.sent(n)
	l.sendCredit += int64(len(c.B) - n) // the writer counts the rest
	if n == len(c.B) {
		// committed meanwhile (the writer saw writing and slept), or a Drain
		// waits for the writer to notice the empty queue, or a grant is due
		// (or the TLS records the socket did not take wait in the backend)
		more := len(l.chunks) > 0 || l.draining || l.grantPending > 0 || l.io.pending()
		if len(l.chunks) == 0 {
			// keep the batch buffer for the next message (no pool round trip)
			c.B = c.B[:0]
			l.chunks = append(l.chunks, c)
			l.mu.Unlock()
			if more {
				l.kickWriter()
			}
			return
		}
		l.mu.Unlock()
		c.Release()
		l.kickWriter()
		return
	}
	// partial: put the rest back in front of anything committed meanwhile
	l.chunks = append(l.chunks, nil)
	copy(l.chunks[1:], l.chunks)
	l.chunks[0] = c
	l.headOff = n
	l.mu.Unlock()
	l.kickWriter()
}

// WaitRoom waits until a message of n bytes (the envelope, without its
// frame header) fits the outbound queue (Config.MaxOutbound), the link
// closes (ErrClosed) or ctx ends (ctx.Err()). Room may be taken by another
// sender before this one commits: callers retry Commit and wait again on
// ErrOutboundFull.
func (l *Link) WaitRoom(ctx context.Context, n int) error {
	if l.sendGo {
		n += frame.HeaderLen
	}
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return ErrClosed
		}
		if l.queued == 0 || l.queued+n <= l.cfg.MaxOutbound {
			l.mu.Unlock()
			return nil
		}
		if l.room == nil {
			l.room = make(chan struct{})
		}
		room := l.room
		l.mu.Unlock()
		select {
		case <-room:
		case <-l.quit:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// freed wakes the senders waiting in WaitRoom after the writer took bytes
// off the queue. Called with mu held.
func (l *Link) freed() {
	if l.room != nil {
		close(l.room)
		l.room = nil
	}
}

// Send queues one message by copying msg; a convenience over
// Begin/Commit for callers that already hold the encoded envelope.
func (l *Link) Send(msg []byte) error {
	return l.Commit(append(l.Begin(), msg...))
}

func (l *Link) kickWriter() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
	// After the kick: a writer parking now sees it or has parked already
	// (park stores writerUp before it looks at the kick channel).
	if l.parkWriter && !l.writerUp.Load() && l.writerUp.CompareAndSwap(false, true) {
		go l.runWriter()
	}
}
