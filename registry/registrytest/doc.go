// Package registrytest is the registry fixture that the tests of other
// packages share: a Registry on a fresh SQLite file, empty (Open) or with
// a small network (Seeded).
//
// It imports package testing, so only test files may import it: a test
// of this package fails when a file of a product package does.
package registrytest
