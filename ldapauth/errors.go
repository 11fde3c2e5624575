package ldapauth

import (
	"errors"
)

// The kinds of Authenticate's errors, for errors.Is. Each error's text
// says which directory and which user.
var (
	// ErrBadCredentials: a wrong password, an unknown user (the same
	// message: nobody learns which names exist), an empty password or a
	// user name that cannot be one.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrUnreachable: the directory refused the connection, did not
	// answer within the timeout, or closed the connection.
	ErrUnreachable = errors.New("directory unreachable")
	// ErrUntrusted: the directory's certificate is not trusted (signed by
	// a CA that ca_file does not hold, or for another name).
	ErrUntrusted = errors.New("directory certificate not trusted")
)

// dirError is an error about the directory at url: "directory URL: msg".
type dirError struct {
	url, msg string
	kind     error // a sentinel, or nil
	cause    error // what went wrong underneath, or nil
}

func (e *dirError) Error() string { return "directory " + e.url + ": " + e.msg }

func (e *dirError) Is(target error) bool { return e.kind != nil && target == e.kind }

func (e *dirError) Unwrap() error { return e.cause }

// badCredentials is the one answer to a wrong password and to an unknown
// user, with no cause: nothing in it tells them apart.
func badCredentials(url, user string) error {
	return &dirError{url: url, msg: "wrong user name or password for " + user, kind: ErrBadCredentials}
}
