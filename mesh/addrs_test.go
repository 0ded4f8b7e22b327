package mesh

import (
	"net"
	"testing"
)

// The interface addresses published for a "*" bind are those AnyEvent::MP
// publishes (spec §1.7).
func TestPublishable(t *testing.T) {
	for addr, want := range map[string]bool{
		"10.0.0.5": true, "192.168.1.2": true, "127.0.0.1": false, "127.1.2.3": false,
		"169.254.1.1": false, "0.0.0.0": false,
		"2001:db8::1": true, "fd00::1": true, "fc12::1": true,
		"::1": false, "fe80::1": false, "::": false, "ff02::1": false,
	} {
		if got := publishable(net.ParseIP(addr)); got != want {
			t.Errorf("publishable(%s) = %v, want %v", addr, got, want)
		}
	}
}
