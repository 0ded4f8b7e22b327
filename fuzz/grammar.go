package fuzz

import (
	"encoding/json"
	"unicode/utf8"
)

// ValidMessage is the reference predicate of the JSON grammar of package
// wire (its package documentation, "JSON grammar"): b is one JSON text
// that encoding/json.Valid accepts, is valid UTF-8, has an array at the
// top level (after optional whitespace) and nests at most maxDepth levels
// (the top-level array being level 1). It shares no code with the
// library's splitter and scanners.
func ValidMessage(b []byte, maxDepth int) bool {
	if !json.Valid(b) || !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '[':
			return Depth(b) <= maxDepth
		}
		return false
	}
	return false
}

// Depth returns the deepest nesting of arrays and objects in a valid JSON
// text (0 for a scalar).
func Depth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}
