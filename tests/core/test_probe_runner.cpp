// The probe of training runs: two seeds of one small ResNet launch on 12x12 stripes, probed with a
// cheap config. Clean accuracy and the curves' clean points agree with classifierAccuracy on the
// same first test images, the launch's means are the means of its models, medians and failure counts
// agree, unfinished runs and runs on other images are refused by name, cancellation stops it, the
// CSV table has one row per model and per launch, and with importance maps the alignment score is
// alignmentScore of the models' saliency on exactly the images that have a map. The report folder
// holds report.json (with the skipped runs) and the table, or nothing without an output folder.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/torch.h>

#include "classifiers/classifier_trainer.h"
#include "classifiers/harmonization.h"
#include "classifiers/regularization_target.h"
#include "classifiers/run_folder.h"
#include "data/dataset_io.h"
#include "probing/alpha_trade_off.h"
#include "probing/probe_runner.h"
#include "test_registry.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "alpha_sweep_report.h"
#include "striped_images.h"
#include "test_support.h"

using namespace bp;

namespace {

constexpr std::int64_t kProbeImages = 30;

ClassifierTrainingConfig stripesLaunch(const std::filesystem::path& data) {
  ClassifierTrainingConfig config = classifierTrainingConfigFromJson(test::stripedTrainingConfig(data));
  config.epochs = 2;
  config.seeds = {1, 2};
  return config;
}

// Every part of the probe, each as cheap as it goes.
ProbeConfig cheapProbe() {
  ProbeConfig config;
  config.maxImages = kProbeImages;
  config.batchSize = 16;
  CorruptionSweepConfig noise;
  noise.severities = {0.0, 0.1, 0.3};
  noise.seed = 3;
  config.corruptions = {noise};
  for (auto& search : config.minimumNormSearches) {
    search.pgd.steps = 3;
    search.searchSteps = 3;
  }
  config.boundary.steps = 20;
  config.boundary.startTrials = 10;
  SuccessCurveConfig curve;
  curve.attack.steps = 3;
  curve.epsilons = {0.0, 0.05};
  config.successCurves = {curve};
  return config;
}

// Clean accuracy only: the cheapest probe there is.
ProbeConfig cleanAccuracyProbe() {
  ProbeConfig config;
  config.maxImages = kProbeImages;
  config.batchSize = 16;
  config.corruptions.clear();
  config.minimumNormSearches.clear();
  config.boundaryAttack = false;
  config.successCurves.clear();
  return config;
}

// A copy of `run` named `name` whose summary.json is changed by `edit`.
std::filesystem::path editedCopy(const std::filesystem::path& run, const std::filesystem::path& parent,
                                 const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
  const std::filesystem::path copy = parent / name;
  std::filesystem::copy(run, copy, std::filesystem::copy_options::recursive);
  nlohmann::json summary = nlohmann::json::parse(readTextFile(copy / "summary.json"));
  edit(summary);
  writeFileAtomically(copy / "summary.json", summary.dump(2));
  return copy;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) result.push_back(line);
  return result;
}

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> result;
  std::istringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) result.push_back(cell);
  if (!line.empty() && line.back() == ',') result.emplace_back();
  return result;
}

}  // namespace

class TestProbeRunner : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    initializeRuntime();
    data_ = scratch_ / "stripes";
    std::filesystem::create_directories(data_);
    test::writeStripedIdxSplit(data_, "train", 120, 1, 12);
    test::writeStripedIdxSplit(data_, "t10k", 45, 2, 12);
    for (const auto& record : trainRuns(stripesLaunch(data_), scratch_ / "runs", false)) runs_.push_back(record.folder);
    QCOMPARE(runs_.size(), std::size_t{2});
    report_ = probeRuns(runs_, cheapProbe());
  }

  void probesTheFirstTestImagesOfEveryRun() {
    QCOMPARE(report_.images.count, kProbeImages);
    QCOMPARE(report_.images.shape, (std::vector<std::int64_t>{1, 12, 12}));
    QCOMPARE(report_.images.classesPresent, 3);
    QVERIFY(report_.warnings.empty());
    QCOMPARE(report_.models.size(), std::size_t{2});
    QCOMPARE(report_.models[0].name, std::string("stripes-seed1"));
    QCOMPARE(report_.models[1].seed, std::uint64_t{2});
    QCOMPARE(report_.runtime.device, runtimeInfo().device);
  }

  void cleanAccuracyIsTheClassifierAccuracyOnTheSameImages() {
    ImageLoadOptions options;
    options.grayscale = true;
    options.maxImages = kProbeImages;
    ImageDataset test = loadImageDataset(data_, options, "test");
    const torch::Tensor images = torch::from_blob(test.pixels.data(), {kProbeImages, 1, 12, 12}, torch::kFloat).clone();
    const torch::Tensor labels = torch::from_blob(test.labels.data(), {kProbeImages}, torch::kInt).to(torch::kLong);
    for (std::size_t i = 0; i < runs_.size(); ++i) {
      TrainedClassifier trained = loadRunModel(runs_[i]);
      const ModelProbe& probe = report_.models[i];
      QCOMPARE(probe.cleanAccuracy, classifierAccuracy(trained.model, images, labels));
      // The sweep's clean point is the same images uncorrupted.
      QCOMPARE(probe.corruptions.at(0).severities.at(0), 0.0);
      QCOMPARE(probe.corruptions.at(0).accuracies.at(0), probe.cleanAccuracy);
      QCOMPARE(probe.corruptions.at(0).images, kProbeImages);
    }
  }

  void launchSummaryIsTheMeanOfItsModels() {
    QCOMPARE(report_.launches.size(), std::size_t{1});
    const LaunchProbe& launch = report_.launches[0];
    QCOMPARE(launch.name, std::string("stripes"));
    QCOMPARE(launch.seeds, (std::vector<std::uint64_t>{1, 2}));
    const ModelProbe& a = report_.models[0];
    const ModelProbe& b = report_.models[1];
    QVERIFY(std::abs(launch.meanCleanAccuracy - (a.cleanAccuracy + b.cleanAccuracy) / 2) < 1e-12);
    const CorruptionCurveSummary& curve = launch.corruptions.at(0);
    QCOMPARE(curve.curves, std::int64_t{2});
    for (std::size_t i = 0; i < curve.severities.size(); ++i)
      QVERIFY(std::abs(curve.meanAccuracies[i] -
                       (a.corruptions[0].accuracies[i] + b.corruptions[0].accuracies[i]) / 2) < 1e-12);
    QVERIFY(std::abs(launch.meanCorruptionAreas[0] - (a.corruptionAreas[0] + b.corruptionAreas[0]) / 2) < 1e-12);
    QVERIFY(std::isfinite(launch.semCorruptionAreas[0]));
    // The launch says what it is, for the trade-off over alpha: a plain run has no alpha.
    QCOMPARE(launch.regularizer, a.regularizer);
    QVERIFY(std::isnan(launch.alpha));
  }

  void alphaTradeOffJoinsEachTargetsLaunchesInIncreasingAlpha() {
    const nlohmann::json report = test::alphaSweepProbeReport();
    const auto areas = alphaTradeOff(report, {AlphaTradeOffMeasure::Kind::CorruptionArea, 0});
    QCOMPARE(areas.size(), std::size_t{3});
    QCOMPARE(areas[0].name, std::string("baseline"));
    QCOMPARE(areas[0].points.size(), std::size_t{1});
    QVERIFY(std::isnan(areas[0].points[0].alpha));
    QCOMPARE(areas[1].name, std::string("neural_similarity"));
    QCOMPARE(areas[2].name, std::string("shuffled control"));
    // The neural launches came as alpha 2, then 0.5: joined in increasing alpha.
    QCOMPARE(areas[1].points.size(), std::size_t{2});
    QCOMPARE(areas[1].points[0].alpha, 0.5);
    QCOMPARE(areas[1].points[0].clean, 0.79);
    QCOMPARE(areas[1].points[0].robustness, 0.48);
    QCOMPARE(areas[1].points[1].robustness, 0.55);
    QCOMPARE(areas[1].points[1].robustnessSem, 0.02);
    const auto l2 = alphaTradeOff(report, {AlphaTradeOffMeasure::Kind::MedianNorm, 0});
    QCOMPARE(l2[2].points[1].robustness, 0.49);
    QCOMPARE(l2[2].points[1].robustnessSem, 0.03);
    // One alpha per target is no sweep: nothing to draw.
    nlohmann::json single = report;
    single["launches"].erase(4);
    single["launches"].erase(2);
    QVERIFY(alphaTradeOff(single, {AlphaTradeOffMeasure::Kind::CorruptionArea, 0}).empty());
    QVERIFY_THROWS_EXCEPTION(Error, alphaTradeOff(report, {AlphaTradeOffMeasure::Kind::CorruptionArea, 3}));
  }

  void curveAreaIsTheMeanAccuracyOverTheSeverityRange() {
    CorruptionCurve curve;
    curve.severities = {0.2, 0.0, 0.1};  // in any order
    curve.accuracies = {0.2, 1.0, 0.6};
    // Trapezoids 0.1 * (1.0 + 0.6) / 2 + 0.1 * (0.6 + 0.2) / 2 = 0.12 over a range of 0.2.
    QVERIFY(std::abs(normalizedCurveArea(curve) - 0.6) < 1e-12);
    curve.severities = {0.0};
    curve.accuracies = {1.0};
    QVERIFY(std::isnan(normalizedCurveArea(curve)));
    const ModelProbe& model = report_.models[0];
    QVERIFY(std::abs(model.corruptionAreas[0] - normalizedCurveArea(model.corruptions[0])) < 1e-15);
  }

  void mediansAgreeWithFailureCounts() {
    for (const ModelProbe& model : report_.models) {
      QCOMPARE(model.minimumNorms.size(), std::size_t{3});  // two PGD searches and the boundary attack
      QCOMPARE(model.minimumNorms[2].attack, std::string("boundary"));
      QCOMPARE(model.successCurves.size(), std::size_t{1});
      for (const MinimumNormSummary& summary : model.minimumNorms) {
        QCOMPARE(summary.images, kProbeImages);
        if (summary.failed == 0) QVERIFY2(std::isfinite(summary.medianEpsilon), summary.attack.c_str());
        if (2 * summary.failed > summary.images) QVERIFY2(std::isinf(summary.medianEpsilon), summary.attack.c_str());
      }
    }
    for (std::size_t attack = 0; attack < 3; ++attack) {
      const LaunchMinimumNorm& launch = report_.launches[0].minimumNorms[attack];
      const MinimumNormSummary& a = report_.models[0].minimumNorms[attack];
      const MinimumNormSummary& b = report_.models[1].minimumNorms[attack];
      QCOMPARE(launch.failed, a.failed + b.failed);
      QCOMPARE(launch.images, 2 * kProbeImages);
      if (std::isinf(a.medianEpsilon) || std::isinf(b.medianEpsilon))
        QVERIFY(std::isinf(launch.meanMedianEpsilon));
      else
        QVERIFY(std::abs(launch.meanMedianEpsilon - (a.medianEpsilon + b.medianEpsilon) / 2) < 1e-12);
    }
  }

  void reportJsonHasItsParts() {
    const nlohmann::json json = toJson(report_);
    QCOMPARE(json.at("format").get<std::string>(), std::string("brainprior probe report"));
    QCOMPARE(json.at("config").at("max_images").get<std::int64_t>(), kProbeImages);
    QVERIFY(!json.at("runtime").at("device").get<std::string>().empty());
    QCOMPARE(json.at("models").size(), std::size_t{2});
    QCOMPARE(json.at("models")[1].at("folder").get<std::string>(), runs_[1].string());
    QCOMPARE(json.at("models")[0].at("corruptions")[0].count("area"), std::size_t{1});
    QCOMPARE(json.at("launches")[0].at("seeds"), nlohmann::json({1, 2}));
    QCOMPARE(json.at("launches")[0].at("minimum_norms").size(), std::size_t{3});
  }

  void refusesUnfinishedRunsByName() {
    const std::filesystem::path unfinished = editedCopy(
        runs_[0], scratch_ / "runs", "stripes-seed9", [](nlohmann::json& summary) { summary["state"] = "cancelled"; });
    std::filesystem::remove(unfinished / "model.pt");
    try {
      probeRuns({runs_[0], unfinished}, cheapProbe());
      QFAIL("an unfinished run was probed");
    } catch (const Error& error) {
      const std::string message = error.what();
      QVERIFY2(message.find("stripes-seed9") != std::string::npos, error.what());
      QVERIFY2(message.find("cancelled") != std::string::npos, error.what());
    }
    std::filesystem::remove_all(unfinished);
  }

  void refusesRunsTrainedOnOtherImages() {
    const std::filesystem::path other = scratch_ / "other";
    std::filesystem::create_directories(other);
    test::writeStripedIdxSplit(other, "t10k", 45, 5, 12);
    const std::filesystem::path moved =
        editedCopy(runs_[1], scratch_.path(), "elsewhere-seed2",
                   [&](nlohmann::json& summary) { summary["config"]["data"]["path"] = other.string(); });
    try {
      probeRuns({runs_[0], moved}, cheapProbe());
      QFAIL("runs on different images were probed together");
    } catch (const Error& error) {
      const std::string message = error.what();
      QVERIFY2(message.find("different image sets") != std::string::npos, error.what());
      QVERIFY2(message.find("elsewhere-seed2") != std::string::npos, error.what());
    }
    QVERIFY_EXCEPTION_THROWN(probeRuns({runs_[0], runs_[0]}, cheapProbe()), Error);
    QVERIFY_EXCEPTION_THROWN(probeRuns({}, cheapProbe()), Error);
  }

  void cancelStopsTheProbe() {
    auto token = std::make_shared<CancelToken>();
    double reached = 0.0;
    // Cancelled once the first model's attacks are under way.
    const Job job(
        [&](double fraction, const std::string&) {
          reached = fraction;
          if (fraction > 0.2) token->cancel();
        },
        token);
    QVERIFY_EXCEPTION_THROWN(probeRuns(runs_, cheapProbe(), job), CancelledError);
    QVERIFY(reached < 1.0);
  }

  void alignmentScoresTheImagesWithImportanceMaps() {
    // Maps (8-bit PGM, read as PNG is) for probe images 0..11, each a bright square at its own
    // place; a constant map for image 12 (counted, but it has no ranking, so it is not scored); one
    // for image 40, beyond the probe images. Images 13..29 have none.
    const std::filesystem::path maps = scratch_ / "maps";
    std::filesystem::create_directories(maps);
    const auto pgm = [](const std::function<int(int, int)>& value) {
      std::string map = "P5\n12 12\n255\n";
      for (int y = 0; y < 12; ++y)
        for (int x = 0; x < 12; ++x) map += static_cast<char>(value(y, x));
      return map;
    };
    for (int i = 0; i < 12; ++i)
      test::writeBytes(maps / (std::to_string(i) + ".pgm"), pgm([i](int y, int x) {
                         return std::abs(y - i % 6 - 3) < 3 && std::abs(x - i / 2 - 2) < 3 ? 255 : 10 * ((x + y) % 3);
                       }));
    test::writeBytes(maps / "12.pgm", pgm([](int, int) { return 128; }));
    test::writeBytes(maps / "40.pgm", pgm([](int y, int) { return 20 * y; }));

    // Clean accuracy and the alignment only.
    ProbeConfig config = cleanAccuracyProbe();
    config.alignment.importanceMaps = maps.string();
    const ProbeReport report = probeRuns(runs_, config);
    QCOMPARE(report.images.importanceMaps, std::int64_t{13});

    ImageLoadOptions options;
    options.grayscale = true;
    options.maxImages = kProbeImages;
    ImageDataset test = loadImageDataset(data_, options, "test");
    const torch::Tensor images = torch::from_blob(test.pixels.data(), {13, 1, 12, 12}, torch::kFloat).clone();
    const torch::Tensor labels = torch::from_blob(test.labels.data(), {13}, torch::kInt).to(torch::kLong);
    const torch::Tensor humanMaps = loadImportanceMaps(maps, "importance_maps", 13, 12, 12).maps;
    const double ceiling = 1.0 / kHumanSpearmanCeiling;
    for (std::size_t i = 0; i < runs_.size(); ++i) {
      const AlignmentScore& alignment = report.models[i].alignment;
      QCOMPARE(alignment.scoredMaps, std::int64_t{12});
      QVERIFY(std::isfinite(alignment.score) && alignment.score >= -ceiling && alignment.score <= ceiling);
      QCOMPARE(alignment.score, alignment.meanSpearman / kHumanSpearmanCeiling);
      TrainedClassifier trained = loadRunModel(runs_[i]);
      trained.model->eval();
      const AlignmentScore direct = alignmentScore(alignmentSaliency(trained.model, images, labels), humanMaps);
      QVERIFY(std::abs(alignment.score - direct.score) < 1e-12);
    }
    const LaunchProbe& launch = report.launches.at(0);
    QVERIFY(std::abs(launch.meanAlignmentScore -
                     (report.models[0].alignment.score + report.models[1].alignment.score) / 2) < 1e-12);
    QVERIFY(std::isfinite(launch.semAlignmentScore));

    const nlohmann::json json = toJson(report);
    QCOMPARE(json.at("images").at("importance_maps").get<std::int64_t>(), std::int64_t{13});
    QCOMPARE(json.at("models")[0].at("alignment").at("scored_maps").get<std::int64_t>(), std::int64_t{12});
    QVERIFY(json.at("launches")[0].at("mean_alignment_score").is_number());
    const std::filesystem::path file = scratch_ / "tables" / "alignment-table.csv";
    std::filesystem::create_directories(file.parent_path());
    writeProbeTable(report, file);
    const std::vector<std::string> table = lines(readTextFile(file));
    const std::vector<std::string> header = cells(table.at(0));
    QCOMPARE(header.at(header.size() - 2), std::string("alignment_score"));
    QCOMPARE(header.back(), std::string("alignment_score_sem"));
    QVERIFY(std::abs(std::stod(cells(table.at(1)).at(header.size() - 2)) - report.models[0].alignment.score) < 1e-5);

    // Without maps there is no score, and no column for it.
    QVERIFY(std::isnan(report_.models[0].alignment.score) && std::isnan(report_.launches[0].meanAlignmentScore));
    QCOMPARE(report_.images.importanceMaps, std::int64_t{0});

    config.alignment.importanceMaps = (scratch_ / "no-maps").string();
    std::filesystem::create_directories(scratch_ / "no-maps");
    QVERIFY_THROWS_EXCEPTION(FileError, probeRuns(runs_, config));
  }

  void tableHasOneRowPerModelAndLaunch() {
    const std::filesystem::path file = scratch_ / "tables" / "probe-table.csv";
    std::filesystem::create_directories(file.parent_path());
    writeProbeTable(report_, file);
    const std::vector<std::string> table = lines(readTextFile(file));
    QCOMPARE(table.size(), std::size_t{4});  // header, two models, one launch
    const std::vector<std::string> header = cells(table[0]);
    QCOMPARE(header.at(0), std::string("row"));
    QCOMPARE(header.at(4), std::string("clean_accuracy"));
    QVERIFY(std::find(header.begin(), header.end(), "alignment_score") == header.end());  // no maps
    for (const char* column : {"gaussian_noise@0.1", "gaussian_noise@0.1_sem", "gaussian_noise_area",
                               "pgd_linf_search_median_linf", "pgd_l2_search_median_l2", "boundary_failed"})
      QVERIFY2(std::find(header.begin(), header.end(), column) != header.end(), column);
    for (std::size_t i = 1; i < table.size(); ++i) QCOMPARE(cells(table[i]).size(), header.size());
    QVERIFY(table[1].rfind("model,stripes-seed1,stripes,1,", 0) == 0);
    QVERIFY(table[3].rfind("launch,stripes,stripes,1;2,", 0) == 0);
    const std::vector<std::string> launch = cells(table[3]);
    const double meanOfRows = (std::stod(cells(table[1]).at(4)) + std::stod(cells(table[2]).at(4))) / 2;
    QVERIFY(std::abs(std::stod(launch.at(4)) - meanOfRows) < 1e-5);  // six significant digits
    QVERIFY(cells(table[1]).at(5).empty());                          // no SEM for one model
  }

  // writeProbeReportFolder over a folder of runs: copies of the two finished runs and a cancelled
  // one. The finished ones are probed (as probeRuns probes them), the cancelled one is skipped and
  // named, once, to the callback before any probing starts; report.json is the returned JSON
  // (toJson(report) with "skipped") and probe-table.csv is writeProbeTable's table. Without an output
  // folder nothing is written anywhere. A folder with no finished run and an invalid probe config
  // are refused before anything is collected or written.
  void reportFolderWritesTheReportAndTheTable() {
    const std::filesystem::path collected = scratch_ / "collected";
    std::filesystem::create_directories(collected);
    const auto unchanged = [](nlohmann::json&) {};
    const auto cancel = [](nlohmann::json& summary) { summary["state"] = "cancelled"; };
    editedCopy(runs_[0], collected, "stripes-seed1", unchanged);
    editedCopy(runs_[1], collected, "stripes-seed2", unchanged);
    const std::filesystem::path cancelled = editedCopy(runs_[0], collected, "stripes-seed3", cancel);
    const nlohmann::json expectedSkipped =
        nlohmann::json::array({{{"folder", cancelled.string()}, {"state", "cancelled"}}});

    ProbeReportFolderConfig config;
    config.runs = {collected.string()};
    config.probe = cleanAccuracyProbe();
    config.outputDir = scratch_ / "probe-report" / "nested";  // created, parents and all
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
    const ProbeReportFolder folder = writeProbeReportFolder(config, job, onRunsCollected);
    QCOMPARE(calls, 1);
    QCOMPARE(heard, expectedSkipped);
    QCOMPARE(reportsBeforeCollected, 0);  // told before the probe starts
    QVERIFY(progressReports > 0);

    // The finished runs in folder order, probed as the same models were in initTestCase.
    const ProbeReport& report = folder.report;
    QCOMPARE(report.models.size(), std::size_t{2});
    QCOMPARE(report.models[0].name, std::string("stripes-seed1"));
    QCOMPARE(report.models[1].name, std::string("stripes-seed2"));
    QCOMPARE(report.models[0].folder.string(), (collected / "stripes-seed1").string());
    QCOMPARE(report.images.count, kProbeImages);
    for (std::size_t i = 0; i < 2; ++i) QCOMPARE(report.models[i].cleanAccuracy, report_.models[i].cleanAccuracy);
    QCOMPARE(report.launches.size(), std::size_t{1});
    QCOMPARE(report.launches[0].seeds, (std::vector<std::uint64_t>{1, 2}));

    // report.json: the returned JSON, which is toJson(report) plus "skipped".
    QCOMPARE(folder.json.at("format").get<std::string>(), std::string("brainprior probe report"));
    QCOMPARE(folder.json.at("skipped"), expectedSkipped);
    nlohmann::json withoutSkipped = folder.json;
    withoutSkipped.erase("skipped");
    QCOMPARE(withoutSkipped, toJson(report));
    const std::string reportText = readTextFile(config.outputDir / "report.json");
    QVERIFY(!reportText.empty() && reportText.back() == '\n');
    QCOMPARE(nlohmann::json::parse(reportText), folder.json);

    // probe-table.csv: header, one row per model, one per launch, exactly writeProbeTable's.
    const std::string tableText = readTextFile(config.outputDir / "probe-table.csv");
    const std::vector<std::string> table = lines(tableText);
    QCOMPARE(table.size(), std::size_t{4});
    QCOMPARE(table[0], std::string("row,name,launch,seeds,clean_accuracy,clean_accuracy_sem"));
    QVERIFY(table[1].rfind("model,stripes-seed1,stripes,1,", 0) == 0);
    QVERIFY(table[2].rfind("model,stripes-seed2,stripes,2,", 0) == 0);
    QVERIFY(table[3].rfind("launch,stripes,stripes,1;2,", 0) == 0);
    const std::filesystem::path direct = scratch_ / "tables" / "direct-table.csv";
    std::filesystem::create_directories(direct.parent_path());
    writeProbeTable(report, direct);
    QCOMPARE(tableText, readTextFile(direct));

    // The two files and nothing else (no temporary left behind).
    std::vector<std::string> written;
    for (const auto& entry : std::filesystem::directory_iterator(config.outputDir))
      written.push_back(entry.path().filename().string());
    std::sort(written.begin(), written.end());
    QCOMPARE(written, (std::vector<std::string>{"probe-table.csv", "report.json"}));

    // No output folder: the report comes back and nothing is written, not even beside the working
    // directory (run from an empty one here).
    config.outputDir.clear();
    const std::filesystem::path empty = scratch_ / "empty-working-dir";
    std::filesystem::create_directories(empty);
    const std::filesystem::path workingDir = std::filesystem::current_path();
    std::filesystem::current_path(empty);
    calls = 0;
    ProbeReportFolder unwritten;
    try {
      unwritten = writeProbeReportFolder(config, Job{}, onRunsCollected);
    } catch (...) {
      std::filesystem::current_path(workingDir);
      throw;
    }
    std::filesystem::current_path(workingDir);
    QVERIFY(std::filesystem::is_empty(empty));
    QCOMPARE(calls, 1);
    QCOMPARE(unwritten.report.models.size(), std::size_t{2});
    QCOMPARE(unwritten.json.at("skipped"), expectedSkipped);
    QCOMPARE(unwritten.json.at("models").size(), std::size_t{2});

    // A folder of runs none of which finished: FileError naming it, before the callback, and no
    // output folder made.
    const std::filesystem::path unfinished = scratch_ / "unfinished";
    std::filesystem::create_directories(unfinished);
    editedCopy(runs_[1], unfinished, "stripes-seed2", cancel);
    config.runs = {unfinished.string()};
    config.outputDir = scratch_ / "refused-report";
    calls = 0;
    try {
      writeProbeReportFolder(config, Job{}, onRunsCollected);
      QFAIL("a folder without finished runs was probed");
    } catch (const FileError& error) {
      QCOMPARE(error.path(), unfinished.string());
      QVERIFY2(error.problem().find("no finished run") != std::string::npos, error.what());
    }
    QCOMPARE(calls, 0);
    QVERIFY(!std::filesystem::exists(config.outputDir));

    // An invalid probe config is refused before the runs are collected.
    config.runs = {collected.string()};
    config.probe.batchSize = 0;
    QVERIFY_THROWS_EXCEPTION(Error, writeProbeReportFolder(config, Job{}, onRunsCollected));
    QCOMPARE(calls, 0);
    QVERIFY(!std::filesystem::exists(config.outputDir));
  }

 private:
  test::ScratchDir scratch_;
  std::filesystem::path data_;
  std::vector<std::filesystem::path> runs_;
  ProbeReport report_;
};

BRAINPRIOR_TEST_CLASS(TestProbeRunner)
#include "test_probe_runner.moc"
