package cobbler

import (
	"regexp"
	"slices"
	"strings"

	"github.com/provision/provision/kickstart"
)

var (
	// directiveRE finds Cheetah directives: #if, #for, #set, #include...
	directiveRE = regexp.MustCompile(`#(if|else|elif|end|for|while|set|silent|echo|include|import|from|extends|implements|def|block|attr|raw|filter|call|capture|cache|try|except|finally|unless|break|continue|pass|stop|return|slurp|indent|errorCatcher|compiler-settings|breakpoint|assert|del|encoding|py)\b`)
	// placeholderRE finds Cheetah placeholders that a backslash does not
	// escape: $name, ${...}, $(...), $[...].
	placeholderRE = regexp.MustCompile(`(^|[^\\])\$([A-Za-z_][A-Za-z0-9_.]*|\{|\(|\[)`)
)

// CheetahFeatures lists the Cheetah syntax text uses, in a stable order,
// e.g. ["$SNIPPET()", "#if", "$variables ($hostname, $tree)"]. None means
// the text is plain: Cobbler would serve it unchanged but for its escapes
// (\$ and \#).
func CheetahFeatures(text string) []string {
	var out []string
	if strings.Contains(text, "#*") {
		out = append(out, "#* comments *#")
	}
	var vars []string
	other := map[string]bool{}
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		name, _, _ := strings.Cut(m[2], ".")
		switch {
		case name == "SNIPPET" || strings.HasPrefix(name, "SNIPPET"):
			other["$SNIPPET()"] = true
		case name == "getVar" || name == "getattr":
			other["$"+name+"()"] = true
		case name == "{":
			other["${...}"] = true
		case name == "(":
			other["$(...)"] = true
		case name == "[":
			other["$[...]"] = true
		default:
			if !slices.Contains(vars, "$"+name) {
				vars = append(vars, "$"+name)
			}
		}
	}
	for _, k := range []string{"$SNIPPET()", "$getVar()", "$getattr()", "${...}", "$(...)", "$[...]"} {
		if other[k] {
			out = append(out, k)
		}
	}
	var dirs []string
	for _, m := range directiveRE.FindAllStringSubmatch(text, -1) {
		if d := "#" + m[1]; !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	out = append(out, dirs...)
	if len(vars) > 0 {
		shown := vars[:min(3, len(vars))]
		more := ""
		if len(vars) > 3 {
			more = ", ..."
		}
		out = append(out, "$variables ("+strings.Join(shown, ", ")+more+")")
	}
	return out
}

// plainTemplate turns a plain Cobbler template into a provision one: its
// Cheetah escapes undone (\$ is $, \# is #) and Go's template delimiters
// made literal, so that it renders as Cobbler served it.
func plainTemplate(text string) string {
	text = strings.NewReplacer(`\$`, `$`, `\#`, `#`).Replace(text)
	return strings.ReplaceAll(text, "{{", `{{"{{"}}`)
}

// templateKind is the kind of template a profile's distro installs with:
// a preseed for Debian and Ubuntu (cloud-init user-data, autoinstall, when
// the file says #cloud-config), a kickstart for the Red Hat family, and a
// plain script for the others (AutoYaST, ...), whose installers provision
// does not point at the template by itself.
func templateKind(breed, text string) string {
	switch strings.ToLower(breed) {
	case "debian", "ubuntu":
		if strings.HasPrefix(strings.TrimSpace(text), "#cloud-config") {
			return kickstart.KindAutoinstall
		}
		return kickstart.KindPreseed
	case "", "redhat", "fedora", "centos", "rhel", "rocky", "almalinux":
		return kickstart.KindKickstart
	}
	return kickstart.KindScript
}
