// The synthetic V1 population: trial structure, ground truth, noise, determinism and config.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "data/default_data.h"
#include "data/synthetic_v1.h"
#include "measures/dataset_summary.h"
#include "measures/reliability.h"
#include "rsa/rsa_reliability.h"
#include "runtime/error.h"
#include "test_registry.h"
#include "test_support.h"

using namespace bp;

namespace {

constexpr int kSide = 16;

// 16x16 images in [0, 1]: a few random grating patches each, so every filter sees contrast.
// Colour images repeat the gray image in every channel.
ImageDataset patternedImages(std::int64_t count = 200, int channels = 1) {
  ImageDataset images;
  images.name = "patterns";
  images.channels = channels;
  images.height = kSide;
  images.width = kSide;
  images.classNames = {"gratings", "blobs", "mixed", "noise"};
  std::mt19937 random(7);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double pi = std::acos(-1.0);
  for (std::int64_t i = 0; i < count; ++i) {
    std::vector<double> image(kSide * kSide, 0.0);
    for (int component = 0; component < 3; ++component) {
      const double angle = uniform(random) * pi;
      const double frequency = 0.05 + 0.2 * uniform(random);
      const double phase = uniform(random) * 2.0 * pi;
      const double cx = uniform(random) * kSide;
      const double cy = uniform(random) * kSide;
      const double width = 2.0 + 6.0 * uniform(random);
      for (int y = 0; y < kSide; ++y)
        for (int x = 0; x < kSide; ++x) {
          const double along = x * std::cos(angle) + y * std::sin(angle);
          const double blob = std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * width * width));
          image[static_cast<std::size_t>(y * kSide + x)] += blob * std::cos(2 * pi * frequency * along + phase);
        }
    }
    for (auto& value : image) value = std::clamp(0.5 + 0.3 * value + 0.05 * (uniform(random) - 0.5), 0.0, 1.0);
    for (int c = 0; c < channels; ++c)
      for (const double value : image) images.pixels.push_back(static_cast<float>(value));
    images.labels.push_back(static_cast<std::int32_t>(i % 4));
  }
  return images;
}

SyntheticV1Config smallConfig() {
  SyntheticV1Config config;
  config.neuronCount = 60;
  config.trainImages = 120;
  config.validationImages = 30;
  config.testImages = 20;
  config.testRepeats = 5;
  return config;
}

// Mean over neuron pairs of the correlation of their trial-to-trial deviations from the noise-free
// rate (of |correlation| when `absolute`), over all trials.
double meanNoiseCorrelation(const NeuralDataset& dataset, bool absolute = false) {
  const auto trials = static_cast<std::size_t>(dataset.trialCount());
  const auto neurons = static_cast<std::size_t>(dataset.neuronCount);
  std::vector<double> residuals(trials * neurons);
  for (std::size_t i = 0; i < residuals.size(); ++i) residuals[i] = dataset.responses[i] - dataset.noiseFreeRates[i];
  std::vector<double> mean(neurons, 0.0);
  std::vector<double> scale(neurons, 0.0);
  for (std::size_t n = 0; n < neurons; ++n) {
    for (std::size_t t = 0; t < trials; ++t) mean[n] += residuals[t * neurons + n] / static_cast<double>(trials);
    for (std::size_t t = 0; t < trials; ++t) scale[n] += std::pow(residuals[t * neurons + n] - mean[n], 2);
    scale[n] = std::sqrt(scale[n]);
  }
  double sum = 0.0;
  int pairs = 0;
  for (std::size_t a = 0; a < neurons; ++a)
    for (std::size_t b = a + 1; b < neurons; ++b) {
      if (scale[a] == 0.0 || scale[b] == 0.0) continue;
      double cross = 0.0;
      for (std::size_t t = 0; t < trials; ++t)
        cross += (residuals[t * neurons + a] - mean[a]) * (residuals[t * neurons + b] - mean[b]);
      const double r = cross / (scale[a] * scale[b]);
      sum += absolute ? std::abs(r) : r;
      ++pairs;
    }
  return sum / pairs;
}

std::int64_t countTier(const NeuralDataset& dataset, Tier tier) {
  return std::count(dataset.tiers.begin(), dataset.tiers.end(), tier);
}

}  // namespace

class SyntheticV1Test : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void repeatsOfAnImageShareImageAndNoiseFreeRates() {
    const auto result = generateSyntheticV1(patternedImages(), smallConfig());
    const auto& dataset = result.dataset;
    std::map<std::int64_t, std::int64_t> firstTrialOfImage;
    std::int64_t repeatsSeen = 0;
    for (std::int64_t t = 0; t < dataset.trialCount(); ++t) {
      const auto image = dataset.imageIds[static_cast<std::size_t>(t)];
      const auto [entry, isNew] = firstTrialOfImage.emplace(image, t);
      if (isNew) continue;
      ++repeatsSeen;
      const auto first = entry->second;
      QCOMPARE(dataset.tiers[static_cast<std::size_t>(t)], Tier::Test);
      QVERIFY(std::equal(dataset.image(t), dataset.image(t) + dataset.imageSize(), dataset.image(first)));
      QVERIFY(std::equal(dataset.noiseFreeRates.begin() + t * dataset.neuronCount,
                         dataset.noiseFreeRates.begin() + (t + 1) * dataset.neuronCount,
                         dataset.noiseFreeRates.begin() + first * dataset.neuronCount));
    }
    QCOMPARE(repeatsSeen, std::int64_t(20 * 4));
  }

  void trialsTiersAndMetadataFollowTheConfig() {
    const auto source = patternedImages();
    const auto result = generateSyntheticV1(source, smallConfig());
    const auto& dataset = result.dataset;
    QCOMPARE(dataset.name, std::string("synthetic-v1"));
    QCOMPARE(dataset.trialCount(), std::int64_t(120 + 30 + 20 * 5));
    QCOMPARE(dataset.declaredTrialCount(), dataset.trialCount());
    QCOMPARE(countTier(dataset, Tier::Train), std::int64_t(120));
    QCOMPARE(countTier(dataset, Tier::Validation), std::int64_t(30));
    QCOMPARE(countTier(dataset, Tier::Test), std::int64_t(100));
    QCOMPARE(dataset.channels, 1);
    QCOMPARE(dataset.height, kSide);
    QCOMPARE(dataset.width, kSide);
    QCOMPARE(dataset.neuronCount, std::int64_t(60));
    for (std::int64_t t = 0; t < dataset.trialCount(); ++t) {
      QCOMPARE(dataset.trialIds[static_cast<std::size_t>(t)], t);
      // Stored images are the source pixels x 255, and the class is the source image's class.
      const auto sourceIndex = dataset.imageIds[static_cast<std::size_t>(t)];
      QVERIFY(std::abs(dataset.image(t)[5] - source.image(sourceIndex)[5] * 255.0f) < 1e-3f);
      QCOMPARE(dataset.imageClasses[static_cast<std::size_t>(t)],
               source.classNames[static_cast<std::size_t>(source.labels[static_cast<std::size_t>(sourceIndex)])]);
    }
    // Every shown image is distinct across tiers: 120 + 30 + 20 ids.
    QCOMPARE(std::set<std::int64_t>(dataset.imageIds.begin(), dataset.imageIds.end()).size(), std::size_t(170));
    QCOMPARE(dataset.neurons.unitIds.size(), std::size_t(60));
    QCOMPARE(dataset.neurons.area.front(), std::string("V1"));
    QCOMPARE(dataset.neurons.layer.front(), std::string("L2/3"));
    QCOMPARE(dataset.neurons.cellMotorCoordinates[3], result.neurons[1].x);
    QCOMPARE(dataset.neurons.cellMotorCoordinates[4], result.neurons[1].y);
    QCOMPARE(result.neurons.size(), std::size_t(60));
    QCOMPARE(std::count_if(result.neurons.begin(), result.neurons.end(), [](const auto& n) { return n.complexCell; }),
             std::ptrdiff_t(24));  // round(0.4 * 60)
    for (const char* key : {"mean", "std", "min", "max", "median"}) {
      QCOMPARE(dataset.statistics.at("images").all.at(key).size(), std::size_t(1));
      QCOMPARE(dataset.statistics.at("responses").all.at(key).size(), std::size_t(60));
    }
    const auto& imageStats = dataset.statistics.at("images").all;
    QVERIFY(imageStats.at("min")[0] >= 0.0f && imageStats.at("max")[0] <= 255.0f);
    QVERIFY(imageStats.at("mean")[0] > 100.0f && imageStats.at("mean")[0] < 155.0f);
    dataset.validate();
  }

  void groundTruthIsPlausible() {
    const auto result = generateSyntheticV1(patternedImages(), smallConfig());
    for (const auto& neuron : result.neurons) {
      QVERIFY(neuron.x >= 0.0 && neuron.x <= kSide - 1 && neuron.y >= 0.0 && neuron.y <= kSide - 1);
      QVERIFY(neuron.orientation >= 0.0 && neuron.orientation < std::acos(-1.0));
      QVERIFY(neuron.spatialFrequency > 0.0 && neuron.spatialFrequency <= 0.25);
      QVERIFY(neuron.sigma > 0.5 && neuron.sigma < kSide);
      QVERIFY(neuron.gain > 0.0);
      QVERIFY(neuron.baseline > 0.0 && neuron.baseline < 2.0);
    }
  }

  void neuronsPreferGratingsAtTheirGroundTruthOrientation() {
    // Full-field gratings: 12 orientations x 8 phases x 2 spatial frequencies, all shown once.
    constexpr int kOrientations = 12;
    const double pi = std::acos(-1.0);
    ImageDataset gratings;
    gratings.name = "gratings";
    gratings.channels = 1;
    gratings.height = gratings.width = kSide;
    gratings.classNames = {"grating"};
    std::vector<int> orientationOf;
    for (int o = 0; o < kOrientations; ++o)
      for (int phase = 0; phase < 8; ++phase)
        for (const double frequency : {0.1, 0.2}) {
          const double angle = o * pi / kOrientations;
          for (int y = 0; y < kSide; ++y)
            for (int x = 0; x < kSide; ++x)
              gratings.pixels.push_back(static_cast<float>(
                  0.5 +
                  0.5 * std::cos(2 * pi * frequency * (x * std::cos(angle) + y * std::sin(angle)) + phase * pi / 4)));
          gratings.labels.push_back(0);
          orientationOf.push_back(o);
        }
    SyntheticV1Config config = smallConfig();
    config.trainImages = gratings.imageCount();
    config.validationImages = config.testImages = 0;
    const auto result = generateSyntheticV1(gratings, config);
    const auto& dataset = result.dataset;

    int tuned = 0;
    for (std::int64_t n = 0; n < dataset.neuronCount; ++n) {
      std::vector<double> meanRate(kOrientations, 0.0);
      for (std::int64_t t = 0; t < dataset.trialCount(); ++t)
        meanRate[static_cast<std::size_t>(
            orientationOf[static_cast<std::size_t>(dataset.imageIds[static_cast<std::size_t>(t)])])] +=
            dataset.noiseFreeRates[static_cast<std::size_t>(t * dataset.neuronCount + n)];
      const auto preferred = std::max_element(meanRate.begin(), meanRate.end()) - meanRate.begin();
      const double difference =
          std::abs(preferred * pi / kOrientations - result.neurons[static_cast<std::size_t>(n)].orientation);
      if (std::min(difference, pi - difference) <= pi / kOrientations) ++tuned;  // within one 15-degree step
    }
    QVERIFY2(tuned >= 57, qPrintable(QString("%1 of 60 prefer their orientation").arg(tuned)));
  }

  void sameSeedGivesSameDataAndOtherSeedDiffers() {
    const auto source = patternedImages();
    const auto first = generateSyntheticV1(source, smallConfig());
    const auto again = generateSyntheticV1(source, smallConfig());
    QVERIFY(first.dataset.responses == again.dataset.responses);
    QVERIFY(first.dataset.noiseFreeRates == again.dataset.noiseFreeRates);
    QVERIFY(first.dataset.imageIds == again.dataset.imageIds);
    auto otherSeed = smallConfig();
    otherSeed.seed = 7;
    const auto other = generateSyntheticV1(source, otherSeed);
    QVERIFY(first.dataset.responses != other.dataset.responses);
    QVERIFY(first.dataset.imageIds != other.dataset.imageIds);
    QVERIFY(first.neurons.front().x != other.neurons.front().x);
  }

  void changingTheNoiseKeepsNeuronsAndImages() {
    const auto source = patternedImages();
    auto overdispersed = smallConfig();
    overdispersed.noiseFano = 2.0;
    const auto poisson = generateSyntheticV1(source, smallConfig());
    const auto gammaPoisson = generateSyntheticV1(source, overdispersed);
    QVERIFY(poisson.dataset.noiseFreeRates == gammaPoisson.dataset.noiseFreeRates);
    QVERIFY(poisson.dataset.responses != gammaPoisson.dataset.responses);
  }

  void meanRateMatchesTheConfig() {
    auto config = smallConfig();
    config.meanRate = 3.0;
    config.sharedGainSd = 0.0;  // the shared gain's own check is sharedGainIsTheModulatedPoissonModel
    const auto result = generateSyntheticV1(patternedImages(), config);
    const auto& dataset = result.dataset;
    double responseSum = 0.0;
    for (std::int64_t n = 0; n < dataset.neuronCount; ++n) {
      double rateSum = 0.0;
      for (std::int64_t t = 0; t < config.trainImages; ++t) {
        rateSum += dataset.noiseFreeRates[static_cast<std::size_t>(t * dataset.neuronCount + n)];
        responseSum += dataset.response(t)[n];
      }
      QVERIFY(std::abs(rateSum / config.trainImages - 3.0) < 1e-4);  // calibrated exactly
    }
    // Poisson counts: 7,200 draws of mean 3 have a standard error of about 0.02.
    QVERIFY(std::abs(responseSum / (config.trainImages * dataset.neuronCount) - 3.0) < 0.1);
  }

  void responsesAreNonNegativeCounts() {
    auto config = smallConfig();
    config.noiseFano = 4.0;
    const auto result = generateSyntheticV1(patternedImages(), config);
    for (const float r : result.dataset.responses) {
      QVERIFY(r >= 0.0f);
      QCOMPARE(r, std::round(r));
    }
  }

  void noiseHasTheConfiguredFanoFactor() {
    // Pooled over trials and neurons: sum (count - rate)^2 / sum rate estimates the Fano factor.
    for (const double fano : {1.0, 3.0}) {
      auto config = smallConfig();
      config.noiseFano = fano;
      config.sharedGainSd = 0.0;  // the private noise alone
      const auto result = generateSyntheticV1(patternedImages(), config);
      double squares = 0.0;
      double rates = 0.0;
      for (std::size_t i = 0; i < result.dataset.responses.size(); ++i) {
        const double rate = result.dataset.noiseFreeRates[i];
        squares += (result.dataset.responses[i] - rate) * (result.dataset.responses[i] - rate);
        rates += rate;
      }
      QVERIFY2(std::abs(squares / rates / fano - 1.0) < 0.1, qPrintable(QString("Fano %1").arg(squares / rates)));
    }
  }

  void noiseFreeRatesHavePerfectOracleCorrelation() {
    auto dataset = generateSyntheticV1(patternedImages(), smallConfig()).dataset;
    dataset.responses = dataset.noiseFreeRates;
    const auto reliability = computeReliability(dataset);
    QCOMPARE(reliability.repeatedImages, std::int64_t(20));
    int checked = 0;
    for (std::size_t n = 0; n < reliability.oracleCorrelation.size(); ++n) {
      if (reliability.variance[n] == 0.0) continue;  // a neuron no image drives
      ++checked;
      QVERIFY2(std::abs(reliability.oracleCorrelation[n] - 1.0) < 1e-9, qPrintable(QString::number(n)));
      QVERIFY(std::abs(reliability.explainableVarianceFraction[n] - 1.0) < 1e-9);
    }
    QVERIFY(checked > 50);
  }

  void noisyOracleCorrelationIsBetweenZeroAndOneForMostNeurons() {
    auto config = smallConfig();
    config.testRepeats = 10;
    const auto reliability = computeReliability(generateSyntheticV1(patternedImages(), config).dataset);
    const auto inside = std::count_if(reliability.oracleCorrelation.begin(), reliability.oracleCorrelation.end(),
                                      [](double r) { return r > 0.0 && r < 1.0; });
    QVERIFY2(inside >= 54, qPrintable(QString("%1 of 60").arg(inside)));
  }

  void sharedGainIsTheModulatedPoissonModel() {
    // Goris et al. 2014: a gain g of mean 1 and variance s2 = exp(sd^2) - 1, shared by all neurons
    // of a trial, times Poisson counts. Per trial, g_hat = sum of counts / sum of rates estimates
    // g, with the Poisson part adding 1 / sum of rates to its variance.
    auto config = smallConfig();
    config.trainImages = 5000;
    config.sharedGainSd = 0.5;
    config.meanRate = 3.0;
    const auto result = generateSyntheticV1(patternedImages(5050), config);
    const auto& dataset = result.dataset;
    double gainSum = 0.0;
    double gainSquares = 0.0;
    double poissonPart = 0.0;
    const std::int64_t trials = dataset.trialCount();
    for (std::int64_t t = 0; t < trials; ++t) {
      double counts = 0.0;
      double rates = 0.0;
      for (std::int64_t n = 0; n < dataset.neuronCount; ++n) {
        counts += dataset.response(t)[n];
        rates += dataset.noiseFreeRates[static_cast<std::size_t>(t * dataset.neuronCount + n)];
      }
      gainSum += counts / rates;
      gainSquares += (counts / rates - 1.0) * (counts / rates - 1.0);
      poissonPart += 1.0 / rates;
    }
    const double meanGain = gainSum / static_cast<double>(trials);
    const double gainVariance = (gainSquares - poissonPart) / static_cast<double>(trials);
    qInfo("shared gain: mean %.4f, variance %.4f (model: 1, %.4f)", meanGain, gainVariance, std::exp(0.25) - 1.0);
    QVERIFY(std::abs(meanGain - 1.0) < 0.03);
    // The sample variance of 5,100 log-normal gains has a relative standard error of about 4%.
    QVERIFY(std::abs(gainVariance / (std::exp(0.25) - 1.0) - 1.0) < 0.15);
    // The gain moves all neurons together; private noise alone does not.
    const double correlated = meanNoiseCorrelation(dataset);
    config.sharedGainSd = 0.0;
    const double independent = meanNoiseCorrelation(generateSyntheticV1(patternedImages(5050), config).dataset);
    qInfo("mean noise correlation %.4f with the shared gain, %.4f without", correlated, independent);
    QVERIFY(correlated > 0.1);
    QVERIFY(std::abs(independent) < 0.01);
  }

  void sharedAdditiveVariabilityCorrelatesNeuronsBothWays() {
    // One shared factor with loadings of either sign: pairs with loadings of the same sign co-vary
    // and pairs of opposite signs anti-vary, so the mean absolute correlation grows far more than
    // the mean correlation.
    auto config = smallConfig();
    config.trainImages = 1800;
    config.sharedGainSd = 0.0;
    config.sharedFactors = 1;
    config.sharedAdditiveSd = 0.5;
    config.meanRate = 5.0;  // rarely clamped at zero
    const auto withFactor = generateSyntheticV1(patternedImages(1850), config);
    config.sharedAdditiveSd = 0.0;
    const auto without = generateSyntheticV1(patternedImages(1850), config);
    const double absolute = meanNoiseCorrelation(withFactor.dataset, true);
    const double signedMean = meanNoiseCorrelation(withFactor.dataset);
    const double independentAbsolute = meanNoiseCorrelation(without.dataset, true);
    qInfo("mean |noise correlation| %.4f with one shared factor (signed %.4f), %.4f without", absolute, signedMean,
          independentAbsolute);
    QVERIFY(absolute > 3.0 * independentAbsolute);
    QVERIFY(std::abs(signedMean) < 0.5 * absolute);
    QVERIFY(withFactor.dataset.noiseFreeRates == without.dataset.noiseFreeRates);
  }

  void sharedVariabilityLeavesTheGroundTruthAndTheOtherStreams() {
    // Turned off, the shared parts draw nothing: the counts are those of the private noise alone,
    // whatever the unused settings say; turned on, only the counts change.
    auto off = smallConfig();
    off.sharedGainSd = 0.0;
    auto unusedFactors = off;
    unusedFactors.sharedFactors = 3;
    const auto source = patternedImages();
    const auto independent = generateSyntheticV1(source, off);
    QVERIFY(generateSyntheticV1(source, unusedFactors).dataset.responses == independent.dataset.responses);
    const auto shared = generateSyntheticV1(source, smallConfig());
    QVERIFY(shared.dataset.noiseFreeRates == independent.dataset.noiseFreeRates);
    QVERIFY(shared.dataset.imageIds == independent.dataset.imageIds);
    QVERIFY(shared.dataset.responses != independent.dataset.responses);
  }

  void defaultPopulationIsAsReliableAsTheLurzRecording() {
    // The calibration's claim: the embedded default matches the real recording on per-neuron
    // reliability and on how well one trial's population similarity agrees with the other repeats'
    // (the model-free half of the denoising check). TestLurzRsa checks the Lurz figures against
    // the recording itself.
    SyntheticV1Result result;
    try {
      result = generateDefaultDataset();
    } catch (const FileError& e) {
      QSKIP(e.what());  // Fashion-MNIST is not installed
    }
    const double medianOracle = quantilesIgnoringNaN(computeReliability(result.dataset).oracleCorrelation).median;
    const double singleTrial = singleTrialAgreement(result.dataset, SingleTrialConfig{}).mean;
    qInfo("default population: median oracle r %.3f (Lurz %.3f), single trial vs other repeats %.3f (Lurz %.3f)",
          medianOracle, test::kLurzMedianOracleCorrelation, singleTrial, test::kLurzSingleTrialAgreement);
    QVERIFY(std::abs(medianOracle - test::kLurzMedianOracleCorrelation) < 0.05);
    QVERIFY(std::abs(singleTrial - test::kLurzSingleTrialAgreement) < 0.05);
    // Without the shared variability the same neurons are far more reliable as a population than
    // the recording: the reason the calibration exists.
    SyntheticV1Config independent;
    independent.sharedGainSd = 0.0;
    const double independentSingleTrial =
        singleTrialAgreement(generateDefaultDataset(independent).dataset, SingleTrialConfig{}).mean;
    qInfo("without shared variability: single trial vs other repeats %.3f", independentSingleTrial);
    QVERIFY(independentSingleTrial > test::kLurzSingleTrialAgreement + 0.2);
  }

  void colourSourceIsAveragedToGray() {
    // Three equal channels average to the gray image (up to float rounding), so the colour source
    // gives the gray source's images and rates.
    const auto gray = generateSyntheticV1(patternedImages(200, 1), smallConfig()).dataset;
    const auto colour = generateSyntheticV1(patternedImages(200, 3), smallConfig()).dataset;
    QCOMPARE(colour.channels, 1);
    QCOMPARE(colour.images.size(), gray.images.size());
    for (std::size_t i = 0; i < gray.images.size(); ++i) QVERIFY(std::abs(gray.images[i] - colour.images[i]) < 1e-3f);
    for (std::size_t i = 0; i < gray.noiseFreeRates.size(); ++i)
      QVERIFY(std::abs(gray.noiseFreeRates[i] - colour.noiseFreeRates[i]) <= 1e-4f * (1.0f + gray.noiseFreeRates[i]));
  }

  void configJsonRoundTrips() {
    SyntheticV1Config config;
    config.neuronCount = 17;
    config.complexCellFraction = 0.25;
    config.trainImages = 11;
    config.validationImages = 3;
    config.testImages = 2;
    config.testRepeats = 4;
    config.meanRate = 1.5;
    config.noiseFano = 2.5;
    config.sharedGainSd = 0.3;
    config.sharedFactors = 4;
    config.sharedAdditiveSd = 0.25;
    config.seed = 18446744073709551615ULL;
    const auto json = nlohmann::json::parse(toJson(config).dump());
    const auto back = syntheticV1ConfigFromJson(json);
    QCOMPARE(back.neuronCount, config.neuronCount);
    QCOMPARE(back.complexCellFraction, config.complexCellFraction);
    QCOMPARE(back.trainImages, config.trainImages);
    QCOMPARE(back.validationImages, config.validationImages);
    QCOMPARE(back.testImages, config.testImages);
    QCOMPARE(back.testRepeats, config.testRepeats);
    QCOMPARE(back.meanRate, config.meanRate);
    QCOMPARE(back.noiseFano, config.noiseFano);
    QCOMPARE(back.sharedGainSd, config.sharedGainSd);
    QCOMPARE(back.sharedFactors, config.sharedFactors);
    QCOMPARE(back.sharedAdditiveSd, config.sharedAdditiveSd);
    QCOMPARE(back.seed, config.seed);
    // Missing keys keep their defaults; integers are accepted where numbers are expected.
    const auto partial = syntheticV1ConfigFromJson({{"neuron_count", 5}, {"mean_rate", 3}});
    QCOMPARE(partial.neuronCount, std::int64_t(5));
    QCOMPARE(partial.meanRate, 3.0);
    QCOMPARE(partial.trainImages, SyntheticV1Config{}.trainImages);
  }

  void badConfigJsonNamesTheKey() {
    auto messageOf = [](const nlohmann::json& json) -> std::string {
      try {
        syntheticV1ConfigFromJson(json);
      } catch (const Error& e) {
        return e.what();
      }
      return {};
    };
    QVERIFY(messageOf({{"neurons", 5}}).find("'neurons'") != std::string::npos);
    QVERIFY(messageOf({{"neuron_count", "many"}}).find("'neuron_count'") != std::string::npos);
    QVERIFY(messageOf({{"neuron_count", 2.5}}).find("'neuron_count'") != std::string::npos);
    QVERIFY(messageOf({{"mean_rate", true}}).find("'mean_rate'") != std::string::npos);
    QVERIFY(messageOf({{"seed", -1}}).find("'seed'") != std::string::npos);
    QVERIFY(!messageOf(nlohmann::json::array()).empty());
  }

  void invalidConfigIsAnError() {
    const auto source = patternedImages();
    auto expectError = [&](const SyntheticV1Config& config, const std::string& phrase) {
      try {
        generateSyntheticV1(source, config);
      } catch (const Error& e) {
        return std::string(e.what()).find(phrase) != std::string::npos;
      }
      return false;
    };
    auto config = smallConfig();
    config.neuronCount = 0;
    QVERIFY(expectError(config, "neuron_count"));
    config = smallConfig();
    config.noiseFano = 0.5;
    QVERIFY(expectError(config, "noise_fano"));
    config = smallConfig();
    config.meanRate = -1.0;
    QVERIFY(expectError(config, "mean_rate"));
    config = smallConfig();
    config.testRepeats = 0;
    QVERIFY(expectError(config, "test_repeats"));
    config = smallConfig();
    config.sharedGainSd = -0.1;
    QVERIFY(expectError(config, "shared_gain_sd"));
    config = smallConfig();
    config.sharedFactors = -1;
    QVERIFY(expectError(config, "shared_factors"));
    config = smallConfig();
    config.sharedAdditiveSd = std::nan("");
    QVERIFY(expectError(config, "shared_additive_sd"));
    config = smallConfig();
    config.complexCellFraction = 1.5;
    QVERIFY(expectError(config, "complex_cell_fraction"));
    config = smallConfig();
    config.trainImages = 190;  // 190 + 30 + 20 = 240 > 200
    QVERIFY(expectError(config, "needs 240 distinct images"));
  }

  void unsuitableSourceIsAnError() {
    auto bright = patternedImages();
    bright.pixels[10] = 255.0f;
    QVERIFY_THROWS_EXCEPTION(Error, generateSyntheticV1(bright, smallConfig()));
    auto fourChannels = patternedImages(200, 1);
    fourChannels.channels = 4;
    fourChannels.pixels.resize(fourChannels.pixels.size() * 4, 0.5f);
    QVERIFY_THROWS_EXCEPTION(Error, generateSyntheticV1(fourChannels, smallConfig()));
  }

  void cancelledJobStops() {
    auto token = std::make_shared<CancelToken>();
    token->cancel();
    QVERIFY_THROWS_EXCEPTION(CancelledError, generateSyntheticV1(patternedImages(), smallConfig(), Job({}, token)));
  }
};

BRAINPRIOR_TEST_CLASS(SyntheticV1Test)
#include "test_synthetic_v1.moc"
