package human

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAML writes a JSON document as YAML, for people: fields in the order
// the server sends them (the registry's own order) with the name first,
// numbers as written, and sizes in bytes (size, *_size) of 1 KiB or more
// with their Size as a comment.
func YAML(w io.Writer, raw json.RawMessage) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil { // JSON is YAML
		return err
	}
	tidy(&doc)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return enc.Close()
}

// tidy drops JSON's quoting (YAML quotes what needs it), puts each
// mapping's name first and annotates sizes.
func tidy(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		n.Style = 0
	}
	n.Style &^= yaml.FlowStyle
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "name" && i > 0 {
				n.Content = append(append([]*yaml.Node{k, v}, n.Content[:i]...), n.Content[i+2:]...)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if size, err := strconv.ParseInt(v.Value, 10, 64); err == nil && v.Tag == "!!int" && (k.Value == "size" || strings.HasSuffix(k.Value, "_size")) && size >= 1024 {
				v.LineComment = Size(size)
			}
		}
	}
	for _, c := range n.Content {
		tidy(c)
	}
}

// Size is n bytes in binary units: 512B, 1.5KiB, 2.0GiB.
func Size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Bytes is n bytes in words for a summary line: 512 bytes, 1.5 KiB, 2.0 GiB.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
