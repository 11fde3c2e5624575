// Package ldapauth signs people in against a directory (LDAP): a simple
// bind as the person, over LDAPS or over LDAP upgraded with StartTLS, so
// that a password never crosses in clear. It finds the person's entry by
// a DN template or by a search as a service account, and returns who
// signed in (Identity: the user name, the DN, the display name) and the
// groups the directory puts them in. What a group may do (its role and
// scopes) is not this package's: the access package maps groups to roles.
//
// Authenticate's errors are of three kinds, told apart with errors.Is:
// ErrBadCredentials (a wrong password and an unknown user read the same,
// so nobody learns which names exist), ErrUnreachable (the directory did
// not answer, or not in time) and ErrUntrusted (its certificate is not
// one the configuration trusts). A password is never in an error.
package ldapauth
