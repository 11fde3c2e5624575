package tftp

import (
	"bytes"
	"embed"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"unicode"
)

// Template names under templates/.
const (
	pxelinuxTemplate     = "pxelinux.tmpl"      // PXELINUX config, per host or default
	grubTemplate         = "grub.tmpl"          // GRUB config of one host
	grubFallbackTemplate = "grub-fallback.tmpl" // GRUB's grub.cfg
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// templates is parsed once and only read afterwards.
var templates = template.Must(template.New("").
	Funcs(template.FuncMap{"grubquote": grubQuote, "grubpath": grubPath, "fields": strings.Fields}).
	ParseFS(templateFS, "templates/*.tmpl"))

// hostData is what a template sees: the host's boot config and its MAC
// ("aa:bb:cc:dd:ee:ff"). A nil *hostData renders the local-boot fallback.
type hostData struct {
	BootConfig
	MAC string
}

// render executes a template for a host, after checking that the host's
// fields cannot break out of the line or the word they are written into.
func render(name string, host *hostData) ([]byte, error) {
	if host != nil {
		if err := checkBootConfig(host.BootConfig); err != nil {
			return nil, fmt.Errorf("host %s (%s): %w", host.Name, host.MAC, err)
		}
	}
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, host); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

func checkBootConfig(b BootConfig) error {
	if b.Err != nil {
		return b.Err
	}
	for _, f := range []struct{ name, value string }{
		{"name", b.Name}, {"kernel", b.Kernel}, {"initrd", b.Initrd}, {"args", b.Args},
	} {
		if strings.ContainsFunc(f.value, unicode.IsControl) {
			return fmt.Errorf("%s %q has a control character", f.name, f.value)
		}
	}
	if strings.ContainsFunc(b.Kernel+b.Initrd, unicode.IsSpace) {
		return fmt.Errorf("kernel %q or initrd %q has a space", b.Kernel, b.Initrd)
	}
	if b.Netboot && b.Kernel == "" {
		return fmt.Errorf("netboot without a kernel")
	}
	return nil
}

// grubQuote writes s as one literal GRUB word: nothing is special inside
// single quotes, and a quote itself closes them, adds \' and reopens them.
func grubQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// grubPath turns a kernel or initrd location into GRUB's device syntax.
// Debian's signed GRUB has no HTTP (and loads no module under Secure
// Boot), so the appliance's http://host[:port]/images/... is read over
// TFTP from the server GRUB booted from ($root), which serves the
// images' files under the same path; tftp://host/p becomes (tftp,host)/p,
// and a plain path is read from $root too.
func grubPath(loc string) (string, error) {
	if !strings.Contains(loc, "://") {
		return "/" + strings.TrimLeft(loc, "/"), nil
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http":
		return u.Path, nil
	case "tftp":
		return "(tftp," + u.Hostname() + ")" + u.Path, nil
	}
	return "", fmt.Errorf("GRUB cannot fetch %s: only http (from the appliance, over TFTP) and tftp", loc)
}
