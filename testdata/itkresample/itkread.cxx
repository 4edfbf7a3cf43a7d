// itkread: read a scan the way ITK 5.2 does — a NIfTI file through
// NiftiImageIO, or a DICOM series (a folder) through GDCMSeriesFileNames and
// ImageSeriesReader — and report what ITK makes of it, so voxmine's readers
// can be held to it: the geometry, a digest of the voxels as read (int16),
// and, resampled to 1 mm the notebook's way (linear, default 0), a digest of
// that grid. With OUT.mhd it also writes the resampled volume.
//
// usage: itkread IN [OUT.mhd]
// Prints key = value lines: size, spacing, origin, direction (row-major),
// read_fnv (FNV-1a 64 of the int16 voxels, x fastest), grid_size,
// resampled_fnv, read_seconds, and for DICOM the sorted file names.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "itkGDCMImageIO.h"
#include "itkGDCMSeriesFileNames.h"
#include "itkIdentityTransform.h"
#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkImageSeriesReader.h"
#include "itkLinearInterpolateImageFunction.h"
#include "itkResampleImageFilter.h"
#include "itksys/SystemTools.hxx"

using Image = itk::Image<short, 3>;

static uint64_t fnv(const Image * img) {
  uint64_t h = 1469598103934665603ULL;
  const short * p = img->GetBufferPointer();
  size_t n = img->GetLargestPossibleRegion().GetNumberOfPixels();
  for (size_t i = 0; i < n; ++i) {
    uint16_t v = static_cast<uint16_t>(p[i]);
    h = (h ^ (v & 0xff)) * 1099511628211ULL;
    h = (h ^ (v >> 8)) * 1099511628211ULL;
  }
  return h;
}

int main(int argc, char ** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s IN [OUT.mhd]\n", argv[0]);
    return 2;
  }
  std::string in = argv[1];
  Image::Pointer img;
  auto t0 = std::chrono::steady_clock::now();
  if (itksys::SystemTools::FileIsDirectory(in)) {
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(false);
    names->SetDirectory(in);
    const auto & uids = names->GetSeriesUIDs();
    if (uids.empty()) {
      std::fprintf(stderr, "no DICOM series in %s\n", in.c_str());
      return 1;
    }
    auto files = names->GetFileNames(uids.front());
    auto reader = itk::ImageSeriesReader<Image>::New();
    reader->SetImageIO(itk::GDCMImageIO::New());
    reader->SetFileNames(files);
    reader->Update();
    img = reader->GetOutput();
    std::printf("series = %s\n", uids.front().c_str());
    for (const auto & f : files) std::printf("file = %s\n", itksys::SystemTools::GetFilenameName(f).c_str());
  } else {
    auto reader = itk::ImageFileReader<Image>::New();
    reader->SetFileName(in);
    reader->Update();
    img = reader->GetOutput();
  }
  auto t1 = std::chrono::steady_clock::now();
  img->DisconnectPipeline();
  auto sz = img->GetLargestPossibleRegion().GetSize();
  std::printf("size = %lu %lu %lu\n", sz[0], sz[1], sz[2]);
  std::printf("spacing = %.17g %.17g %.17g\n", img->GetSpacing()[0], img->GetSpacing()[1], img->GetSpacing()[2]);
  std::printf("origin = %.17g %.17g %.17g\n", img->GetOrigin()[0], img->GetOrigin()[1], img->GetOrigin()[2]);
  std::printf("direction =");
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) std::printf(" %.17g", img->GetDirection()[r][c]);
  std::printf("\nread_fnv = %016llx\n", static_cast<unsigned long long>(fnv(img)));
  std::printf("read_seconds = %.6f\n", std::chrono::duration<double>(t1 - t0).count());

  Image::SizeType size;
  Image::SpacingType spacing;
  for (unsigned i = 0; i < 3; ++i) {
    size[i] = static_cast<long>(std::nearbyint(sz[i] * img->GetSpacing()[i]));
    spacing[i] = 1.0;
  }
  auto f = itk::ResampleImageFilter<Image, Image>::New();
  f->SetInput(img);
  f->SetTransform(itk::IdentityTransform<double, 3>::New());
  f->SetInterpolator(itk::LinearInterpolateImageFunction<Image, double>::New());
  f->SetOutputOrigin(img->GetOrigin());
  f->SetOutputDirection(img->GetDirection());
  f->SetOutputSpacing(spacing);
  f->SetSize(size);
  f->SetDefaultPixelValue(0);
  f->Update();
  std::printf("grid_size = %lu %lu %lu\n", size[0], size[1], size[2]);
  std::printf("resampled_fnv = %016llx\n", static_cast<unsigned long long>(fnv(f->GetOutput())));
  if (argc > 2) {
    auto w = itk::ImageFileWriter<Image>::New();
    w->SetFileName(argv[2]);
    w->SetInput(f->GetOutput());
    w->Update();
  }
  return 0;
}
