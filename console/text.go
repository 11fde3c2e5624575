package console

import "regexp"

// bootToken matches the one-time tokens the appliance puts on a build's
// or an inspection's kernel command line (provision.ks=URL/ks/TOKEN,
// provision.deploy=, inst.ks=, url=..., provision.inspect=TOKEN), which
// a kernel prints at boot ("Kernel command line: ...") and an installer
// may echo: 32 hex digits after /ks/ or inspect=.
var bootToken = regexp.MustCompile(`(/ks/|inspect=)[0-9a-f]{32}`)

// RedactedToken replaces a boot token in shown console text.
const RedactedToken = "BUILD-TOKEN"

// Text is b as it may be shown to anyone who reads the registry: Clean,
// and the boot tokens replaced by RedactedToken. A build's token lets
// whoever holds it fetch the rendered template (secret settings
// included) and end the build, so it leaves the appliance only to the
// machine. The Ring keeps the raw bytes; the interactive attach (the
// console right) passes them as they are.
func Text(b []byte) string {
	return bootToken.ReplaceAllString(Clean(b), "${1}"+RedactedToken)
}
