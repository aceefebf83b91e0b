#pragma once
// Several recordings fitted as one corpus (training/neural_trainer.h): what must agree between them
// before one core can see all their images.
#include <string>
#include <vector>

#include "data/neural_dataset.h"

namespace bp {

// Resizes every recording's images to the first recording's height and width (area averaging when
// shrinking, bilinear when growing, per channel; no cropping), so that one core sees one input
// size. Returns one sentence per resized recording, for the log and the fit's record. bp::Error
// when the recordings differ in channel count (gray and colour cannot share a first layer).
std::vector<std::string> bringToOneImageSize(std::vector<NeuralDataset>& recordings);

// Names that tell the recordings apart (a model's readouts are known by them): a name two
// recordings share gets its file's name added, then a number if that is shared too.
void giveDistinctNames(std::vector<NeuralDataset>& recordings);

}  // namespace bp
