#include "measures/chance_level.h"

#include <cmath>

#include "runtime/number_format.h"

namespace bp {
namespace {

double chanceLevelBound(int classes, std::int64_t images) {
  const double chance = 1.0 / classes;
  return chance + 2.0 * std::sqrt(chance * (1.0 - chance) / static_cast<double>(images));
}

}  // namespace

bool isChanceLevelAccuracy(double accuracy, int classes, std::int64_t images) {
  if (!std::isfinite(accuracy) || classes < 2 || images < 1) return false;
  return accuracy <= chanceLevelBound(classes, images);
}

std::optional<std::string> chanceLevelWarning(const std::string& what, double accuracy, int classes,
                                              std::int64_t images) {
  if (!isChanceLevelAccuracy(accuracy, classes, images)) return std::nullopt;
  return what + ": accuracy " + formatFixed(accuracy, 3) + " is at chance level (" + std::to_string(classes) +
         " classes: " + formatFixed(1.0 / classes, 3) + "; on " + std::to_string(images) +
         " images a guesser reaches up to " + formatFixed(chanceLevelBound(classes, images), 3) +
         "), so this classifier has not learned the task and its figures say nothing about its prior";
}

}  // namespace bp
