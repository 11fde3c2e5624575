package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/provision/provision/registry"
)

// Timeout bounds one try: the receiver must answer within it.
const Timeout = 10 * time.Second

// Body is the JSON document POSTed for d.
func Body(d registry.Delivery) []byte {
	type sys struct {
		Name string `json:"name"`
		ID   string `json:"id,omitempty"`
	}
	doc := struct {
		Event    string          `json:"event"`
		Delivery int64           `json:"delivery"`
		Time     time.Time       `json:"time"`
		System   sys             `json:"system"`
		Change   json.RawMessage `json:"change,omitempty"`
	}{d.Event, d.ID, d.At.UTC(), sys{d.System, d.SystemID}, d.Payload}
	if len(doc.Change) == 0 || !json.Valid(doc.Change) {
		doc.Change = nil
	}
	b, _ := json.Marshal(doc)
	return b
}

// Sign is the X-Provision-Signature of body: sha256= and the hex
// HMAC-SHA256 of body with secret.
func Sign(secret registry.Secret, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is body's signature with secret (for
// receivers, and tests), in constant time.
func Verify(secret registry.Secret, body []byte, sig string) bool {
	return hmac.Equal([]byte(sig), []byte(Sign(secret, body)))
}

// NewClient is the HTTP client of deliveries: Timeout per try, and no
// redirects followed (a 3xx is a failed try: the hook's URL is to fix).
func NewClient() *http.Client {
	return &http.Client{
		Timeout:       Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Post sends body as event, delivery id, to h; an answer other than 2xx
// is an error naming the hook and the status.
func Post(ctx context.Context, c *http.Client, h *registry.Hook, event string, id int64, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("hook %s: %w", h.Name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "provision-webhook")
	req.Header.Set("X-Provision-Event", event)
	req.Header.Set("X-Provision-Delivery", strconv.FormatInt(id, 10))
	if h.Secret != "" {
		req.Header.Set("X-Provision-Signature", Sign(h.Secret, body))
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("hook %s: %w", h.Name, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hook %s: %s answered %s", h.Name, h.URL, resp.Status)
	}
	return nil
}
