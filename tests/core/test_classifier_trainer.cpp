// Brain-regularized classifier training on a tiny synthetic image set (12x12 stripes in three
// orientations, written as IDX files): training beats chance, the run folder holds its files,
// a resumed run repeats the uninterrupted curve, the target controls, a non-finite loss and a
// cancel stop cleanly, and the registry lists the runs.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/utils.h>

#include "classifiers/classifier_trainer.h"
#include "classifiers/regularization_target.h"
#include "classifiers/run_folder.h"
#include "test_registry.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "data/hdf5_file.h"
#include "rsa/matrix_file.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "striped_images.h"
#include "test_support.h"

using namespace bp;

namespace {

constexpr int kSide = 12;

ClassifierTrainingConfig baseConfig(const std::filesystem::path& data) {
  ClassifierTrainingConfig config = classifierTrainingConfigFromJson(test::stripedTrainingConfig(data, ""));
  config.data.validationFraction = 0.1;
  config.epochs = 3;
  return config;
}

// A target over the first `count` train images: 0.8 within a class, -0.3 between classes.
void writeClassTarget(const std::filesystem::path& file, int count) {
  SimilarityMatrix matrix;
  matrix.size = count;
  for (int a = 0; a < count; ++a) {
    matrix.imageIds.push_back(a);
    for (int b = 0; b < count; ++b) matrix.values.push_back(a == b ? 1.0f : (a % 3 == b % 3 ? 0.8f : -0.3f));
  }
  writeSimilarityMatrix(matrix, file);
}

ClassifierTrainingConfig neuralConfig(const std::filesystem::path& data, const std::filesystem::path& target) {
  ClassifierTrainingConfig config = baseConfig(data);
  config.regularizer.kind = RegularizerKind::NeuralSimilarity;
  config.regularizer.alpha = 2.0;
  config.regularizer.pairBatchSize = 8;
  config.regularizer.target.matrixFile = target.string();
  config.regularizer.target.images.maxImages = 48;
  return config;
}

bool closeRelative(double a, double b, double tolerance) {
  return std::abs(a - b) <= tolerance * std::max({1.0, std::abs(a), std::abs(b)});
}

}  // namespace

class TestClassifierTrainer : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    initializeRuntime();
    data_ = scratch_ / "stripes";
    std::filesystem::create_directories(data_);
    test::writeStripedIdxSplit(data_, "train", 240, 1, kSide);
    test::writeStripedIdxSplit(data_, "t10k", 90, 2, kSide);
    target_ = scratch_ / "target.h5";
    writeClassTarget(target_, 48);
  }

  void configRoundTripsAndNamesBadKeys() {
    ClassifierTrainingConfig config = neuralConfig(data_, target_);
    config.seeds = {1, 2, 3};
    config.regularizer.target.threshold = 0.8;
    config.regularizer.target.shuffled = true;
    config.schedule.kind = ScheduleKind::Cyclic;
    const nlohmann::json json = toJson(config);
    QCOMPARE(toJson(classifierTrainingConfigFromJson(json)), json);
    QCOMPARE(classifierTrainingConfigFromJson(nlohmann::json::object()).regularizer.alpha, 20.0);
    QCOMPARE(classifierTrainingConfigFromJson(nlohmann::json::object()).data.validationFraction, 0.01);
    try {
      classifierTrainingConfigFromJson({{"regularizer", {{"alpah", 3}}}});
      QFAIL("an unknown key was accepted");
    } catch (const Error& error) {
      QVERIFY2(std::string(error.what()).find("alpah") != std::string::npos, error.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, classifierTrainingConfigFromJson({{"regularizer", {{"kind", "brain"}}}}));
    QVERIFY_THROWS_EXCEPTION(Error, classifierTrainingConfigFromJson({{"epochs", "ten"}}));
    ClassifierTrainingConfig invalid = baseConfig(data_);
    invalid.regularizer.kind = RegularizerKind::Harmonization;
    QVERIFY_THROWS_EXCEPTION(Error, validate(invalid));  // no importance maps
  }

  void anAlphaSweepPlansOneLaunchPerAlphaAndSeed() {
    ClassifierTrainingConfig config = neuralConfig(data_, target_);
    config.name = "neural";
    config.seeds = {1, 2};
    config.alphas = {0.5, 20};
    QCOMPARE(toJson(classifierTrainingConfigFromJson(toJson(config))), toJson(config));
    const std::vector<PlannedRun> runs = plannedRuns(config, "out");
    QCOMPARE(runs.size(), std::size_t{4});
    const std::vector<std::string> folders = {"out/neural-alpha0.5-seed1", "out/neural-alpha0.5-seed2",
                                              "out/neural-alpha20-seed1", "out/neural-alpha20-seed2"};
    for (std::size_t i = 0; i < runs.size(); ++i) {
      QCOMPARE(runs[i].folder.string(), folders[i]);
      // Each run's own config: one alpha, one seed, no sweep left, so that a resume compares alike.
      QCOMPARE(runs[i].config.regularizer.alpha, i < 2 ? 0.5 : 20.0);
      QCOMPARE(runs[i].config.seed, std::uint64_t{i % 2 + 1});
      QVERIFY(runs[i].config.alphas.empty() && runs[i].config.seeds.empty());
    }
    // Without a sweep: the config's own launch.
    QCOMPARE(plannedRuns(neuralConfig(data_, target_), "out").front().config.regularizer.alpha, 2.0);

    ClassifierTrainingConfig plain = baseConfig(data_);
    plain.alphas = {1.0};
    QVERIFY_THROWS_EXCEPTION(Error, validate(plain));  // alpha belongs to neural similarity
    config.alphas = {2, 2};
    try {
      validate(config);
      QFAIL("a sweep naming one alpha twice was accepted");
    } catch (const Error& error) {
      QVERIFY2(std::string(error.what()).find("names alpha 2 twice") != std::string::npos, error.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, classifierTrainingConfigFromJson({{"alphas", {1, "two"}}}));
  }

  void learningRateSchedulesFollowTheirFormulas() {
    LearningRateSchedule cyclic;  // defaults: x0.3 every 4 epochs, cycles of 20
    QCOMPARE(learningRateAt(0.1, cyclic, 1, 40), 0.1);
    QCOMPARE(learningRateAt(0.1, cyclic, 4, 40), 0.1);
    QVERIFY(closeRelative(learningRateAt(0.1, cyclic, 5, 40), 0.03, 1e-12));
    QVERIFY(closeRelative(learningRateAt(0.1, cyclic, 20, 40), 0.1 * std::pow(0.3, 4), 1e-12));
    QCOMPARE(learningRateAt(0.1, cyclic, 21, 40), 0.1);
    LearningRateSchedule step;
    step.kind = ScheduleKind::Step;
    step.stepEpochs = 10;
    step.factor = 0.5;
    QVERIFY(closeRelative(learningRateAt(1.0, step, 25, 40), 0.25, 1e-12));
    LearningRateSchedule cosine;
    cosine.kind = ScheduleKind::Cosine;
    QCOMPARE(learningRateAt(1.0, cosine, 1, 10), 1.0);
    QVERIFY(closeRelative(learningRateAt(1.0, cosine, 6, 10), 0.5, 1e-12));
  }

  void trainsAboveChanceAndWritesTheRunFolder() {
    const ClassifierTrainingConfig config = baseConfig(data_);
    const std::filesystem::path folder = scratch_ / "runs" / runFolderName(config, config.seed);
    const RunRecord record = trainRun(config, folder, /*resume=*/false);
    QCOMPARE(record.state, RunState::Finished);
    QCOMPARE(record.epochsDone, 3);
    QVERIFY2(record.testAccuracy > 0.6, std::to_string(record.testAccuracy).c_str());  // chance: 1/3
    for (const char* file : {"config.json", "log.txt", "metrics.csv", "checkpoint.pt", "model.pt", "summary.json"})
      QVERIFY2(std::filesystem::exists(folder / file), file);

    std::ifstream metrics(folder / "metrics.csv");
    std::string header;
    std::getline(metrics, header);
    QVERIFY(header.find("classification_loss") != std::string::npos);
    QVERIFY(header.find("test_accuracy") != std::string::npos);
    int rows = 0;
    for (std::string line; std::getline(metrics, line);) ++rows;
    QCOMPARE(rows, 3);

    const nlohmann::json& summary = record.summary;
    QCOMPARE(summary.at("seed").get<int>(), 1);
    QCOMPARE(summary.at("runtime").at("device").get<std::string>(), runtimeInfo().device);
    QVERIFY(summary.at("runtime").at("versions").contains("libtorch"));
    QVERIFY(summary.at("timing").at("seconds").get<double>() > 0.0);
    QCOMPARE(summary.at("config").at("epochs").get<int>(), 3);

    // The saved model classifies the test images as the run reported.
    TrainedClassifier trained = loadRunModel(folder);
    QCOMPARE(trained.classNames.size(), std::size_t{10});  // IDX files name 10 classes
    const ClassifierTrainingData data = loadClassifierTrainingData(config, config.seed);
    QCOMPARE(data.trainImages.size(0) + data.validationImages.size(0), std::int64_t{240});
    QCOMPARE(data.validationImages.size(0), std::int64_t{24});
    const double accuracy = classifierAccuracy(trained.model, data.testImages, data.testLabels);
    QVERIFY(closeRelative(accuracy, record.testAccuracy, 1e-9));

    // A second launch into the same folder is refused unless it resumes; a resume with another
    // config is refused before it touches the run.
    QVERIFY_THROWS_EXCEPTION(Error, trainRun(config, folder, /*resume=*/false));
    ClassifierTrainingConfig changed = config;
    changed.optimizer.learningRate = 0.01;
    try {
      trainRun(changed, folder, /*resume=*/true);
      QFAIL("a resume with another learning rate was accepted");
    } catch (const FileError& error) {
      QVERIFY2(std::string(error.what()).find("/config/optimizer/learning_rate") != std::string::npos, error.what());
    }
    QCOMPARE(readRun(folder).state, RunState::Finished);
    QCOMPARE(nlohmann::json::parse(test::readBytes(folder / "config.json"))
                 .at("optimizer")
                 .at("learning_rate")
                 .get<double>(),
             0.05);
    // A resume of a finished run with more epochs continues it.
    ClassifierTrainingConfig longer = config;
    longer.epochs = 4;
    const RunRecord extended = trainRun(longer, folder, /*resume=*/true);
    QCOMPARE(extended.state, RunState::Finished);
    QCOMPARE(extended.epochsDone, 4);
    QCOMPARE(extended.summary.at("resumed_after_epoch").get<int>(), 3);
  }

  void neuralSimilarityTrainsWithLearnedLayerWeights() {
    const ClassifierTrainingConfig config = neuralConfig(data_, target_);
    const ClassifierTrainingResult result = trainClassifier(config);
    QCOMPARE(result.targetImages, std::int64_t{48});
    QCOMPARE(result.history.size(), std::size_t{3});
    for (const auto& report : result.history) {
      QVERIFY(report.regularizationLoss > 0.0);
      QVERIFY(closeRelative(report.totalLoss, report.classificationLoss + 2.0 * report.regularizationLoss, 1e-6));
      QCOMPARE(report.gamma.size(), std::size_t{4});  // stem and three stages
      double sum = 0.0;
      for (const double gamma : report.gamma) sum += gamma;
      QVERIFY(closeRelative(sum, 1.0, 1e-6));
    }
    // The layer weights learn (they start equal).
    QVERIFY(std::abs(result.history.back().gamma.front() - 0.25) > 1e-6);
    QVERIFY(result.testAccuracy > 0.5);
  }

  void aRunRecordsWhetherItsTargetIsSaturated() {
    // Signs only: +-0.999 by class, which a run must say before its figures are read as a finding.
    SimilarityMatrix signs;
    signs.size = 48;
    for (int a = 0; a < 48; ++a) {
      signs.imageIds.push_back(a);
      for (int b = 0; b < 48; ++b) signs.values.push_back(a == b ? 1.0F : (a % 3 == b % 3 ? 0.999F : -0.999F));
    }
    writeSimilarityMatrix(signs, scratch_ / "signs.h5");
    ClassifierTrainingConfig config = neuralConfig(data_, scratch_ / "signs.h5");
    config.epochs = 1;
    config.name = "saturated";
    // Not in "runs", whose listing another test counts.
    const std::filesystem::path folder = scratch_ / "target-runs" / runFolderName(config, config.seed);
    const RunRecord record = trainRun(config, folder, /*resume=*/false);
    QVERIFY2(record.targetWarning.find("saturated: 100% of its pairs") != std::string::npos, record.targetWarning.c_str());
    QCOMPARE(record.summary.at("target_distribution").at("near_one_share").get<double>(), 1.0);
    QVERIFY(test::readBytes(folder / "log.txt").find("warning: the target is not a structure to train towards: the matrix is saturated") != std::string::npos);
    QCOMPARE(compareRuns({record}).front().targetWarning, record.targetWarning);
    // Every pair at the clamp: alpha 2 x atanh(0.999)^2 = 28.9, far above ln(classes).
    const nlohmann::json& scale = record.summary.at("regularizer_scale");
    QVERIFY(closeRelative(scale.at("alpha_times_mean_squared_atanh").get<double>(), 2.0 * std::pow(std::atanh(0.999), 2),
                          1e-5));
    QVERIFY(test::readBytes(folder / "log.txt").find("warning: the regularizer starts") != std::string::npos);

    // A graded target is recorded without a warning.
    const ClassifierTrainingConfig graded = [&] {
      ClassifierTrainingConfig c = neuralConfig(data_, target_);
      c.epochs = 1;
      c.name = "graded";
      return c;
    }();
    const RunRecord healthy = trainRun(graded, scratch_ / "target-runs" / runFolderName(graded, graded.seed), false);
    QVERIFY(healthy.targetWarning.empty());
    QCOMPARE(healthy.summary.at("target_distribution").at("near_one_share").get<double>(), 0.0);
  }

  void targetControlsChangeTheTargetOnly() {
    RegularizationTargetConfig config;
    config.matrixFile = target_.string();
    config.images.maxImages = 48;
    const RegularizationTarget original = loadRegularizationTarget(config, data_.string(), true, 7);
    config.shuffled = true;
    const RegularizationTarget shuffled = loadRegularizationTarget(config, data_.string(), true, 7);
    QVERIFY(torch::equal(shuffled.images, original.images));
    QVERIFY(!torch::equal(shuffled.similarity, original.similarity));
    QVERIFY(torch::equal(shuffled.similarity, permuteSimilarity(original.similarity, shuffledImageOrder(48, 7))));
    QVERIFY(shuffled.description.find("shuffled") != std::string::npos);

    config.shuffled = false;
    config.threshold = 0.5;
    const RegularizationTarget thresholded = loadRegularizationTarget(config, data_.string(), true, 7);
    QVERIFY(((thresholded.similarity.abs() == 1) | (thresholded.similarity == 0)).all().item<bool>());
    QCOMPARE(thresholded.similarity[0][3].item<float>(), 1.0f);  // 0.8 within a class
    QCOMPARE(thresholded.similarity[0][1].item<float>(), 0.0f);  // -0.3 between classes

    RegularizationTargetConfig pixel;
    pixel.source = TargetSource::Pixel;
    pixel.images.maxImages = 30;
    const RegularizationTarget pixels = loadRegularizationTarget(pixel, data_.string(), true, 7);
    QCOMPARE(pixels.size(), std::int64_t{30});
    QVERIFY(torch::allclose(pixels.similarity.diagonal(), torch::ones({30}), 1e-4, 1e-4));
    QVERIFY(torch::allclose(pixels.similarity, pixels.similarity.t()));
    QVERIFY((pixels.similarity.abs() <= 1.0001).all().item<bool>());

    // Image ids beyond the image dataset name the problem.
    config.threshold.reset();
    config.images.maxImages = 20;
    QVERIFY_THROWS_EXCEPTION(FileError, loadRegularizationTarget(config, data_.string(), true, 7));
  }

  void resumedRunRepeatsTheUninterruptedCurve() {
    ClassifierTrainingConfig config = neuralConfig(data_, target_);
    config.schedule.kind = ScheduleKind::Step;
    config.schedule.stepEpochs = 2;
    config.schedule.factor = 0.5;
    const ClassifierTrainingData data = loadClassifierTrainingData(config, config.seed);

    ClassifierFitControl straight;
    straight.checkpoint = scratch_ / "straight.pt";
    const ClassifierTrainingResult uninterrupted = trainClassifier(config, data, {}, {}, straight);

    // Cancelled after epoch 2 (the next batch notices), then resumed.
    ClassifierFitControl interrupted;
    interrupted.checkpoint = scratch_ / "interrupted.pt";
    auto cancel = std::make_shared<CancelToken>();
    QVERIFY_THROWS_EXCEPTION(CancelledError, trainClassifier(
                                                 config, data, Job({}, cancel),
                                                 [&](const ClassifierEpochReport& report) {
                                                   if (report.epoch == 2) cancel->cancel();
                                                 },
                                                 interrupted));
    QCOMPARE(readClassifierCheckpointInfo(interrupted.checkpoint).epoch, 2);
    interrupted.resume = true;
    const ClassifierTrainingResult resumed = trainClassifier(config, data, {}, {}, interrupted);
    QCOMPARE(resumed.resumedAfterEpoch, 2);
    QCOMPARE(resumed.history.size(), uninterrupted.history.size());
    for (std::size_t e = 0; e < resumed.history.size(); ++e) {
      const auto& a = uninterrupted.history[e];
      const auto& b = resumed.history[e];
      QVERIFY2(closeRelative(a.totalLoss, b.totalLoss, 1e-4),
               (std::to_string(a.totalLoss) + " vs " + std::to_string(b.totalLoss)).c_str());
      QVERIFY(closeRelative(a.classificationLoss, b.classificationLoss, 1e-4));
      QVERIFY(closeRelative(a.regularizationLoss, b.regularizationLoss, 1e-4));
      QVERIFY(closeRelative(a.testAccuracy, b.testAccuracy, 1e-4));
      QCOMPARE(a.learningRate, b.learningRate);
      for (std::size_t t = 0; t < a.gamma.size(); ++t) QVERIFY(closeRelative(a.gamma[t], b.gamma[t], 1e-4));
    }

    // A checkpoint of another config is refused.
    ClassifierTrainingConfig other = config;
    other.regularizer.alpha = 3.0;
    try {
      trainClassifier(other, data, {}, {}, interrupted);
      QFAIL("a checkpoint of another config was accepted");
    } catch (const FileError& error) {
      QVERIFY2(std::string(error.what()).find("/config/regularizer/alpha") != std::string::npos, error.what());
    }
  }

  void nonFiniteLossStopsWithClearErrorAndKeepsTheCheckpoint() {
    ClassifierTrainingConfig config = baseConfig(data_);
    config.name = "exploding";
    // Epoch 1 at 0.05, then 5e28: the weights blow up within a few steps.
    config.schedule.kind = ScheduleKind::Step;
    config.schedule.stepEpochs = 1;
    config.schedule.factor = 1e30;
    const std::filesystem::path folder = scratch_ / "runs" / runFolderName(config, config.seed);
    try {
      trainRun(config, folder, false);
      QFAIL("a run with an exploding learning rate finished");
    } catch (const CancelledError&) {
      QFAIL("not a cancellation");
    } catch (const Error& error) {
      const std::string message = error.what();
      QVERIFY2(message.find("not finite") != std::string::npos, message.c_str());
      QVERIFY2(message.find("epoch 2") != std::string::npos, message.c_str());
      QVERIFY2(message.find("keeps epoch 1") != std::string::npos, message.c_str());
    }
    QCOMPARE(readClassifierCheckpointInfo(folder / "checkpoint.pt").epoch, 1);
    const RunRecord record = readRun(folder);
    QCOMPARE(record.state, RunState::Failed);
    QVERIFY(record.error.find("not finite") != std::string::npos);
    QVERIFY(!std::filesystem::exists(folder / "model.pt"));
    QVERIFY_THROWS_EXCEPTION(FileError, loadRunModel(folder));
  }

  void cancelInsideAnEpochThrowsCancelledError() {
    ClassifierTrainingConfig config = baseConfig(data_);
    config.name = "cancelled";
    auto cancel = std::make_shared<CancelToken>();
    int batches = 0;
    // Cancelled from the progress of the second batch: the third batch never starts.
    const Job job(
        [&](double, const std::string& message) {
          if (message.find("batch") != std::string::npos && ++batches == 2) cancel->cancel();
        },
        cancel);
    const std::filesystem::path folder = scratch_ / "runs" / runFolderName(config, config.seed);
    QVERIFY_THROWS_EXCEPTION(CancelledError, trainRun(config, folder, false, job));
    QCOMPARE(batches, 2);
    QCOMPARE(readRun(folder).state, RunState::Cancelled);
    QVERIFY(!std::filesystem::exists(folder / "checkpoint.pt"));
  }

  void harmonizationAndNoiseBaselineTrain() {
    // Importance maps for a third of the train images (the images' centre), as 8-bit PGM files
    // (read by the same OpenCV path as PNG), plus a file that is no map.
    const std::filesystem::path maps = scratch_ / "maps";
    std::filesystem::create_directories(maps);
    std::string map = "P5\n" + std::to_string(kSide) + " " + std::to_string(kSide) + "\n255\n";
    for (int y = 0; y < kSide; ++y)
      for (int x = 0; x < kSide; ++x) map += static_cast<char>(x >= 3 && x < 9 && y >= 3 && y < 9 ? 255 : 0);
    for (int i = 0; i < 80; ++i) test::writeBytes(maps / (std::to_string(i) + ".pgm"), map);
    test::writeBytes(maps / "README.txt", "not a map");
    const ImportanceMaps loaded = loadImportanceMaps(maps, "importance_maps", 240, kSide, kSide);
    QCOMPARE(loaded.count(), std::int64_t{80});
    QCOMPARE(loaded.maps[0][5][5].item<float>(), 255.0f);

    // The same maps as HDF5 rows keyed by image_ids, at another size.
    const std::filesystem::path hdf5 = scratch_ / "maps.h5";
    {
      Hdf5File file = Hdf5File::create(hdf5);
      file.writeDataset<float>("importance_maps", std::vector<float>(2 * 24 * 24, 1.0f), {2, 24, 24});
      file.writeDataset<std::int64_t>("image_ids", {5, 9}, {2});
      file.close();
    }
    const ImportanceMaps fromHdf5 = loadImportanceMaps(hdf5, "importance_maps", 240, kSide, kSide);
    QCOMPARE(fromHdf5.count(), std::int64_t{2});
    QCOMPARE(fromHdf5.present[9].item<float>(), 1.0f);
    QCOMPARE(fromHdf5.present[0].item<float>(), 0.0f);

    ClassifierTrainingConfig harmonization = baseConfig(data_);
    harmonization.epochs = 1;
    harmonization.regularizer.kind = RegularizerKind::Harmonization;
    harmonization.regularizer.harmonization.importanceMaps = maps.string();
    harmonization.regularizer.harmonization.pyramidLevels = 3;
    const ClassifierTrainingResult harmonized = trainClassifier(harmonization);
    QVERIFY(harmonized.history.front().regularizationLoss > 0.0);
    QVERIFY(std::isfinite(harmonized.history.front().totalLoss));

    ClassifierTrainingConfig noise = baseConfig(data_);
    noise.epochs = 1;
    noise.regularizer.kind = RegularizerKind::GaussianNoiseAugmentation;
    noise.regularizer.noiseSigma = 0.2;
    const ClassifierTrainingResult noisy = trainClassifier(noise);
    QCOMPARE(noisy.history.front().regularizationLoss, 0.0);
    QVERIFY(std::isfinite(noisy.history.front().totalLoss));
  }

  void registryListsRunsAndFilters() {
    ClassifierTrainingConfig config = baseConfig(data_);
    config.name = "seeded";
    config.epochs = 1;
    config.seeds = {4, 5};
    const std::filesystem::path root = scratch_ / "runs";
    const std::vector<RunRecord> launched = trainRuns(config, root, false);
    QCOMPARE(launched.size(), std::size_t{2});
    QCOMPARE(launched[0].name, std::string("seeded-seed4"));
    QCOMPARE(launched[1].seed, std::uint64_t{5});
    // A run folder's config holds its own seed, so it can be run again alone.
    const nlohmann::json saved = nlohmann::json::parse(test::readBytes(root / "seeded-seed5" / "config.json"));
    QCOMPARE(saved.at("seed").get<int>(), 5);
    QVERIFY(saved.at("seeds").empty());

    const std::vector<RunRecord> all = listRuns(root);
    std::map<std::string, RunState> states;
    for (const auto& record : all) states[record.name] = record.state;
    QCOMPARE(states.at("seeded-seed4"), RunState::Finished);
    QCOMPARE(states.at("seeded-seed5"), RunState::Finished);
    QCOMPARE(states.at("small_resnet-none-seed1"), RunState::Finished);
    QCOMPARE(states.at("exploding-seed1"), RunState::Failed);
    QCOMPARE(states.at("cancelled-seed1"), RunState::Cancelled);
    QCOMPARE(listRuns(root, "neural_similarity").size(), std::size_t{0});
    QCOMPARE(listRuns(root, "none").size(), all.size());
    QCOMPARE(listRuns(root / "seeded-seed4").size(), std::size_t{1});  // a run folder lists itself
    const nlohmann::json json = toJson(all.front());
    QVERIFY(json.contains("state") && json.contains("test_accuracy"));

    // The summary keeps the whole curve, so a reopened run draws the same curve as the live one.
    const RunRecord reopened = readRun(root / "seeded-seed4");
    QCOMPARE(reopened.group, std::string("seeded"));
    QCOMPARE(reopened.history.size(), launched[0].history.size());
    QCOMPARE(reopened.history.size(), std::size_t{1});
    QCOMPARE(reopened.history.front().testAccuracy, launched[0].testAccuracy);
    QCOMPARE(reopened.device, std::string("cpu"));

    // Side by side: one group per launch, statistics over its finished seeds only.
    const std::vector<RunGroup> groups = compareRuns(all);
    const auto groupNamed = [&](const std::string& name) {
      const auto found = std::find_if(groups.begin(), groups.end(), [&](const RunGroup& g) { return g.name == name; });
      if (found == groups.end()) QTest::qFail(("no group " + name).c_str(), __FILE__, __LINE__);
      return *found;
    };
    const RunGroup seeded = groupNamed("seeded");
    QCOMPARE(seeded.runs, 2);
    QCOMPARE(seeded.finished, 2);
    QCOMPARE(seeded.finishedSeeds, (std::vector<std::uint64_t>{4, 5}));
    const double a = launched[0].testAccuracy, b = launched[1].testAccuracy;
    QVERIFY(std::abs(seeded.meanTestAccuracy - (a + b) / 2) < 1e-12);
    QVERIFY(std::abs(seeded.sdTestAccuracy - std::abs(a - b) / std::sqrt(2.0)) < 1e-12);
    QCOMPARE(seeded.minTestAccuracy, std::min(a, b));
    const RunGroup failed = groupNamed("exploding");
    QCOMPARE(failed.runs, 1);
    QCOMPARE(failed.finished, 0);
    QVERIFY(std::isnan(failed.meanTestAccuracy) && std::isnan(failed.sdTestAccuracy));
    QVERIFY(std::isnan(groupNamed("small_resnet-none").sdTestAccuracy));  // one seed: no spread
    QVERIFY(toJson(failed).at("mean_test_accuracy").is_null());
  }

 private:
  test::ScratchDir scratch_;
  std::filesystem::path data_;
  std::filesystem::path target_;
};

BRAINPRIOR_TEST_CLASS(TestClassifierTrainer)
#include "test_classifier_trainer.moc"
