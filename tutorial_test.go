package aemp

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTutorialSnippets compiles and vets every Go program of
// docs/tutorial.md: each ```go block becomes a package of one temporary
// module that uses this module through a replace directive, and one
// `go vet ./...` and one `go build ./...` check them all.
func TestTutorialSnippets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	doc, err := os.ReadFile(filepath.Join("docs", "tutorial.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 8 {
		t.Fatalf("found %d Go programs in docs/tutorial.md", len(blocks))
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	// The module's own requirements keep the build offline and its
	// versions the tested ones.
	_, reqs, _ := strings.Cut(string(mod), "\nrequire")
	gomod := "module tutorial\n\ngo 1.26\n\nrequire github.com/aemp-go/aemp v0.0.0\n\nrequire" + reqs +
		"\nreplace github.com/aemp-go/aemp => " + root + "\n"
	write(t, filepath.Join(dir, "go.mod"), gomod)
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.sum"), string(sum))
	for i, b := range blocks {
		// Each program is package main with a main; as a package of its
		// own name it compiles the same, without a link per program.
		name := fmt.Sprintf("snippet%02d", i+1)
		src, ok := strings.CutPrefix(b[1], "package main\n")
		if !ok || !strings.Contains(src, "\nfunc main() {\n") {
			t.Errorf("Go block %d of docs/tutorial.md is not a whole program (package main, func main)", i+1)
		}
		write(t, filepath.Join(dir, name, "main.go"), "package "+name+"\n"+src)
	}
	for _, args := range [][]string{{"vet", "./..."}, {"build", "./..."}} {
		cmd := exec.Command(goTool, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s of the tutorial's programs (snippetNN = the NNth ```go block): %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
