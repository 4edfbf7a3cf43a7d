package ingest_test

import "os"

func filepathTemp() (string, error) { return os.MkdirTemp("", "voxmine-bench-") }
