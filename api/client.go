package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/provision/provision/registry"
)

// Client calls the API. A nil HTTP means NewHTTPClient(AnswerTimeout).
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string
	HTTP    *http.Client
	Err     error // if set, every request fails with it (a bad --ca)
	// TokenFrom says where Token came from (or where none was found), for
	// the error of a server that refuses it.
	TokenFrom string
}

// AnswerTimeout is how long NewHTTPClient's default waits for the headers
// of an answer; the body (an event stream, an export) has no bound.
const AnswerTimeout = 2 * time.Minute

// NewHTTPClient returns a client that gives up on a server that does not
// accept the connection within 10 s, or does not start answering within
// answer: a server that hangs must not hang the CLI with it.
func NewHTTPClient(answer time.Duration, tlsConfig *tls.Config) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConfig != nil {
		t.TLSClientConfig = tlsConfig
	}
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = answer
	return &http.Client{Transport: t}
}

// Error is an error answer of the server.
type Error struct {
	Status int
	ErrorBody
}

func (e *Error) Error() string {
	if len(e.Errors) == 0 {
		return e.ErrorBody.Error
	}
	return e.ErrorBody.Error + ":\n  " + strings.Join(e.Errors, "\n  ")
}

// Do sends a JSON request (in may be nil) and decodes a JSON answer into
// out (which may be nil).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	return c.Raw(ctx, method, path, "application/json", body, -1, out)
}

// Raw sends any body; out is a JSON target, or an io.Writer for raw
// answers such as an export.
func (c *Client) Raw(ctx context.Context, method, path, ctype string, body io.Reader, size int64, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return err
	}
	if size >= 0 {
		req.ContentLength = size
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch o := out.(type) {
	case nil:
		return nil
	case io.Writer:
		_, err = io.Copy(o, resp.Body)
		return err
	default:
		return json.NewDecoder(resp.Body).Decode(out)
	}
}

// send adds the token and sends req; an answer of 300 or more is
// decoded into an *Error.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	if c.Err != nil {
		return nil, c.Err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = NewHTTPClient(AnswerTimeout, nil)
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && req.Context().Err() == nil {
			return nil, fmt.Errorf("the server at %s did not answer%s: %w", c.BaseURL, answerWithin(hc), unwrapURLError(err))
		}
		return nil, fmt.Errorf("cannot reach the server at %s: %w", c.BaseURL, unwrapURLError(err))
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		err := decodeError(resp)
		if e, ok := err.(*Error); ok && e.Status == http.StatusUnauthorized && c.TokenFrom != "" {
			if c.Token == "" {
				e.ErrorBody.Error = "the server wants an API token: " + c.TokenFrom
			} else {
				e.ErrorBody.Error += " (the token is from " + c.TokenFrom + ")"
			}
		}
		return nil, err
	}
	return resp, nil
}

// answerWithin says how long a client made by NewHTTPClient waits.
func answerWithin(hc *http.Client) string {
	if t, ok := hc.Transport.(*http.Transport); ok && t.ResponseHeaderTimeout > 0 {
		return " within " + t.ResponseHeaderTimeout.String()
	}
	return " in time"
}

func decodeError(resp *http.Response) error {
	e := &Error{Status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(b, &e.ErrorBody) != nil || e.ErrorBody.Error == "" {
		e.ErrorBody.Error = fmt.Sprintf("server answered %s", resp.Status)
	}
	return e
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// Path joins API path segments, escaping each.
func Path(parts ...string) string {
	var b strings.Builder
	b.WriteString("/api/v1")
	for _, p := range parts {
		b.WriteString("/")
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}

// Export reads the registry's export document (without secrets).
func (c *Client) Export(ctx context.Context) (*registry.Document, error) {
	var buf bytes.Buffer
	if err := c.Raw(ctx, "GET", Path("export"), "", nil, -1, &buf); err != nil {
		return nil, err
	}
	var d registry.Document
	if err := yaml.Unmarshal(buf.Bytes(), &d); err != nil {
		return nil, fmt.Errorf("the registry's export: %w", err)
	}
	return &d, nil
}

// Import sends a registry document (YAML) to the appliance's import, all
// or nothing; dry checks it and writes nothing.
func (c *Client) Import(ctx context.Context, doc []byte, dry bool) (*registry.ImportReport, error) {
	path := Path("import")
	if dry {
		path += "?dry_run=1"
	}
	var rep registry.ImportReport
	err := c.Raw(ctx, "POST", path, "application/yaml", bytes.NewReader(doc), int64(len(doc)), &rep)
	return &rep, err
}
