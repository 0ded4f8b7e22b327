package transport

import (
	"fmt"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/pool"
)

// writeLoop is the link's writer goroutine: it sleeps until kicked, then
// takes the queued batches at once (senders continue into fresh batches)
// and writes them with one writev, preceded by a credit frame when the
// reader has credit to grant. With flow control on it takes batches only
// while it has send credit (a batch that starts within the credit goes out
// whole).
func (l *Link) writeLoop() {
	iov := make([][]byte, 0, 64)
	ctrl := make([]byte, 0, frame.CreditLen)
	var batch []*pool.Buf
	for {
		select {
		case <-l.kick:
		case <-l.quit:
			return
		}
		for {
			l.mu.Lock()
			hasData := !(len(l.chunks) == 0 || len(l.chunks) == 1 && len(l.chunks[0].B) == l.headOff) ||
				l.express != nil && len(l.express.B) > 0
			canData := hasData && (!l.creditOn || l.sendCredit > 0)
			grant := l.grantPending
			if l.writing || !canData && grant == 0 {
				// nothing to write, no credit, or a direct write is in
				// flight (it kicks again if it leaves anything behind)
				if l.draining && l.queued == 0 {
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
			total := 0
			if canData {
				batch, total = l.takeBatches(&iov)
			}
			l.writing = true
			l.mu.Unlock()

			err := l.io.writev(iov)
			for i, c := range batch {
				c.Release()
				batch[i] = nil
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
			l.sent(total)
			if l.spare == nil && batch != nil {
				l.spare = batch[:0]
			}
			l.mu.Unlock()
		}
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
