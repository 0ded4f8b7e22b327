package aemp

import (
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/wire"
)

// inlineArgs is how many arguments a message stores without a separate
// allocation.
const inlineArgs = 3

// Msg is one message: an ordered list of values whose first element is the
// tag. Element 0 is the tag, elements 1…Len()-1 are the arguments, so
// m.Int(1) is the first argument.
//
// A Msg that a handler receives is valid only while the handler runs: for a
// message from another node its arguments are decoded lazily from the
// network buffer, which is reused after the handler returns. Call
// [Msg.Clone] to keep a message (or anything taken from it with
// [Msg.Raw]) for later. Values returned by the typed accessors (strings
// included) are always safe to keep.
//
// Local messages carry Go values as given, with no serialisation; the
// accessors convert them by the same rules as remote messages, so a handler
// does not need to know where a message came from. A Msg is also the way to
// build a message without boxing its arguments into interfaces: see
// [NewMsg] and the Append methods.
type Msg struct {
	tag   string
	n     int32 // number of arguments after the tag
	ctl   uint8 // mailbox entry kind (port.go)
	flags uint8 // msgRemote
	kinds [inlineArgs]kind
	inl   [inlineArgs]slotv
	more  []value
	port  *Port // the receiving port while a handler runs
}

// A mailbox slot holds a whole Msg, and every byte of it crosses from the
// sending core to the handling core, so the layout is kept compact: the
// kinds of the inline values live in the header, and a remote message keeps
// its network fields in the inline slots it does not otherwise use:
//
//	inl[0].s  the JSON text of the arguments after the tag (aliasing the
//	          pooled buffer)
//	inl[0].x  the *pool.Buf holding it (nil once cloned)
//	inl[1].x  the *remoteNode it came from
//	inl[2].s  the blob section of a blob envelope (msgBlobs), aliasing the
//	          same buffer: its byte-string arguments as raw bytes
const (
	msgRemote uint8 = 1 << iota
	msgBlobs
)

// slotv is an inline value without its kind.
type slotv struct {
	n uint64
	s string
	x any
}

func (m *Msg) isRemote() bool { return m.flags&msgRemote != 0 }

// raw returns the argument text of a remote message (nil for local ones).
func (m *Msg) raw() []byte {
	if !m.isRemote() {
		return nil
	}
	s := m.inl[0].s
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

func (m *Msg) buf() *pool.Buf {
	if !m.isRemote() {
		return nil
	}
	b, _ := m.inl[0].x.(*pool.Buf)
	return b
}

// blobs returns the blob section of a remote message that came as a blob
// envelope (nil otherwise).
func (m *Msg) blobs() wire.Blobs {
	if m.flags&msgBlobs == 0 {
		return nil
	}
	s := m.inl[2].s
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// blob returns argument i (0-based) of a remote message when it travelled
// as a blob, aliasing the network buffer; false for a message without
// blobs and for i < 0 (the tag), so callers pass element-1 unchecked.
func (m *Msg) blob(i int) ([]byte, bool) {
	if m.flags&msgBlobs == 0 || i < 0 {
		return nil, false
	}
	return m.blobs().Get(i)
}

// blobValue is a blob as the local []byte value it was sent as, aliasing
// b: only for conversions that copy (not toBytes, iface or decodeLocal).
func blobValue(b []byte) value {
	return value{k: kBytes, s: unsafe.String(unsafe.SliceData(b), len(b))}
}

// bytesArg is the bytes of argument i (0-based) of a local message whose
// kind is kBytes, read in place.
func (m *Msg) bytesArg(i int) string {
	if i < inlineArgs {
		return m.inl[i].s
	}
	return m.more[i-inlineArgs].s
}

// kindOf is the kind of argument i (0-based) of a local message.
func (m *Msg) kindOf(i int) kind {
	if i < inlineArgs {
		return m.kinds[i]
	}
	return m.more[i-inlineArgs].k
}

// bytesHint is how many bytes of byte-string arguments a local message
// carries when that is worth reserving room for before encoding (0 for
// small messages).
func (m *Msg) bytesHint() int {
	if m.isRemote() {
		if n := len(m.inl[0].s) + len(m.inl[2].s); n >= bigMessage {
			return n
		}
		return 0
	}
	n := 0
	for i := 0; i < int(m.n); i++ {
		if m.kindOf(i) == kBytes {
			n += len(m.bytesArg(i))
		}
	}
	if n < bigMessage {
		return 0
	}
	return n + 512 // and the envelope around them
}

// bigMessage: messages with at least this many bytes of byte strings get
// room reserved in the outbound batch before they are encoded.
const bigMessage = 16 << 10

func (m *Msg) src() *remoteNode {
	if !m.isRemote() {
		return nil
	}
	rn, _ := m.inl[1].x.(*remoteNode)
	return rn
}

// setRemote makes m a received message whose arguments are the JSON text
// args inside buf (which the message now holds a reference to), with the
// blob section bs of a blob envelope (nil for a JSON envelope).
func (m *Msg) setRemote(args []byte, bs wire.Blobs, buf *pool.Buf, src *remoteNode) {
	m.flags |= msgRemote
	m.inl[0].s = unsafe.String(unsafe.SliceData(args), len(args))
	if bs != nil {
		m.flags |= msgBlobs
		m.inl[2].s = unsafe.String(unsafe.SliceData(bs), len(bs))
	}
	if buf != nil {
		m.inl[0].x = buf
	}
	if src != nil {
		m.inl[1].x = src
	}
}

// NewMsg builds a message from a tag and arguments. Scalars (all integer
// kinds, floats, bools, strings) are stored unboxed. Add arguments with the
// Append methods and send it with [Node.SndMsg], which copies it: the same
// *Msg may be reused afterwards. A message that does not escape (the usual
// NewMsg(…).Append…(…) passed straight to SndMsg) lives on the stack.
func NewMsg(tag string, args ...any) *Msg {
	m := &Msg{tag: tag}
	m.setArgs(args)
	return m
}

func (m *Msg) setArgs(args []any) {
	m.n = int32(len(args))
	if len(args) > inlineArgs {
		m.more = make([]value, len(args)-inlineArgs)
	}
	for i, a := range args {
		m.set(i, valueOf(a))
	}
}

func (m *Msg) set(i int, v value) {
	if i < inlineArgs {
		m.kinds[i] = v.k
		sv := &m.inl[i]
		sv.n, sv.s, sv.x = v.n, v.s, v.x
	} else {
		m.more[i-inlineArgs] = v
	}
}

// arg returns argument i (0-based, after the tag) of a local message.
func (m *Msg) arg(i int) value {
	if i < inlineArgs {
		v := &m.inl[i]
		return value{k: m.kinds[i], n: v.n, s: v.s, x: v.x}
	}
	return m.more[i-inlineArgs]
}

func (m *Msg) appendValue(v value) {
	if m.isRemote() {
		panic("aemp: Append on a received remote message; build a new one with NewMsg")
	}
	if m.n < inlineArgs {
		m.kinds[m.n] = v.k
		// field by field: a composite store goes through a temporary whose
		// 16-byte reload stalls on store forwarding (measured: ~10 ns each)
		sv := &m.inl[m.n]
		sv.n, sv.s, sv.x = v.n, v.s, v.x
	} else {
		m.more = append(m.more, v)
	}
	m.n++
}

// AppendInt appends an integer argument and returns m (no allocation while
// the message has at most three arguments).
func (m *Msg) AppendInt(v int64) *Msg { m.appendValue(value{k: kInt, n: uint64(v)}); return m }

// AppendUint returns m with an unsigned integer argument appended.
func (m *Msg) AppendUint(v uint64) *Msg { m.appendValue(value{k: kUint, n: v}); return m }

// AppendFloat returns m with a float argument appended.
func (m *Msg) AppendFloat(v float64) *Msg { m.appendValue(valueOf(v)); return m }

// AppendString returns m with a string argument appended.
func (m *Msg) AppendString(v string) *Msg { m.appendValue(value{k: kString, s: v}); return m }

// AppendBytes returns m with a byte-slice argument appended, without
// boxing it. The slice is not copied: it must not be modified after the
// message is sent. Over the network it travels as AEMP's byte string (code
// points U+0000…U+00FF).
func (m *Msg) AppendBytes(v []byte) *Msg {
	m.appendValue(value{k: kBytes, s: unsafe.String(unsafe.SliceData(v), len(v))})
	return m
}

// AppendBool returns m with a boolean argument appended.
func (m *Msg) AppendBool(v bool) *Msg { m.appendValue(valueOf(v)); return m }

// Append returns m with an argument of any type appended.
func (m *Msg) Append(v any) *Msg { m.appendValue(valueOf(v)); return m }

// Tag returns the message's first element as a string. A message from
// another node whose first element is not a string has its text form as tag
// (the number 1 matches tag "1", as in Perl).
func (m *Msg) Tag() string { return m.tag }

// Len is the number of elements including the tag. For a malformed
// message from another node it counts the elements up to the first bad one
// (Values and the accessors report the error).
func (m *Msg) Len() int {
	if m.isRemote() {
		n, _ := m.argCount()
		return n + 1
	}
	return int(m.n) + 1
}

// Port returns the port whose handler is running with this message (the
// "port context", $SELF in Perl); nil outside a handler.
func (m *Msg) Port() *Port { return m.port }

// From returns the ID of the node the message came from (this node for local
// messages).
func (m *Msg) From() string {
	if rn := m.src(); rn != nil {
		return rn.id
	}
	if m.port != nil {
		return m.port.node.id
	}
	return ""
}

func (m *Msg) local(i int) (value, error) {
	if i == 0 {
		return value{k: kString, s: m.tag}, nil
	}
	if i < 0 || i > int(m.n) {
		return value{}, fmt.Errorf("%w: element %d of a message with %d", ErrIndex, i, m.n+1)
	}
	return m.arg(i - 1), nil
}

func (m *Msg) wrap(i int, err error) error {
	return fmt.Errorf("aemp: message %q element %d: %w", truncate(m.tag, 30), i, err)
}

// Int returns element i as an int64. Integers, integral floats and numeric
// strings convert; anything else, or an integer out of range, is an error
// wrapping [ErrType].
func (m *Msg) Int(i int) (int64, error) {
	if j := i - 1; j >= 0 && j < inlineArgs && j < int(m.n) && m.flags == 0 {
		// the common cases, without building a value
		if k, n := m.kinds[j], m.inl[j].n; k == kInt || k == kUint && n <= math.MaxInt64 {
			return int64(n), nil
		}
	}
	return element(m, i, wire.DecodeInt, value.toInt)
}

// Float returns element i as a float64 (numbers and numeric strings).
func (m *Msg) Float(i int) (float64, error) {
	return element(m, i, wire.DecodeFloat, value.toFloat)
}

// String returns element i as a string (numbers give their decimal text).
// The result is always a copy that stays valid after the handler returns.
func (m *Msg) String(i int) (string, error) {
	if j := i - 1; j >= 0 && j < inlineArgs && j < int(m.n) && m.kinds[j] == kString && m.flags == 0 {
		return m.inl[j].s, nil
	}
	return element(m, i, wire.DecodeString, value.toString)
}

// Bool returns element i with Perl's truthiness: false, null, 0, "" and "0"
// are false, other numbers and strings true.
func (m *Msg) Bool(i int) (bool, error) {
	return element(m, i, wire.DecodeBool, value.toBool)
}

// Bytes returns element i as bytes. Over the AEMP JSON framing bytes travel
// as a string of code points U+0000…U+00FF (as Perl byte strings do).
// Between Go nodes a []byte sent with [Msg.AppendBytes] (or given to Snd)
// travels as raw bytes and converts exactly as the local []byte would:
// String returns its bytes unchanged, Value a []byte. For a message from
// another node the result is a copy that stays valid after the handler
// returns; a local []byte is returned as is (not copied). See
// [Msg.BytesView] for reading large bytes without a copy.
func (m *Msg) Bytes(i int) ([]byte, error) {
	if j := i - 1; j >= 0 && j < inlineArgs && j < int(m.n) && m.flags == 0 && m.kinds[j] == kBytes {
		return bytesOf(m.inl[j].s), nil
	}
	if b, ok := m.blob(i - 1); ok {
		return append([]byte{}, b...), nil
	}
	return element(m, i, wire.DecodeBytes, value.toBytes)
}

// BytesView is Bytes without the copy where the bytes can be read in
// place: for a []byte another Go node sent with [Msg.AppendBytes] it
// returns the bytes inside the network buffer, which is valid only while
// the handler runs (like [Msg.Raw]; [Msg.Clone] the message to keep it).
// In every other case it returns what Bytes does.
func (m *Msg) BytesView(i int) ([]byte, error) {
	if b, ok := m.blob(i - 1); ok {
		return b, nil
	}
	return m.Bytes(i)
}

// Value returns element i as a generic Go value: nil, bool, int64, uint64
// (above MaxInt64), float64, string, []any, map[string]any (remote
// messages), or the Go value that was sent (local messages; scalars
// normalised to int64, uint64, float64). A []byte another Go node sent
// with [Msg.AppendBytes] is a []byte (a copy).
func (m *Msg) Value(i int) (any, error) {
	if b, ok := m.blob(i - 1); ok {
		return append([]byte{}, b...), nil
	}
	if m.isRemote() && i > 0 {
		v, err := remoteArg(m, i-1, wire.DecodeAny)
		if err != nil {
			return nil, m.wrap(i, err)
		}
		return v, nil
	}
	v, err := m.local(i)
	if err != nil {
		return nil, m.wrap(i, err)
	}
	return v.iface(), nil
}

// Decode stores element i into the value pointed to by dst, which may be of
// any type encoding/json could decode into. For a local element of the
// same type as *dst it is a plain assignment; otherwise the element is
// converted through its JSON form, exactly as if it had come from another
// node.
func (m *Msg) Decode(i int, dst any) error {
	if b, ok := m.blob(i - 1); ok { // as the local []byte it was sent as, copied
		c := append([]byte{}, b...)
		if err := decodeLocal(value{k: kBytes, s: unsafe.String(unsafe.SliceData(c), len(c))}, dst); err != nil {
			return m.wrap(i, err)
		}
		return nil
	}
	if m.isRemote() && i > 0 {
		raw, err := m.argRaw(i - 1)
		if err == nil {
			if err = wire.Decode(raw, dst); err != nil {
				err = fmt.Errorf("%w: %w", ErrType, err)
			}
		}
		if err != nil {
			return m.wrap(i, err)
		}
		return nil
	}
	v, err := m.local(i)
	if err == nil {
		err = decodeLocal(v, dst)
	}
	if err != nil {
		return m.wrap(i, err)
	}
	return nil
}

// Scan decodes the arguments (elements 1, 2, …) into dst in order, like
// database/sql's Row.Scan: m.Scan(&a, &b) is m.Decode(1, &a) then
// m.Decode(2, &b). Fewer elements than destinations is an error.
func (m *Msg) Scan(dst ...any) error {
	for k, d := range dst {
		if err := m.Decode(k+1, d); err != nil {
			return err
		}
	}
	return nil
}

// Values returns all elements, tag first, as generic Go values (see
// [Msg.Value]).
func (m *Msg) Values() ([]any, error) {
	n := int(m.n) + 1
	if m.isRemote() {
		c, err := m.argCount()
		if err != nil {
			return nil, m.wrap(1, fmt.Errorf("%w: %w", ErrType, err))
		}
		n = c + 1
	}
	out := make([]any, n)
	out[0] = m.tag
	for i := 1; i < n; i++ {
		v, err := m.Value(i)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Raw returns element i of a remote message as raw JSON text, without
// decoding. It aliases the network buffer: valid only during the handler
// unless the message was cloned. For local messages it encodes the value.
func (m *Msg) Raw(i int) ([]byte, error) {
	if m.isRemote() && i > 0 {
		return m.argRaw(i - 1)
	}
	v, err := m.local(i)
	if err != nil {
		return nil, m.wrap(i, err)
	}
	return encodeLocal(nil, v)
}

// Clone returns a copy of the message that stays valid after the handler
// returns (remote arguments are copied out of the network buffer).
func (m *Msg) Clone() *Msg {
	c := *m
	c.port = nil
	if m.more != nil {
		c.more = append([]value(nil), m.more...)
	}
	if m.isRemote() {
		c.inl[0].s = strings.Clone(m.inl[0].s)
		c.inl[0].x = nil
		c.inl[2].s = strings.Clone(m.inl[2].s)
	}
	return &c
}

// element converts element i: a remote argument with its wire decoder, a
// local value (or the tag) with its conversion; errors name the element.
func element[T any](m *Msg, i int, remote func([]byte) (T, error), local func(value) (T, error)) (T, error) {
	var v T
	var err error
	if b, ok := m.blob(i - 1); ok {
		v, err = local(blobValue(b)) // a []byte from a Go node converts as a local one
	} else if m.isRemote() && i > 0 {
		v, err = remoteArg(m, i-1, remote)
	} else {
		var x value
		if x, err = m.local(i); err == nil {
			v, err = local(x)
		}
	}
	if err != nil {
		var zero T
		return zero, m.wrap(i, err)
	}
	return v, nil
}

// remoteArg decodes argument i of a remote message with dec.
func remoteArg[T any](m *Msg, i int, dec func([]byte) (T, error)) (T, error) {
	raw, err := m.argRaw(i)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := dec(raw)
	if err != nil {
		return v, fmt.Errorf("%w: %w", ErrType, err)
	}
	return v, nil
}

// release gives back the network buffer of a remote message. The argument
// text is cleared with it, so a message can never read a recycled buffer.
func (m *Msg) release() {
	if !m.isRemote() {
		return
	}
	if b := m.buf(); b != nil {
		m.inl[0].x = nil
		m.inl[0].s = ""
		m.inl[2].s = ""
		m.flags &^= msgBlobs
		b.Release()
	}
}

// GoString renders the message for debugging, e.g. ["tag",1,"x"].
func (m *Msg) GoString() string {
	vals, err := m.Values()
	if err != nil {
		return fmt.Sprintf("[%q <undecodable: %v>]", m.tag, err)
	}
	var sb strings.Builder
	sb.WriteByte('[')
	for i, v := range vals {
		if i > 0 {
			sb.WriteByte(',')
		}
		b, err := encodeLocal(nil, valueOf(v))
		if err != nil {
			fmt.Fprintf(&sb, "%v", v)
		} else {
			sb.Write(b)
		}
	}
	sb.WriteByte(']')
	return sb.String()
}
