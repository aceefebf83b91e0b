#pragma once
// A group of data-parallel workers on PyTorch's own distributed engine (c10d): the ranks meet at a
// c10d::TCPStore that rank 0 opens at MASTER_ADDR:MASTER_PORT, and exchange tensors through
// c10d::ProcessGroupGloo (CPUs). Every failure (a port in use, an unreachable master, ranks that
// disagree, a rank that dies or hangs) becomes a bp::Error that names the rank and the host it
// concerns, within the group's timeout. docs/distributed.md tells how the trainers use it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include "distributed/launch_environment.h"

namespace bp {

class DataParallelGroup {
 public:
  // Joins the group that `launch` describes, waiting at most `timeout` for the other ranks; every
  // collective later waits at most `timeout` for its peers too.
  DataParallelGroup(const LaunchEnvironment& launch, std::chrono::milliseconds timeout);
  ~DataParallelGroup();
  DataParallelGroup(const DataParallelGroup&) = delete;
  DataParallelGroup& operator=(const DataParallelGroup&) = delete;

  int rank() const;
  int size() const;
  // Rank 0 alone writes files (run folders, checkpoints, reports).
  bool leads() const { return rank() == 0; }
  const LaunchEnvironment& launch() const;
  const std::vector<std::string>& hosts() const;  // one per rank

  // What the collectives of this group have cost so far: wall seconds inside them (sending,
  // receiving, and waiting for slower ranks), the bytes of tensor data this rank contributed, and
  // their count. The run summaries and the data-parallel benchmark report them.
  struct ExchangeTally {
    double seconds = 0.0;
    std::int64_t bytes = 0;
    std::int64_t collectives = 0;
  };
  ExchangeTally exchanged() const;

  // Every tensor replaced, in place, by its sum over the ranks (tensors of one dtype travel
  // together in buckets).
  void allReduceSum(const std::vector<torch::Tensor>& tensors);
  // Every tensor replaced, in place, by rank 0's.
  void broadcastFromLeader(const std::vector<torch::Tensor>& tensors);
  // Every rank must pass the same `value` (a config as JSON text): bp::Error naming the ranks that
  // differ and the first difference.
  void requireSameOnEveryRank(const std::string& what, const std::string& value);
  // Runs `work` on rank 0 alone; when it throws, every rank throws a bp::Error with its message, so
  // that no rank waits for a leader that has given up.
  void runOnLeader(const std::function<void()>& work);
  // Tells the other ranks why this one stops (they quote it when the group breaks).
  void reportStopping(const std::string& reason) noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Who trained a result, for its record: {"world_size", "launcher", "hosts" (one per rank)}; for
// null (one process) {"world_size": 1, "launcher": "single process"}.
nlohmann::json describeWorkers(const DataParallelGroup* group);

// The group that collective layers on this thread use (the similarity regularizer's running means,
// and batch norm when it is synchronized): set by a DataParallelScope for the span of a training
// loop; null when this thread trains alone.
DataParallelGroup* currentDataParallelGroup();
// The group whose ranks batch norm takes its statistics over on this thread; null: its own batch.
DataParallelGroup* batchNormDataParallelGroup();

class DataParallelScope {
 public:
  DataParallelScope(DataParallelGroup* group, bool synchronizeBatchNorm);
  ~DataParallelScope();
  DataParallelScope(const DataParallelScope&) = delete;
  DataParallelScope& operator=(const DataParallelScope&) = delete;

 private:
  DataParallelGroup* previousGroup_;
  DataParallelGroup* previousBatchNormGroup_;
};

// After backward: every parameter's gradient, and `figures` (the step's loss values), summed over
// the ranks in one exchange. A parameter this step did not reach takes part as zeros and is left
// without a gradient again, as it would be alone (so the optimizer leaves it as it is).
void sumGradients(DataParallelGroup& group, const std::vector<torch::Tensor>& parameters, const torch::Tensor& figures);

// The step's whole batch and this rank's first row in it, for layers that draw random numbers per
// image (the Gaussian readout's position noise): they draw for the whole batch and keep their
// rows, so that the draws do not depend on the number of workers. Set by the neural trainer for
// each step (alone, its rows are the whole batch); null elsewhere, where a layer draws for the
// batch it is given.
struct StepRows {
  std::int64_t total = 0;
  std::int64_t begin = 0;
};
const StepRows* currentStepRows();

class StepRowsScope {
 public:
  explicit StepRowsScope(const StepRows& rows);
  ~StepRowsScope();
  StepRowsScope(const StepRowsScope&) = delete;
  StepRowsScope& operator=(const StepRowsScope&) = delete;

 private:
  const StepRows* previous_;
  StepRows rows_;
};

// The sum over the ranks of `input`, differentiable: the gradient that reaches each rank's input
// is the sum of every rank's gradient of the output (an all-reduce in backward too), so a loss
// summed over the ranks has the gradient one process with the whole batch would compute.
torch::Tensor allReduceSumWithGrad(DataParallelGroup& group, const torch::Tensor& input);

// The rows [begin, end) of `count` rows that `rank` of `ranks` takes: contiguous shares whose
// sizes differ by at most one, in rank order (so the shares, concatenated, are the whole).
struct RowShare {
  std::int64_t begin = 0;
  std::int64_t end = 0;
};
RowShare rowShare(std::int64_t count, int rank, int ranks);

}  // namespace bp
