package tinydns

import "fmt"

// txtChunk is the longest character-string a ' line makes.
const txtChunk = 127

// TXTRData returns the TXT rdata a ' line makes of text: 127-byte
// character-strings and a shorter last one. Empty text gives empty rdata.
func TXTRData(text []byte) []byte {
	out := make([]byte, 0, len(text)+len(text)/txtChunk+1)
	for len(text) > 0 {
		n := min(len(text), txtChunk)
		out = append(out, byte(n))
		out = append(out, text[:n]...)
		text = text[n:]
	}
	return out
}

// TXTStrings splits TXT rdata into its character-strings (RFC 1035
// section 3.3.14). A ' line's text is the strings joined.
func TXTStrings(rdata []byte) ([][]byte, error) {
	var out [][]byte
	for len(rdata) > 0 {
		n := int(rdata[0])
		if 1+n > len(rdata) {
			return nil, fmt.Errorf("%w: TXT string of %d bytes with %d left", ErrData, n, len(rdata)-1)
		}
		out = append(out, rdata[1:1+n])
		rdata = rdata[1+n:]
	}
	return out, nil
}
