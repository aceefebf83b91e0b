// The harmonization loss and the alignment score: standardize-cut, the binomial pyramid, token
// masking and the loss against hand computations; saliency (the loss's signed one and the alignment
// score's absolute one) against finite differences and through double backprop; Spearman-based
// alignment on a hand example.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include "classifiers/harmonization.h"
#include "test_registry.h"

#include <QtTest>

#include <algorithm>
#include <array>
#include <cmath>

#include "runtime/error.h"
#include "runtime/runtime.h"

using namespace bp;

namespace {

// Standardize-cut of one map, written out: population z-score with 1e-5 added to the std, ReLU.
std::vector<double> handStandardizeCut(const std::vector<double>& map) {
  double mean = 0.0;
  for (const double value : map) mean += value;
  mean /= static_cast<double>(map.size());
  double variance = 0.0;
  for (const double value : map) variance += (value - mean) * (value - mean);
  const double std = std::sqrt(variance / static_cast<double>(map.size()));
  std::vector<double> cut;
  for (const double value : map) cut.push_back(std::max(0.0, (value - mean) / (std + 1e-5)));
  return cut;
}

// One-level harmonization loss of a batch of maps, each given as a flat vector.
double handOneLevelLoss(const std::vector<std::vector<double>>& saliency, const std::vector<std::vector<double>>& human,
                        const std::vector<double>& tokens) {
  double total = 0.0;
  std::size_t count = 0;
  for (std::size_t b = 0; b < saliency.size(); ++b) {
    const std::vector<double> s = handStandardizeCut(saliency[b]);
    const std::vector<double> h = handStandardizeCut(human[b]);
    const double sMax = *std::max_element(s.begin(), s.end());
    const double hMax = *std::max_element(h.begin(), h.end());
    for (std::size_t i = 0; i < s.size(); ++i) {
      const double rescaled = h[i] / (hMax + 1e-6) * (sMax + 1e-6);
      total += (s[i] - rescaled) * (s[i] - rescaled) * tokens[b];
      ++count;
    }
  }
  return total / static_cast<double>(count);
}

torch::Tensor mapsTensor(const std::vector<std::vector<double>>& maps, std::int64_t height, std::int64_t width) {
  std::vector<double> flat;
  for (const auto& map : maps) flat.insert(flat.end(), map.begin(), map.end());
  return torch::tensor(flat, torch::kDouble).view({static_cast<std::int64_t>(maps.size()), height, width});
}

}  // namespace

class TestHarmonization : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void standardizeCutKeepsTheAboveAverageZScores() {
    const torch::Tensor maps = torch::tensor({1.0, 2.0, 3.0, 6.0, -1.0, 0.0, 0.0, 1.0}, torch::kDouble).view({2, 2, 2});
    const torch::Tensor cut = standardizeCut(maps);
    const std::vector<double> first = handStandardizeCut({1.0, 2.0, 3.0, 6.0});
    const std::vector<double> second = handStandardizeCut({-1.0, 0.0, 0.0, 1.0});
    QVERIFY(torch::allclose(cut[0].reshape({-1}), torch::tensor(first, torch::kDouble)));
    QVERIFY(torch::allclose(cut[1].reshape({-1}), torch::tensor(second, torch::kDouble)));
    // mean 3, population std sqrt(3.5): only the 6 is above average.
    QVERIFY(std::abs(cut[0][1][1].item<double>() - 3.0 / (std::sqrt(3.5) + 1e-5)) < 1e-12);
    QCOMPARE(cut[0][0][0].item<double>(), 0.0);
  }

  void binomialKernelIsTheNormalisedOuterProduct() {
    const torch::Tensor kernel = binomialKernel(torch::kDouble);
    QCOMPARE(kernel.sizes().vec(), (std::vector<std::int64_t>{5, 5}));
    QVERIFY(std::abs(kernel.sum().item<double>() - 1.0) < 1e-12);
    QCOMPARE(kernel[0][0].item<double>(), 1.0 / 256.0);
    QCOMPARE(kernel[2][2].item<double>(), 36.0 / 256.0);
    QCOMPARE(kernel[1][3].item<double>(), 16.0 / 256.0);
    QVERIFY(torch::equal(kernel, kernel.t()));
  }

  void pyramidHalvesWithTensorFlowSamePadding() {
    std::vector<std::vector<std::int64_t>> sizes;
    for (const torch::Tensor& level : gaussianPyramid(torch::rand({2, 32, 32}), 5))
      sizes.push_back(level.sizes().vec());
    QCOMPARE(sizes,
             (std::vector<std::vector<std::int64_t>>{{2, 32, 32}, {2, 16, 16}, {2, 8, 8}, {2, 4, 4}, {2, 2, 2}}));
    const std::vector<torch::Tensor> odd = gaussianPyramid(torch::rand({1, 5, 7}), 3);
    QCOMPARE(odd[1].sizes().vec(), (std::vector<std::int64_t>{1, 3, 4}));
    QCOMPARE(odd[2].sizes().vec(), (std::vector<std::int64_t>{1, 2, 2}));

    // A 4x4 map of ones: the padding is one row before and two after, so output (0, 0) sees the
    // kernel taps [4, 6, 4, 1] of each axis and output (1, 1) the taps [1, 4, 6].
    const torch::Tensor ones = gaussianPyramid(torch::ones({1, 4, 4}, torch::kDouble), 2)[1];
    const torch::Tensor expectedOnes =
        torch::tensor({15.0 * 15.0, 15.0 * 11.0, 11.0 * 15.0, 11.0 * 11.0}, torch::kDouble).view({1, 2, 2}) / 256.0;
    QVERIFY(torch::allclose(ones, expectedOnes));
    // A single bright pixel at (0, 0) lands on tap (1, 1) of output (0, 0); the other outputs' windows
    // start at row or column 1.
    torch::Tensor delta = torch::zeros({1, 4, 4}, torch::kDouble);
    delta[0][0][0] = 1.0;
    const torch::Tensor spread = gaussianPyramid(delta, 2)[1];
    const torch::Tensor expectedSpread = torch::tensor({16.0, 0.0, 0.0, 0.0}, torch::kDouble).view({1, 2, 2}) / 256.0;
    QVERIFY(torch::allclose(spread, expectedSpread));
  }

  void oneLevelLossMatchesAHandComputation() {
    const std::vector<std::vector<double>> saliency = {{0.2, -0.1, 0.5, 0.9, -0.3, 0.0},
                                                       {1.0, 2.0, -1.0, 0.5, 0.5, 3.0}};
    const std::vector<std::vector<double>> human = {{0.0, 0.1, 0.8, 0.6, 0.0, 0.2}, {0.3, 0.9, 0.0, 0.1, 0.4, 0.7}};
    const torch::Tensor s = mapsTensor(saliency, 2, 3);
    const torch::Tensor h = mapsTensor(human, 2, 3);
    const torch::Tensor both = torch::tensor({1.0, 1.0}, torch::kDouble);
    const torch::Tensor firstOnly = torch::tensor({1.0, 0.0}, torch::kDouble);

    const double all = harmonizationLoss(s, h, both, 1).item<double>();
    QVERIFY(std::abs(all - handOneLevelLoss(saliency, human, {1.0, 1.0})) < 1e-12);
    const double masked = harmonizationLoss(s, h, firstOnly, 1).item<double>();
    QVERIFY(std::abs(masked - handOneLevelLoss(saliency, human, {1.0, 0.0})) < 1e-12);
    QVERIFY(masked < all);

    // A masked sample's maps do not matter, and its saliency gets no gradient.
    const torch::Tensor otherHuman = h.clone();
    otherHuman[1] = torch::rand({2, 3}, torch::kDouble);
    QVERIFY(std::abs(harmonizationLoss(s, otherHuman, firstOnly, 1).item<double>() - masked) < 1e-15);
    const torch::Tensor trainable = s.clone().requires_grad_(true);
    harmonizationLoss(trainable, h, firstOnly, 5).backward();
    QCOMPARE(trainable.grad()[1].abs().sum().item<double>(), 0.0);
    QVERIFY(trainable.grad()[0].abs().sum().item<double>() > 0.0);
  }

  // The five-level loss is the mean of the per-level mean squared differences of the processed maps.
  void fiveLevelLossAveragesThePyramidLevels() {
    torch::manual_seed(2);
    const torch::Tensor s = torch::randn({3, 16, 16}, torch::kDouble);
    const torch::Tensor h = torch::rand({3, 16, 16}, torch::kDouble);
    const torch::Tensor tokens = torch::tensor({1.0, 0.0, 1.0}, torch::kDouble);
    const torch::Tensor sCut = standardizeCut(s);
    const torch::Tensor hCut = standardizeCut(h);
    const torch::Tensor hScaled = hCut / (hCut.amax({1, 2}, true) + 1e-6) * (sCut.amax({1, 2}, true) + 1e-6);
    const std::vector<torch::Tensor> sLevels = gaussianPyramid(sCut, 5);
    const std::vector<torch::Tensor> hLevels = gaussianPyramid(hScaled, 5);
    double expected = 0.0;
    for (int l = 0; l < 5; ++l) {
      const torch::Tensor difference = (sLevels[l] - hLevels[l]).pow(2);
      expected += (difference[0].sum() + difference[2].sum()).item<double>() / static_cast<double>(difference.numel());
    }
    expected /= 5.0;
    QVERIFY(std::abs(harmonizationLoss(s, h, tokens).item<double>() - expected) < 1e-12);
  }

  void lossRejectsMismatchedMaps() {
    QVERIFY_THROWS_EXCEPTION(Error,
                             harmonizationLoss(torch::rand({2, 8, 8}), torch::rand({2, 8, 9}), torch::ones({2})));
    QVERIFY_THROWS_EXCEPTION(Error,
                             harmonizationLoss(torch::rand({2, 8, 8}), torch::rand({2, 8, 8}), torch::ones({3})));
    QVERIFY_THROWS_EXCEPTION(Error,
                             harmonizationLoss(torch::rand({2, 1, 8, 8}), torch::rand({2, 1, 8, 8}), torch::ones({2})));
  }

  // The saliency is d(true-class logit) / d(input), averaged over channels: compare a few pixels with
  // central differences on a double-precision model in evaluation mode.
  void saliencyIsTheTrueClassInputGradient() {
    torch::manual_seed(6);
    ClassifierConfig config;
    config.architecture = ClassifierArchitecture::SmallResNet;
    config.inputChannels = 3;
    config.classCount = 4;
    config.imageMean = {0.5f, 0.4f, 0.3f};
    config.imageStd = {0.25f, 0.2f, 0.3f};
    config.width = 4;
    Classifier model(config);
    model->to(torch::kDouble);
    model->eval();
    const torch::Tensor images = torch::rand({2, 3, 8, 8}, torch::kDouble);
    const torch::Tensor labels = torch::tensor({1, 3}, torch::kLong);
    const Saliency saliency = computeSaliency(model, images, labels, /*createGraph=*/false);
    QCOMPARE(saliency.maps.sizes().vec(), (std::vector<std::int64_t>{2, 8, 8}));
    QVERIFY(!saliency.maps.requires_grad());
    QVERIFY(torch::allclose(saliency.logits, model->forward(images)));

    torch::NoGradGuard noGrad;
    const double step = 1e-6;
    for (const auto& [b, y, x] : std::vector<std::array<std::int64_t, 3>>{{0, 0, 0}, {0, 3, 5}, {1, 7, 2}, {1, 4, 4}}) {
      double numeric = 0.0;
      for (std::int64_t c = 0; c < 3; ++c) {
        torch::Tensor plus = images.clone();
        torch::Tensor minus = images.clone();
        plus[b][c][y][x] += step;
        minus[b][c][y][x] -= step;
        const std::int64_t label = labels[b].item<std::int64_t>();
        numeric += (model->forward(plus)[b][label].item<double>() - model->forward(minus)[b][label].item<double>()) /
                   (2.0 * step);
      }
      numeric /= 3.0;
      const double analytic = saliency.maps[b][y][x].item<double>();
      QVERIFY2(
          std::abs(numeric - analytic) < 1e-6 * std::max(1.0, std::abs(numeric)),
          qPrintable(QString("(%1, %2, %3): numeric %4, autograd %5").arg(b).arg(y).arg(x).arg(numeric).arg(analytic)));
    }
  }

  // The alignment score's saliency is the largest |d(true-class logit) / d(input)| over the channels:
  // central differences per channel at a few pixels; with one channel it is |computeSaliency|.
  void alignmentSaliencyIsTheLargestAbsoluteChannelGradient() {
    torch::manual_seed(8);
    ClassifierConfig config;
    config.architecture = ClassifierArchitecture::SmallResNet;
    config.inputChannels = 3;
    config.classCount = 4;
    config.imageMean = {0.5f, 0.4f, 0.3f};
    config.imageStd = {0.25f, 0.2f, 0.3f};
    config.width = 4;
    Classifier model(config);
    model->to(torch::kDouble);
    model->eval();
    const torch::Tensor images = torch::rand({2, 3, 8, 8}, torch::kDouble);
    const torch::Tensor labels = torch::tensor({2, 0}, torch::kLong);
    const torch::Tensor saliency = alignmentSaliency(model, images, labels);
    QCOMPARE(saliency.sizes().vec(), (std::vector<std::int64_t>{2, 8, 8}));
    QVERIFY(!saliency.requires_grad());

    torch::NoGradGuard noGrad;
    const double step = 1e-6;
    for (const auto& [b, y, x] : std::vector<std::array<std::int64_t, 3>>{{0, 1, 6}, {1, 5, 0}, {1, 3, 3}}) {
      double largest = 0.0;
      for (std::int64_t c = 0; c < 3; ++c) {
        torch::Tensor plus = images.clone();
        torch::Tensor minus = images.clone();
        plus[b][c][y][x] += step;
        minus[b][c][y][x] -= step;
        const std::int64_t label = labels[b].item<std::int64_t>();
        largest = std::max(largest, std::abs(model->forward(plus)[b][label].item<double>() -
                                             model->forward(minus)[b][label].item<double>()) /
                                        (2.0 * step));
      }
      QVERIFY(std::abs(largest - saliency[b][y][x].item<double>()) < 1e-6 * std::max(1.0, largest));
    }

    config.inputChannels = 1;
    config.imageMean = {0.5f};
    config.imageStd = {0.25f};
    Classifier gray(config);
    gray->eval();
    const torch::Tensor grayImages = torch::rand({3, 1, 8, 8});
    const torch::Tensor grayLabels = torch::tensor({3, 1, 0}, torch::kLong);
    QVERIFY(torch::allclose(alignmentSaliency(gray, grayImages, grayLabels),
                            computeSaliency(gray, grayImages, grayLabels, /*createGraph=*/false).maps.abs()));
  }

  // With createGraph the harmonization loss reaches the weights through the saliency (double
  // backprop), and the logits of the same pass still carry the cross-entropy.
  void harmonizationTrainsThroughDoubleBackprop() {
    torch::manual_seed(7);
    ClassifierConfig config;
    config.architecture = ClassifierArchitecture::SmallResNet;
    config.width = 4;
    Classifier model(config);
    model->train();
    const torch::Tensor images = torch::rand({4, 1, 16, 16});
    const torch::Tensor labels = torch::tensor({0, 5, 9, 2}, torch::kLong);
    const Saliency saliency = computeSaliency(model, images, labels);
    QVERIFY(saliency.maps.requires_grad());
    const torch::Tensor harmonization =
        harmonizationLoss(saliency.maps, torch::rand({4, 16, 16}), torch::tensor({1.0f, 1.0f, 0.0f, 1.0f}));
    harmonization.backward({}, /*retain_graph=*/true);
    const torch::Tensor stemGradient = model->named_parameters()["stem.weight"].grad().clone();
    QVERIFY(stemGradient.abs().sum().item<double>() > 0.0);
    QVERIFY(!model->named_parameters()["head.bias"].grad().defined() ||
            model->named_parameters()["head.bias"].grad().abs().sum().item<double>() == 0.0);

    torch::nn::functional::cross_entropy(saliency.logits, labels).backward();
    QVERIFY(model->named_parameters()["head.bias"].grad().abs().sum().item<double>() > 0.0);
  }

  void alignmentScoreIsMeanSpearmanOverTheCeiling() {
    // Map 0: neighbours swapped, rho = 1 - 6 * 6 / (6 * 35) = 29 / 35. Map 1: a tie in the saliency
    // (average ranks 1.5, 1.5, 3, 4, 5, 6 against 1..6), rho = sqrt(17 / 17.5). Map 2: a constant
    // human map has no ranking and is not scored.
    const torch::Tensor saliency = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 1.0f, 1.0f, 2.0f, 3.0f, 4.0f,
                                                  5.0f, 3.0f, 1.0f, 2.0f, 6.0f, 5.0f, 4.0f})
                                       .view({3, 2, 3});
    const torch::Tensor human = torch::tensor({2.0f, 1.0f, 4.0f, 3.0f, 6.0f, 5.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f,
                                               0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f})
                                    .view({3, 2, 3});
    const AlignmentScore alignment = alignmentScore(saliency, human);
    const double expected = (29.0 / 35.0 + std::sqrt(17.0 / 17.5)) / 2.0;
    QCOMPARE(alignment.scoredMaps, std::int64_t{2});
    QVERIFY(std::abs(alignment.meanSpearman - expected) < 1e-9);
    QVERIFY(std::abs(alignment.score - expected / 0.65753) < 1e-9);
    // Perfect agreement scores 1 / ceiling.
    QVERIFY(std::abs(alignmentScore(saliency[0].unsqueeze(0), saliency[0].unsqueeze(0) * 3.0).score - 1.0 / 0.65753) <
            1e-9);
    QVERIFY(std::isnan(alignmentScore(human.narrow(0, 2, 1), human.narrow(0, 2, 1)).score));
  }
};

BRAINPRIOR_TEST_CLASS(TestHarmonization)
#include "test_harmonization.moc"
