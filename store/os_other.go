//go:build !linux

package store

// exchange is Linux's renameat2(RENAME_EXCHANGE). Elsewhere a re-ingested
// scan is moved aside and the new one renamed in (see Writer.swapIn):
// still crash-safe, since the catalog names the volume uuid it expects,
// but a reader that opens the scan in the instant between the two renames
// finds it missing and fails that scan.
func exchange(a, b string) error { return errExchangeUnsupported }
