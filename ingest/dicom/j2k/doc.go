// Package j2k decodes JPEG 2000 codestreams (ITU-T T.800 | ISO/IEC
// 15444-1, Part 1) of one grey component: what DICOM's JPEG 2000 transfer
// syntaxes (1.2.840.10008.1.2.4.90 lossless, .91) hold for a CT slice.
//
// It reads the main and tile-part headers, the packets of every
// progression order, code-blocks in every coding style (arithmetic coding
// passes, selective bypass, termination on each pass, context reset,
// causal stripes, segmentation symbols), and runs the inverse wavelet
// transform: the reversible 5/3 (lossless, sample for sample as OpenJPEG)
// or the irreversible 9/7 with scalar dequantization (lossy, within one
// unit of OpenJPEG's float32 arithmetic). What it does not read it refuses
// with an error wrapping ErrUnsupported: several components,
// region-of-interest shifts, progression order changes (POC) and packed
// packet headers (PPM, PPT).
//
// The layout follows the standard's stages: codestream.go (markers,
// tiles, geometry), packet.go (tier 2: packet headers, tag trees,
// progression), mq.go (the MQ arithmetic decoder), t1.go (tier 1: the
// coding passes over stripe columns), dwt.go (the inverse wavelet
// transform).
package j2k
