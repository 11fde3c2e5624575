package images

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/provision/provision/kickstart"
)

// Kinds of boot event: a script, a file by its role, or the checksum list.
const (
	KindScript = "script"
	KindKernel = "kernel"
	KindInitrd = "initrd"
	KindRootfs = "rootfs"
	KindSums   = "SHA256SUMS"
)

// maxCmdline is the longest kernel command line Script writes: Linux's
// COMMAND_LINE_SIZE on x86 and arm64 (2048 bytes with its NUL). A longer one
// would be cut silently by the kernel, so it is refused instead.
const maxCmdline = 2047

// scriptData is what a script is written from.
type scriptData struct {
	Host
	MACText   string
	ImageURL  string // server/images/IMAGE
	HasInitrd bool
	server    string // for the kernel command line after the kernel's URL
}

// Script renders the iPXE script of h. server is the appliance's base URL
// ("http://10.0.0.1:8080", no trailing slash); files are the files of
// h.Image by role, used when h.Netboot is set: the image needs a kernel, and
// its initrd is loaded when it has one. Script refuses (ErrBadArgs) any value
// that would not stay one word, or one command, of the script.
func Script(h Host, server string, files map[string]string) ([]byte, error) {
	return appendScriptOf(nil, h, server, files)
}

// appendScriptOf appends the script of h to b, as Script writes it.
func appendScriptOf(b []byte, h Host, server string, files map[string]string) ([]byte, error) {
	d, err := newScriptData(h, server, files)
	if err == nil {
		b, err = appendScript(b, &d)
	}
	if err != nil {
		return nil, fmt.Errorf("script of %s: %w", h.Name, err)
	}
	return b, nil
}

// appendScript writes the script of d; testdata/boot.ipxe.tmpl is the same
// as a text/template (the tests check that they agree):
//
//	#!ipxe
//	# provision: NAME (MAC), profile PROFILE, image IMAGE, installing from its KIND template
//	kernel IMAGEURL/kernel CMDLINE || goto failed
//	initrd --name initrd IMAGEURL/initrd || goto failed
//	boot || goto failed
//	:failed
//	echo provision: netboot of NAME failed: handing back to the firmware
//	exit
//
// with the MAC, the profile and the install part only when there is one,
// the image and the kernel to boot only for a netboot (the initrd only
// when the image has one); otherwise, after the first comment:
//
//	# the system is REASON: hand back to the firmware, which boots its next device
//	exit
//
// ("netboot is off" when there is no reason). CMDLINE is kernelCmdline's,
// the one error.
func appendScript(b []byte, d *scriptData) ([]byte, error) {
	b = append(b, "#!ipxe\n# provision: "...)
	b = append(b, d.Name...)
	if d.MACText != "" {
		b = append(b, " ("...)
		b = append(b, d.MACText...)
		b = append(b, ')')
	}
	if d.Profile != "" {
		b = append(b, ", profile "...)
		b = append(b, d.Profile...)
	}
	if d.Netboot {
		b = append(b, ", image "...)
		b = append(b, d.Image...)
	}
	if d.Install != nil {
		b = append(b, ", installing from its "...)
		b = append(b, d.Install.Kind...)
		b = append(b, " template"...)
	}
	if d.Netboot {
		b = append(b, "\nkernel "...)
		b = append(b, d.ImageURL...)
		b = append(b, "/kernel "...)
		var err error
		if b, err = kernelCmdline(b, d.Host, d.server, d.HasInitrd); err != nil {
			return nil, err
		}
		b = append(b, " || goto failed"...)
		if d.HasInitrd {
			b = append(b, "\ninitrd --name initrd "...)
			b = append(b, d.ImageURL...)
			b = append(b, "/initrd || goto failed"...)
		}
		b = append(b, "\nboot || goto failed\n:failed\necho provision: netboot of "...)
		b = append(b, d.Name...)
		b = append(b, " failed: handing back to the firmware"...)
	} else if d.Reason != "" {
		b = append(b, "\n# the system is "...)
		b = append(b, d.Reason...)
		b = append(b, ": hand back to the firmware, which boots its next device"...)
	} else {
		b = append(b, "\n# netboot is off: hand back to the firmware, which boots its next device"...)
	}
	return append(b, "\nexit\n"...), nil
}

func newScriptData(h Host, server string, files map[string]string) (scriptData, error) {
	d := scriptData{Host: h, MACText: h.MAC.String(), server: server}
	if err := checkWords(h, server); err != nil {
		return d, err
	}
	if !h.Netboot {
		return d, nil
	}
	if files == nil {
		return d, fmt.Errorf("image %q: %w", h.Image, ErrUnknownImage)
	}
	if _, ok := files[KindKernel]; !ok {
		return d, fmt.Errorf("image %q has no kernel: %w", h.Image, ErrUnknownFile)
	}
	_, d.HasInitrd = files[KindInitrd]
	d.ImageURL = server + "/images/" + url.PathEscape(h.Image)
	return d, nil
}

// checkWords checks the values written as a single word or in a comment.
func checkWords(h Host, server string) error {
	if h.Name == "" {
		return fmt.Errorf("host without a name: %w", ErrBadArgs)
	}
	for _, f := range []struct{ name, value string }{
		{"name", h.Name}, {"profile", h.Profile}, {"image", h.Image}, {"zone", h.Zone}, {"server", server},
		{"reason", h.Reason}, {"install", installWord(h.Install)},
	} {
		if err := checkWord(f.value); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// kernelCmdline appends to b the kernel command line of h: initrd=initrd
// (for the EFI stub of kernels that predate initrd loading through
// LoadFile2), the operator's arguments and the appliance's own; and checks
// it.
func kernelCmdline(b []byte, h Host, server string, initrd bool) ([]byte, error) {
	start := len(b)
	word := func(w ...string) {
		if len(b) > start {
			b = append(b, ' ')
		}
		for _, s := range w {
			b = append(b, s...)
		}
	}
	if initrd {
		word("initrd=initrd")
	}
	args, err := checkedArgs(h.KernelArgs)
	if err != nil {
		return nil, fmt.Errorf("kernel args: %w", err)
	}
	if args != "" {
		word(args)
	}
	if h.Install != nil {
		for _, w := range kickstart.BootArgs(h.Install.Kind, server+"/ks/"+h.Install.Token) {
			word(w)
		}
	}
	if h.Install == nil && h.Rootfs != nil {
		word("provision.image=", h.Image)
		if h.MAC != nil {
			word("provision.mac=", h.MAC.String())
		}
		word("provision.rootfs.sha256=", h.Rootfs.SHA256)
		word("provision.rootfs.size=", strconv.FormatInt(h.Rootfs.Size, 10))
		if h.Rootfs.Unpacked > 0 {
			word("provision.rootfs.unpacked=", strconv.FormatInt(h.Rootfs.Unpacked, 10))
		}
	}
	word("provision.host=", h.Name)
	if h.Zone != "" {
		word("provision.zone=", h.Zone)
	}
	word("provision.server=", server)
	if n := len(b) - start; n > maxCmdline {
		return nil, fmt.Errorf("kernel command line is %d bytes, Linux takes %d: %w", n, maxCmdline, ErrBadArgs)
	}
	return b, nil
}

// checkedArgs is appendArgs of args, joined, or its error, remembered for
// the next time: a profile's systems have the same arguments, and every
// machine that boots asks for its script.
func checkedArgs(args string) (string, error) {
	if args == "" {
		return "", nil
	}
	argsCache.RLock()
	r, ok := argsCache.m[args]
	argsCache.RUnlock()
	if ok {
		return r.joined, r.err
	}
	b, err := appendArgs(nil, args)
	r = checkedArg{string(b), err}
	argsCache.Lock()
	if len(argsCache.m) >= argsCacheMax {
		clear(argsCache.m)
	}
	argsCache.m[args] = r
	argsCache.Unlock()
	return r.joined, r.err
}

type checkedArg struct {
	joined string
	err    error
}

const argsCacheMax = 1024

var argsCache = struct {
	sync.RWMutex
	m map[string]checkedArg
}{m: map[string]checkedArg{}}

// checkArgs splits operator kernel arguments into words as iPXE does
// (src/core/exec.c: split on white space, no quoting, rejoined with one
// space) and refuses what iPXE would not pass on as written:
//   - a control character: a newline would start a new script command;
//   - "${": iPXE expands settings inside any word, and has no escape;
//   - a word "||", "&&" or ";": iPXE ends the command there;
//   - a word starting with "#": iPXE ignores the rest of the line.
//
// Double quotes pass through to Linux, which uses them to group words
// (inst.ks="a b"), but runs of spaces inside them become one space.
func checkArgs(args string) ([]string, error) {
	if err := checkText(args); err != nil {
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
		return fmt.Errorf("word %d %q is an iPXE command separator: %w", i+1, w, ErrBadArgs)
	case strings.HasPrefix(w, "#"):
		return fmt.Errorf("word %d starts an iPXE comment: %w", i+1, ErrBadArgs)
	}
	return nil
}

// appendArgs appends the words of args as checkArgs splits and checks
// them, each after a space when b is not empty.
func appendArgs(b []byte, args string) ([]byte, error) {
	start := len(b)
	if err := checkText(args); err != nil {
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
	// checkText let no control character through: ' ' is the only white
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

func installWord(in *Install) string {
	if in == nil {
		return ""
	}
	return in.Kind + in.Token
}

// checkWord refuses what checkText refuses, and white space.
func checkWord(s string) error {
	if err := checkText(s); err != nil {
		return err
	}
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return fmt.Errorf("white space at byte %d: %w", i, ErrBadArgs)
	}
	return nil
}

// checkText refuses invalid UTF-8, control characters and "${". The error
// names the position, never the value, which may hold a secret.
func checkText(s string) error {
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
		return fmt.Errorf("iPXE setting expansion \"${\" at byte %d: %w", dollar, ErrBadArgs)
	}
	return nil
}

func checkUnicode(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("invalid UTF-8: %w", ErrBadArgs)
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Errorf("control character %U at byte %d: %w", r, i, ErrBadArgs)
	}
	if i := strings.Index(s, "${"); i >= 0 {
		return fmt.Errorf("iPXE setting expansion \"${\" at byte %d: %w", i, ErrBadArgs)
	}
	return nil
}
