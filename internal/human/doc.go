// Package human shows the registry's JSON to people: YAML in the
// server's field order with the name first (YAML), and byte sizes in
// binary units (Size, and Bytes for summary lines). It imports no product
// package.
package human
