#pragma once
// `brainprior-cli train --nproc N`: a torchrun for one machine. Starts N copies of this program,
// each with the environment torchrun would give it (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT: a port free when they start), and waits.
#include <chrono>
#include <string>
#include <vector>

namespace bp::cli {

// The command line this process was started with (main() records it).
void recordCommandLine(int argc, char** argv);
const std::vector<std::string>& commandLine();

// Runs `workers` copies of this program with `arguments` (argv without the program). When one
// fails, the others are given `grace` to fail on their own (they lose contact with it) and are
// then stopped. bp::Error naming the first worker that failed and how; nothing when all succeed.
void runLocalWorkers(int workers, const std::vector<std::string>& arguments, std::chrono::milliseconds grace);

}  // namespace bp::cli
