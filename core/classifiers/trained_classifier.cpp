#include "classifiers/trained_classifier.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>
#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/torch_archive.h"

namespace bp {

namespace {

constexpr const char* kModelFormat = "brainprior classifier";
constexpr const char* kModelKey = "brainprior_classifier";
constexpr int kClassifierModelVersion = 1;

}  // namespace

double classifierAccuracy(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels, const Job& job,
                          std::int64_t batchSize) {
  const std::int64_t count = images.defined() ? images.size(0) : 0;
  if (count == 0) return std::numeric_limits<double>::quiet_NaN();
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  const torch::Device device = model->device();
  std::int64_t correct = 0;
  for (std::int64_t begin = 0; begin < count; begin += batchSize) {
    job.throwIfCancelled();
    const std::int64_t size = std::min(batchSize, count - begin);
    const torch::Tensor logits = model->forward(images.narrow(0, begin, size).to(device));
    correct += logits.argmax(1).eq(labels.narrow(0, begin, size).to(device)).sum().item<std::int64_t>();
  }
  model->train(wasTraining);
  return static_cast<double>(correct) / static_cast<double>(count);
}

void saveClassifierModel(const TrainedClassifier& trained, const std::filesystem::path& path) {
  const nlohmann::json description = {{"format", kModelFormat},
                                      {"version", kClassifierModelVersion},
                                      {"model", toJson(resNetConfig(trained.model))},
                                      {"class_names", trained.classNames},
                                      {"image_shape", trained.imageShape}};
  torch::serialize::OutputArchive archive;
  trained.model->save(archive);
  archive.write(kModelKey, c10::IValue(description.dump()));
  writeArchiveFile(path, archive);
  writeFileAtomically(path.string() + ".json", description.dump(2) + "\n");
}

TrainedClassifier loadClassifierModel(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  readArchiveFile(path, archive);
  TrainedClassifier trained;
  try {
    c10::IValue stored;
    archive.read(kModelKey, stored);
    const nlohmann::json description = nlohmann::json::parse(stored.toStringRef());
    if (!description.is_object() || description.value("format", std::string()) != kModelFormat)
      throw FileError(path.string(), "not a BrainPrior classifier (its \"format\" is not \"" +
                                         std::string(kModelFormat) + "\")");
    if (description.value("version", 0) != kClassifierModelVersion)
      throw FileError(path.string(), "a classifier of version " + description.value("version", nlohmann::json()).dump() +
                                         ", which this BrainPrior does not read (it reads version " +
                                         std::to_string(kClassifierModelVersion) + ")");
    trained.model = Classifier(classifierConfigFromJson(description.at("model")));
    trained.classNames = description.at("class_names").get<std::vector<std::string>>();
    trained.imageShape = description.at("image_shape").get<std::vector<std::int64_t>>();
    if (trained.imageShape.size() != 3 ||
        std::any_of(trained.imageShape.begin(), trained.imageShape.end(), [](std::int64_t side) { return side <= 0; }))
      throw FileError(path.string(), "its \"image_shape\" " + description.at("image_shape").dump() +
                                         " is not [channels, height, width]");
  } catch (const c10::Error& error) {
    throw FileError(path.string(), std::string("not a BrainPrior classifier: ") + error.what_without_backtrace());
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path.string(), std::string("corrupt classifier description: ") + error.what());
  } catch (const FileError&) {
    throw;
  } catch (const Error& error) {
    throw FileError(path.string(), error.what());
  } catch (const std::exception& error) {
    // A description with an index or size out of range (std::out_of_range and the like).
    throw FileError(path.string(), std::string("corrupt classifier description: ") + error.what());
  }
  loadModuleChecked(*trained.model, archive, path);
  trained.model->eval();
  return trained;
}

}  // namespace bp
