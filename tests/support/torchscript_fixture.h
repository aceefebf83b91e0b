#pragma once
// A small TorchScript model made by LibTorch itself (no Python needed), for tests of imported
// models in every executable; this header is free of LibTorch, so widget and app tests use it too.
#include <filesystem>
#include <string>

namespace bp::test {

// conv (4 maps of 3 x 3 over 3 channels, seed 3) -> ReLU -> mean over the map -> linear to `classes`:
// {"conv": maps, "pool": the means, "logits": ...}.
extern const char* const kTinyClassifierSource;

// Compiles `source` (TorchScript; parameters: conv 4 x 3 x 3 x 3, fc classes x 4, flat classes x
// 3072) into a module, saves it to `file`, and declares its input beside it (<file>.json): 3 x side x
// side in 0..255, mean (100, 110, 120), std (50, 60, 70).
void writeTorchScriptModel(const std::filesystem::path& file, int side, int classes = 5,
                           const std::string& source = kTinyClassifierSource);

}  // namespace bp::test
