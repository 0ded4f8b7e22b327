package rcfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects accepted, as
// JSON::XS's default max_depth.
const MaxDepth = 512

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("malformed JSON")

// Parse reads a configuration file's text the way Perl's Config.pm does
// (JSON::XS utf8 relaxed): UTF-8 JSON with "#" comments to the end of the
// line, trailing commas and literal tabs in strings tolerated. The top
// level must be an object. Scalars keep their exact text (see Value). A key
// given twice keeps its first place and its last value, as a Perl hash.
func Parse(data []byte) (*Value, error) {
	p := &parser{s: data, relaxed: true, keepRaw: true}
	v, err := p.document()
	if err != nil {
		return nil, err
	}
	if v.kind != Object {
		return nil, fmt.Errorf("%w: the top level is not a JSON object", ErrSyntax)
	}
	return v, nil
}

// ParseArg decodes a command-line argument as Perl's aemp does (JSON::XS
// utf8 allow_nonref, not relaxed): any JSON value. Numbers are normalised
// as Perl stores them (1.0 → 1, 1e3 → 1000, integers too large for 64
// bits become strings), so the value is written as Perl would write it.
func ParseArg(s string) (*Value, error) {
	p := &parser{s: []byte(s)}
	v, err := p.document()
	if err != nil {
		return nil, err
	}
	normalise(v)
	return v, nil
}

func normalise(v *Value) {
	switch v.kind {
	case Number:
		*v = *perlNumber(v.text)
	case Array:
		for _, it := range v.items {
			normalise(it)
		}
	case Object:
		for _, m := range v.members {
			normalise(m.val)
		}
	}
}

type parser struct {
	s       []byte
	i       int
	depth   int
	relaxed bool // comments, trailing commas, literal tabs
	keepRaw bool // keep scalars' literal text
}

func (p *parser) errorf(format string, a ...any) error {
	line := 1 + strings.Count(string(p.s[:p.i]), "\n")
	col := p.i - strings.LastIndexByte(string(p.s[:p.i]), '\n')
	return fmt.Errorf("%w: line %d, column %d: %s", ErrSyntax, line, col, fmt.Sprintf(format, a...))
}

func (p *parser) document() (*Value, error) {
	if !utf8.Valid(p.s) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrSyntax)
	}
	p.space()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errorf("garbage after the JSON value")
	}
	return v, nil
}

// space skips white space and, when relaxed, # comments.
func (p *parser) space() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.i++
		case c == '#' && p.relaxed:
			for p.i < len(p.s) && p.s[p.i] != '\n' && p.s[p.i] != '\r' {
				p.i++
			}
		default:
			return
		}
	}
}

func (p *parser) value() (*Value, error) {
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end of text")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, raw, err := p.str()
		if err != nil {
			return nil, err
		}
		v := &Value{kind: String, text: s}
		if p.keepRaw {
			v.raw = raw
		}
		return v, nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, lit := range []struct {
		word string
		v    Value
	}{{"true", Value{kind: Bool, b: true}}, {"false", Value{kind: Bool}}, {"null", Value{kind: Null}}} {
		if strings.HasPrefix(string(p.s[p.i:]), lit.word) {
			p.i += len(lit.word)
			v := lit.v
			return &v, nil
		}
	}
	return nil, p.errorf("unexpected character %q", p.s[p.i])
}

func (p *parser) enter() error {
	if p.depth++; p.depth > MaxDepth {
		return p.errorf("nested deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) object() (*Value, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.i++ // {
	v := &Value{kind: Object}
	for first := true; ; first = false {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' && (first || p.relaxed) {
			p.i++
			p.depth--
			return v, nil
		}
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.errorf("expected a string key")
		}
		key, raw, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.errorf("expected ':'")
		}
		p.i++
		p.space()
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		if i := v.index(key); i >= 0 {
			v.members[i].val = val // a Perl hash: the last value wins
		} else {
			m := member{key: key, val: val}
			if p.keepRaw {
				m.keyRaw = raw
			}
			v.members = append(v.members, m)
		}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			p.depth--
			return v, nil
		}
		return nil, p.errorf("expected ',' or '}'")
	}
}

func (p *parser) array() (*Value, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.i++ // [
	v := &Value{kind: Array}
	for first := true; ; first = false {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' && (first || p.relaxed) {
			p.i++
			p.depth--
			return v, nil
		}
		it, err := p.value()
		if err != nil {
			return nil, err
		}
		v.items = append(v.items, it)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			p.depth--
			return v, nil
		}
		return nil, p.errorf("expected ',' or ']'")
	}
}

// str reads a string literal at p.i and returns its text and its literal.
func (p *parser) str() (text, raw string, err error) {
	start := p.i
	p.i++ // opening quote
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", "", p.errorf("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), string(p.s[start:p.i]), nil
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return "", "", err
			}
		case c < 0x20 && !(c == '\t' && p.relaxed):
			return "", "", p.errorf("unescaped control character %q in a string", c)
		default:
			b.WriteByte(c)
			p.i++
		}
	}
}

func (p *parser) escape(b *strings.Builder) error {
	p.i++ // backslash
	if p.i >= len(p.s) {
		return p.errorf("unterminated string")
	}
	c := p.s[p.i]
	p.i++
	switch c {
	case '"', '\\', '/':
		b.WriteByte(c)
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		r, err := p.hex4()
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(r) {
			if r >= 0xdc00 || !strings.HasPrefix(string(p.s[p.i:]), `\u`) {
				return p.errorf("lone surrogate \\u%04x", r)
			}
			p.i += 2
			lo, err := p.hex4()
			if err != nil {
				return err
			}
			if r = utf16.DecodeRune(r, lo); r == utf8.RuneError {
				return p.errorf("invalid surrogate pair")
			}
		}
		b.WriteRune(r)
	default:
		return p.errorf("invalid escape \\%c", c)
	}
	return nil
}

func (p *parser) hex4() (rune, error) {
	if p.i+4 > len(p.s) {
		return 0, p.errorf("short \\u escape")
	}
	n, err := strconv.ParseUint(string(p.s[p.i:p.i+4]), 16, 16)
	if err != nil {
		return 0, p.errorf("invalid \\u escape")
	}
	p.i += 4
	return rune(n), nil
}

func (p *parser) number() (*Value, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
		if p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			return nil, p.errorf("malformed number (leading zero)")
		}
	} else if digits() == 0 {
		return nil, p.errorf("malformed number")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.errorf("malformed number (no digits after the decimal point)")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.errorf("malformed number (no digits in the exponent)")
		}
	}
	lit := string(p.s[start:p.i])
	if _, err := strconv.ParseFloat(lit, 64); err != nil {
		return nil, p.errorf("number %s out of range", lit)
	}
	return &Value{kind: Number, text: lit}, nil
}
