package kickstart

import (
	"maps"
	"strconv"
	"strings"
	"text/template"
)

// funcs returns the functions that templates can call, in a new map: pure
// functions of their arguments, which doc.go lists. Arguments come in the
// order that suits a pipeline: {{index .Settings "disk" | default "sda"}}.
func funcs() template.FuncMap {
	m := template.FuncMap{
		"default":   defaultValue,
		"required":  required,
		"join":      func(sep string, list []string) string { return strings.Join(list, sep) },
		"split":     split,
		"lower":     strings.ToLower,
		"upper":     strings.ToUpper,
		"trim":      strings.TrimSpace,
		"replace":   func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"indent":    indent,
		"hasPrefix": func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
		"contains":  func(substr, s string) bool { return strings.Contains(s, substr) },
		"shquote":   shquote,
		"yaml":      yamlQuote,
		tickFunc:    func() string { return "" }, // each render's own replaces it (execute)
	}
	maps.Copy(m, limitedFuncs(func() error { return nil })) // bounded versions of the above, and of some built-ins; each render's own replace them (execute)
	return m
}

// defaultValue returns value, or def when value is empty.
func defaultValue(def, value string) string {
	if value == "" {
		return def
	}
	return value
}

// required returns value, or fails the template with msg when value is
// empty.
func required(msg, value string) (string, error) {
	if value == "" {
		return "", requiredError(msg)
	}
	return value, nil
}

// split splits s around each sep; an empty s has no elements (where
// strings.Split would return one empty string).
func split(sep, s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}

// indent puts n spaces before every line of s. A final newline ends the
// last line rather than starting a new one.
func indent(n int, s string) string {
	if s == "" {
		return ""
	}
	pad := strings.Repeat(" ", max(n, 0))
	body, nl := strings.CutSuffix(s, "\n")
	out := pad + strings.ReplaceAll(body, "\n", "\n"+pad)
	if nl {
		out += "\n"
	}
	return out
}

// shquote quotes s as one word for a POSIX shell: in single quotes, where
// nothing is special, with each ' written as '\”.
func shquote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// yamlQuote writes s as a YAML double-quoted scalar, safe anywhere a value
// goes in a cloud-config. strconv.Quote's escapes (\a \b \f \n \r \t \v \\
// \" \xXX \uXXXX \UXXXXXXXX) are all YAML 1.1 and 1.2 escapes with the same
// meaning, once invalid UTF-8 (which Quote would write as \x bytes, YAML
// code points) is replaced by U+FFFD.
func yamlQuote(s string) string {
	return strconv.Quote(strings.ToValidUTF8(s, "\uFFFD"))
}
