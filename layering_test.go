package aemp

import (
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The layering of docs/architecture.md as allow-lists (in the manner of
// depguard rules): for every package of the module, exactly what its
// non-test files may import — standard library, the module's own packages
// and third-party modules. A package's tests may also import any standard
// package and the test helpers.
type importRule struct {
	std    []string // standard library packages ("*": any)
	mod    []string // packages of this module, relative to its root
	ext    []string // third-party import path prefixes
	tested []string // more of the module's packages its tests may import
}

// testHelpers are the internal packages any package's tests may use.
var testHelpers = []string{"internal/leakcheck", "internal/syncbuf", "internal/vectors", "internal/race", "internal/fakepeer", "internal/faultproxy"}

var importRules = map[string]importRule{
	// layer 0–2: buffers, framings, bytes ↔ meaning
	"pool": {std: []string{"os", "sync", "sync/atomic", "testing"}},
	// (frame imports fxamacker/cbor in its tests only: FuzzCBORSplitter's reference)
	"frame": {std: []string{"encoding/binary", "errors", "fmt"}, mod: []string{"internal/jsonlex"},
		ext: []string{"github.com/klauspost/compress/s2", "github.com/fxamacker/cbor/v2"}, tested: []string{"pool"}},
	"wire": {std: []string{"bytes", "crypto/rand", "encoding/base64", "encoding/binary", "encoding/json", "errors", "fmt", "math", "math/big", "math/bits",
		"reflect", "slices", "strconv", "strings", "sync", "unicode/utf16", "unicode/utf8", "unsafe"},
		mod: []string{"internal/jsonlex"}, ext: []string{"github.com/bytedance/sonic", "github.com/fxamacker/cbor/v2"}},
	// layer 3: authentication
	"auth": {std: []string{"crypto/hmac", "crypto/rand", "crypto/ecdsa", "crypto/elliptic", "crypto/rsa", "crypto/sha3", "crypto/subtle", "crypto/tls", "crypto/x509",
		"crypto/x509/pkix", "encoding/hex", "encoding/pem", "errors", "fmt", "hash", "math/big", "slices", "strings", "sync", "time"},
		mod: []string{"wire"}},
	// layer 4: a link's I/O, and the handshake before it
	"transport": {std: []string{"context", "crypto/tls", "errors", "fmt", "io", "net", "os", "runtime", "runtime/debug", "sync", "sync/atomic", "syscall", "time", "unsafe"},
		mod: []string{"frame", "pool"}, ext: []string{"github.com/cloudwego/netpoll"}, tested: []string{"transport/handshake", "auth", "wire"}},
	"transport/handshake": {std: []string{"bytes", "context", "crypto/tls", "errors", "fmt", "io", "net", "os", "slices", "strings", "time"},
		mod: []string{"auth", "wire"}},
	// layer 5: the global database's protocol, standard library only
	"registry": {std: []string{"errors", "fmt", "maps", "reflect", "slices", "strconv"}, tested: []string{"wire"}},
	// layer 6: links to other nodes
	"mesh": {std: []string{"bytes", "context", "encoding/binary", "errors", "fmt", "io", "log/slog", "math/rand/v2", "net", "os", "slices", "strconv", "strings", "sync", "sync/atomic", "syscall", "time"},
		mod: []string{"auth", "frame", "internal/slot", "pool", "transport", "transport/handshake", "wire"}},
	// layer 7: the API and the kernel; never the transport itself
	".": {std: []string{"bytes", "cmp", "context", "crypto/rand", "encoding/json", "errors", "fmt", "log/slog", "maps", "math", "net", "os",
		"path/filepath", "reflect", "runtime", "runtime/debug", "slices", "strconv", "strings", "sync", "sync/atomic", "time", "unsafe"},
		mod: []string{"auth", "internal/mpsc", "internal/slot", "mesh", "pool", "registry", "wire"}},
	// cross-package fuzz drivers: their tests drive any layer
	"fuzz": {std: []string{"bytes", "encoding/binary", "encoding/json", "errors", "io", "net", "sync", "time", "unicode/utf8"},
		mod: []string{"wire"}, ext: []string{"github.com/klauspost/compress/s2"},
		tested: []string{"frame", "pool", "transport", "transport/handshake", "auth"}},
	// optional publication of Stats (expvar registers /debug/vars on import)
	"expvarstats": {std: []string{"expvar", "fmt"}, mod: []string{"."}},
	// programs
	"cmd/aemp":          {std: []string{"*"}, mod: []string{".", "auth", "internal/rcfile"}},
	"examples/chat":     {std: []string{"*"}, mod: []string{"."}},
	"examples/first":    {std: []string{"*"}, mod: []string{"."}},
	"examples/ping":     {std: []string{"*"}, mod: []string{"."}, tested: []string{"auth"}},
	"examples/receiver": {std: []string{"*"}, mod: []string{"."}},
	"examples/sender":   {std: []string{"*"}, mod: []string{"."}},
	// leaves
	"internal/mpsc":       {std: []string{"sync", "sync/atomic"}},
	"internal/slot":       {},
	"internal/jsonlex":    {std: []string{"encoding/binary", "math/bits"}},
	"internal/race":       {},
	"internal/leakcheck":  {std: []string{"runtime", "sort", "strings", "time"}},
	"internal/syncbuf":    {std: []string{"bytes", "sync"}},
	"internal/faultproxy": {std: []string{"net", "sync", "time"}},
	"internal/vectors":    {std: []string{"bufio", "compress/gzip", "encoding/hex", "encoding/json", "fmt", "io", "os", "path/filepath", "runtime", "strings"}},
	"internal/benchcheck": {std: []string{"*"}},
	"internal/rcfile":     {std: []string{"bytes", "errors", "fmt", "io/fs", "os", "path/filepath", "slices", "strconv", "strings", "syscall", "unicode/utf16", "unicode/utf8"}},
	"internal/fakepeer":   {std: []string{"context", "net", "slices", "sync", "time"}, mod: []string{"pool", "transport", "transport/handshake"}},
}

const module = "github.com/aemp-go/aemp"

func TestLayering(t *testing.T) {
	fset := token.NewFileSet()
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || isModule(path)) {
				return filepath.SkipDir // bench/ and contrib/* are modules of their own
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		rule, ok := importRules[dir]
		if !ok {
			t.Errorf("%s: package %q has no import rule in layering_test.go", path, dir)
			return nil
		}
		seen[dir] = true
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		isTest := strings.HasSuffix(path, "_test.go")
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if why := rule.check(dir, p, isTest); why != "" {
				t.Errorf("%s imports %s: %s (docs/architecture.md)", path, p, why)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range importRules {
		if !seen[dir] {
			t.Errorf("import rule for %q, which has no Go files", dir)
		}
	}
}

// isModule reports whether dir holds a go.mod: a module of its own, with
// its own dependencies (bench/, contrib/prometheus/).
func isModule(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

// check returns why package dir may not import p ("" if it may).
func (r importRule) check(dir, p string, isTest bool) string {
	switch {
	case p == module || strings.HasPrefix(p, module+"/"):
		rel := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
		if rel == "" {
			rel = "."
		}
		if rel == dir || slices.Contains(r.mod, rel) ||
			isTest && (slices.Contains(r.tested, rel) || slices.Contains(testHelpers, rel)) {
			return ""
		}
		return "not in its allow-list of the module's packages"
	case isStd(p):
		if isTest || slices.Contains(r.std, "*") || slices.Contains(r.std, p) {
			return ""
		}
		return "standard package not in its allow-list"
	}
	for _, e := range r.ext {
		if p == e || strings.HasPrefix(p, e+"/") {
			return ""
		}
	}
	return "third-party package not in its allow-list"
}

// isStd reports whether p is a standard library package (its first
// element has no dot, and it is in GOROOT).
func isStd(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	if strings.Contains(first, ".") {
		return false
	}
	pkg, err := build.Default.Import(p, "", build.FindOnly)
	return err == nil && pkg.Goroot
}
