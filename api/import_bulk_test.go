package api

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// A bulk import (1 MiB or more) runs Config.AfterBulk once answered; a
// small one does not.
func TestImportAfterBulk(t *testing.T) {
	var bulks atomic.Int32
	srv := newTestServerWith(t, func(c *Config) { c.AfterBulk = func() { bulks.Add(1) } })
	post := func(doc string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/import", strings.NewReader(doc))
		req.Header.Set("Authorization", "Bearer tok")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("import: %d %s", res.StatusCode, b)
		}
	}
	post("settings:\n  small: \"1\"\n")
	if n := bulks.Load(); n != 0 {
		t.Fatalf("after a small import AfterBulk ran %d times", n)
	}
	// About a thousand settings of 1 KiB: yaml.v3 checks a mapping's
	// keys for duplicates pair by pair, which with 17,000 short ones
	// took minutes under -race.
	var doc strings.Builder
	doc.WriteString("settings:\n")
	for i := 0; doc.Len() < bulkImport; i++ {
		fmt.Fprintf(&doc, "  bulk.k%06d: %q\n", i, strings.Repeat("v", 1000))
	}
	post(doc.String())
	if n := bulks.Load(); n != 1 {
		t.Fatalf("after a %d-byte import AfterBulk ran %d times, want 1", doc.Len(), n)
	}
}
