package cobbler

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/provision/provision/registry"
)

// YAML is the Doc as `provision import FILE` reads it.
func (ip *ImportPlan) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&ip.Doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// Counts says how many objects of each kind the Doc has: "3 images, 5
// profiles, 2 templates, 2 subnets, 41 systems".
func (ip *ImportPlan) Counts() string {
	d := ip.Doc
	return strings.Join([]string{plural(len(d.Images), "image"), plural(len(d.Profiles), "profile"),
		plural(len(d.Templates), "template"), plural(len(d.Subnets), "subnet"), plural(len(d.Systems), "system")}, ", ")
}

// Write prints the plan: the counts, with objects each object ("+" new,
// "=" already in the registry), then every conflict, what is left out,
// the images registered without files, what needs review and what is
// not carried over.
func (ip *ImportPlan) Write(w io.Writer, objects bool) {
	fmt.Fprintf(w, "plan: %s\n", ip.Counts())
	if objects {
		ip.writeObjects(w)
	}
	section(w, "conflicts", ip.Conflicts, func(c Conflict) string { return c.Msg })
	section(w, "left out", ip.Skipped, func(s Skip) string { return s.Object + ": " + s.Why })
	section(w, "registered without files", ip.WithoutFiles, func(s string) string { return s })
	section(w, "needs review", ip.Review, func(s string) string { return s })
	renamed := slices.Sorted(func(yield func(string) bool) {
		for k, v := range ip.Renamed {
			if !yield(k + " is " + v) {
				return
			}
		}
	})
	section(w, "renamed", renamed, func(s string) string { return s })
	section(w, "not carried over", ip.Lost, func(s string) string { return s })
	section(w, "Cobbler data provision has no place for", ip.Unsupported, func(f Found) string {
		field := f.Field
		if f.Kind == "collection" {
			field = "collection " + field
		}
		return fmt.Sprintf("%s (%s): %s", field, shortList(f.Objects, 4), f.Reason)
	})
}

func section[T any](w io.Writer, title string, items []T, line func(T) string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "%s (%d):\n", title, len(items))
	for _, x := range items {
		fmt.Fprintln(w, "  "+line(x))
	}
}

func (ip *ImportPlan) mark(label string) string {
	if slices.Contains(ip.Existing, label) {
		return "="
	}
	return "+"
}

func (ip *ImportPlan) writeObjects(w io.Writer) {
	d := ip.Doc
	for _, t := range d.Templates {
		fmt.Fprintf(w, "  %s template %s (%s, %d bytes)\n", ip.mark("template "+t.Name), t.Name, t.Kind, len(t.Text))
	}
	for _, img := range d.Images {
		files := fmt.Sprintf("kernel %d bytes, initrd %d bytes", img.Files["kernel"].Size, img.Files["initrd"].Size)
		if len(img.Files) == 0 {
			files = "no files: to upload"
		}
		fmt.Fprintf(w, "  %s image %s (%s)\n", ip.mark("image "+img.Name), img.Name, files)
	}
	for _, p := range d.Profiles {
		fmt.Fprintf(w, "  %s profile %s (image %s, template %s, kernel args %q, %s)\n", ip.mark("profile "+p.Name), p.Name, p.Image, or(p.Kickstart, "none"), p.KernelArgs, plural(len(p.Settings), "setting"))
	}
	for _, s := range d.Subnets {
		fmt.Fprintf(w, "  + subnet %s (%s, gateway %s, dns %s)\n", s.Name, s.CIDR, or(s.Gateway, "none"), or(strings.Join(s.DNSServers, ","), "none"))
	}
	for _, s := range d.Systems {
		fmt.Fprintf(w, "  %s system %s (%s, %s, profile %s, %s, netboot %v%s)\n", ip.mark("system "+s.Name), s.Name, s.IP, strings.Join(s.MACs, ","), s.Profile, s.Status, s.Netboot, bmcNote(s.BMC))
	}
}

func bmcNote(b *registry.BMC) string {
	if b == nil {
		return ""
	}
	return fmt.Sprintf(", bmc %s %s", b.Provider, b.Address)
}

// shortList shows at most n items: "a, b, c and 4 more".
func shortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
