package wire

import (
	"fmt"
	"strings"
)

// AuthLine is the line each side sends after reading the peer's greeting:
//
//	<method>;<token>;<framing>
//
// Token is lowercase hex (empty for tls_anon); Framing is the framing the
// sender will use for the data it sends.
type AuthLine struct {
	Method, Token, Framing string
}

// ParseAuthLine parses an auth line (without its LF). Further ";key=value"
// fields after the third are tolerated and ignored, as Perl does. A missing
// or empty framing fails with an error wrapping ErrUnusableFraming (Perl:
// "unusable remote framing"); other defects wrap ErrBadAuthLine,
// ErrLineTooLong or ErrBadLine.
func ParseAuthLine(line []byte) (AuthLine, error) {
	if err := checkLine(line); err != nil {
		return AuthLine{}, err
	}
	f := strings.SplitN(string(line), ";", 4)
	if f[0] == "" {
		return AuthLine{}, fmt.Errorf("%w: empty auth method", ErrBadAuthLine)
	}
	if len(f) < 2 {
		return AuthLine{}, fmt.Errorf("%w: no auth token field", ErrBadAuthLine)
	}
	if len(f) < 3 || f[2] == "" {
		return AuthLine{}, fmt.Errorf("%w: auth line names no framing", ErrUnusableFraming)
	}
	return AuthLine{Method: f[0], Token: f[1], Framing: f[2]}, nil
}

// AppendAuthLine appends the auth line to b, without the terminating LF.
// The fields are written as given; they must not contain ";", CR, LF or NUL.
func AppendAuthLine(b []byte, a AuthLine) []byte {
	b = append(b, a.Method...)
	b = append(b, ';')
	b = append(b, a.Token...)
	b = append(b, ';')
	b = append(b, a.Framing...)
	return b
}
