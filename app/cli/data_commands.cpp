#include "data_commands.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "data/dataset_io.h"
#include "data/default_data.h"
#include "data/static_hdf5.h"
#include "measures/dataset_summary.h"
#include "measures/image_summary.h"
#include "rsa/matrix_file.h"
#include "rsa/similarity_distribution.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/log.h"

namespace bp::cli {
namespace {

constexpr const char* kDefaultData = "default";

// Renders nested JSON as an indented, human-readable outline.
void writeOutline(std::ostream& out, const nlohmann::json& value, int depth) {
  const std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
  for (const auto& [key, item] : value.items()) {
    if (item.is_object()) {
      out << indent << key << ":\n";
      writeOutline(out, item, depth + 1);
    } else if (item.is_number_float()) {
      std::ostringstream number;
      number.precision(4);
      number << item.get<double>();
      out << indent << key << ": " << number.str() << '\n';
    } else {
      out << indent << key << ": " << (item.is_string() ? item.get<std::string>() : item.dump()) << '\n';
    }
  }
}

struct InfoOptions {
  std::string path = kDefaultData;
  std::string split = "train";
  bool text = false;
  NwbReadOptions nwb;
};

void runInfo(const GlobalOptions& global, const InfoOptions& options) {
  startRuntime(global);
  const auto job = progressJob(global);
  const auto print = [&options](const nlohmann::json& value) {
    if (options.text) writeOutline(std::cout, value, 0);
    else printJson(value);
  };
  nlohmann::json summary;
  if (options.path == kDefaultData) {
    const auto generated = generateDefaultDataset({}, job);
    summary = toJson(summarizeDataset(generated.dataset));
  } else if (isRsatoolboxFile(options.path)) {
    // An rsatoolbox RDM file: its first RDM, read as BrainPrior reads it, and its own measure name.
    const SimilarityMatrix matrix = readRsatoolboxFile(options.path, 0, job);
    const SimilarityDistribution distribution = describeSimilarity(matrix);
    if (!distribution.degenerate.empty()) logWarning(options.path + ": " + distribution.degenerate);
    summary = {{"format", "rsatoolbox RDMs"},
               {"images", matrix.size},
               {"measure", similarityMeasureName(matrix.config.measure)},
               {"rsatoolbox_measure", matrix.provenance["rsatoolbox"]["dissimilarity_measure"]},
               {"dissimilarity", isDissimilarity(matrix.config)},
               {"labels", !matrix.labels.empty()},
               {"distribution", toJson(distribution)}};
  } else if (looksLikeHdf5(options.path) && isSimilarityMatrixFile(options.path)) {
    // What `rsa` and `target` wrote: the matrix's form and the distribution of its values.
    const SimilarityMatrixFile matrix = SimilarityMatrixFile::open(options.path);
    const SimilarityDistribution distribution = describeSimilarity(matrix, job);
    if (!distribution.degenerate.empty()) logWarning(options.path + ": " + distribution.degenerate);
    summary = {{"format", "similarity matrix"},
               {"images", matrix.size()},
               {"measure", similarityMeasureName(matrix.config().measure)},
               {"dissimilarity", isDissimilarity(matrix.config())},
               {"unit_weights", matrix.config().unitWeights.empty() ? "equal" : "weighted"},
               {"labels", !matrix.labels().empty()},
               {"distribution", toJson(distribution)},
               {"provenance", matrix.provenance()}};
  } else {
    const auto format = detectDatasetFormat(options.path);
    if (format == DatasetFormat::NeuralNwb) {
      // What the file offers comes first, so that a user who must choose (--roi-series,
      // --presentations) sees the choices even when the recording cannot be read without one.
      const NwbContents contents = listNwbContents(options.path);
      const auto choices = [](const std::vector<NwbChoice>& list) {
        nlohmann::json entries = nlohmann::json::array();
        for (const auto& choice : list)
          entries.push_back({{"path", choice.path}, {"type", choice.type}, {"description", choice.description}});
        return entries;
      };
      const nlohmann::json offered = {{"read_options", toJson(options.nwb)},
                                      {"roi_series", choices(contents.roiSeries)},
                                      {"presentations", choices(contents.presentations)}};
      try {
        summary = toJson(summarizeDataset(loadNeuralDataset(options.path, job, options.nwb)));
      } catch (const FileError&) {
        print({{"format", datasetFormatName(*format)}, {"nwb", offered}});
        throw;
      }
      summary["nwb"] = offered;
    } else if (format && !isNeuralFormat(*format)) {
      summary = describeImageDataset(loadImageDataset(options.path, {}, options.split, job));
    } else {
      summary = toJson(summarizeDataset(loadNeuralDataset(options.path, job)));
    }
    if (format) summary["format"] = datasetFormatName(*format);
  }
  print(summary);
}

struct SynthOptions {
  std::string source;
  std::string split = "train";
  std::string configFile;
  std::string output;
  SyntheticV1Config config;
};

void runSynth(const GlobalOptions& global, SynthOptions options) {
  startRuntime(global);
  const auto job = progressJob(global);
  if (!options.configFile.empty()) {
    std::ifstream in(options.configFile);
    if (!in) throw FileError(options.configFile, "cannot open the configuration file");
    nlohmann::json parsed;
    try {
      in >> parsed;
    } catch (const nlohmann::json::exception& e) {
      throw FileError(options.configFile, std::string("not valid JSON: ") + e.what());
    }
    options.config = syntheticV1ConfigFromJson(parsed);
  }
  SyntheticV1Result result;
  if (options.source.empty()) {
    result = generateDefaultDataset(options.config, job.subJob(0.0, 0.6));
  } else {
    ImageLoadOptions imageOptions;
    imageOptions.maxImages = options.config.trainImages + options.config.validationImages + options.config.testImages;
    const auto images = loadImageDataset(options.source, imageOptions, options.split, job.subJob(0.0, 0.2));
    result = generateSyntheticV1(images, options.config, job.subJob(0.2, 0.6));
  }
  writeStaticHdf5(result.dataset, options.output, job.subJob(0.6, 1.0));

  // The ground truth and everything needed to make the same file again, beside the dataset.
  nlohmann::json truth = {{"config", toJson(result.config)}, {"runtime", toJson(runtimeInfo())}, {"neurons", nlohmann::json::array()}};
  truth["image_source"] = options.source.empty() ? defaultImageSourcePath().string() : options.source;
  for (const auto& neuron : result.neurons) truth["neurons"].push_back(toJson(neuron));
  writeFileAtomically(options.output + ".ground_truth.json", truth.dump(1));
  printJson({{"output", options.output},
             {"ground_truth", options.output + ".ground_truth.json"},
             {"summary", toJson(summarizeDataset(result.dataset))}});
}

struct ConvertOptions {
  std::string input;
  std::string output;
  NwbReadOptions nwb;
};

void runConvert(const GlobalOptions& global, const ConvertOptions& options) {
  startRuntime(global);
  const auto job = progressJob(global);
  const auto dataset = loadNeuralOrDefault(options.input, job.subJob(0.0, 0.5), options.nwb);
  writeStaticHdf5(dataset, options.output, job.subJob(0.5, 1.0));
  printJson({{"input", options.input},
             {"output", options.output},
             {"trials", dataset.trialCount()},
             {"neurons", dataset.neuronCount}});
}

}  // namespace

void addDataCommands(CLI::App& app, const GlobalOptions& global) {
  auto info = std::make_shared<InfoOptions>();
  auto* infoCommand = app.add_subcommand(
      "info", "Describe a dataset (counts, shapes, tiers, reliability) or a similarity matrix (its values) as JSON");
  infoCommand->add_option("path", info->path,
                          "Dataset: file tree folder, static HDF5 or NWB file, IDX/CIFAR/image folder, or 'default' "
                          "(the synthetic V1 population on Fashion-MNIST); or a similarity matrix file (.h5)");
  infoCommand->add_option("--split", info->split, "Split of an image dataset")->check(CLI::IsMember({"train", "test", "t10k"}));
  infoCommand->add_flag("--text", info->text, "Print a readable outline instead of JSON");
  addNwbOptions(*infoCommand, info->nwb);
  infoCommand->callback([&global, info] { runInfo(global, *info); });

  auto synth = std::make_shared<SynthOptions>();
  auto* synthCommand = app.add_subcommand("synth", "Generate a synthetic V1 population with known ground truth");
  synthCommand->add_option("-o,--output", synth->output, "Static HDF5 file to write")->required();
  synthCommand->add_option("--source", synth->source, "Image dataset that drives the neurons (default: Fashion-MNIST)");
  synthCommand->add_option("--split", synth->split, "Split of the image dataset")->check(CLI::IsMember({"train", "test", "t10k"}));
  synthCommand->add_option("--config", synth->configFile, "JSON configuration (keys as in the ground-truth file)");
  synthCommand->add_option("--neurons", synth->config.neuronCount, "Number of neurons")->check(CLI::PositiveNumber);
  synthCommand->add_option("--complex-fraction", synth->config.complexCellFraction, "Fraction of complex cells")
      ->check(CLI::Range(0.0, 1.0));
  synthCommand->add_option("--train", synth->config.trainImages, "Train images (shown once)")->check(CLI::PositiveNumber);
  synthCommand->add_option("--validation", synth->config.validationImages, "Validation images (shown once)")
      ->check(CLI::NonNegativeNumber);
  synthCommand->add_option("--test", synth->config.testImages, "Test images (shown --repeats times)")
      ->check(CLI::NonNegativeNumber);
  synthCommand->add_option("--repeats", synth->config.testRepeats, "Repeats of each test image")->check(CLI::PositiveNumber);
  synthCommand->add_option("--mean-rate", synth->config.meanRate, "Mean response per trial")->check(CLI::PositiveNumber);
  synthCommand->add_option("--fano", synth->config.noiseFano, "Fano factor of the trial noise (1 = Poisson)")
      ->check(CLI::Range(1.0, 100.0));
  synthCommand->add_option("--shared-gain-sd", synth->config.sharedGainSd,
                           "Log SD of a per-trial gain shared by all neurons (0: none)")
      ->check(CLI::Range(0.0, 2.0));
  synthCommand->add_option("--shared-factors", synth->config.sharedFactors,
                           "Rank of the shared additive trial-to-trial variability")
      ->check(CLI::Range(0, 100));
  synthCommand->add_option("--shared-additive-sd", synth->config.sharedAdditiveSd,
                           "SD of the shared additive variability, in units of the mean rate (0: none)")
      ->check(CLI::Range(0.0, 10.0));
  synthCommand->add_option("--seed", synth->config.seed, "Random seed");
  synthCommand->callback([&global, synth] { runSynth(global, *synth); });

  auto convert = std::make_shared<ConvertOptions>();
  auto* convertCommand = app.add_subcommand("convert", "Save a neural dataset as static HDF5 (BrainPrior's native format)");
  convertCommand->add_option("input", convert->input, "Neural dataset (file tree, static HDF5, NWB), or 'default'")->required();
  convertCommand->add_option("output", convert->output, "Static HDF5 file to write")->required();
  addNwbOptions(*convertCommand, convert->nwb);
  convertCommand->callback([&global, convert] { runConvert(global, *convert); });

  auto* runtimeCommand = app.add_subcommand("runtime", "Show threads, device, BLAS and library versions as JSON");
  runtimeCommand->callback([&global] {
    startRuntime(global);
    printJson(toJson(runtimeInfo()));
  });
}

}  // namespace bp::cli
