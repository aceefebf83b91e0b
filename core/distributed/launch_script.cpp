#include "distributed/launch_script.h"

#include <sstream>

#include "runtime/error.h"

namespace bp {

namespace {

// A word for a POSIX shell, single-quoted when it holds anything but safe characters.
std::string shellWord(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
                           std::string::npos)
    return word;
  std::string quoted = "'";
  for (const char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

ClusterLauncher clusterLauncherFromName(const std::string& name) {
  if (name == "slurm") return ClusterLauncher::Slurm;
  if (name == "torchrun") return ClusterLauncher::Torchrun;
  throw Error("launch script: the launcher must be \"slurm\" or \"torchrun\", not \"" + name + "\"");
}

std::string launchScript(const LaunchScriptRequest& request) {
  if (request.configFile.empty()) throw Error("launch script: no config file");
  if (request.nodes < 1 || request.workersPerNode < 1 || request.threadsPerWorker < 1)
    throw Error("launch script: nodes, workers per node and threads per worker must be at least 1");
  const int workers = request.nodes * request.workersPerNode;
  const std::string train = "brainprior-cli --threads " + std::to_string(request.threadsPerWorker) +
                            " train --config " + shellWord(request.configFile) + " --output-dir " +
                            shellWord(request.outputDir) + " --resume --timeout " +
                            std::to_string(static_cast<long>(request.timeoutSeconds));
  std::ostringstream script;
  script << "#!/bin/bash\n";
  if (request.launcher == ClusterLauncher::Slurm) {
    script << "#SBATCH --job-name=" << shellWord(request.jobName) << "\n"
           << "#SBATCH --nodes=" << request.nodes << "\n"
           << "#SBATCH --ntasks-per-node=" << request.workersPerNode << "\n"
           << "#SBATCH --cpus-per-task=" << request.threadsPerWorker << "\n";
    if (request.gpus) script << "#SBATCH --gpus-per-task=1\n";
    script << "#SBATCH --output=%x-%j.out\n"
           << "# BrainPrior data-parallel training: " << workers << " workers (" << request.nodes << " nodes x "
           << request.workersPerNode << "), torch.distributed over Gloo.\n"
           << "# srun starts one brainprior-cli per task; each finds its rank in SLURM_PROCID and meets the\n"
           << "# others on the job's first node (MASTER_PORT from the job id; export MASTER_ADDR and\n"
           << "# MASTER_PORT to choose). The config and the output folder must be on a file system every\n"
           << "# node sees. --resume: a requeued or resubmitted job continues from the last complete epoch.\n"
           << (request.gpus ? "# --gpus-per-task=1: each worker sees one GPU of its own as device 0.\n" : "")
           << "set -euo pipefail\n"
           << "srun " << train << "\n";
  } else {
    script << "# BrainPrior data-parallel training: " << workers << " workers (" << request.nodes << " nodes x "
           << request.workersPerNode << "), torch.distributed over Gloo.\n"
           << "# Run this on every node with NODE_RANK set (0 on the first) and MASTER_ADDR naming the first\n"
           << "# node; the config and the output folder must be on a file system every node sees.\n"
           << (request.gpus ? "# Each worker sees one GPU of its own (CUDA_VISIBLE_DEVICES=LOCAL_RANK) as device 0.\n"
                            : "")
           << "set -euo pipefail\n"
           << ": \"${NODE_RANK:?set NODE_RANK (0 on the first node)}\" \"${MASTER_ADDR:?set MASTER_ADDR (the first node)}\"\n"
           << "torchrun --nnodes=" << request.nodes << " --nproc-per-node=" << request.workersPerNode
           << " --node-rank=\"$NODE_RANK\" --master-addr=\"$MASTER_ADDR\" --master-port=\"${MASTER_PORT:-29500}\" \\\n"
           << "  --no-python bash -c " << shellWord((request.gpus ? "CUDA_VISIBLE_DEVICES=$LOCAL_RANK exec " : "exec ") + train)
           << "\n";
  }
  return script.str();
}

}  // namespace bp
