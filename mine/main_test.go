package mine_test

import (
	"testing"

	"voxmine/internal/testenv"
)

// TestMain removes the fixtures the tests share (testenv.TempDir) when
// they are done.
func TestMain(m *testing.M) { testenv.Main(m) }
