package mine

// Shards: a stream written as size-capped tar files in an output folder,
// for those who stage training data on HPC or object storage and do not
// want millions of small files.

import (
	"fmt"
	"io"
	"path/filepath"

	"voxmine/internal/atomicfile"
)

// shardFiles makes DIR/shard-000000.tar, shard-000001.tar, … one after
// another, each written under a temporary name and renamed into place
// when the next begins or the run ends: a crash leaves whole shards and
// no part that looks like one.
type shardFiles struct {
	dir   string
	n     int
	cur   *atomicfile.File
	paths []string
}

// next ends the shard being written (if any) and starts the next one.
func (s *shardFiles) next() (io.Writer, error) {
	if err := s.commit(); err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, fmt.Sprintf("shard-%06d.tar", s.n))
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	s.n++
	s.cur = f
	s.paths = append(s.paths, path)
	return f, nil
}

func (s *shardFiles) commit() error {
	if s.cur == nil {
		return nil
	}
	f := s.cur
	s.cur = nil
	return f.Commit()
}

func (s *shardFiles) abort() {
	if s.cur != nil {
		s.cur.Abort()
		s.cur = nil
	}
}
