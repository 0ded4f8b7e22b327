package fuzz

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/aemp-go/aemp/wire"
)

// sameValue reports whether got (a wire.DecodeAny result) is the value
// want (encoding/json's decoding with UseNumber) holds. Numbers compare by
// their exact value: an int64 or uint64 must be the integer literal's
// value, a float64 must have the bits strconv.ParseFloat gives the literal,
// and a json.Number (integers beyond uint64, floats beyond float64) must be
// the literal itself.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	case string:
		g, ok := got.(string)
		return ok && g == w
	case json.Number:
		return sameNumber(got, string(w))
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameValue(g[i], w[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			if gv, ok := g[k]; !ok || !sameValue(gv, wv) {
				return false
			}
		}
		return true
	}
	return false
}

// sameNumber compares a decoded number with its literal text.
func sameNumber(got any, lit string) bool {
	isInt := !strings.ContainsAny(lit, ".eE")
	switch g := got.(type) {
	case int64:
		n, err := strconv.ParseInt(lit, 10, 64)
		return isInt && err == nil && n == g
	case uint64:
		n, err := strconv.ParseUint(lit, 10, 64)
		return isInt && err == nil && n == g && g > math.MaxInt64
	case float64:
		f, _ := strconv.ParseFloat(lit, 64)
		return !isInt && math.Float64bits(f) == math.Float64bits(g)
	case json.Number:
		if string(g) != lit {
			return false
		}
		if isInt { // beyond int64 and uint64
			_, err1 := strconv.ParseInt(lit, 10, 64)
			_, err2 := strconv.ParseUint(lit, 10, 64)
			return err1 != nil && err2 != nil
		}
		f, _ := strconv.ParseFloat(lit, 64)
		return math.IsInf(f, 0)
	}
	return false
}

// sameRouting reports whether a routing text (Envelope.LocalText or
// TagText) is how Perl stringifies the element want: a string itself, a
// number its literal, true "1", false "0", null "". Arrays and objects keep
// their raw text, which is not compared here.
func sameRouting(text []byte, kind wire.Kind, want any) bool {
	switch w := want.(type) {
	case string:
		return kind == wire.KindString && string(text) == w
	case json.Number:
		return kind == wire.KindNumber && string(text) == string(w)
	case bool:
		return kind == wire.KindBool && (string(text) == "1") == w && (string(text) == "0") == !w
	case nil:
		return kind == wire.KindNull && len(text) == 0
	case []any:
		return kind == wire.KindArray
	case map[string]any:
		return kind == wire.KindObject
	}
	return false
}

// equalStrings compares two string slices (nil equals empty).
func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// equalStringMaps compares two string maps (nil equals empty).
func equalStringMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
