//go:build (amd64 || arm64) && !go1.28

package wire

import (
	"reflect"
	"runtime"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/encoder"
)

// TestSonicNative fails when sonic runs its encoding/json fallback where
// its JIT/asm path is expected (json_sonic.go's build constraint): then
// values outside the fast paths would silently go through encoding/json.
func TestSonicNative(t *testing.T) {
	if sonic.APIKind != sonic.UseSonicJSON {
		t.Errorf("sonic.APIKind = %d: sonic uses its encoding/json fallback on %s/%s (%s); check sonic's build tags",
			sonic.APIKind, runtime.GOOS, runtime.GOARCH, runtime.Version())
	}
	if encoder.EnableFallback {
		t.Error("sonic encoder uses its fallback")
	}
	// Runtime check on the very API value Decode uses: the native
	// frozenConfig carries compiled decoder options, the fallback's
	// (compat.go) only the Config.
	if !reflect.ValueOf(sonicAPI).Elem().FieldByName("decoderOpts").IsValid() {
		t.Errorf("Decode's sonic API is the fallback implementation (%T)", sonicAPI)
	}
}

// sonicBench is sonic's own API for the side-by-side benchmarks.
var sonicBench = &benchCodec{marshal: sonic.Marshal, unmarshal: sonic.Unmarshal, unmarshalAPI: sonicAPI.Unmarshal}
