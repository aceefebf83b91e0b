#include "probing/probe_runner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "classifiers/classifier_trainer.h"
#include "classifiers/harmonization.h"
#include "classifiers/regularization_target.h"
#include "classifiers/run_folder.h"
#include "classifiers/scripted_classifier.h"
#include "data/dataset_io.h"
#include "measures/chance_level.h"
#include "probing/seed_statistics.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/csv.h"
#include "runtime/error.h"
#include "runtime/undefined.h"

namespace bp {

namespace {

namespace fs = std::filesystem;

constexpr const char* kProbeReportFormat = "brainprior probe report";

// A model to probe: what the registry says about it and the training config that names its images
// (for an imported model, the images it is shown).
struct ProbedRun {
  RunRecord record;
  ClassifierDataConfig data;
};

ClassifierDataConfig imagesOf(const ProbeImagesConfig& images) {
  ClassifierDataConfig data;
  data.path = images.path;
  data.testSplit = images.split;
  data.grayscale = images.grayscale;
  return data;
}

std::string testImagesPath(const ClassifierDataConfig& data) {
  return data.testPath.empty() ? data.path : data.testPath;
}

// Two runs see the same test images when these agree. Paths compare resolved, so "data/x" and
// "./data/x" from the same working folder are one set.
std::string testImagesIdentity(const ClassifierDataConfig& data) {
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(fs::path(testImagesPath(data)), ec);
  return (ec ? fs::path(testImagesPath(data)) : resolved).string() + " (" + data.testSplit + ", " +
         (data.grayscale ? "grayscale" : "colour") + ")";
}

std::vector<ProbedRun> readProbedRuns(std::vector<RunRecord> records, const ProbeImagesConfig& images) {
  std::vector<ProbedRun> runs;
  for (RunRecord& record : records) {
    ProbedRun run;
    if (isImportedModel(record)) {
      // Records list the runs first: an imported model is shown their test images, or the named ones.
      if (images.path.empty() && runs.empty())
        throw Error("probe: imported models need probe images: name them in the probe config's images (path, split, "
                    "grayscale) or with --images");
      run.data = images.path.empty() ? runs.front().data : imagesOf(images);
    } else {
      const fs::path summary = record.folder / kRunSummaryFile;
      try {
        run.data = classifierTrainingConfigFromJson(record.summary.at("config")).data;
      } catch (const nlohmann::json::exception& error) {
        throw FileError(summary.string(), std::string("no training config: ") + error.what());
      } catch (const FileError&) {
        throw;
      } catch (const Error& error) {
        throw FileError(summary.string(), error.what());
      }
    }
    run.record = std::move(record);
    runs.push_back(std::move(run));
  }
  const std::string first = testImagesIdentity(runs.front().data);
  for (const auto& run : runs) {
    const std::string identity = testImagesIdentity(run.data);
    if (identity != first)
      throw Error("probe: the runs were trained on different image sets, so their results would not be comparable: " +
                  runs.front().record.name + " on " + first + ", " + run.record.name + " on " + identity +
                  "; probe them separately");
  }
  return runs;
}

struct LoadedImages {
  ProbeImages description;
  torch::Tensor images;  // N x C x H x W in [0, 1]
  torch::Tensor labels;  // N, int64
  // With ProbeConfig::alignment: the indices (int64) of the images with an importance map, and their
  // maps (mapRows x H x W); undefined otherwise.
  torch::Tensor mapRows;
  torch::Tensor maps;
};

LoadedImages loadProbeImages(const ClassifierDataConfig& data, std::int64_t maxImages, const Job& job) {
  ImageLoadOptions options;
  options.grayscale = data.grayscale;
  options.maxImages = maxImages;
  ImageDataset dataset = loadImageDataset(testImagesPath(data), options, data.testSplit, job);
  if (dataset.imageCount() == 0) throw FileError(testImagesPath(data), "has no " + data.testSplit + " images");
  LoadedImages loaded;
  const std::int64_t count = dataset.imageCount();
  loaded.images =
      torch::from_blob(dataset.pixels.data(), {count, dataset.channels, dataset.height, dataset.width}, torch::kFloat)
          .clone();
  loaded.labels = torch::from_blob(dataset.labels.data(), {count}, torch::kInt).to(torch::kLong);
  loaded.description.path = testImagesPath(data);
  loaded.description.split = data.testSplit;
  loaded.description.grayscale = data.grayscale;
  loaded.description.count = count;
  loaded.description.shape = {dataset.channels, dataset.height, dataset.width};
  loaded.description.classesPresent =
      static_cast<int>(std::set<std::int32_t>(dataset.labels.begin(), dataset.labels.end()).size());
  return loaded;
}

void loadProbeImportanceMaps(LoadedImages& loaded, const AlignmentConfig& config) {
  const std::vector<std::int64_t>& shape = loaded.description.shape;
  const ImportanceMaps maps = loadImportanceMaps(config.importanceMaps, config.hdf5Dataset, loaded.description.count,
                                                 static_cast<int>(shape[1]), static_cast<int>(shape[2]));
  loaded.mapRows = maps.present.nonzero().view({-1});
  loaded.maps = maps.maps.index_select(0, loaded.mapRows);
  loaded.description.importanceMaps = loaded.mapRows.size(0);
}

// The alignment score (see the top of probe_runner.h) of the trained model, batch norm on its running
// statistics, on the images with a map.
AlignmentScore modelAlignment(Classifier& model, const LoadedImages& loaded, std::int64_t batchSize, const Job& job) {
  const bool wasTraining = model->is_training();
  model->eval();
  const torch::Device device = model->device();
  const std::int64_t count = loaded.mapRows.size(0);
  std::vector<torch::Tensor> saliency;
  for (std::int64_t begin = 0; begin < count; begin += batchSize) {
    job.throwIfCancelled();
    const torch::Tensor rows = loaded.mapRows.slice(0, begin, std::min(count, begin + batchSize));
    saliency.push_back(
        alignmentSaliency(model, loaded.images.index_select(0, rows).to(device), loaded.labels.index_select(0, rows))
            .to(torch::kCPU));
    job.progress(static_cast<double>(begin + rows.size(0)) / static_cast<double>(count), "alignment");
  }
  model->train(wasTraining);
  return alignmentScore(torch::cat(saliency), loaded.maps);
}

ModelProbe probeModel(const ProbedRun& run, const LoadedImages& loaded, const ProbeConfig& config, const Job& job) {
  ModelProbe probe;
  probe.folder = run.record.folder;
  probe.name = run.record.name;
  probe.launch = run.record.group;
  probe.seed = run.record.seed;
  probe.regularizer = run.record.regularizer;
  probe.control = run.record.control;
  probe.alpha = run.record.alpha;

  const bool imported = isImportedModel(run.record);
  TrainedClassifier trained = loadAnalysisModel(run.record.folder);
  if (imported) requireLogits(trained, run.record.folder);
  probe.classCount = trained.model->classCount();
  // An imported model brings any images to its declared input itself.
  if (!imported && trained.imageShape != loaded.description.shape)
    throw FileError(run.record.folder.string(), "its model takes images of another shape than the probe images");
  trained.model->to(torch::Device(runtimeInfo().device == "cuda" ? torch::kCUDA : torch::kCPU));
  Classifier& model = trained.model;
  const torch::Tensor& images = loaded.images;
  const torch::Tensor& labels = loaded.labels;

  // Even shares: the steps' costs depend too much on the config to weigh them in advance.
  const bool alignment = loaded.mapRows.defined();
  const std::size_t steps = 1 + config.corruptions.size() + config.minimumNormSearches.size() +
                            (config.boundaryAttack ? 1 : 0) + config.successCurves.size() + (alignment ? 1 : 0);
  std::size_t step = 0;
  const auto nextJob = [&]() {
    const double share = 1.0 / static_cast<double>(steps);
    const Job stepJob = job.subJob(share * static_cast<double>(step), share * static_cast<double>(step + 1));
    ++step;
    return stepJob;
  };

  probe.cleanAccuracy = classifierAccuracy(model, images, labels, nextJob(), config.batchSize);
  for (const auto& sweep : config.corruptions) {
    probe.corruptions.push_back(accuracyUnderCorruption(model, images, labels, sweep, nextJob(), config.batchSize));
    probe.corruptionAreas.push_back(normalizedCurveArea(probe.corruptions.back()));
  }
  for (const auto& search : config.minimumNormSearches)
    probe.minimumNorms.push_back(
        summarizeMinimumNorms(minimumNormSearch(model, images, labels, search, nextJob(), config.batchSize)));
  if (config.boundaryAttack)
    probe.minimumNorms.push_back(
        summarizeMinimumNorms(boundaryAttack(model, images, labels, config.boundary, nextJob(), config.batchSize)));
  for (const auto& curve : config.successCurves)
    probe.successCurves.push_back(
        successRateCurve(model, images, labels, curve.epsilons, curve.attack, nextJob(), config.batchSize));
  if (alignment) {
    probe.alignment = modelAlignment(model, loaded, config.batchSize, nextJob());
  } else {
    probe.alignment.meanSpearman = kUndefined;
    probe.alignment.score = kUndefined;
  }
  job.progress(1.0, "probed " + probe.name);
  return probe;
}

LaunchProbe summarizeLaunch(const std::string& name, const std::vector<const ModelProbe*>& models) {
  LaunchProbe launch;
  launch.name = name;
  launch.regularizer = models.front()->regularizer;
  launch.control = models.front()->control;
  launch.alpha = models.front()->alpha;
  std::vector<double> clean;
  std::vector<double> alignment;
  for (const ModelProbe* model : models) {
    launch.models.push_back(model->name);
    launch.seeds.push_back(model->seed);
    clean.push_back(model->cleanAccuracy);
    alignment.push_back(model->alignment.score);
  }
  const MeanAndSem cleanAccuracy = meanAndSem(clean);
  launch.meanCleanAccuracy = cleanAccuracy.mean;
  launch.semCleanAccuracy = cleanAccuracy.sem;
  const MeanAndSem alignmentSummary = meanAndSem(alignment);
  launch.meanAlignmentScore = alignmentSummary.mean;
  launch.semAlignmentScore = alignmentSummary.sem;

  const ModelProbe& first = *models.front();
  for (std::size_t sweep = 0; sweep < first.corruptions.size(); ++sweep) {
    std::vector<CorruptionCurve> curves;
    std::vector<double> areas;
    for (const ModelProbe* model : models) {
      curves.push_back(model->corruptions[sweep]);
      areas.push_back(model->corruptionAreas[sweep]);
    }
    launch.corruptions.push_back(summarizeCorruptionCurves(curves));
    const auto [mean, sem] = meanAndSem(areas);
    launch.meanCorruptionAreas.push_back(mean);
    launch.semCorruptionAreas.push_back(sem);
  }

  for (std::size_t attack = 0; attack < first.minimumNorms.size(); ++attack) {
    LaunchMinimumNorm summary;
    summary.attack = first.minimumNorms[attack].attack;
    summary.norm = first.minimumNorms[attack].norm;
    std::vector<double> epsilons;
    std::vector<double> linf;
    std::vector<double> l2;
    for (const ModelProbe* model : models) {
      const MinimumNormSummary& medians = model->minimumNorms[attack];
      summary.images += medians.images;
      summary.alreadyMisclassified += medians.alreadyMisclassified;
      summary.failed += medians.failed;
      epsilons.push_back(medians.medianEpsilon);
      linf.push_back(medians.medianLinf);
      l2.push_back(medians.medianL2);
    }
    const MeanAndSem epsilon = meanAndSem(epsilons);
    const MeanAndSem linfNorm = meanAndSem(linf);
    const MeanAndSem l2Norm = meanAndSem(l2);
    summary.meanMedianEpsilon = epsilon.mean;
    summary.semMedianEpsilon = epsilon.sem;
    summary.meanMedianLinf = linfNorm.mean;
    summary.semMedianLinf = linfNorm.sem;
    summary.meanMedianL2 = l2Norm.mean;
    summary.semMedianL2 = l2Norm.sem;
    launch.minimumNorms.push_back(summary);
  }
  return launch;
}

std::vector<LaunchProbe> summarizeLaunches(const std::vector<ModelProbe>& models) {
  std::vector<LaunchProbe> launches;
  for (const auto& [name, members] : groupByLaunch(models)) launches.push_back(summarizeLaunch(name, members));
  return launches;
}

nlohmann::json toJson(const ModelProbe& probe) {
  nlohmann::json corruptions = nlohmann::json::array();
  for (std::size_t i = 0; i < probe.corruptions.size(); ++i) {
    nlohmann::json curve = toJson(probe.corruptions[i]);
    curve["area"] = finiteOrNull(probe.corruptionAreas[i]);
    corruptions.push_back(curve);
  }
  nlohmann::json minimumNorms = nlohmann::json::array();
  for (const auto& summary : probe.minimumNorms) minimumNorms.push_back(toJson(summary));
  nlohmann::json successCurves = nlohmann::json::array();
  for (const auto& curve : probe.successCurves) successCurves.push_back(toJson(curve));
  return {{"folder", probe.folder.string()},
          {"name", probe.name},
          {"launch", probe.launch},
          {"seed", probe.seed},
          {"regularizer", probe.regularizer},
          {"classes", probe.classCount},
          {"clean_accuracy", finiteOrNull(probe.cleanAccuracy)},
          {"corruptions", corruptions},
          {"minimum_norms", minimumNorms},
          {"success_curves", successCurves},
          {"alignment",
           {{"score", finiteOrNull(probe.alignment.score)},
            {"mean_spearman", finiteOrNull(probe.alignment.meanSpearman)},
            {"scored_maps", probe.alignment.scoredMaps}}}};
}

nlohmann::json toJson(const LaunchMinimumNorm& summary) {
  return {{"attack", summary.attack},
          {"norm", attackNormName(summary.norm)},
          {"images", summary.images},
          {"already_misclassified", summary.alreadyMisclassified},
          {"failed", summary.failed},
          {"mean_median_epsilon", finiteOrNull(summary.meanMedianEpsilon)},
          {"mean_median_linf", finiteOrNull(summary.meanMedianLinf)},
          {"mean_median_l2", finiteOrNull(summary.meanMedianL2)},
          {"sem_median_epsilon", finiteOrNull(summary.semMedianEpsilon)},
          {"sem_median_linf", finiteOrNull(summary.semMedianLinf)},
          {"sem_median_l2", finiteOrNull(summary.semMedianL2)}};
}

nlohmann::json toJson(const LaunchProbe& launch) {
  nlohmann::json corruptions = nlohmann::json::array();
  for (std::size_t i = 0; i < launch.corruptions.size(); ++i) {
    nlohmann::json summary = toJson(launch.corruptions[i]);
    summary["mean_area"] = finiteOrNull(launch.meanCorruptionAreas[i]);
    summary["sem_area"] = finiteOrNull(launch.semCorruptionAreas[i]);
    corruptions.push_back(summary);
  }
  nlohmann::json minimumNorms = nlohmann::json::array();
  for (const auto& summary : launch.minimumNorms) minimumNorms.push_back(toJson(summary));
  return {{"name", launch.name},
          {"regularizer", launch.regularizer},
          {"control", launch.control},
          {"alpha", finiteOrNull(launch.alpha)},
          {"models", launch.models},
          {"seeds", launch.seeds},
          {"mean_clean_accuracy", finiteOrNull(launch.meanCleanAccuracy)},
          {"sem_clean_accuracy", finiteOrNull(launch.semCleanAccuracy)},
          {"corruptions", corruptions},
          {"minimum_norms", minimumNorms},
          {"mean_alignment_score", finiteOrNull(launch.meanAlignmentScore)},
          {"sem_alignment_score", finiteOrNull(launch.semAlignmentScore)}};
}

// ---- CSV ----------------------------------------------------------------------------------------

// `names` with "#2", "#3", ... appended to the second and later uses of a name.
std::vector<std::string> uniqueNames(const std::vector<std::string>& names) {
  std::map<std::string, int> uses;
  std::vector<std::string> unique;
  for (const auto& name : names) {
    const int use = ++uses[name];
    unique.push_back(use == 1 ? name : name + "#" + std::to_string(use));
  }
  return unique;
}

std::string joinSeeds(const std::vector<std::uint64_t>& seeds) {
  std::string joined;
  for (const auto seed : seeds) joined += (joined.empty() ? "" : ";") + std::to_string(seed);
  return joined;
}

// One table row, its cells appended in header order.
class CsvRow {
 public:
  void text(const std::string& value) { cells_.push_back(csvField(value)); }
  void number(double value) { cells_.push_back(csvNumber(value)); }
  void count(std::int64_t value) { cells_.push_back(std::to_string(value)); }
  std::string line() const {
    std::string joined;
    for (std::size_t i = 0; i < cells_.size(); ++i) joined += (i == 0 ? "" : ",") + cells_[i];
    return joined + "\n";
  }

 private:
  std::vector<std::string> cells_;
};

// Launch figures that contradict themselves become the report's warnings, which every view of the
// report shows beside them: a classifier at chance level, and minimum-norm medians that measure
// something else than robustness (zero: most images were wrong before the attack; infinite: the
// budget was too small to fool most of them).
void addLaunchWarnings(ProbeReport& report) {
  for (const LaunchProbe& launch : report.launches) {
    int classes = 0;
    for (const ModelProbe& model : report.models)
      if (model.launch == launch.name) classes = std::max(classes, model.classCount);
    if (const auto warning = chanceLevelWarning(launch.name + " on the clean probe images", launch.meanCleanAccuracy,
                                                classes, report.images.count))
      report.warnings.push_back(*warning);
    for (const LaunchMinimumNorm& norm : launch.minimumNorms) {
      if (norm.images <= 0) continue;
      const std::string what = launch.name + ", " + norm.attack + " " + attackNormName(norm.norm) + ": ";
      const std::string ofImages = " of " + std::to_string(norm.images) + " images";
      if (2 * norm.alreadyMisclassified >= norm.images)
        report.warnings.push_back(what + "the median smallest perturbation is 0 because " +
                                  std::to_string(norm.alreadyMisclassified) + ofImages +
                                  " were misclassified before any perturbation; it measures the classifier's errors, "
                                  "not its robustness");
      else if (2 * norm.failed >= norm.images)
        report.warnings.push_back(what + "the median is censored (infinite): " + std::to_string(norm.failed) +
                                  ofImages + " were never fooled within the attack's budget; raise the budget to "
                                  "measure it");
    }
  }
}

}  // namespace

double normalizedCurveArea(const CorruptionCurve& curve) {
  std::vector<std::pair<double, double>> points;
  for (std::size_t i = 0; i < curve.severities.size() && i < curve.accuracies.size(); ++i)
    points.emplace_back(curve.severities[i], curve.accuracies[i]);
  std::sort(points.begin(), points.end());
  if (points.size() < 2 || points.back().first <= points.front().first) return kUndefined;
  double area = 0.0;
  for (std::size_t i = 1; i < points.size(); ++i)
    area += (points[i].first - points[i - 1].first) * (points[i].second + points[i - 1].second) / 2.0;
  return area / (points.back().first - points.front().first);
}

nlohmann::json toJson(const ProbeReport& report) {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& model : report.models) models.push_back(toJson(model));
  nlohmann::json launches = nlohmann::json::array();
  for (const auto& launch : report.launches) launches.push_back(toJson(launch));
  return {{"format", kProbeReportFormat},
          {"version", 1},
          {"config", toJson(report.config)},
          {"runtime", toJson(report.runtime)},
          {"images",
           {{"path", report.images.path},
            {"split", report.images.split},
            {"grayscale", report.images.grayscale},
            {"count", report.images.count},
            {"shape", report.images.shape},
            {"classes_present", report.images.classesPresent},
            {"importance_maps", report.images.importanceMaps}}},
          {"models", models},
          {"launches", launches},
          {"warnings", report.warnings}};
}

ProbeReport probeRuns(const std::vector<fs::path>& runFolders, const ProbeConfig& config, const Job& job,
                      const std::vector<fs::path>& importedModels) {
  validate(config);
  const std::vector<ProbedRun> runs =
      readProbedRuns(readModelRecords({runFolders, importedModels}, "probe"), config.images);
  ProbeReport report;
  report.config = config;
  report.runtime = runtimeInfo();

  LoadedImages loaded = loadProbeImages(runs.front().data, config.maxImages, job.subJob(0.0, 0.05));
  if (!config.alignment.importanceMaps.empty()) loadProbeImportanceMaps(loaded, config.alignment);
  report.images = loaded.description;
  job.throwIfCancelled();

  const double share = 0.95 / static_cast<double>(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const double begin = 0.05 + share * static_cast<double>(i);
    report.models.push_back(probeModel(runs[i], loaded, config, job.subJob(begin, begin + share)));
    job.throwIfCancelled();
  }
  report.launches = summarizeLaunches(report.models);
  addLaunchWarnings(report);

  int classes = 0;
  for (const auto& model : report.models) classes = std::max(classes, model.classCount);
  if (report.images.classesPresent < classes)
    report.warnings.push_back("the first " + std::to_string(report.images.count) + " test images hold only " +
                              std::to_string(report.images.classesPresent) + " of the models' " +
                              std::to_string(classes) +
                              " classes (an image folder lists its files class by "
                              "class); raise max_images for a balanced probe");
  job.progress(1.0, "probed " + std::to_string(report.models.size()) + " models");
  return report;
}

void writeProbeTable(const ProbeReport& report, const fs::path& file) {
  const ProbeConfig& config = report.config;
  std::vector<std::string> sweepNames;
  for (const auto& sweep : config.corruptions) sweepNames.emplace_back(corruptionKindName(sweep.kind));
  sweepNames = uniqueNames(sweepNames);
  std::vector<std::string> attackNames;
  if (!report.models.empty())
    for (const auto& summary : report.models.front().minimumNorms) attackNames.push_back(summary.attack);
  attackNames = uniqueNames(attackNames);

  CsvRow header;
  for (const char* name : {"row", "name", "launch", "seeds", "clean_accuracy", "clean_accuracy_sem"}) header.text(name);
  for (std::size_t s = 0; s < config.corruptions.size(); ++s) {
    for (const double severity : config.corruptions[s].severities) {
      header.text(sweepNames[s] + "@" + csvNumber(severity));
      header.text(sweepNames[s] + "@" + csvNumber(severity) + "_sem");
    }
    header.text(sweepNames[s] + "_area");
    header.text(sweepNames[s] + "_area_sem");
  }
  for (std::size_t a = 0; a < attackNames.size(); ++a) {
    header.text(attackNames[a] + "_median_" + attackNormName(report.models.front().minimumNorms[a].norm));
    header.text(attackNames[a] + "_failed");
  }
  const bool alignment = !config.alignment.importanceMaps.empty();
  if (alignment) {
    header.text("alignment_score");
    header.text("alignment_score_sem");
  }
  std::string table = header.line();

  for (const auto& model : report.models) {
    CsvRow row;
    row.text("model");
    row.text(model.name);
    row.text(model.launch);
    row.text(std::to_string(model.seed));
    row.number(model.cleanAccuracy);
    row.number(kUndefined);
    for (std::size_t s = 0; s < model.corruptions.size(); ++s) {
      for (const double accuracy : model.corruptions[s].accuracies) {
        row.number(accuracy);
        row.number(kUndefined);
      }
      row.number(model.corruptionAreas[s]);
      row.number(kUndefined);
    }
    for (const auto& summary : model.minimumNorms) {
      row.number(summary.medianEpsilon);
      row.count(summary.failed);
    }
    if (alignment) {
      row.number(model.alignment.score);
      row.number(kUndefined);
    }
    table += row.line();
  }
  for (const auto& launch : report.launches) {
    CsvRow row;
    row.text("launch");
    row.text(launch.name);
    row.text(launch.name);
    row.text(joinSeeds(launch.seeds));
    row.number(launch.meanCleanAccuracy);
    row.number(launch.semCleanAccuracy);
    for (std::size_t s = 0; s < launch.corruptions.size(); ++s) {
      for (std::size_t i = 0; i < launch.corruptions[s].meanAccuracies.size(); ++i) {
        row.number(launch.corruptions[s].meanAccuracies[i]);
        row.number(launch.corruptions[s].semAccuracies[i]);
      }
      row.number(launch.meanCorruptionAreas[s]);
      row.number(launch.semCorruptionAreas[s]);
    }
    for (const auto& summary : launch.minimumNorms) {
      row.number(summary.meanMedianEpsilon);
      row.count(summary.failed);
    }
    if (alignment) {
      row.number(launch.meanAlignmentScore);
      row.number(launch.semAlignmentScore);
    }
    table += row.line();
  }
  writeFileAtomically(file, table);
}

ProbeReportFolder writeProbeReportFolder(const ProbeReportFolderConfig& config, const Job& job,
                                         const RunsCollectedCallback& onRunsCollected) {
  validate(config.probe);
  nlohmann::json skipped = nlohmann::json::array();
  const ModelArguments models = collectModels(config.runs, skipped);
  if (onRunsCollected) onRunsCollected(skipped);
  ProbeReportFolder folder;
  folder.report = probeRuns(models.runFolders, config.probe, job, models.importedModels);
  folder.json = toJson(folder.report);
  folder.json["skipped"] = skipped;
  if (!config.outputDir.empty()) {
    fs::create_directories(config.outputDir);
    writeFileAtomically(config.outputDir / "report.json", folder.json.dump(2) + "\n");
    writeProbeTable(folder.report, config.outputDir / "probe-table.csv");
  }
  return folder;
}

}  // namespace bp
