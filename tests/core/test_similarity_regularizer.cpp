// The neural-similarity regularizer: its value and gradient against a hand computation, the running
// means, the learned layer weights, the threshold transform and the shuffled-target control.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "classifiers/resnet.h"
#include "classifiers/similarity_regularizer.h"
#include "test_registry.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "runtime/error.h"
#include "runtime/runtime.h"

using namespace bp;

namespace {

// One tap's maps as plain numbers: batch x channels x pixels, row-major.
struct HandTap {
  int batch = 0;
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<double> values;

  int pixels() const { return height * width; }
  double at(int image, int channel, int pixel) const {
    return values[static_cast<std::size_t>((image * channels + channel) * pixels() + pixel)];
  }
  torch::Tensor tensor() const { return torch::tensor(values, torch::kDouble).view({batch, channels, height, width}); }
};

HandTap randomTap(int batch, int channels, int height, int width) {
  HandTap tap{batch, channels, height, width, {}};
  const torch::Tensor values = torch::randn({batch * channels * height * width}, torch::kDouble);
  tap.values.assign(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
  return tap;
}

// L_sim written out from docs/science.md §1 step 5, with plain loops: images p and P + p form pair p.
double handLoss(const std::vector<HandTap>& taps, const std::vector<std::vector<double>>& means,
                const std::vector<double>& logits, const std::vector<double>& targets, double eps) {
  double normaliser = 0.0;
  for (const double logit : logits) normaliser += std::exp(logit);
  const int pairs = static_cast<int>(targets.size());
  double total = 0.0;
  for (int p = 0; p < pairs; ++p) {
    double mixed = 0.0;
    for (std::size_t k = 0; k < taps.size(); ++k) {
      const HandTap& tap = taps[k];
      double dot = 0.0;
      double firstNorm = 0.0;
      double secondNorm = 0.0;
      for (int c = 0; c < tap.channels; ++c) {
        for (int x = 0; x < tap.pixels(); ++x) {
          const double first = tap.at(p, c, x) - means[k][static_cast<std::size_t>(c)];
          const double second = tap.at(pairs + p, c, x) - means[k][static_cast<std::size_t>(c)];
          dot += first * second;
          firstNorm += first * first;
          secondNorm += second * second;
        }
      }
      mixed += std::exp(logits[k]) / normaliser * dot / std::sqrt(firstNorm * secondNorm);
    }
    const double bound = 1.0 - eps;
    const double model = std::atanh(std::clamp(mixed, -bound, bound));
    const double target = std::atanh(std::clamp(targets[static_cast<std::size_t>(p)], -bound, bound));
    total += (model - target) * (model - target);
  }
  return total / pairs;
}

// The loss and its gradient with respect to every tap value and layer logit, from the module.
struct ModuleResult {
  double loss = 0.0;
  std::vector<torch::Tensor> tapGradients;
  torch::Tensor logitGradient;
};

ModuleResult moduleLoss(const std::vector<HandTap>& taps, const std::vector<std::vector<double>>& means,
                        const std::vector<double>& logits, const std::vector<double>& targets,
                        const SimilarityRegularizerConfig& config) {
  std::vector<std::int64_t> channels;
  for (const HandTap& tap : taps) channels.push_back(tap.channels);
  SimilarityRegularizer regularizer(channels, config);
  regularizer->to(torch::kDouble);
  regularizer->eval();
  {
    torch::NoGradGuard noGrad;
    for (std::size_t k = 0; k < taps.size(); ++k)
      regularizer->runningMeans[k].copy_(torch::tensor(means[k], torch::kDouble));
    regularizer->layerLogits.copy_(torch::tensor(logits, torch::kDouble));
  }
  std::vector<torch::Tensor> inputs;
  for (const HandTap& tap : taps) inputs.push_back(tap.tensor().requires_grad_(true));
  const torch::Tensor loss = regularizer->forward(inputs, torch::tensor(targets, torch::kDouble));
  loss.backward();
  ModuleResult result;
  result.loss = loss.item<double>();
  for (const torch::Tensor& input : inputs) result.tapGradients.push_back(input.grad());
  result.logitGradient = regularizer->layerLogits.grad();
  return result;
}

bool isDerangement(const std::vector<std::int64_t>& order) {
  std::vector<std::int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (sorted[i] != static_cast<std::int64_t>(i) || order[i] == static_cast<std::int64_t>(i)) return false;
  }
  return true;
}

}  // namespace

class TestSimilarityRegularizer : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  // Two taps of different shapes, two pairs; the second target lies outside the clamp range.
  void lossAndGradientMatchAHandComputation() {
    torch::manual_seed(21);
    const std::vector<HandTap> taps = {randomTap(4, 2, 1, 3), randomTap(4, 3, 2, 1)};
    const std::vector<std::vector<double>> means = {{0.1, -0.2}, {0.3, 0.0, -0.4}};
    const std::vector<double> logits = {0.4, -0.1};
    const std::vector<double> targets = {0.3, 1.0};
    SimilarityRegularizerConfig config;
    config.clampEpsilon = 1e-3;

    const ModuleResult result = moduleLoss(taps, means, logits, targets, config);
    const double expected = handLoss(taps, means, logits, targets, config.clampEpsilon);
    QVERIFY2(std::abs(result.loss - expected) < 1e-10 * std::max(1.0, expected),
             qPrintable(QString("module %1, hand %2").arg(result.loss).arg(expected)));

    // Central finite differences of the hand formula against autograd.
    const double step = 1e-6;
    for (std::size_t k = 0; k < taps.size(); ++k) {
      for (std::size_t i = 0; i < taps[k].values.size(); ++i) {
        std::vector<HandTap> plus = taps;
        std::vector<HandTap> minus = taps;
        plus[k].values[i] += step;
        minus[k].values[i] -= step;
        const double numeric = (handLoss(plus, means, logits, targets, config.clampEpsilon) -
                                handLoss(minus, means, logits, targets, config.clampEpsilon)) /
                               (2.0 * step);
        const double analytic = result.tapGradients[k].reshape({-1})[static_cast<std::int64_t>(i)].item<double>();
        QVERIFY2(
            std::abs(numeric - analytic) < 1e-6 * std::max(1.0, std::abs(numeric)),
            qPrintable(QString("tap %1 value %2: numeric %3, autograd %4").arg(k).arg(i).arg(numeric).arg(analytic)));
      }
    }
    for (std::size_t k = 0; k < logits.size(); ++k) {
      std::vector<double> plus = logits;
      std::vector<double> minus = logits;
      plus[k] += step;
      minus[k] -= step;
      const double numeric = (handLoss(taps, means, plus, targets, config.clampEpsilon) -
                              handLoss(taps, means, minus, targets, config.clampEpsilon)) /
                             (2.0 * step);
      const double analytic = result.logitGradient[static_cast<std::int64_t>(k)].item<double>();
      QVERIFY2(std::abs(numeric - analytic) < 1e-6 * std::max(1.0, std::abs(numeric)),
               qPrintable(QString("logit %1: numeric %2, autograd %3").arg(k).arg(numeric).arg(analytic)));
    }
  }

  // atanh, not log((1 + x) / (1 - x)): one tap, cosine 0.5 against a target of 0.
  void lossUsesAtanh() {
    SimilarityRegularizer regularizer(std::vector<std::int64_t>{2});
    regularizer->eval();
    const torch::Tensor maps = torch::tensor({1.0f, 0.0f, 0.5f, std::sqrt(0.75f)}).view({2, 2, 1, 1});
    const double loss = regularizer->forward({maps}, torch::zeros({1})).item<double>();
    QVERIFY(std::abs(loss - std::pow(std::atanh(0.5), 2)) < 1e-6);
    QVERIFY(std::abs(similarityLoss(torch::tensor({0.5}, torch::kDouble), torch::tensor({-0.5}, torch::kDouble), 1e-3)
                         .item<double>() -
                     std::pow(2.0 * std::atanh(0.5), 2)) < 1e-12);
    // Clamped at 1 - eps: an exact +-1 pair costs (2 atanh(1 - eps))^2, not infinity.
    QVERIFY(std::abs(similarityLoss(torch::tensor({1.0}, torch::kDouble), torch::tensor({-1.0}, torch::kDouble), 1e-3)
                         .item<double>() -
                     std::pow(2.0 * std::atanh(0.999), 2)) < 1e-9);
  }

  void runningMeansFollowTrainingBatchesOnly() {
    SimilarityRegularizer regularizer(std::vector<std::int64_t>{2, 1});
    regularizer->to(torch::kDouble);
    QVERIFY(regularizer->named_buffers().contains("running_mean_0"));
    QVERIFY(regularizer->named_buffers().contains("running_mean_1"));
    QCOMPARE(regularizer->named_parameters().size(), std::size_t{1});

    // Tap 0: 2 images x 2 channels x 1 x 2; channel 0 holds 1, 2, 3, 4 (mean 2.5), channel 1
    // holds 10, 20, 30, 40 (mean 25). Tap 1: one channel with values 1, 3 (mean 2).
    const torch::Tensor first =
        torch::tensor({1.0, 2.0, 10.0, 20.0, 3.0, 4.0, 30.0, 40.0}, torch::kDouble).view({2, 2, 1, 2});
    const torch::Tensor second = torch::tensor({1.0, 3.0}, torch::kDouble).view({2, 1, 1, 1});
    regularizer->train();
    const torch::Tensor trainSimilarities = regularizer->layerSimilarities({first, second});
    // beta = 0.9 from zero: 0.1 x the batch mean.
    QVERIFY(torch::allclose(regularizer->runningMeans[0], torch::tensor({0.25, 2.5}, torch::kDouble)));
    QVERIFY(torch::allclose(regularizer->runningMeans[1], torch::tensor({0.2}, torch::kDouble)));
    // Training centres with the updated means: evaluation on the same batch, with the means now
    // stored, gives the same similarities and leaves the means alone.
    regularizer->eval();
    QVERIFY(torch::allclose(regularizer->layerSimilarities({first, second}), trainSimilarities));
    QVERIFY(torch::allclose(regularizer->runningMeans[0], torch::tensor({0.25, 2.5}, torch::kDouble)));

    regularizer->train();
    regularizer->layerSimilarities({first * 2.0, second});
    // 0.9 x 0.1 x (2.5, 25) + 0.1 x (5, 50)
    QVERIFY(torch::allclose(regularizer->runningMeans[0], torch::tensor({0.725, 7.25}, torch::kDouble)));
    QVERIFY(torch::allclose(regularizer->runningMeans[1], torch::tensor({0.38}, torch::kDouble)));
    QVERIFY(!regularizer->runningMeans[0].requires_grad());
  }

  void layerWeightsStayADistributionWhileLearning() {
    torch::manual_seed(8);
    SimilarityRegularizer regularizer(std::vector<std::int64_t>{3, 4, 2});
    regularizer->train();
    QVERIFY(torch::allclose(regularizer->gamma(), torch::full({3}, 1.0 / 3.0)));
    const std::vector<torch::Tensor> taps = {torch::randn({16, 3, 4, 4}), torch::randn({16, 4, 2, 2}) + 0.5,
                                             torch::randn({16, 2, 3, 1})};
    const torch::Tensor targets = torch::rand({8}) * 1.6 - 0.8;
    torch::optim::SGD optimizer(regularizer->parameters(), torch::optim::SGDOptions(0.5));
    const double before = regularizer->forward(taps, targets).item<double>();
    for (int step = 0; step < 100; ++step) {
      optimizer.zero_grad();
      regularizer->forward(taps, targets).backward();
      optimizer.step();
    }
    const double after = regularizer->forward(taps, targets).item<double>();
    const torch::Tensor gamma = regularizer->gamma();
    QVERIFY(std::abs(gamma.sum().item<double>() - 1.0) < 1e-6);
    QVERIFY((gamma > 0).all().item<bool>());
    QVERIFY(gamma.max().item<double>() > 1.0 / 3.0 + 0.01);  // it learned something
    QVERIFY(after < before);
    const std::vector<double> values = regularizer->gammaValues();
    QCOMPARE(values.size(), std::size_t{3});
    for (std::size_t k = 0; k < values.size(); ++k)
      QVERIFY(std::abs(values[k] - gamma[static_cast<std::int64_t>(k)].item<double>()) < 1e-7);
  }

  // The loss on a classifier's taps for 36x64 regularization images reaches the trunk and the
  // layer weights (the head does not take part in similarities).
  void regularizesAClassifierTrunk() {
    torch::manual_seed(4);
    ClassifierConfig config;
    config.architecture = ClassifierArchitecture::SmallResNet;
    Classifier model(config);
    SimilarityRegularizer regularizer(model->tapChannels());
    model->train();
    regularizer->train();
    const ClassifierOutput output = model->forwardWithTaps(torch::rand({6, 1, 36, 64}));
    regularizer->forward(output.taps, torch::tensor({0.2f, -0.1f, 0.6f})).backward();
    for (const auto& parameter : model->named_parameters()) {
      if (parameter.key().rfind("head.", 0) == 0) continue;
      QVERIFY2(parameter.value().grad().defined(), parameter.key().c_str());
    }
    QVERIFY(model->named_parameters()["stem.weight"].grad().abs().sum().item<double>() > 0.0);
    QVERIFY(regularizer->layerLogits.grad().abs().sum().item<double>() > 0.0);
  }

  void rejectsMalformedBatches() {
    SimilarityRegularizer regularizer(std::vector<std::int64_t>{2, 3});
    const torch::Tensor first = torch::randn({4, 2, 2, 2});
    const torch::Tensor second = torch::randn({4, 3, 1, 1});
    QVERIFY_THROWS_EXCEPTION(Error, regularizer->forward({first}, torch::zeros({2})));
    QVERIFY_THROWS_EXCEPTION(Error, regularizer->forward({first, torch::randn({4, 2, 1, 1})}, torch::zeros({2})));
    QVERIFY_THROWS_EXCEPTION(Error,
                             regularizer->forward({first.narrow(0, 0, 3), second.narrow(0, 0, 3)}, torch::zeros({1})));
    QVERIFY_THROWS_EXCEPTION(Error, regularizer->forward({first, second}, torch::zeros({3})));
    QVERIFY_THROWS_EXCEPTION(Error, regularizer->forward({first, second.narrow(0, 0, 2)}, torch::zeros({2})));
    QVERIFY_THROWS_EXCEPTION(Error, SimilarityRegularizer(std::vector<std::int64_t>{}));
    // The first tap was fine each time, but a rejected batch moves no running mean.
    QCOMPARE(regularizer->runningMeans[0].abs().sum().item<double>(), 0.0);
  }

  void thresholdKeepsOnlyStrongSimilarities() {
    const torch::Tensor similarity = torch::tensor({-1.0f, -0.81f, -0.8f, -0.3f, 0.0f, 0.8f, 0.8001f, 1.0f});
    const torch::Tensor expected = torch::tensor({-1.0f, -1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f});
    QVERIFY(torch::equal(thresholdSimilarity(similarity, 0.8), expected));
    QVERIFY(torch::equal(thresholdSimilarity(similarity.view({2, 4}), 0.8), expected.view({2, 4})));
  }

  void shuffledOrderMovesEveryImage() {
    for (const std::int64_t n : {2, 3, 4, 7, 100, 5000}) {
      for (std::uint64_t seed = 0; seed < 50; ++seed) {
        const std::vector<std::int64_t> order = shuffledImageOrder(n, seed);
        QCOMPARE(static_cast<std::int64_t>(order.size()), n);
        QVERIFY2(isDerangement(order), qPrintable(QString("n %1, seed %2").arg(n).arg(seed)));
      }
    }
    QCOMPARE(shuffledImageOrder(2, 9), (std::vector<std::int64_t>{1, 0}));
    QVERIFY(shuffledImageOrder(0, 1).empty());
    QCOMPARE(shuffledImageOrder(1, 1), (std::vector<std::int64_t>{0}));
  }

  void shuffledOrderIsFixedBySeed() {
    QCOMPARE(shuffledImageOrder(100, 42), shuffledImageOrder(100, 42));
    QVERIFY(shuffledImageOrder(100, 42) != shuffledImageOrder(100, 43));
    // Three images have two derangements; both come up.
    std::set<std::vector<std::int64_t>> seen;
    for (std::uint64_t seed = 0; seed < 40; ++seed) seen.insert(shuffledImageOrder(3, seed));
    QCOMPARE(seen.size(), std::size_t{2});
  }

  void permutedTargetReadsTheShuffledImages() {
    const torch::Tensor similarity = torch::tensor({1.0f, 0.1f, 0.2f, 0.1f, 1.0f, 0.3f, 0.2f, 0.3f, 1.0f}).view({3, 3});
    // Image 0 takes image 2's place, 1 takes 0's, 2 takes 1's.
    const torch::Tensor permuted = permuteSimilarity(similarity, {2, 0, 1});
    const torch::Tensor expected = torch::tensor({1.0f, 0.2f, 0.3f, 0.2f, 1.0f, 0.1f, 0.3f, 0.1f, 1.0f}).view({3, 3});
    QVERIFY(torch::equal(permuted, expected));
    QVERIFY_THROWS_EXCEPTION(Error, permuteSimilarity(similarity, {1, 0}));
  }

  void configRoundTripsThroughJson() {
    SimilarityRegularizerConfig config;
    config.runningMeanBeta = 0.8;
    config.clampEpsilon = 1e-4;
    const nlohmann::json json = toJson(config);
    QVERIFY(toJson(similarityRegularizerConfigFromJson(json)) == json);
    QVERIFY_THROWS_EXCEPTION(Error, similarityRegularizerConfigFromJson({{"beta", 0.9}}));
    QVERIFY_THROWS_EXCEPTION(Error, similarityRegularizerConfigFromJson({{"clamp_epsilon", "small"}}));
    config.runningMeanBeta = 1.0;
    QVERIFY_THROWS_EXCEPTION(Error, validate(config));
    config = SimilarityRegularizerConfig{};
    config.clampEpsilon = 0.0;
    QVERIFY_THROWS_EXCEPTION(Error, SimilarityRegularizer(std::vector<std::int64_t>{1}, config));
  }
};

BRAINPRIOR_TEST_CLASS(TestSimilarityRegularizer)
#include "test_similarity_regularizer.moc"
