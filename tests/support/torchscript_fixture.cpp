#include "torchscript_fixture.h"

#include <torch/script.h>

#include "classifiers/scripted_classifier.h"

namespace bp::test {

const char* const kTinyClassifierSource = R"(
def forward(self, x):
    maps = torch.relu(torch.conv2d(x, self.conv, None, [1, 1], [1, 1]))
    pooled = maps.mean([2, 3])
    return {"conv": maps, "pool": pooled, "logits": torch.mm(pooled, self.fc.t())}
)";

void writeTorchScriptModel(const std::filesystem::path& file, int side, int classes, const std::string& source) {
  torch::manual_seed(3);
  torch::jit::Module module("Fixture");
  module.register_parameter("conv", torch::randn({4, 3, 3, 3}), false);
  module.register_parameter("fc", torch::randn({classes, 4}), false);
  module.register_parameter("flat", torch::randn({classes, 3 * 32 * 32}), false);  // a head for 32 x 32 images only
  module.define(source);
  module.save(file.string());
  ScriptedModelDescription description;
  description.input.channels = 3;
  description.input.height = side;
  description.input.width = side;
  description.input.rangeLow = 0.0;
  description.input.rangeHigh = 255.0;
  description.input.mean = {100.0f, 110.0f, 120.0f};
  description.input.std = {50.0f, 60.0f, 70.0f};
  writeScriptedModelDescription(file, description);
}

}  // namespace bp::test
