// Package mine cuts training patches out of a voxmine store: random
// background cubes in the lung and away from findings (Negatives), cubes on
// annotated nodules (Positives), cubes on CAD candidates (Candidates), and
// all three at a ratio (Dataset). Every kind goes through one extraction
// and writing path: NumPy .npy files written atomically, an index CSV that
// pandas reads, an optional packed (N, s, s, s) array, a run.json and a
// preview sheet. Results depend only on the store, the parameters and the
// seed, never on the number of workers.
package mine
