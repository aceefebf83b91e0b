// Neural predictivity: ridge and PLS readouts against hand computations on tiny systems, cross-
// validation that never fits a held-out image (noise stays at r ~ 0, a linear map reaches r ~ 1),
// repeat averaging and the split-half ceiling, one score per tap of a classifier, the report over a
// finished run with its test accuracy and CSV table, the report folder (report.json and both tables,
// skipped runs, refusals), and strict configs.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/torch.h>

#include "classifiers/classifier_trainer.h"
#include "classifiers/run_folder.h"
#include "data/static_hdf5.h"
#include "probing/predictivity.h"
#include "test_registry.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <utility>

#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "striped_images.h"
#include "test_support.h"

using namespace bp;

namespace {

torch::Tensor matrix(const std::vector<std::vector<double>>& rows) {
  torch::Tensor result = torch::empty({static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(rows[0].size())},
                                      torch::kDouble);
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j)
      result[static_cast<std::int64_t>(i)][static_cast<std::int64_t>(j)] = rows[i][j];
  return result;
}

double maxDifference(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// Six images, two features of full rank.
torch::Tensor tinyFeatures() { return matrix({{1, 0}, {2, 1}, {3, 1}, {4, 3}, {5, 2}, {6, 5}}); }

// A random dataset of `images` images shown `repeats` times: 3 channels of 8x8 pixels in 0..255,
// each of `neurons` neurons a fixed linear function of the pixels plus trial noise.
NeuralDataset repeatedDataset(std::int64_t images, int repeats, std::int64_t neurons, double noise) {
  NeuralDataset dataset;
  dataset.name = "synthetic";
  dataset.channels = 3;
  dataset.height = 8;
  dataset.width = 8;
  dataset.neuronCount = neurons;
  std::mt19937 random(5);
  std::uniform_real_distribution<float> pixel(0.0f, 255.0f);
  std::normal_distribution<float> gaussian(0.0f, 1.0f);
  std::vector<float> pixels(static_cast<std::size_t>(images * dataset.imageSize()));
  for (auto& value : pixels) value = pixel(random);
  std::vector<float> readout(static_cast<std::size_t>(neurons * dataset.imageSize()));
  for (auto& value : readout) value = gaussian(random) / 255.0f;
  for (int repeat = 0; repeat < repeats; ++repeat)
    for (std::int64_t image = 0; image < images; ++image) {
      const float* source = pixels.data() + image * dataset.imageSize();
      dataset.images.insert(dataset.images.end(), source, source + dataset.imageSize());
      for (std::int64_t neuron = 0; neuron < neurons; ++neuron) {
        double rate = 0.0;
        for (std::int64_t i = 0; i < dataset.imageSize(); ++i)
          rate += source[i] * readout[static_cast<std::size_t>(neuron * dataset.imageSize() + i)];
        dataset.responses.push_back(static_cast<float>(rate / 8.0 + noise * gaussian(random)));
      }
      dataset.tiers.push_back(Tier::Train);
      dataset.imageIds.push_back(image);
      dataset.trialIds.push_back(dataset.trialCount() - 1);
    }
  return dataset;
}

// A model of `launch` with a median r (and twice it normalised) per tap, stem and stage1.
ModelPredictivity scoredModel(const std::string& launch, std::uint64_t seed, double accuracy, double stem,
                              double stage1) {
  ModelPredictivity model;
  model.name = launch + "-seed" + std::to_string(seed);
  model.launch = launch;
  model.seed = seed;
  model.testAccuracy = accuracy;
  const std::vector<std::pair<std::string, double>> medians = {{"stem", stem}, {"stage1", stage1}};
  for (const auto& [tap, median] : medians) {
    LayerPredictivity layer;
    layer.tap = tap;
    layer.score.medianCorrelation = median;
    layer.score.normalizedMedian = 2.0 * median;
    model.layers.push_back(layer);
  }
  model.bestLayer = stem > stage1 ? "stem" : "stage1";
  return model;
}

// A copy of the run folder `run` at `copy` whose summary.json says it is in `state`.
std::filesystem::path copyRunInState(const std::filesystem::path& run, const std::filesystem::path& copy,
                                     const std::string& state) {
  std::filesystem::copy(run, copy, std::filesystem::copy_options::recursive);
  nlohmann::json summary = nlohmann::json::parse(readTextFile(copy / "summary.json"));
  summary["state"] = state;
  writeFileAtomically(copy / "summary.json", summary.dump(2));
  return copy;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) result.push_back(line);
  return result;
}

// The readout of reportsFinishedRunsWithTheirTestAccuracy: ridge, 3 folds, the first 24 images.
PredictivityConfig smallRidge() {
  PredictivityConfig config;
  config.method = ReadoutMethod::Ridge;
  config.maxImages = 24;
  config.folds = 3;
  return config;
}

}  // namespace

class TestPredictivity : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void ridgeWithoutPenaltyIsLeastSquares() {
    const torch::Tensor x = tinyFeatures();
    // y = 1 + 2 x1 - 3 x2 exactly: least squares recovers it, so it predicts new rows exactly.
    const torch::Tensor y = (1.0 + 2.0 * x.select(1, 0) - 3.0 * x.select(1, 1)).unsqueeze(1);
    const torch::Tensor query = matrix({{0, 0}, {10, -2}, {2.5, 7}});
    const torch::Tensor expected = matrix({{1}, {27}, {-15}});
    QVERIFY(maxDifference(ridgePredict(x, y, query, 0.0), expected) < 1e-9);
  }

  void ridgePenaltyShrinksTheStandardisedSlope() {
    // One feature 1..6, y = 2x + 1: on the standardised feature (population sd s) Z'Z = n and
    // Z'y = 2 n s, so lambda = n halves the slope: beta = 2 n s / (n + n) = s, i.e. 1 per unit of x.
    const torch::Tensor x = matrix({{1}, {2}, {3}, {4}, {5}, {6}});
    const torch::Tensor y = 2.0 * x + 1.0;
    const torch::Tensor prediction = ridgePredict(x, y, matrix({{5.5}, {3.5}}), 6.0);
    QVERIFY(std::abs(prediction[0][0].item<double>() - 10.0) < 1e-9);  // mean 8 + (5.5 - 3.5)
    QVERIFY(std::abs(prediction[1][0].item<double>() - 8.0) < 1e-9);
  }

  void plsWithFullRankComponentsIsLeastSquares() {
    const torch::Tensor x = tinyFeatures();
    // Two responses that no linear map fits exactly.
    const torch::Tensor y = matrix({{1, 0}, {3, 2}, {2, 5}, {7, 1}, {4, 4}, {9, 3}});
    const torch::Tensor query = matrix({{0, 0}, {10, -2}, {2.5, 7}});
    QVERIFY(maxDifference(plsPredict(x, y, query, 2), ridgePredict(x, y, query, 0.0)) < 1e-9);
    // More components than features are capped at the feature count.
    QVERIFY(maxDifference(plsPredict(x, y, query, 25), ridgePredict(x, y, query, 0.0)) < 1e-9);
    // Constant responses leave nothing to explain: the prediction is their mean.
    QVERIFY(maxDifference(plsPredict(x, torch::full({6, 1}, 4.0, torch::kDouble), query, 2),
                          torch::full({3, 1}, 4.0, torch::kDouble)) < 1e-12);
  }

  void plsOneComponentMatchesHandNipals() {
    const std::vector<std::vector<double>> rows = {{1, 0}, {2, 1}, {3, 1}, {4, 3}, {5, 2}, {6, 5}};
    const std::vector<double> y = {1, 3, 2, 7, 4, 9};
    const std::size_t n = rows.size();
    // Standardise the columns (population sd), centre y; w = Z'y / |Z'y|, t = Z w, q = t'y / t't,
    // and the prediction mean(y) + q t.
    double z[6][2];
    for (std::size_t j = 0; j < 2; ++j) {
      double mean = 0.0;
      for (const auto& row : rows) mean += row[j] / n;
      double variance = 0.0;
      for (const auto& row : rows) variance += (row[j] - mean) * (row[j] - mean) / n;
      for (std::size_t i = 0; i < n; ++i) z[i][j] = (rows[i][j] - mean) / std::sqrt(variance);
    }
    double yMean = 0.0;
    for (const double value : y) yMean += value / n;
    double w[2] = {0.0, 0.0};
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < 2; ++j) w[j] += z[i][j] * (y[i] - yMean);
    const double length = std::sqrt(w[0] * w[0] + w[1] * w[1]);
    double t[6];
    double tt = 0.0;
    double ty = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      t[i] = (z[i][0] * w[0] + z[i][1] * w[1]) / length;
      tt += t[i] * t[i];
      ty += t[i] * (y[i] - yMean);
    }
    const torch::Tensor x = matrix(rows);
    const torch::Tensor prediction = plsPredict(x, matrix({{1}, {3}, {2}, {7}, {4}, {9}}), x, 1);
    for (std::size_t i = 0; i < n; ++i)
      QVERIFY(std::abs(prediction[static_cast<std::int64_t>(i)][0].item<double>() - (yMean + ty / tt * t[i])) < 1e-9);
  }

  void plsEqualsReferenceNipals_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("units");
    QTest::addColumn<int>("responses");
    QTest::addColumn<int>("components");
    QTest::newRow("fewer units than responses") << 40 << 6 << 9 << 4;
    QTest::newRow("more units than responses") << 40 << 12 << 5 << 7;
    QTest::newRow("every component") << 30 << 5 << 3 << 25;
  }

  // The textbook NIPALS the header describes, iterated over the whole response matrix, against the
  // cross-covariance form plsPredict uses.
  void plsEqualsReferenceNipals() {
    QFETCH(int, rows);
    QFETCH(int, units);
    QFETCH(int, responses);
    QFETCH(int, components);
    torch::manual_seed(3);
    const torch::Tensor x = torch::randn({rows, units}, torch::kDouble) * torch::rand({1, units}, torch::kDouble) * 3.0;
    const torch::Tensor y = x.matmul(torch::randn({units, responses}, torch::kDouble)) +
                            torch::randn({rows, responses}, torch::kDouble) + 5.0;
    const torch::Tensor query = torch::randn({7, units}, torch::kDouble);

    const torch::Tensor mean = x.mean(0, true);
    const torch::Tensor scale = x.std(0, /*unbiased=*/false, true);
    torch::Tensor xResidual = (x - mean) / scale;
    const torch::Tensor yMean = y.mean(0, true);
    torch::Tensor yResidual = y - yMean;
    std::vector<torch::Tensor> w;
    std::vector<torch::Tensor> p;
    std::vector<torch::Tensor> q;
    for (int component = 0; component < std::min({components, units, rows - 1}); ++component) {
      torch::Tensor u = yResidual.select(1, 0).unsqueeze(1);
      torch::Tensor weight = torch::zeros({units, 1}, torch::kDouble);
      for (int iteration = 0; iteration < 10000; ++iteration) {
        torch::Tensor next = xResidual.t().matmul(u);
        next = next / next.norm();
        const torch::Tensor score = xResidual.matmul(next);
        u = yResidual.matmul(yResidual.t().matmul(score));
        const double change = (next - weight).norm().item<double>();
        weight = next;
        if (change < 1e-13) break;
      }
      const torch::Tensor t = xResidual.matmul(weight);
      const torch::Tensor tt = t.pow(2).sum();
      p.push_back(xResidual.t().matmul(t) / tt);
      q.push_back(yResidual.t().matmul(t) / tt);
      w.push_back(weight);
      xResidual = xResidual - t.matmul(p.back().t());
      yResidual = yResidual - t.matmul(q.back().t());
    }
    const torch::Tensor W = torch::cat(w, 1);
    const torch::Tensor coefficients =
        W.matmul(torch::linalg_solve(torch::cat(p, 1).t().matmul(W), torch::cat(q, 1).t(), true));
    const torch::Tensor expected = yMean + ((query - mean) / scale).matmul(coefficients);
    const double difference = maxDifference(plsPredict(x, y, query, components), expected);
    QVERIFY2(difference < 1e-8 * expected.abs().max().item<double>(), std::to_string(difference).c_str());
  }

  void crossValidationNeverFitsAHeldOutImage_data() {
    QTest::addColumn<int>("method");
    QTest::newRow("ridge") << static_cast<int>(ReadoutMethod::Ridge);
    QTest::newRow("pls") << static_cast<int>(ReadoutMethod::Pls);
  }

  void crossValidationNeverFitsAHeldOutImage() {
    QFETCH(int, method);
    torch::manual_seed(1);
    const torch::Tensor features = torch::randn({200, 60}, torch::kDouble);
    PredictivityConfig config;
    config.method = static_cast<ReadoutMethod>(method);
    config.lambda = 1e-3;
    // Pure noise: a readout fitted on its own images reaches a clearly positive r (so the check can
    // tell), but held-out predictions of noise cannot.
    const torch::Tensor noise = torch::randn({200, 30}, torch::kDouble);
    const std::vector<double> inSample = columnCorrelations(
        config.method == ReadoutMethod::Ridge ? ridgePredict(features, noise, features, config.lambda)
                                              : plsPredict(features, noise, features, config.components),
        noise);
    QVERIFY(finiteMedian(inSample) > 0.3);
    const ReadoutScore noiseScore = scoreReadout(features, noise, {}, config);
    QCOMPARE(noiseScore.correlations.size(), std::size_t{30});
    QVERIFY(std::abs(noiseScore.medianCorrelation) < 0.2);
    QVERIFY(std::isnan(noiseScore.normalizedMedian));

    // A linear function of the features, through 10 latent dimensions, is predicted almost
    // perfectly (25 PLS components of 60 features fall a little short of exact); a ceiling of 0.5
    // doubles the score.
    const torch::Tensor linear =
        features.matmul(torch::randn({60, 10}, torch::kDouble)).matmul(torch::randn({10, 30}, torch::kDouble)) + 3.0;
    const ReadoutScore linearScore = scoreReadout(features, linear, std::vector<double>(30, 0.5), config);
    QVERIFY(linearScore.medianCorrelation > 0.95);
    QVERIFY(std::abs(linearScore.normalizedMedian - 2.0 * linearScore.medianCorrelation) < 1e-12);
  }

  void crossValidationNeedsTwoImagesPerFold() {
    PredictivityConfig config;
    config.folds = 4;
    QVERIFY_THROWS_EXCEPTION(Error, crossValidatedPredictions(torch::randn({7, 2}), torch::randn({7, 1}), config));
  }

  void targetsAverageRepeatsWithASplitHalfCeiling() {
    const NeuralDataset dataset = repeatedDataset(40, 4, 3, 0.2);
    const NeuralTargets targets = neuralTargets(dataset);
    QCOMPARE(targets.images.sizes().vec(), (std::vector<std::int64_t>{40, 3, 8, 8}));
    QCOMPARE(targets.repeatedImages, std::int64_t{40});
    QVERIFY(targets.images.min().item<float>() >= 0.0f && targets.images.max().item<float>() <= 1.0f);
    // Image 7's target is the mean of its trials 7, 47, 87, 127.
    for (std::int64_t neuron = 0; neuron < 3; ++neuron) {
      double mean = 0.0;
      for (int repeat = 0; repeat < 4; ++repeat) mean += dataset.response(7 + 40 * repeat)[neuron] / 4.0;
      QVERIFY(std::abs(targets.responses[7][neuron].item<double>() - mean) < 1e-5);
    }
    // Little noise: the halves agree, and the ceiling is near 1 and above the raw half correlation.
    for (const double ceiling : targets.ceilings) QVERIFY(ceiling > 0.9 && ceiling <= 1.0);

    const NeuralTargets first = neuralTargets(dataset, 10);
    QCOMPARE(first.images.size(0), std::int64_t{10});
    QCOMPARE(first.imageIds.back(), std::int64_t{9});
    QVERIFY(torch::allclose(first.responses, targets.responses.slice(0, 0, 10)));
  }

  void scoresEveryTapOfAClassifier() {
    ClassifierConfig model;
    model.architecture = ClassifierArchitecture::SmallResNet;
    model.width = 4;
    model.classCount = 3;
    torch::manual_seed(2);
    TrainedClassifier trained{Classifier(model), {"a", "b", "c"}, {1, 12, 12}};
    const NeuralTargets targets = neuralTargets(repeatedDataset(30, 2, 4, 0.5));
    PredictivityConfig config;
    config.folds = 3;
    config.batchSize = 7;  // batches that do not divide the images
    const std::vector<LayerPredictivity> layers = layerPredictivity(trained, targets, config);
    QCOMPARE(layers.size(), trained.model->tapNames().size());
    const std::vector<std::int64_t> channels = trained.model->tapChannels();
    for (std::size_t tap = 0; tap < layers.size(); ++tap) {
      QCOMPARE(layers[tap].tap, trained.model->tapNames()[tap]);
      QCOMPARE(layers[tap].units, channels[tap] * 4);  // 2x2 pooling
      QCOMPARE(layers[tap].score.correlations.size(), std::size_t{4});
      QVERIFY(std::isfinite(layers[tap].score.medianCorrelation));
    }
  }

  void reportsFinishedRunsWithTheirTestAccuracy() {
    const std::vector<RunRecord>& runs = stripesRuns();
    QCOMPARE(runs.size(), std::size_t{1});

    const PredictivityConfig config = smallRidge();
    const PredictivityReport report = predictivityOfRuns({runs[0].folder}, repeatedDataset(30, 2, 5, 0.3), config);
    QCOMPARE(report.images, std::int64_t{24});
    QCOMPARE(report.neurons, std::int64_t{5});
    QCOMPARE(report.models.size(), std::size_t{1});
    const ModelPredictivity& model = report.models[0];
    QCOMPARE(model.name, std::string("stripes-seed1"));
    QCOMPARE(model.testAccuracy, runs[0].summary.at("test_accuracy").get<double>());
    QVERIFY(!model.bestLayer.empty());
    QCOMPARE(report.launches.size(), std::size_t{1});
    QCOMPARE(report.launches[0].name, std::string("stripes"));
    QCOMPARE(report.launches[0].meanTestAccuracy, model.testAccuracy);
    QCOMPARE(report.launches[0].layers.size(), model.layers.size());

    const nlohmann::json json = toJson(report);
    QCOMPARE(json.at("format").get<std::string>(), std::string("brainprior predictivity report"));
    QCOMPARE(json.at("models")[0].at("layers").size(), model.layers.size());
    QCOMPARE(json.at("config").at("method").get<std::string>(), std::string("ridge"));

    const std::filesystem::path table = scratch_ / "table.csv";
    writePredictivityTable(report, table);
    const std::string text = readTextFile(table);
    QCOMPARE(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')), 1 + model.layers.size());
    QVERIFY(text.rfind("name,launch,seed,regularizer,test_accuracy,tap,units,median_r,normalized_median_r,best\n", 0) ==
            0);

    QVERIFY_THROWS_EXCEPTION(Error, predictivityOfRuns({runs[0].folder, runs[0].folder},
                                                       repeatedDataset(30, 2, 5, 0.3), config));
  }

  // writePredictivityReportFolder over a folder of runs: a copy of the finished run and a cancelled
  // copy, scored against a neural dataset saved as static HDF5. The finished run is scored, the
  // cancelled one is skipped and named, once, to the callback before any work starts; report.json is
  // the returned JSON (toJson(report) with "skipped"); predictivity-table.csv and
  // predictivity-launches.csv are the two table writers' tables (a header, then one row per model
  // and tap, and per launch and tap). Without an output folder nothing is written anywhere. A
  // folder with no finished run and an invalid config are refused before anything is collected or
  // written.
  void reportFolderWritesTheReportAndTheTables() {
    const std::vector<RunRecord>& runs = stripesRuns();
    QCOMPARE(runs.size(), std::size_t{1});
    const std::filesystem::path collected = scratch_ / "collected";
    std::filesystem::create_directories(collected);
    std::filesystem::copy(runs[0].folder, collected / "stripes-seed1", std::filesystem::copy_options::recursive);
    const std::filesystem::path cancelled =
        copyRunInState(runs[0].folder, collected / "stripes-seed2", "cancelled");
    const nlohmann::json expectedSkipped =
        nlohmann::json::array({{{"folder", cancelled.string()}, {"state", "cancelled"}}});
    const std::filesystem::path neural = scratch_ / "neural.h5";
    writeStaticHdf5(repeatedDataset(30, 2, 5, 0.3), neural);

    PredictivityReportFolderConfig config;
    config.runs = {collected.string()};
    config.neuralPath = neural;
    config.predictivity = smallRidge();
    config.outputDir = scratch_ / "predictivity-report" / "nested";  // created, parents and all
    int progressReports = 0;
    const Job job([&](double, const std::string&) { ++progressReports; }, nullptr);
    int calls = 0;
    int reportsBeforeCollected = -1;
    nlohmann::json heard;
    const RunsCollectedCallback onRunsCollected = [&](const nlohmann::json& skipped) {
      ++calls;
      heard = skipped;
      reportsBeforeCollected = progressReports;
    };
    const PredictivityReportFolder folder = writePredictivityReportFolder(config, job, onRunsCollected);
    QCOMPARE(calls, 1);
    QCOMPARE(heard, expectedSkipped);
    QCOMPARE(reportsBeforeCollected, 0);  // told before the dataset is read and the runs scored
    QVERIFY(progressReports > 0);

    const PredictivityReport& report = folder.report;
    QCOMPARE(report.neuralPath, neural.string());
    QCOMPARE(report.images, std::int64_t{24});
    QCOMPARE(report.neurons, std::int64_t{5});
    QCOMPARE(report.models.size(), std::size_t{1});
    const ModelPredictivity& model = report.models[0];
    QCOMPARE(model.name, std::string("stripes-seed1"));
    QCOMPARE(model.folder.string(), (collected / "stripes-seed1").string());
    QCOMPARE(model.testAccuracy, runs[0].summary.at("test_accuracy").get<double>());
    QVERIFY(!model.layers.empty());
    QCOMPARE(report.launches.size(), std::size_t{1});
    QCOMPARE(report.launches[0].name, std::string("stripes"));
    QCOMPARE(report.launches[0].layers.size(), model.layers.size());

    // report.json: the returned JSON, which is toJson(report) plus "skipped".
    QCOMPARE(folder.json.at("format").get<std::string>(), std::string("brainprior predictivity report"));
    QCOMPARE(folder.json.at("neural").at("path").get<std::string>(), neural.string());
    QCOMPARE(folder.json.at("skipped"), expectedSkipped);
    nlohmann::json withoutSkipped = folder.json;
    withoutSkipped.erase("skipped");
    QCOMPARE(withoutSkipped, toJson(report));
    const std::string reportText = readTextFile(config.outputDir / "report.json");
    QVERIFY(!reportText.empty() && reportText.back() == '\n');
    QCOMPARE(nlohmann::json::parse(reportText), folder.json);

    // predictivity-table.csv: the header, then one row per tap of the one model, exactly
    // writePredictivityTable's, with the best tap marked once.
    const std::string tableText = readTextFile(config.outputDir / "predictivity-table.csv");
    const std::vector<std::string> table = lines(tableText);
    QCOMPARE(table.size(), 1 + model.layers.size());
    QCOMPARE(table[0], std::string("name,launch,seed,regularizer,test_accuracy,tap,units,median_r,normalized_median_r,best"));
    int best = 0;
    for (std::size_t i = 1; i < table.size(); ++i) {
      QVERIFY2(table[i].rfind("stripes-seed1,stripes,1,", 0) == 0, table[i].c_str());
      QVERIFY2(table[i].find("," + model.layers[i - 1].tap + ",") != std::string::npos, table[i].c_str());
      if (table[i].back() == '1') ++best;
    }
    QCOMPARE(best, 1);
    const std::filesystem::path directTable = scratch_ / "direct-table.csv";
    writePredictivityTable(report, directTable);
    QCOMPARE(tableText, readTextFile(directTable));

    // predictivity-launches.csv: the header, then one row per tap of the one launch, exactly
    // writePredictivityLaunchTable's.
    const std::string launchText = readTextFile(config.outputDir / "predictivity-launches.csv");
    const std::vector<std::string> launches = lines(launchText);
    QCOMPARE(launches.size(), 1 + report.launches[0].layers.size());
    QCOMPARE(launches[0], std::string("launch,models,seeds,mean_test_accuracy,sem_test_accuracy,tap,mean_median_r,"
                                      "sem_median_r,mean_normalized_median_r,sem_normalized_median_r,"
                                      "mean_best_median_r,sem_best_median_r"));
    for (std::size_t i = 1; i < launches.size(); ++i)
      QVERIFY2(launches[i].rfind("stripes,1,1,", 0) == 0, launches[i].c_str());
    const std::filesystem::path directLaunches = scratch_ / "direct-launches.csv";
    writePredictivityLaunchTable(report, directLaunches);
    QCOMPARE(launchText, readTextFile(directLaunches));

    // The three files and nothing else (no temporary left behind).
    std::vector<std::string> written;
    for (const auto& entry : std::filesystem::directory_iterator(config.outputDir))
      written.push_back(entry.path().filename().string());
    std::sort(written.begin(), written.end());
    QCOMPARE(written,
             (std::vector<std::string>{"predictivity-launches.csv", "predictivity-table.csv", "report.json"}));

    // No output folder: the report comes back and nothing is written, not even beside the working
    // directory (run from an empty one here).
    config.outputDir.clear();
    const std::filesystem::path empty = scratch_ / "empty-working-dir";
    std::filesystem::create_directories(empty);
    const std::filesystem::path workingDir = std::filesystem::current_path();
    std::filesystem::current_path(empty);
    calls = 0;
    PredictivityReportFolder unwritten;
    try {
      unwritten = writePredictivityReportFolder(config, Job{}, onRunsCollected);
    } catch (...) {
      std::filesystem::current_path(workingDir);
      throw;
    }
    std::filesystem::current_path(workingDir);
    QVERIFY(std::filesystem::is_empty(empty));
    QCOMPARE(calls, 1);
    QCOMPARE(unwritten.report.models.size(), std::size_t{1});
    QCOMPARE(unwritten.json.at("skipped"), expectedSkipped);

    // A folder of runs none of which finished: FileError naming it, before the callback, and no
    // output folder made.
    const std::filesystem::path unfinished = scratch_ / "unfinished";
    std::filesystem::create_directories(unfinished);
    copyRunInState(runs[0].folder, unfinished / "stripes-seed1", "failed");
    config.runs = {unfinished.string()};
    config.outputDir = scratch_ / "refused-report";
    calls = 0;
    try {
      writePredictivityReportFolder(config, Job{}, onRunsCollected);
      QFAIL("a folder without finished runs was scored");
    } catch (const FileError& error) {
      QCOMPARE(error.path(), unfinished.string());
      QVERIFY2(error.problem().find("no finished run") != std::string::npos, error.what());
    }
    QCOMPARE(calls, 0);
    QVERIFY(!std::filesystem::exists(config.outputDir));

    // An invalid readout config is refused before the runs are collected.
    config.runs = {collected.string()};
    config.predictivity.folds = 1;
    QVERIFY_THROWS_EXCEPTION(Error, writePredictivityReportFolder(config, Job{}, onRunsCollected));
    QCOMPARE(calls, 0);
    QVERIFY(!std::filesystem::exists(config.outputDir));
  }

  void launchesAreMeansWithStandardErrorsOverSeeds() {
    PredictivityReport report;
    report.models = {scoredModel("base", 1, 0.80, 0.10, 0.30), scoredModel("neural", 1, 0.70, 0.20, 0.10),
                     scoredModel("base", 2, 0.90, 0.26, 0.20), scoredModel("base", 3, 0.85, 0.12, 0.25)};
    report.launches = summarizeLaunches(report.models);
    QCOMPARE(report.launches.size(), std::size_t{2});
    const LaunchPredictivity& base = report.launches[0];
    QCOMPARE(base.name, std::string("base"));
    QCOMPARE(base.models, (std::vector<std::string>{"base-seed1", "base-seed2", "base-seed3"}));
    QCOMPARE(base.seeds, (std::vector<std::uint64_t>{1, 2, 3}));
    // SEM = sqrt(sum of squared deviations / (n - 1)) / sqrt(n), n = 3.
    const auto sem = [](double squares) { return std::sqrt(squares / 2.0) / std::sqrt(3.0); };
    const auto near = [](double a, double b) { return std::abs(a - b) < 1e-12; };
    QVERIFY(near(base.meanTestAccuracy, 0.85));
    QVERIFY(near(base.semTestAccuracy, sem(0.05 * 0.05 * 2)));  // deviations -0.05, 0.05, 0
    QCOMPARE(base.layers.size(), std::size_t{2});
    QCOMPARE(base.layers[0].tap, std::string("stem"));
    QVERIFY(near(base.layers[0].meanMedianCorrelation, 0.16));
    QVERIFY(near(base.layers[0].semMedianCorrelation, sem(0.0036 + 0.01 + 0.0016)));  // -0.06, 0.10, -0.04
    QVERIFY(near(base.layers[0].meanNormalizedMedian, 0.32));
    QVERIFY(near(base.layers[0].semNormalizedMedian, 2.0 * base.layers[0].semMedianCorrelation));
    QVERIFY(near(base.layers[1].meanMedianCorrelation, 0.25));
    QVERIFY(near(base.layers[1].semMedianCorrelation, sem(0.0025 + 0.0025)));  // 0.05, -0.05, 0
    // Best layers: stage1 0.30, stem 0.26, stage1 0.25, so deviations 0.03, -0.01, -0.02 from 0.27.
    QVERIFY(near(base.meanBestMedianCorrelation, 0.27));
    QVERIFY(near(base.semBestMedianCorrelation, sem(0.0009 + 0.0001 + 0.0004)));
    // One model: its own values, and no standard error.
    const LaunchPredictivity& neural = report.launches[1];
    QCOMPARE(neural.meanTestAccuracy, 0.70);
    QCOMPARE(neural.meanBestMedianCorrelation, 0.20);
    QVERIFY(std::isnan(neural.semTestAccuracy) && std::isnan(neural.layers[1].semMedianCorrelation) &&
            std::isnan(neural.semBestMedianCorrelation));

    const nlohmann::json json = toJson(report).at("launches");
    QCOMPARE(json.size(), std::size_t{2});
    QCOMPARE(json[0].at("seeds"), nlohmann::json({1, 2, 3}));
    QVERIFY(near(json[0].at("layers")[1].at("mean_normalized_median_r").get<double>(), 0.5));
    QVERIFY(json[1].at("sem_best_median_r").is_null());

    const std::filesystem::path table = scratch_ / "launches.csv";
    writePredictivityLaunchTable(report, table);
    const std::string text = readTextFile(table);
    // Two launches of two taps each, and the header.
    QCOMPARE(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')), std::size_t{5});
    QVERIFY(text.rfind("launch,models,seeds,mean_test_accuracy,sem_test_accuracy,tap,mean_median_r,sem_median_r,"
                       "mean_normalized_median_r,sem_normalized_median_r,mean_best_median_r,sem_best_median_r\n"
                       "base,3,1;2;3,0.85,",
                       0) == 0);
    QVERIFY(text.find("\nneural,1,1,0.7,,stem,0.2,,0.4,,0.2,\n") != std::string::npos);
  }

  void configsAreStrictAndRoundTrip() {
    const PredictivityConfig config =
        predictivityConfigFromJson({{"method", "ridge"}, {"lambda", 0.5}, {"folds", 3}, {"pool_size", 1}});
    QCOMPARE(config.method, ReadoutMethod::Ridge);
    QCOMPARE(config.folds, 3);
    QCOMPARE(config.components, 25);
    const PredictivityConfig back = predictivityConfigFromJson(toJson(config));
    QCOMPARE(back.lambda, 0.5);
    QCOMPARE(back.poolSize, 1);

    const auto failsNaming = [](const nlohmann::json& json, const std::string& key) {
      try {
        validate(predictivityConfigFromJson(json));
      } catch (const Error& error) {
        return std::string(error.what()).find(key) != std::string::npos;
      }
      return false;
    };
    QVERIFY(failsNaming({{"fold", 3}}, "fold"));
    QVERIFY(failsNaming({{"method", "lasso"}}, "method"));
    QVERIFY(failsNaming({{"components", "many"}}, "components"));
    QVERIFY(failsNaming({{"folds", 1}}, "folds"));
    QVERIFY(failsNaming({{"lambda", -1.0}}, "lambda"));
  }

 private:
  // The finished run of a small ResNet trained one epoch on 12x12 stripes (one seed), trained on
  // first use and shared by the slots that need a run.
  const std::vector<RunRecord>& stripesRuns() {
    if (!runs_.empty()) return runs_;
    const std::filesystem::path data = scratch_ / "stripes";
    std::filesystem::create_directories(data);
    test::writeStripedIdxSplit(data, "train", 60, 1, 12);
    test::writeStripedIdxSplit(data, "t10k", 30, 2, 12);
    ClassifierTrainingConfig training;
    training.name = "stripes";
    training.data.path = data.string();
    training.data.validationFraction = 0.0;
    training.model.architecture = ClassifierArchitecture::SmallResNet;
    training.model.width = 4;
    training.model.classCount = 3;
    training.model.imageMean = {0.5f};
    training.model.imageStd = {0.25f};
    training.epochs = 1;
    training.batchSize = 30;
    training.seeds = {1};
    runs_ = trainRuns(training, scratch_ / "runs", false);
    return runs_;
  }

  test::ScratchDir scratch_;
  std::vector<RunRecord> runs_;
};

BRAINPRIOR_TEST_CLASS(TestPredictivity)
#include "test_predictivity.moc"
