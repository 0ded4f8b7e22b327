package mesh

import "encoding/binary"

// pending holds the messages committed while a peer's link connects, in
// order, in one growing buffer: each entry is a u32 big-endian length, the
// u64 ordering key (Commit's), then the encoded envelope. It is guarded by
// its peer's lock.
type pending struct {
	b    []byte
	mark int // start of the entry being appended (begin .. commit)
	n    int // entries
}

const pendHead = 4 + 8

// begin starts an entry and returns the buffer to append its envelope to.
func (q *pending) begin(hint int) []byte {
	q.mark = len(q.b)
	if hint > 0 && cap(q.b)-len(q.b) < pendHead+hint {
		nb := make([]byte, len(q.b), len(q.b)+pendHead+hint)
		copy(nb, q.b)
		q.b = nb
	}
	q.b = append(q.b, make([]byte, pendHead)...)
	return q.b
}

// commit ends the entry begin started; b is what the caller appended to.
func (q *pending) commit(b []byte, key uint64) {
	q.b = b
	binary.BigEndian.PutUint32(q.b[q.mark:], uint32(len(b)-q.mark-pendHead))
	binary.BigEndian.PutUint64(q.b[q.mark+4:], key)
	q.n++
}

// abort drops the entry begin started.
func (q *pending) abort() { q.b = q.b[:q.mark] }

// bytes is the size of the queued envelopes and their entry heads.
func (q *pending) bytes() int { return len(q.b) }

// each calls f for every entry in order and empties the queue; f's env
// aliases the queue's buffer and is valid only during the call.
func (q *pending) each(f func(env []byte, key uint64)) {
	b := q.b
	for len(b) >= pendHead {
		n := int(binary.BigEndian.Uint32(b))
		key := binary.BigEndian.Uint64(b[4:])
		f(b[pendHead:pendHead+n], key)
		b = b[pendHead+n:]
	}
	q.reset()
}

// reset drops everything queued (and the buffer: a burst queued while
// connecting does not keep its memory).
func (q *pending) reset() { *q = pending{} }
