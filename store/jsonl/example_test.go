package jsonl_test

import (
	"fmt"
	"os"
	"path/filepath"

	"voxmine/store/jsonl"
)

func Example() {
	dir, _ := os.MkdirTemp("", "jsonl")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "scans.jsonl")
	jsonl.Write(path, []byte(`{"table":"scans"}`), func(yield func([]byte) error) error {
		for _, line := range []string{`{"uid":"1.1","litres":4.1}`, `{"uid":"1.2","litres":5.3}`} {
			if err := yield([]byte(line)); err != nil {
				return err
			}
		}
		return nil
	})
	t, _ := jsonl.Open(path)
	defer t.Close()
	line, _ := t.Find("1.2")
	fmt.Println(string(line))
	// Output: {"uid":"1.2","litres":5.3}
}
