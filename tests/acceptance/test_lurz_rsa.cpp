// Noise ceilings of representational similarity on the real Lurz et al. 2021 scan's test tier (the
// oracle images, each shown about 10 times). Li et al. 2019 report r = 0.39 between single-trial and
// repeat-averaged similarity on their own scans; this scan differs, so only a sane range is checked,
// and the figures the embedded default population is calibrated to.
// Skips when the shared data folder is absent.
#include <QtTest>

#include <cmath>

#include "data/dataset_io.h"
#include "measures/dataset_summary.h"
#include "measures/reliability.h"
#include "rsa/rsa_reliability.h"
#include "test_registry.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

const char* const kScan = "mouse-v1-lurz2021/static20457-5-9-preproc0";

bool inRange(double value, double low, double high) { return std::isfinite(value) && value > low && value < high; }

}  // namespace

class TestLurzRsa : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() {
    const auto shared = bp::test::sharedDataDir();
    if (!shared || !fs::is_directory(*shared / kScan)) return;
    dataset_ = bp::loadNeuralDataset(*shared / kScan);
    loaded_ = true;
  }

  void splitHalfCeilingIsHighButBelowOne() {
    if (!loaded_) QSKIP("shared data folder with the Lurz 2021 scan is absent");
    const auto result = bp::splitHalfReliability(dataset_);
    qInfo("split-half (test tier, %lld images, %d splits): raw %.4f, Spearman-Brown %.4f +- %.4f",
          static_cast<long long>(result.images), result.splits, result.meanRaw, result.meanCorrected,
          result.stdCorrected);
    QVERIFY(result.images >= 50);
    QVERIFY(inRange(result.meanRaw, 0.2, 1.0));
    QVERIFY(inRange(result.meanCorrected, result.meanRaw, 1.0));
    QVERIFY(inRange(result.stdCorrected, 0.0, 0.2));
  }

  void singleTrialAgreementIsModest() {
    if (!loaded_) QSKIP("shared data folder with the Lurz 2021 scan is absent");
    bp::SingleTrialConfig config;
    const auto otherRepeats = bp::singleTrialAgreement(dataset_, config);
    config.reference = bp::SingleTrialReference::AllRepeats;
    const auto allRepeats = bp::singleTrialAgreement(dataset_, config);
    config.method = bp::ComparisonMethod::Spearman;
    const auto spearman = bp::singleTrialAgreement(dataset_, config);
    qInfo("single trial vs repeat average (test tier, %lld images, %d repeats): Pearson %.4f against the other "
          "repeats, %.4f against all repeats (Spearman, all repeats: %.4f); Li et al. 2019: 0.39",
          static_cast<long long>(otherRepeats.images), otherRepeats.repeats, otherRepeats.mean, allRepeats.mean,
          spearman.mean);
    QVERIFY(otherRepeats.repeats >= 2);
    QVERIFY(inRange(otherRepeats.mean, 0.05, 0.95));
    QVERIFY(allRepeats.mean > otherRepeats.mean);  // the trial's own noise is on both sides
    QVERIFY(inRange(allRepeats.mean, 0.05, 0.99));
    QVERIFY(inRange(spearman.mean, 0.05, 0.99));
    for (const double r : otherRepeats.perRepeat) QVERIFY(inRange(r, 0.0, 1.0));
    // The figure the embedded default population is calibrated to (test_support.h).
    QVERIFY(std::abs(otherRepeats.mean - bp::test::kLurzSingleTrialAgreement) < 0.005);
  }

  void medianOracleCorrelationIsTheCalibrationTarget() {
    if (!loaded_) QSKIP("shared data folder with the Lurz 2021 scan is absent");
    const double median = bp::quantilesIgnoringNaN(bp::computeReliability(dataset_).oracleCorrelation).median;
    qInfo("median oracle correlation (test tier): %.4f", median);
    QVERIFY(std::abs(median - bp::test::kLurzMedianOracleCorrelation) < 0.005);
  }

private:
  bp::NeuralDataset dataset_;
  bool loaded_ = false;
};

BRAINPRIOR_TEST_CLASS(TestLurzRsa)
#include "test_lurz_rsa.moc"
