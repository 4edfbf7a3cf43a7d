package mine_test

import (
	"fmt"
	"math"
	"testing"

	"voxmine/mine"
	"voxmine/store"
)

func TestSplitKeepsGroupsWhole(t *testing.T) {
	// 500 patients with 4 series each (screening rounds, reconstructions),
	// and 100 series without a patient id.
	var scans []store.ScanInfo
	for p := range 500 {
		for k := range 4 {
			var s store.ScanInfo
			s.UID = fmt.Sprintf("1.2.%d.%d", p, k)
			s.Source.PatientID = fmt.Sprintf("P%04d", p)
			s.Source.StudyUID = fmt.Sprintf("9.%d.%d", p, k/2)
			scans = append(scans, s)
		}
	}
	for k := range 100 {
		var s store.ScanInfo
		s.UID = fmt.Sprintf("7.7.%d", k)
		scans = append(scans, s)
	}
	parts, err := mine.ParseParts("train:0.8,val:0.1,test:0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, by := range []mine.SplitBy{mine.ByPatient, mine.ByStudy, mine.BySeries} {
		t.Run(string(by), func(t *testing.T) {
			a, err := mine.Split(scans, by, parts, 7)
			if err != nil {
				t.Fatal(err)
			}
			partOf := map[string]string{} // group → part
			groups := map[string]map[string]bool{}
			for _, x := range a {
				if p, ok := partOf[x.Group]; ok && p != x.Part {
					t.Fatalf("group %s in %s and %s", x.Group, p, x.Part)
				}
				partOf[x.Group] = x.Part
				if groups[x.Part] == nil {
					groups[x.Part] = map[string]bool{}
				}
				groups[x.Part][x.Group] = true
			}
			want := map[mine.SplitBy]int{mine.ByPatient: 600, mine.ByStudy: 1100, mine.BySeries: 2100}[by]
			if len(partOf) != want {
				t.Errorf("%d groups, want %d", len(partOf), want)
			}
			for _, p := range parts {
				got := float64(len(groups[p.Name])) / float64(len(partOf))
				if math.Abs(got-p.Fraction) > 0.05 {
					t.Errorf("%s holds %.3f of the groups, want about %.2f", p.Name, got, p.Fraction)
				}
			}
			// The same seed gives the same split; a store that grows (or
			// shrinks) moves no scan that stays; another seed differs.
			again, _ := mine.Split(scans[:1000], by, parts, 7)
			for i := range again {
				if again[i] != a[i] {
					t.Fatalf("scan %s moved from %s to %s when the store shrank", a[i].UID, a[i].Part, again[i].Part)
				}
			}
			other, _ := mine.Split(scans, by, parts, 8)
			moved := 0
			for i := range other {
				if other[i].Part != a[i].Part {
					moved++
				}
			}
			if moved == 0 {
				t.Error("another seed gives the same split")
			}
		})
	}
}

func TestParseParts(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"train:0.8,val:0.1,test:0.1", true},
		{"a:0.5,b:0.5", true},
		{"train:1", true},
		{"train:0.8,val:0.1", false},   // adds up to 0.9
		{"train:0.8,train:0.2", false}, // the same name twice
		{"train:0.8,../x:0.2", false},  // not a plain file name
		{"train:1.2,val:-0.2", false},
		{"train", false},
		{"train:x", false},
	} {
		_, err := mine.ParseParts(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.in, err)
		}
	}
}
