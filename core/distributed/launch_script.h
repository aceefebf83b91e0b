#pragma once
// The shell script that launches a training config on a cluster, ready to copy: a Slurm batch
// script (srun starts one brainprior-cli per task; each reads Slurm's variables) or a torchrun
// command (one per node; each worker reads torchrun's variables). The Training tab shows it for the
// form's config, and `brainprior-cli launch-script` prints it.
#include <string>

namespace bp {

enum class ClusterLauncher { Slurm, Torchrun };

struct LaunchScriptRequest {
  ClusterLauncher launcher = ClusterLauncher::Slurm;
  std::string configFile;            // the training config, on a file system every node sees
  std::string outputDir = "runs";    // receives the run folders (rank 0 writes; every rank reads checkpoints)
  int nodes = 2;
  int workersPerNode = 4;            // one per GPU with gpus
  bool gpus = true;                  // one GPU per worker (its own, by CUDA_VISIBLE_DEVICES)
  int threadsPerWorker = 8;          // CPU threads of each worker
  double timeoutSeconds = 600;       // how long a worker waits for the others
  std::string jobName = "brainprior";
};

// "slurm" or "torchrun"; bp::Error for another name.
ClusterLauncher clusterLauncherFromName(const std::string& name);
// bp::Error for counts below 1 or an empty config file.
std::string launchScript(const LaunchScriptRequest& request);

}  // namespace bp
