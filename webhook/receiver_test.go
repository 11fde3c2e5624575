package webhook

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provision/provision/registry"
)

// receiver is a webhook receiver as an operator would run one: it
// checks each body's signature and keeps the events it took.
type receiver struct {
	t      *testing.T
	secret registry.Secret
	down   atomic.Bool // answer 503 to everything
	srv    *httptest.Server

	mu     sync.Mutex
	got    []received
	tries  int
	arrive chan struct{}
}

type received struct {
	Event, System string
	Delivery      int64
	Change        json.RawMessage
}

func newReceiver(t *testing.T, secret registry.Secret) *receiver {
	rc := &receiver{t: t, secret: secret, arrive: make(chan struct{}, 1)}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.tries++
	rc.mu.Unlock()
	if rc.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if !Verify(rc.secret, body, r.Header.Get("X-Provision-Signature")) {
		rc.t.Errorf("a body whose signature %q does not verify: %s", r.Header.Get("X-Provision-Signature"), body)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var doc struct {
		Event    string `json:"event"`
		Delivery int64  `json:"delivery"`
		System   struct{ Name string }
		Change   json.RawMessage `json:"change"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		rc.t.Errorf("body: %v: %s", err, body)
	}
	if h := r.Header.Get("X-Provision-Event"); h != doc.Event {
		rc.t.Errorf("X-Provision-Event %q, body's event %q", h, doc.Event)
	}
	if h := r.Header.Get("X-Provision-Delivery"); h != strconv.FormatInt(doc.Delivery, 10) {
		rc.t.Errorf("X-Provision-Delivery %q, body's delivery %d", h, doc.Delivery)
	}
	rc.mu.Lock()
	rc.got = append(rc.got, received{doc.Event, doc.System.Name, doc.Delivery, doc.Change})
	rc.mu.Unlock()
	select {
	case rc.arrive <- struct{}{}:
	default:
	}
}

// wait waits until cond holds of what arrived, for at most d.
func (rc *receiver) wait(d time.Duration, cond func([]received) bool) []received {
	rc.t.Helper()
	deadline := time.After(d)
	for {
		rc.mu.Lock()
		got := append([]received(nil), rc.got...)
		rc.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-rc.arrive:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			rc.t.Fatalf("after %s the receiver has %d events: %+v", d, len(got), got)
		}
	}
}
