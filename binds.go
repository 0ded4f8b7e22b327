package aemp

import (
	"fmt"
	"net"
	"strings"
)

// listenAddrs turns Config.Binds into the addresses to listen on. Besides
// Go's "host:port" it takes AnyEvent::MP's bind specs (spec §1.7), so that
// a profile written for Perl nodes works unchanged:
//
//	"*:4040"       every interface, port 4040 (one wildcard listener)
//	"*:*", "*"     every interface, a free port
//	"host:*"       host, a free port ("host" alone too)
//	"4040"         the host name (uname -n), port 4040
//	""             the host name, a free port
//	"a:1,b:2"      several specs in one entry
//
// Perl listens on each interface address for "*" (IPv4 without 127/8,
// IPv6 global and unique-local only); a Go node listens once on the
// wildcard address and publishes the same interface addresses in 'l
// (mesh.Published), so it also accepts connections on loopback.
func listenAddrs(binds []string) ([]string, error) {
	var out []string
	for _, entry := range binds {
		for _, spec := range strings.Split(entry, ",") {
			addr, err := listenAddr(strings.TrimSpace(spec))
			if err != nil {
				return nil, err
			}
			out = append(out, addr)
		}
	}
	return out, nil
}

// listenAddr turns one bind spec into a "host:port" for net.Listen.
func listenAddr(spec string) (string, error) {
	host, port := spec, ""
	switch {
	case spec == "" || isPortNumber(spec):
		host, port = hostname(), spec
	case net.ParseIP(spec) != nil: // an IPv6 address without brackets or port
	case strings.HasPrefix(spec, "[") || strings.Contains(spec, ":"):
		var err error
		if host, port, err = net.SplitHostPort(spec); err != nil {
			return "", fmt.Errorf("%q is not host:port: %w", spec, err)
		}
	}
	if host == "*" {
		host = "" // the wildcard address: every interface
	}
	if port == "" || port == "*" {
		port = "0" // a free port
	}
	if !isPortNumber(port) {
		return "", fmt.Errorf("%q: port %q is not a number or *", spec, port)
	}
	return net.JoinHostPort(host, port), nil
}

func isPortNumber(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}
