// Per-neuron reliability measures against values computed by hand on tiny recordings.
#include <QtTest>

#include <cmath>
#include <memory>
#include <vector>

#include "hand_made_dataset.h"
#include "measures/correlation.h"
#include "measures/reliability.h"
#include "runtime/error.h"
#include "test_registry.h"

using namespace bp;

namespace {

using bp::test::HandMadeTrial;
using bp::test::makeHandMadeDataset;


// Neuron 0 varies; neuron 1 is constant; neuron 2 is constant on the repeated trials only.
// Images 10, 20, 30 are test images shown twice; 40 and 50 are train images shown once.
NeuralDataset threeNeuronRecording() {
  return makeHandMadeDataset({
      {10, Tier::Test, {1, 2, 1}},
      {10, Tier::Test, {3, 2, 1}},
      {20, Tier::Test, {2, 2, 1}},
      {20, Tier::Test, {4, 2, 1}},
      {30, Tier::Test, {6, 2, 1}},
      {30, Tier::Test, {8, 2, 1}},
      {40, Tier::Train, {5, 2, 3}},
      {50, Tier::Train, {0, 2, 1}},
  });
}

bool near(double actual, double expected, double tolerance = 1e-12) { return std::abs(actual - expected) <= tolerance; }

#define QVERIFY_NEAR(actual, expected) \
  QVERIFY2(                            \
      near((actual), (expected)),      \
      qPrintable(QString("%1 = %2, expected %3").arg(#actual).arg((actual), 0, 'g', 17).arg((expected), 0, 'g', 17)))

}  // namespace

class ReliabilityTest : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void pearsonMatchesHandComputedValue() {
    // x = 1 2 3 4, y = 2 1 4 3: centred -1.5 -0.5 0.5 1.5 and -0.5 -1.5 1.5 0.5;
    // sum xy = 0.75 + 0.75 + 0.75 + 0.75 = 3, sum xx = sum yy = 5 -> r = 0.6.
    const float x[] = {1, 2, 3, 4};
    const float y[] = {2, 1, 4, 3};
    QVERIFY_NEAR(pearson(x, y, 4), 0.6);
    // Strided: every other value of 1 9 2 9 3 9 4 9 is x.
    const double strided[] = {1, 9, 2, 9, 3, 9, 4, 9};
    const double yd[] = {2, 1, 4, 3};
    QVERIFY_NEAR(pearson(strided, yd, 4, 2, 1), 0.6);
  }

  void pearsonIsNaNForAConstantSide() {
    const float x[] = {0.1f, 0.1f, 0.1f};
    const float y[] = {1, 2, 3};
    QVERIFY(std::isnan(pearson(x, y, 3)));
    QVERIFY(std::isnan(pearson(y, x, 3)));
    QVERIFY(std::isnan(pearson(y, y, 1)));
  }

  void measuresMatchHandComputedValues() {
    const auto reliability = computeReliability(threeNeuronRecording());
    QCOMPARE(reliability.repeatedImages, std::int64_t(3));
    QCOMPARE(reliability.repeatedTrials, std::int64_t(6));

    // Neuron 0 over all 8 trials: 1 3 2 4 6 8 5 0, sum 29 -> mean 3.625;
    // sum of squares 155 - 8 * 3.625^2 = 49.875 -> unbiased variance 49.875 / 7 = 7.125.
    QVERIFY_NEAR(reliability.mean[0], 3.625);
    QVERIFY_NEAR(reliability.variance[0], 7.125);
    // Repeated trials x = 1 3 | 2 4 | 6 8, mean of the other repeat = 3 1 | 4 2 | 8 6; both average 4.
    // Centred: -3 -1 -2 0 2 4 and -1 -3 0 -2 4 2: sum xx = sum yy = 34, sum xy = 22 -> r = 11/17.
    QVERIFY_NEAR(reliability.oracleCorrelation[0], 11.0 / 17.0);
    // Total variance 34 / 5 = 6.8; each image's within variance is 2 -> (6.8 - 2) / 6.8 = 12/17.
    QVERIFY_NEAR(reliability.explainableVarianceFraction[0], 12.0 / 17.0);
    // Repeat means 2 3 7 (mean 4): variance (4 + 1 + 9) / 2 = 7; noise variance 2 -> SNR 3.5.
    QVERIFY_NEAR(reliability.snr[0], 3.5);
    QVERIFY_NEAR(reliabilityWeights(reliability)[0], std::sqrt(3.5));
  }

  void jackknifeHandlesUnequalRepeatCountsAndKeepsNegativeExplainableVariance() {
    // Image 1: 1 3 (two repeats); image 2: 2 2 5 (three repeats).
    const auto reliability = computeReliability(makeHandMadeDataset({{1, Tier::Test, {1}},
                                                             {1, Tier::Test, {3}},
                                                             {2, Tier::Test, {2}},
                                                             {2, Tier::Test, {2}},
                                                             {2, Tier::Test, {5}}}));
    // x = 1 3 2 2 5, other-repeats means = 3 1 3.5 3.5 2; both average 2.6.
    // Centred x: -1.6 0.4 -0.6 -0.6 2.4 (sum of squares 9.2); centred others: 0.4 -1.6 0.9 0.9 -0.6 (4.7);
    // cross products -0.64 -0.64 -0.54 -0.54 -1.44 = -3.8 -> r = -3.8 / sqrt(9.2 * 4.7).
    QVERIFY_NEAR(reliability.oracleCorrelation[0], -3.8 / std::sqrt(9.2 * 4.7));
    // Total variance 9.2 / 4 = 2.3; within variances 2 and (1 + 1 + 4) / 2 = 3 average 2.5;
    // (2.3 - 2.5) / 2.3 = -2/23: negative, and reported as such.
    QVERIFY_NEAR(reliability.explainableVarianceFraction[0], -2.0 / 23.0);
    // Repeat means 2 and 3: variance 0.5; SNR 0.5 / 2.5 = 0.2.
    QVERIFY_NEAR(reliability.snr[0], 0.2);
  }

  void noiseFreePopulationHasPerfectOracleAndExplainableVariance() {
    // Every repeat of an image gives the same response; the neurons differ in tuning.
    const auto reliability = computeReliability(makeHandMadeDataset({{7, Tier::Test, {0.3f, 5, 1}},
                                                             {7, Tier::Test, {0.3f, 5, 1}},
                                                             {8, Tier::Test, {1.7f, 2, 1}},
                                                             {8, Tier::Test, {1.7f, 2, 1}},
                                                             {8, Tier::Test, {1.7f, 2, 1}},
                                                             {9, Tier::Test, {0.9f, 4, 6}},
                                                             {9, Tier::Test, {0.9f, 4, 6}}}));
    for (std::size_t n = 0; n < 3; ++n) {
      QVERIFY_NEAR(reliability.oracleCorrelation[n], 1.0);
      QVERIFY_NEAR(reliability.explainableVarianceFraction[n], 1.0);
      QVERIFY(std::isinf(reliability.snr[n]));
    }
  }

  void constantNeuronGivesNaNNotACrash() {
    const auto reliability = computeReliability(threeNeuronRecording());
    QVERIFY_NEAR(reliability.mean[1], 2.0);
    QCOMPARE(reliability.variance[1], 0.0);
    QVERIFY(std::isnan(reliability.oracleCorrelation[1]));
    QVERIFY(std::isnan(reliability.explainableVarianceFraction[1]));
    QVERIFY(std::isnan(reliability.snr[1]));
    QCOMPARE(reliabilityWeights(reliability)[1], 0.0);
    // Neuron 2 varies across the single trials but not on the repeated ones.
    QVERIFY(reliability.variance[2] > 0.0);
    QVERIFY(std::isnan(reliability.oracleCorrelation[2]));
    QVERIFY(std::isnan(reliability.explainableVarianceFraction[2]));
  }

  void noRepeatsGiveNaNAndZeroRepeatedImages() {
    const auto reliability = computeReliability(
        makeHandMadeDataset({{1, Tier::Train, {1, 2}}, {2, Tier::Train, {3, 5}}, {3, Tier::Validation, {2, 0}}}));
    QCOMPARE(reliability.repeatedImages, std::int64_t(0));
    QCOMPARE(reliability.repeatedTrials, std::int64_t(0));
    QVERIFY_NEAR(reliability.mean[0], 2.0);
    QVERIFY_NEAR(reliability.variance[0], 1.0);
    for (std::size_t n = 0; n < 2; ++n) {
      QVERIFY(std::isnan(reliability.oracleCorrelation[n]));
      QVERIFY(std::isnan(reliability.explainableVarianceFraction[n]));
      QVERIFY(std::isnan(reliability.snr[n]));
    }
  }

  void tierRestrictsEveryMeasure() {
    const auto recording = threeNeuronRecording();
    ReliabilityConfig trainOnly;
    trainOnly.tier = Tier::Train;
    const auto train = computeReliability(recording, trainOnly);
    // Train trials: 5 and 0 -> mean 2.5, variance 12.5; no repeated image among them.
    QVERIFY_NEAR(train.mean[0], 2.5);
    QVERIFY_NEAR(train.variance[0], 12.5);
    QCOMPARE(train.repeatedImages, std::int64_t(0));
    QVERIFY(std::isnan(train.oracleCorrelation[0]));

    ReliabilityConfig testOnly;
    testOnly.tier = Tier::Test;
    const auto test = computeReliability(recording, testOnly);
    QVERIFY_NEAR(test.mean[0], 4.0);
    QVERIFY_NEAR(test.variance[0], 6.8);
    QCOMPARE(test.repeatedImages, std::int64_t(3));
    QVERIFY_NEAR(test.oracleCorrelation[0], 11.0 / 17.0);

    ReliabilityConfig validationOnly;
    validationOnly.tier = Tier::Validation;
    const auto none = computeReliability(recording, validationOnly);
    QVERIFY(std::isnan(none.mean[0]));
    QCOMPARE(none.repeatedImages, std::int64_t(0));
  }

  void inconsistentDatasetIsAnError() {
    auto recording = threeNeuronRecording();
    recording.responses.pop_back();
    QVERIFY_THROWS_EXCEPTION(Error, computeReliability(recording));
  }

  void cancelledJobStops() {
    auto token = std::make_shared<CancelToken>();
    token->cancel();
    const Job job({}, token);
    QVERIFY_THROWS_EXCEPTION(CancelledError, computeReliability(threeNeuronRecording(), {}, job));
  }
};

BRAINPRIOR_TEST_CLASS(ReliabilityTest)
#include "test_reliability.moc"
