package rcfile

import (
	"strconv"
	"strings"
)

// The layout both encoders write is JSON::XS's "pretty" (indent,
// space_before, space_after), the layout of Perl's Config.pm and of aemp's
// showprofile/showconfig: three spaces per level, `"key" : value`, one
// array element or object member per line, `[]` and `{}` when empty, and a
// newline at the end.

// AppendFile appends v in the file layout: scalars read from a file keep
// their exact text, new ones are written as JSON::XS writes them. Object
// members come in their order.
func AppendFile(b []byte, v *Value) []byte {
	return append(appendPretty(b, v, 0, true), '\n')
}

// AppendDisplay appends v as Perl's JSON::XS->new->pretty prints it: every
// scalar re-encoded the way Perl does (strings with JSON::XS's escapes,
// numbers as Perl prints them), UTF-8 text.
func AppendDisplay(b []byte, v *Value) []byte {
	return append(appendPretty(b, v, 0, false), '\n')
}

func appendPretty(b []byte, v *Value, level int, keepRaw bool) []byte {
	switch v.kind {
	case Null:
		return append(b, "null"...)
	case Bool:
		if v.b {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case Number:
		if keepRaw || v.perl {
			return append(b, v.text...)
		}
		n := perlNumber(v.text)
		if n.kind == String {
			return appendString(b, n.text)
		}
		return append(b, n.text...)
	case String:
		if keepRaw && v.raw != "" {
			return append(b, v.raw...)
		}
		return appendString(b, v.text)
	case Array:
		if len(v.items) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, "[\n"...)
		for i, it := range v.items {
			b = indent(b, level+1)
			b = appendPretty(b, it, level+1, keepRaw)
			if i < len(v.items)-1 {
				b = append(b, ',')
			}
			b = append(b, '\n')
		}
		return append(indent(b, level), ']')
	}
	if len(v.members) == 0 {
		return append(b, "{}"...)
	}
	b = append(b, "{\n"...)
	for i, m := range v.members {
		b = indent(b, level+1)
		if keepRaw && m.keyRaw != "" {
			b = append(b, m.keyRaw...)
		} else {
			b = appendString(b, m.key)
		}
		b = append(b, " : "...)
		b = appendPretty(b, m.val, level+1, keepRaw)
		if i < len(v.members)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	return append(indent(b, level), '}')
}

func indent(b []byte, level int) []byte {
	for range level {
		b = append(b, "   "...)
	}
	return b
}

// appendString appends s quoted with JSON::XS's escapes (utf8 mode): `"`
// and `\`, \b \f \n \r \t, other control characters as \u00xx; everything
// else, "/" and non-ASCII included, as it is.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// perlNumber returns a JSON number literal as Perl holds it after JSON::XS
// decoded it: integers that fit 64 bits as they are ("-0" is 0), larger
// ones as a string of their digits, everything else as a double printed
// with %.15g (1.0 → 1, 1e3 → 1000, 0.30000000000000004 → 0.3).
func perlNumber(lit string) *Value {
	if !strings.ContainsAny(lit, ".eE") {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return &Value{kind: Number, text: strconv.FormatInt(n, 10), perl: true}
		}
		if n, err := strconv.ParseUint(lit, 10, 64); err == nil {
			return &Value{kind: Number, text: strconv.FormatUint(n, 10), perl: true}
		}
		return &Value{kind: String, text: lit}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return &Value{kind: String, text: lit}
	}
	return &Value{kind: Number, text: strconv.FormatFloat(f, 'g', 15, 64), perl: true}
}
