// Package frame implements the two data-phase framings a link can speak:
//
//   - goframe1, the Go-to-Go framing: u32 big-endian payload length, one
//     flags byte, then the payload. [FlagBatch] marks a payload that holds
//     several messages, each u32 length-prefixed; [FlagS2] marks a payload
//     compressed with s2 (klauspost/compress); [FlagCredit] marks a flow
//     control frame (a u32 byte grant, not a message). Any other flag bit is
//     rejected.
//     Sizes are checked before anything is allocated: the frame length against
//     the maximum, and the decoded length of a compressed payload too.
//   - json, the AEMP `json` framing (spec §3.11): back-to-back JSON texts,
//     optionally separated by whitespace. [JSONSplitter] finds where each text
//     ends without decoding it, resumably, in O(n) over any chunking.
//   - cbor, the AEMP `cbor` framing (spec §3.11): back-to-back CBOR items,
//     nothing between them. [CBORSplitter] finds where each item ends and
//     checks that it is well-formed, the same way.
//
// Everything here is pure: functions over byte slices, append-style encoders,
// zero-copy decoders. Nothing here starts goroutines or does I/O; every
// function may be called from any goroutine, and a [JSONSplitter] or a
// [CBORSplitter] belongs to one goroutine at a time.
package frame

// Names of the framings as negotiated in the AEMP handshake.
const (
	NameGo   = "goframe1"
	NameJSON = "json"
	NameCBOR = "cbor"
)
