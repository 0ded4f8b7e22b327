package aemp

import (
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
	flags uint8 // msgRemote, …
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
//	inl[2].n  which arguments are blobs (wire.Blobs.Mask)
//
// A message whose first element is not a plain string (a number, null, a
// string CBOR encoding would not give back byte for byte) keeps that
// element with its type (msgTagElem): it is stored as the first argument
// would be — the first raw item of a remote message, the first value of a
// local one — and m.tag is only its text, for matching handlers.
const (
	msgRemote   uint8 = 1 << iota
	msgBlobs          // the arguments came in a blob envelope
	msgCBOR           // the arguments are raw CBOR items (a cbor link)
	msgTagElem        // element 0 is stored with the arguments (see above)
	msgBorrowed       // a local message holding elements of a received one (AppendElem)
)

// slotv is an inline value without its kind.
type slotv struct {
	n uint64
	s string
	x any
}

func (m *Msg) isRemote() bool { return m.flags&msgRemote != 0 }

// isCBOR reports whether a remote message's arguments are CBOR items.
func (m *Msg) isCBOR() bool { return m.flags&msgCBOR != 0 }

// tagElem reports whether element 0 is stored with the arguments.
func (m *Msg) tagElem() bool { return m.flags&msgTagElem != 0 }

// slot returns where element i is stored among the arguments (raw items of
// a remote message, values of a local one); -1 for a tag kept in m.tag.
func (m *Msg) slot(i int) int {
	if m.tagElem() {
		return i
	}
	return i - 1
}

// shift is 1 when element 0 is stored with the arguments.
func (m *Msg) shift() int {
	if m.tagElem() {
		return 1
	}
	return 0
}

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
	if m.flags&msgBlobs == 0 || i < 0 || i < 63 && m.inl[2].n&(1<<i) == 0 {
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
		if k := m.kindOf(i); k == kBytes || k == kRawJSON || k == kRawCBOR {
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
		m.inl[2].n = bs.Mask()
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
