// Package vectors loads the recordings of real AnyEvent::MP 2.02 nodes kept in
// testdata/ (a copy of the project's shared aemp-vectors): readable session
// transcripts, raw relay captures and the authentication vectors. It is used
// only by tests.
package vectors

import (
	"bufio"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Dir is the directory holding the vector files.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata")
}

// Path returns the path of one vector file. Large files are kept
// gzip-compressed (name + ".gz"); Path names that file when it is the one
// present, and every loader here reads either form.
func Path(name string) string {
	p := filepath.Join(Dir(), name)
	if _, err := os.Stat(p); err != nil {
		if _, gzErr := os.Stat(p + ".gz"); gzErr == nil {
			return p + ".gz"
		}
	}
	return p
}

// Sessions lists the readable transcripts (session-*.txt, or .txt.gz).
func Sessions() []string {
	m, _ := filepath.Glob(filepath.Join(Dir(), "session-*.txt"))
	gz, _ := filepath.Glob(filepath.Join(Dir(), "session-*.txt.gz"))
	return append(m, gz...)
}

// RawOf returns the name of the raw capture of a transcript (for Stream).
func RawOf(transcript string) string {
	base := strings.TrimSuffix(filepath.Base(transcript), ".gz")
	return strings.TrimSuffix(base, ".txt") + ".raw.jsonl"
}

// open opens a vector file, decompressing a .gz file.
func open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return f, err
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{z, f}, nil
}

// readFile is os.ReadFile for vector files (see open).
func readFile(path string) ([]byte, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// maxLine is the longest line of a vector file: the transcript of the
// 2 MiB message of session-big-deep has a 6 MiB hex line.
const maxLine = 16 << 20

// LoadAll loads every connection of every session transcript, keyed by the
// transcript's path. It fails if there is none.
func LoadAll() (map[string][]*Connection, error) {
	out := make(map[string][]*Connection)
	for _, p := range Sessions() {
		conns, err := LoadSession(p)
		if err != nil {
			return nil, err
		}
		out[p] = conns
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("vectors: no session transcripts in %s", Dir())
	}
	return out, nil
}

// Record is one protocol unit of a transcript.
type Record struct {
	Dir     string // "C>S" or "S>C"
	Kind    string // "greeting1", "greeting2", "auth" or "msg"
	Line    string // handshake line without LF (Kind != "msg")
	Framing string // "json" or "cbor" (Kind == "msg")
	Wire    []byte // exact wire bytes of a message (hex for cbor, text for json)
	JSON    string // the message as JSON (decoded view for cbor, the text itself for json)
}

// Connection is one TCP connection of a transcript.
type Connection struct {
	C, S    string // node IDs of the connecting and the listening node
	Records []Record
}

// Line returns the handshake line of the given kind sent in direction dir.
func (c *Connection) Line(dir, kind string) string {
	for _, r := range c.Records {
		if r.Dir == dir && r.Kind == kind {
			return r.Line
		}
	}
	return ""
}

// Messages returns the data-phase messages sent in direction dir.
func (c *Connection) Messages(dir string) []Record {
	var out []Record
	for _, r := range c.Records {
		if r.Dir == dir && r.Kind == "msg" {
			out = append(out, r)
		}
	}
	return out
}

// Secret returns the shared secret named in a transcript's header.
func Secret(path string) (string, error) {
	data, err := readFile(path)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if s, ok := strings.CutPrefix(l, "# shared secret: "); ok {
			return strings.TrimSpace(s), nil
		}
	}
	return "", fmt.Errorf("%s: no shared secret line", path)
}

// LoadSession parses a readable transcript.
func LoadSession(path string) ([]*Connection, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var conns []*Connection
	var cur *Connection
	var msg *Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), maxLine)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "connection "):
			cur = &Connection{}
			conns = append(conns, cur)
			msg = nil
		case cur == nil:
		case strings.HasPrefix(l, "C (connecting node) = "):
			cur.C = strings.TrimPrefix(l, "C (connecting node) = ")
		case strings.HasPrefix(l, "S (listening node)  = "):
			cur.S = strings.TrimPrefix(l, "S (listening node)  = ")
		case strings.HasPrefix(l, "[+"):
			msg = nil
			_, rest, ok := strings.Cut(l, "] ")
			if !ok {
				continue
			}
			f := strings.Fields(rest)
			if len(f) < 2 || (f[0] != "C>S" && f[0] != "S>C") {
				continue
			}
			r := Record{Dir: f[0], Kind: f[1]}
			switch r.Kind {
			case "greeting1", "greeting2", "auth":
				// the line follows the kind after spaces; keep it exact
				i := strings.Index(rest, r.Kind) + len(r.Kind)
				r.Line = strings.TrimLeft(rest[i:], " ")
			case "msg":
				if len(f) >= 4 {
					r.Framing = strings.TrimPrefix(f[3], "(")
					r.Framing = strings.TrimSuffix(r.Framing, ",")
				}
			default:
				continue
			}
			cur.Records = append(cur.Records, r)
			if r.Kind == "msg" {
				msg = &cur.Records[len(cur.Records)-1]
			}
		case msg != nil && strings.HasPrefix(l, "      hex:  "):
			b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimPrefix(l, "      hex:  "), " ", ""))
			if err != nil {
				return nil, fmt.Errorf("%s: bad hex: %w", path, err)
			}
			msg.Wire = b
		case msg != nil && strings.HasPrefix(l, "      json: "):
			msg.JSON = strings.TrimPrefix(l, "      json: ")
		case msg != nil && strings.HasPrefix(l, "      text: "):
			msg.JSON = strings.TrimPrefix(l, "      text: ")
			msg.Wire = []byte(msg.JSON)
		}
	}
	return conns, sc.Err()
}

// AuthVector is one entry of auth-vectors.json (see its README).
type AuthVector struct {
	Name                 string `json:"name"`
	Secret               string `json:"secret"`
	SecretHex            string `json:"secret_hex"`
	LGreeting1           string `json:"lgreeting1"`
	LGreeting2           string `json:"lgreeting2"`
	RGreeting1           string `json:"rgreeting1"`
	RGreeting2           string `json:"rgreeting2"`
	Framing              string `json:"framing"`
	LocalHMACInput       string `json:"local_hmac_input"`
	RemoteHMACInput      string `json:"remote_hmac_input"`
	HMACSent             string `json:"hmac_sha3_512_sent"`
	HMACExpected         string `json:"hmac_sha3_512_expected"`
	AuthLineSentHMAC     string `json:"auth_line_sent_hmac"`
	TLSSent              string `json:"tls_sha3_512_sent"`
	TLSExpected          string `json:"tls_sha3_512_expected"`
	AuthLineSentTLS      string `json:"auth_line_sent_tls"`
	CleartextAccepted    string `json:"cleartext_accepted"`
	AuthLineCleartext    string `json:"auth_line_cleartext"`
	CapturedFromLocal    string `json:"captured_auth_line_from_local"`
	CapturedFromRemote   string `json:"captured_auth_line_from_remote"`
	CapturedLocalMatches *bool  `json:"captured_local_token_matches"`
}

// LoadAuthVectors parses auth-vectors.json.
func LoadAuthVectors() ([]AuthVector, error) {
	data, err := readFile(Path("auth-vectors.json"))
	if err != nil {
		return nil, err
	}
	var f struct {
		Vectors []AuthVector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	return f.Vectors, nil
}

// RawEvent is one line of a *.raw.jsonl relay capture.
type RawEvent struct {
	T     float64 `json:"t"`
	Conn  int     `json:"conn"`
	Ev    string  `json:"ev"`
	Dir   string  `json:"dir"`
	Hex   string  `json:"hex"`
	Error string  `json:"error"`
}

// Stream returns the concatenated bytes one connection carried in one
// direction ("c2s" or "s2c") of a raw capture, and the chunks as read.
func Stream(name string, conn int, dir string) (all []byte, chunks [][]byte, err error) {
	f, err := open(Path(name))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), maxLine)
	for sc.Scan() {
		var e RawEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, nil, err
		}
		if e.Conn != conn || e.Ev != "data" || e.Dir != dir {
			continue
		}
		b, err := hex.DecodeString(e.Hex)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, b...)
		chunks = append(chunks, b)
	}
	return all, chunks, sc.Err()
}
