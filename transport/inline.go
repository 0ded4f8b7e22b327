package transport

import (
	"runtime"
	"time"
)

// Running a handler's work on the reader goroutine.
//
// A message handed from the reader to another goroutine costs that
// goroutine's wake-up, which on a virtual machine can be most of a round
// trip. RunInline lets the Handler do the work on the reader instead, and
// keeps the link readable if the work blocks: when fn has not returned
// after inlineTakeover, a new goroutine takes over reading the link (the
// reader's state moves to it whole: buffer, unparsed bytes, credit
// accounting), so fn may even wait for a message that arrives on this same
// link. When fn returns first, the reader goes on as if nothing happened.

// inlineTakeover is how long fn may run before another goroutine takes
// over reading: well above a handler that does not block (a few
// microseconds), well below what a blocked link costs.
const inlineTakeover = 50 * time.Microsecond

// inlineMaxSize is the largest message RunInline runs for. Saving a
// hand-off matters for small messages, whose round trip it dominates; a
// large one's handler works long enough to be taken over anyway, and
// meanwhile the reader would not read the next one.
const inlineMaxSize = 16 << 10

// readerTurn.state values.
const (
	inlineIdle    int32 = iota // no RunInline in progress
	inlineRunning              // fn runs; the reading may be taken over
	inlineTaken                // the timer's goroutine took the reading over
)

// RunInline runs fn(arg) on the link's reader goroutine. It may only be
// called from Handler.OnMessage, at most once per call, and reports false, without running fn,
// when the reader cannot hand its reading over: on a backend without a
// reader goroutine (netpoll's goframe1 links, whose poller calls
// OnMessage), or for a message of a batch or compressed frame, or one
// larger than 16 KiB. It also refuses while more input is waiting behind
// the message: in a flood, handing messages on lets reading and handling
// run in parallel. The caller then does the work elsewhere, as without
// RunInline.
//
// If fn has not returned after 50 µs, another goroutine takes over reading
// the link (OnMessage is then called there, for the messages after this
// one); the goroutine that ran fn returns from OnMessage and ends. So fn
// may block. Messages keep their order: the next OnMessage call comes
// after this one has returned or been taken over.
func (l *Link) RunInline(fn func(arg any), arg any) bool {
	r := l.rd
	if r == nil || !r.inline {
		return false
	}
	t := r.turn // this goroutine's turn: its state and timer are only this turn's
	t.state.Store(inlineRunning)
	if t.timer == nil {
		t.timer = time.AfterFunc(inlineTakeover, func() { l.takeOver(t) })
	} else {
		t.timer.Reset(inlineTakeover)
	}
	l.inInline.Store(true)
	fn(arg)
	l.inInline.Store(false)
	// The state decides, not Stop: a timer that fired late for an earlier
	// fn may take over during this one (harmless: fn was running).
	if t.state.CompareAndSwap(inlineRunning, inlineIdle) {
		t.timer.Stop()
		return true // still the reader
	}
	for !t.handed.Load() { // the new turn counts itself in running first
		runtime.Gosched()
	}
	t.gone = true // parse returns without touching r, which is the new turn's
	return true
}

// takeOver runs on turn t's timer goroutine when fn blocks: it continues
// reading the link with the reader's state, as a new turn. A timer that
// fires after fn has returned finds the state idle and does nothing (also
// after the link has ended).
func (l *Link) takeOver(t *readerTurn) {
	if !t.state.CompareAndSwap(inlineRunning, inlineTaken) {
		return
	}
	l.running.Add(1) // the old turn, still counted, waits for handed before it ends
	t.handed.Store(true)
	defer l.exited()
	l.readOn(l.rd)
}
