package main

import (
	"testing"

	"github.com/provision/provision/access"
)

// docs/access.md's rights table is access.RightsTable(): UPDATE_DOCS=1
// rewrites it.
func TestDocsAccess(t *testing.T) {
	defer parallel(t)()
	generated(t, "docs/access.md",
		"<!-- rights: made by TestDocsAccess from access.RightsTable(); UPDATE_DOCS=1 go test -run TestDocsAccess ./cmd/provision -->\n",
		"<!-- end of rights -->", access.RightsTable())
}
