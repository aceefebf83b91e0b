#pragma once
// Common corruptions of images and the accuracy of a classifier under them (docs/science.md §1 step 7:
// accuracy under additive Gaussian noise of increasing sigma, mean +/- SEM over seeds). Images are
// batches N x C x H x W of floats in [0, 1], as every classifier takes them; corrupted images are
// clamped back to [0, 1].
//
// Every corruption has one severity, 0 meaning "unchanged" (the clean point of a curve):
//   gaussian_noise   x + sigma * z, z ~ N(0, 1) per element                    severity = sigma >= 0
//   uniform_noise    x + u, u ~ U(-a, a) per element                          severity = a >= 0
//   salt_and_pepper  round(p * H * W) pixels of each image, all channels of a pixel together, set to
//                    1 or 0 with probability 1/2 each                         severity = p in [0, 1]
//   gaussian_blur    separable Gaussian, kernel exp(-t^2 / (2 sigma^2)) for |t| <= r, normalised to
//                    sum 1, r = min(ceil(3 sigma), side - 1), reflected border (d c b | a b c d | c b a)
//                                                                             severity = sigma in pixels >= 0
//   contrast         m + (x - m) * (1 - s), m the image's mean over channels and pixels
//                                                                             severity = s in [0, 1]
//   jpeg             each image encoded and decoded by OpenCV's JPEG codec at quality 101 - s (s = 1:
//                    quality 100, s = 100: quality 1), pixels rounded to 8 bits first; 1 channel as
//                    grayscale, 3 as RGB                                      severity = s, integer in [0, 100]
// Random corruptions draw each image's numbers from its own stream of (seed, the image's index in the
// whole set), so an image gets the same corruption whichever batch it is in.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include "classifiers/resnet.h"
#include "runtime/job.h"

namespace bp {

enum class CorruptionKind { GaussianNoise, UniformNoise, SaltAndPepper, GaussianBlur, Contrast, Jpeg };

// "gaussian_noise", "uniform_noise", "salt_and_pepper", "gaussian_blur", "contrast", "jpeg".
const char* corruptionKindName(CorruptionKind kind);
std::optional<CorruptionKind> parseCorruptionKind(const std::string& name);
const std::vector<CorruptionKind>& allCorruptionKinds();

// Throws bp::Error when `severity` is outside the kind's range (see above).
void validateSeverity(CorruptionKind kind, double severity);

// The corrupted copy of `images` (any device; the result is on the same device). `firstImageIndex`
// is the index of images[0] in the whole set, which selects the random streams.
torch::Tensor corruptImages(const torch::Tensor& images, CorruptionKind kind, double severity, std::uint64_t seed,
                            std::int64_t firstImageIndex = 0);

// ---- robustness sweep ---------------------------------------------------------------------------

struct CorruptionSweepConfig {
  CorruptionKind kind = CorruptionKind::GaussianNoise;
  // 0 is the clean accuracy. The default Gaussian-noise sigmas double from 0.02 to 0.32 (our choice:
  // the paper's figure shows increasing sigma without listing the values).
  std::vector<double> severities = {0.0, 0.02, 0.04, 0.08, 0.16, 0.32};
  std::uint64_t seed = 0;
};

// Keys: {"kind", "severities", "seed"}.
nlohmann::json toJson(const CorruptionSweepConfig& config);
// Missing keys keep their defaults; an unknown key or a wrong type is a bp::Error naming it.
CorruptionSweepConfig corruptionSweepConfigFromJson(const nlohmann::json& json);
// Throws bp::Error for no severities or a severity outside the kind's range.
void validate(const CorruptionSweepConfig& config);

struct CorruptionCurve {
  CorruptionKind kind = CorruptionKind::GaussianNoise;
  std::vector<double> severities;
  std::vector<double> accuracies;  // fraction correct at each severity; NaN for no images
  std::int64_t images = 0;
  std::uint64_t seed = 0;
};

// Keys: {"kind", "severities", "accuracies", "images", "seed"}; NaN as null.
nlohmann::json toJson(const CorruptionCurve& curve);

// Accuracy of `model` (evaluation mode, no gradients; its training mode is restored) on the
// corrupted `images` at every severity, batch by batch (the job is checked every batch).
CorruptionCurve accuracyUnderCorruption(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                                        const CorruptionSweepConfig& config, const Job& job = {},
                                        std::int64_t batchSize = 256);

// Several curves of the same corruption and severities (models trained with different seeds, or
// different noise seeds), point by point: mean and standard error of the mean, sd / sqrt(n) with
// the n - 1 sample standard deviation (NaN for one curve).
struct CorruptionCurveSummary {
  CorruptionKind kind = CorruptionKind::GaussianNoise;
  std::vector<double> severities;
  std::vector<double> meanAccuracies;
  std::vector<double> semAccuracies;
  std::int64_t curves = 0;
};

// Throws bp::Error for no curves or curves of different corruptions or severities.
CorruptionCurveSummary summarizeCorruptionCurves(const std::vector<CorruptionCurve>& curves);

// Keys: {"kind", "severities", "mean_accuracies", "sem_accuracies", "curves"}; NaN as null.
nlohmann::json toJson(const CorruptionCurveSummary& summary);

}  // namespace bp
