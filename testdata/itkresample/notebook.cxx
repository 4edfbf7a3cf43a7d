// notebook: the Kaggle notebook's whole mining run, in ITK 5.2 from C++ so
// that no Python overhead is counted against it. For every scan: read the
// .mhd, resample the whole scan to 1 mm (linear, default value 0), cut a
// 64³ cube around each given centre (voxels outside get 0, as the
// notebook's padding does), window HU [-1000, 400] → [0, 1], and save it as
// a float16 .npy. bench/run.sh times it against `mine negatives` on the
// same centres.
//
// usage: notebook CENTRES.txt OUTDIR
// CENTRES.txt: one line per cube, "PATH.mhd Z Y X" (voxel on the 1 mm grid).
// Prints: scans cubes seconds
#include <chrono>
#include <cmath>
#include <cstdio>
#include <array>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "itkIdentityTransform.h"
#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkLinearInterpolateImageFunction.h"
#include "itkResampleImageFilter.h"

using Image = itk::Image<short, 3>;

static long roundHalfEven(double v) { return static_cast<long>(std::nearbyint(v)); }

static void writeNPY(const std::string & path, const std::vector<_Float16> & data, int n) {
  char dict[128];
  std::snprintf(dict, sizeof dict, "{'descr': '<f2', 'fortran_order': False, 'shape': (%d, %d, %d), }", n, n, n);
  std::string h(dict);
  size_t total = 10 + h.size() + 1;
  size_t pad = (64 - total % 64) % 64;
  h += std::string(pad, ' ') + "\n";
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  unsigned short len = static_cast<unsigned short>(h.size());
  f.write(reinterpret_cast<const char *>(&len), 2);
  f.write(h.data(), h.size());
  f.write(reinterpret_cast<const char *>(data.data()), data.size() * 2);
}

int main(int argc, char ** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CENTRES.txt OUTDIR\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::array<long, 3>>> centres;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string path;
    long z, y, x;
    if (!(ls >> path >> z >> y >> x)) continue;
    if (!centres.count(path)) order.push_back(path);
    centres[path].push_back({z, y, x});
  }
  const int n = 64;
  auto t0 = std::chrono::steady_clock::now();
  int cubes = 0;
  for (const auto & path : order) {
    auto reader = itk::ImageFileReader<Image>::New();
    reader->SetFileName(path);
    reader->Update();
    Image::Pointer img = reader->GetOutput();
    Image::SizeType size;
    Image::SpacingType spacing;
    for (unsigned i = 0; i < 3; ++i) {
      size[i] = roundHalfEven(img->GetLargestPossibleRegion().GetSize()[i] * img->GetSpacing()[i]);
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
    const short * vol = f->GetOutput()->GetBufferPointer();
    const long nx = size[0], ny = size[1], nz = size[2];
    std::vector<_Float16> cube(n * n * n);
    for (const auto & c : centres[path]) {
      for (long z = 0; z < n; ++z)
        for (long y = 0; y < n; ++y)
          for (long x = 0; x < n; ++x) {
            long vz = c[0] - n / 2 + z, vy = c[1] - n / 2 + y, vx = c[2] - n / 2 + x;
            double v = 0;
            if (vz >= 0 && vy >= 0 && vx >= 0 && vz < nz && vy < ny && vx < nx) v = vol[(vz * ny + vy) * nx + vx];
            v = (std::fmin(std::fmax(v, -1000.0), 400.0) + 1000.0) / 1400.0;
            cube[(z * n + y) * n + x] = static_cast<_Float16>(v);
          }
      std::string name = path.substr(path.find_last_of('/') + 1);
      writeNPY(std::string(argv[2]) + "/" + name + "_bg" + std::to_string(cubes) + ".npy", cube, n);
      ++cubes;
    }
  }
  auto t1 = std::chrono::steady_clock::now();
  std::printf("%zu %d %.6f\n", order.size(), cubes, std::chrono::duration<double>(t1 - t0).count());
  return 0;
}
