package ipxetext

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Check refuses invalid UTF-8, control characters and "${".
func Check(s string) error {
	// ASCII, the usual case, in one pass; anything else as below.
	dollar := -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf || c < ' ' || c == 0x7f:
			return checkUnicode(s) // and its error
		case c == '{' && i > 0 && s[i-1] == '$' && dollar < 0:
			dollar = i - 1
		}
	}
	if dollar >= 0 {
		return fmt.Errorf("iPXE setting expansion \"${\" at byte %d", dollar)
	}
	return nil
}

// checkUnicode is Check of any text, one property at a time.
func checkUnicode(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("invalid UTF-8")
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Errorf("control character %U at byte %d", r, i)
	}
	if i := strings.Index(s, "${"); i >= 0 {
		return fmt.Errorf("iPXE setting expansion \"${\" at byte %d", i)
	}
	return nil
}

// CheckWord refuses what Check refuses, and white space: s is written as
// one word.
func CheckWord(s string) error {
	if err := Check(s); err != nil {
		return err
	}
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return fmt.Errorf("white space at byte %d", i)
	}
	return nil
}
