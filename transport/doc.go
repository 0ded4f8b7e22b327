// Package transport runs the data phase of an authenticated AEMP connection:
// a [Link] reads framed messages from the peer and hands them to a [Handler],
// and queues, batches and writes outbound messages.
//
// # Goroutines
//
// A link runs exactly two goroutines, both started by NewLink through one
// helper and both waited for by Close:
//
//   - the reader reads into pooled buffers (package pool), parses frames,
//     JSON texts or CBOR items in place and calls Handler.OnMessage for each message, in
//     order, with a slice of the buffer (no per-message copy);
//   - the writer sleeps until a sender kicks it (a non-blocking channel
//     send), then writes every queued batch with one writev.
//
// Senders (any goroutine) append one message at a time into the current
// outbound batch: Begin returns the batch, the caller appends its encoded
// envelope, Commit frames it and kicks the writer. Batches are pooled
// buffers bounded by Config.BatchBytes and Config.BatchMessages; the writer
// swaps the whole list out under the lock, so senders keep appending while a
// write is in flight.
//
// # Limits
//
// Outbound: the bytes queued but not yet written are bounded by
// Config.MaxOutbound; a Commit beyond it fails with ErrOutboundFull, the
// message is not queued and the link stays up (the sender hears of it and
// may wait for room with WaitRoom: back-pressure, not a torn link). Inbound: the bytes of read buffers handed to the
// handler but not yet released are bounded by Config.MaxInbound; past it the
// reader stops reading (TCP back-pressure) until the handler releases
// buffers (pool.Buf.OnFree tells the link). Malformed input closes the link
// with an error wrapping ErrFraming and the frame package's sentinel; the
// messages before the bad frame or JSON text have been delivered, nothing of
// it (not even the good items of a corrupt batch) nor after it is.
//
// Between Go nodes, Config.Credit turns on credit-based flow control
// (goframe1 credit frames): each side sends at most the granted window,
// and the reader grants more only as it consumes without being paused. This
// bounds inbound memory even on the netpoll backend, which reads eagerly;
// without it a paused netpoll link fails with ErrInboundOverflow once
// netpoll's own buffer exceeds the bound.
//
// # Backends
//
// Two backends sit behind the same Link: the standard library's net (any
// net.Conn, including *tls.Conn; every platform) and cloudwego/netpoll
// (plain TCP only; where netpoll builds, see [Backend.Available]).
// [Dial] and [Listen] return connections suited to Config.Backend; the
// handshake runs over them, then NewLink takes the result. See
// docs/transport.md for the measurements behind the default.
//
// # Framings
//
// "goframe1" (Go to Go, frame.NameGo), "json" and "cbor" (AEMP,
// frame.NameJSON, frame.NameCBOR); the two directions of a link may use
// different framings. The json and cbor framings send messages back to
// back as they are appended, so the sender does the same for both; the
// reader splits the stream with frame.JSONSplitter or frame.CBORSplitter.
//
// The handshake that precedes a link is package transport/handshake.
package transport
