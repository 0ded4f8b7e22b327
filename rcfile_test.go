package aemp

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
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
