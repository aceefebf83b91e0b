// c10d's Gloo header compiles only with USE_C10D_GLOO: Debian's TorchConfig.cmake defines it for
// its users, a LibTorch whose config does not is still built with Gloo on Linux.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include "distributed/data_parallel_group.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/error.h"

namespace bp {

namespace {

// Tensors of one dtype travel in buckets of at most this many elements (16 MB of floats): few
// messages for small models, bounded extra memory for large ones.
constexpr std::int64_t kBucketElements = 4 << 20;

std::string hostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown host";
  return name;
}

std::vector<std::uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }
std::string text(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

// The first line of a library's message: c10::Error appends where it was raised and a backtrace.
std::string firstLine(const std::exception& error) {
  const std::string what = error.what();
  return what.substr(0, what.find('\n'));
}

bool isLoopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

std::string seconds(std::chrono::milliseconds duration) {
  return std::to_string((duration.count() + 999) / 1000) + " s";
}

// Where two texts first differ, with a little context, for a message.
std::string firstDifference(const std::string& mine, const std::string& theirs) {
  const auto mismatch = std::mismatch(mine.begin(), mine.end(), theirs.begin(), theirs.end());
  const auto at = static_cast<std::size_t>(mismatch.first - mine.begin());
  const std::size_t from = at > 40 ? at - 40 : 0;
  return "\"..." + mine.substr(from, 80) + "...\" against \"..." + theirs.substr(from, 80) + "...\"";
}

thread_local DataParallelGroup* currentGroup = nullptr;
thread_local DataParallelGroup* currentBatchNormGroup = nullptr;

}  // namespace

struct DataParallelGroup::State {
  LaunchEnvironment launch;
  std::chrono::milliseconds timeout;
  std::vector<std::string> hosts;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  int checks = 0;  // numbers the keys of requireSameOnEveryRank and runOnLeader
  DataParallelGroup::ExchangeTally tally;

  // "rank 1 on host gpu07", the way every message names a rank.
  std::string describe(int rank) const {
    return "rank " + std::to_string(rank) + " on host " + hosts.at(static_cast<std::size_t>(rank));
  }
  std::string me() const { return describe(launch.rank); }

  // A broken collective, explained: who stopped first (a rank that said why, or one that went
  // silent: killed, crashed, hung or cut off), and what Gloo saw.
  [[noreturn]] void fail(const std::string& operation, const std::exception& error) {
    const std::string detail = firstLine(error);
    const std::string reason = "lost contact with the group during " + operation;
    try {
      store->set("stopping/" + std::to_string(launch.rank), bytes(me() + " " + reason));
      // The other survivors say so too: give them a moment before naming the silent ones.
      std::this_thread::sleep_for(std::chrono::seconds(1));
    } catch (const std::exception&) {
      throw Error(me() + " " + reason + ": " + describe(0) + ", which holds the rendezvous store, is gone (" +
                  detail + ")");
    }
    std::vector<std::string> silent;
    std::vector<std::string> said;
    for (int other = 0; other < launch.worldSize; ++other) {
      if (other == launch.rank) continue;
      const std::string key = "stopping/" + std::to_string(other);
      const std::string who = describe(other);
      try {
        if (store->check({key})) {
          const std::string message = text(store->get(key));
          if (message.find("lost contact") == std::string::npos) said.push_back(message);
        } else {
          silent.push_back(who);
        }
      } catch (const std::exception&) {
        silent.push_back(who);
      }
    }
    std::string explanation;
    if (!said.empty()) explanation = "; it stopped first: " + said.front();
    else if (!silent.empty()) {
      explanation = "; no answer from ";
      for (std::size_t i = 0; i < silent.size(); ++i) explanation += (i ? ", " : "") + silent[i];
      explanation += " (killed, crashed, hung past the " + seconds(timeout) + " timeout, or cut off)";
    }
    throw Error(me() + " " + reason + explanation + " [" + detail + "]");
  }

  // A rank that found the launch broken leaves; rank 0 holds the rendezvous store, so it first gives
  // every rank that joined a moment to read the keys and name the problem itself (leaving at once,
  // it would make them report a rendezvous that vanished instead).
  void leaveAfterTheOthersHaveRead(bool holdsTheStore) {
    constexpr std::chrono::milliseconds kGrace{10000};
    try {
      store->set("checked/" + std::to_string(launch.rank), bytes("1"));
      if (!holdsTheStore) return;
      for (int other = 0; other < launch.worldSize; ++other)
        if (other != launch.rank && store->check({"join/" + std::to_string(other)}))
          store->wait({"checked/" + std::to_string(other)}, std::min(timeout, kGrace));
    } catch (const std::exception&) {
      // A rank that did not say it has read within the grace is not waited for any longer.
    }
  }

  // Starts a collective on `buffer` and waits for it, tallied.
  template <class Start>
  void run(const std::string& operation, std::vector<torch::Tensor>& buffer, Start start) {
    const auto begin = std::chrono::steady_clock::now();
    try {
      start(buffer)->wait(timeout);
    } catch (const std::exception& error) {
      fail(operation, error);
    }
    tally.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    tally.bytes += static_cast<std::int64_t>(buffer.front().nbytes());
    ++tally.collectives;
  }
};

DataParallelGroup::DataParallelGroup(const LaunchEnvironment& launch, std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.launch = launch;
  s.timeout = timeout;
  s.hosts.assign(static_cast<std::size_t>(launch.worldSize), "unknown host");
  s.hosts[launch.rank] = hostName();
  const std::string rendezvous = launch.masterAddress + ":" + std::to_string(launch.masterPort);
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(launch.masterPort);
  options.isServer = launch.rank == 0 && !launch.agentHostsStore;
  options.numWorkers = launch.worldSize;
  options.waitWorkers = false;  // ranks are counted below, by name
  options.timeout = timeout;
  try {
    // BrainPrior's keys apart from anything else in the store (torchrun's agent's own), one set per
    // attempt of a restarted launch.
    s.store = c10::make_intrusive<c10d::PrefixStore>(
        "brainprior/" + std::to_string(launch.restartCount),
        c10::make_intrusive<c10d::TCPStore>(launch.masterAddress, options));
  } catch (const std::exception& error) {
    const std::string what = firstLine(error);
    if (options.isServer)
      throw Error(s.me() + " cannot open the rendezvous at " + rendezvous +
                  (what.find("in use") != std::string::npos ? ": the port is in use (set MASTER_PORT to a free port)"
                                                            : "") +
                  " [" + what + "]");
    throw Error(s.me() + " cannot reach the rendezvous at " + rendezvous + " within " + seconds(timeout) +
                " (is rank 0 running, and MASTER_ADDR and MASTER_PORT right?) [" + what + "]");
  }
  // Every rank says who it is and how large it thinks the world is; every rank checks them all.
  const std::string mine = std::to_string(launch.worldSize) + " " + s.hosts[launch.rank];
  s.store->set("join/" + std::to_string(launch.rank), bytes(mine));
  for (int other = 0; other < launch.worldSize; ++other) {
    std::string joined;
    try {
      joined = text(s.store->get("join/" + std::to_string(other)));
    } catch (const std::exception&) {
      throw Error(s.me() + ": rank " + std::to_string(other) + " did not join the rendezvous at " + rendezvous +
                  " within " + seconds(timeout) + " (a WORLD_SIZE of " + std::to_string(launch.worldSize) +
                  " needs ranks 0 to " + std::to_string(launch.worldSize - 1) + ")");
    }
    const std::size_t space = joined.find(' ');
    s.hosts[other] = joined.substr(space + 1);
    if (joined.substr(0, space) != std::to_string(launch.worldSize)) {
      const Error disagreement("the ranks disagree on the world size: " + s.describe(other) + " says WORLD_SIZE=" +
                               joined.substr(0, space) + ", " + s.me() + " says " + std::to_string(launch.worldSize));
      s.leaveAfterTheOthersHaveRead(options.isServer);
      throw disagreement;
    }
  }
  auto glooOptions = c10d::ProcessGroupGloo::Options::create(timeout);
  try {
    if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"))
      glooOptions->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
    else if (isLoopback(launch.masterAddress))
      glooOptions->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      glooOptions->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    s.gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>("gloo", s.store), launch.rank, launch.worldSize, glooOptions);
  } catch (const std::exception& error) {
    throw Error(s.me() + " cannot connect to the other ranks over Gloo (set GLOO_SOCKET_IFNAME to the network "
                "interface the hosts share) [" + firstLine(error) + "]");
  }
}

DataParallelGroup::~DataParallelGroup() = default;

int DataParallelGroup::rank() const { return state_->launch.rank; }
int DataParallelGroup::size() const { return state_->launch.worldSize; }
const LaunchEnvironment& DataParallelGroup::launch() const { return state_->launch; }
const std::vector<std::string>& DataParallelGroup::hosts() const { return state_->hosts; }

nlohmann::json describeWorkers(const DataParallelGroup* group) {
  if (group == nullptr) return {{"world_size", 1}, {"launcher", LaunchEnvironment().launcher}};
  return {{"world_size", group->size()}, {"launcher", group->launch().launcher}, {"hosts", group->hosts()}};
}

namespace {

// Consecutive tensors of one dtype and device, at most kBucketElements each (a larger tensor alone).
std::vector<std::vector<torch::Tensor>> buckets(const std::vector<torch::Tensor>& tensors) {
  std::vector<std::vector<torch::Tensor>> result;
  std::int64_t filled = 0;
  for (const torch::Tensor& tensor : tensors) {
    const bool fits = !result.empty() && result.back().front().scalar_type() == tensor.scalar_type() &&
                      result.back().front().device() == tensor.device() &&
                      filled + tensor.numel() <= kBucketElements;
    if (!fits) {
      result.emplace_back();
      filled = 0;
    }
    result.back().push_back(tensor);
    filled += tensor.numel();
  }
  return result;
}

// Runs `collective` on one flat buffer per bucket and writes the results back into the tensors.
template <class Collective>
void overBuckets(const std::vector<torch::Tensor>& tensors, Collective collective) {
  torch::NoGradGuard noGrad;
  for (const auto& bucket : buckets(tensors)) {
    std::vector<torch::Tensor> flat;
    for (const torch::Tensor& tensor : bucket) flat.push_back(tensor.reshape({-1}));
    std::vector<torch::Tensor> buffer{torch::cat(flat)};
    collective(buffer);
    std::int64_t offset = 0;
    for (const torch::Tensor& tensor : bucket) {
      tensor.copy_(buffer.front().narrow(0, offset, tensor.numel()).view_as(tensor));
      offset += tensor.numel();
    }
  }
}

}  // namespace

void DataParallelGroup::allReduceSum(const std::vector<torch::Tensor>& tensors) {
  overBuckets(tensors, [this](std::vector<torch::Tensor>& buffer) {
    state_->run("a sum over the ranks", buffer,
                [this](std::vector<torch::Tensor>& tensors) { return state_->gloo->allreduce(tensors); });
  });
}

void DataParallelGroup::broadcastFromLeader(const std::vector<torch::Tensor>& tensors) {
  overBuckets(tensors, [this](std::vector<torch::Tensor>& buffer) {
    state_->run("a broadcast from rank 0", buffer, [this](std::vector<torch::Tensor>& tensors) {
      c10d::BroadcastOptions options;
      options.rootRank = 0;
      return state_->gloo->broadcast(tensors, options);
    });
  });
}

DataParallelGroup::ExchangeTally DataParallelGroup::exchanged() const { return state_->tally; }

void DataParallelGroup::requireSameOnEveryRank(const std::string& what, const std::string& value) {
  State& s = *state_;
  const std::string prefix = "check/" + std::to_string(s.checks++) + "/";
  s.store->set(prefix + std::to_string(rank()), bytes(value));
  for (int other = 0; other < size(); ++other) {
    if (other == rank()) continue;
    std::string theirs;
    try {
      theirs = text(s.store->get(prefix + std::to_string(other)));
    } catch (const std::exception& error) {
      s.fail("the check of the " + what, error);
    }
    if (theirs != value)
      throw Error("the " + what + " differs between " + s.describe(other) + " and " + s.me() + ": " +
                  firstDifference(value, theirs) + " (every worker must start with the same settings)");
  }
}

void DataParallelGroup::runOnLeader(const std::function<void()>& work) {
  State& s = *state_;
  const std::string key = "leader/" + std::to_string(s.checks++);
  if (leads()) {
    std::string failure;
    try {
      work();
    } catch (const std::exception& error) {
      failure = error.what();
    }
    s.store->set(key, bytes(failure.empty() ? std::string() : "!" + failure));
    if (!failure.empty()) throw Error(failure);
    return;
  }
  std::string outcome;
  try {
    outcome = text(s.store->get(key));
  } catch (const std::exception& error) {
    s.fail("a step that rank 0 takes alone", error);
  }
  if (!outcome.empty()) throw Error(s.describe(0) + " stopped: " + outcome.substr(1));
}

void DataParallelGroup::reportStopping(const std::string& reason) noexcept {
  try {
    state_->store->set("stopping/" + std::to_string(rank()), bytes(state_->me() + " stopped: " + reason));
  } catch (...) {
    // The store may be gone with rank 0: the others learn of the stop from Gloo instead.
  }
}

DataParallelGroup* currentDataParallelGroup() { return currentGroup; }
DataParallelGroup* batchNormDataParallelGroup() { return currentBatchNormGroup; }

DataParallelScope::DataParallelScope(DataParallelGroup* group, bool synchronizeBatchNorm)
    : previousGroup_(currentGroup), previousBatchNormGroup_(currentBatchNormGroup) {
  currentGroup = group;
  currentBatchNormGroup = synchronizeBatchNorm ? group : nullptr;
}
DataParallelScope::~DataParallelScope() {
  currentGroup = previousGroup_;
  currentBatchNormGroup = previousBatchNormGroup_;
}

namespace {

// The group travels through autograd's saved data as an address: IValues hold no plain pointers, and
// the group outlives every graph built in its scope.
class AllReduceSumFunction : public torch::autograd::Function<AllReduceSumFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& input,
                               std::int64_t groupAddress) {
    context->saved_data["group"] = groupAddress;
    torch::Tensor sum = input.clone();
    reinterpret_cast<DataParallelGroup*>(groupAddress)->allReduceSum({sum});
    return sum;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list gradients) {
    const std::int64_t groupAddress = context->saved_data["group"].toInt();
    // Through apply, so that a second derivative (harmonization's saliency) sums over the ranks too.
    return {apply(gradients.at(0).contiguous(), groupAddress), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor allReduceSumWithGrad(DataParallelGroup& group, const torch::Tensor& input) {
  return AllReduceSumFunction::apply(input.contiguous(), reinterpret_cast<std::int64_t>(&group));
}

void sumGradients(DataParallelGroup& group, const std::vector<torch::Tensor>& parameters, const torch::Tensor& figures) {
  std::vector<torch::Tensor> summed;
  std::vector<torch::Tensor> unreached;
  for (torch::Tensor parameter : parameters) {
    if (!parameter.grad().defined()) {
      parameter.mutable_grad() = torch::zeros_like(parameter);
      unreached.push_back(parameter);
    }
    summed.push_back(parameter.grad());
  }
  summed.push_back(figures);
  group.allReduceSum(summed);
  for (torch::Tensor& parameter : unreached) parameter.mutable_grad() = torch::Tensor();
}

namespace {
thread_local const StepRows* currentRows = nullptr;
}  // namespace

const StepRows* currentStepRows() { return currentRows; }
StepRowsScope::StepRowsScope(const StepRows& rows) : previous_(currentRows), rows_(rows) { currentRows = &rows_; }
StepRowsScope::~StepRowsScope() { currentRows = previous_; }

RowShare rowShare(std::int64_t count, int rank, int ranks) {
  const std::int64_t base = count / ranks;
  const std::int64_t extra = count % ranks;
  RowShare share;
  share.begin = rank * base + std::min<std::int64_t>(rank, extra);
  share.end = share.begin + base + (rank < extra ? 1 : 0);
  return share;
}

}  // namespace bp
