// Package storetest has what the tests of other packages use to look
// into a store: the catalog's records, the test failing when the catalog
// cannot be read.
package storetest

import (
	"testing"

	"voxmine/store"
)

// Scans returns every scan of s.
func Scans(t testing.TB, s *store.Store) []store.ScanInfo {
	t.Helper()
	scans, err := s.Scans()
	if err != nil {
		t.Fatal(err)
	}
	return scans
}

// Lookup returns the record of uid, and whether s holds it.
func Lookup(t testing.TB, s *store.Store, uid string) (store.ScanInfo, bool) {
	t.Helper()
	info, ok, err := s.Lookup(uid)
	if err != nil {
		t.Fatal(err)
	}
	return info, ok
}
