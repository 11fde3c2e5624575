package registry

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sameAsYAML fails t when fastParser.systems takes part and yaml.v3 does not
// decode it to the same Systems; it returns whether fastParser.systems took it.
func sameAsYAML(t *testing.T, part []byte) bool {
	t.Helper()
	fast, ok := new(fastParser).systems(part)
	if !ok {
		return false
	}
	want, err := yamlChunk(part)
	if err != nil {
		t.Fatalf("fastParser.systems takes what yaml.v3 refuses (%v):\n%s", err, part)
	}
	if d := cmp.Diff(want, fast); d != "" {
		t.Fatalf("fastParser.systems decodes otherwise (-yaml.v3 +fast):\n%s\n%s", d, part)
	}
	return true
}

// systemsOf is the systems block of doc, as splitSystems cuts it (one
// chunk).
func systemsOf(t *testing.T, doc []byte) []byte {
	t.Helper()
	_, chunks, _, _, ok := splitSystems(doc, 1<<30)
	if !ok || len(chunks) != 1 {
		t.Fatalf("not cut: %v, %d chunks", ok, len(chunks))
	}
	return chunks[0]
}

// TestFastSystemsTakes: the systems of a generated fleet file (flow
// style), of an export (block style) and of the shapes an import writes
// decode by fastParser.systems, as yaml.v3 decodes them.
func TestFastSystemsTakes(t *testing.T) {
	r, _ := openInstall(t)
	if _, err := r.Import(t.Context(), manySystems(30), false); err != nil {
		t.Fatal(err)
	}
	export, _ := r.Snapshot().Export(true)
	for name, doc := range map[string][]byte{"fleet": fleetDoc(30), "many": manySystems(30), "export": export} {
		t.Run(name, func(t *testing.T) {
			if !sameAsYAML(t, systemsOf(t, doc)) {
				t.Fatalf("fastParser.systems does not take it:\n%s", systemsOf(t, doc))
			}
		})
	}
}

// TestFastSystemsLikeYAML: entries of every kind fastParser.systems takes decode
// as yaml.v3 decodes them, and what it cannot be sure of it leaves to
// yaml.v3 (take false).
func TestFastSystemsLikeYAML(t *testing.T) {
	tests := []struct {
		part string
		take bool
	}{
		{"  - {name: a, macs: [\"02:00:00:00:00:01\"], ip: 10.0.0.5, netboot: true, settings: {k: \"v #1\", n: 12, e: \"\"}}\n", true},
		{"  - name: a\n    macs:\n      - 02:00:00:00:00:01\n    settings:\n      x: y z\n      t: true\n      f: 1.5\n      null: ~\n", true},
		{"- name: a\n  macs:\n  - 02:00:00:00:00:01\n  - 02:00:00:00:00:02\n  ip: 10.0.0.5\n- name: b\n", true},
		{"  -   name: a\n      bmc: {address: 10.0.0.9, port: 623, insecure: false}\n      interfaces: [{name: eth0, mtu: 9000, primary: true}, {name: eth1}]\n", true},
		{"  - name:\n    ip:\n    macs: []\n    settings: {}\n", true},
		{"  - name: a\n\n    ip: \"10.0.0.5\"\n\n", true},
		{"  - {name: a, settings: {k: -1, l: 0x1F, m: +3, o: .inf, p: yes, q: No}}\n", true},
		{"  - {name: a, netboot: maybe}\n", false},   // yaml.v3: a type error
		{"  - {name: a, name: b}\n", false},          // duplicate key
		{"  - {nmae: a}\n", false},                   // unknown field
		{"  - {name: a, bmc: {adress: x}}\n", false}, // unknown field, nested
		{"  - name: a # comment\n", false},           // comments: yaml.v3's
		{"  - name: &x a\n", false},                  // anchors
		{"  - name: 'a'\n", false},                   // single quotes
		{"  - name: \"a\\tb\"\n", false},             // escapes
		{"  - name: a\n      b\n", false},            // a multi-line scalar
		{"  - name: |\n      a\n", false},            // block scalars
		{"  - {name: a,\n     ip: b}\n", false},      // a multi-line flow collection
		{"  - name: a: b\n", false},                  // not YAML
		{"  - {name: 02:00}\n", false},               // ':' in a flow scalar
		{"  - name: a\n   ip: b\n", false},           // misaligned
		{"  - name: a\n  - b\n", true},               // b: yaml.v3's type error
		{"  - name: \"\x01\"\n", false},              // a control character
		{"  - name: \"caf\xc3\xa9\"\n", false},       // not ASCII
		{"  - name: a\tb\n", false},                  // tab
		{"  - name: a \n", true},                     // trailing space
		{"  - name: <<\n", false},                    // merge key
		{"  - name: a\r\n", false},                   // CR
		{"  - {name: [a, b]}\n", false},              // yaml.v3: a type error
		{"  - {settings: {a: [b]}}\n", false},        // yaml.v3: a type error
		{"  - {name: a}\n  - {name: b, kernel_args: console=ttyS0 quiet}\n", true},
	}
	for _, tt := range tests {
		got := false
		t.Run("", func(t *testing.T) { got = sameAsYAML(t, []byte(tt.part)) })
		_, yerr := yamlChunk([]byte(tt.part))
		if tt.take && yerr != nil {
			continue // a type error: fastParser.systems falls back (sameAsYAML checked it does not take it wrongly)
		}
		if got != tt.take {
			t.Errorf("fastParser.systems takes %q: %v, want %v", tt.part, got, tt.take)
		}
	}
}

// FuzzFastSystems: whatever fastParser.systems takes, yaml.v3 decodes the same.
func FuzzFastSystems(f *testing.F) {
	for _, doc := range [][]byte{fleetDoc(3), manySystems(3)} {
		_, chunks, _, _, _ := splitSystems(doc, 1<<30)
		f.Add(string(chunks[0]))
	}
	f.Add("  - name: a\n    macs:\n    - 02:00:00:00:00:01\n    settings: {k: \"v\", n: 1}\n")
	f.Fuzz(func(t *testing.T, part string) {
		if strings.Count(part, "\n") > 200 {
			return
		}
		sameAsYAML(t, []byte(part))
	})
}

// BenchmarkDecodeChunk: a chunk of 1,000 systems of a fleet file (flow
// style) and of an export (block style), by yaml.v3 and by a decode
// worker's fastParser.
func BenchmarkDecodeChunk(b *testing.B) {
	r, _ := openTest(b)
	if _, err := r.Import(context.Background(), fleetDoc(chunkEntries), false); err != nil {
		b.Fatal(err)
	}
	export, _ := r.Snapshot().Export(true)
	for name, doc := range map[string][]byte{"fleet": fleetDoc(chunkEntries), "export": export} {
		_, chunks, _, _, _ := splitSystems(doc, 1<<30)
		b.Run(name+"/yaml", func(b *testing.B) {
			for b.Loop() {
				if _, err := yamlChunk(chunks[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/fast", func(b *testing.B) {
			p := new(fastParser) // as a decode worker keeps one
			for b.Loop() {
				if _, ok := p.systems(chunks[0]); !ok {
					b.Fatal("not taken")
				}
			}
		})
	}
}

// TestFastParserReuse: a parser that decodes chunk after chunk of other
// shapes (its Nodes reused) decodes each as a new one does.
func TestFastParserReuse(t *testing.T) {
	var parts [][]byte
	for _, doc := range [][]byte{manySystems(40), fleetDoc(40), manySystems(7), fleetDoc(300)} {
		_, chunks, _, _, _ := splitSystems(doc, 13)
		parts = append(parts, chunks...)
	}
	p := new(fastParser)
	for _, part := range append(parts, parts...) {
		want, err := yamlChunk(part)
		got, ok := p.systems(part)
		if err != nil || !ok {
			t.Fatalf("yaml.v3: %v, taken: %v", err, ok)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("a reused parser decodes otherwise (-yaml.v3 +fast):\n%s", d)
		}
	}
}
