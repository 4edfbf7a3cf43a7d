package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"voxmine/internal/atomicfile"
)

// A Table is an open sorted JSON Lines file. Its methods may be called
// from many goroutines at once: reads go through ReadAt, with no shared
// position.
type Table struct {
	f      *os.File
	path   string
	size   int64
	header []byte
	start  int64 // offset of the first record
}

// Open opens the table at path and reads its header line. A missing file
// gives an error that wraps fs.ErrNotExist.
func Open(path string) (*Table, error) {
	f, err := openShared(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	t := &Table{f: f, path: path, size: st.Size()}
	if t.size == 0 || !t.endsInNewline() {
		f.Close()
		return nil, &Error{Path: path, Err: errors.New("truncated: the file does not end with a whole line")}
	}
	h, next, err := t.lineAt(0)
	if err != nil {
		f.Close()
		return nil, err
	}
	if !json.Valid(h) || len(h) == 0 || h[0] != '{' {
		f.Close()
		return nil, &Error{Path: path, Line: 1, Err: errors.New("the header is not a JSON object")}
	}
	t.header, t.start = h, next
	return t, nil
}

func (t *Table) endsInNewline() bool {
	b := make([]byte, 1)
	_, err := t.f.ReadAt(b, t.size-1)
	return err == nil && b[0] == '\n'
}

// Header returns the header line, without its newline.
func (t *Table) Header() []byte { return t.header }

// Path returns the file the table was opened from.
func (t *Table) Path() string { return t.path }

// Size returns the table's size in bytes.
func (t *Table) Size() int64 { return t.size }

// Close closes the file.
func (t *Table) Close() error { return t.f.Close() }

// lineAt returns the line that starts at off, without its newline, and
// the offset of the next line.
func (t *Table) lineAt(off int64) ([]byte, int64, error) {
	buf := make([]byte, 0, 4096)
	for at := off; ; {
		n := min(int64(cap(buf)-len(buf)), t.size-at)
		if n <= 0 {
			return nil, 0, &Error{Path: t.path, Err: fmt.Errorf("no line ends after byte %d", off)}
		}
		chunk := buf[len(buf) : len(buf)+int(n)]
		if _, err := t.f.ReadAt(chunk, at); err != nil {
			return nil, 0, err
		}
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			line := buf[:len(buf)+i]
			return line, off + int64(len(line)) + 1, nil
		}
		buf = buf[:len(buf)+int(n)]
		at += n
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
		}
	}
}

// nextStart returns the offset of the first line that starts after off
// (after the first newline at or past off), or the table's size.
func (t *Table) nextStart(off int64) (int64, error) {
	var buf [512]byte
	for at := off; at < t.size; {
		n := min(int64(len(buf)), t.size-at)
		if _, err := t.f.ReadAt(buf[:n], at); err != nil {
			return 0, err
		}
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return at + int64(i) + 1, nil
		}
		at += n
	}
	return t.size, nil
}

// Find returns the record whose key is key, or nil when there is none. It
// reads about log₂(size/4 KiB) small pieces of the file and one line.
func (t *Table) Find(key string) ([]byte, error) {
	lo, hi := t.start, t.size // the record, if any, starts in [lo, hi); lo starts a line
	for hi-lo > 4096 {
		mid := lo + (hi-lo)/2
		s, err := t.nextStart(mid)
		if err != nil {
			return nil, err
		}
		if s >= hi { // no line starts in (mid, hi)
			hi = mid + 1
			continue
		}
		k, err := t.keyAt(s)
		if err != nil {
			return nil, err
		}
		switch {
		case k == key:
			line, _, err := t.lineAt(s)
			return line, err
		case k < key:
			lo = s
		default:
			hi = s
		}
	}
	// At most 4 KiB of lines left: read them at once.
	region := make([]byte, min(hi-lo+512, t.size-lo))
	if _, err := t.f.ReadAt(region, lo); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	for off := lo; off < hi; {
		rel := region[off-lo:]
		i := bytes.IndexByte(rel, '\n')
		line, next := rel[:max(i, 0)], off+int64(i)+1
		if i < 0 { // a line longer than the region
			var err error
			if line, next, err = t.lineAt(off); err != nil {
				return nil, err
			}
		}
		k, err := Key(line)
		if err != nil {
			return nil, t.lineError(off, err)
		}
		if k == key {
			return line, nil
		}
		if k > key {
			break
		}
		off = next
	}
	return nil, nil
}

// keyAt returns the key of the line that starts at off, reading its first
// bytes only when the key is among them.
func (t *Table) keyAt(off int64) (string, error) {
	var buf [256]byte
	n := min(int64(len(buf)), t.size-off)
	if _, err := t.f.ReadAt(buf[:n], off); err != nil {
		return "", err
	}
	head := buf[:n]
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	if k, ok := fastKey(head); ok {
		return k, nil
	}
	line, _, err := t.lineAt(off)
	if err != nil {
		return "", err
	}
	k, err := Key(line)
	if err != nil {
		return "", t.lineError(off, err)
	}
	return k, nil
}

func (t *Table) lineError(off int64, err error) error {
	return &Error{Path: t.path, Offset: off, Err: err}
}

// Scan calls fn with every record in key order. The line is only valid
// during the call. It reads the file once, front to back, through a small
// buffer, so a table of any size scans in constant memory. An error from
// fn stops the scan and is returned.
func (t *Table) Scan(fn func(key string, line []byte) error) error {
	r := bufio.NewReaderSize(io.NewSectionReader(t.f, t.start, t.size-t.start), 256<<10)
	prev := ""
	for n := 2; ; n++ {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) { // a long line: gather it
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF && len(line) == 0 {
			return nil
		}
		if err != nil {
			return err
		}
		line = line[:len(line)-1]
		k, kerr := Key(line)
		if kerr == nil && n > 2 && k <= prev {
			kerr = fmt.Errorf("key %.80q is out of order", k)
		}
		if kerr != nil {
			return &Error{Path: t.path, Line: n, Err: kerr}
		}
		prev = k
		if err := fn(k, line); err != nil {
			return err
		}
	}
}

// Key returns the key of a record: the value of its first member, which
// must be a string. Records written by json.Marshal from a struct whose
// first field is the key are read without decoding the rest.
func Key(line []byte) (string, error) {
	if k, ok := fastKey(line); ok {
		return k, nil
	}
	// The careful way, for anything else.
	d := json.NewDecoder(bytes.NewReader(line))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return "", errors.New("a record is not a JSON object")
	}
	if _, err := d.Token(); err != nil {
		return "", errors.New("a record has no key")
	}
	tok, err := d.Token()
	s, ok := tok.(string)
	if err != nil || !ok {
		return "", errors.New("a record's first member is not a string")
	}
	return s, nil
}

// fastKey reads {"name":"value" with no escapes in the value, as
// json.Marshal writes the keys voxmine uses; ok is false for anything else.
func fastKey(line []byte) (string, bool) {
	if len(line) > 2 && line[0] == '{' && line[1] == '"' {
		if i := bytes.IndexByte(line[2:], '"'); i >= 0 {
			rest := line[2+i+1:]
			if len(rest) > 2 && rest[0] == ':' && rest[1] == '"' {
				v := rest[2:]
				if j := bytes.IndexByte(v, '"'); j >= 0 && bytes.IndexByte(v[:j], '\\') < 0 {
					return string(v[:j]), true
				}
			}
		}
	}
	return "", false
}

// Write writes a table to path atomically: the header, then every record
// records yields, which must come in strictly increasing key order and be
// one line each (as json.Marshal writes them).
func Write(path string, header []byte, records func(yield func(line []byte) error) error) error {
	if bytes.IndexByte(header, '\n') >= 0 || !json.Valid(header) {
		return fmt.Errorf("%s: the header is not one line of JSON", path)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 256<<10)
		bw.Write(header)
		bw.WriteByte('\n')
		prev, n := "", 0
		err := records(func(line []byte) error {
			n++
			if bytes.IndexByte(line, '\n') >= 0 {
				return &Error{Path: path, Line: n + 1, Err: errors.New("a record spans lines")}
			}
			k, err := Key(line)
			if err == nil && n > 1 && k <= prev {
				err = fmt.Errorf("key %.80q does not follow %.80q", k, prev)
			}
			if err != nil {
				return &Error{Path: path, Line: n + 1, Err: err}
			}
			prev = k
			bw.Write(line)
			return bw.WriteByte('\n')
		})
		if err != nil {
			return err
		}
		return bw.Flush()
	})
}

// Error is a table that cannot be read as one: where, and what is wrong.
type Error struct {
	Path   string
	Line   int   // 1 is the header; 0 when only the offset is known
	Offset int64 // the line's first byte, when Line is 0
	Err    error
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	case e.Offset > 0:
		return fmt.Sprintf("%s: the line at byte %d: %v", e.Path, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
