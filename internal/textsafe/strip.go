package textsafe

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Strip returns s without its control characters, each invalid UTF-8
// byte replaced by U+FFFD. A string that needs neither is returned as is.
func Strip(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // an invalid byte comes as utf8.RuneError
		if !unicode.IsControl(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
