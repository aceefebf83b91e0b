#include "probing/attacks.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <nlohmann/json.hpp>

#include "probing/image_streams.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/undefined.h"

namespace bp {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr int kStartBisectionSteps = 20;

// Random-stream purposes: the use in the high 32 bits, the restart, trial or step in the low ones.
std::uint64_t purpose(std::uint64_t use, std::int64_t counter) {
  return (use << 32) | static_cast<std::uint64_t>(counter);
}
constexpr std::uint64_t kPgdStartDirection = 1, kPgdStartRadius = 2, kBoundaryStart = 3, kBoundaryStep = 4;

// Evaluation mode for the attack's lifetime; the caller's mode afterwards.
class EvaluationMode {
 public:
  explicit EvaluationMode(Classifier& model) : model_(model), wasTraining_(model->is_training()) { model_->eval(); }
  ~EvaluationMode() { model_->train(wasTraining_); }
  EvaluationMode(const EvaluationMode&) = delete;
  EvaluationMode& operator=(const EvaluationMode&) = delete;

 private:
  Classifier& model_;
  bool wasTraining_;
};

void checkInputs(const torch::Tensor& images, const torch::Tensor& labels, std::int64_t batchSize,
                 const std::string& what) {
  if (!images.defined() || images.dim() != 4) throw Error(what + ": images must be a batch N x C x H x W");
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != images.size(0))
    throw Error(what + ": one label per image is needed");
  if (batchSize < 1) throw Error(what + ": the batch size must be positive");
}

void checkEpsilon(double epsilon, const std::string& what) {
  if (!std::isfinite(epsilon) || epsilon < 0.0) throw Error(what + ": epsilon must be a finite number >= 0");
}

torch::Tensor perImage(const torch::Tensor& values) {
  return values.view({-1, 1, 1, 1});
}

torch::Tensor linfNorms(const torch::Tensor& delta) {
  return delta.flatten(1).abs().amax(1);
}
torch::Tensor l2Norms(const torch::Tensor& delta) {
  return delta.flatten(1).norm(2, 1);
}

std::vector<double> toDoubles(const torch::Tensor& values) {
  const torch::Tensor cpu = values.detach().to(torch::kCPU, torch::kDouble).contiguous();
  return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
}

std::vector<bool> toBools(const torch::Tensor& values) {
  const torch::Tensor cpu = values.detach().to(torch::kCPU, torch::kBool).contiguous();
  return std::vector<bool>(cpu.data_ptr<bool>(), cpu.data_ptr<bool>() + cpu.numel());
}

torch::Tensor misclassified(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels) {
  torch::NoGradGuard noGrad;
  return model->forward(images).argmax(1).ne(labels);
}

// Into the epsilon ball around `images` (per image epsilons), then into [0, 1].
torch::Tensor project(const torch::Tensor& images, const torch::Tensor& candidates, const torch::Tensor& epsilons,
                      AttackNorm norm) {
  torch::Tensor delta = candidates - images;
  if (norm == AttackNorm::LInf) {
    const torch::Tensor bound = perImage(epsilons);
    delta = torch::max(torch::min(delta, bound), -bound);
  } else {
    delta = delta * perImage((epsilons / l2Norms(delta).clamp_min(1e-12)).clamp_max(1.0));
  }
  return (images + delta).clamp(0.0, 1.0);
}

// The random start's unit perturbation: uniform in [-1, 1]^d (L-inf) or in the unit L2 ball (a
// Gaussian direction with radius r^(1/d), r uniform).
torch::Tensor unitStart(AttackNorm norm, const std::vector<std::int64_t>& rows, const std::vector<std::int64_t>& shape,
                        std::uint64_t seed, int restart) {
  if (norm == AttackNorm::LInf)
    return 2.0 * imageNoise(ImageNoise::Uniform, rows, shape, seed, purpose(kPgdStartDirection, restart)) - 1.0;
  const torch::Tensor direction =
      imageNoise(ImageNoise::Normal, rows, shape, seed, purpose(kPgdStartDirection, restart));
  const torch::Tensor radius = imageNoise(ImageNoise::Uniform, rows, {1}, seed, purpose(kPgdStartRadius, restart));
  const auto dimensions = static_cast<double>(direction.numel() / std::max<std::int64_t>(direction.size(0), 1));
  return direction / perImage(l2Norms(direction).clamp_min(1e-12)) * perImage(radius.view({-1}).pow(1.0 / dimensions));
}

struct PgdOutcome {
  torch::Tensor adversarials;  // rows x C x H x W, CPU
  std::vector<bool> fooled;
  std::vector<bool> cleanFooled;
};

// PGD (as described in the header) on images[rows] with budgets epsilons[j] for rows[j].
PgdOutcome runPgd(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                  const std::vector<std::int64_t>& rows, const std::vector<double>& epsilons, const PgdConfig& config,
                  const Job& job, std::int64_t batchSize) {
  namespace F = torch::nn::functional;
  torch::AutoGradMode gradMode(true);
  const torch::Device device = model->device();
  const auto count = static_cast<std::int64_t>(rows.size());
  const std::vector<std::int64_t> shape = {images.size(1), images.size(2), images.size(3)};
  PgdOutcome outcome;
  std::vector<torch::Tensor> batches;
  for (std::int64_t begin = 0; begin < count; begin += batchSize) {
    const std::int64_t size = std::min(batchSize, count - begin);
    const std::vector<std::int64_t> batchRows(rows.begin() + begin, rows.begin() + begin + size);
    const torch::Tensor index = torch::tensor(batchRows, torch::kLong);
    const torch::Tensor clean = images.index_select(0, index).to(device, torch::kFloat);
    const torch::Tensor batchLabels = labels.index_select(0, index).to(device, torch::kLong);
    const std::vector<double> batchEpsilons(epsilons.begin() + begin, epsilons.begin() + begin + size);
    const torch::Tensor budget = torch::tensor(batchEpsilons, torch::kDouble).to(device, torch::kFloat);
    const torch::Tensor stepSize = perImage(budget * config.relativeStepSize);

    torch::Tensor fooled = misclassified(model, clean, batchLabels);
    const std::vector<bool> cleanFooled = toBools(fooled);
    outcome.cleanFooled.insert(outcome.cleanFooled.end(), cleanFooled.begin(), cleanFooled.end());
    torch::Tensor best = clean.clone();
    torch::Tensor last = clean;
    for (int restart = 0; restart < config.restarts && !fooled.all().item<bool>(); ++restart) {
      torch::Tensor x = clean;
      if (config.randomStart)
        x = project(
            clean, clean + perImage(budget) * unitStart(config.norm, batchRows, shape, config.seed, restart).to(device),
            budget, config.norm);
      for (int step = 0; step <= config.steps; ++step) {
        job.throwIfCancelled();
        x = x.detach().requires_grad_(true);
        const torch::Tensor logits = model->forward(x);
        const torch::Tensor fooledNow = logits.argmax(1).ne(batchLabels);
        best = torch::where(perImage(fooledNow & ~fooled), x.detach(), best);
        fooled = fooled | fooledNow;
        if (step == config.steps || fooled.all().item<bool>()) break;
        const torch::Tensor loss =
            F::cross_entropy(logits, batchLabels, F::CrossEntropyFuncOptions().reduction(torch::kSum));
        const torch::Tensor gradient = torch::autograd::grad({loss}, {x})[0];
        const torch::Tensor direction =
            config.norm == AttackNorm::LInf ? gradient.sign() : gradient / perImage(l2Norms(gradient).clamp_min(1e-12));
        x = project(clean, x.detach() + stepSize * direction, budget, config.norm);
        job.progress((static_cast<double>(begin) + static_cast<double>(size) * (restart * config.steps + step + 1) /
                                                       (static_cast<double>(config.restarts) * config.steps)) /
                         static_cast<double>(count),
                     "PGD step " + std::to_string(step + 1) + "/" + std::to_string(config.steps));
      }
      last = x.detach();
    }
    batches.push_back(torch::where(perImage(fooled), best, last).to(torch::kCPU));
    const std::vector<bool> batchFooled = toBools(fooled);
    outcome.fooled.insert(outcome.fooled.end(), batchFooled.begin(), batchFooled.end());
  }
  outcome.adversarials = batches.empty() ? torch::empty({0, shape[0], shape[1], shape[2]}) : torch::cat(batches);
  return outcome;
}

AttackResult attackResult(const torch::Tensor& images, PgdOutcome outcome) {
  AttackResult result;
  const torch::Tensor delta = outcome.adversarials - images.to(torch::kCPU, torch::kFloat);
  result.adversarials = std::move(outcome.adversarials);
  result.fooled = std::move(outcome.fooled);
  for (const bool fooled : outcome.cleanFooled) result.cleanCorrect.push_back(!fooled);
  result.linf = toDoubles(linfNorms(delta));
  result.l2 = toDoubles(l2Norms(delta));
  return result;
}

double median(std::vector<double> values) {
  if (values.empty()) return kUndefined;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2.0;
}

AttackNorm readNorm(ConfigReader& reader, AttackNorm fallback) {
  const auto* norm = reader.find("norm");
  if (!norm) return fallback;
  const auto parsed = norm->is_string() ? parseAttackNorm(norm->get<std::string>()) : std::nullopt;
  if (!parsed) reader.fail("norm", "must be \"linf\" or \"l2\"");
  return *parsed;
}

}  // namespace

const char* attackNormName(AttackNorm norm) {
  return norm == AttackNorm::L2 ? "l2" : "linf";
}

std::optional<AttackNorm> parseAttackNorm(const std::string& name) {
  for (const AttackNorm norm : {AttackNorm::LInf, AttackNorm::L2})
    if (name == attackNormName(norm)) return norm;
  return std::nullopt;
}

// ---- fixed-budget attacks -----------------------------------------------------------------------

nlohmann::json toJson(const PgdConfig& config) {
  return {{"norm", attackNormName(config.norm)},
          {"steps", config.steps},
          {"relative_step_size", config.relativeStepSize},
          {"restarts", config.restarts},
          {"random_start", config.randomStart},
          {"seed", config.seed}};
}

PgdConfig pgdConfigFromJson(const nlohmann::json& json) {
  PgdConfig config;
  ConfigReader reader(json, "PGD config");
  config.norm = readNorm(reader, config.norm);
  reader.read("steps", config.steps);
  reader.read("relative_step_size", config.relativeStepSize);
  reader.read("restarts", config.restarts);
  reader.read("random_start", config.randomStart);
  reader.read("seed", config.seed);
  reader.finish();
  return config;
}

void validate(const PgdConfig& config) {
  if (config.steps < 1) throw Error("PGD: steps must be at least 1");
  if (config.restarts < 1) throw Error("PGD: restarts must be at least 1");
  if (!(config.relativeStepSize > 0.0) || !std::isfinite(config.relativeStepSize))
    throw Error("PGD: relative_step_size must be a positive number");
}

nlohmann::json toJson(const AttackResult& result) {
  const auto images = static_cast<std::int64_t>(result.fooled.size());
  std::int64_t cleanCorrect = 0, fooledCorrect = 0, fooled = 0;
  for (std::size_t i = 0; i < result.fooled.size(); ++i) {
    cleanCorrect += result.cleanCorrect[i] ? 1 : 0;
    fooled += result.fooled[i] ? 1 : 0;
    fooledCorrect += result.cleanCorrect[i] && result.fooled[i] ? 1 : 0;
  }
  const auto fraction = [](std::int64_t part, std::int64_t whole) {
    return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : kUndefined;
  };
  return {{"images", images},
          {"clean_accuracy", finiteOrNull(fraction(cleanCorrect, images))},
          {"adversarial_accuracy", finiteOrNull(fraction(images - fooled, images))},
          {"success_rate", finiteOrNull(fraction(fooledCorrect, cleanCorrect))},
          {"clean_correct", result.cleanCorrect},
          {"fooled", result.fooled},
          {"linf", finiteOrNull(result.linf)},
          {"l2", finiteOrNull(result.l2)}};
}

AttackResult fgsmAttack(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels, double epsilon,
                        const Job& job, std::int64_t batchSize) {
  checkInputs(images, labels, batchSize, "FGSM");
  checkEpsilon(epsilon, "FGSM");
  PgdConfig oneStep;
  oneStep.norm = AttackNorm::LInf;
  oneStep.steps = 1;
  oneStep.relativeStepSize = 1.0;
  oneStep.restarts = 1;
  oneStep.randomStart = false;
  EvaluationMode evaluation(model);
  const std::int64_t count = images.size(0);
  return attackResult(images,
                      runPgd(model, images, labels, indexRange(0, count),
                             std::vector<double>(static_cast<std::size_t>(count), epsilon), oneStep, job, batchSize));
}

AttackResult pgdAttack(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels, double epsilon,
                       const PgdConfig& config, const Job& job, std::int64_t batchSize) {
  checkInputs(images, labels, batchSize, "PGD");
  checkEpsilon(epsilon, "PGD");
  validate(config);
  EvaluationMode evaluation(model);
  const std::int64_t count = images.size(0);
  return attackResult(images,
                      runPgd(model, images, labels, indexRange(0, count),
                             std::vector<double>(static_cast<std::size_t>(count), epsilon), config, job, batchSize));
}

// ---- success rate against the budget ------------------------------------------------------------

nlohmann::json toJson(const SuccessRateCurve& curve) {
  return {{"norm", attackNormName(curve.norm)},
          {"epsilons", curve.epsilons},
          {"success_rates", finiteOrNull(curve.successRates)},
          {"accuracies", finiteOrNull(curve.accuracies)},
          {"images", curve.images}};
}

SuccessRateCurve successRateCurve(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                                  const std::vector<double>& epsilons, const PgdConfig& config, const Job& job,
                                  std::int64_t batchSize) {
  checkInputs(images, labels, batchSize, "success-rate curve");
  if (epsilons.empty()) throw Error("success-rate curve: no epsilons");
  for (const double epsilon : epsilons) checkEpsilon(epsilon, "success-rate curve");
  validate(config);
  SuccessRateCurve curve;
  curve.norm = config.norm;
  curve.epsilons = epsilons;
  curve.images = images.size(0);
  const auto points = static_cast<double>(epsilons.size());
  for (std::size_t point = 0; point < epsilons.size(); ++point) {
    const AttackResult attacked =
        pgdAttack(model, images, labels, epsilons[point], config,
                  job.subJob(static_cast<double>(point) / points, static_cast<double>(point + 1) / points), batchSize);
    std::int64_t cleanCorrect = 0, fooledCorrect = 0, stillCorrect = 0;
    for (std::size_t i = 0; i < attacked.fooled.size(); ++i) {
      cleanCorrect += attacked.cleanCorrect[i] ? 1 : 0;
      fooledCorrect += attacked.cleanCorrect[i] && attacked.fooled[i] ? 1 : 0;
      stillCorrect += attacked.fooled[i] ? 0 : 1;
    }
    curve.successRates.push_back(
        cleanCorrect > 0 ? static_cast<double>(fooledCorrect) / static_cast<double>(cleanCorrect) : kUndefined);
    curve.accuracies.push_back(curve.images > 0 ? static_cast<double>(stillCorrect) / static_cast<double>(curve.images)
                                                : kUndefined);
  }
  return curve;
}

// ---- transfer -----------------------------------------------------------------------------------

nlohmann::json toJson(const TransferResult& result) {
  return {{"images", result.images},
          {"target_clean_accuracy", finiteOrNull(result.targetCleanAccuracy)},
          {"target_adversarial_accuracy", finiteOrNull(result.targetAdversarialAccuracy)},
          {"transfer_rate", finiteOrNull(result.transferRate)},
          {"transfer_candidates", result.transferCandidates}};
}

TransferResult evaluateTransfer(Classifier& target, const torch::Tensor& images, const torch::Tensor& labels,
                                const AttackResult& crafted, const Job& job, std::int64_t batchSize) {
  checkInputs(images, labels, batchSize, "transfer");
  const std::int64_t count = images.size(0);
  if (!crafted.adversarials.defined() || crafted.adversarials.sizes() != images.sizes() ||
      static_cast<std::int64_t>(crafted.fooled.size()) != count)
    throw Error("transfer: the crafted attack must cover the same images");
  EvaluationMode evaluation(target);
  const torch::Device device = target->device();
  std::vector<bool> cleanCorrect, adversarialCorrect;
  for (std::int64_t begin = 0; begin < count; begin += batchSize) {
    job.throwIfCancelled();
    const std::int64_t size = std::min(batchSize, count - begin);
    const torch::Tensor batchLabels = labels.narrow(0, begin, size).to(device);
    const std::vector<bool> clean =
        toBools(~misclassified(target, images.narrow(0, begin, size).to(device, torch::kFloat), batchLabels));
    const std::vector<bool> adversarial =
        toBools(~misclassified(target, crafted.adversarials.narrow(0, begin, size).to(device), batchLabels));
    cleanCorrect.insert(cleanCorrect.end(), clean.begin(), clean.end());
    adversarialCorrect.insert(adversarialCorrect.end(), adversarial.begin(), adversarial.end());
    job.progress(static_cast<double>(begin + size) / static_cast<double>(count), "transfer");
  }
  TransferResult result;
  result.images = count;
  std::int64_t clean = 0, adversarial = 0, transferred = 0;
  for (std::size_t i = 0; i < cleanCorrect.size(); ++i) {
    clean += cleanCorrect[i] ? 1 : 0;
    adversarial += adversarialCorrect[i] ? 1 : 0;
    if (cleanCorrect[i] && crafted.cleanCorrect[i] && crafted.fooled[i]) {
      ++result.transferCandidates;
      transferred += adversarialCorrect[i] ? 0 : 1;
    }
  }
  const auto total = static_cast<double>(count);
  result.targetCleanAccuracy = count > 0 ? static_cast<double>(clean) / total : kUndefined;
  result.targetAdversarialAccuracy = count > 0 ? static_cast<double>(adversarial) / total : kUndefined;
  result.transferRate = result.transferCandidates > 0
                            ? static_cast<double>(transferred) / static_cast<double>(result.transferCandidates)
                            : kUndefined;
  return result;
}

// ---- minimum perturbations ----------------------------------------------------------------------

nlohmann::json toJson(const MinimumNormResult& result) {
  return {{"attack", result.attack},
          {"norm", attackNormName(result.norm)},
          {"epsilons", finiteOrNull(result.epsilons)},
          {"linf", finiteOrNull(result.linf)},
          {"l2", finiteOrNull(result.l2)}};
}

nlohmann::json toJson(const MinimumNormConfig& config) {
  return {{"pgd", toJson(config.pgd)},
          {"lower_epsilon", config.lowerEpsilon},
          {"upper_epsilon", config.upperEpsilon},
          {"search_steps", config.searchSteps}};
}

MinimumNormConfig minimumNormConfigFromJson(const nlohmann::json& json) {
  MinimumNormConfig config;
  ConfigReader reader(json, "minimum-norm search config");
  if (const auto* pgd = reader.find("pgd")) config.pgd = pgdConfigFromJson(*pgd);
  reader.read("lower_epsilon", config.lowerEpsilon);
  reader.read("upper_epsilon", config.upperEpsilon);
  reader.read("search_steps", config.searchSteps);
  reader.finish();
  return config;
}

void validate(const MinimumNormConfig& config) {
  validate(config.pgd);
  if (!std::isfinite(config.lowerEpsilon) || config.lowerEpsilon < 0.0)
    throw Error("minimum-norm search: lower_epsilon must be a finite number >= 0");
  if (!std::isfinite(config.upperEpsilon) || config.upperEpsilon <= config.lowerEpsilon)
    throw Error("minimum-norm search: upper_epsilon must be finite and above lower_epsilon");
  if (config.searchSteps < 0) throw Error("minimum-norm search: search_steps must be >= 0");
}

MinimumNormResult minimumNormSearch(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                                    const MinimumNormConfig& config, const Job& job, std::int64_t batchSize) {
  checkInputs(images, labels, batchSize, "minimum-norm search");
  validate(config);
  EvaluationMode evaluation(model);
  const std::int64_t count = images.size(0);
  const auto runs = static_cast<double>(config.searchSteps + 1);
  const PgdOutcome atUpper = runPgd(model, images, labels, indexRange(0, count),
                                    std::vector<double>(static_cast<std::size_t>(count), config.upperEpsilon),
                                    config.pgd, job.subJob(0.0, 1.0 / runs), batchSize);
  const torch::Tensor clean = images.to(torch::kCPU, torch::kFloat);
  torch::Tensor adversarials = atUpper.adversarials.clone();
  std::vector<double> low(static_cast<std::size_t>(count), config.lowerEpsilon);
  std::vector<double> high(static_cast<std::size_t>(count), config.upperEpsilon);
  std::vector<std::int64_t> searching;
  for (std::int64_t i = 0; i < count; ++i) {
    const auto row = static_cast<std::size_t>(i);
    if (atUpper.cleanFooled[row]) {
      high[row] = 0.0;
    } else if (!atUpper.fooled[row]) {
      high[row] = kInfinity;
      adversarials[i].copy_(clean[i]);
    } else {
      searching.push_back(i);
    }
  }
  for (int step = 0; step < config.searchSteps && !searching.empty(); ++step) {
    std::vector<double> middles;
    for (const std::int64_t i : searching)
      middles.push_back((low[static_cast<std::size_t>(i)] + high[static_cast<std::size_t>(i)]) / 2.0);
    const PgdOutcome atMiddle = runPgd(model, images, labels, searching, middles, config.pgd,
                                       job.subJob((step + 1) / runs, (step + 2) / runs), batchSize);
    for (std::size_t j = 0; j < searching.size(); ++j) {
      const auto row = static_cast<std::size_t>(searching[j]);
      if (atMiddle.fooled[j]) {
        high[row] = middles[j];
        adversarials[searching[j]].copy_(atMiddle.adversarials[static_cast<std::int64_t>(j)]);
      } else {
        low[row] = middles[j];
      }
    }
  }
  MinimumNormResult result;
  result.attack = config.pgd.norm == AttackNorm::LInf ? "pgd_linf_search" : "pgd_l2_search";
  result.norm = config.pgd.norm;
  const torch::Tensor delta = adversarials - clean;
  result.linf = toDoubles(linfNorms(delta));
  result.l2 = toDoubles(l2Norms(delta));
  for (std::size_t i = 0; i < high.size(); ++i)
    if (std::isinf(high[i])) result.linf[i] = result.l2[i] = kInfinity;
  result.epsilons = std::move(high);
  result.adversarials = adversarials;
  return result;
}

nlohmann::json toJson(const BoundaryAttackConfig& config) {
  return {{"steps", config.steps},
          {"start_trials", config.startTrials},
          {"orthogonal_step", config.orthogonalStep},
          {"towards_step", config.towardsStep},
          {"step_adaptation", config.stepAdaptation},
          {"adaptation_interval", config.adaptationInterval},
          {"seed", config.seed}};
}

BoundaryAttackConfig boundaryAttackConfigFromJson(const nlohmann::json& json) {
  BoundaryAttackConfig config;
  ConfigReader reader(json, "boundary attack config");
  reader.read("steps", config.steps);
  reader.read("start_trials", config.startTrials);
  reader.read("orthogonal_step", config.orthogonalStep);
  reader.read("towards_step", config.towardsStep);
  reader.read("step_adaptation", config.stepAdaptation);
  reader.read("adaptation_interval", config.adaptationInterval);
  reader.read("seed", config.seed);
  reader.finish();
  return config;
}

void validate(const BoundaryAttackConfig& config) {
  if (config.steps < 0) throw Error("boundary attack: steps must be >= 0");
  if (config.startTrials < 1) throw Error("boundary attack: start_trials must be at least 1");
  if (!(config.orthogonalStep > 0.0 && config.orthogonalStep <= 1.0))
    throw Error("boundary attack: orthogonal_step must be in (0, 1]");
  if (!(config.towardsStep > 0.0 && config.towardsStep <= 0.5))
    throw Error("boundary attack: towards_step must be in (0, 0.5]");
  if (!(config.stepAdaptation > 1.0) || !std::isfinite(config.stepAdaptation))
    throw Error("boundary attack: step_adaptation must be a number above 1");
  if (config.adaptationInterval < 1) throw Error("boundary attack: adaptation_interval must be at least 1");
}

MinimumNormResult boundaryAttack(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                                 const BoundaryAttackConfig& config, const Job& job, std::int64_t batchSize) {
  checkInputs(images, labels, batchSize, "boundary attack");
  validate(config);
  EvaluationMode evaluation(model);
  torch::NoGradGuard noGrad;
  const torch::Device device = model->device();
  const std::int64_t count = images.size(0);
  const std::vector<std::int64_t> shape = {images.size(1), images.size(2), images.size(3)};
  const double batches = std::ceil(static_cast<double>(count) / static_cast<double>(batchSize));
  std::vector<torch::Tensor> found;
  std::vector<bool> walked;  // a misclassified start was found (false also for already misclassified images)
  std::vector<bool> cleanFooled;
  for (std::int64_t begin = 0; begin < count; begin += batchSize) {
    const std::int64_t size = std::min(batchSize, count - begin);
    const std::vector<std::int64_t> rows = indexRange(begin, size);
    const double batchStart = static_cast<double>(begin / batchSize) / batches;
    const torch::Tensor x = images.narrow(0, begin, size).to(device, torch::kFloat);
    const torch::Tensor batchLabels = labels.narrow(0, begin, size).to(device, torch::kLong);
    const torch::Tensor alreadyFooled = misclassified(model, x, batchLabels);

    // Start: a misclassified uniform-noise image, then the closest misclassified blend towards x.
    torch::Tensor active = torch::zeros({size}, torch::TensorOptions().dtype(torch::kBool).device(device));
    torch::Tensor start = x;
    for (int trial = 0; trial < config.startTrials && !(active | alreadyFooled).all().item<bool>(); ++trial) {
      job.throwIfCancelled();
      const torch::Tensor noise =
          imageNoise(ImageNoise::Uniform, rows, shape, config.seed, purpose(kBoundaryStart, trial)).to(device);
      const torch::Tensor take = misclassified(model, noise, batchLabels) & ~active & ~alreadyFooled;
      start = torch::where(perImage(take), noise, start);
      active = active | take;
    }
    torch::Tensor low = torch::zeros({size}, x.options()), high = torch::ones({size}, x.options());
    for (int step = 0; step < kStartBisectionSteps; ++step) {
      const torch::Tensor middle = (low + high) / 2.0;
      const torch::Tensor fooled = misclassified(model, x + perImage(middle) * (start - x), batchLabels);
      high = torch::where(fooled, middle, high);
      low = torch::where(fooled, low, middle);
    }
    torch::Tensor adversarial = torch::where(perImage(active), x + perImage(high) * (start - x), x);

    // The walk along the boundary.
    torch::Tensor orthogonalStep = torch::full({size}, config.orthogonalStep, x.options());
    torch::Tensor towardsStep = torch::full({size}, config.towardsStep, x.options());
    torch::Tensor orthogonalSuccesses = torch::zeros({size}, x.options());
    torch::Tensor towardsSuccesses = torch::zeros({size}, x.options());
    for (int step = 0; step < config.steps && active.any().item<bool>(); ++step) {
      job.throwIfCancelled();
      const torch::Tensor towardsImage = x - adversarial;
      const torch::Tensor distance = l2Norms(towardsImage).clamp_min(1e-12);
      const torch::Tensor unit = towardsImage / perImage(distance);
      torch::Tensor eta =
          imageNoise(ImageNoise::Normal, rows, shape, config.seed, purpose(kBoundaryStep, step)).to(device);
      eta = eta - perImage((eta * unit).flatten(1).sum(1)) * unit;
      eta = eta * perImage(orthogonalStep * distance / l2Norms(eta).clamp_min(1e-12));
      const torch::Tensor moved = adversarial + eta - x;
      const torch::Tensor onSphere = (x + moved * perImage(distance / l2Norms(moved).clamp_min(1e-12))).clamp(0.0, 1.0);
      const torch::Tensor candidate = onSphere + perImage(towardsStep) * (x - onSphere);
      const torch::Tensor sphereFooled = misclassified(model, onSphere, batchLabels);
      const torch::Tensor candidateFooled = misclassified(model, candidate, batchLabels);
      const torch::Tensor accept = candidateFooled & active & l2Norms(x - candidate).lt(distance);
      adversarial = torch::where(perImage(accept), candidate, adversarial);
      orthogonalSuccesses += sphereFooled.to(x.scalar_type());
      towardsSuccesses += candidateFooled.to(x.scalar_type());
      if ((step + 1) % config.adaptationInterval == 0) {
        const torch::Tensor sphereRate = orthogonalSuccesses / config.adaptationInterval;
        const torch::Tensor towardsRate = towardsSuccesses / config.adaptationInterval;
        const double factor = config.stepAdaptation;
        const torch::Tensor scale = torch::where(
            sphereRate.gt(0.5), torch::full_like(sphereRate, factor),
            torch::where(sphereRate.lt(0.2), torch::full_like(sphereRate, 1.0 / factor), torch::ones_like(sphereRate)));
        orthogonalStep = (orthogonalStep * scale).clamp_max(1.0);
        towardsStep = towardsStep * scale;
        towardsStep = torch::where(towardsRate.gt(0.5), towardsStep * factor,
                                   torch::where(towardsRate.lt(0.2), towardsStep / factor, towardsStep))
                          .clamp_max(0.5);
        orthogonalSuccesses.zero_();
        towardsSuccesses.zero_();
      }
      job.progress(batchStart + static_cast<double>(step + 1) / config.steps / batches,
                   "boundary attack step " + std::to_string(step + 1) + "/" + std::to_string(config.steps));
    }
    found.push_back(adversarial.to(torch::kCPU));
    const std::vector<bool> batchWalked = toBools(active);
    const std::vector<bool> batchFooled = toBools(alreadyFooled);
    walked.insert(walked.end(), batchWalked.begin(), batchWalked.end());
    cleanFooled.insert(cleanFooled.end(), batchFooled.begin(), batchFooled.end());
  }
  MinimumNormResult result;
  result.attack = "boundary";
  result.norm = AttackNorm::L2;
  result.adversarials = found.empty() ? torch::empty({0, shape[0], shape[1], shape[2]}) : torch::cat(found);
  const torch::Tensor delta = result.adversarials - images.to(torch::kCPU, torch::kFloat);
  result.linf = toDoubles(linfNorms(delta));
  result.l2 = toDoubles(l2Norms(delta));
  for (std::size_t i = 0; i < walked.size(); ++i)
    if (!walked[i] && !cleanFooled[i]) result.linf[i] = result.l2[i] = kInfinity;
  result.epsilons = result.l2;
  return result;
}

MinimumNormSummary summarizeMinimumNorms(const MinimumNormResult& result) {
  MinimumNormSummary summary;
  summary.attack = result.attack;
  summary.norm = result.norm;
  summary.images = static_cast<std::int64_t>(result.epsilons.size());
  for (const double epsilon : result.epsilons) {
    summary.alreadyMisclassified += epsilon == 0.0 ? 1 : 0;
    summary.failed += std::isinf(epsilon) ? 1 : 0;
  }
  summary.medianEpsilon = median(result.epsilons);
  summary.medianLinf = median(result.linf);
  summary.medianL2 = median(result.l2);
  return summary;
}

nlohmann::json toJson(const MinimumNormSummary& summary) {
  return {{"attack", summary.attack},
          {"norm", attackNormName(summary.norm)},
          {"images", summary.images},
          {"already_misclassified", summary.alreadyMisclassified},
          {"failed", summary.failed},
          {"median_epsilon", finiteOrNull(summary.medianEpsilon)},
          {"median_linf", finiteOrNull(summary.medianLinf)},
          {"median_l2", finiteOrNull(summary.medianL2)}};
}

}  // namespace bp
