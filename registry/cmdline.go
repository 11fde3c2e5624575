package registry

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/provision/provision/internal/ipxetext"
)

// MaxCmdline is the longest kernel command line a system is given: Linux's
// COMMAND_LINE_SIZE on x86 and arm64 (2048 bytes with its NUL). A longer
// one would be cut silently by the kernel, so it is refused instead.
const MaxCmdline = 2047

// CheckKernelArgs checks kernel arguments as an operator gives them (a
// profile's or a system's): within MaxCmdline, and passed on by iPXE as
// written, which splits them into words as src/core/exec.c does (on white
// space, no quoting, rejoined with one space). It refuses:
//   - a control character: a newline would start a new script command;
//   - "${": iPXE expands settings inside any word, and has no escape;
//   - a word "||", "&&" or ";": iPXE ends the command there;
//   - a word starting with "#": iPXE ignores the rest of the line.
//
// Double quotes pass through to Linux, which uses them to group words
// (inst.ks="a b"), but runs of spaces inside them become one space. The
// error names the position, never the value, which may hold a secret.
func CheckKernelArgs(args string) error {
	b, err := appendArgs(nil, args)
	if err == nil && len(b) > MaxCmdline {
		err = fmt.Errorf("%d bytes, Linux takes %d", len(b), MaxCmdline)
	}
	return err
}

// checkArgsOf is CheckKernelArgs of the arguments of an object (kind
// ObjProfile or ObjSystem), naming it.
func checkArgsOf(kind, name, args string) error {
	if err := CheckKernelArgs(args); err != nil {
		return invalidf("%s %s: kernel args: %v", kind, name, err)
	}
	return nil
}

// checkArgs splits operator kernel arguments into words as iPXE does, and
// refuses what CheckKernelArgs refuses (but the length).
func checkArgs(args string) ([]string, error) {
	if err := ipxetext.Check(args); err != nil {
		return nil, err
	}
	words := strings.Fields(args)
	for i, w := range words {
		if err := checkArg(i, w); err != nil {
			return nil, err
		}
	}
	return words, nil
}

func checkArg(i int, w string) error {
	switch {
	case w == "||" || w == "&&" || w == ";":
		return fmt.Errorf("word %d %q is an iPXE command separator", i+1, w)
	case strings.HasPrefix(w, "#"):
		return fmt.Errorf("word %d starts an iPXE comment", i+1)
	}
	return nil
}

// appendArgs appends to b the words of args as checkArgs splits and
// checks them, separated by one space.
func appendArgs(b []byte, args string) ([]byte, error) {
	start := len(b)
	if err := ipxetext.Check(args); err != nil {
		return nil, err
	}
	ascii := true
	for i := 0; i < len(args) && ascii; i++ {
		ascii = args[i] < utf8.RuneSelf
	}
	if !ascii { // other white space than ' '
		words, err := checkArgs(args)
		for _, w := range words {
			if len(b) > start {
				b = append(b, ' ')
			}
			b = append(b, w...)
		}
		return b, err
	}
	// Check let no control character through: ' ' is the only white
	// space left.
	n := 0
	for w := range strings.SplitSeq(args, " ") {
		if w == "" {
			continue
		}
		if err := checkArg(n, w); err != nil {
			return nil, err
		}
		n++
		if len(b) > start {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	return b, nil
}
