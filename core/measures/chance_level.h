#pragma once
// Whether a classifier's accuracy is distinguishable from guessing. A result at chance level is
// flagged where it is shown (Demo, Comparison, reports, the CLI) rather than presented as a finding.
#include <cstdint>
#include <optional>
#include <string>

namespace bp {

// At most chance (1/classes) plus two standard errors of a guesser's accuracy on `images` images
// (binomial: sqrt(p(1-p)/n)). False when the accuracy is undefined or there are no images.
bool isChanceLevelAccuracy(double accuracy, int classes, std::int64_t images);

// A sentence for the user when `what`'s accuracy is at chance level, e.g. "baseline: test accuracy
// 0.120 is at chance level (10 classes: 0.100; on 60 images anything below 0.177 is)..."; nothing otherwise.
std::optional<std::string> chanceLevelWarning(const std::string& what, double accuracy, int classes, std::int64_t images);

}  // namespace bp
