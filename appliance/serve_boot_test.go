package appliance

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Firmware follows no redirect: a path that http.ServeMux would redirect
// to its clean form is served as that form (shim over HTTP asks for
// "//grubx64.efi").
func TestCleanPathsServesWithoutRedirect(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /grubx64.efi", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("grub " + r.URL.Path)) })
	h := cleanPaths(mux)
	for _, p := range []string{"/grubx64.efi", "//grubx64.efi", "/./grubx64.efi", "/x/../grubx64.efi"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "http://10.0.0.1"+p, nil))
		if w.Code != http.StatusOK || w.Body.String() != "grub /grubx64.efi" {
			t.Errorf("GET %s: %d %q, want 200 from /grubx64.efi", p, w.Code, w.Body.String())
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "http://10.0.0.1/../../etc/passwd", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("GET /../../etc/passwd: %d, want 404", w.Code)
	}
}
