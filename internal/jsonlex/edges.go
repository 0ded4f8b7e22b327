package jsonlex

// UTF8EdgeCases are strings at the edges of UTF-8 validity, for the tests
// of every package that follows this grammar (frame's splitter, wire's
// scanner and decoders): a JSON string holding one of them is accepted
// exactly when it is valid UTF-8. The last two are JSON escapes (a lone
// surrogate escape is valid JSON).
var UTF8EdgeCases = []struct{ Name, S string }{
	{Name: "invalid byte FF", S: "\xff"},
	{Name: "invalid byte FE", S: "\xfe"},
	{Name: "lone continuation", S: "\x80"},
	{Name: "overlong slash C0 AF", S: "\xc0\xaf"},
	{Name: "overlong C1 BF", S: "\xc1\xbf"},
	{Name: "overlong 3-byte E0 80 AF", S: "\xe0\x80\xaf"},
	{Name: "overlong 4-byte F0 80 80 AF", S: "\xf0\x80\x80\xaf"},
	{Name: "overlong U+FFFF F0 8F BF BF", S: "\xf0\x8f\xbf\xbf"},
	{Name: "surrogate U+D800 ED A0 80", S: "\xed\xa0\x80"},
	{Name: "surrogate U+DFFF ED BF BF", S: "\xed\xbf\xbf"},
	{Name: "surrogate pair in UTF-8", S: "\xed\xa0\xbd\xed\xb8\x80"},
	{Name: "U+D7FF", S: "\xed\x9f\xbf"},
	{Name: "U+E000", S: "\xee\x80\x80"},
	{Name: "U+FFFD", S: "\xef\xbf\xbd"},
	{Name: "U+10FFFF", S: "\xf4\x8f\xbf\xbf"},
	{Name: "U+110000", S: "\xf4\x90\x80\x80"},
	{Name: "F5 lead", S: "\xf5\x80\x80\x80"},
	{Name: "FF in 4-byte", S: "\xf0\x9f\x98\xff"},
	{Name: "truncated 2-byte", S: "\xc3"},
	{Name: "truncated 3-byte", S: "\xe6\x97"},
	{Name: "truncated 4-byte", S: "\xf0\x9f\x98"},
	{Name: "truncated then ASCII", S: "\xe6\x97x"},
	{Name: "valid mix", S: "héllo ✓ 日本 😀"},
	{Name: "lone surrogate escape", S: `\ud800`},
	{Name: "escaped pair", S: `\ud83d\ude00`},
}
