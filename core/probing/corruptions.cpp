#include "probing/corruptions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/padding.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "probing/image_streams.h"
#include "probing/seed_statistics.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/random.h"
#include "runtime/undefined.h"

namespace bp {

namespace {


void checkImages(const torch::Tensor& images) {
  if (!images.defined() || images.dim() != 4) throw Error("corruptions: images must be a batch N x C x H x W");
}

// A normalised 1-D Gaussian of `sigma` over -radius..radius.
torch::Tensor gaussianKernel(double sigma, std::int64_t radius) {
  const torch::Tensor t = torch::arange(-radius, radius + 1, torch::kDouble);
  const torch::Tensor kernel = torch::exp(-t * t / (2.0 * sigma * sigma));
  return (kernel / kernel.sum()).to(torch::kFloat);
}

torch::Tensor gaussianBlur(const torch::Tensor& images, double sigma) {
  namespace F = torch::nn::functional;
  const std::int64_t channels = images.size(1);
  const auto reach = static_cast<std::int64_t>(std::ceil(3.0 * sigma));
  const std::int64_t radiusY = std::min(reach, images.size(2) - 1);
  const std::int64_t radiusX = std::min(reach, images.size(3) - 1);
  const torch::Tensor horizontal =
      gaussianKernel(sigma, radiusX).to(images.device()).view({1, 1, 1, -1}).repeat({channels, 1, 1, 1});
  const torch::Tensor vertical =
      gaussianKernel(sigma, radiusY).to(images.device()).view({1, 1, -1, 1}).repeat({channels, 1, 1, 1});
  const auto groups = F::Conv2dFuncOptions().groups(channels);
  torch::Tensor blurred =
      F::conv2d(F::pad(images, F::PadFuncOptions({radiusX, radiusX, 0, 0}).mode(torch::kReflect)), horizontal, groups);
  return F::conv2d(F::pad(blurred, F::PadFuncOptions({0, 0, radiusY, radiusY}).mode(torch::kReflect)), vertical,
                   groups);
}

// Per image, round(fraction * H * W) distinct pixels (a partial Fisher-Yates shuffle of the pixel
// indices), each 1 or 0 with probability 1/2, on every channel.
torch::Tensor saltAndPepper(const torch::Tensor& images, double fraction, std::uint64_t seed,
                            std::int64_t firstImageIndex) {
  const std::int64_t count = images.size(0), height = images.size(2), width = images.size(3);
  const std::int64_t pixels = height * width;
  const auto hit = static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(pixels)));
  // -1 where the pixel keeps its value, else the value it gets.
  torch::Tensor replacement = torch::full({count, 1, height, width}, -1.0f);
  float* values = replacement.data_ptr<float>();
  std::vector<std::int64_t> order(static_cast<std::size_t>(pixels));
  for (std::int64_t image = 0; image < count; ++image) {
    RandomStream random(
        seed, imageStream(static_cast<std::uint64_t>(CorruptionKind::SaltAndPepper), firstImageIndex + image));
    std::iota(order.begin(), order.end(), 0);
    for (std::int64_t k = 0; k < hit; ++k) {
      const auto pick = k + static_cast<std::int64_t>(random.below(static_cast<std::uint64_t>(pixels - k)));
      std::swap(order[static_cast<std::size_t>(k)], order[static_cast<std::size_t>(pick)]);
      values[image * pixels + order[static_cast<std::size_t>(k)]] = random.uniform() < 0.5 ? 1.0f : 0.0f;
    }
  }
  replacement = replacement.to(images.device());
  return torch::where(replacement.lt(0.0f), images, replacement.expand_as(images));
}

// OpenCV's JPEG round trip of each image at `quality`; 3-channel images are RGB and go to OpenCV as BGR.
torch::Tensor jpegRoundTrip(const torch::Tensor& images, int quality) {
  const std::int64_t channels = images.size(1);
  if (channels != 1 && channels != 3)
    throw Error("corruptions: jpeg needs 1 (grayscale) or 3 (RGB) channels, the images have " +
                std::to_string(channels));
  const int height = static_cast<int>(images.size(2)), width = static_cast<int>(images.size(3));
  torch::Tensor pixels = images.detach().to(torch::kCPU).mul(255.0).round().clamp(0, 255).to(torch::kUInt8);
  if (channels == 3) pixels = pixels.flip({1});
  pixels = pixels.permute({0, 2, 3, 1}).contiguous();  // N x H x W x C, as OpenCV lays pixels out
  torch::Tensor decoded = torch::empty_like(pixels);
  const int type = channels == 1 ? CV_8UC1 : CV_8UC3;
  const std::vector<int> parameters = {cv::IMWRITE_JPEG_QUALITY, quality};
  std::vector<uchar> buffer;
  for (std::int64_t image = 0; image < pixels.size(0); ++image) {
    const cv::Mat source(height, width, type, pixels[image].data_ptr<std::uint8_t>());
    if (!cv::imencode(".jpg", source, buffer, parameters)) throw Error("corruptions: OpenCV could not encode a JPEG");
    const cv::Mat result = cv::imdecode(buffer, channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
    if (result.empty() || result.rows != height || result.cols != width || result.type() != type)
      throw Error("corruptions: OpenCV could not decode its own JPEG");
    const cv::Mat target(height, width, type, decoded[image].data_ptr<std::uint8_t>());
    result.copyTo(target);
  }
  decoded = decoded.permute({0, 3, 1, 2});
  if (channels == 3) decoded = decoded.flip({1});
  return decoded.to(torch::kFloat).div(255.0).to(images.device()).contiguous();
}

}  // namespace

const char* corruptionKindName(CorruptionKind kind) {
  switch (kind) {
    case CorruptionKind::GaussianNoise:
      return "gaussian_noise";
    case CorruptionKind::UniformNoise:
      return "uniform_noise";
    case CorruptionKind::SaltAndPepper:
      return "salt_and_pepper";
    case CorruptionKind::GaussianBlur:
      return "gaussian_blur";
    case CorruptionKind::Contrast:
      return "contrast";
    case CorruptionKind::Jpeg:
      return "jpeg";
  }
  return "gaussian_noise";
}

const std::vector<CorruptionKind>& allCorruptionKinds() {
  static const std::vector<CorruptionKind> kinds = {CorruptionKind::GaussianNoise, CorruptionKind::UniformNoise,
                                                    CorruptionKind::SaltAndPepper, CorruptionKind::GaussianBlur,
                                                    CorruptionKind::Contrast,      CorruptionKind::Jpeg};
  return kinds;
}

std::optional<CorruptionKind> parseCorruptionKind(const std::string& name) {
  for (const CorruptionKind kind : allCorruptionKinds())
    if (name == corruptionKindName(kind)) return kind;
  return std::nullopt;
}

void validateSeverity(CorruptionKind kind, double severity) {
  const std::string what =
      std::string("corruption ") + corruptionKindName(kind) + ": severity " + std::to_string(severity) + " ";
  if (!std::isfinite(severity) || severity < 0.0) throw Error(what + "must be a finite number >= 0");
  switch (kind) {
    case CorruptionKind::SaltAndPepper:
    case CorruptionKind::Contrast:
      if (severity > 1.0) throw Error(what + "must be at most 1");
      break;
    case CorruptionKind::Jpeg:
      if (severity > 100.0 || severity != std::floor(severity))
        throw Error(what + "must be an integer from 0 to 100 (JPEG quality 101 - severity)");
      break;
    case CorruptionKind::GaussianNoise:
    case CorruptionKind::UniformNoise:
    case CorruptionKind::GaussianBlur:
      break;
  }
}

torch::Tensor corruptImages(const torch::Tensor& images, CorruptionKind kind, double severity, std::uint64_t seed,
                            std::int64_t firstImageIndex) {
  checkImages(images);
  validateSeverity(kind, severity);
  torch::NoGradGuard noGrad;
  const torch::Tensor clean = images.detach().to(torch::kFloat);
  if (severity == 0.0 || clean.size(0) == 0) return clean.clamp(0.0, 1.0);
  const std::vector<std::int64_t> imageShape = {clean.size(1), clean.size(2), clean.size(3)};
  const auto purpose = static_cast<std::uint64_t>(kind);
  torch::Tensor corrupted;
  switch (kind) {
    case CorruptionKind::GaussianNoise:
      corrupted = clean + severity * imageNoise(ImageNoise::Normal, indexRange(firstImageIndex, clean.size(0)),
                                                imageShape, seed, purpose)
                                         .to(clean.device());
      break;
    case CorruptionKind::UniformNoise:
      corrupted = clean + severity * (2.0 * imageNoise(ImageNoise::Uniform, indexRange(firstImageIndex, clean.size(0)),
                                                       imageShape, seed, purpose)
                                                .to(clean.device()) -
                                      1.0);
      break;
    case CorruptionKind::SaltAndPepper:
      corrupted = saltAndPepper(clean, severity, seed, firstImageIndex);
      break;
    case CorruptionKind::GaussianBlur:
      corrupted = gaussianBlur(clean, severity);
      break;
    case CorruptionKind::Contrast: {
      const torch::Tensor mean = clean.mean({1, 2, 3}, true);
      corrupted = mean + (clean - mean) * (1.0 - severity);
      break;
    }
    case CorruptionKind::Jpeg:
      corrupted = jpegRoundTrip(clean, 101 - static_cast<int>(severity));
      break;
  }
  return corrupted.clamp(0.0, 1.0);
}

// ---- robustness sweep ---------------------------------------------------------------------------

nlohmann::json toJson(const CorruptionSweepConfig& config) {
  return {{"kind", corruptionKindName(config.kind)}, {"severities", config.severities}, {"seed", config.seed}};
}

CorruptionSweepConfig corruptionSweepConfigFromJson(const nlohmann::json& json) {
  CorruptionSweepConfig config;
  ConfigReader reader(json, "corruption sweep config");
  if (const auto* kind = reader.find("kind")) {
    const auto parsed = kind->is_string() ? parseCorruptionKind(kind->get<std::string>()) : std::nullopt;
    if (!parsed)
      reader.fail("kind",
                  "must be one of gaussian_noise, uniform_noise, salt_and_pepper, gaussian_blur, contrast, jpeg");
    config.kind = *parsed;
  }
  if (const auto* severities = reader.find("severities")) {
    if (!severities->is_array()) reader.fail("severities", "must be an array of numbers");
    config.severities.clear();
    for (const auto& severity : *severities) {
      if (!severity.is_number()) reader.fail("severities", "must be an array of numbers");
      config.severities.push_back(severity.get<double>());
    }
  }
  reader.read("seed", config.seed);
  reader.finish();
  return config;
}

void validate(const CorruptionSweepConfig& config) {
  if (config.severities.empty()) throw Error("corruption sweep: no severities");
  for (const double severity : config.severities) validateSeverity(config.kind, severity);
}

nlohmann::json toJson(const CorruptionCurve& curve) {
  return {{"kind", corruptionKindName(curve.kind)},
          {"severities", curve.severities},
          {"accuracies", finiteOrNull(curve.accuracies)},
          {"images", curve.images},
          {"seed", curve.seed}};
}

CorruptionCurve accuracyUnderCorruption(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                                        const CorruptionSweepConfig& config, const Job& job, std::int64_t batchSize) {
  validate(config);
  checkImages(images);
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != images.size(0))
    throw Error("corruption sweep: one label per image is needed");
  if (batchSize < 1) throw Error("corruption sweep: the batch size must be positive");
  CorruptionCurve curve;
  curve.kind = config.kind;
  curve.severities = config.severities;
  curve.images = images.size(0);
  curve.seed = config.seed;
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  const torch::Device device = model->device();
  const std::int64_t count = images.size(0);
  const auto levels = static_cast<double>(config.severities.size());
  for (std::size_t level = 0; level < config.severities.size(); ++level) {
    const double severity = config.severities[level];
    std::int64_t correct = 0;
    for (std::int64_t begin = 0; begin < count; begin += batchSize) {
      job.throwIfCancelled();
      const std::int64_t size = std::min(batchSize, count - begin);
      const torch::Tensor corrupted =
          corruptImages(images.narrow(0, begin, size).to(device), config.kind, severity, config.seed, begin);
      correct +=
          model->forward(corrupted).argmax(1).eq(labels.narrow(0, begin, size).to(device)).sum().item<std::int64_t>();
      job.progress(
          (static_cast<double>(level) + static_cast<double>(begin + size) / static_cast<double>(count)) / levels,
          std::string(corruptionKindName(config.kind)) + " " + std::to_string(severity));
    }
    curve.accuracies.push_back(count > 0 ? static_cast<double>(correct) / static_cast<double>(count) : kUndefined);
  }
  model->train(wasTraining);
  return curve;
}

CorruptionCurveSummary summarizeCorruptionCurves(const std::vector<CorruptionCurve>& curves) {
  if (curves.empty()) throw Error("corruption curves: none to summarise");
  CorruptionCurveSummary summary;
  summary.kind = curves.front().kind;
  summary.severities = curves.front().severities;
  summary.curves = static_cast<std::int64_t>(curves.size());
  for (const CorruptionCurve& curve : curves)
    if (curve.kind != summary.kind || curve.severities != summary.severities ||
        curve.accuracies.size() != summary.severities.size())
      throw Error("corruption curves: every curve must have the same corruption and severities");
  for (std::size_t point = 0; point < summary.severities.size(); ++point) {
    std::vector<double> accuracies;
    for (const CorruptionCurve& curve : curves) accuracies.push_back(curve.accuracies[point]);
    const MeanAndSem summarized = meanAndSem(accuracies);
    summary.meanAccuracies.push_back(summarized.mean);
    summary.semAccuracies.push_back(summarized.sem);
  }
  return summary;
}

nlohmann::json toJson(const CorruptionCurveSummary& summary) {
  return {{"kind", corruptionKindName(summary.kind)},
          {"severities", summary.severities},
          {"mean_accuracies", finiteOrNull(summary.meanAccuracies)},
          {"sem_accuracies", finiteOrNull(summary.semAccuracies)},
          {"curves", summary.curves}};
}

}  // namespace bp
