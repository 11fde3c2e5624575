package cobbler

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// KernelOptions are kernel options as Cobbler keeps them: a dictionary of keys,
// each with its values ("console": ["tty0", "ttyS0"] is two console=
// words) or none (a flag such as "quiet"). A key "!k" removes k when
// blended over a parent's options.
type KernelOptions struct {
	m map[string][]string // a nil slice: a flag
}

// parseOptions reads kernel_options: a dictionary, or a string
// "k=v k2 k=v3" as `cobbler profile edit --kernel-options` takes it.
func parseOptions(v any) KernelOptions {
	o := KernelOptions{m: map[string][]string{}}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			o.m[k] = optionValues(e)
		}
	case string:
		if unset(str(x)) {
			break
		}
		for _, w := range splitWords(x) {
			k, val, hasVal := strings.Cut(w, "=")
			if !hasVal || val == "" {
				if _, ok := o.m[k]; !ok {
					o.m[k] = nil
				}
				continue
			}
			o.m[k] = append(o.m[k], val)
		}
	}
	return o
}

func optionValues(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var vals []string
		for _, e := range x {
			vals = append(vals, optionValues(e)...)
		}
		return vals
	case map[string]any:
		b, _ := json.Marshal(x)
		return []string{string(b)}
	}
	if s := str(v); s != "" {
		return []string{s}
	}
	return nil
}

// splitWords splits like a shell (shlex, which Cobbler uses): white space
// separates words, double or single quotes keep it.
func splitWords(s string) []string {
	var words []string
	var b strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			b.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words
}

// blend returns parent with child's keys over it, as Cobbler's blender
// does: a child's key replaces the parent's, and "!k" removes k.
func blend(parent, child KernelOptions) KernelOptions {
	out := KernelOptions{m: maps.Clone(parent.m)}
	if out.m == nil {
		out.m = map[string][]string{}
	}
	for _, k := range slices.Sorted(maps.Keys(child.m)) {
		if name, ok := strings.CutPrefix(k, "!"); ok {
			delete(out.m, name)
			continue
		}
		out.m[k] = child.m[k]
	}
	return out
}

// ownedByProvision are the kernel options provision sets itself: the
// installer's template URL (kickstart.BootArgs).
var ownedByProvision = []string{"ks", "inst.ks", "autoyast", "url", "preseed/url", "ds"}

// render writes o as kernel arguments, keys in alphabetical order and each
// key's values in their order: "console=tty0 console=ttyS0 quiet". What
// cannot be a kernel argument word of provision's is returned as lost,
// with the reason.
func (o KernelOptions) render() (args string, lost []string) {
	var words []string
	for _, k := range slices.Sorted(maps.Keys(o.m)) {
		vals := o.m[k]
		switch {
		case strings.HasPrefix(k, "!"):
			lost = append(lost, fmt.Sprintf("kernel option %s (a removal of an inherited option: provision appends a system's arguments to its profile's)", k))
			continue
		case slices.Contains(ownedByProvision, k):
			lost = append(lost, fmt.Sprintf("kernel option %s=%s (provision points the installer at its template itself)", k, strings.Join(vals, ",")))
			continue
		case strings.ContainsAny(k, " \t\"") || slices.ContainsFunc(vals, func(v string) bool { return strings.ContainsAny(v, " \t\"") }):
			lost = append(lost, fmt.Sprintf("kernel option %s=%q (a value with spaces or quotes)", k, strings.Join(vals, " ")))
			continue
		case len(vals) == 0:
			words = append(words, k)
		}
		for _, v := range vals {
			words = append(words, k+"="+v)
		}
	}
	return strings.Join(words, " "), lost
}
