package api

import (
	"crypto/subtle"
	"errors"
	"time"

	"github.com/provision/provision/access"
	"github.com/provision/provision/registry"
)

// The principals of the two token files, the break-glass credentials.
var (
	FileAdmin  = access.Principal{Name: "admin", Role: access.Admin}
	FileViewer = access.Principal{Name: "read-only", Role: access.Viewer}
)

var errBadToken = errors.New("wrong API token: it is neither a user's token nor a token file's (provision token list shows users' tokens)")

// Tokens is an Auth of the two fixed tokens only: admin, and readOnly
// a viewer (empty: none).
func Tokens(admin, readOnly string) func(string) (access.Principal, error) {
	return func(t string) (access.Principal, error) {
		switch {
		case t == "":
		case admin != "" && subtle.ConstantTimeCompare([]byte(t), []byte(admin)) == 1:
			return FileAdmin, nil
		case readOnly != "" && subtle.ConstantTimeCompare([]byte(t), []byte(readOnly)) == 1:
			return FileViewer, nil
		}
		return access.Principal{}, errBadToken
	}
}

// UserTokens is an Auth of users' tokens in reg, then of files (the
// token files' Auth, nil: none), checked in memory on the registry's
// snapshot: a revoked or expired token fails at its next request.
func UserTokens(reg *registry.Registry, files func(string) (access.Principal, error), now func() time.Time) func(string) (access.Principal, error) {
	return func(t string) (access.Principal, error) {
		tok, u, err := reg.Snapshot().TokenFor(t, now())
		if err == nil {
			return u.Principal(tok.Label), nil
		}
		if errors.Is(err, registry.ErrTokenExpired) || files == nil {
			return access.Principal{}, err
		}
		return files(t)
	}
}
