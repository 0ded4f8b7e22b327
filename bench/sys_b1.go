package main

import (
	"fmt"
	"unsafe"

	"github.com/bytedance/sonic"
)

// B1 is B0's transport with a real serialiser: each message is the JSON
// array ["tag", sender, seq, "body"] encoded and decoded with sonic, the
// library aemp uses for values outside its fast path.
func init() {
	register(&System{
		Order:  1,
		Key:    "b1",
		Name:   "B1 TCP+sonic",
		Group:  "baseline",
		Note:   `B0's transport; payload is the JSON array ["tag",sender,seq,"body"] via sonic.ConfigDefault (Marshal of []any, Unmarshal into []any)`,
		Remote: remoteFunc(func(_ PairConfig, atA, atB Handler) (*Pair, error) { return tcpPair(sonicCodec{}, atA, atB) }),
	})
}

// sonicCodec encodes a Msg as a JSON array with sonic.
type sonicCodec struct{}

func (sonicCodec) appendMsg(b []byte, m Msg) ([]byte, error) {
	// The body is printable ASCII, so carrying it as a JSON string needs no
	// escaping; unsafe.String avoids a copy a user holding a string would not make.
	enc, err := sonic.Marshal([]any{m.Kind.Tag(), m.Sender, m.Seq, unsafe.String(unsafe.SliceData(m.Body), len(m.Body))})
	if err != nil {
		return b, err
	}
	return append(b, enc...), nil
}

func (sonicCodec) decode(p []byte) (Msg, error) {
	var v []any
	if err := sonic.Unmarshal(p, &v); err != nil {
		return Msg{}, err
	}
	if len(v) != 4 {
		return Msg{}, fmt.Errorf("message has %d elements, want 4", len(v))
	}
	tag, _ := v[0].(string)
	kind, ok := KindOfTag(tag)
	sender, ok1 := v[1].(float64)
	seq, ok2 := v[2].(float64)
	body, ok3 := v[3].(string)
	if !ok || !ok1 || !ok2 || !ok3 {
		return Msg{}, fmt.Errorf("message %.40q has the wrong shape", p)
	}
	return Msg{Kind: kind, Sender: uint32(sender), Seq: uint64(seq), Body: unsafe.Slice(unsafe.StringData(body), len(body))}, nil
}
