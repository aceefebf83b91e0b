#include "local_workers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "cli_support.h"
#include "runtime/error.h"

extern char** environ;

namespace bp::cli {

namespace {

std::vector<std::string>& recorded() {
  static std::vector<std::string> arguments;
  return arguments;
}

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

void recordCommandLine(int argc, char** argv) { recorded().assign(argv, argv + argc); }
const std::vector<std::string>& commandLine() { return recorded(); }

void runLocalWorkers(int workers, const std::vector<std::string>& arguments, std::chrono::milliseconds grace) {
  const int port = freeLocalPort();
  // Everything the children need is built before the first fork: after it, only exec.
  std::vector<std::vector<std::string>> environments;
  for (int rank = 0; rank < workers; ++rank) {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const std::string variable = *entry;
      const std::string name = variable.substr(0, variable.find('='));
      if (name != "RANK" && name != "WORLD_SIZE" && name != "LOCAL_RANK" && name != "LOCAL_WORLD_SIZE" &&
          name != "MASTER_ADDR" && name != "MASTER_PORT")
        environment.push_back(variable);
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
  std::vector<std::string> argv{commandLine().empty() ? std::string("brainprior-cli") : commandLine().front()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  std::vector<char*> argvPointers = pointers(argv);

  std::vector<pid_t> children;
  for (int rank = 0; rank < workers; ++rank) {
    std::vector<char*> environment = pointers(environments[static_cast<std::size_t>(rank)]);
    const pid_t child = ::fork();
    if (child < 0) {
      for (const pid_t started : children) ::kill(started, SIGTERM);
      throw Error(std::string("cannot start worker ") + std::to_string(rank) + ": " + std::strerror(errno));
    }
    if (child == 0) {
      ::execve("/proc/self/exe", argvPointers.data(), environment.data());
      ::_exit(127);
    }
    children.push_back(child);
  }

  // Wait for all; after the first failure, the rest get `grace` to stop on their own.
  std::string firstFailure;
  auto giveUpAt = std::chrono::steady_clock::time_point::max();
  std::size_t running = children.size();
  bool forwarded = false;
  while (running > 0) {
    // An interrupt meant for the launch (a GUI or a scheduler signals this process alone) reaches
    // every worker: each records it in the run's log and stops.
    if (const int signal = interruptedBy(); signal != 0 && !forwarded) {
      for (const pid_t child : children)
        if (child > 0) ::kill(child, signal);
      forwarded = true;
    }
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, WNOHANG);
    if (done > 0) {
      --running;
      const auto rank = std::find(children.begin(), children.end(), done) - children.begin();
      children[static_cast<std::size_t>(rank)] = 0;
      const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      if (failed && firstFailure.empty()) {
        firstFailure = "worker rank " + std::to_string(rank) + " of " + std::to_string(workers) + " " +
                       describeExit(status);
        giveUpAt = std::chrono::steady_clock::now() + grace;
      }
      continue;
    }
    if (done < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() > giveUpAt) {
      for (const pid_t child : children)
        if (child > 0) ::kill(child, SIGKILL);
      giveUpAt = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The workers recorded the interruption in the run (the summary says "cancelled", --resume continues).
  if (forwarded) throw CancelledError();
  if (!firstFailure.empty()) throw Error(firstFailure + " (its error is above); the run folder keeps the last complete epoch");
}

}  // namespace bp::cli
