// Results that contradict themselves are flagged, not presented as findings: chance-level
// accuracy, a target that does not denoise, a degenerate similarity matrix, and a demo whose
// settings were too small to show anything.
#include <QtTest>

#include <cmath>
#include <functional>
#include <string>

#include "demo/demo_pipeline.h"
#include "measures/chance_level.h"
#include "rsa/similarity.h"
#include "rsa/similarity_distribution.h"
#include "runtime/runtime.h"
#include "test_registry.h"
#include "training/neural_target.h"

using namespace bp;

namespace {

SimilarityMatrix matrixOf(std::int64_t size, const std::function<float(std::int64_t, std::int64_t)>& value) {
  SimilarityMatrix matrix;
  matrix.size = size;
  matrix.values.resize(static_cast<std::size_t>(size * size));
  for (std::int64_t i = 0; i < size; ++i)
    for (std::int64_t j = 0; j < size; ++j)
      matrix.values[static_cast<std::size_t>(i * size + j)] = i == j ? 1.0F : value(std::min(i, j), std::max(i, j));
  return matrix;
}

}  // namespace

class SanityChecksTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void chanceLevelIsChancePlusTwoStandardErrors() {
    // 10 classes on 60 images: 0.1 + 2 sqrt(0.09 / 60) = 0.1775.
    QVERIFY(isChanceLevelAccuracy(0.10, 10, 60));
    QVERIFY(isChanceLevelAccuracy(0.15, 10, 60));
    QVERIFY(isChanceLevelAccuracy(0.177, 10, 60));
    QVERIFY(!isChanceLevelAccuracy(0.178, 10, 60));
    // More images make a smaller margin: 0.15 on 2,000 images is above 0.1134.
    QVERIFY(!isChanceLevelAccuracy(0.15, 10, 2000));
    QVERIFY(isChanceLevelAccuracy(0.11, 10, 2000));
    QVERIFY(!isChanceLevelAccuracy(std::nan(""), 10, 60));
    QVERIFY(!isChanceLevelAccuracy(0.1, 1, 60));
    QVERIFY(!isChanceLevelAccuracy(0.1, 10, 0));
    const auto warning = chanceLevelWarning("baseline", 0.12, 10, 60);
    QVERIFY(warning);
    QVERIFY2(warning->find("baseline: accuracy 0.120 is at chance level (10 classes: 0.100; on 60 images a guesser "
                           "reaches up to 0.177)") == 0,
             warning->c_str());
    QVERIFY(!chanceLevelWarning("neural", 0.85, 10, 60));
  }

  void aTargetThatDoesNotDenoiseIsFlagged() {
    DenoisingCheck check;
    check.predictedAgreement = 0.59;
    check.singleTrialAgreementOtherRepeats = 0.435;  // the Lurz recording: the paper's way
    QVERIFY(denoises(check));
    QVERIFY(!denoisingCheckWarning(check));
    QCOMPARE(toJson(check).at("denoises").get<bool>(), true);
    QVERIFY(!toJson(check).contains("warning"));

    check.predictedAgreement = 0.26;
    check.singleTrialAgreementOtherRepeats = 0.78;  // the tiny demo before
    QVERIFY(!denoises(check));
    const auto warning = denoisingCheckWarning(check);
    QVERIFY(warning);
    QVERIFY2(warning->find("agrees 0.26 with the repeat average, a single trial 0.78") != std::string::npos,
             warning->c_str());
    QCOMPARE(toJson(check).at("warning").get<std::string>(), *warning);
  }

  void aDegenerateSimilarityMatrixIsFlagged() {
    const auto degenerate = [](const SimilarityMatrix& matrix) { return describeSimilarity(matrix).degenerate; };
    // Graded values: a structure.
    QCOMPARE(degenerate(matrixOf(20, [](auto i, auto j) { return 0.9F - 0.08F * static_cast<float>(j - i); })),
             std::string());
    // Signs only: every pair at the clamp.
    const std::string binary = degenerate(matrixOf(20, [](auto i, auto j) { return (i + j) % 2 ? 1.0F : -1.0F; }));
    QVERIFY2(binary.find("saturated: 100% of its pairs are beyond \u00b10.9 and carry 100%") != std::string::npos,
             binary.c_str());
    // A third of the pairs at +-1 carries nearly all the atanh loss (3.80^2 each against at most
    // atanh(0.3)^2 = 0.096): as a target, they are what the regularizer pulls towards.
    const std::string third = degenerate(
        matrixOf(30, [](auto i, auto j) { return (j - i) % 3 == 0 ? 1.0F : 0.3F * static_cast<float>(j - i) / 30.0F; }));
    QVERIFY2(third.find("saturated: 31% of its pairs") != std::string::npos, third.c_str());
    // One pair in fifty at 0.95 among values spread over [-0.5, 0.5] carries less than half of it.
    QCOMPARE(degenerate(matrixOf(50, [](auto i, auto j) {
               return (i * 50 + j) % 50 == 7 ? 0.95F : static_cast<float>((i * 37 + j * 11) % 101) / 100.0F - 0.5F;
             })),
             std::string());
    QVERIFY(degenerate(matrixOf(10, [](auto, auto) { return 0.4F; })).find("every pair has the same value") !=
            std::string::npos);
    QVERIFY(degenerate(matrixOf(10, [](auto, auto) { return std::nanf(""); })).find("every pair is undefined") !=
            std::string::npos);
    QVERIFY(degenerate(matrixOf(1, [](auto, auto) { return 0.0F; })).empty());
  }

  void aDemoWithFlaggedFiguresSaysItsSettingsWereTooSmall() {
    DemoResult result;
    result.config.trainImages = 300;
    result.config.epochs = 1;
    result.config.fitEpochs = 1;
    result.steps.resize(5);
    QVERIFY(!demoSettingsWarning(result));
    QVERIFY(!toJson(result).contains("warning"));
    result.steps[3].warnings = {"baseline-seed1: accuracy 0.100 is at chance level"};
    result.steps[4].warnings = {"a", "b"};
    const auto warning = demoSettingsWarning(result);
    QVERIFY(warning);
    QVERIFY2(warning->find("3 figures of this demo are not findings (see the warnings): with 300 train images, "
                           "1 classifier epoch and 1 model epoch") == 0,
             warning->c_str());
    QCOMPARE(toJson(result).at("warning").get<std::string>(), *warning);
    QCOMPARE(toJson(result).at("steps").at(3).at("warnings").size(), std::size_t{1});
  }
};

BRAINPRIOR_TEST_CLASS(SanityChecksTest)
#include "test_sanity_checks.moc"
