package console

// escaper makes an operator's bytes pass through ipmitool untouched.
// ipmitool reads EscapeChar as the start of an escape (~. ends it, ~^Z
// suspends it, ~B sends a break) only right after a line end (\r or \n),
// or as the very first byte; there, EscapeChar twice sends one. So the
// escaper doubles EscapeChar in exactly those places, tracking line ends
// across writes as ipmitool does. One escaper per ipmitool process.
type escaper struct {
	midLine bool // the last byte sent was not a line end: ipmitool starts at a line start
}

// encode returns p as ipmitool must read it.
func (e *escaper) encode(p []byte) []byte {
	out := make([]byte, 0, len(p)+1)
	for _, c := range p {
		if c == EscapeChar && !e.midLine {
			out = append(out, EscapeChar)
		}
		out = append(out, c)
		e.midLine = c != '\r' && c != '\n'
	}
	return out
}
