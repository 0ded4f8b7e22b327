package mesh

import (
	"strconv"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/transport"
	"github.com/aemp-go/aemp/transport/handshake"
	"github.com/aemp-go/aemp/wire"
)

// Capabilities between Go nodes, announced as extra greeting pairs (Perl
// nodes ignore keys they do not know, spec §3.3). Both nodes see both
// greetings, so both make the same decisions.

// creditWindow is the receive window of credit-based flow control: a peer
// can never push more than this ahead of what the handlers consumed,
// whatever the backend buffers.
const creditWindow = 4 << 20

// expressMax is the largest framed message that may overtake others with
// Config.OrderPerPort.
const expressMax = 4 << 10

// greetingCaps returns the capabilities this node announces.
func greetingCaps(backend transport.Backend, maxFrame int) []wire.KV {
	kv := []wire.KV{
		// the largest message this node takes (MaxFrame): a Go peer does
		// not send it anything larger (Perl nodes have no limit)
		{Key: "maxframe", Value: strconv.Itoa(maxFrame), HasValue: true},
		{Key: "credit", Value: strconv.Itoa(creditWindow), HasValue: true},
		{Key: "blobs", Value: wire.BlobsVersion, HasValue: true},
		// CBOR envelopes in goframe1 frames (wire.FormatMixed): what came
		// from a Perl node as CBOR goes on to Go nodes exactly.
		{Key: "cbor", Value: wire.CBORVersion, HasValue: true},
		// goframe1 frames with frame.FlagS2 are taken (every version of
		// this library does; the key lets a future one opt out).
		{Key: "s2", Value: "1", HasValue: true},
	}
	if backend == transport.BackendNetpoll {
		// netpoll reads eagerly: it wants the peer to respect credit.
		kv = append(kv, wire.KV{Key: "credit-want", Value: "1", HasValue: true})
	}
	return kv
}

// useCredit decides whether a link runs credit-based flow control: both
// nodes support it with the same window, goframe1 runs both ways, and at
// least one of them wants it (its backend cannot push back through TCP).
// On the std backend credit costs ~7% of throughput and is not needed.
func useCredit(res *handshake.Result, backend transport.Backend) bool {
	v, ok := res.Peer.Get("credit")
	if !ok || v != strconv.Itoa(creditWindow) || res.SendFraming != frame.NameGo || res.RecvFraming != frame.NameGo {
		return false
	}
	want, _ := res.Peer.Get("credit-want")
	return want == "1" || backend == transport.BackendNetpoll
}

// formatOf decides how this node encodes messages on a link: CBOR when it
// sends the cbor framing; over goframe1, blob envelopes (wire.BlobMagic)
// when the peer announced it takes them, and CBOR envelopes too
// (FormatMixed) when it announced cbor as well; else JSON. Inbound blob
// and CBOR envelopes are accepted on any goframe1 link.
func formatOf(res *handshake.Result) wire.Format {
	if res.SendFraming == frame.NameCBOR {
		return wire.FormatCBOR
	}
	if v, ok := res.Peer.Get("blobs"); ok && v == wire.BlobsVersion && res.SendFraming == frame.NameGo {
		if v, ok := res.Peer.Get("cbor"); ok && v == wire.CBORVersion {
			return wire.FormatMixed
		}
		return wire.FormatBlobs
	}
	return wire.FormatJSON
}

// useExpress decides whether a link orders per port: the node asks for it
// and the link sends goframe1 (links to Perl nodes keep AEMP's FIFO).
func useExpress(res *handshake.Result, orderPerPort bool) bool {
	return orderPerPort && res.SendFraming == frame.NameGo
}

// useCompress decides whether this node compresses large messages on a
// link: it wants to (Config.Compress), sends goframe1, and the peer
// announced that it takes s2 frames.
func useCompress(res *handshake.Result, threshold int) bool {
	v, ok := res.Peer.Get("s2")
	return threshold > 0 && ok && v == "1" && res.SendFraming == frame.NameGo
}

// peerMaxFrame is the largest message to send on a link: ours, or less if
// the peer announced a smaller limit.
func peerMaxFrame(res *handshake.Result, ours int) int {
	if v, ok := res.Peer.Get("maxframe"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 && n < ours {
			return n
		}
	}
	return ours
}
