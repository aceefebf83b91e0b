// Noise ceilings of similarity matrices from repeated images: split-half with Spearman-Brown, and
// single-trial agreement with the repeat average.
#include <QtTest>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "rsa/rsa_reliability.h"
#include "runtime/error.h"
#include "test_registry.h"

using namespace bp;

namespace {

// `images` test images shown `repeats` times each (interleaved, as in a real session), then two train
// images shown once. Rates are lognormal tuning per image and neuron; responses add Gaussian noise
// of standard deviation `noise`.
NeuralDataset makeRecording(int images, int repeats, int neurons, double noise, unsigned seed = 1) {
  std::mt19937 random(seed);
  std::normal_distribution<double> normal;
  std::vector<double> rate(static_cast<std::size_t>(images * neurons));
  for (auto& r : rate) r = std::exp(normal(random));
  NeuralDataset dataset;
  dataset.name = "made-up";
  dataset.channels = dataset.height = dataset.width = 1;
  dataset.neuronCount = neurons;
  const auto addTrial = [&](std::int64_t image, Tier tier, const double* rates) {
    for (int n = 0; n < neurons; ++n) {
      dataset.noiseFreeRates.push_back(static_cast<float>(rates[n]));
      dataset.responses.push_back(static_cast<float>(rates[n] + noise * normal(random)));
    }
    dataset.images.push_back(0.0f);
    dataset.tiers.push_back(tier);
    dataset.imageIds.push_back(image);
    dataset.trialIds.push_back(dataset.trialCount());
  };
  for (int r = 0; r < repeats; ++r)
    for (int i = 0; i < images; ++i) addTrial(1000 + i, Tier::Test, rate.data() + i * neurons);
  addTrial(1, Tier::Train, rate.data());
  addTrial(2, Tier::Train, rate.data() + neurons);
  return dataset;
}

}  // namespace

class RsaReliabilityTest : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void spearmanBrownByHand() {
    QCOMPARE(spearmanBrown(0.5), 2.0 / 3.0);  // 2 * 0.5 / 1.5
    QCOMPARE(spearmanBrown(0.0), 0.0);
    QCOMPARE(spearmanBrown(1.0), 1.0);
    QCOMPARE(spearmanBrown(0.25), 0.4);  // 0.5 / 1.25
  }

  void noiseFreeResponsesArePerfectlyReliable() {
    const auto dataset = makeRecording(12, 4, 30, 0.0);
    const auto split = splitHalfReliability(dataset);
    QCOMPARE(split.images, std::int64_t{12});
    QCOMPARE(split.splits, 20);
    QCOMPARE(split.rawPerSplit.size(), std::size_t{20});
    QVERIFY(std::abs(split.meanRaw - 1.0) < 1e-5);
    QVERIFY(std::abs(split.meanCorrected - 1.0) < 1e-5);
    QVERIFY(split.stdCorrected < 1e-5);
    const auto single = singleTrialAgreement(dataset);
    QCOMPARE(single.images, std::int64_t{12});
    QCOMPARE(single.repeats, 4);
    QCOMPARE(single.perRepeat.size(), std::size_t{4});
    for (const double r : single.perRepeat) QVERIFY(std::abs(r - 1.0) < 1e-5);
    QVERIFY(std::abs(single.mean - 1.0) < 1e-5);
  }

  void noiseFreeRatesIgnoreTheNoise() {
    const auto dataset = makeRecording(10, 3, 20, 1.0);
    SplitHalfConfig split;
    split.source = ResponseSource::NoiseFreeRates;
    QVERIFY(std::abs(splitHalfReliability(dataset, split).meanCorrected - 1.0) < 1e-5);
    SingleTrialConfig single;
    single.source = ResponseSource::NoiseFreeRates;
    single.method = ComparisonMethod::Spearman;
    QVERIFY(std::abs(singleTrialAgreement(dataset, single).mean - 1.0) < 1e-5);
  }

  void noiseLowersBothAndMoreNoiseLowersThemMore() {
    double previousSplit = 1.0, previousSingle = 1.0;
    for (const double noise : {0.5, 1.5, 4.0}) {
      const auto dataset = makeRecording(30, 10, 200, noise, 7);
      const auto split = splitHalfReliability(dataset);
      const auto single = singleTrialAgreement(dataset);
      QVERIFY2(split.meanCorrected < previousSplit && split.meanCorrected > 0.0, qPrintable(QString::number(split.meanCorrected)));
      QVERIFY2(single.mean < previousSingle && single.mean > 0.0, qPrintable(QString::number(single.mean)));
      // Spearman-Brown raises any positive half agreement, and one trial agrees less than half the data.
      QVERIFY(split.meanCorrected > split.meanRaw);
      QVERIFY(single.mean < split.meanRaw);
      QVERIFY(split.stdCorrected > 0.0);
      previousSplit = split.meanCorrected;
      previousSingle = single.mean;
    }
  }

  void theAllRepeatsReferenceSharesTheTrialsNoise() {
    const auto dataset = makeRecording(30, 5, 200, 2.0, 3);
    SingleTrialConfig config;
    const double otherRepeats = singleTrialAgreement(dataset, config).mean;
    config.reference = SingleTrialReference::AllRepeats;
    const double allRepeats = singleTrialAgreement(dataset, config).mean;
    QVERIFY2(allRepeats > otherRepeats, qPrintable(QString("%1 vs %2").arg(allRepeats).arg(otherRepeats)));
  }

  void onlyRepeatedImagesOfTheTierTakePart() {
    auto dataset = makeRecording(6, 3, 10, 0.5);
    // Image 1000 loses two of its three trials; image 1001 loses one (the fewest repeats become 2).
    std::vector<std::size_t> drop;
    for (std::size_t t = 0; t < dataset.tiers.size(); ++t)
      if ((dataset.imageIds[t] == 1000 && t >= 6) || (dataset.imageIds[t] == 1001 && t >= 12)) drop.push_back(t);
    for (auto it = drop.rbegin(); it != drop.rend(); ++it) {
      const auto t = static_cast<std::ptrdiff_t>(*it);
      dataset.responses.erase(dataset.responses.begin() + t * 10, dataset.responses.begin() + (t + 1) * 10);
      dataset.noiseFreeRates.erase(dataset.noiseFreeRates.begin() + t * 10, dataset.noiseFreeRates.begin() + (t + 1) * 10);
      dataset.images.erase(dataset.images.begin() + t);
      dataset.tiers.erase(dataset.tiers.begin() + t);
      dataset.imageIds.erase(dataset.imageIds.begin() + t);
      dataset.trialIds.erase(dataset.trialIds.begin() + t);
    }
    const auto single = singleTrialAgreement(dataset);
    QCOMPARE(single.images, std::int64_t{5});
    QCOMPARE(single.repeats, 2);
    QCOMPARE(splitHalfReliability(dataset).images, std::int64_t{5});
    SplitHalfConfig allTiers;
    allTiers.tier.reset();
    QCOMPARE(splitHalfReliability(dataset, allTiers).images, std::int64_t{5});  // train images are shown once
  }

  void seedDecidesTheSplits() {
    const auto dataset = makeRecording(10, 6, 40, 1.0);
    SplitHalfConfig config;
    config.splits = 5;
    const auto first = splitHalfReliability(dataset, config);
    QCOMPARE(splitHalfReliability(dataset, config).rawPerSplit, first.rawPerSplit);
    config.seed = 2;
    QVERIFY(splitHalfReliability(dataset, config).rawPerSplit != first.rawPerSplit);
  }

  void refusesWhatItCannotMeasure() {
    const auto dataset = makeRecording(2, 3, 5, 1.0);
    QVERIFY_THROWS_EXCEPTION(Error, splitHalfReliability(dataset));  // 2 repeated images: 1 pair
    QVERIFY_THROWS_EXCEPTION(Error, singleTrialAgreement(dataset));
    auto withoutRates = makeRecording(5, 3, 5, 1.0);
    withoutRates.noiseFreeRates.clear();
    SplitHalfConfig config;
    config.source = ResponseSource::NoiseFreeRates;
    QVERIFY_THROWS_EXCEPTION(Error, splitHalfReliability(withoutRates, config));
    config = {};
    config.splits = 0;
    QVERIFY_THROWS_EXCEPTION(Error, splitHalfReliability(withoutRates, config));
  }

  void cancellationStops() {
    auto token = std::make_shared<CancelToken>();
    token->cancel();
    QVERIFY_THROWS_EXCEPTION(CancelledError, splitHalfReliability(makeRecording(5, 3, 5, 1.0), {}, Job({}, token)));
    QVERIFY_THROWS_EXCEPTION(CancelledError, singleTrialAgreement(makeRecording(5, 3, 5, 1.0), {}, Job({}, token)));
  }
};

BRAINPRIOR_TEST_CLASS(RsaReliabilityTest)
#include "test_rsa_reliability.moc"
