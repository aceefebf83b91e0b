#pragma once
// Data-parallel workers on this machine: a torchrun for one host. Starts N copies of a program,
// each with the environment torchrun would give it (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT: a port free when they start), and waits
// for them. `brainprior-cli train --nproc N` starts copies of itself; the GUI starts brainprior-cli.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "runtime/job.h"

namespace bp {

struct LocalWorkersLaunch {
  std::string program;                 // the executable every worker runs
  std::vector<std::string> arguments;  // its arguments (argv without the program)
  int workers = 2;
  // After one worker fails, how long the others have to fail on their own (they lose contact with
  // it) before they are killed.
  std::chrono::milliseconds grace{std::chrono::seconds(30)};
};

// Runs the workers until all have exited, calling `poll` every tenth of a second meanwhile (the
// GUI reads the run folders there). A cancelled `job` sends each worker SIGTERM once (each records
// the interruption in its run and stops); CancelledError once they have exited. bp::Error naming
// the first worker that failed and how; nothing when all succeed.
void runLocalWorkers(const LocalWorkersLaunch& launch, const Job& job, const std::function<void()>& poll = {});

}  // namespace bp
