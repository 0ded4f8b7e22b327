package aemp

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// layers is the import order of docs/architecture.md: a package may import
// only packages of lower layers (and the leaf helpers under internal/).
var layers = map[string]int{
	"pool":      0,
	"frame":     1,
	"wire":      2,
	"auth":      3,
	"transport": 4,
	"registry":  5,
	"mesh":      6,
	"":          7, // the root package aemp
	"cmd":       8,
	"examples":  8,
	"fuzz":      8,
}

const module = "github.com/aemp-go/aemp"

// layerOf maps a directory (relative to the module root) to its layer;
// internal leaf packages get -1 (they may import nothing of the project but
// other internal leaves).
func layerOf(dir string) (int, bool) {
	if dir == "." {
		return layers[""], true
	}
	top, _, _ := strings.Cut(dir, "/")
	if top == "internal" {
		return -1, true
	}
	if top == "bench" { // separate module
		return 0, false
	}
	l, ok := layers[top]
	return l, ok
}

func TestLayering(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bench") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		from, ok := layerOf(dir)
		if !ok {
			t.Errorf("%s: directory %q is not in the layer table of layering_test.go", path, dir)
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p != module && !strings.HasPrefix(p, module+"/") {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
			if rel == "" {
				rel = "."
			}
			to, ok := layerOf(rel)
			if !ok {
				t.Errorf("%s imports %s, which is not in the layer table", path, p)
				continue
			}
			if rel == dir || to == -1 && from == -1 {
				continue // a package's external tests; internal leaves among themselves
			}
			if top, _, _ := strings.Cut(dir, "/"); top != "." && strings.HasPrefix(rel, top+"/") {
				continue // a layer's own sub-packages (e.g. transport/internal/…)
			}
			if to >= from {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point downwards (docs/architecture.md)", path, from, p, to)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
