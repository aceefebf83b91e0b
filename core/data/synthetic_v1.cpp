#include "data/synthetic_v1.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>

#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/random.h"

namespace bp {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Model constants (see the header for the model). Chosen for plausibility, not fitted to data.
constexpr double kPositionMargin = 0.1;       // RF centres avoid the outer 10% of each image side
constexpr double kMinCyclesPerImage = 1.5;    // spatial frequency range, in cycles across the
constexpr double kMaxCyclesPerImage = 6.0;    //   shorter image side (log-uniform) ...
constexpr double kMaxCyclesPerPixel = 0.25;   //   ... and never finer than a 4-pixel period
constexpr double kMinBandwidthOctaves = 1.0;  // spatial-frequency bandwidth (uniform): sets sigma,
constexpr double kMaxBandwidthOctaves = 2.0;  //   so coarse filters have large envelopes, as in V1
constexpr double kEnvelopeTruncation = 3.0;   // filters are cut off at 3 sigma
// The stimulus-independent baseline, as a fraction of meanRate (uniform). The rest of the mean rate
// is driven, so this share sets how reliable a neuron is. With the default noise, 30% to 80% gives
// oracle correlations from about 0.1 (5th percentile) to 0.73 (95th), close to the Lurz recording's
// 0.16 to 0.62; the wider 10% to 90% reached 0.8 and below 0.
constexpr double kMinBaselineFraction = 0.3;
constexpr double kMaxBaselineFraction = 0.8;
// rate = baseline + gain * drive^2: half-squaring for simple cells (Heeger 1992) and the energy
// (sum of squares) for complex cells; expansive like the spike threshold, sparse like V1.
constexpr double kOutputExponent = 2.0;

// Independent random streams, so that changing one setting (say the noise) leaves the others
// (the neurons, the chosen images) as they were for the same seed.
// Shared variability has a stream of its own, so turning it off gives back the same counts.
enum class Stream : std::uint64_t { Images = 1, Neurons = 2, Noise = 3, SharedVariability = 4 };

// A neuron's filters over the bounding box of its truncated envelope (row-major, box-sized).
struct NeuronFilters {
  int top = 0, left = 0, rows = 0, cols = 0;
  std::vector<float> even;  // phase
  std::vector<float> odd;   // phase + pi/2 (complex cells only)
};

void validateConfig(const SyntheticV1Config& config) {
  auto require = [](bool ok, const std::string& problem) {
    if (!ok) throw Error("synthetic V1 config: " + problem);
  };
  require(config.neuronCount > 0, "neuron_count must be positive");
  require(config.complexCellFraction >= 0.0 && config.complexCellFraction <= 1.0,
          "complex_cell_fraction must be in [0, 1]");
  require(config.trainImages > 0, "train_images must be positive (the gains are calibrated on them)");
  require(config.validationImages >= 0, "validation_images must not be negative");
  require(config.testImages >= 0, "test_images must not be negative");
  require(config.testRepeats > 0, "test_repeats must be positive");
  require(std::isfinite(config.meanRate) && config.meanRate > 0.0, "mean_rate must be positive");
  require(std::isfinite(config.noiseFano) && config.noiseFano >= 1.0, "noise_fano must be at least 1 (1 = Poisson)");
  require(std::isfinite(config.sharedGainSd) && config.sharedGainSd >= 0.0 && config.sharedGainSd <= 2.0,
          "shared_gain_sd must be in [0, 2]");
  require(config.sharedFactors >= 0 && config.sharedFactors <= 100, "shared_factors must be in [0, 100]");
  require(std::isfinite(config.sharedAdditiveSd) && config.sharedAdditiveSd >= 0.0 && config.sharedAdditiveSd <= 10.0,
          "shared_additive_sd must be in [0, 10]");
}

std::vector<SyntheticNeuron> drawNeurons(const SyntheticV1Config& config, int height, int width) {
  RandomStream random(config.seed, static_cast<std::uint64_t>(Stream::Neurons));
  const auto count = static_cast<std::size_t>(config.neuronCount);
  std::vector<SyntheticNeuron> neurons(count);

  // Exactly round(fraction * count) complex cells, at random indices.
  const auto complexCount =
      static_cast<std::size_t>(std::llround(config.complexCellFraction * static_cast<double>(count)));
  for (std::size_t i = 0; i < complexCount; ++i) neurons[i].complexCell = true;
  for (std::size_t i = count - 1; i > 0; --i)
    std::swap(neurons[i].complexCell, neurons[random.below(i + 1)].complexCell);

  const double shorterSide = std::min(height, width);
  const double maxFrequency = std::min(kMaxCyclesPerPixel, kMaxCyclesPerImage / shorterSide);
  const double minFrequency = std::min(maxFrequency, kMinCyclesPerImage / shorterSide);
  for (auto& neuron : neurons) {
    neuron.x = random.uniform(kPositionMargin, 1.0 - kPositionMargin) * (width - 1);
    neuron.y = random.uniform(kPositionMargin, 1.0 - kPositionMargin) * (height - 1);
    neuron.orientation = random.uniform(0.0, kPi);
    neuron.spatialFrequency = std::exp(random.uniform(std::log(minFrequency), std::log(maxFrequency)));
    neuron.phase = random.uniform(0.0, 2.0 * kPi);
    // Envelope from the bandwidth b (octaves) at half amplitude:
    // sigma = sqrt(ln 2 / 2) / (pi f) * (2^b + 1) / (2^b - 1).
    const double spread = std::exp2(random.uniform(kMinBandwidthOctaves, kMaxBandwidthOctaves));
    neuron.sigma = std::sqrt(std::log(2.0) / 2.0) / (kPi * neuron.spatialFrequency) * (spread + 1.0) / (spread - 1.0);
    neuron.baseline = random.uniform(kMinBaselineFraction, kMaxBaselineFraction) * config.meanRate;
  }
  return neurons;
}

std::vector<float> gaborOverBox(const SyntheticNeuron& neuron, const NeuronFilters& box, double phase) {
  std::vector<float> weights(static_cast<std::size_t>(box.rows) * static_cast<std::size_t>(box.cols));
  const double cosTheta = std::cos(neuron.orientation);
  const double sinTheta = std::sin(neuron.orientation);
  double squaredNorm = 0.0;
  for (int r = 0; r < box.rows; ++r) {
    for (int c = 0; c < box.cols; ++c) {
      const double dx = box.left + c - neuron.x;
      const double dy = box.top + r - neuron.y;
      const double along = dx * cosTheta + dy * sinTheta;
      const double envelope = std::exp(-(dx * dx + dy * dy) / (2.0 * neuron.sigma * neuron.sigma));
      const double value = envelope * std::cos(2.0 * kPi * neuron.spatialFrequency * along + phase);
      weights[static_cast<std::size_t>(r * box.cols + c)] = static_cast<float>(value);
      squaredNorm += value * value;
    }
  }
  // Unit norm makes gains comparable across neurons. (A zero norm needs the carrier to vanish on
  // every pixel of the box; the guard keeps such a filter at zero rather than NaN.)
  if (squaredNorm > 0.0) {
    const auto scale = static_cast<float>(1.0 / std::sqrt(squaredNorm));
    for (auto& w : weights) w *= scale;
  }
  return weights;
}

NeuronFilters buildFilters(const SyntheticNeuron& neuron, int height, int width) {
  const double reach = kEnvelopeTruncation * neuron.sigma;
  NeuronFilters filters;
  filters.left = std::max(0, static_cast<int>(std::ceil(neuron.x - reach)));
  filters.top = std::max(0, static_cast<int>(std::ceil(neuron.y - reach)));
  const int right = std::min(width - 1, static_cast<int>(std::floor(neuron.x + reach)));
  const int bottom = std::min(height - 1, static_cast<int>(std::floor(neuron.y + reach)));
  filters.cols = right - filters.left + 1;
  filters.rows = bottom - filters.top + 1;
  filters.even = gaborOverBox(neuron, filters, neuron.phase);
  if (neuron.complexCell) filters.odd = gaborOverBox(neuron, filters, neuron.phase + kPi / 2.0);
  return filters;
}

// Images are filtered kImageBlock at a time, stored pixel-major within a block ([pixel][image]),
// so the innermost loop runs over the block's images with no dependency between iterations: the
// compiler vectorises it, and each filter weight is loaded once per block instead of once per image.
constexpr int kImageBlock = 8;

struct ImageBlocks {
  std::int64_t pixelCount = 0;
  std::int64_t imageCount = 0;
  std::vector<float> pixels;  // blocks x pixels x kImageBlock; the last block is padded with zeros

  const float* block(std::int64_t b) const { return pixels.data() + b * pixelCount * kImageBlock; }
  std::int64_t blockCount() const { return (imageCount + kImageBlock - 1) / kImageBlock; }
};

// Also subtracts `offset` from every pixel.
ImageBlocks toBlocks(const std::vector<float>& images, std::int64_t imageCount, std::int64_t pixelCount, float offset) {
  ImageBlocks blocks;
  blocks.pixelCount = pixelCount;
  blocks.imageCount = imageCount;
  blocks.pixels.assign(static_cast<std::size_t>(blocks.blockCount() * pixelCount * kImageBlock), 0.0f);
  for (std::int64_t u = 0; u < imageCount; ++u) {
    float* out = blocks.pixels.data() + (u / kImageBlock) * pixelCount * kImageBlock + u % kImageBlock;
    const float* in = images.data() + u * pixelCount;
    for (std::int64_t p = 0; p < pixelCount; ++p) out[p * kImageBlock] = in[p] - offset;
  }
  return blocks;
}

// One filter's responses to the images of one block.
void filterBlock(const NeuronFilters& box, const std::vector<float>& weights, const float* block, int width,
                 float (&responses)[kImageBlock]) {
  float sums[kImageBlock] = {};
  for (int r = 0; r < box.rows; ++r) {
    const float* pixels = block + (static_cast<std::ptrdiff_t>(box.top + r) * width + box.left) * kImageBlock;
    const float* row = weights.data() + static_cast<std::ptrdiff_t>(r) * box.cols;
    for (int c = 0; c < box.cols; ++c) {
      const float w = row[c];
      const float* pixel = pixels + static_cast<std::ptrdiff_t>(c) * kImageBlock;
      for (int k = 0; k < kImageBlock; ++k) sums[k] += w * pixel[k];
    }
  }
  std::copy(sums, sums + kImageBlock, responses);
}

// Median as numpy computes it (mean of the two middle values for an even count); reorders `values`.
float median(std::vector<float>& values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  if (values.size() % 2 == 1) return *middle;
  const float below = *std::max_element(values.begin(), middle);
  return static_cast<float>((static_cast<double>(below) + *middle) / 2.0);
}

// mean, std (population, as numpy), min, max, median of `values`, which is reordered.
std::map<std::string, std::vector<float>> describe(std::vector<float>& values) {
  double sum = 0.0;
  for (const float v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  double squares = 0.0;
  for (const float v : values) squares += (v - mean) * (v - mean);
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  const float minimum = *low;
  const float maximum = *high;
  return {{"mean", {static_cast<float>(mean)}},
          {"std", {static_cast<float>(std::sqrt(squares / static_cast<double>(values.size())))}},
          {"min", {minimum}},
          {"max", {maximum}},
          {"median", {median(values)}}};
}

// neuralpredictors-style normalisation statistics from the train trials (the first trainImages).
void computeStatistics(NeuralDataset& dataset, std::int64_t trainTrials) {
  const auto trainPixels = static_cast<std::size_t>(trainTrials * dataset.imageSize());
  std::vector<float> pixels(dataset.images.begin(), dataset.images.begin() + static_cast<std::ptrdiff_t>(trainPixels));
  dataset.statistics["images"].all = describe(pixels);

  auto& responses = dataset.statistics["responses"].all;
  for (const char* key : {"mean", "std", "min", "max", "median"})
    responses[key].resize(static_cast<std::size_t>(dataset.neuronCount));
  std::vector<float> column(static_cast<std::size_t>(trainTrials));
  for (std::int64_t n = 0; n < dataset.neuronCount; ++n) {
    for (std::int64_t t = 0; t < trainTrials; ++t) column[static_cast<std::size_t>(t)] = dataset.response(t)[n];
    for (auto& [key, values] : describe(column)) responses[key][static_cast<std::size_t>(n)] = values[0];
  }
}

}  // namespace

nlohmann::json toJson(const SyntheticV1Config& config) {
  return {{"neuron_count", config.neuronCount},
          {"complex_cell_fraction", config.complexCellFraction},
          {"train_images", config.trainImages},
          {"validation_images", config.validationImages},
          {"test_images", config.testImages},
          {"test_repeats", config.testRepeats},
          {"mean_rate", config.meanRate},
          {"noise_fano", config.noiseFano},
          {"shared_gain_sd", config.sharedGainSd},
          {"shared_factors", config.sharedFactors},
          {"shared_additive_sd", config.sharedAdditiveSd},
          {"seed", config.seed}};
}

SyntheticV1Config syntheticV1ConfigFromJson(const nlohmann::json& json) {
  SyntheticV1Config config;
  ConfigReader reader(json, "synthetic V1 config");
  reader.read("neuron_count", config.neuronCount);
  reader.read("complex_cell_fraction", config.complexCellFraction);
  reader.read("train_images", config.trainImages);
  reader.read("validation_images", config.validationImages);
  reader.read("test_images", config.testImages);
  reader.read("test_repeats", config.testRepeats);
  reader.read("mean_rate", config.meanRate);
  reader.read("noise_fano", config.noiseFano);
  reader.read("shared_gain_sd", config.sharedGainSd);
  reader.read("shared_factors", config.sharedFactors);
  reader.read("shared_additive_sd", config.sharedAdditiveSd);
  reader.read("seed", config.seed);
  reader.finish();
  return config;
}

SyntheticV1Result generateSyntheticV1(const ImageDataset& source, const SyntheticV1Config& config, const Job& job) {
  validateConfig(config);
  source.validate();
  if (source.channels != 1 && source.channels != 3)
    throw Error("image dataset '" + source.name + "' has " + std::to_string(source.channels) +
                " channels; synthetic V1 needs grayscale (1) or colour (3) images");
  const std::int64_t imagesNeeded = config.trainImages + config.validationImages + config.testImages;
  if (imagesNeeded > source.imageCount())
    throw Error("synthetic V1 needs " + std::to_string(imagesNeeded) +
                " distinct images (train + validation + test) but '" + source.name + "' has " +
                std::to_string(source.imageCount()));

  const int height = source.height;
  const int width = source.width;
  const std::int64_t pixelCount = static_cast<std::int64_t>(height) * width;
  const auto neuronCount = config.neuronCount;
  job.progress(0.0, "choosing images");

  // The shown images: a seeded random choice of distinct source images (partial Fisher-Yates).
  std::vector<std::int64_t> chosen(static_cast<std::size_t>(source.imageCount()));
  for (std::size_t i = 0; i < chosen.size(); ++i) chosen[i] = static_cast<std::int64_t>(i);
  {
    RandomStream random(config.seed, static_cast<std::uint64_t>(Stream::Images));
    for (std::size_t i = 0; i < static_cast<std::size_t>(imagesNeeded); ++i)
      std::swap(chosen[i], chosen[i + random.below(chosen.size() - i)]);
    chosen.resize(static_cast<std::size_t>(imagesNeeded));
  }

  // Grayscale in the source range [0, 1] (colour: mean over channels).
  std::vector<float> gray(static_cast<std::size_t>(imagesNeeded * pixelCount));
  for (std::int64_t u = 0; u < imagesNeeded; ++u) {
    const float* image = source.image(chosen[static_cast<std::size_t>(u)]);
    float* out = gray.data() + u * pixelCount;
    for (std::int64_t p = 0; p < pixelCount; ++p) {
      float value = 0.0f;
      for (int c = 0; c < source.channels; ++c) value += image[c * pixelCount + p];
      value /= static_cast<float>(source.channels);
      if (!(value >= -1e-6f && value <= 1.0f + 1e-6f))
        throw Error("image dataset '" + source.name +
                    "' has pixel values outside [0, 1]; synthetic V1 expects images "
                    "loaded in the range [0, 1]");
      out[p] = value;
    }
  }

  // Filters see contrast, not brightness: pixels are centred on the mean luminance of the train images.
  double luminanceSum = 0.0;
  for (std::int64_t i = 0; i < config.trainImages * pixelCount; ++i) luminanceSum += gray[static_cast<std::size_t>(i)];
  const auto meanLuminance = static_cast<float>(luminanceSum / static_cast<double>(config.trainImages * pixelCount));

  SyntheticV1Result result;
  result.config = config;
  result.neurons = drawNeurons(config, height, width);
  std::vector<NeuronFilters> filters;
  filters.reserve(result.neurons.size());
  for (const auto& neuron : result.neurons) filters.push_back(buildFilters(neuron, height, width));

  // drive^kOutputExponent (the rate before gain and baseline) of every neuron to every shown image
  // (images x neurons), filtering each image once however often it is shown.
  job.progress(0.05, "filtering images");
  const auto blocks = toBlocks(gray, imagesNeeded, pixelCount, meanLuminance);
  std::vector<double> poweredDrive(static_cast<std::size_t>(imagesNeeded * neuronCount));
  for (std::int64_t b = 0; b < blocks.blockCount(); ++b) {
    job.throwIfCancelled();
    if (b % 16 == 0)
      job.progress(0.05 + 0.75 * static_cast<double>(b) / static_cast<double>(blocks.blockCount()), "filtering images");
    const std::int64_t imagesInBlock = std::min<std::int64_t>(kImageBlock, imagesNeeded - b * kImageBlock);
    for (std::int64_t n = 0; n < neuronCount; ++n) {
      const auto& filter = filters[static_cast<std::size_t>(n)];
      float even[kImageBlock];
      filterBlock(filter, filter.even, blocks.block(b), width, even);
      float odd[kImageBlock] = {};
      if (!filter.odd.empty()) filterBlock(filter, filter.odd, blocks.block(b), width, odd);
      for (std::int64_t k = 0; k < imagesInBlock; ++k) {
        const double e = even[k];
        const double o = odd[k];
        const double drive = filter.odd.empty() ? std::max(0.0, e) : std::sqrt(e * e + o * o);
        poweredDrive[static_cast<std::size_t>((b * kImageBlock + k) * neuronCount + n)] =
            std::pow(drive, kOutputExponent);
      }
    }
  }

  // Calibrate: the gain makes each neuron's mean rate over the train images exactly meanRate.
  // A neuron that no train image drives (blank images) stays at meanRate with gain 0.
  for (std::int64_t n = 0; n < neuronCount; ++n) {
    double sum = 0.0;
    for (std::int64_t u = 0; u < config.trainImages; ++u)
      sum += poweredDrive[static_cast<std::size_t>(u * neuronCount + n)];
    const double meanPoweredDrive = sum / static_cast<double>(config.trainImages);
    auto& neuron = result.neurons[static_cast<std::size_t>(n)];
    if (meanPoweredDrive > 0.0) {
      neuron.gain = (config.meanRate - neuron.baseline) / meanPoweredDrive;
    } else {
      neuron.gain = 0.0;
      neuron.baseline = config.meanRate;
    }
  }

  // Trials: train and validation images once each, then testRepeats rounds over the test images.
  std::vector<std::int64_t> trialImage;  // index into the shown images
  std::vector<Tier> tiers;
  const std::int64_t trialCount = config.trainImages + config.validationImages + config.testImages * config.testRepeats;
  trialImage.reserve(static_cast<std::size_t>(trialCount));
  tiers.reserve(static_cast<std::size_t>(trialCount));
  for (std::int64_t u = 0; u < config.trainImages + config.validationImages; ++u) {
    trialImage.push_back(u);
    tiers.push_back(u < config.trainImages ? Tier::Train : Tier::Validation);
  }
  for (int repeat = 0; repeat < config.testRepeats; ++repeat) {
    for (std::int64_t u = config.trainImages + config.validationImages; u < imagesNeeded; ++u) {
      trialImage.push_back(u);
      tiers.push_back(Tier::Test);
    }
  }

  auto& dataset = result.dataset;
  dataset.name = "synthetic-v1";
  dataset.channels = 1;
  dataset.height = height;
  dataset.width = width;
  dataset.neuronCount = neuronCount;
  dataset.tiers = std::move(tiers);
  dataset.images.resize(static_cast<std::size_t>(trialCount * pixelCount));
  dataset.responses.resize(static_cast<std::size_t>(trialCount * neuronCount));
  dataset.noiseFreeRates.resize(dataset.responses.size());
  dataset.imageIds.resize(static_cast<std::size_t>(trialCount));
  dataset.trialIds.resize(static_cast<std::size_t>(trialCount));
  dataset.imageClasses.resize(static_cast<std::size_t>(trialCount));

  job.progress(0.8, "drawing responses");
  RandomStream noise(config.seed, static_cast<std::uint64_t>(Stream::Noise));
  const double overdispersion = config.noiseFano - 1.0;
  RandomStream shared(config.seed, static_cast<std::uint64_t>(Stream::SharedVariability));
  const auto factorCount = static_cast<std::size_t>(config.sharedAdditiveSd > 0.0 ? config.sharedFactors : 0);
  std::vector<double> loadings(static_cast<std::size_t>(neuronCount) * factorCount);  // neurons x factors
  for (auto& loading : loadings) loading = shared.normal() / std::sqrt(static_cast<double>(factorCount));
  std::vector<double> factors(factorCount);
  for (std::int64_t t = 0; t < trialCount; ++t) {
    if (t % 256 == 0) job.throwIfCancelled();
    const auto trial = static_cast<std::size_t>(t);
    const std::int64_t u = trialImage[trial];
    const std::int64_t sourceIndex = chosen[static_cast<std::size_t>(u)];
    dataset.trialIds[trial] = t;
    dataset.imageIds[trial] = sourceIndex;
    dataset.imageClasses[trial] =
        source.classNames[static_cast<std::size_t>(source.labels[static_cast<std::size_t>(sourceIndex)])];
    // Recorded-data convention: pixel values 0..255.
    const float* grayImage = gray.data() + u * pixelCount;
    float* storedImage = dataset.images.data() + t * pixelCount;
    for (std::int64_t p = 0; p < pixelCount; ++p) storedImage[p] = grayImage[p] * 255.0f;

    const double* drives = poweredDrive.data() + u * neuronCount;
    float* rates = dataset.noiseFreeRates.data() + t * neuronCount;
    float* counts = dataset.responses.data() + t * neuronCount;
    // The log-normal gain's mean is exp(mu + sd^2 / 2) = 1.
    const double trialGain = config.sharedGainSd > 0.0
                                 ? std::exp(config.sharedGainSd * shared.normal() - config.sharedGainSd * config.sharedGainSd / 2.0)
                                 : 1.0;
    for (auto& factor : factors) factor = shared.normal();
    for (std::int64_t n = 0; n < neuronCount; ++n) {
      const auto& neuron = result.neurons[static_cast<std::size_t>(n)];
      const double rate = neuron.baseline + neuron.gain * drives[n];
      rates[n] = static_cast<float>(rate);
      double additive = 0.0;
      for (std::size_t k = 0; k < factorCount; ++k) additive += loadings[static_cast<std::size_t>(n) * factorCount + k] * factors[k];
      const double sharedRate = std::max(0.0, trialGain * rate + config.sharedAdditiveSd * config.meanRate * additive);
      // Gamma-Poisson: a trial rate drawn from Gamma(shape rate / (F - 1), scale F - 1) has mean
      // `rate` and variance (F - 1) * rate, so the count's variance is F * rate (Fano factor F).
      const double trialRate = overdispersion > 0.0 && sharedRate > 0.0
                                   ? noise.gamma(sharedRate / overdispersion) * overdispersion
                                   : sharedRate;
      counts[n] = static_cast<float>(noise.poisson(trialRate));
    }
  }

  dataset.neurons.unitIds.resize(static_cast<std::size_t>(neuronCount));
  dataset.neurons.area.assign(static_cast<std::size_t>(neuronCount), "V1");
  dataset.neurons.layer.assign(static_cast<std::size_t>(neuronCount), "L2/3");
  dataset.neurons.cellMotorCoordinates.resize(static_cast<std::size_t>(neuronCount * 3));
  for (std::int64_t n = 0; n < neuronCount; ++n) {
    const auto& neuron = result.neurons[static_cast<std::size_t>(n)];
    dataset.neurons.unitIds[static_cast<std::size_t>(n)] = n;
    dataset.neurons.cellMotorCoordinates[static_cast<std::size_t>(3 * n)] = neuron.x;
    dataset.neurons.cellMotorCoordinates[static_cast<std::size_t>(3 * n + 1)] = neuron.y;
    dataset.neurons.cellMotorCoordinates[static_cast<std::size_t>(3 * n + 2)] = 0.0;
  }

  job.progress(0.95, "computing statistics");
  computeStatistics(dataset, config.trainImages);
  dataset.validate();
  job.progress(1.0, "synthetic V1 ready");
  return result;
}

nlohmann::json toJson(const SyntheticNeuron& neuron) {
  return {{"complex_cell", neuron.complexCell}, {"x", neuron.x},         {"y", neuron.y},
          {"orientation", neuron.orientation},  {"spatial_frequency", neuron.spatialFrequency},
          {"phase", neuron.phase},              {"sigma", neuron.sigma}, {"gain", neuron.gain},
          {"baseline", neuron.baseline}};
}

}  // namespace bp
