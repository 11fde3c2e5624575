package registry

import (
	"bytes"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"
)

// splitMin is the size from which a document's systems are decoded in
// chunks: below it, one decode is quick enough. A variable only for the
// registry's tests, which make it and chunkEntries a tenth (TestMain).
var splitMin = 1 << 20

// chunkEntries is how many systems a chunk holds: small enough that the
// YAML nodes of the chunks being decoded stay a small part of the
// document's (decoded whole, 100,000 systems' nodes were 400 MB at once).
var chunkEntries = 1000

// decodeDocument decodes an import document (YAML, unknown fields
// refused). The systems of a large document, most of its bytes, are
// decoded in chunks of their block sequence's entries, one per CPU at a
// time (splitSystems), and come in order from the chunks it returns
// (Systems is then nil): the importer checks the first systems while the
// later ones decode. A chunk of plain YAML is parsed by fastParser.systems,
// any other by yaml.v3. Anything the cut cannot be sure of, and the
// document is decoded whole (chunks is nil); a chunk that does not
// decode makes chunks.each false, and the importer then decodes the
// whole document for its error: the result and the error are always
// those of the whole decode.
// The workers also normalize each system as a snapshot of zone would
// (normalized).
func decodeDocument(data []byte, zone string) (d Document, chunks *systemChunks, err error) {
	if len(data) >= splitMin {
		if d, c, ok := startSplit(data, chunkEntries, runtime.GOMAXPROCS(0), zone); ok {
			return d, c, nil
		}
	}
	d, err = decodeWhole(data)
	return d, nil, err
}

func decodeWhole(data []byte) (Document, error) {
	var d Document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&d)
	return d, err
}

// systemChunks are the systems of a document, decoded a chunk at a time
// by workers in the background.
type systemChunks struct {
	count  int            // the entries, decoded or not
	chunks [][]System     // chunk i once done[i] is closed
	norms  [][]normalized // its systems normalized, as well
	done   []chan struct{}
	failed atomic.Bool // a chunk did not decode: the rest are not tried
}

// each calls f with every system in order, and its normalizeSystem,
// waiting for each chunk's decode; false when a chunk did not decode
// (then f has not seen all). It may be called again: the chunks are
// kept.
func (c *systemChunks) each(f func(System, *normalized)) bool {
	for i := range c.chunks {
		<-c.done[i]
		if c.failed.Load() {
			return false
		}
		for j, s := range c.chunks[i] {
			f(s, &c.norms[i][j])
		}
	}
	return true
}

// stop makes the workers skip the chunks they have not started.
func (c *systemChunks) stop() { c.failed.Store(true) }

// startSplit decodes data as the document without its systems, and
// starts decoding the systems in chunks of per entries, workers at once;
// false when data cannot be cut so (splitSystems) or the rest does not
// decode. The workers normalize the systems in zone.
func startSplit(data []byte, per, workers int, zone string) (Document, *systemChunks, bool) {
	head, parts, line, count, ok := splitSystems(data, per)
	if !ok {
		return Document{}, nil, false
	}
	c := &systemChunks{count: count, chunks: make([][]System, len(parts)), norms: make([][]normalized, len(parts)), done: make([]chan struct{}, len(parts))}
	for i := range c.done {
		c.done[i] = make(chan struct{})
	}
	go func() {
		var g errgroup.Group
		g.SetLimit(workers)
		parsers := make(chan *fastParser, workers) // one a worker
		for range workers {
			parsers <- new(fastParser)
		}
		for i, part := range parts {
			g.Go(func() error {
				defer close(c.done[i])
				if c.failed.Load() {
					return nil
				}
				p := <-parsers
				defer func() { parsers <- p }()
				systems, ok := p.systems(part)
				if !ok {
					var err error
					if systems, err = yamlChunk(part); err != nil {
						c.failed.Store(true)
						return nil
					}
				}
				c.chunks[i], c.norms[i] = systems, normalize(zone, systems)
				return nil
			})
		}
		g.Wait()
	}()
	d, err := decodeWhole(head)
	if err != nil || d.Systems != nil || !systemsKeyAt(head, line) {
		c.stop()
		return Document{}, nil, false
	}
	return d, c, true
}

// decodeSplit is startSplit with the systems waited for, in d.Systems.
func decodeSplit(data []byte, per, workers int) (Document, bool) {
	d, c, ok := startSplit(data, per, workers, "")
	if !ok {
		return Document{}, false
	}
	d.Systems = make([]System, 0, c.count)
	if !c.each(func(s System, _ *normalized) { d.Systems = append(d.Systems, s) }) {
		return Document{}, false
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
// is the first), count the number of entries. Each entry starts with "- " at the sequence's
// indentation and goes on with lines indented more (blank and comment
// lines anywhere); any other line, a tab in an indentation, a document
// marker or a second "systems:" line and ok is false.
func splitSystems(data []byte, per int) (head []byte, chunks [][]byte, line, count int, ok bool) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	key := -1
	for i, l := range lines {
		if string(bytes.TrimRight(l, " \r\n")) == "systems:" {
			if key >= 0 {
				return nil, nil, 0, 0, false
			}
			key = i
		}
	}
	if key < 0 {
		return nil, nil, 0, 0, false
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
			return nil, nil, 0, 0, false
		case indent < 0 && isEntry(text):
			indent = n
		}
		if indent < 0 {
			return nil, nil, 0, 0, false
		}
		if n == 0 && !(indent == 0 && isEntry(text)) {
			end = i
			break
		}
		switch {
		case n == indent && isEntry(text):
			starts = append(starts, i)
		case n <= indent:
			return nil, nil, 0, 0, false
		}
	}
	if len(starts) < 2 {
		return nil, nil, 0, 0, false
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
	return head, chunks, key + 1, len(starts), true
}

func isEntry(text []byte) bool {
	return text[0] == '-' && (len(text) == 1 || text[1] == ' ')
}

// yamlChunk decodes a chunk of a document's systems with yaml.v3, unknown
// fields refused, as the whole document is.
func yamlChunk(part []byte) ([]System, error) {
	var out []System
	dec := yaml.NewDecoder(bytes.NewReader(part))
	dec.KnownFields(true)
	err := dec.Decode(&out)
	return out, err
}
