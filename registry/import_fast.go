package registry

import (
	"encoding"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// systems decodes a chunk of a document's systems (splitSystems' cut:
// block sequence entries) as yaml.v3 does (yamlChunk), for half its CPU:
// its own parser builds the yaml.Nodes of the plain YAML an export or a
// generated fleet file is made of, and yaml.v3 decodes them into
// Systems (Node.Decode: the same conversions and errors). false when
// part has anything else (comments, anchors, tags, escapes, single
// quotes, block scalars, multi-line scalars or flow collections, a key
// no field takes...): the caller decodes it with yaml.v3 then. The Nodes
// of p's last call serve again.
func (p *fastParser) systems(part []byte) ([]System, bool) {
	p.lines, p.i, p.block, p.used = strings.Split(string(part), "\n"), 0, 0, 0
	p.skip()
	if p.i == len(p.lines) {
		return nil, false
	}
	ind, _ := p.indent()
	seq, ok := p.blockAt(ind)
	if !ok || seq.Kind != yaml.SequenceNode {
		return nil, false
	}
	if p.skip(); p.i != len(p.lines) {
		return nil, false
	}
	var out []System
	k := fieldCache{}
	if !k.known(seq, reflect.TypeFor[[]System]()) || seq.Decode(&out) != nil {
		return nil, false
	}
	return out, true
}

// fastParser reads lines of block YAML: sequences, mappings, and one-line
// scalars and flow collections. A decode worker keeps one: the Nodes of
// a chunk are garbage once it is decoded, and serve the next chunk.
type fastParser struct {
	lines  []string
	i      int           // the line being read
	blocks [][]yaml.Node // the Nodes, allocated a block at a time
	block  int           // the block being used
	used   int           // its Nodes in use
}

// node is a Node not in use, as new but for its Content's capacity.
func (p *fastParser) node(kind yaml.Kind, tag string, style yaml.Style, value string) *yaml.Node {
	if p.block < len(p.blocks) && p.used == len(p.blocks[p.block]) {
		p.block, p.used = p.block+1, 0
	}
	if p.block == len(p.blocks) {
		p.blocks = append(p.blocks, make([]yaml.Node, 1024))
	}
	n := &p.blocks[p.block][p.used]
	p.used++
	*n = yaml.Node{Kind: kind, Tag: tag, Style: style, Value: value, Content: n.Content[:0]}
	return n
}

// skip passes blank lines.
func (p *fastParser) skip() {
	for p.i < len(p.lines) && strings.TrimRight(p.lines[p.i], " ") == "" {
		p.i++
	}
}

// indent is line i's indentation and text.
func (p *fastParser) indent() (int, string) {
	l := p.lines[p.i]
	t := strings.TrimLeft(l, " ")
	return len(l) - len(t), strings.TrimRight(t, " ")
}

// blockAt reads the block node (sequence or mapping) whose lines start at
// column ind, from line i.
func (p *fastParser) blockAt(ind int) (*yaml.Node, bool) {
	p.skip()
	if p.i == len(p.lines) {
		return nil, false
	}
	n, text := p.indent()
	if n != ind {
		return nil, false
	}
	if isEntryText(text) {
		return p.sequence(ind)
	}
	return p.mapping(ind, text)
}

// sequence reads the entries "- x" at column ind.
func (p *fastParser) sequence(ind int) (*yaml.Node, bool) {
	seq := p.node(yaml.SequenceNode, "!!seq", 0, "")
	for {
		p.skip()
		if p.i == len(p.lines) {
			return seq, true
		}
		n, text := p.indent()
		if n < ind || (n == ind && !isEntryText(text)) {
			return seq, true
		}
		if n != ind {
			return nil, false
		}
		rest := strings.TrimLeft(text[1:], " ")
		var v *yaml.Node
		var ok bool
		if rest == "" {
			p.i++
			v, ok = p.nested(ind, false)
		} else {
			v, ok = p.inline(ind+len(text)-len(rest), rest)
		}
		if !ok {
			return nil, false
		}
		seq.Content = append(seq.Content, v)
	}
}

// inline reads the node that starts at column col of line i, with text
// (not blank): a mapping whose first key is there, or a one-line value.
func (p *fastParser) inline(col int, text string) (*yaml.Node, bool) {
	if _, _, ok := p.splitKey(text); ok {
		return p.mapping(col, text)
	}
	p.i++
	return p.oneLine(text)
}

// mapping reads the pairs "key: value" at column ind; text is line i's.
func (p *fastParser) mapping(ind int, text string) (*yaml.Node, bool) {
	m := p.node(yaml.MappingNode, "!!map", 0, "")
	for {
		k, rest, ok := p.splitKey(text)
		if !ok {
			return nil, false
		}
		p.i++
		var v *yaml.Node
		if rest == "" {
			v, ok = p.nested(ind, true)
		} else {
			v, ok = p.oneLine(rest)
		}
		if !ok {
			return nil, false
		}
		m.Content = append(m.Content, k, v)
		p.skip()
		if p.i == len(p.lines) {
			return m, true
		}
		var n int
		if n, text = p.indent(); n < ind || (n == ind && isEntryText(text)) {
			return m, true
		}
		if n != ind {
			return nil, false
		}
	}
}

// nested reads the value of an entry or key at column ind that has none
// on its line: the block on the lines below, indented more (a key's may
// also be a sequence at ind), or null.
func (p *fastParser) nested(ind int, key bool) (*yaml.Node, bool) {
	p.skip()
	if p.i < len(p.lines) {
		n, text := p.indent()
		if n > ind || (key && n == ind && isEntryText(text)) {
			return p.blockAt(n)
		}
	}
	return p.node(yaml.ScalarNode, "!!null", 0, ""), true
}

// splitKey cuts "key: rest" (or "key:"), the key plain or double-quoted.
func (p *fastParser) splitKey(text string) (*yaml.Node, string, bool) {
	k, rest, ok := p.scalar(text, false)
	if !ok || !strings.HasPrefix(rest, ":") || (len(rest) > 1 && rest[1] != ' ') {
		return nil, "", false
	}
	return k, strings.TrimLeft(rest[1:], " "), true
}

// oneLine is the value that is all of text: a scalar or a flow
// collection.
func (p *fastParser) oneLine(text string) (*yaml.Node, bool) {
	var n *yaml.Node
	var rest string
	var ok bool
	if text[0] == '{' || text[0] == '[' {
		n, rest, ok = p.flow(text)
	} else {
		n, rest, ok = p.scalar(text, false)
	}
	return n, ok && rest == ""
}

// flow reads a flow mapping or sequence at the start of text, and what
// follows it.
func (p *fastParser) flow(text string) (*yaml.Node, string, bool) {
	n := p.node(yaml.SequenceNode, "!!seq", yaml.FlowStyle, "")
	end := byte(']')
	if text[0] == '{' {
		n.Kind, n.Tag, end = yaml.MappingNode, "!!map", '}'
	}
	text = strings.TrimLeft(text[1:], " ")
	if text != "" && text[0] == end {
		return n, strings.TrimLeft(text[1:], " "), true
	}
	for {
		if n.Kind == yaml.MappingNode {
			k, rest, ok := p.scalar(text, true)
			if !ok || !strings.HasPrefix(rest, ": ") {
				return nil, "", false
			}
			n.Content = append(n.Content, k)
			text = strings.TrimLeft(rest[1:], " ")
		}
		v, rest, ok := p.flowValue(text)
		if !ok {
			return nil, "", false
		}
		n.Content = append(n.Content, v)
		switch {
		case strings.HasPrefix(rest, ", "):
			text = strings.TrimLeft(rest[1:], " ")
		case rest != "" && rest[0] == end:
			return n, strings.TrimLeft(rest[1:], " "), true
		default:
			return nil, "", false
		}
	}
}

func (p *fastParser) flowValue(text string) (*yaml.Node, string, bool) {
	if text == "" {
		return nil, "", false
	}
	if text[0] == '{' || text[0] == '[' {
		return p.flow(text)
	}
	return p.scalar(text, true)
}

// scalar reads a plain or double-quoted scalar at the start of text (in
// a flow collection: inFlow) and returns what follows, spaces trimmed. A
// plain scalar ends at ": " or a final ":" (and in a flow collection at
// ",", "]" or "}"); it may hold only letters, digits, inner spaces and
// "._/+=-~", and ":" not followed by a space outside flow collections.
func (p *fastParser) scalar(text string, inFlow bool) (*yaml.Node, string, bool) {
	if text == "" {
		return nil, "", false
	}
	if text[0] == '"' {
		end := strings.IndexByte(text[1:], '"')
		if end < 0 {
			return nil, "", false
		}
		v := text[1 : 1+end]
		for i := range len(v) { // printable ASCII, no escape
			if v[i] < 0x20 || v[i] > 0x7e || v[i] == '\\' {
				return nil, "", false
			}
		}
		return p.node(yaml.ScalarNode, "!!str", yaml.DoubleQuotedStyle, strings.Clone(v)), strings.TrimLeft(text[2+end:], " "), true
	}
	c := text[0]
	if !(isWord(c) || c == '/' || c == '.' || c == '~' || c == '+' || (c == '-' && len(text) > 1 && text[1] != ' ')) {
		return nil, "", false
	}
	i := 0
	for ; i < len(text); i++ {
		c := text[i]
		switch {
		case isWord(c) || strings.IndexByte("._/+=-~", c) >= 0:
		case c == ' ':
			if i+1 == len(text) || text[i+1] == ' ' {
				return nil, "", false // trimmed lines end in no space; two spaces: not this subset
			}
		case c == ':' && (i+1 == len(text) || text[i+1] == ' '):
			goto done
		case c == ':' && !inFlow:
		case inFlow && (c == ',' || c == ']' || c == '}'):
			goto done
		default:
			return nil, "", false
		}
	}
done:
	v := text[:i]
	if strings.HasSuffix(v, " ") {
		return nil, "", false
	}
	// A copy, not a piece of the document: the Systems outlive it. The
	// tag is resolved as yaml.v3's parser resolves a plain scalar's.
	n := p.node(yaml.ScalarNode, "", 0, strings.Clone(v))
	n.Tag = n.ShortTag()
	if n.Tag == "!!merge" || n.Tag == "!!binary" {
		return nil, "", false
	}
	return n, text[i:], true
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// fieldCache is, by struct type, the types of the fields yaml.v3
// decodes each key into; nil for a struct it cannot tell (an inline
// field).
type fieldCache map[reflect.Type]map[string]reflect.Type

// known reports whether every mapping key of n under a struct of t
// names one of its fields (yaml.v3's KnownFields), for the types an
// import's systems have: false for anything it does not know to decide
// (an inline field, a type with its own unmarshaling).
func (k fieldCache) known(n *yaml.Node, t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer:
		return k.known(n, t.Elem())
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				if !k.known(c, t.Elem()) {
					return false
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 1; i < len(n.Content); i += 2 {
				if !k.known(n.Content[i], t.Elem()) {
					return false
				}
			}
		}
	case reflect.Struct:
		fields, ok := k[t]
		if !ok {
			fields = yamlFields(t)
			k[t] = fields
		}
		if fields == nil {
			return false
		}
		if n.Kind != yaml.MappingNode {
			return true // a type error, yaml.v3's as well
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			ft, ok := fields[n.Content[i].Value]
			if !ok || !k.known(n.Content[i+1], ft) {
				return false
			}
		}
	}
	return !unmarshals(t)
}

// unmarshals reports whether yaml.v3 decodes into t with t's own method.
func unmarshals(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(reflect.TypeFor[yaml.Unmarshaler]()) || p.Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// yamlFields are the fields of struct t that yaml.v3 decodes keys into,
// by key; nil when t has an inline field.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			return nil
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func isEntryText(text string) bool {
	return text[0] == '-' && (len(text) == 1 || text[1] == ' ')
}
