// Package textsafe makes text that came from the network (a TFTP file
// name, a DHCP hostname, an HTTP path) safe to store and to show: a
// terminal reading an event must not receive an escape sequence that
// rewrites the screen or the title, a log line must stay one line.
//
// Strip removes every control character (Unicode category Cc: C0, DEL
// and C1, which holds the 8-bit CSI U+009B) and turns each byte that is
// not UTF-8 into U+FFFD, so nothing a terminal reads as a control byte is
// left:
//
//	Strip("pxelinux.cfg/\x1b[2J01-aa")  == "pxelinux.cfg/[2J01-aa"
//	Strip("host\r\nname\x9b")           == "hostname\uFFFD"
package textsafe
