#include "distributed/launch_environment.h"

#include <cstdlib>
#include <limits>

#include "runtime/error.h"

namespace bp {

namespace {

// A whole number in [low, high] from variable `name`; bp::Error naming the variable otherwise.
int integerVariable(const std::string& name, const std::string& text, long low, long high) {
  std::size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < low || value > high)
    throw Error("launch environment: " + name + "=\"" + text + "\" is not a whole number from " +
                std::to_string(low) + " to " + std::to_string(high));
  return static_cast<int>(value);
}

// Slurm writes tasks per node as "4", "4(x2)" or "4(x2),3": the first count is this layout's.
int leadingCount(const std::string& name, const std::string& text) {
  const std::size_t end = text.find_first_not_of("0123456789");
  return integerVariable(name, text.substr(0, end), 1, std::numeric_limits<int>::max());
}

}  // namespace

std::string firstSlurmHost(const std::string& nodeList) {
  // The first entry ends at the first comma outside brackets.
  std::string first;
  int depth = 0;
  for (const char c : nodeList) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0) break;
    first += c;
  }
  const std::size_t open = first.find('[');
  if (open == std::string::npos) return first;
  // "gpu[07-08,12]": the prefix and the first number of the range, zero padding kept.
  const std::size_t stop = first.find_first_of("-,]", open + 1);
  const std::string number = first.substr(open + 1, stop == std::string::npos ? std::string::npos : stop - open - 1);
  if (number.empty()) throw Error("launch environment: cannot read the first host of the node list \"" + nodeList + "\"");
  return first.substr(0, open) + number;
}

LaunchEnvironment launchEnvironmentFrom(const EnvironmentLookup& lookup) {
  LaunchEnvironment launch;
  const int maxWorld = 1 << 20;
  auto read = [&](const std::string& name, int& target, long low, long high) {
    if (const auto value = lookup(name)) target = integerVariable(name, *value, low, high);
  };
  if (const auto rank = lookup("RANK")) {
    if (!lookup("WORLD_SIZE")) throw Error("launch environment: RANK is set but WORLD_SIZE is not");
    launch.launcher = "torchrun";
    read("WORLD_SIZE", launch.worldSize, 1, maxWorld);
    read("RANK", launch.rank, 0, maxWorld);
    read("LOCAL_RANK", launch.localRank, 0, maxWorld);
    launch.localWorldSize = launch.worldSize;
    read("LOCAL_WORLD_SIZE", launch.localWorldSize, 1, maxWorld);
    launch.agentHostsStore = lookup("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
    read("TORCHELASTIC_RESTART_COUNT", launch.restartCount, 0, std::numeric_limits<int>::max());
  } else if (const auto procid = lookup("SLURM_PROCID")) {
    launch.launcher = "slurm";
    read("SLURM_NTASKS", launch.worldSize, 1, maxWorld);
    read("SLURM_PROCID", launch.rank, 0, maxWorld);
    read("SLURM_LOCALID", launch.localRank, 0, maxWorld);
    launch.localWorldSize = launch.worldSize;
    if (const auto perNode = lookup("SLURM_NTASKS_PER_NODE"))
      launch.localWorldSize = leadingCount("SLURM_NTASKS_PER_NODE", *perNode);
    const auto nodeList = lookup("SLURM_JOB_NODELIST") ? lookup("SLURM_JOB_NODELIST") : lookup("SLURM_NODELIST");
    if (nodeList) launch.masterAddress = firstSlurmHost(*nodeList);
    // Jobs that share a node must not share a port: each job takes its own from its id.
    if (const auto job = lookup("SLURM_JOB_ID"))
      launch.masterPort = 20000 + integerVariable("SLURM_JOB_ID", *job, 0, std::numeric_limits<int>::max()) % 20000;
  } else {
    return launch;
  }
  if (const auto address = lookup("MASTER_ADDR")) launch.masterAddress = *address;
  read("MASTER_PORT", launch.masterPort, 1, 65535);
  const std::string rankName = launch.launcher == "slurm" ? "SLURM_PROCID" : "RANK";
  if (launch.rank >= launch.worldSize)
    throw Error("launch environment: " + rankName + "=" + std::to_string(launch.rank) + " is outside a world of " +
                std::to_string(launch.worldSize) + " workers");
  if (launch.localRank >= launch.localWorldSize)
    throw Error("launch environment: the local rank " + std::to_string(launch.localRank) +
                " is outside the " + std::to_string(launch.localWorldSize) + " workers of this host");
  if (launch.distributed() && launch.masterAddress.empty())
    throw Error("launch environment: MASTER_ADDR is empty");
  return launch;
}

LaunchEnvironment launchEnvironment() {
  return launchEnvironmentFrom([](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  });
}

}  // namespace bp
