// The dataset summary behind `brainprior-cli info`: counts, quantiles and the JSON layout.
#include <QtTest>

#include <cmath>
#include <limits>

#include "measures/dataset_summary.h"
#include "measures/reliability.h"
#include "test_registry.h"

using namespace bp;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfinity = std::numeric_limits<double>::infinity();

// 2 neurons, 1x2x3 images. Train: images 1, 2, 3 once and image 4 twice; validation: image 5;
// test: image 6 three times and image 7 twice. Trials 100 and 101 are declared but missing.
// Neuron 1 is constant.
NeuralDataset smallRecording() {
  struct Trial {
    std::int64_t image;
    Tier tier;
    float response;
  };
  const Trial trials[] = {{1, Tier::Train, 0}, {2, Tier::Train, 4},      {3, Tier::Train, 1}, {4, Tier::Train, 2},
                          {4, Tier::Train, 3}, {5, Tier::Validation, 5}, {6, Tier::Test, 6},  {6, Tier::Test, 7},
                          {6, Tier::Test, 5},  {7, Tier::Test, 1},       {7, Tier::Test, 2}};
  NeuralDataset dataset;
  dataset.name = "small";
  dataset.sourcePath = "/data/small.h5";
  dataset.channels = 1;
  dataset.height = 2;
  dataset.width = 3;
  dataset.neuronCount = 2;
  std::int64_t t = 0;
  for (const auto& trial : trials) {
    for (int p = 0; p < 6; ++p) dataset.images.push_back(static_cast<float>(10 * trial.image + p));
    dataset.responses.push_back(trial.response);
    dataset.responses.push_back(1.0f);
    dataset.tiers.push_back(trial.tier);
    dataset.imageIds.push_back(trial.image);
    dataset.trialIds.push_back(t++);
  }
  dataset.missingTrialIds = {100, 101};
  return dataset;
}

}  // namespace

class DatasetSummaryTest : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void quantilesIgnoreNaNAndInterpolateLinearly() {
    const auto q = quantilesIgnoringNaN({kNaN, 4, 1, 3, 2, kNaN, 5});
    QCOMPARE(q.count, std::int64_t(5));
    QCOMPARE(q.min, 1.0);
    QCOMPARE(q.p05, 1.2);  // position 0.05 * 4 = 0.2 between 1 and 2
    QCOMPARE(q.p25, 2.0);
    QCOMPARE(q.median, 3.0);
    QCOMPARE(q.p75, 4.0);
    QCOMPARE(q.p95, 4.8);
    QCOMPARE(q.max, 5.0);
    const auto none = quantilesIgnoringNaN({kNaN, kNaN});
    QCOMPARE(none.count, std::int64_t(0));
    QVERIFY(std::isnan(none.median));
    const auto infinite = quantilesIgnoringNaN({1, kInfinity, kInfinity});
    QVERIFY(std::isinf(infinite.median));
    QVERIFY(std::isinf(infinite.max));
    QCOMPARE(infinite.min, 1.0);
  }

  void countsTrialsImagesAndRepeatsPerTier() {
    const auto summary = summarizeDataset(smallRecording());
    QCOMPARE(summary.name, std::string("small"));
    QCOMPARE(summary.neurons, std::int64_t(2));
    QCOMPARE(summary.declaredTrials, std::int64_t(13));
    QCOMPARE(summary.presentTrials, std::int64_t(11));
    QCOMPARE(summary.missingTrials, std::int64_t(2));
    const auto& train = summary.tiers.at(Tier::Train);
    QCOMPARE(train.trials, std::int64_t(5));
    QCOMPARE(train.uniqueImages, std::int64_t(4));
    QCOMPARE(train.repeatedImages, std::int64_t(1));
    QCOMPARE(train.maxRepeats, std::int64_t(2));
    const auto& validation = summary.tiers.at(Tier::Validation);
    QCOMPARE(validation.trials, std::int64_t(1));
    QCOMPARE(validation.repeatedImages, std::int64_t(0));
    QCOMPARE(validation.maxRepeats, std::int64_t(1));
    const auto& test = summary.tiers.at(Tier::Test);
    QCOMPARE(test.trials, std::int64_t(5));
    QCOMPARE(test.uniqueImages, std::int64_t(2));
    QCOMPARE(test.repeatedImages, std::int64_t(2));
    QCOMPARE(test.maxRepeats, std::int64_t(3));
    QCOMPARE(summary.allTiers.uniqueImages, std::int64_t(7));
    QCOMPARE(summary.allTiers.repeatedImages, std::int64_t(3));
    QCOMPARE(summary.repeatedTrials, std::int64_t(7));
    QCOMPARE(summary.imageMin, 10.0);
    QCOMPARE(summary.imageMax, 75.0);
    QVERIFY(!summary.hasBehavior && !summary.hasPupilCenter && !summary.hasNoiseFreeRates);
    // Responses: neuron 0 sums to 36, neuron 1 to 11, over 22 values.
    QCOMPARE(summary.responseMean, 47.0 / 22.0);
    QCOMPARE(summary.responseMax, 7.0);
    QVERIFY(!summary.noiseFreeCorrelation);
  }

  void reliabilityQuantilesSkipUndefinedNeurons() {
    const auto recording = smallRecording();
    const auto summary = summarizeDataset(recording);
    const auto reliability = computeReliability(recording);
    // Only neuron 0 varies: every quantile is its value; the constant neuron 1 is left out.
    QCOMPARE(summary.neuronsWithOracleCorrelation, std::int64_t(1));
    QCOMPARE(summary.oracleCorrelation.count, std::int64_t(1));
    QCOMPARE(summary.oracleCorrelation.median, reliability.oracleCorrelation[0]);
    QCOMPARE(summary.oracleCorrelation.p05, reliability.oracleCorrelation[0]);
    QCOMPARE(summary.explainableVarianceFraction.max, reliability.explainableVarianceFraction[0]);
    QCOMPARE(summary.snr.min, reliability.snr[0]);
  }

  void noiseFreeRatesAreComparedWithResponses() {
    auto recording = smallRecording();
    recording.noiseFreeRates = recording.responses;
    const auto summary = summarizeDataset(recording);
    QVERIFY(summary.hasNoiseFreeRates);
    QVERIFY(summary.noiseFreeCorrelation);
    QVERIFY(std::abs(*summary.noiseFreeCorrelation - 1.0) < 1e-12);
    QCOMPARE(summary.neuronNoiseFreeCorrelation->count, std::int64_t(1));  // neuron 1 is constant
    QVERIFY(toJson(summary).contains("ground_truth"));
  }

  void jsonIsNestedAndReadable() {
    const auto json = toJson(summarizeDataset(smallRecording()));
    QCOMPARE(json["kind"].get<std::string>(), std::string("neural"));
    QCOMPARE(json["name"].get<std::string>(), std::string("small"));
    QCOMPARE(json["source"].get<std::string>(), std::string("/data/small.h5"));
    QCOMPARE(json["neurons"].get<std::int64_t>(), std::int64_t(2));
    QCOMPARE(json["trials"]["declared"].get<std::int64_t>(), std::int64_t(13));
    QCOMPARE(json["trials"]["present"].get<std::int64_t>(), std::int64_t(11));
    QCOMPARE(json["trials"]["missing"].get<std::int64_t>(), std::int64_t(2));
    QCOMPARE(json["trials"]["by_tier"]["validation"].get<std::int64_t>(), std::int64_t(1));
    QVERIFY(json["images"]["shape"] == nlohmann::json({1, 2, 3}));
    QVERIFY(json["images"]["value_range"] == nlohmann::json({10.0, 75.0}));
    QCOMPARE(json["images"]["repeated"].get<std::int64_t>(), std::int64_t(3));
    QCOMPARE(json["images"]["by_tier"]["test"]["max_repeats"].get<std::int64_t>(), std::int64_t(3));
    QCOMPARE(json["images"]["by_tier"]["train"]["unique"].get<std::int64_t>(), std::int64_t(4));
    QCOMPARE(json["recorded"]["behavior"].get<bool>(), false);
    QVERIFY(json["responses"].contains("mean") && json["responses"].contains("max"));
    const auto& reliability = json["reliability"];
    QCOMPARE(reliability["repeated_images"].get<std::int64_t>(), std::int64_t(3));
    QCOMPARE(reliability["neurons_with_oracle_correlation"].get<std::int64_t>(), std::int64_t(1));
    for (const char* measure : {"oracle_correlation", "explainable_variance_fraction", "snr"})
      for (const char* key : {"count", "min", "p05", "p25", "median", "p75", "p95", "max"})
        QVERIFY2(reliability[measure].contains(key), qPrintable(QString("%1.%2").arg(measure, key)));
    QVERIFY(!json.contains("ground_truth"));
  }

  void undefinedValuesBecomeNull() {
    auto recording = smallRecording();
    for (std::size_t t = 0; t < recording.imageIds.size(); ++t)
      recording.imageIds[t] = static_cast<std::int64_t>(t);  // every image once: no repeats
    const auto json = toJson(summarizeDataset(recording));
    QCOMPARE(json["reliability"]["repeated_images"].get<std::int64_t>(), std::int64_t(0));
    QVERIFY(json["reliability"]["oracle_correlation"]["median"].is_null());
    QVERIFY(json["reliability"]["snr"]["max"].is_null());
    // NaN is not JSON: the dump must hold nulls, never "NaN".
    QVERIFY(json.dump().find("NaN") == std::string::npos);
  }
};

BRAINPRIOR_TEST_CLASS(DatasetSummaryTest)
#include "test_dataset_summary.moc"
