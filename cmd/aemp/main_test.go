package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aemp-go/aemp"
	"github.com/aemp-go/aemp/internal/rcfile"
)

// binary is the aemp tool built once for all tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aemp-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "aemp")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building aemp:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary gave.
type result struct {
	stdout, stderr string
	code           int
}

// env is a test's environment for the binary: a temporary HOME and a
// configuration file path inside it.
type env struct {
	t    *testing.T
	home string
	rc   string // "" leaves PERL_ANYEVENT_MP_RC unset
}

func newEnv(t *testing.T) *env {
	t.Helper()
	home := t.TempDir()
	return &env{t: t, home: home, rc: filepath.Join(home, "rc")}
}

// command is the binary with the test's environment (and no AEMP_TRACE,
// whose debug output would fill standard error).
func (e *env) command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Dir = e.home
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != rcfile.EnvPath && k != "HOME" && k != "APPDATA" && k != aemp.TraceEnv {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if e.home != "" {
		cmd.Env = append(cmd.Env, "HOME="+e.home)
	}
	if e.rc != "" {
		cmd.Env = append(cmd.Env, rcfile.EnvPath+"="+e.rc)
	}
	return cmd
}

func (e *env) run(args ...string) result {
	e.t.Helper()
	cmd := e.command(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	} else if err != nil {
		e.t.Fatalf("aemp %q: %v", args, err)
	}
	return r
}

// ok runs the binary and fails the test unless it exits 0 with nothing on
// standard error; it returns standard output.
func (e *env) ok(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 || r.stderr != "" {
		e.t.Fatalf("aemp %q: exit %d, stderr %q", args, r.code, r.stderr)
	}
	return r.stdout
}

// fails runs the binary and checks the exit code, that standard output is
// empty and that standard error is one "aemp: " message.
func (e *env) fails(code int, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != code {
		e.t.Errorf("aemp %q: exit %d, want %d (stderr %q)", args, r.code, code, r.stderr)
	}
	if r.stdout != "" {
		e.t.Errorf("aemp %q: stdout %q on failure", args, r.stdout)
	}
	if !strings.HasPrefix(r.stderr, "aemp: ") && !strings.Contains(r.stderr, "\naemp: ") {
		e.t.Errorf("aemp %q: stderr %q lacks the aemp: prefix", args, r.stderr)
	}
	return r
}

// file returns the configuration file's text ("" if missing).
func (e *env) file() string {
	e.t.Helper()
	data, err := os.ReadFile(e.rc)
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	return string(data)
}

func (e *env) write(text string, mode os.FileMode) {
	e.t.Helper()
	if err := os.WriteFile(e.rc, []byte(text), mode); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chmod(e.rc, mode); err != nil {
		e.t.Fatal(err)
	}
}

// parsed returns the configuration file as a tree.
func (e *env) parsed() *rcfile.Value {
	e.t.Helper()
	v, err := rcfile.Parse([]byte(e.file()))
	if err != nil {
		e.t.Fatalf("%v\n%s", err, e.file())
	}
	return v
}

// get follows keys into the configuration file and returns the value's
// display JSON without the final newline, or "<none>".
func (e *env) get(keys ...string) string {
	e.t.Helper()
	v := e.parsed()
	for _, k := range keys {
		if v = v.Get(k); v == nil {
			return "<none>"
		}
	}
	return strings.TrimSuffix(string(rcfile.AppendDisplay(nil, v)), "\n")
}

func perlFile(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/perl-rc.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
