package main

import (
	"encoding/binary"
	"errors"
)

// B0 is the physical limit of a TCP pair: length-prefixed frames whose
// payload is a fixed 13-byte binary header (kind, sender, seq) and the body,
// written as-is. No serialisation beyond storing three integers.
func init() {
	register(&System{
		Order:  0,
		Key:    "b0",
		Name:   "B0 raw TCP",
		Group:  "baseline",
		Note:   "raw TCP, u32 length-prefixed frames with a fixed binary header (the physical limit); batched writev writer, 256 KiB buffered reader",
		Remote: remoteFunc(func(_ PairConfig, atA, atB Handler) (*Pair, error) { return tcpPair(binaryCodec{}, atA, atB) }),
	})
}

// remoteFunc adapts a function to RemoteSystem.
type remoteFunc func(cfg PairConfig, atA, atB Handler) (*Pair, error)

func (f remoteFunc) OpenRemote(cfg PairConfig, atA, atB Handler) (*Pair, error) {
	return f(cfg, atA, atB)
}

// binaryCodec is the fixed layout kind u8 | sender u32 | seq u64 | body.
// NATS and protoactor carry the same bytes as their payload.
type binaryCodec struct{}

const binaryHeader = 13

func (binaryCodec) appendHeader(b []byte, m Msg) []byte {
	b = append(b, byte(m.Kind))
	b = binary.BigEndian.AppendUint32(b, m.Sender)
	return binary.BigEndian.AppendUint64(b, m.Seq)
}

func (c binaryCodec) appendMsg(b []byte, m Msg) ([]byte, error) {
	return append(c.appendHeader(b, m), m.Body...), nil
}

var errShortFrame = errors.New("frame shorter than its header")

func (binaryCodec) decode(p []byte) (Msg, error) {
	if len(p) < binaryHeader {
		return Msg{}, errShortFrame
	}
	return Msg{
		Kind:   Kind(p[0]),
		Sender: binary.BigEndian.Uint32(p[1:]),
		Seq:    binary.BigEndian.Uint64(p[5:]),
		Body:   p[binaryHeader:],
	}, nil
}
