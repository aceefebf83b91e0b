#include "distributed/local_workers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <set>
#include <thread>

#include "runtime/error.h"

extern char** environ;

namespace bp {

namespace {

// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice). Another program could
// take it before rank 0 opens the rendezvous: rank 0 then says the port is in use.
int freeLocalPort() {
  const int socketId = ::socket(AF_INET, SOCK_STREAM, 0);
  if (socketId < 0) throw Error(std::string("cannot find a free port for the workers: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  const bool found = ::bind(socketId, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                     ::getsockname(socketId, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  ::close(socketId);
  if (!found) throw Error(std::string("cannot find a free port for the workers: ") + std::strerror(error));
  return ntohs(address.sin_port);
}

std::string describeExit(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

}  // namespace

void runLocalWorkers(const LocalWorkersLaunch& launch, const Job& job, const std::function<void()>& poll) {
  const int workers = launch.workers;
  if (workers < 1) throw Error("local workers: need at least one worker");
  const int port = freeLocalPort();
  // Everything the children need is built before the first fork: after it, only exec. A launch
  // this process itself belongs to (torchrun's variables) must not leak into the workers'.
  const std::set<std::string> launchVariables = {"RANK",        "WORLD_SIZE",  "LOCAL_RANK",
                                                 "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                                                 "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"};
  std::vector<std::vector<std::string>> environments;
  for (int rank = 0; rank < workers; ++rank) {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const std::string variable = *entry;
      if (launchVariables.count(variable.substr(0, variable.find('='))) == 0) environment.push_back(variable);
    }
    environment.push_back("RANK=" + std::to_string(rank));
    environment.push_back("LOCAL_RANK=" + std::to_string(rank));
    environment.push_back("WORLD_SIZE=" + std::to_string(workers));
    environment.push_back("LOCAL_WORLD_SIZE=" + std::to_string(workers));
    environment.push_back("MASTER_ADDR=127.0.0.1");
    environment.push_back("MASTER_PORT=" + std::to_string(port));
    environments.push_back(std::move(environment));
  }
  auto pointers = [](std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (std::string& text : strings) result.push_back(text.data());
    result.push_back(nullptr);
    return result;
  };
  std::vector<std::string> argv{launch.program};
  argv.insert(argv.end(), launch.arguments.begin(), launch.arguments.end());
  std::vector<char*> argvPointers = pointers(argv);

  std::vector<pid_t> children;
  for (int rank = 0; rank < workers; ++rank) {
    std::vector<char*> environment = pointers(environments[static_cast<std::size_t>(rank)]);
    const pid_t child = ::fork();
    if (child < 0) {
      for (const pid_t started : children) ::kill(started, SIGTERM);
      throw Error("cannot start worker " + std::to_string(rank) + " (" + launch.program + "): " + std::strerror(errno));
    }
    if (child == 0) {
      ::execve(launch.program.c_str(), argvPointers.data(), environment.data());
      ::_exit(127);  // the program could not start: reported as "exited with code 127"
    }
    children.push_back(child);
  }

  // Wait for all; after the first failure, the rest get `grace` to stop on their own.
  std::string firstFailure;
  auto giveUpAt = std::chrono::steady_clock::time_point::max();
  std::size_t running = children.size();
  bool forwarded = false;
  while (running > 0) {
    // A cancel (the GUI's button; an interrupt of the CLI, which a scheduler may send to it
    // alone) reaches every worker: each records it in the run's log and stops.
    if (job.cancelled() && !forwarded) {
      for (const pid_t child : children)
        if (child > 0) ::kill(child, SIGTERM);
      forwarded = true;
    }
    // Each worker by its id: a GUI has other children (its own processes) this must not reap.
    for (std::size_t rank = 0; rank < children.size(); ++rank) {
      int status = 0;
      if (children[rank] <= 0 || ::waitpid(children[rank], &status, WNOHANG) != children[rank]) continue;
      children[rank] = 0;
      --running;
      const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      if (failed && firstFailure.empty()) {
        firstFailure = "worker rank " + std::to_string(rank) + " of " + std::to_string(workers) + " " +
                       describeExit(status);
        giveUpAt = std::chrono::steady_clock::now() + launch.grace;
      }
    }
    if (std::chrono::steady_clock::now() > giveUpAt) {
      for (const pid_t child : children)
        if (child > 0) ::kill(child, SIGKILL);
      giveUpAt = std::chrono::steady_clock::time_point::max();
    }
    if (poll) poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The workers recorded the interruption in the run (the summary says "cancelled", --resume continues).
  if (forwarded) throw CancelledError();
  if (!firstFailure.empty()) throw Error(firstFailure + "; the last complete epoch is kept for --resume");
}

}  // namespace bp
