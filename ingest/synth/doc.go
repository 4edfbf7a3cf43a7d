// Package synth writes synthetic LUNA16-like datasets: phantom chest CTs
// in MetaImage form (padding outside a circular field of view, air, a body
// with fat, spine, ribs and a table, two lungs with branching vessels, a
// trachea splitting into bronchi, nodules of 3–30 mm, some touching the
// chest wall), seg-lungs style masks, annotations.csv,
// annotations_excluded.csv, candidates.csv and a truth.json of everything
// drawn. No real scan can be had where voxmine is developed and tested;
// these can, byte for byte from a seed.
//
// Place does the opposite: it takes a real annotations.csv and writes, for
// each of its series, a small scan around that series' nodules, to test
// world → voxel conversion at the real dataset's scale.
package synth
