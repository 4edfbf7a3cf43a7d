package jsonl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTable writes records keyed k0000…, each padded to about size bytes
// (some far longer, to cross the readers' buffers).
func writeTable(t *testing.T, n int, size func(i int) int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.jsonl")
	var keys []string
	err := Write(path, []byte(`{"kind":"test"}`), func(yield func([]byte) error) error {
		for i := range n {
			k := fmt.Sprintf("1.2.%06d", i*3) // gaps between keys, for misses
			keys = append(keys, k)
			b, _ := json.Marshal(struct {
				K   string `json:"uid"`
				Pad string `json:"pad"`
			}{k, strings.Repeat("x", size(i))})
			if err := yield(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path, keys
}

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		size func(int) int
	}{
		{"empty", 0, func(int) int { return 1 }},
		{"one", 1, func(int) int { return 1 }},
		{"small records", 5000, func(int) int { return 20 }},
		{"large records", 300, func(int) int { return 5000 }},
		{"mixed", 500, func(i int) int {
			if i%37 == 0 {
				return 70000 // longer than any buffer
			}
			return i % 700
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, keys := writeTable(t, tc.n, tc.size)
			tab, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer tab.Close()
			if string(tab.Header()) != `{"kind":"test"}` {
				t.Errorf("header %q", tab.Header())
			}
			for i, k := range keys {
				line, err := tab.Find(k)
				if err != nil || line == nil {
					t.Fatalf("Find(%s) = %v, %v", k, line != nil, err)
				}
				if got, _ := Key(line); got != k || len(line) < tc.size(i) {
					t.Fatalf("Find(%s) returned the record of %s", k, got)
				}
				// Keys between, before and after the records are absent.
				for _, miss := range []string{k + "0", fmt.Sprintf("1.2.%06d", i*3+1), "0", "9"} {
					if line, err := tab.Find(miss); line != nil || err != nil {
						t.Fatalf("Find(%s) found %q, %v", miss, line, err)
					}
				}
			}
			var seen []string
			if err := tab.Scan(func(k string, line []byte) error {
				if !json.Valid(line) {
					t.Fatalf("Scan gave a broken line for %s", k)
				}
				seen = append(seen, k)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if strings.Join(seen, ",") != strings.Join(keys, ",") {
				t.Errorf("Scan saw %d keys, want %d in order", len(seen), len(keys))
			}
		})
	}
}

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		line, want string
		bad        bool
	}{
		{`{"uid":"1.2.3","x":1}`, "1.2.3", false},
		{`{"uid":"a\"b","x":1}`, `a"b`, false},
		{`{"uid":"\u0031.2"}`, "1.2", false},
		{` {"uid":"1"}`, "1", false},
		{`{"uid":1}`, "", true},
		{`[1,2]`, "", true},
		{`{}`, "", true},
		{`not json`, "", true},
	} {
		got, err := Key([]byte(tc.line))
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("Key(%s) = %q, %v; want %q (error %v)", tc.line, got, err, tc.want, tc.bad)
		}
	}
}

func TestWriteRefusesDisorder(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		lines []string
	}{
		{"out of order", []string{`{"k":"b"}`, `{"k":"a"}`}},
		{"repeated", []string{`{"k":"a"}`, `{"k":"a"}`}},
		{"two lines", []string{"{\"k\":\"a\",\n\"x\":1}"}},
		{"no key", []string{`{"k":2}`}},
	} {
		path := filepath.Join(dir, tc.name)
		err := Write(path, []byte(`{}`), func(yield func([]byte) error) error {
			for _, l := range tc.lines {
				if err := yield([]byte(l)); err != nil {
					return err
				}
			}
			return nil
		})
		var te *Error
		if !errors.As(err, &te) || te.Path != path {
			t.Errorf("%s: %v, want an *Error naming the file", tc.name, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: a refused table was left behind", tc.name)
		}
	}
}

func TestOpenDamaged(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, body string }{
		{"empty", ""},
		{"cut", "{\"h\":1}\n{\"k\":\"a\"}"},
		{"header not json", "nope\n{\"k\":\"a\"}\n"},
	} {
		path := filepath.Join(dir, tc.name)
		os.WriteFile(path, []byte(tc.body), 0o644)
		if _, err := Open(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Open = %v, want an error naming the file", tc.name, err)
		}
	}
	path := filepath.Join(dir, "disorder")
	os.WriteFile(path, []byte("{}\n{\"k\":\"b\"}\n{\"k\":\"a\"}\n"), 0o644)
	tab, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if err := tab.Scan(func(string, []byte) error { return nil }); err == nil || !strings.Contains(err.Error(), path+":3") {
		t.Errorf("Scan of records out of order = %v, want the file and line", err)
	}
	if _, err := Open(filepath.Join(dir, "absent")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing table = %v", err)
	}
}

// FuzzTable: no file makes a table panic or loop, every error is an
// *Error or the file system's, and a table that scans cleanly finds each
// record it scanned, and nothing between them.
func FuzzTable(f *testing.F) {
	f.Add([]byte("{\"kind\":\"test\"}\n{\"uid\":\"a\",\"v\":1}\n{\"uid\":\"b\",\"v\":2}\n"))
	f.Add([]byte("{}\n{\"uid\":\"a\"}\n{\"uid\":\"a\"}\n"))
	f.Add([]byte("{}\n{\"uid\":\"b\"}\n{\"uid\":\"a\"}\n"))
	f.Add([]byte("{}\n" + strings.Repeat("{\"k\":\"x\"}\n", 3) + "{\"uid\":\"\\u0061\"}\n"))
	big := []byte("{}\n")
	for i := range 400 { // past Find's 4 KiB binary search threshold
		big = fmt.Appendf(big, "{\"uid\":\"%04d\",\"pad\":%q}\n", i*2, strings.Repeat("x", i%37))
	}
	f.Add(big)
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "t.jsonl")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		typed := func(what string, err error) {
			var te *Error
			var pe *fs.PathError
			if err != nil && !errors.As(err, &te) && !errors.As(err, &pe) {
				t.Fatalf("%s: %T %v", what, err, err)
			}
		}
		tb, err := Open(path)
		if err != nil {
			typed("open", err)
			return
		}
		defer tb.Close()
		var keys []string
		lines := map[string]string{}
		err = tb.Scan(func(k string, line []byte) error {
			keys = append(keys, k)
			lines[k] = string(line)
			return nil
		})
		if err != nil {
			typed("scan", err)
			for _, k := range []string{"", "a", "0100", "zzz"} {
				_, err := tb.Find(k)
				typed("find in a damaged table", err)
			}
			return
		}
		for _, k := range keys {
			line, err := tb.Find(k)
			if err != nil || string(line) != lines[k] {
				t.Fatalf("find %q: %q, %v; scanned %q", k, line, err, lines[k])
			}
			if _, listed := lines[k+"\x00"]; listed {
				continue
			}
			if line, err := tb.Find(k + "\x00"); err != nil || line != nil {
				t.Fatalf("find %q, between records: %q, %v", k+"\x00", line, err)
			}
		}
	})
}
