#include "rsa_commands.h"

#include <chrono>
#include <sstream>

#include "classifiers/scripted_classifier.h"
#include "data/dataset_io.h"
#include "data/npy.h"
#include "probing/layer_features.h"
#include "rsa/compare.h"
#include "rsa/matrix_file.h"
#include "rsa/ordering.h"
#include "rsa/rsa_reliability.h"
#include "rsa/similarity.h"
#include "rsa/similarity_distribution.h"
#include "runtime/error.h"
#include "runtime/log.h"

namespace bp::cli {
namespace {

ResponseSource sourceFromChoice(const std::string& choice) {
  return choice == "noise-free" ? ResponseSource::NoiseFreeRates : ResponseSource::Responses;
}

SimilarityMeasure measureFromChoice(const std::string& choice) {
  const auto measure = parseSimilarityMeasure(choice);
  if (!measure) throw Error("unknown measure '" + choice + "'");
  return *measure;
}

struct RsaOptions {
  std::string input;
  std::string output;
  bool inputIsFeatures = false;
  std::string measure = "centred-cosine";
  bool dissimilarity = false;
  std::string tier = "all";
  std::string source = "responses";
  int singleTrial = -1;
  std::string weightsFile;
  std::string order = "none";
  std::int64_t orderNeuron = 0;
  bool rank = false;
  std::string csv;
  std::string rsatoolbox;  // also write the matrix in rsatoolbox's layout here
  bool stream = false;
  std::int64_t blockSize = 2048;
  std::string model;  // a run folder or an imported model: its layer's features instead of the responses
  std::string layer;
  int poolSize = 4;
  std::string split = "test";    // with --model on a labelled image set
  std::int64_t maxImages = 0;   // with --model on a labelled image set: the first N; 0: all
  NwbReadOptions nwb;
};

void runRsa(const GlobalOptions& global, const RsaOptions& options) {
  startRuntime(global);
  const auto job = progressJob(global);
  const auto started = std::chrono::steady_clock::now();

  if (!options.model.empty() && options.layer.empty())
    throw Error("--model needs --layer (see `brainprior-cli layers " + options.model + "`)");
  FeatureMatrix features;
  const bool featuresFile = options.inputIsFeatures || std::filesystem::path(options.input).extension() == ".npy";
  if (featuresFile) {
    if (!options.model.empty()) throw Error("--model takes a neural dataset as input, not a features file");
    features = readFeatureMatrix(options.input);
  } else if (const auto format = detectDatasetFormat(options.input);
             !options.model.empty() && format && !isNeuralFormat(*format)) {
    // A labelled image set (IDX, CIFAR, class folders): the layer's similarity over its images.
    ImageLoadOptions load;
    load.maxImages = options.maxImages;
    const ImageDataset images = loadImageDataset(options.input, load, options.split, job.subJob(0.0, 0.2));
    const TrainedClassifier trained = loadAnalysisModel(options.model);
    features = layerFeatureMatrix(trained, std::filesystem::path(options.model).filename().string(), images,
                                  options.layer, options.poolSize, 64, job.subJob(0.2, 0.6));
  } else {
    const auto dataset = loadNeuralOrDefault(options.input, job.subJob(0.0, 0.3), options.nwb);
    FeatureSelection selection;
    selection.source = sourceFromChoice(options.source);
    selection.tier = tierFromChoice(options.tier);
    selection.averageRepeats = options.singleTrial < 0;
    if (options.singleTrial >= 0) selection.repeatIndex = options.singleTrial;
    if (options.model.empty()) {
      features = featuresFromDataset(dataset, selection);
    } else {
      const TrainedClassifier trained = loadAnalysisModel(options.model);
      features = layerFeatureMatrix(trained, std::filesystem::path(options.model).filename().string(), dataset,
                                    selection, options.layer, options.poolSize, 64, job.subJob(0.3, 0.6));
    }
  }

  SimilarityConfig config;
  config.measure = measureFromChoice(options.measure);
  config.dissimilarity = options.dissimilarity;
  config.blockSize = options.blockSize;
  if (!options.weightsFile.empty()) config.unitWeights = readNpy(options.weightsFile).toFloat();

  const bool streamed = options.stream || features.rows > kInMemorySimilarityLimit;
  SimilarityDistribution distribution;
  const auto computeJob = job.subJob(featuresFile ? 0.0 : options.model.empty() ? 0.3 : 0.6, 1.0);
  if (streamed) {
    if (options.order != "none" || options.rank || !options.csv.empty() || !options.rsatoolbox.empty())
      throw Error("--order, --rank, --csv and --rsatoolbox need the matrix in memory; they are unavailable with " +
                  std::to_string(features.rows) + " images (streamed to disk)");
    computeSimilarityToFile(features, config, options.output, computeJob);
    // Read back in blocks of rows: the matrix was never whole in memory.
    distribution = describeSimilarity(SimilarityMatrixFile::open(options.output));
  } else {
    auto matrix = computeSimilarity(features, config, computeJob.subJob(0.0, 0.8));
    if (options.order == "label") matrix = reorder(matrix, orderByLabel(matrix));
    if (options.order == "cluster") matrix = reorder(matrix, orderByClustering(matrix, computeJob.subJob(0.8, 0.9)));
    if (options.order == "neuron") matrix = reorder(matrix, orderByValues(unitColumn(features, options.orderNeuron)));
    if (options.rank) matrix = rankTransform(matrix);
    writeSimilarityMatrix(matrix, options.output, computeJob.subJob(0.9, 1.0));
    distribution = describeSimilarity(matrix);
    if (!options.csv.empty()) exportSimilarityCsv(matrix, options.csv);
    if (!options.rsatoolbox.empty()) writeRsatoolboxFile(matrix, options.rsatoolbox);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!distribution.degenerate.empty()) logWarning(options.output + ": " + distribution.degenerate);
  printJson({{"output", options.output},
             {"images", features.rows},
             {"units", features.cols},
             {"pairs", features.rows * (features.rows - 1) / 2},
             {"measure", similarityMeasureName(config.measure)},
             {"dissimilarity", config.dissimilarity},
             {"features", features.source},
             {"streamed_to_disk", streamed},
             {"seconds", seconds},
             {"distribution", toJson(distribution)}});
}

struct CompareOptions {
  std::string first;
  std::string second;
  std::vector<std::string> methods;
  int bootstrap = 1000;
  int permutations = 1000;
  std::uint64_t seed = 1;
};

void runCompare(const GlobalOptions& global, const CompareOptions& options) {
  startRuntime(global);
  const auto job = progressJob(global);
  const auto a = readSimilarityMatrix(options.first);
  const auto b = readSimilarityMatrix(options.second);
  ComparisonConfig config;
  if (!options.methods.empty()) {
    config.methods.clear();
    for (const auto& name : options.methods) {
      const auto method = parseComparisonMethod(name);
      if (!method) throw Error("unknown comparison method '" + name + "' (pearson, spearman, kendall, cosine)");
      config.methods.push_back(*method);
    }
  }
  config.bootstrapSamples = options.bootstrap;
  config.permutations = options.permutations;
  config.seed = options.seed;
  auto result = toJson(compareWithStatistics(a, b, config, job));
  result["a"] = options.first;
  result["b"] = options.second;
  printJson(result);
}

struct CeilingOptions {
  std::string input = "default";
  std::string tier = "test";
  std::string source = "responses";
  std::string measure = "centred-cosine";
  int splits = 20;
  std::uint64_t seed = 1;
  NwbReadOptions nwb;
};

void runCeiling(const GlobalOptions& global, const CeilingOptions& options) {
  startRuntime(global);
  const auto job = progressJob(global);
  const auto dataset = loadNeuralOrDefault(options.input, job.subJob(0.0, 0.4), options.nwb);
  SplitHalfConfig splitHalf;
  splitHalf.splits = options.splits;
  splitHalf.seed = options.seed;
  splitHalf.source = sourceFromChoice(options.source);
  splitHalf.tier = tierFromChoice(options.tier);
  splitHalf.similarity.measure = measureFromChoice(options.measure);
  const auto ceiling = splitHalfReliability(dataset, splitHalf, job.subJob(0.4, 0.8));
  SingleTrialConfig singleTrial;
  singleTrial.source = splitHalf.source;
  singleTrial.tier = splitHalf.tier;
  singleTrial.similarity = splitHalf.similarity;
  const auto otherRepeats = singleTrialAgreement(dataset, singleTrial, job.subJob(0.8, 0.9));
  singleTrial.reference = SingleTrialReference::AllRepeats;
  const auto allRepeats = singleTrialAgreement(dataset, singleTrial, job.subJob(0.9, 1.0));
  printJson({{"dataset", dataset.name},
             {"tier", options.tier},
             {"measure", options.measure},
             {"split_half",
              {{"images", ceiling.images},
               {"splits", ceiling.splits},
               {"mean_raw", ceiling.meanRaw},
               {"noise_ceiling_spearman_brown", ceiling.meanCorrected},
               {"std_over_splits", ceiling.stdCorrected}}},
             {"single_trial_vs_repeat_average",
              {{"images", otherRepeats.images},
               {"repeats", otherRepeats.repeats},
               {"other_repeats", {{"mean", otherRepeats.mean}, {"per_repeat", otherRepeats.perRepeat}}},
               {"all_repeats", {{"mean", allRepeats.mean}, {"per_repeat", allRepeats.perRepeat}}}}}});
}

}  // namespace

void addRsaCommands(CLI::App& app, const GlobalOptions& global) {
  auto rsa = std::make_shared<RsaOptions>();
  auto* rsaCommand = app.add_subcommand("rsa", "Compute a representational similarity matrix (HDF5 out)");
  rsaCommand->add_option("input", rsa->input, "Neural dataset, 'default', a features file (.npy or HDF5 with --features), or with --model a "
                         "labelled image set")
      ->required();
  rsaCommand->add_option("-o,--output", rsa->output, "Matrix file to write (.h5)")->required();
  rsaCommand->add_flag("--features", rsa->inputIsFeatures, "Read the input as an images x units features file");
  rsaCommand->add_option("--measure", rsa->measure, "Similarity measure")
      ->check(CLI::IsMember({"centred-cosine", "pearson", "euclidean"}));
  rsaCommand->add_flag("--dissimilarity", rsa->dissimilarity, "Write 1 - similarity");
  rsaCommand->add_option("--tier", rsa->tier, "Trials to use")->check(CLI::IsMember({"all", "train", "validation", "test"}));
  rsaCommand->add_option("--source", rsa->source, "Recorded responses or the synthetic ground truth")
      ->check(CLI::IsMember({"responses", "noise-free"}));
  rsaCommand->add_option("--single-trial", rsa->singleTrial,
                         "Use each image's K-th trial instead of the repeat average (K from 0)")
      ->check(CLI::NonNegativeNumber);
  rsaCommand->add_option("--weights", rsa->weightsFile, "Per-unit weights as a 1-D .npy (the paper's w*v)");
  rsaCommand->add_option("--order", rsa->order, "Reorder images (neuron: by --order-neuron's response, descending)")
      ->check(CLI::IsMember({"none", "label", "cluster", "neuron"}));
  rsaCommand->add_option("--order-neuron", rsa->orderNeuron, "Unit whose response orders the images with --order neuron")
      ->check(CLI::NonNegativeNumber);
  rsaCommand->add_flag("--rank", rsa->rank, "Rank-transform the matrix (values in [0, 1])");
  rsaCommand->add_option("--csv", rsa->csv, "Also export the matrix as CSV");
  rsaCommand->add_option("--rsatoolbox", rsa->rsatoolbox,
                         "Also export the matrix as an rsatoolbox RDM file (HDF5; similarities go out as 1 - s, "
                         "rsatoolbox.rdm.load_rdm reads it)");
  rsaCommand->add_flag("--stream", rsa->stream,
                       "Stream blocks to disk with bounded memory (automatic above " +
                           std::to_string(kInMemorySimilarityLimit) + " images)");
  rsaCommand->add_option("--block-size", rsa->blockSize, "Images per GEMM block")->check(CLI::PositiveNumber);
  rsaCommand->add_option("--model", rsa->model,
                         "A run folder or an imported TorchScript model: the similarity of its --layer's outputs on "
                         "the input's images: a neural dataset's (rows and image ids as the neural matrix's, for "
                         "`compare`) or a labelled image set's (IDX, CIFAR, class folders; --split, --max-images)")
      ->check(CLI::ExistingPath);
  rsaCommand->add_option("--layer", rsa->layer, "The --model's layer (`brainprior-cli layers MODEL` lists them)");
  rsaCommand->add_option("--split", rsa->split, "With --model on a labelled image set: its split (default test)");
  rsaCommand->add_option("--max-images", rsa->maxImages,
                         "With --model on a labelled image set: its first N images (default: all)")
      ->check(CLI::NonNegativeNumber);
  rsaCommand->add_option("--pool-size", rsa->poolSize,
                         "With --model: pool each map to N x N before comparing (0: the whole map)")
      ->check(CLI::NonNegativeNumber);
  addNwbOptions(*rsaCommand, rsa->nwb);
  rsaCommand->callback([&global, rsa] { runRsa(global, *rsa); });

  auto compare = std::make_shared<CompareOptions>();
  auto* compareCommand = app.add_subcommand("compare", "Compare two similarity matrices (JSON table with CIs and p-values)");
  compareCommand->add_option("a", compare->first, "First matrix file (BrainPrior's, or rsatoolbox's: its first RDM)")
      ->required();
  compareCommand->add_option("b", compare->second, "Second matrix file")->required();
  compareCommand->add_option("--methods", compare->methods, "pearson, spearman, kendall, cosine (default: all)")
      ->delimiter(',');
  compareCommand->add_option("--bootstrap", compare->bootstrap, "Bootstrap samples over images (0 = none)")
      ->check(CLI::NonNegativeNumber);
  compareCommand->add_option("--permutations", compare->permutations, "Permutations for the p-value (0 = none)")
      ->check(CLI::NonNegativeNumber);
  compareCommand->add_option("--seed", compare->seed, "Random seed");
  compareCommand->callback([&global, compare] { runCompare(global, *compare); });

  auto ceiling = std::make_shared<CeilingOptions>();
  auto* ceilingCommand = app.add_subcommand(
      "ceiling", "Noise ceiling of the similarity matrix: split-half reliability and single-trial agreement");
  ceilingCommand->add_option("input", ceiling->input, "Neural dataset or 'default'");
  ceilingCommand->add_option("--tier", ceiling->tier, "Tier with repeated images")
      ->check(CLI::IsMember({"all", "train", "validation", "test"}));
  ceilingCommand->add_option("--source", ceiling->source, "Recorded responses or the synthetic ground truth")
      ->check(CLI::IsMember({"responses", "noise-free"}));
  ceilingCommand->add_option("--measure", ceiling->measure, "Similarity measure")
      ->check(CLI::IsMember({"centred-cosine", "pearson", "euclidean"}));
  ceilingCommand->add_option("--splits", ceiling->splits, "Random split-halves")->check(CLI::PositiveNumber);
  ceilingCommand->add_option("--seed", ceiling->seed, "Random seed");
  addNwbOptions(*ceilingCommand, ceiling->nwb);
  ceilingCommand->callback([&global, ceiling] { runCeiling(global, *ceiling); });
}

}  // namespace bp::cli
