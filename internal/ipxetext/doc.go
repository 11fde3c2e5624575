// Package ipxetext checks text written into an iPXE script, where a
// newline starts another command and "${" expands a setting wherever it
// is: the script's own words (images) and the kernel command line
// (registry, which checks the operator's kernel arguments with it).
//
// Errors name the position, never the value, which may hold a secret:
//
//	control character U+000A at byte 5
//	iPXE setting expansion "${" at byte 3
//	invalid UTF-8
//	white space at byte 3        (CheckWord only)
package ipxetext
