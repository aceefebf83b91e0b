// Image corruptions against hand values (contrast on a tiny tensor, the salt-and-pepper count, the
// blur of a delta, JPEG at quality 100), the same noise whichever batch an image is in, the
// accuracy sweep, mean +/- SEM over curves, and the sweep config's JSON.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/torch.h>

#include "probing/corruptions.h"
#include "test_registry.h"

#include <QtTest>

#include <cmath>
#include <nlohmann/json.hpp>

#include "classifiers/classifier_trainer.h"
#include "runtime/error.h"
#include "runtime/runtime.h"

using namespace bp;

namespace {

// A smooth image batch: count x channels x height x width, values in [0.2, 0.8].
torch::Tensor smoothImages(std::int64_t count, std::int64_t channels, std::int64_t side) {
  const torch::Tensor y = torch::arange(side, torch::kFloat).view({1, 1, -1, 1});
  const torch::Tensor x = torch::arange(side, torch::kFloat).view({1, 1, 1, -1});
  const torch::Tensor image = torch::arange(count * channels, torch::kFloat).view({count, channels, 1, 1});
  return 0.5 + 0.3 * torch::sin(0.3 * x + 0.2 * y + image);
}

}  // namespace

class TestCorruptions : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void namesRoundTripAndSeveritiesAreChecked() {
    for (const CorruptionKind kind : allCorruptionKinds())
      QVERIFY(parseCorruptionKind(corruptionKindName(kind)) == kind);
    QVERIFY(!parseCorruptionKind("fog"));
    QVERIFY_THROWS_EXCEPTION(Error, validateSeverity(CorruptionKind::GaussianNoise, -0.1));
    QVERIFY_THROWS_EXCEPTION(Error, validateSeverity(CorruptionKind::Contrast, 1.5));
    QVERIFY_THROWS_EXCEPTION(Error, validateSeverity(CorruptionKind::SaltAndPepper, 1.01));
    QVERIFY_THROWS_EXCEPTION(Error, validateSeverity(CorruptionKind::Jpeg, 2.5));
    QVERIFY_THROWS_EXCEPTION(Error, validateSeverity(CorruptionKind::Jpeg, 101));
    validateSeverity(CorruptionKind::Jpeg, 100);
  }

  void severityZeroLeavesImagesUnchanged() {
    const torch::Tensor images = smoothImages(2, 3, 8);
    for (const CorruptionKind kind : allCorruptionKinds())
      QVERIFY2(torch::equal(corruptImages(images, kind, 0.0, 7), images), corruptionKindName(kind));
  }

  void contrastMatchesHandValues() {
    const torch::Tensor image = torch::tensor({0.0f, 0.2f, 0.4f, 0.6f}).view({1, 1, 2, 2});
    // mean 0.3; 0.3 + (x - 0.3) * 0.5
    const torch::Tensor expected = torch::tensor({0.15f, 0.25f, 0.35f, 0.45f}).view({1, 1, 2, 2});
    QVERIFY(torch::allclose(corruptImages(image, CorruptionKind::Contrast, 0.5, 0), expected, 0, 1e-6));
    // Full severity: every pixel becomes the image's mean (per image, over channels and pixels).
    const torch::Tensor two = torch::stack({image[0], image[0] + 0.2}).view({2, 1, 2, 2});
    const torch::Tensor flat = corruptImages(two, CorruptionKind::Contrast, 1.0, 0);
    QVERIFY(torch::allclose(flat[0], torch::full({1, 2, 2}, 0.3f), 0, 1e-6));
    QVERIFY(torch::allclose(flat[1], torch::full({1, 2, 2}, 0.5f), 0, 1e-6));
  }

  void saltAndPepperHitsTheRequestedFractionOfPixels() {
    const torch::Tensor images = torch::full({4, 3, 10, 10}, 0.5f);
    const torch::Tensor corrupted = corruptImages(images, CorruptionKind::SaltAndPepper, 0.3, 11);
    const torch::Tensor changed = corrupted.ne(0.5f);
    for (std::int64_t image = 0; image < 4; ++image) {
      // round(0.3 * 100) pixels, every channel of a hit pixel set to the same value, 0 or 1.
      QCOMPARE(changed[image][0].sum().item<std::int64_t>(), 30);
      QVERIFY(torch::equal(changed[image][0], changed[image][1]) && torch::equal(changed[image][0], changed[image][2]));
      QVERIFY(torch::equal(corrupted[image][0], corrupted[image][2]));
      const torch::Tensor values = corrupted[image][0].masked_select(changed[image][0]);
      QVERIFY(torch::logical_or(values.eq(0.0f), values.eq(1.0f)).all().item<bool>());
    }
    const double saltShare = corrupted.eq(1.0f).sum().item<double>() / corrupted.ne(0.5f).sum().item<double>();
    QVERIFY2(saltShare > 0.3 && saltShare < 0.7, std::to_string(saltShare).c_str());
    QCOMPARE(corruptImages(images, CorruptionKind::SaltAndPepper, 1.0, 11).ne(0.5f).all().item<bool>(), true);
  }

  void blurOfADeltaIsTheNormalisedGaussian() {
    torch::Tensor delta = torch::zeros({1, 2, 15, 15});
    delta.index_put_({0, torch::indexing::Slice(), 7, 7}, 1.0f);
    const torch::Tensor blurred = corruptImages(delta, CorruptionKind::GaussianBlur, 1.0, 0);
    // sigma 1: taps t = -3..3 with weights exp(-t^2 / 2) / sum.
    double sum = 0.0;
    for (int t = -3; t <= 3; ++t) sum += std::exp(-0.5 * t * t);
    for (int dy = -4; dy <= 4; ++dy)
      for (int dx = -4; dx <= 4; ++dx) {
        const double expected = std::abs(dy) > 3 || std::abs(dx) > 3
                                    ? 0.0
                                    : std::exp(-0.5 * dy * dy) / sum * std::exp(-0.5 * dx * dx) / sum;
        for (int channel = 0; channel < 2; ++channel)
          QVERIFY(std::abs(blurred[0][channel][7 + dy][7 + dx].item<double>() - expected) < 1e-6);
      }
    QVERIFY(std::abs(blurred.sum().item<double>() - 2.0) < 1e-5);
    // A constant image stays constant (normalised kernel, reflected border), even with a kernel
    // wider than the image.
    const torch::Tensor constant = torch::full({1, 1, 5, 6}, 0.4f);
    QVERIFY(torch::allclose(corruptImages(constant, CorruptionKind::GaussianBlur, 3.0, 0), constant, 0, 1e-6));
    // Reflected border (d c b | a b c d): a delta at row 0, column 1 reaches the corner pixel from
    // column 1 and from its mirror at column -1, so the corner gets 2 w1 horizontally, w0 vertically.
    torch::Tensor edge = torch::zeros({1, 1, 9, 9});
    edge.index_put_({0, 0, 0, 1}, 1.0f);
    const torch::Tensor edgeBlurred = corruptImages(edge, CorruptionKind::GaussianBlur, 1.0, 0);
    const double w0 = 1.0 / sum, w1 = std::exp(-0.5) / sum;
    QVERIFY(std::abs(edgeBlurred[0][0][0][0].item<double>() - 2.0 * w1 * w0) < 1e-6);
  }

  void noiseIsTheSameWhicheverBatchAnImageIsIn() {
    const torch::Tensor images = smoothImages(6, 1, 8);
    for (const CorruptionKind kind :
         {CorruptionKind::GaussianNoise, CorruptionKind::UniformNoise, CorruptionKind::SaltAndPepper}) {
      const double severity = 0.2;
      const torch::Tensor whole = corruptImages(images, kind, severity, 5);
      const torch::Tensor split = torch::cat({corruptImages(images.narrow(0, 0, 2), kind, severity, 5, 0),
                                              corruptImages(images.narrow(0, 2, 4), kind, severity, 5, 2)});
      QVERIFY2(torch::equal(whole, split), corruptionKindName(kind));
      QVERIFY2(!torch::equal(whole, corruptImages(images, kind, severity, 6)), corruptionKindName(kind));
      QVERIFY2(!torch::equal(whole[0], whole[1] - images[1] + images[0]), corruptionKindName(kind));
      QVERIFY(whole.min().item<float>() >= 0.0f && whole.max().item<float>() <= 1.0f);
    }
  }

  void noiseHasTheRequestedSpread() {
    const torch::Tensor grey = torch::full({8, 1, 32, 32}, 0.5f);
    const double sigma = 0.05;
    const torch::Tensor gaussian = corruptImages(grey, CorruptionKind::GaussianNoise, sigma, 3) - grey;
    QVERIFY(std::abs(gaussian.std().item<double>() - sigma) < 0.05 * sigma);
    QVERIFY(std::abs(gaussian.mean().item<double>()) < 0.005);
    const torch::Tensor uniform = corruptImages(grey, CorruptionKind::UniformNoise, 0.1, 3) - grey;
    QVERIFY(uniform.abs().max().item<double>() <= 0.1 + 1e-6);
    QVERIFY(std::abs(uniform.std().item<double>() - 0.1 / std::sqrt(3.0)) < 0.003);  // U(-a, a): a / sqrt(3)
    // Clamping: strong noise on a bright image stays in [0, 1].
    const torch::Tensor bright = corruptImages(torch::full({2, 1, 8, 8}, 0.95f), CorruptionKind::GaussianNoise, 1.0, 3);
    QVERIFY(bright.min().item<float>() >= 0.0f && bright.max().item<float>() <= 1.0f);
  }

  void jpegAtQualityHundredIsCloseToIdentity() {
    for (const std::int64_t channels : {1, 3}) {
      const torch::Tensor images = smoothImages(3, channels, 16);
      const torch::Tensor best = corruptImages(images, CorruptionKind::Jpeg, 1, 0);  // quality 100
      QVERIFY(best.sizes() == images.sizes());
      const double bestError = (best - images).abs().mean().item<double>();
      // Grayscale: 8-bit rounding plus a little DCT rounding. RGB: also the 2x2 chroma subsampling of
      // OpenCV's default 4:2:0, on an image whose channels differ strongly.
      QVERIFY2(bestError < (channels == 1 ? 0.004 : 0.02), std::to_string(bestError).c_str());
      const double worstError =
          (corruptImages(images, CorruptionKind::Jpeg, 95, 0) - images).abs().mean().item<double>();
      QVERIFY2(worstError > bestError, std::to_string(worstError).c_str());
    }
    // Colour order: a red image stays red.
    torch::Tensor red = torch::zeros({1, 3, 16, 16});
    red.index_put_({0, 0}, 0.9f);
    const torch::Tensor decoded = corruptImages(red, CorruptionKind::Jpeg, 11, 0);
    QVERIFY(decoded[0][0].mean().item<double>() > 0.8 && decoded[0][2].mean().item<double>() < 0.1);
    QVERIFY_THROWS_EXCEPTION(Error, corruptImages(torch::zeros({1, 2, 8, 8}), CorruptionKind::Jpeg, 10, 0));
  }

  void sweepGivesOneAccuracyPerSeverityWhateverTheBatchSize() {
    torch::manual_seed(3);
    ClassifierConfig modelConfig;
    modelConfig.architecture = ClassifierArchitecture::SmallResNet;
    modelConfig.width = 2;
    modelConfig.classCount = 3;
    modelConfig.imageMean = {0.5f};
    modelConfig.imageStd = {0.25f};
    Classifier model(modelConfig);
    model->train();
    const torch::Tensor images = torch::rand({20, 1, 8, 8});
    const torch::Tensor labels = torch::arange(20, torch::kLong) % 3;
    CorruptionSweepConfig config;
    config.severities = {0.0, 0.3, 1.0};
    config.seed = 4;
    const CorruptionCurve curve = accuracyUnderCorruption(model, images, labels, config, {}, 256);
    QVERIFY(model->is_training());  // restored
    QCOMPARE(curve.accuracies.size(), std::size_t{3});
    QCOMPARE(curve.images, std::int64_t{20});
    QCOMPARE(curve.accuracies[0], classifierAccuracy(model, images, labels));
    QVERIFY(accuracyUnderCorruption(model, images, labels, config, {}, 3).accuracies == curve.accuracies);
    const nlohmann::json json = toJson(curve);
    QVERIFY(json.at("kind") == "gaussian_noise");
    QCOMPARE(json.at("accuracies").size(), std::size_t{3});

    auto cancel = std::make_shared<CancelToken>();
    cancel->cancel();
    QVERIFY_THROWS_EXCEPTION(CancelledError, accuracyUnderCorruption(model, images, labels, config, Job({}, cancel)));
  }

  void summaryGivesMeanAndStandardErrorPerSeverity() {
    CorruptionCurve a, b;
    a.severities = b.severities = {0.0, 0.1};
    a.accuracies = {0.9, 0.5};
    b.accuracies = {0.7, 0.3};
    const CorruptionCurveSummary summary = summarizeCorruptionCurves({a, b});
    QCOMPARE(summary.curves, std::int64_t{2});
    QVERIFY(std::abs(summary.meanAccuracies[0] - 0.8) < 1e-12 && std::abs(summary.meanAccuracies[1] - 0.4) < 1e-12);
    // sd = 0.1 * sqrt(2), sem = sd / sqrt(2) = 0.1
    QVERIFY(std::abs(summary.semAccuracies[0] - 0.1) < 1e-12 && std::abs(summary.semAccuracies[1] - 0.1) < 1e-12);
    const CorruptionCurveSummary single = summarizeCorruptionCurves({a});
    QVERIFY(std::isnan(single.semAccuracies[0]));
    QVERIFY(toJson(single).at("sem_accuracies")[0].is_null());
    CorruptionCurve other = b;
    other.severities = {0.0, 0.2};
    QVERIFY_THROWS_EXCEPTION(Error, summarizeCorruptionCurves({a, other}));
    QVERIFY_THROWS_EXCEPTION(Error, summarizeCorruptionCurves({}));
  }

  void sweepConfigRoundTripsAndNamesBadKeys() {
    CorruptionSweepConfig config;
    config.kind = CorruptionKind::Jpeg;
    config.severities = {0, 10, 50};
    config.seed = 9;
    const nlohmann::json json = toJson(config);
    QCOMPARE(toJson(corruptionSweepConfigFromJson(json)), json);
    QCOMPARE(corruptionSweepConfigFromJson(nlohmann::json::object()).severities.size(), std::size_t{6});
    try {
      corruptionSweepConfigFromJson({{"severity", {0.1}}});
      QFAIL("an unknown key was accepted");
    } catch (const Error& error) {
      QVERIFY2(std::string(error.what()).find("severity") != std::string::npos, error.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, corruptionSweepConfigFromJson({{"kind", "fog"}}));
    QVERIFY_THROWS_EXCEPTION(Error, corruptionSweepConfigFromJson({{"severities", {"high"}}}));
    config.severities = {0.5};
    QVERIFY_THROWS_EXCEPTION(Error, validate(config));  // JPEG severities are integers
    config.severities.clear();
    QVERIFY_THROWS_EXCEPTION(Error, validate(config));
  }
};

BRAINPRIOR_TEST_CLASS(TestCorruptions)
#include "test_corruptions.moc"
