package wire_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aemp-go/aemp/wire"
)

func TestSentinelsDistinct(t *testing.T) {
	all := []error{wire.ErrLineTooLong, wire.ErrBadLine, wire.ErrBadGreeting, wire.ErrProtocol, wire.ErrVersion,
		wire.ErrSelf, wire.ErrAlreadyConnected, wire.ErrEcho, wire.ErrNoCommonAuth, wire.ErrNoCommonFraming,
		wire.ErrBadAuthLine, wire.ErrUnusableFraming, wire.ErrAuthFailed, wire.ErrTLSHandshake,
		wire.ErrHandshakeTimeout, wire.ErrConfig}
	seen := map[string]bool{}
	for i, e := range all {
		if seen[e.Error()] || strings.HasPrefix(e.Error(), "aemp:") {
			t.Errorf("sentinel %q duplicated or prefixed", e)
		}
		seen[e.Error()] = true
		wrapped := fmt.Errorf("ctx: %w", e)
		for j, o := range all {
			if errors.Is(wrapped, o) != (i == j) {
				t.Errorf("errors.Is(%q, %q) = %v", wrapped, o, i != j)
			}
		}
	}
}
