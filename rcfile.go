package aemp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RCPath returns the path of AnyEvent::MP's configuration file:
// $PERL_ANYEVENT_MP_RC, else $HOME/.perl-anyevent-mp (spec §7.1).
func RCPath() string {
	if p := os.Getenv("PERL_ANYEVENT_MP_RC"); p != "" {
		return p
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".perl-anyevent-mp")
	}
	if a := os.Getenv("APPDATA"); a != "" {
		return filepath.Join(a, "perl-anyevent-mp")
	}
	return ".perl-anyevent-mp"
}

// ReadConfigFile reads an AnyEvent::MP configuration file (the JSON file
// the aemp tool writes; # comments and trailing commas are tolerated) and
// returns the effective settings of the named profile (default: the host
// name) as a Config: the file's top level, overridden along the profile's
// parent chain down to the profile itself (spec §7.2). Keys it understands:
// nodeid, secret, cert, binds (Perl's specs, see Config.Binds), seeds,
// monitor_timeout, connect_interval (ConnectTimeout), framing_format
// (framings Go nodes do not speak, such as Perl's storable, left out),
// auth_offer, auth_accept, secure (Perl's truth: "", "0", 0 and null are
// false) and services (names; the [function, args…] form is refused);
// values may be strings where Perl writes them as strings. A missing file
// gives an empty Config and an error wrapping os.ErrNotExist. See
// [Configure] to start a node from a profile in one call.
func ReadConfigFile(path, profile string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var top map[string]any
	if len(bytes.TrimSpace(data)) == 0 {
		top = map[string]any{} // an empty file is an empty configuration
	} else if err := json.Unmarshal(relaxJSON(data), &top); err != nil {
		return Config{}, fmt.Errorf("%w: %s: %w", ErrConfig, path, err)
	}
	if profile == "" {
		profile = hostname()
	}
	eff := map[string]any{}
	for k, v := range top {
		eff[k] = v
	}
	profiles, _ := top["profile"].(map[string]any)
	var chain []map[string]any
	seen := map[string]bool{}
	for name := profile; name != ""; {
		if seen[name] {
			return Config{}, fmt.Errorf("%w: %s: circular parent chain at profile %q", ErrConfig, path, name)
		}
		seen[name] = true
		p, _ := profiles[name].(map[string]any)
		if p == nil {
			break
		}
		chain = append(chain, p)
		name, _ = p["parent"].(string)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		for k, v := range chain[i] {
			eff[k] = v
		}
	}
	c := Config{Profile: profile}
	c.NodeID, _ = eff["nodeid"].(string)
	c.Secret, _ = eff["secret"].(string)
	c.Cert, _ = eff["cert"].(string)
	c.Binds = stringList(eff["binds"])
	if list := stringList(eff["framing_format"]); len(list) > 0 {
		// Perl's own default lists storable, which Go nodes do not
		// speak: keep the ones they do, in the file's order.
		for _, f := range list {
			if (&Config{Framings: []string{f}}).Validate() == nil {
				c.Framings = append(c.Framings, f)
			}
		}
		if len(c.Framings) == 0 {
			return Config{}, fmt.Errorf("%w: %s: framing_format %q has no framing Go nodes speak (goframe1, cbor, json)", ErrConfig, path, list)
		}
	}
	c.AuthAccept = stringList(eff["auth_accept"])
	c.AuthOffer = stringList(eff["auth_offer"])
	c.Seeds = stringList(eff["seeds"])
	if d, ok := seconds(eff["monitor_timeout"]); ok {
		c.MonitorTimeout = d
	}
	if d, ok := seconds(eff["connect_interval"]); ok {
		c.ConnectTimeout = d
	}
	c.Secure = perlTrue(eff["secure"])
	if list, ok := eff["services"].([]any); ok {
		for _, s := range list {
			if _, isName := s.(string); !isName {
				return Config{}, fmt.Errorf("%w: %s: services: %v is not a function name (the [function, args…] form is not supported)", ErrConfig, path, s)
			}
		}
	}
	c.Services = stringList(eff["services"])
	return c, nil
}

// Configure starts a node from a profile of AnyEvent::MP's configuration
// file (at RCPath), as Perl's configure does: the profile's settings
// (ReadConfigFile; a missing file is an empty one), Perl's default binds
// "*" (every interface, a free port) when the profile names none, then
// each override in order, then NewNode. The overrides win over the file
// (Perl's force => 1); they give what a file cannot hold, such as Funcs
// and Logger. An empty profile is the host name. A node that listens
// needs a Secret or a Cert, from the file or an override.
func Configure(profile string, overrides ...func(*Config)) (*Node, error) {
	cfg, err := ReadConfigFile(RCPath(), profile)
	if errors.Is(err, os.ErrNotExist) {
		cfg, err = Config{Profile: profile}, nil
	}
	if err != nil {
		return nil, err
	}
	if cfg.Binds == nil {
		cfg.Binds = []string{"*"}
	}
	for _, o := range overrides {
		o(&cfg)
	}
	return NewNode(cfg)
}

// perlTrue is Perl's truth of a configuration value.
func perlTrue(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != "" && x != "0"
	}
	return true
}

// seconds reads a duration in seconds, given as a number or a numeric
// string (Perl writes either).
func seconds(v any) (time.Duration, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case string:
		var err error
		if f, err = strconv.ParseFloat(x, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if f <= 0 || f > 1e6 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// stringList accepts a JSON array of strings or a comma-separated string.
func stringList(v any) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, e := range x {
			switch s := e.(type) {
			case string:
				out = append(out, s)
			case float64:
				out = append(out, strconv.FormatFloat(s, 'f', -1, 64))
			}
		}
		return out
	case string:
		if x == "" {
			return nil
		}
		return strings.Split(x, ",")
	}
	return nil
}

// relaxJSON removes # comments and trailing commas outside strings, as
// Perl's relaxed JSON parser accepts them.
func relaxJSON(b []byte) []byte {
	var out bytes.Buffer
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr:
			out.WriteByte(c)
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
			out.WriteByte(c)
		case c == '#':
			for i < len(b) && b[i] != '\n' {
				i++
			}
			out.WriteByte('\n')
		case c == ',':
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
				j++
			}
			if j < len(b) && (b[j] == '}' || b[j] == ']') {
				continue
			}
			out.WriteByte(c)
		default:
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}
