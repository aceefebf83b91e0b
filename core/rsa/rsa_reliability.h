#pragma once
// How reproducible is a similarity matrix measured from noisy trials? Noise ceilings from the repeated
// images (docs/science.md §1 step 4 and §2 "Ceiling"). Only images with at least two trials in
// the chosen tier take part; rows are in order of each image's first trial, as featuresFromDataset's.
//
// Split-half: each image's repeats are divided at random into two halves, each half averaged, and the
// two halves' similarity matrices compared. Spearman-Brown, 2r / (1 + r), turns that agreement of two
// half-data matrices into the expected agreement of two full-data ones: the ceiling a model's matrix
// can reach against the repeat-averaged one.
// Single trial: how well one trial per image reproduces the repeat-averaged matrix (the paper's
// r = 0.39 on oracle images, against r = 0.73 for the model's predictions, which is
// compareMatrices(predicted, repeat-averaged)).
#include <cstdint>
#include <optional>
#include <vector>

#include "data/neural_dataset.h"
#include "rsa/compare.h"
#include "rsa/features.h"
#include "rsa/similarity.h"
#include "runtime/job.h"

namespace bp {

// 2r / (1 + r): the correlation of two full-length measures from that of two halves.
double spearmanBrown(double halfCorrelation);

struct SplitHalfConfig {
  int splits = 20;
  std::uint64_t seed = 1;
  ResponseSource source = ResponseSource::Responses;
  std::optional<Tier> tier = Tier::Test;  // nullopt: repeats in every tier
  SimilarityConfig similarity;
  ComparisonMethod method = ComparisonMethod::Pearson;
};

struct SplitHalfResult {
  std::vector<double> rawPerSplit;  // the two halves' agreement, per split
  double meanRaw = 0.0;
  double meanCorrected = 0.0;  // mean over splits of spearmanBrown(raw)
  double stdCorrected = 0.0;   // sample standard deviation over splits (how much the split matters; NaN for one split)
  int splits = 0;
  std::int64_t images = 0;
};

// An image with an odd number of repeats gives its second half the extra trial. Throws bp::Error with
// fewer than 3 repeated images (fewer than 3 pairs to compare), splits < 1, or noise-free rates asked
// of a dataset without them; CancelledError when the job is cancelled.
SplitHalfResult splitHalfReliability(const NeuralDataset& dataset, const SplitHalfConfig& config = {},
                                     const Job& job = {});

// What a single trial is compared with.
enum class SingleTrialReference {
  // The mean of the image's other repeats. Default: the reference then shares no noise with the trial,
  // so the agreement measures signal only. (With all repeats the trial's own noise appears on both
  // sides, inflating agreement by roughly 1/repeats of the noise share.)
  OtherRepeats,
  AllRepeats,  // the plain repeat average, as a paper may have meant it
};

struct SingleTrialConfig {
  ResponseSource source = ResponseSource::Responses;
  std::optional<Tier> tier = Tier::Test;
  SimilarityConfig similarity;
  ComparisonMethod method = ComparisonMethod::Pearson;
  SingleTrialReference reference = SingleTrialReference::OtherRepeats;
};

struct SingleTrialResult {
  std::vector<double> perRepeat;  // agreement of the matrix of every image's k-th trial, k = 0 .. repeats - 1
  double mean = 0.0;              // over repeats
  std::int64_t images = 0;
  int repeats = 0;  // the fewest repeats of any repeated image, so every k covers the same images
                    // (an image with more still uses all its other trials in the reference)
};

// Repeat k of an image is its k-th trial in dataset order. Throws as splitHalfReliability does.
SingleTrialResult singleTrialAgreement(const NeuralDataset& dataset, const SingleTrialConfig& config = {},
                                       const Job& job = {});

}  // namespace bp
