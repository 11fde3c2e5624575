package images

import (
	"fmt"
	"net/url"

	"github.com/provision/provision/internal/ipxetext"
)

// Kinds of boot event: a script, a file by its role, or the checksum list.
const (
	KindScript = "script"
	KindKernel = "kernel"
	KindInitrd = "initrd"
	KindRootfs = "rootfs"
	KindSums   = "SHA256SUMS"
)

// scriptData is what a script is written from.
type scriptData struct {
	Host
	MACText   string
	ImageURL  string // server/images/IMAGE
	HasInitrd bool
	server    string // for the kernel command line
}

// Script renders the iPXE script of h. server is the appliance's base URL
// ("http://10.0.0.1:8080", no trailing slash); files are the files of
// h.Image by role, used when h.Netboot is set: the image needs a kernel, and
// its initrd is loaded when it has one. Script refuses (ErrBadArgs) any value
// that would not stay one word of the script, and a kernel command line
// that h.Cmdline cannot make.
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
// ("netboot is off" when there is no reason), or, for a withheld build
// (Host.Withheld, which does not netboot):
//
//	echo provision: NAME is being installed: its build is handed only to its own address, not to this one
//
// CMDLINE is h.Cmdline's (the
// one error), asked with initrd=initrd first when the image has an initrd
// (the name the script gives it, for the EFI stub of kernels that predate
// initrd loading through LoadFile2).
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
		if b, err = d.kernelLine(b); err != nil {
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
	} else if d.Withheld {
		b = append(b, "\necho provision: "...)
		b = append(b, d.Name...)
		b = append(b, " is being installed: its build is handed only to its own address, not to this one"...)
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
	if h.Cmdline == nil {
		return d, fmt.Errorf("no kernel command line: %w", ErrBadArgs)
	}
	d.server = server
	return d, nil
}

// kernelLine appends the kernel command line of d (Host.Cmdline's).
func (d *scriptData) kernelLine(b []byte) ([]byte, error) {
	initrd := ""
	if d.HasInitrd {
		initrd = "initrd"
	}
	b, err := d.Cmdline(b, d.server, d.MAC, initrd)
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", err, ErrBadArgs)
	}
	return b, nil
}

// checkWords checks the values written as a single word or in a comment.
func checkWords(h Host, server string) error {
	if h.Name == "" {
		return fmt.Errorf("host without a name: %w", ErrBadArgs)
	}
	for _, f := range []struct{ name, value string }{
		{"name", h.Name}, {"profile", h.Profile}, {"image", h.Image}, {"server", server},
		{"reason", h.Reason}, {"install", installWord(h.Install)},
	} {
		if err := checkWord(f.value); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

func installWord(in *Install) string {
	if in == nil {
		return ""
	}
	return in.Kind
}

// checkWord refuses what would not stay one word of the script
// (ipxetext.CheckWord). The error names the position, never the value.
func checkWord(s string) error {
	if err := ipxetext.CheckWord(s); err != nil {
		return fmt.Errorf("%w: %w", err, ErrBadArgs)
	}
	return nil
}
