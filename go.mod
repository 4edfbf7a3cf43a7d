module voxmine

go 1.26.8

require (
	github.com/edsrzf/mmap-go v1.2.0
	github.com/google/uuid v1.6.0
	github.com/pierrec/lz4/v4 v4.1.33
	golang.org/x/sync v0.25.0
	golang.org/x/sys v0.50.0
)
