package images

import (
	"bytes"
	_ "embed" // the script template
	"fmt"
	"net/url"
	"strings"
	"text/template"
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

//go:embed templates/boot.ipxe.tmpl
var scriptTemplateText string

// scriptTemplate is parsed once and only read afterwards.
var scriptTemplate = template.Must(template.New("boot.ipxe").Parse(scriptTemplateText))

// scriptData is what the template sees.
type scriptData struct {
	Host
	MACText   string
	ImageURL  string // server/images/IMAGE
	HasInitrd bool
	Cmdline   string // kernel command line after the kernel's URL
}

// Script renders the iPXE script of h. server is the appliance's base URL
// ("http://10.0.0.1:8080", no trailing slash); files are the files of
// h.Image by role, used when h.Netboot is set: the image needs a kernel, and
// its initrd is loaded when it has one. Script refuses (ErrBadArgs) any value
// that would not stay one word, or one command, of the script.
func Script(h Host, server string, files map[string]string) ([]byte, error) {
	d, err := newScriptData(h, server, files)
	if err != nil {
		return nil, fmt.Errorf("script of %s: %w", h.Name, err)
	}
	var buf bytes.Buffer
	if err := scriptTemplate.Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("script of %s: %w", h.Name, err)
	}
	return buf.Bytes(), nil
}

func newScriptData(h Host, server string, files map[string]string) (scriptData, error) {
	d := scriptData{Host: h, MACText: h.MAC.String()}
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
	cmdline, err := kernelCmdline(h, server, d.HasInitrd)
	d.Cmdline = cmdline
	return d, err
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

// kernelCmdline joins initrd=initrd (for the EFI stub of kernels that
// predate initrd loading through LoadFile2), the operator's arguments and the
// appliance's own, and checks the result.
func kernelCmdline(h Host, server string, initrd bool) (string, error) {
	args, err := checkArgs(h.KernelArgs)
	if err != nil {
		return "", fmt.Errorf("kernel args: %w", err)
	}
	var words []string
	if initrd {
		words = append(words, "initrd=initrd")
	}
	words = append(words, args...)
	if h.Install != nil {
		words = append(words, kickstart.BootArgs(h.Install.Kind, server+"/ks/"+h.Install.Token)...)
	}
	if h.Install == nil && h.Rootfs != nil {
		words = append(words, "provision.image="+h.Image)
		if h.MAC != nil {
			words = append(words, "provision.mac="+h.MAC.String())
		}
		words = append(words, "provision.rootfs.sha256="+h.Rootfs.SHA256,
			fmt.Sprintf("provision.rootfs.size=%d", h.Rootfs.Size))
		if h.Rootfs.Unpacked > 0 {
			words = append(words, fmt.Sprintf("provision.rootfs.unpacked=%d", h.Rootfs.Unpacked))
		}
	}
	words = append(words, "provision.host="+h.Name)
	if h.Zone != "" {
		words = append(words, "provision.zone="+h.Zone)
	}
	words = append(words, "provision.server="+server)
	cmdline := strings.Join(words, " ")
	if len(cmdline) > maxCmdline {
		return "", fmt.Errorf("kernel command line is %d bytes, Linux takes %d: %w", len(cmdline), maxCmdline, ErrBadArgs)
	}
	return cmdline, nil
}

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
		switch {
		case w == "||" || w == "&&" || w == ";":
			return nil, fmt.Errorf("word %d %q is an iPXE command separator: %w", i+1, w, ErrBadArgs)
		case strings.HasPrefix(w, "#"):
			return nil, fmt.Errorf("word %d starts an iPXE comment: %w", i+1, ErrBadArgs)
		}
	}
	return words, nil
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
