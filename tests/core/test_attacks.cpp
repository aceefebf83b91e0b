// Adversarial attacks on a small ResNet trained for a few epochs on 12x12 stripes: FGSM and PGD
// lower its accuracy, perturbations stay in their norm ball and in [0, 1], the minimum-norm search
// never reports more than a budget at which PGD already succeeded, the boundary attack's results are
// adversarial at the distances it reports, success-rate curves, transfer, the paper's medians, and
// the probe config's JSON.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/torch.h>

#include "classifiers/classifier_trainer.h"
#include "probing/attacks.h"
#include "probing/probe_config.h"
#include "test_registry.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "runtime/runtime.h"
#include "striped_images.h"
#include "test_support.h"

using namespace bp;

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

ClassifierTrainingConfig stripesConfig(const std::filesystem::path& data) {
  ClassifierTrainingConfig config = classifierTrainingConfigFromJson(test::stripedTrainingConfig(data));
  config.epochs = 3;
  return config;
}

std::vector<bool> misclassifiedBy(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels) {
  torch::NoGradGuard noGrad;
  model->eval();
  const torch::Tensor wrong = model->forward(images).argmax(1).ne(labels).contiguous();
  return std::vector<bool>(wrong.data_ptr<bool>(), wrong.data_ptr<bool>() + wrong.numel());
}

double fraction(const std::vector<bool>& values, bool wanted) {
  double count = 0.0;
  for (const bool value : values) count += value == wanted ? 1.0 : 0.0;
  return count / static_cast<double>(values.size());
}

bool inUnitBox(const torch::Tensor& images) {
  return images.min().item<float>() >= 0.0f && images.max().item<float>() <= 1.0f;
}

}  // namespace

class TestAttacks : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    initializeRuntime();
    const std::filesystem::path data = scratch_ / "stripes";
    std::filesystem::create_directories(data);
    test::writeStripedIdxSplit(data, "train", 240, 1, 12);
    test::writeStripedIdxSplit(data, "t10k", 60, 2, 12);
    const ClassifierTrainingConfig config = stripesConfig(data);
    const ClassifierTrainingData trainingData = loadClassifierTrainingData(config, config.seed);
    model_ = trainClassifier(config, trainingData).trained.model;
    images_ = trainingData.testImages;
    labels_ = trainingData.testLabels;
    cleanAccuracy_ = classifierAccuracy(model_, images_, labels_);
    QVERIFY2(cleanAccuracy_ > 0.6, std::to_string(cleanAccuracy_).c_str());
  }

  void normNamesRoundTrip() {
    for (const AttackNorm norm : {AttackNorm::LInf, AttackNorm::L2})
      QVERIFY(parseAttackNorm(attackNormName(norm)) == norm);
    QVERIFY(!parseAttackNorm("l1"));
  }

  void fgsmAndPgdLowerTheAccuracy() {
    const AttackResult fgsm = fgsmAttack(model_, images_, labels_, 0.1);
    const double fgsmAccuracy = fraction(fgsm.fooled, false);
    QVERIFY2(fgsmAccuracy < cleanAccuracy_, std::to_string(fgsmAccuracy).c_str());
    PgdConfig config;
    config.seed = 3;
    const AttackResult pgd = pgdAttack(model_, images_, labels_, 0.1, config);
    const double pgdAccuracy = fraction(pgd.fooled, false);
    QVERIFY2(pgdAccuracy < cleanAccuracy_ - 0.3, std::to_string(pgdAccuracy).c_str());
    QCOMPARE(fraction(pgd.cleanCorrect, true), cleanAccuracy_);
    const nlohmann::json json = toJson(pgd);
    QCOMPARE(json.at("adversarial_accuracy").get<double>(), pgdAccuracy);
    QCOMPARE(json.at("clean_accuracy").get<double>(), cleanAccuracy_);
    QCOMPARE(json.at("fooled").size(), static_cast<std::size_t>(images_.size(0)));
  }

  void perturbationsStayInTheirBallAndTheBox() {
    for (const AttackNorm norm : {AttackNorm::LInf, AttackNorm::L2}) {
      PgdConfig config;
      config.norm = norm;
      config.steps = 10;
      config.relativeStepSize = 0.3;
      config.restarts = 2;
      const double epsilon = norm == AttackNorm::LInf ? 0.03 : 0.3;
      const AttackResult result = pgdAttack(model_, images_, labels_, epsilon, config, {}, 16);
      QVERIFY(inUnitBox(result.adversarials));
      const torch::Tensor delta = (result.adversarials - images_).flatten(1);
      const torch::Tensor linf = delta.abs().amax(1).to(torch::kDouble);
      const torch::Tensor l2 = delta.norm(2, 1).to(torch::kDouble);
      for (std::int64_t i = 0; i < images_.size(0); ++i) {
        const auto row = static_cast<std::size_t>(i);
        QVERIFY(std::abs(result.linf[row] - linf[i].item<double>()) < 1e-6);
        QVERIFY(std::abs(result.l2[row] - l2[i].item<double>()) < 1e-6);
        QVERIFY((norm == AttackNorm::LInf ? result.linf[row] : result.l2[row]) <= epsilon + 1e-5);
      }
      // `fooled` is what the model says about the adversarials.
      QVERIFY(misclassifiedBy(model_, result.adversarials, labels_) == result.fooled);
    }
  }

  void attacksDoNotDependOnTheBatchSplitAndRestoreTheMode() {
    PgdConfig config;
    config.seed = 8;
    model_->train();
    const AttackResult whole = pgdAttack(model_, images_, labels_, 0.05, config, {}, 256);
    QVERIFY(model_->is_training());
    model_->eval();
    const AttackResult split = pgdAttack(model_, images_, labels_, 0.05, config, {}, 7);
    // Up to rounding in batched convolutions (which can flip the sign of a vanishing gradient pixel).
    const torch::Tensor same = (whole.adversarials - split.adversarials).flatten(1).abs().amax(1).lt(1e-4);
    QVERIFY(same.to(torch::kDouble).mean().item<double>() > 0.9);
  }

  void minimumNormSearchNeverExceedsABudgetWherePgdSucceeded() {
    for (const AttackNorm norm : {AttackNorm::LInf, AttackNorm::L2}) {
      MinimumNormConfig config;
      config.pgd.norm = norm;
      config.pgd.seed = 5;
      config.upperEpsilon = norm == AttackNorm::LInf ? 0.25 : 3.0;
      config.searchSteps = 6;
      const AttackResult fixed = pgdAttack(model_, images_, labels_, config.upperEpsilon, config.pgd);
      const MinimumNormResult search = minimumNormSearch(model_, images_, labels_, config);
      QVERIFY(search.norm == norm);
      QVERIFY(inUnitBox(search.adversarials));
      const std::vector<bool> wrong = misclassifiedBy(model_, search.adversarials, labels_);
      int searched = 0;
      for (std::size_t i = 0; i < fixed.fooled.size(); ++i) {
        const double epsilon = search.epsilons[i];
        const double distance = norm == AttackNorm::LInf ? search.linf[i] : search.l2[i];
        if (!fixed.cleanCorrect[i]) {
          QCOMPARE(epsilon, 0.0);
          QCOMPARE(distance, 0.0);
        } else if (fixed.fooled[i]) {
          QVERIFY2(epsilon <= config.upperEpsilon, std::to_string(epsilon).c_str());
          QVERIFY(distance <= epsilon + 1e-5);
          QVERIFY(wrong[i]);
          searched += epsilon < config.upperEpsilon ? 1 : 0;
        } else {
          QCOMPARE(epsilon, kInfinity);
          QVERIFY(!wrong[i]);
        }
      }
      QVERIFY(searched > 0);  // the search went below the upper bound somewhere
      // Fewer than half the images resist PGD at the upper bound, so the median is a found budget.
      const MinimumNormSummary summary = summarizeMinimumNorms(search);
      QCOMPARE(summary.images, images_.size(0));
      QVERIFY2(std::isfinite(summary.medianEpsilon) && summary.medianEpsilon <= config.upperEpsilon,
               (std::string(attackNormName(norm)) + " median " + std::to_string(summary.medianEpsilon) + ", failed " +
                std::to_string(summary.failed) + " of " + std::to_string(summary.images))
                   .c_str());
    }
  }

  void boundaryAttackFindsAdversarialsAtTheReportedDistances() {
    BoundaryAttackConfig config;
    config.steps = 100;
    config.seed = 2;
    const torch::Tensor images = images_.narrow(0, 0, 18), labels = labels_.narrow(0, 0, 18);
    const MinimumNormResult result = boundaryAttack(model_, images, labels, config, {}, 10);
    QVERIFY(result.attack == "boundary");
    QVERIFY(inUnitBox(result.adversarials));
    const std::vector<bool> wrong = misclassifiedBy(model_, result.adversarials, labels);
    const std::vector<bool> wrongClean = misclassifiedBy(model_, images, labels);
    const torch::Tensor delta = (result.adversarials - images).flatten(1);
    int found = 0;
    for (std::int64_t i = 0; i < images.size(0); ++i) {
      const auto row = static_cast<std::size_t>(i);
      if (std::isinf(result.l2[row])) continue;
      QVERIFY(wrong[row]);
      QVERIFY(std::abs(result.l2[row] - delta[i].norm(2).item<double>()) < 1e-5);
      QVERIFY(std::abs(result.linf[row] - delta[i].abs().max().item<double>()) < 1e-6);
      QCOMPARE(result.epsilons[row], result.l2[row]);
      QCOMPARE(result.l2[row] == 0.0, bool(wrongClean[row]));
      found += result.l2[row] > 0.0 ? 1 : 0;
    }
    QVERIFY(found > 0);
    // The walk gets closer than its blended-noise start (zero steps).
    config.steps = 0;
    const MinimumNormResult start = boundaryAttack(model_, images, labels, config, {}, 10);
    QVERIFY(summarizeMinimumNorms(result).medianL2 < summarizeMinimumNorms(start).medianL2);
  }

  void successRateGrowsWithTheBudget() {
    PgdConfig config;
    config.steps = 10;
    const SuccessRateCurve curve = successRateCurve(model_, images_, labels_, {0.0, 0.02, 0.1}, config);
    QCOMPARE(curve.successRates.size(), std::size_t{3});
    QCOMPARE(curve.successRates[0], 0.0);
    QCOMPARE(curve.accuracies[0], cleanAccuracy_);
    QVERIFY(curve.successRates[2] >= curve.successRates[1] && curve.successRates[2] > 0.3);
    QVERIFY(curve.accuracies[2] <= curve.accuracies[1]);
    QCOMPARE(toJson(curve).at("success_rates").size(), std::size_t{3});
  }

  void transferToTheSameModelIsComplete() {
    PgdConfig config;
    const AttackResult crafted = pgdAttack(model_, images_, labels_, 0.1, config);
    const TransferResult self = evaluateTransfer(model_, images_, labels_, crafted);
    QCOMPARE(self.targetCleanAccuracy, cleanAccuracy_);
    QCOMPARE(self.targetAdversarialAccuracy, fraction(crafted.fooled, false));
    QVERIFY(self.transferCandidates > 0);
    QCOMPARE(self.transferRate, 1.0);
    // Another (untrained) model: rates are fractions.
    torch::manual_seed(4);
    Classifier other(resNetConfig(model_));
    const TransferResult transfer = evaluateTransfer(other, images_, labels_, crafted);
    QVERIFY(transfer.targetAdversarialAccuracy >= 0.0 && transfer.targetAdversarialAccuracy <= 1.0);
    QVERIFY(std::isnan(transfer.transferRate) || (transfer.transferRate >= 0.0 && transfer.transferRate <= 1.0));
    QVERIFY_THROWS_EXCEPTION(Error,
                             evaluateTransfer(model_, images_.narrow(0, 0, 5), labels_.narrow(0, 0, 5), crafted));
  }

  void summaryMediansCountFailuresAsInfinite() {
    MinimumNormResult result;
    result.attack = "pgd_linf_search";
    result.epsilons = {0.0, 0.1, kInfinity, 0.3};
    result.linf = {0.0, 0.08, kInfinity, 0.3};
    result.l2 = {0.0, 1.0, kInfinity, 2.0};
    const MinimumNormSummary summary = summarizeMinimumNorms(result);
    QCOMPARE(summary.images, std::int64_t{4});
    QCOMPARE(summary.failed, std::int64_t{1});
    QCOMPARE(summary.alreadyMisclassified, std::int64_t{1});
    QCOMPARE(summary.medianEpsilon, 0.2);
    QCOMPARE(summary.medianLinf, 0.19);
    QCOMPARE(summary.medianL2, 1.5);
    result.epsilons = {kInfinity, kInfinity, 0.1};
    result.linf = result.l2 = result.epsilons;
    const MinimumNormSummary mostlyFailed = summarizeMinimumNorms(result);
    QCOMPARE(mostlyFailed.medianEpsilon, kInfinity);
    QVERIFY(toJson(mostlyFailed).at("median_epsilon").is_null());
    QVERIFY(toJson(result).at("epsilons")[0].is_null());
  }

  void attacksStopWhenCancelled() {
    auto cancel = std::make_shared<CancelToken>();
    cancel->cancel();
    const Job cancelled({}, cancel);
    QVERIFY_THROWS_EXCEPTION(CancelledError, pgdAttack(model_, images_, labels_, 0.1, PgdConfig{}, cancelled));
    QVERIFY_THROWS_EXCEPTION(CancelledError,
                             boundaryAttack(model_, images_, labels_, BoundaryAttackConfig{}, cancelled));
    QVERIFY_THROWS_EXCEPTION(CancelledError,
                             minimumNormSearch(model_, images_, labels_, MinimumNormConfig{}, cancelled));
  }

  void probeConfigRoundTripsAndNamesBadKeys() {
    ProbeConfig config;
    config.maxImages = 200;
    config.corruptions.push_back({CorruptionKind::GaussianBlur, {0.0, 0.5, 1.0}, 3});
    config.minimumNormSearches[1].searchSteps = 4;
    config.boundary.steps = 300;
    config.successCurves[0].attack.norm = AttackNorm::L2;
    config.successCurves[0].epsilons = {0.0, 0.5};
    config.alignment.importanceMaps = "maps.h5";
    config.alignment.hdf5Dataset = "clickme";
    validate(config);
    const nlohmann::json json = toJson(config);
    QCOMPARE(toJson(probeConfigFromJson(json)), json);
    QCOMPARE(json.at("alignment").at("hdf5_dataset").get<std::string>(), std::string("clickme"));
    const ProbeConfig defaults = probeConfigFromJson(nlohmann::json::object());
    QCOMPARE(defaults.maxImages, std::int64_t{1000});
    QVERIFY(defaults.alignment.importanceMaps.empty());  // no alignment score unless asked for
    QCOMPARE(defaults.minimumNormSearches.size(), std::size_t{2});
    QVERIFY(defaults.minimumNormSearches[1].pgd.norm == AttackNorm::L2);
    validate(defaults);
    try {
      probeConfigFromJson({{"minimum_norm_searches", {{{"pgd", {{"stpes", 3}}}}}}});
      QFAIL("an unknown key was accepted");
    } catch (const Error& error) {
      QVERIFY2(std::string(error.what()).find("stpes") != std::string::npos, error.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, probeConfigFromJson({{"boundary", {{"steps", "many"}}}}));
    QVERIFY_THROWS_EXCEPTION(Error, probeConfigFromJson({{"success_curves", {{{"attack", {{"norm", "l1"}}}}}}}));
    try {
      probeConfigFromJson({{"alignment", {{"importance_map", "maps"}}}});
      QFAIL("an unknown alignment key was accepted");
    } catch (const Error& error) {
      QVERIFY2(std::string(error.what()).find("importance_map") != std::string::npos, error.what());
    }
    ProbeConfig invalid;
    invalid.alignment.importanceMaps = "maps.h5";
    invalid.alignment.hdf5Dataset.clear();
    QVERIFY_THROWS_EXCEPTION(Error, validate(invalid));
    invalid = ProbeConfig{};
    invalid.minimumNormSearches[0].upperEpsilon = 0.0;
    QVERIFY_THROWS_EXCEPTION(Error, validate(invalid));
    invalid = ProbeConfig{};
    invalid.boundary.stepAdaptation = 1.0;
    QVERIFY_THROWS_EXCEPTION(Error, validate(invalid));
  }

 private:
  test::ScratchDir scratch_;
  Classifier model_{nullptr};
  torch::Tensor images_;
  torch::Tensor labels_;
  double cleanAccuracy_ = 0.0;
};

BRAINPRIOR_TEST_CLASS(TestAttacks)
#include "test_attacks.moc"
