package registry

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; match them with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
	ErrInUse    = errors.New("in use")
	// ErrUnavailable: the database did not take a write (unreachable,
	// restarting); nothing was changed, and the same write may be retried.
	ErrUnavailable = errors.New("unavailable")
)

// Error is a registry error that names the object concerned.
type Error struct {
	Kind error  // one of the sentinels
	Msg  string // e.g. "ip 10.0.0.11 is already used by system web001"
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

func notFound(kind, name string) error {
	return &Error{ErrNotFound, fmt.Sprintf("%s %s not found", kind, name)}
}

func conflictf(format string, a ...any) error {
	return &Error{ErrConflict, fmt.Sprintf(format, a...)}
}

func invalidf(format string, a ...any) error {
	return &Error{ErrInvalid, fmt.Sprintf(format, a...)}
}

func inUse(kind, name, userKind string, users []string) error {
	return &Error{ErrInUse, fmt.Sprintf("%s %s is in use by %s %s", kind, name, userKind, strings.Join(users, ", "))}
}

// Errors collects several errors, for imports that report every problem
// before writing anything.
type Errors []error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.Is see every collected error.
func (es Errors) Unwrap() []error { return es }
