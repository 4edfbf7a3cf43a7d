package mine_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"voxmine/ingest"
	"voxmine/ingest/synth"
	"voxmine/internal/testenv"
	"voxmine/mine"
	"voxmine/store"
)

// TestPositivesAtRealScale uses LUNA16's real annotations.csv (1186
// nodules in 601 series): a scan is placed around each series' nodules
// (same uids, 14 mirrored), ingested, and every positive must be centred
// on its nodule's voxel, which must hold the nodule.
func TestPositivesAtRealScale(t *testing.T) {
	testenv.SkipUnderRace(t)
	csvPath := testenv.Shared(t, "luna16/annotations.csv")
	if testing.Short() {
		t.Skip("601 scans")
	}
	dir := t.TempDir()
	src, st := filepath.Join(dir, "src"), filepath.Join(dir, "store")
	truth, err := synth.Place(context.Background(), src, csvPath, synth.PlaceOptions{Seed: 1, Mirrored: 14, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{src}, StoreDir: st,
		Annotations: filepath.Join(src, "annotations.csv"), Workers: 2, PadHU: -1000, Lung: ingest.LungSourceNone})
	if err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("ingest: %v %v", err, rep.Failed())
	}
	if rep.Mapped != 601 || rep.FindingRows["annotations"] != 1186 {
		t.Fatalf("%d series, %d annotations", rep.Mapped, rep.FindingRows["annotations"])
	}
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	o := mine.DefaultOutput(filepath.Join(dir, "pos"))
	o.Size, o.DType, o.Workers = 4, mine.I16, 2
	res, err := mine.Positives(context.Background(), s, o, mine.PositiveParams{})
	if err != nil {
		t.Fatal(err)
	}
	rows := readIndex(t, res.Index)
	if len(rows) != 1186 || len(res.Skipped) != 0 {
		t.Fatalf("%d positives, %d scans skipped: %v", len(rows), len(res.Skipped), res.Skipped)
	}
	byUID := map[string]*synth.ScanTruth{}
	mirroredNodules := 0
	for i := range truth.Scans {
		byUID[truth.Scans[i].UID] = &truth.Scans[i]
		if truth.Scans[i].Mirrored {
			mirroredNodules += len(truth.Scans[i].Nodules)
		}
	}
	for _, r := range rows {
		sc := byUID[r["seriesuid"]]
		n, _ := strconv.Atoi(r["nodule"])
		want := sc.VoxelZYX(sc.Nodules[n].World, 1)
		if c := centre(t, r); c != want {
			t.Errorf("%s nodule %d (mirrored %v): centre %v, truth %v", sc.UID, n, sc.Mirrored, c, want)
			continue
		}
		b, err := os.ReadFile(filepath.Join(o.Dir, r["patch_file"]))
		if err != nil {
			t.Fatal(err)
		}
		data := b[len(mine.NPYHeader(mine.I16, 4, 4, 4)):]
		i := 2 * ((2*4+2)*4 + 2) // the centre voxel of a 4³ cube is (2, 2, 2)
		if v := int16(uint16(data[i]) | uint16(data[i+1])<<8); v < -500 {
			t.Errorf("%s nodule %d (mirrored %v, %.1f mm): centre voxel holds %d HU, not the nodule", sc.UID, n, sc.Mirrored, sc.Nodules[n].Diameter, v)
		}
	}
	t.Logf("1186 positives checked, %d of them in the 14 mirrored scans", mirroredNodules)
	if mirroredNodules == 0 {
		t.Error("no nodule in a mirrored scan")
	}
}
