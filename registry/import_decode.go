package registry

import (
	"bytes"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"
)

// splitMin is the size from which a document's systems are decoded in
// chunks: below it, one decode is quick enough.
const splitMin = 1 << 20

// chunkEntries is how many systems a chunk holds: small enough that the
// YAML nodes of the chunks being decoded stay a small part of the
// document's (decoded whole, 100,000 systems' nodes were 400 MB at once).
const chunkEntries = 1000

// decodeDocument decodes an import document (YAML, unknown fields
// refused). The systems of a large document, most of its bytes, are
// decoded in chunks of their block sequence's entries, one per CPU at a
// time (splitSystems). Anything the cut cannot be sure of, and any
// error, and the document is decoded whole: the result and the error are
// always those of the whole decode.
func decodeDocument(data []byte) (Document, error) {
	if len(data) >= splitMin {
		if d, ok := decodeSplit(data, chunkEntries, runtime.GOMAXPROCS(0)); ok {
			return d, nil
		}
	}
	return decodeWhole(data)
}

func decodeWhole(data []byte) (Document, error) {
	var d Document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&d)
	return d, err
}

// decodeSplit decodes data as the document without its systems, and the
// systems in chunks of per entries, workers at once; false when data
// cannot be cut so (splitSystems) or a part does not decode.
func decodeSplit(data []byte, per, workers int) (Document, bool) {
	head, chunks, line, ok := splitSystems(data, per)
	if !ok {
		return Document{}, false
	}
	systems := make([][]System, len(chunks))
	var failed atomic.Bool
	var g errgroup.Group
	g.SetLimit(workers)
	for i, c := range chunks {
		g.Go(func() error {
			if failed.Load() {
				return nil
			}
			dec := yaml.NewDecoder(bytes.NewReader(c))
			dec.KnownFields(true)
			if dec.Decode(&systems[i]) != nil {
				failed.Store(true)
			}
			return nil
		})
	}
	d, err := decodeWhole(head)
	g.Wait()
	if err != nil || failed.Load() || d.Systems != nil || !systemsKeyAt(head, line) {
		return Document{}, false
	}
	n := 0
	for _, s := range systems {
		n += len(s)
	}
	d.Systems = make([]System, 0, n)
	for _, s := range systems {
		d.Systems = append(d.Systems, s...)
	}
	return d, true
}

// systemsKeyAt reports whether head's top-level mapping has the key
// systems, without a value, at line: the line splitSystems cut after is
// that key, not text inside another value.
func systemsKeyAt(head []byte, line int) bool {
	var n yaml.Node
	if yaml.Unmarshal(head, &n) != nil || n.Kind != yaml.DocumentNode || len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
		return false
	}
	m := n.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		k, v := m[i], m[i+1]
		if k.Value == "systems" && k.Line == line && k.Kind == yaml.ScalarNode && k.Style == 0 && v.Tag == "!!null" && v.Value == "" {
			return true
		}
	}
	return false
}

// splitSystems cuts the block sequence under a "systems:" line at column
// 0 out of data: head is data without it (the key left, with no value),
// chunks are its entries in runs of per, line is the key's line (1
// is the first). Each entry starts with "- " at the sequence's
// indentation and goes on with lines indented more (blank and comment
// lines anywhere); any other line, a tab in an indentation, a document
// marker or a second "systems:" line and ok is false.
func splitSystems(data []byte, per int) (head []byte, chunks [][]byte, line int, ok bool) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	key := -1
	for i, l := range lines {
		if string(bytes.TrimRight(l, " \r\n")) == "systems:" {
			if key >= 0 {
				return nil, nil, 0, false
			}
			key = i
		}
	}
	if key < 0 {
		return nil, nil, 0, false
	}
	indent, end := -1, len(lines)
	var starts []int // the lines entries start at
	for i := key + 1; i < len(lines); i++ {
		l := bytes.TrimRight(lines[i], "\r\n")
		text := bytes.TrimLeft(l, " ")
		n := len(l) - len(text)
		switch {
		case len(text) == 0 || text[0] == '#':
			continue
		case text[0] == '\t' || bytes.HasPrefix(l, []byte("---")) || bytes.HasPrefix(l, []byte("...")):
			return nil, nil, 0, false
		case indent < 0 && isEntry(text):
			indent = n
		}
		if indent < 0 {
			return nil, nil, 0, false
		}
		if n == 0 && !(indent == 0 && isEntry(text)) {
			end = i
			break
		}
		switch {
		case n == indent && isEntry(text):
			starts = append(starts, i)
		case n <= indent:
			return nil, nil, 0, false
		}
	}
	if len(starts) < 2 {
		return nil, nil, 0, false
	}
	offsets := make([]int, len(lines)+1) // of each line in data
	for i, l := range lines {
		offsets[i+1] = offsets[i] + len(l)
	}
	head = append(bytes.Clone(data[:offsets[key+1]]), data[offsets[end]:]...)
	for i := 0; i < len(starts); i += per {
		to := end
		if i+per < len(starts) {
			to = starts[i+per]
		}
		from := starts[i]
		if i == 0 {
			from = key + 1
		}
		chunks = append(chunks, data[offsets[from]:offsets[to]])
	}
	return head, chunks, key + 1, true
}

func isEntry(text []byte) bool {
	return text[0] == '-' && (len(text) == 1 || text[1] == ' ')
}
