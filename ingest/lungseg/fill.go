package lungseg

// runFill is the flood fill the segmentation's fills share: the border
// air of a slice (floodBorder), one region of a slice (fillRuns) and the
// 3-D components of the inside air (labelRange). It is a scan-line fill:
// a popped seed of value want fills its whole run along x with mark, and
// each run of want touching that run in the rows above and below (and,
// across slices, the slices before and after) is pushed once, not each
// pixel, so the work is per run. (The airway's growth, which floods by
// a predicate on the HU and not by a value, has a fill of its own.)
type runFill struct {
	s          []uint8 // rows of nx pixels, ny rows a slice
	ny, nx     int
	z0, z1     int // the slices the fill may reach: [z0, z1)
	want, mark uint8
	stack      []int32 // the seeds, then the work; kept for reuse
}

// run fills from the seeds on the stack, calling visit (when not nil)
// with each run filled: its row (z·ny + y) and first and last x.
func (f *runFill) run(visit func(row, x0, x1 int)) {
	s, ny, nx, want := f.s, f.ny, f.nx, f.want
	plane := ny * nx
	stack := f.stack
	for len(stack) > 0 {
		j := int(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		if s[j] != want {
			continue
		}
		row := j / nx
		base := row * nx
		l, r := runStart(s, j, base, want), runEnd(s, j, base+nx, want)-1
		fillRun(s, l, r, f.mark)
		if visit != nil {
			visit(row, l-base, r-base)
		}
		z, y := row/ny, row%ny
		for _, nb := range [4]int{-nx, nx, -plane, plane} {
			switch {
			case nb == -nx && y == 0, nb == nx && y == ny-1, nb == -plane && z == f.z0, nb == plane && z == f.z1-1:
				continue
			}
			stack = pushRuns(stack, s, l+nb, r+nb+1, want)
		}
	}
	f.stack = stack
}

// pushRuns pushes onto stack the first pixel of each run of value v in
// s[i:end].
func pushRuns(stack []int32, s []uint8, i, end int, v uint8) []int32 {
	for k := nextByte(s, i, end, v); k < end; k = nextByte(s, runEnd(s, k, end, v), end, v) {
		stack = append(stack, int32(k))
	}
	return stack
}
