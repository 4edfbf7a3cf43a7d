package mine

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"voxmine/store"
)

// A split assigns whole groups of scans (a patient's, a study's) to the
// parts of a training split, so that no patient is seen in training and
// judged in testing. Each group's part follows from a hash of the seed and
// the group's key alone: adding scans to the store later never moves a
// group that was already assigned, so a test set stays a test set.

// SplitBy names what keeps scans together.
type SplitBy string

// The groupings of a split.
const (
	ByPatient SplitBy = "patient" // DICOM PatientID; a scan without one is its own group
	ByStudy   SplitBy = "study"   // StudyInstanceUID; else the series uid
	BySeries  SplitBy = "series"  // every scan on its own
)

// Part is one part of a split and the share of groups it should get.
type Part struct {
	Name     string
	Fraction float64
}

// ParseParts reads "train:0.8,val:0.1,test:0.1". The fractions must be
// positive and add up to 1.
func ParseParts(s string) ([]Part, error) {
	var parts []Part
	sum := 0.0
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		name, frac, ok := strings.Cut(strings.TrimSpace(f), ":")
		var v float64
		if ok {
			_, err := fmt.Sscanf(frac, "%g", &v)
			ok = err == nil
		}
		if !ok || name == "" || !(v > 0) || strings.ContainsAny(name, `/\. `) || seen[name] {
			return nil, fmt.Errorf("parts %q: want NAME:FRACTION,… with distinct plain names and fractions above 0", s)
		}
		seen[name] = true
		parts = append(parts, Part{name, v})
		sum += v
	}
	if math.Abs(sum-1) > 1e-6 {
		return nil, fmt.Errorf("parts %q: the fractions add up to %g, not 1", s, sum)
	}
	return parts, nil
}

// Assignment is the part a scan falls in, and the group that took it there.
type Assignment struct {
	UID, Group, Part string
}

// GroupOf returns the key that keeps scan s with others under by, and
// whether the scan had one of its own (false: its series uid stands in).
func GroupOf(s store.ScanInfo, by SplitBy) (string, bool) {
	var key string
	switch by {
	case ByPatient:
		key = s.Source.PatientID
	case ByStudy:
		key = s.Source.StudyUID
	}
	if key == "" {
		return s.UID, by == BySeries
	}
	return key, true
}

// Split assigns every scan to a part, keeping each group whole. A group
// goes to the part whose share of [0, 1) holds the hash of seed and key.
func Split(scans []store.ScanInfo, by SplitBy, parts []Part, seed uint64) ([]Assignment, error) {
	switch by {
	case ByPatient, ByStudy, BySeries:
	default:
		return nil, fmt.Errorf("split by %q: want patient, study or series", by)
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("split: no parts")
	}
	out := make([]Assignment, len(scans))
	for i, s := range scans {
		key, _ := GroupOf(s, by)
		// SHA-256, not a fast hash: keys such as P0001…P0500 differ in their
		// last bytes, which FNV spreads poorly over its top bits.
		h := sha256.Sum256(append(binary.LittleEndian.AppendUint64(nil, seed), key...))
		u := float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53) // uniform in [0, 1)
		part := parts[len(parts)-1].Name
		acc := 0.0
		for _, p := range parts {
			acc += p.Fraction
			if u < acc {
				part = p.Name
				break
			}
		}
		out[i] = Assignment{UID: s.UID, Group: key, Part: part}
	}
	return out, nil
}
