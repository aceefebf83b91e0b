#pragma once
// Checks shared by the tests of predictive neural models. Include after the LibTorch headers and
// <QtTest> (Qt's `slots` macro must come after LibTorch).
#include <QtTest>

#include "models/neural_model.h"
#include "training/neural_trainer.h"

namespace bp::test {

// Every parameter gets a gradient from the loss, and some of it is non-zero: nothing is detached
// or left unregistered. The model must have 5 neurons and take 1-channel images of this size.
inline void verifyEveryParameterLearns(NeuralModel& model, std::int64_t height, std::int64_t width) {
  model->train();
  torch::manual_seed(3);
  const torch::Tensor rates = model->forward(torch::randn({3, 1, height, width}));
  QCOMPARE(rates.size(0), std::int64_t{3});
  QCOMPARE(rates.size(1), std::int64_t{5});
  QVERIFY((rates > 0).all().item<bool>());
  const torch::Tensor penalty = model->regularization();
  QCOMPARE(penalty.dim(), std::int64_t{0});
  QVERIFY(penalty.item<double>() > 0.0);
  (poissonLoss(rates, torch::ones({3, 5})) + penalty).backward();
  for (const auto& parameter : model->named_parameters()) {
    QVERIFY2(parameter.value().grad().defined(), parameter.key().c_str());
    QVERIFY2(parameter.value().grad().abs().sum().item<double>() > 0.0, parameter.key().c_str());
  }
}

}  // namespace bp::test
