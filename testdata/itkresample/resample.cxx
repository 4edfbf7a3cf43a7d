// resample: ITK's own 1 mm linear resampling, the way the Kaggle notebook
// calls SimpleITK (identity transform, linear interpolator, output spacing
// 1 mm, size round(size × spacing), same origin and direction). voxmine's
// Go tests compare their output with what this program wrote, voxel for
// voxel; docs/BENCHMARKS.md uses its timings.
//
// usage: resample IN.mhd OUT.mhd [DEFAULT_VALUE] [nearest]
// Prints: read_seconds resample_seconds
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkIdentityTransform.h"
#include "itkLinearInterpolateImageFunction.h"
#include "itkNearestNeighborInterpolateImageFunction.h"
#include "itkResampleImageFilter.h"

using Image = itk::Image<short, 3>;

// Python's round(): halves go to the even neighbour.
static long roundHalfEven(double v) {
  double r = std::nearbyint(v); // default rounding mode is to nearest even
  return static_cast<long>(r);
}

int main(int argc, char ** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s IN.mhd OUT.mhd [DEFAULT_VALUE] [nearest]\n", argv[0]);
    return 2;
  }
  const short defaultValue = argc > 3 ? static_cast<short>(std::atoi(argv[3])) : 0;
  const bool nearest = argc > 4 && std::string(argv[4]) == "nearest";
  auto t0 = std::chrono::steady_clock::now();
  auto reader = itk::ImageFileReader<Image>::New();
  reader->SetFileName(argv[1]);
  reader->Update();
  Image::Pointer in = reader->GetOutput();
  auto t1 = std::chrono::steady_clock::now();

  Image::SizeType size;
  Image::SpacingType spacing;
  for (unsigned i = 0; i < 3; ++i) {
    size[i] = roundHalfEven(in->GetLargestPossibleRegion().GetSize()[i] * in->GetSpacing()[i]);
    spacing[i] = 1.0;
  }
  auto f = itk::ResampleImageFilter<Image, Image>::New();
  f->SetInput(in);
  f->SetTransform(itk::IdentityTransform<double, 3>::New());
  if (nearest) {
    f->SetInterpolator(itk::NearestNeighborInterpolateImageFunction<Image, double>::New());
  } else {
    f->SetInterpolator(itk::LinearInterpolateImageFunction<Image, double>::New());
  }
  f->SetOutputOrigin(in->GetOrigin());
  f->SetOutputDirection(in->GetDirection());
  f->SetOutputSpacing(spacing);
  f->SetSize(size);
  f->SetDefaultPixelValue(defaultValue);
  f->Update();
  auto t2 = std::chrono::steady_clock::now();

  auto writer = itk::ImageFileWriter<Image>::New();
  writer->SetFileName(argv[2]);
  writer->SetInput(f->GetOutput());
  writer->Update();
  std::printf("%.6f %.6f\n", std::chrono::duration<double>(t1 - t0).count(),
              std::chrono::duration<double>(t2 - t1).count());
  return 0;
}
