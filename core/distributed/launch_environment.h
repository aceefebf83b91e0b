#pragma once
// Which worker of a data-parallel launch this process is, read from the environment that the
// launchers users already have set (no protocol of BrainPrior's own):
//   torchrun (and `brainprior-cli train --nproc N`): RANK, WORLD_SIZE, LOCAL_RANK,
//     LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT;
//   Slurm's srun, when RANK is not set: SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID,
//     SLURM_NTASKS_PER_NODE, and the first host of SLURM_JOB_NODELIST as the master (MASTER_ADDR
//     and MASTER_PORT still win when set).
// Neither: one process (world size 1), which trains exactly as before.
#include <functional>
#include <optional>
#include <string>

namespace bp {

struct LaunchEnvironment {
  int rank = 0;
  int worldSize = 1;
  int localRank = 0;
  int localWorldSize = 1;
  std::string masterAddress = "127.0.0.1";
  int masterPort = 29500;  // torchrun's default
  std::string launcher = "single process";  // "torchrun", "slurm" or "single process"
  // torchrun's agent already serves the rendezvous store at MASTER_ADDR:MASTER_PORT
  // (TORCHELASTIC_USE_AGENT_STORE=True): every rank, rank 0 too, connects to it as a client.
  bool agentHostsStore = false;
  // torchrun restarts the workers after a failure (TORCHELASTIC_RESTART_COUNT): each attempt
  // keeps its own keys in the agent's store.
  int restartCount = 0;

  bool distributed() const { return worldSize > 1; }
};

// The value of an environment variable, or nothing when it is unset.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The launch that `lookup` describes; bp::Error naming the variable when one is malformed or they
// contradict each other (RANK without WORLD_SIZE, a rank outside the world, a port outside 1-65535).
LaunchEnvironment launchEnvironmentFrom(const EnvironmentLookup& lookup);
// The launch that this process's environment describes.
LaunchEnvironment launchEnvironment();

// The first host of a Slurm node list: "gpu[07-08,12],cpu3" -> "gpu07", "node1,node2" -> "node1".
std::string firstSlurmHost(const std::string& nodeList);

}  // namespace bp
