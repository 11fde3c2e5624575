package tinydns

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchData is a data file for a zone of n hosts, each with an = line
// and a TXT record of settings.
func benchData(n int) []byte {
	var b bytes.Buffer
	b.WriteString(".lab.example:192.0.2.1:a\n")
	for i := range n {
		fmt.Fprintf(&b, "=host%05d.lab.example:10.%d.%d.%d:300\n", i, i>>16&255, i>>8&255, i&255)
		fmt.Fprintf(&b, "'host%05d.lab.example:provision.role=web provision.index=%d:300\n", i, i)
	}
	return b.Bytes()
}

// BenchmarkCompile compiles a data file of 10,000 hosts (30,003 records).
func BenchmarkCompile(b *testing.B) {
	data := benchData(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Compile(bytes.NewReader(data), 1, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
