package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"voxmine/internal/atomicfile"
	"voxmine/internal/cli"
	"voxmine/mine"
	"voxmine/store"
)

const splitHelp = `mine split — a training split that keeps each patient's scans together.

Assigns every scan of the store to a part (train, val, test …) by a hash
of --seed and its group: the patient (DICOM PatientID), the study, or the
series alone. A group's part depends on nothing else, so scans ingested
later never move a group already assigned. Writes one uid list per part,
for --uids of the mining commands, and split.csv (seriesuid, group, part).
MetaImage and NIfTI scans carry no patient: they take the one their
annotations table names (LUNA25's PatientID column), else each is its own
group.

Examples:
  mine split --store store/ --out splits/
  mine split --store store/ --out splits/ --parts train:0.7,val:0.15,test:0.15 --seed 3
  mine negatives --store store/ --out bg-train/ --uids splits/train.txt
`

func runSplit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var storeDir, out, by, partsFlag string
	var seed uint64
	var overwrite bool
	fs := flagSet("split", splitHelp, stdout, stderr)
	fs.StringVar(&storeDir, "store", "", "the voxmine store (required)")
	fs.StringVar(&out, "out", "", "folder for the lists (required)")
	fs.StringVar(&by, "by", "patient", "what stays together: patient, study or series")
	fs.StringVar(&partsFlag, "parts", "train:0.8,val:0.1,test:0.1", "the parts and their shares of the groups")
	fs.Uint64Var(&seed, "seed", 0, "seed of the assignment")
	fs.BoolVar(&overwrite, "overwrite", false, "replace lists already in --out")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "mine split: %v\n", err)
		return code
	}
	if storeDir == "" || out == "" {
		return fail(cli.ExitUsage, fmt.Errorf("--store and --out are required"))
	}
	parts, err := mine.ParseParts(partsFlag)
	if err != nil {
		return fail(cli.ExitUsage, err)
	}
	st, err := store.Open(storeDir)
	if err != nil {
		return fail(cli.ExitUsage, err)
	}
	scans, err := st.Scans()
	if err != nil {
		return fail(cli.ExitData, err)
	}
	// Scans without a patient in their headers (MetaImage, NIfTI) take
	// the one their annotations table names (LUNA25's PatientID).
	if f, err := st.Findings(); err == nil {
		for i, s := range scans {
			if sf := f.Series[s.UID]; sf != nil && s.Source.PatientID == "" {
				scans[i].Source.PatientID = sf.PatientID
			}
		}
	}
	assigned, err := mine.Split(scans, mine.SplitBy(by), parts, seed)
	if err != nil {
		return fail(cli.ExitUsage, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fail(cli.ExitData, err)
	}
	files := []string{filepath.Join(out, "split.csv")}
	for _, p := range parts {
		files = append(files, filepath.Join(out, p.Name+".txt"))
	}
	for _, f := range files {
		if _, err := os.Stat(f); err == nil && !overwrite {
			return fail(cli.ExitUsage, fmt.Errorf("%s exists: pass --overwrite to replace it", f))
		}
	}
	orphans := 0
	for _, s := range scans {
		if _, own := mine.GroupOf(s, mine.SplitBy(by)); !own {
			orphans++
		}
	}
	err = atomicfile.Write(files[0], func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"seriesuid", "group", "part"})
		for _, a := range assigned {
			cw.Write([]string{a.UID, a.Group, a.Part})
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return fail(cli.ExitData, err)
	}
	fmt.Fprintf(stdout, "split %d scans by %s (seed %d) into %s\n", len(scans), by, seed, out)
	for i, p := range parts {
		var uids []string
		groups := map[string]bool{}
		for _, a := range assigned {
			if a.Part == p.Name {
				uids = append(uids, a.UID)
				groups[a.Group] = true
			}
		}
		err := atomicfile.Write(files[i+1], func(w io.Writer) error {
			fmt.Fprintf(w, "# %s: %d scans of %d %s groups (share %g, seed %d), for mine --uids\n", p.Name, len(uids), len(groups), by, p.Fraction, seed)
			for _, u := range uids {
				if _, err := fmt.Fprintln(w, u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fail(cli.ExitData, err)
		}
		fmt.Fprintf(stdout, "  %-8s %5d scans, %5d groups  %s\n", p.Name, len(uids), len(groups), files[i+1])
	}
	if orphans > 0 && by != string(mine.BySeries) {
		fmt.Fprintf(stdout, "note: %d scans have no %s id (MetaImage, NIfTI, or an empty DICOM tag) and are each their own group\n", orphans, by)
	}
	return cli.ExitOK
}
