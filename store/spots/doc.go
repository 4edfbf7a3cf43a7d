// Package spots finds the nodule-like spots of a scan's lungs, where hard
// negatives are drawn: vessels seen end-on, branch points, pleural bumps,
// the places a detector confuses with nodules. Find runs once per scan at
// ingest, over the whole 1 mm volume; Score is the response it ranks spots
// by, which query also computes for any mined centre (its "hardness").
//
// It lives below store, not in ingest, because both ingest (which finds
// spots) and query (which scores a centre) need the one definition, and
// data flows one way: ingest → store → query → mine. The spots are
// stored in a scan's "blobs" array (store.Spot).
package spots
