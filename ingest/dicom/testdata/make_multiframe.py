#!/usr/bin/python3
"""Writes small Enhanced CT images (multi-frame, SOP class
1.2.840.10008.5.1.4.1.1.2.1) with pydicom, and what ITK's series semantics
make of them, computed here with NumPy and not by voxmine:

  OUT/<name>.dcm          the image, native pixel data
  OUT/<name>.json         geometry: shape (z, y, x), origin, spacing,
                          direction (row-major 3×3), as ITK sorts the frames
  OUT/<name>.hu           the HU volume in that order, int16 little endian

The frames are stored out of order (ITK sorts them along the normal of
their plane), the geometry sits in the functional groups as the standard
puts it (PS3.3 C.7.6.16), and one image rescales each frame differently.
Usage: make_multiframe.py OUT (make_multiframe.sh calls it).
"""
import json
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
ROOT = "1.2.826.0.1.3680043.9.7.2"


def item(**kw):
    d = Dataset()
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def ds_str(v):
    return [f"{x:.10g}" for x in v]


def write(out, name, *, frames, rows, cols, orient, first, step, spacing,
          intercepts, slope=1.0, order, signed, implicit=False):
    rng = np.random.default_rng(len(name))
    # HU: a ramp in x, y and z plus noise, from air to bone.
    z, y, x = np.meshgrid(np.arange(frames), np.arange(rows), np.arange(cols), indexing="ij")
    hu = (-1000 + 31 * x + 17 * y + 90 * z + rng.integers(-20, 21, size=x.shape)).astype(np.int64)
    inter = np.asarray(intercepts, dtype=np.int64)[np.arange(frames) % len(intercepts)]
    stored = (hu - inter[:, None, None]) // int(slope)
    hu = stored * int(slope) + inter[:, None, None]
    if signed:
        pix = stored.astype(np.int16)
    else:
        assert stored.min() >= 0 and stored.max() < 4096
        pix = stored.astype(np.uint16)
    orient = np.asarray(orient, dtype=float)
    normal = np.cross(orient[:3], orient[3:])
    pos = [np.asarray(first) + k * np.asarray(step) for k in range(frames)]

    f = FileMetaDataset()
    f.MediaStorageSOPClassUID = ENHANCED_CT
    f.MediaStorageSOPInstanceUID = f"{ROOT}.{len(name)}.1"
    f.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    d = Dataset()
    d.file_meta = f
    d.is_little_endian, d.is_implicit_VR = True, implicit
    d.SpecificCharacterSet = "ISO_IR 100"
    d.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    d.SOPClassUID = ENHANCED_CT
    d.SOPInstanceUID = f.MediaStorageSOPInstanceUID
    d.StudyDate, d.ContentDate, d.AcquisitionDateTime = "20261201", "20261201", "20261201120000"
    d.StudyTime, d.ContentTime = "120000", "120000"
    d.Modality = "CT"
    d.Manufacturer, d.ManufacturerModelName, d.DeviceSerialNumber, d.SoftwareVersions = "voxmine", "fixture", "1", "1"
    d.PatientName, d.PatientID, d.PatientBirthDate, d.PatientSex = "Multiframe^Fixture", "MF1", "", "O"
    d.StudyInstanceUID = f"{ROOT}.{len(name)}"
    d.SeriesInstanceUID = f"{ROOT}.{len(name)}.2"
    d.FrameOfReferenceUID = f"{ROOT}.{len(name)}.3"
    d.StudyID, d.AccessionNumber, d.ReferringPhysicianName = "1", "", ""
    d.SeriesNumber, d.InstanceNumber = 3, 1
    d.PositionReferenceIndicator = ""
    d.SamplesPerPixel, d.PhotometricInterpretation = 1, "MONOCHROME2"
    d.NumberOfFrames = frames
    d.Rows, d.Columns = rows, cols
    d.BitsAllocated, d.BitsStored, d.HighBit = 16, 16 if signed else 12, 15 if signed else 11
    d.PixelRepresentation = 1 if signed else 0
    d.ContentQualification, d.ImageType = "RESEARCH", ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    d.BurnedInAnnotation, d.LossyImageCompression = "NO", "00"
    d.PresentationLUTShape = "IDENTITY"

    shared = item(
        PixelMeasuresSequence=Sequence([item(PixelSpacing=ds_str(spacing), SliceThickness=f"{np.linalg.norm(step):.6g}")]),
        PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=ds_str(orient))]),
        CTImageFrameTypeSequence=Sequence([item(FrameType=["ORIGINAL", "PRIMARY", "AXIAL", "NONE"])]),
    )
    if len(intercepts) == 1:
        shared.PixelValueTransformationSequence = Sequence([item(
            RescaleIntercept=f"{intercepts[0]}", RescaleSlope=f"{slope:g}", RescaleType="HU")])
    d.SharedFunctionalGroupsSequence = Sequence([shared])
    per = []
    for k in order:
        it = item(
            FrameContentSequence=Sequence([item(StackID="1", InStackPositionNumber=k + 1, DimensionIndexValues=[1, k + 1])]),
            PlanePositionSequence=Sequence([item(ImagePositionPatient=ds_str(pos[k]))]),
        )
        if len(intercepts) > 1:
            it.PixelValueTransformationSequence = Sequence([item(
                RescaleIntercept=f"{inter[k]}", RescaleSlope=f"{slope:g}", RescaleType="HU")])
        per.append(it)
    d.PerFrameFunctionalGroupsSequence = Sequence(per)
    d.DimensionOrganizationSequence = Sequence([item(DimensionOrganizationUID=f"{ROOT}.{len(name)}.4")])
    d.DimensionIndexSequence = Sequence([
        item(DimensionOrganizationUID=f"{ROOT}.{len(name)}.4", DimensionIndexPointer=0x00209056, FunctionalGroupPointer=0x00209111),
        item(DimensionOrganizationUID=f"{ROOT}.{len(name)}.4", DimensionIndexPointer=0x00209057, FunctionalGroupPointer=0x00209111),
    ])
    d.PixelData = np.ascontiguousarray(pix[list(order)]).astype("<" + pix.dtype.str[1:]).tobytes()
    d["PixelData"].VR = "OW"
    d.save_as(f"{out}/{name}.dcm", write_like_original=False)

    # What ITK makes of it: frames sorted along the normal, the origin at
    # the first, the direction's columns the row and column cosines and
    # the normal, the slice spacing the span over the count.
    dist = [float(np.dot(normal, p)) for p in pos]
    srt = np.argsort(dist, kind="stable")
    span = np.linalg.norm(pos[srt[-1]] - pos[srt[0]]) / (frames - 1)
    direction = np.stack([orient[:3], orient[3:], normal], axis=1)
    geo = {"shape": [frames, rows, cols], "origin": list(map(float, pos[srt[0]])),
           "spacing": [spacing[1], spacing[0], float(span)], "direction": [float(v) + 0 for v in direction.ravel()]}
    json.dump(geo, open(f"{out}/{name}.json", "w"), indent=1)
    np.ascontiguousarray(hu[srt]).astype("<i2").tofile(f"{out}/{name}.hu")


def main():
    out = sys.argv[1]
    # Axial, 12-bit unsigned, one rescale for all frames, frames stored
    # head first (ITK puts the feet first).
    write(out, "mf-u12", frames=7, rows=48, cols=40, orient=[1, 0, 0, 0, 1, 0], first=[-12.5, -30.25, 40],
          step=[0, 0, -1.25], spacing=[0.8, 0.7], intercepts=[-1024], order=[3, 0, 6, 1, 5, 2, 4], signed=False)
    # Signed, a rescale per frame, rows along −x (the normal points to the
    # feet), implicit VR: sequences of defined length without their VR.
    write(out, "mf-s16-implicit", frames=6, rows=36, cols=44, orient=[-1, 0, 0, 0, 1, 0], first=[10, -5, -60],
          step=[0, 0, 2.5], spacing=[0.625, 0.75], intercepts=[-1024, -1000, -1010], order=[5, 4, 3, 2, 1, 0],
          signed=True, implicit=True)


if __name__ == "__main__":
    main()
