package rcfile

import (
	"bytes"
	"testing"
)

// FuzzParse: whatever parses is written in a form that parses to the same
// text again, in both layouts, and ParseArg never panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		perlFile,
		`{}`, `{"a":[1,2,],}`, "# c\n{\"a\":\"x\ty\"}", `{"a":"\ud83d\ude00\u0001"}`,
		`{"n":[-0,1.5e300,123456789012345678901234,1E-7]}`, `{"a":1,"a":2}`,
		`{"a":{"b":{"c":[[],{},null,true,false]}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseArg(string(data))
		v, err := Parse(data)
		if err != nil {
			return
		}
		file := AppendFile(nil, v)
		w, err := Parse(file)
		if err != nil {
			t.Fatalf("file layout does not parse: %v\n%s", err, file)
		}
		if again := AppendFile(nil, w); !bytes.Equal(again, file) {
			t.Fatalf("file layout not stable:\n%s\n%s", file, again)
		}
		disp := AppendDisplay(nil, v)
		d, err := Parse(disp)
		if err != nil {
			t.Fatalf("display layout does not parse: %v\n%s", err, disp)
		}
		if again := AppendDisplay(nil, d); !bytes.Equal(again, disp) {
			t.Fatalf("display layout not stable:\n%s\n%s", disp, again)
		}
	})
}
