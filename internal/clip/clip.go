// Package clip shortens values quoted in messages. A CSV field, a header
// or a line of a uid list may be 100 MB in a broken or hostile file; a
// message that quotes it whole floods the terminal and the log.
package clip

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Max is how many bytes of a value a message quotes.
const Max = 120

// cut is the length of s's longest prefix of at most n bytes that ends
// at a rune boundary.
func cut(s string, n int) int {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// String returns s cut to n bytes with its length said, or s itself when
// it is short enough.
func String(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut(s, n)], len(s))
}

// Q is strconv.Quote of s, cut to Max bytes with its length said after the
// quotes when it is longer.
func Q(s string) string {
	if len(s) <= Max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:cut(s, Max)]) + fmt.Sprintf("… (%d bytes)", len(s))
}
