package fuzz

import (
	"bytes"
	"testing"

	"github.com/aemp-go/aemp/frame"
)

// linkSeed is one seed of FuzzLinkReader: a mode byte and a stream.
type linkSeed struct {
	mode   uint8
	stream []byte
}

// Mode bytes of the seeds (see linkModeOf).
const (
	modeGo       uint8 = 0
	modeJSON     uint8 = 1
	modeGoCredit uint8 = 2
	modeRetain   uint8 = 4
	modeSmall    uint8 = 1 << 3 // MaxFrame 64
)

// linkSeeds frames the recorded messages of every session every way the
// link reads them — goframe1 single frames, batches, s2-compressed singles
// and batches, with credit frames between them for the credit mode, and the
// json framing with and without whitespace — plus a few malformed streams.
func linkSeeds(f *testing.F) []linkSeed {
	f.Helper()
	msgs := recordedMessages(f)
	var out []linkSeed
	for start := 0; start < len(msgs); start += 16 {
		group := msgs[start:min(start+16, len(msgs))]
		var single, batched, jsonNL, jsonTight []byte
		var batch []byte
		for i, m := range group {
			single = frame.AppendFrame(single, 0, []byte(m))
			batch = frame.AppendBatchItem(batch, []byte(m))
			if i%5 == 4 || i == len(group)-1 {
				batched = frame.AppendFrame(batched, frame.FlagBatch, batch)
				batched = frame.AppendFrame(batched, frame.FlagS2|frame.FlagBatch, frame.Compress(nil, batch))
				batch = batch[:0]
			}
			jsonNL = append(append(jsonNL, m...), '\n')
			jsonTight = append(jsonTight, m...)
		}
		compressed := frame.AppendFrame(nil, frame.FlagS2, frame.Compress(nil, []byte(group[0])))
		withCredit := frame.AppendCredit(bytes.Clone(compressed), 1000)
		withCredit = append(withCredit, single...)
		withCredit = frame.AppendCredit(withCredit, 1<<31)
		out = append(out,
			linkSeed{modeGo, single}, linkSeed{modeGo | modeRetain, batched}, linkSeed{modeGo, compressed},
			linkSeed{modeGoCredit, withCredit}, linkSeed{modeGoCredit | modeRetain, append(batched, single...)},
			linkSeed{modeJSON, jsonNL}, linkSeed{modeJSON | modeRetain, jsonTight}, linkSeed{modeJSON | modeSmall, jsonNL},
		)
	}
	bad := [][]byte{
		frame.AppendFrame(nil, 0x80, []byte("[1]")),
		frame.AppendFrame(frame.AppendFrame(nil, 0, []byte(`["ok"]`)), frame.FlagBatch, append(frame.AppendBatchItem(nil, []byte(`["x"]`)), 0, 0, 0, 9, 1)),
		frame.AppendFrame(nil, frame.FlagS2, []byte{10, 1, 2, 3}),
		frame.AppendFrame(nil, frame.FlagCredit|frame.FlagBatch, []byte{0, 0, 0, 1}),
		frame.AppendFrame(nil, frame.FlagCredit, []byte{0, 0, 1}),
		{0, 0, 0},
		{0, 0x10, 0, 0, 0},
	}
	for _, b := range bad {
		out = append(out, linkSeed{modeGo, b}, linkSeed{modeGoCredit, b})
	}
	for _, s := range []string{"[\"ok\"][\"b\",\"t\",\"\xff\"]", `["ok"],["x"]`, `["a"`, "[\"\xe6\x97", `["` + string(bytes.Repeat([]byte("x"), 100)) + `"]`} {
		out = append(out, linkSeed{modeJSON, []byte(s)}, linkSeed{modeJSON | modeSmall, []byte(s)})
	}
	return out
}
