package resample

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"voxmine/ingest/metaimage"
)

// TestResampleMatchesITK compares ResampleLinear and ResampleNearest with
// ITK's ResampleImageFilter, whose outputs are committed under
// testdata/itkresample (make_golden.sh regenerates them). With ITK's default
// value (0) for outside points, every voxel must be equal.
func TestResampleMatchesITK(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "itkresample")
	for _, name := range []string{"aniso", "flipped", "odd", "luna", "mask"} {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(dir, "inputs", name+".mhd")
			want := filepath.Join(dir, "outputs", name+".mhd")
			hOut, ref, err := metaimage.ReadCT(want)
			if err != nil {
				t.Fatal(err)
			}
			var got []int16
			var hIn *metaimage.Header
			if name == "mask" {
				var lab []uint8
				hIn, lab, err = metaimage.ReadLabels(in)
				if err != nil {
					t.Fatal(err)
				}
				out, err := Nearest(context.Background(), lab, hIn.Geometry(), Grid1mm(hIn.Geometry()), 2)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range out {
					got = append(got, int16(v))
				}
			} else {
				var src []int16
				hIn, src, err = metaimage.ReadCT(in)
				if err != nil {
					t.Fatal(err)
				}
				got, err = Linear(context.Background(), src, hIn.Geometry(), Grid1mm(hIn.Geometry()), 0, 2)
				if err != nil {
					t.Fatal(err)
				}
			}
			g := Grid1mm(hIn.Geometry())
			if g.Shape != hOut.Geometry().Shape || g.Origin != hOut.Origin || g.Direction != hOut.Direction {
				t.Fatalf("grid %+v, ITK wrote %+v", g, hOut.Geometry())
			}
			differ, worst := 0, 0
			first := ""
			for i := range ref {
				if d := int(got[i]) - int(ref[i]); d != 0 {
					differ++
					worst = max(worst, d, -d)
					if first == "" {
						first = fmt.Sprintf("voxel %d: got %d, ITK %d", i, got[i], ref[i])
					}
				}
			}
			t.Logf("%s: %d voxels, %d differ from ITK", name, len(ref), differ)
			if differ != 0 {
				t.Errorf("%d of %d voxels differ from ITK (worst by %d; first %s)", differ, len(ref), worst, first)
			}
		})
	}
}
