package aemp

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/leakcheck"
)

// The rc file as the aemp tool writes it: the top level, then the profile
// chain (parent first), with Perl's string-typed numbers.
func TestReadConfigFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rc")
	data := `{
	  "secret": "top-secret", "monitor_timeout": "12", # Perl writes numbers as strings
	  "seeds": ["10.0.0.1:4040"],
	  "profile": {
	    "base": {"binds": "*:4040,10.0.0.9:4041", "monitor_timeout": 7.5},
	    "web": {"parent": "base", "nodeid": "web/%n", "seeds": "10.0.0.1:4040,10.0.0.2:4040",},
	  },
	}`
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ReadConfigFile(p, "web")
	if err != nil {
		t.Fatal(err)
	}
	if c.Secret != "top-secret" || c.NodeID != "web/%n" || c.Profile != "web" {
		t.Errorf("secret %q, node ID %q, profile %q", c.Secret, c.NodeID, c.Profile)
	}
	if !slices.Equal(c.Seeds, []string{"10.0.0.1:4040", "10.0.0.2:4040"}) {
		t.Errorf("seeds %q: the profile's list should win", c.Seeds)
	}
	if !slices.Equal(c.Binds, []string{"*:4040", "10.0.0.9:4041"}) {
		t.Errorf("binds %q, want the parent's", c.Binds)
	}
	if c.MonitorTimeout != 7500*time.Millisecond {
		t.Errorf("monitor_timeout %v, want the parent's 7.5s", c.MonitorTimeout)
	}
	c, err = ReadConfigFile(p, "unknown-profile")
	if err != nil || c.MonitorTimeout != 12*time.Second || !slices.Equal(c.Seeds, []string{"10.0.0.1:4040"}) {
		t.Errorf("top level only: %v, %v, %q", err, c.MonitorTimeout, c.Seeds)
	}
	if _, err := ReadConfigFile(filepath.Join(t.TempDir(), "missing"), ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(p, []byte(`{"monitor_timeout": "soon"}`), 0o600)
	if c, err := ReadConfigFile(p, ""); err != nil || c.MonitorTimeout != 0 {
		t.Errorf("a non-numeric monitor_timeout must leave the default: %v, %v", c.MonitorTimeout, err)
	}
}

// The keys a Perl profile may set for what this module added: auth_offer,
// connect_interval, secure (Perl's truth), services.
func TestReadConfigFilePerlKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rc")
	os.WriteFile(p, []byte(`{"secure": 1, "profile": {
	  "a": {"auth_offer": ["hmac_sha3_512"], "connect_interval": "0.5", "services": ["X::start", "AnyEvent::MP::Global::"]},
	  "b": {"secure": "0"}, "c": {"secure": ""}, "d": {"secure": null}, "e": {"secure": "yes"},
	  "bad": {"services": [["X::start", 1]]},
	  "f": {"framing_format": ["cbor", "json", "storable"]}, "storable": {"framing_format": ["storable"]}}}`), 0o600)
	c, err := ReadConfigFile(p, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.AuthOffer, []string{"hmac_sha3_512"}) || c.ConnectTimeout != 500*time.Millisecond || !c.Secure ||
		!slices.Equal(c.Services, []string{"X::start", "AnyEvent::MP::Global::"}) {
		t.Errorf("profile a: offer %q, connect %v, secure %v, services %q", c.AuthOffer, c.ConnectTimeout, c.Secure, c.Services)
	}
	for profile, want := range map[string]bool{"b": false, "c": false, "d": false, "e": true} {
		if c, err := ReadConfigFile(p, profile); err != nil || c.Secure != want {
			t.Errorf("profile %s: secure %v, %v", profile, c.Secure, err)
		}
	}
	if _, err := ReadConfigFile(p, "bad"); !errors.Is(err, ErrConfig) {
		t.Errorf("services with arguments: %v", err)
	}
	// Perl's default framing_format names storable: left out.
	if c, err := ReadConfigFile(p, "f"); err != nil || !slices.Equal(c.Framings, []string{"cbor", "json"}) || c.Validate() != nil {
		t.Errorf("framing_format with storable: %q, %v", c.Framings, err)
	}
	if _, err := ReadConfigFile(p, "storable"); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "no framing Go nodes speak") {
		t.Errorf("framing_format storable only: %v", err)
	}
}

// Configure starts a node from a profile: the file's settings, Perl's
// default binds, the program's overrides (its functions), the services.
func TestConfigure(t *testing.T) {
	check := leakcheck.Check(t)
	defer check()
	rc := filepath.Join(t.TempDir(), "rc")
	os.WriteFile(rc, []byte(`{"secret": "rc-secret", "profile": {
	  "svc": {"nodeid": "svcnode", "binds": "127.0.0.1:*", "secure": "1", "services": ["test::svc"]},
	  "plain": {"nodeid": "plainnode"}}}`), 0o600)
	t.Setenv("PERL_ANYEVENT_MP_RC", rc)
	quiet := func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) }
	started := make(chan PortID, 1)
	funcs := func(c *Config) {
		c.Funcs = map[string]Func{"test::svc": func(p *Port, m *Msg) error {
			p.Rcv("add", func(m *Msg) error { a, _ := m.Int(1); b, _ := m.Int(2); return m.Reply("sum", a+b) })
			started <- p.ID()
			return nil
		}}
	}
	svc, err := Configure("svc", quiet, funcs)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	port := recv(t, started)
	if svc.ID() != "svcnode" || !svc.cfg.Secure || len(svc.Binds()) != 1 || !strings.HasPrefix(svc.Binds()[0], "127.0.0.1:") {
		t.Fatalf("node %s, secure %v, binds %q", svc.ID(), svc.cfg.Secure, svc.Binds())
	}
	plain, err := Configure("plain", quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if host, _, _ := net.SplitHostPort(plain.Binds()[0]); plain.ID() != "plainnode" || net.ParseIP(host) == nil || !net.ParseIP(host).IsUnspecified() {
		t.Fatalf("node %s binds %q: want Perl's default, every interface", plain.ID(), plain.Binds())
	}
	plain.AddNode("svcnode", svc.Binds()...)
	ctx := timeout(t, 5*time.Second)
	if r, err := plain.Call(ctx, port, "add", 1, 2); err != nil || r.Tag() != "sum" {
		t.Fatalf("call to the service: %#v, %v", r, err)
	}
	t.Setenv("PERL_ANYEVENT_MP_RC", filepath.Join(t.TempDir(), "missing"))
	if _, err := Configure("x", quiet); !errors.Is(err, ErrConfig) {
		t.Fatalf("Configure without a file (so without a secret): %v", err)
	}
}
