#pragma once
// Adversarial robustness of a classifier (docs/science.md §1 step 7): the paper's measure is the median,
// over 1,000 test images, of the smallest perturbation that flips the model's decision, in L-inf and
// L2 (images in [0, 1]). A smaller median means a less robust model.
//
// All attacks are untargeted, work on images in [0, 1] (the model normalises them itself), run the
// model in evaluation mode (its training mode is restored) and differentiate the summed
// cross-entropy with respect to the input only; the model's weights get no gradients. They go
// through the images in batches and check the job's cancellation at every step.
//
// Gradient attacks, perturbation delta = x' - x, budget epsilon, step alpha:
//   FGSM (L-inf):  x' = clip01(x + epsilon * sign(g)),  g = d CE / d x
//   PGD  (L-inf):  x <- P(x + alpha * sign(g)),      P: delta clamped to [-epsilon, epsilon] per pixel
//   PGD  (L2):     x <- P(x + alpha * g / |g|_2),   P: delta scaled by min(1, epsilon / |delta|_2)
// and every P then clamps x' to [0, 1], which only shrinks each |delta_i|, so x' stays in the ball
// and in the box. The random start is x + epsilon * u with u uniform in [-1, 1]^d (L-inf) or in the
// unit L2 ball (L2), projected the same way. An image counts as fooled as soon as any iterate of any
// restart is misclassified; its first fooling iterate is kept and it is not attacked further. Images
// the model already misclassifies are fooled at distance 0.
//
// Random numbers (random starts, the boundary attack's noise) come from per-image streams of
// (seed, image index), so an image's attack does not depend on the batch it is in.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include "classifiers/resnet.h"
#include "runtime/job.h"

namespace bp {

enum class AttackNorm { LInf, L2 };

const char* attackNormName(AttackNorm norm);  // "linf", "l2"
std::optional<AttackNorm> parseAttackNorm(const std::string& name);

// ---- fixed-budget attacks -----------------------------------------------------------------------

struct PgdConfig {
  AttackNorm norm = AttackNorm::LInf;
  int steps = 20;
  // alpha = relative_step_size * epsilon, so that one setting serves every budget; 0.125 is
  // 2.5 / steps for the default steps (Madry et al. 2018's rule of thumb).
  double relativeStepSize = 0.125;
  int restarts = 1;  // each restart after the first starts from a new random point
  bool randomStart = true;
  std::uint64_t seed = 0;
};

// Keys: {"norm": "linf" | "l2", "steps", "relative_step_size", "restarts", "random_start", "seed"}.
nlohmann::json toJson(const PgdConfig& config);
// Missing keys keep their defaults; an unknown key or a wrong type is a bp::Error naming it.
PgdConfig pgdConfigFromJson(const nlohmann::json& json);
// Throws bp::Error for fewer than 1 step or restart, or a step size that is not positive.
void validate(const PgdConfig& config);

struct AttackResult {
  torch::Tensor adversarials;      // N x C x H x W on the CPU in [0, 1]: the fooling image, else the last iterate
  std::vector<bool> cleanCorrect;  // the model classifies the clean image correctly
  std::vector<bool> fooled;        // the model misclassifies adversarials[i] (true for every !cleanCorrect)
  std::vector<double> linf;        // max_i |x'_i - x_i| of adversarials[i]
  std::vector<double> l2;          // |x' - x|_2 of adversarials[i]
};

// Keys: {"images", "clean_accuracy", "adversarial_accuracy", "success_rate", "clean_correct",
// "fooled", "linf", "l2"}; success_rate is the fraction of the cleanly correct images fooled (null
// when there are none). No images.
nlohmann::json toJson(const AttackResult& result);

AttackResult fgsmAttack(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels, double epsilon,
                        const Job& job = {}, std::int64_t batchSize = 256);
AttackResult pgdAttack(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels, double epsilon,
                       const PgdConfig& config, const Job& job = {}, std::int64_t batchSize = 256);

// ---- success rate against the budget ------------------------------------------------------------

struct SuccessRateCurve {
  AttackNorm norm = AttackNorm::LInf;
  std::vector<double> epsilons;
  std::vector<double> successRates;  // fraction of the cleanly correct images PGD fooled (NaN: none correct)
  std::vector<double> accuracies;    // fraction of all images still classified correctly
  std::int64_t images = 0;
};

// Keys: {"norm", "epsilons", "success_rates", "accuracies", "images"}; NaN as null.
nlohmann::json toJson(const SuccessRateCurve& curve);

// One PGD attack per epsilon (in increasing order as given; epsilon 0 is the clean accuracy).
SuccessRateCurve successRateCurve(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                                  const std::vector<double>& epsilons, const PgdConfig& config, const Job& job = {},
                                  std::int64_t batchSize = 256);

// ---- transfer -----------------------------------------------------------------------------------

// Adversarials crafted on one model (the source) shown to another (the target).
struct TransferResult {
  std::int64_t images = 0;
  double targetCleanAccuracy = 0.0;
  double targetAdversarialAccuracy = 0.0;
  // Among the images both models classify correctly and whose adversarial fooled the source, the
  // fraction whose adversarial also fools the target; NaN when there are none.
  double transferRate = 0.0;
  std::int64_t transferCandidates = 0;  // the images transferRate is over
};

// Keys: {"images", "target_clean_accuracy", "target_adversarial_accuracy", "transfer_rate",
// "transfer_candidates"}; NaN as null.
nlohmann::json toJson(const TransferResult& result);

// `crafted` is an attack on the source model over the same images and labels.
TransferResult evaluateTransfer(Classifier& target, const torch::Tensor& images, const torch::Tensor& labels,
                                const AttackResult& crafted, const Job& job = {}, std::int64_t batchSize = 256);

// ---- minimum perturbations ----------------------------------------------------------------------

// Per image, the smallest perturbation an attack found that flips the decision.
struct MinimumNormResult {
  std::string attack;                  // "pgd_linf_search", "pgd_l2_search" or "boundary"
  AttackNorm norm = AttackNorm::LInf;  // the norm the attack minimises
  torch::Tensor adversarials;          // N x C x H x W on the CPU in [0, 1]: the closest adversarial, else the image
  // In `norm`: 0 for images already misclassified, +inf where the attack never fooled the model.
  // PGD search: the smallest budget at which PGD fooled the model (the adversarial's own distance is
  // at most this); boundary attack: the L2 distance of its final adversarial.
  std::vector<double> epsilons;
  std::vector<double> linf;  // of adversarials[i]; 0 already misclassified, +inf never fooled
  std::vector<double> l2;
};

// Keys: {"attack", "norm", "epsilons", "linf", "l2"}; +inf as null.
nlohmann::json toJson(const MinimumNormResult& result);

// Binary search over epsilon with PGD, for every image at once. PGD first runs at upper_epsilon
// (the images it cannot fool there are +inf); then search_steps times, for each fooled image,
// PGD at mid = (low + high) / 2: fooled -> high = mid (and its adversarial is kept), else low = mid.
// The reported epsilon is the final high, so it is never above a budget at which PGD succeeded, and
// within (upper - lower) / 2^search_steps of the search's threshold.
struct MinimumNormConfig {
  PgdConfig pgd;
  double lowerEpsilon = 0.0;
  // L-inf: 0.1 is ~30 times the paper's medians; for L2 use a few units (the default probe uses 3).
  double upperEpsilon = 0.1;
  int searchSteps = 10;
};

// Keys: {"pgd": PgdConfig, "lower_epsilon", "upper_epsilon", "search_steps"}.
nlohmann::json toJson(const MinimumNormConfig& config);
MinimumNormConfig minimumNormConfigFromJson(const nlohmann::json& json);
// Throws bp::Error unless 0 <= lower < upper and search_steps >= 0 (and the PGD config is valid).
void validate(const MinimumNormConfig& config);

MinimumNormResult minimumNormSearch(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                                    const MinimumNormConfig& config, const Job& job = {}, std::int64_t batchSize = 256);

// The decision-based boundary attack (Brendel, Rauber & Bethge, ICLR 2018): it needs only the
// model's decisions. Start: the first of start_trials uniform-noise images u that the model
// misclassifies, blended towards the image, x0 = (1 - b) x + b u with the smallest b found by
// 20 bisection steps that keeps it misclassified. Then, per step, from the current adversarial a
// at distance d = |x - a|_2:
//   1. orthogonal step: eta ~ N(0, I) minus its component along x - a, scaled to |eta| = delta * d;
//      c1 = x + (a + eta - x) * d / |a + eta - x| (back on the sphere of radius d), clipped to [0, 1];
//   2. towards the image: c2 = c1 + epsilon * (x - c1);
//   3. a <- c2 when the model misclassifies c2 and it is closer than d.
// Every adaptation_interval steps, per image: when more than half the c1 were adversarial, delta
// and epsilon grow by step_adaptation, when fewer than a fifth, both shrink; independently, when
// more than half the c2 were adversarial epsilon grows, when fewer than a fifth it shrinks (the
// rule of Foolbox's implementation). epsilon stays at most 0.5, delta at most 1.
struct BoundaryAttackConfig {
  int steps = 1000;
  int startTrials = 50;
  double orthogonalStep = 0.01;  // delta, relative to the distance
  double towardsStep = 0.01;     // epsilon, fraction of the distance
  double stepAdaptation = 1.5;
  int adaptationInterval = 10;
  std::uint64_t seed = 0;
};

// Keys: {"steps", "start_trials", "orthogonal_step", "towards_step", "step_adaptation",
// "adaptation_interval", "seed"}.
nlohmann::json toJson(const BoundaryAttackConfig& config);
BoundaryAttackConfig boundaryAttackConfigFromJson(const nlohmann::json& json);
// Throws bp::Error for non-positive counts or steps, or an adaptation factor not above 1.
void validate(const BoundaryAttackConfig& config);

// Reports the L2 distance as `epsilons` (norm l2); images with no misclassified start are +inf.
MinimumNormResult boundaryAttack(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                                 const BoundaryAttackConfig& config, const Job& job = {}, std::int64_t batchSize = 256);

// The paper's table row for one attack: medians over all images, the never-fooled ones counting
// as +inf (so the median is +inf, null in JSON, when more than half failed).
struct MinimumNormSummary {
  std::string attack;
  AttackNorm norm = AttackNorm::LInf;
  std::int64_t images = 0;
  std::int64_t alreadyMisclassified = 0;
  std::int64_t failed = 0;  // never fooled
  double medianEpsilon = 0.0;
  double medianLinf = 0.0;
  double medianL2 = 0.0;
};

MinimumNormSummary summarizeMinimumNorms(const MinimumNormResult& result);

// Keys: {"attack", "norm", "images", "already_misclassified", "failed", "median_epsilon",
// "median_linf", "median_l2"}; +inf as null.
nlohmann::json toJson(const MinimumNormSummary& summary);

}  // namespace bp
