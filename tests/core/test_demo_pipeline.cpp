// The demo pipeline at its smallest: every step runs and narrates, leaves its files (the V1 model,
// the target, three finished launches, the probe report, demo.json), the probe compares the three
// launches; a folder that holds a demo is refused, a bad config is named, and a cancel stops it.
#include <QtTest>
#include <filesystem>
#include <functional>
#include <optional>

#include "data/default_data.h"
#include "demo/demo_pipeline.h"
#include "measures/chance_level.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "test_registry.h"
#include "test_support.h"

using namespace bp;

namespace {

DemoConfig tinyDemo(const std::filesystem::path& folder) {
  DemoConfig config;
  config.outputDir = folder;
  config.fitEpochs = 1;
  config.targetImages = 40;
  config.trainImages = 300;
  config.testImages = 60;
  config.epochs = 1;
  config.probeImages = 20;
  return config;
}

}  // namespace

class DemoPipelineTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void init() {
    if (!std::filesystem::is_directory(defaultImageSourcePath())) QSKIP("dataset-fashion-mnist is not installed");
  }

  void runsEveryStepAndKeepsItsFiles() {
    const auto folder = scratch_ / "demo";
    std::vector<std::pair<std::string, bool>> calls;
    const DemoResult result = runDemo(tinyDemo(folder), {}, [&](const DemoStep& step, bool finished) {
      calls.emplace_back(step.title, finished);
      if (finished) QVERIFY(!step.finding.empty());
    });
    QCOMPARE(result.steps.size(), std::size_t{5});
    QCOMPARE(calls.size(), std::size_t{10});
    for (std::size_t i = 0; i < calls.size(); ++i) {
      QCOMPARE(calls[i].second, i % 2 == 1);  // each step announced, then finished
      QCOMPARE(calls[i].first, result.steps[i / 2].title);
    }
    // A classifier at chance level is flagged under the training step, by name.
    const DemoStep& training = result.steps[3];
    for (const char* launch : {"demo-baseline", "demo-neural", "demo-shuffled"}) {
      const double accuracy = training.result.at(launch).at(0).get<double>();
      bool flagged = false;
      for (const std::string& warning : training.warnings) flagged = flagged || warning.rfind(launch, 0) == 0;
      QCOMPARE(flagged, isChanceLevelAccuracy(accuracy, 10, 60));
    }
    // One epoch is "after 1 epoch", not "1 epochs".
    QVERIFY2(result.steps[1].finding.find("after 1 epoch.") != std::string::npos, result.steps[1].finding.c_str());
    for (const DemoStep& step : result.steps) {
      QVERIFY(!step.narration.empty());
      QVERIFY(step.seconds >= 0.0);
    }
    for (const char* file : {"v1-model.pt", "target.h5", "probe/report.json", "probe/probe-table.csv", "demo.json"})
      QVERIFY2(std::filesystem::exists(folder / file), file);
    for (const char* run : {"demo-baseline-seed1", "demo-neural-seed1", "demo-shuffled-seed1"})
      QVERIFY2(std::filesystem::exists(folder / "runs" / run / "model.pt"), run);

    // The probe compares the three launches; the last step lists them with their figures.
    QCOMPARE(result.probe.at("launches").size(), std::size_t{3});
    QCOMPARE(result.probe.at("images").at("count").get<std::int64_t>(), 20);
    QCOMPARE(result.steps.back().result.size(), std::size_t{3});
    QCOMPARE(result.steps.back().result.at(1).at("launch").get<std::string>(), std::string("demo-neural"));
    // The target spans the configured images and passed the denoising check's computation.
    QCOMPARE(result.steps[2].result.at("images").get<std::int64_t>(), 40);
    QVERIFY(result.steps[2].result.contains("denoising_check"));

    const auto saved = nlohmann::json::parse(readTextFile(folder / "demo.json"));
    QCOMPARE(saved.at("format").get<std::string>(), std::string("brainprior demo"));
    QCOMPARE(saved.at("steps").size(), std::size_t{5});
    QCOMPARE(saved.at("config").at("probe_images").get<std::int64_t>(), 20);

    // A second demo into the same folder would mix two demos' runs.
    QVERIFY_THROWS_EXCEPTION(Error, runDemo(tinyDemo(folder)));
    finished_ = result;
  }

  void replaysAFinishedDemoFromItsFolder() {
    if (!finished_) QSKIP("needs runsEveryStepAndKeepsItsFiles' demo");
    // Moved elsewhere (a speaker copies it to the laptop), it reads back as it ran.
    const auto moved = scratch_ / "moved";
    std::filesystem::rename(finished_->config.outputDir, moved);
    const DemoResult replay = readDemoFolder(moved);
    QCOMPARE(replay.config.outputDir, moved);
    QCOMPARE(replay.config.probeImages, finished_->config.probeImages);
    QCOMPARE(replay.seconds, finished_->seconds);
    QCOMPARE(replay.steps.size(), finished_->steps.size());
    for (std::size_t i = 0; i < replay.steps.size(); ++i) {
      const DemoStep& told = replay.steps[i];
      const DemoStep& ran = finished_->steps[i];
      QCOMPARE(told.title, ran.title);
      QCOMPARE(told.narration, ran.narration);
      QCOMPARE(told.finding, ran.finding);
      QCOMPARE(told.warnings, ran.warnings);
      QCOMPARE(told.seconds, ran.seconds);
      QCOMPARE(told.result, ran.result);
    }
    QCOMPARE(replay.probe, finished_->probe);
    QCOMPARE(demoSettingsWarning(replay), demoSettingsWarning(*finished_));
    QCOMPARE(demoFiles(moved).target, moved / "target.h5");

    // What cannot be replayed says why, naming the file.
    auto problemWith = [](const std::filesystem::path& folder) -> std::string {
      try {
        readDemoFolder(folder);
      } catch (const FileError& error) {
        return error.what();
      }
      return {};
    };
    const auto original = nlohmann::json::parse(readTextFile(moved / "demo.json"));
    auto withSummary = [&](const std::string& name, const std::string& text) {
      const auto copy = scratch_ / name;
      std::filesystem::copy(moved, copy, std::filesystem::copy_options::recursive);
      writeFileAtomically(copy / "demo.json", text);
      return copy;
    };
    auto edited = [&](const std::function<void(nlohmann::json&)>& edit) {
      nlohmann::json json = original;
      edit(json);
      return json.dump();
    };
    QVERIFY(problemWith(scratch_).find("no demo.json") != std::string::npos);
    QVERIFY(problemWith(withSummary("cut", original.dump().substr(0, 200))).find("not valid JSON") != std::string::npos);
    QVERIFY(problemWith(withSummary("other", edited([](auto& j) { j["format"] = "other"; }))).find("not a BrainPrior demo") !=
            std::string::npos);
    QVERIFY(problemWith(withSummary("newer", edited([](auto& j) { j["version"] = 99; }))).find("newer") !=
            std::string::npos);
    QVERIFY(problemWith(withSummary("short", edited([](auto& j) { j["steps"].erase(4); }))).find("5 steps") !=
            std::string::npos);
    QVERIFY(problemWith(withSummary("swapped", edited([](auto& j) { std::swap(j["steps"][1], j["steps"][2]); })))
                .find("step 2 is") != std::string::npos);
    QVERIFY(problemWith(withSummary("typed", edited([](auto& j) { j["steps"][0]["warnings"] = 3; })))
                .find("warnings") != std::string::npos);
    QVERIFY(problemWith(withSummary("seconds", edited([](auto& j) { j["seconds"] = "long"; }))).find("seconds") !=
            std::string::npos);
    const auto withoutTarget = withSummary("no-target", original.dump());
    std::filesystem::remove(withoutTarget / "target.h5");
    QVERIFY(problemWith(withoutTarget).find("target.h5") != std::string::npos);
  }

  void refusesABadConfig() {
    DemoConfig config = tinyDemo(scratch_ / "bad");
    config.seeds.clear();
    try {
      runDemo(config);
      QFAIL("no error for a demo without seeds");
    } catch (const Error& error) {
      QVERIFY(std::string(error.what()).find("seeds") != std::string::npos);
    }
    QVERIFY(!std::filesystem::exists(scratch_ / "bad"));
  }

  void stopsWhenCancelled() {
    auto cancel = std::make_shared<CancelToken>();
    std::vector<std::string> finished;
    QVERIFY_THROWS_EXCEPTION(CancelledError,
                             runDemo(tinyDemo(scratch_ / "cancelled"), Job({}, cancel),
                                     [&](const DemoStep& step, bool done) {
                                       if (done) finished.push_back(step.title);
                                       // Cancel as the model fit starts: it stops at its first check.
                                       if (!done && finished.size() == 1) cancel->cancel();
                                     }));
    QCOMPARE(finished.size(), std::size_t{1});
    QVERIFY(!std::filesystem::exists(scratch_ / "cancelled" / "demo.json"));
  }

private:
  std::optional<DemoResult> finished_;  // runsEveryStepAndKeepsItsFiles' demo, replayed after it
  test::ScratchDir scratchDir_;
  std::filesystem::path scratch_ = scratchDir_.path();
};

BRAINPRIOR_TEST_CLASS(DemoPipelineTest)
#include "test_demo_pipeline.moc"
