// brainprior-cli: the headless twin of the BrainPrior GUI. Every subcommand maps onto core calls.
#include <CLI/CLI.hpp>
#include <exception>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "classifier_commands.h"
#include "cli_support.h"
#include "data_commands.h"
#include "demo_commands.h"
#include "model_commands.h"
#include "predictivity_commands.h"
#include "probe_commands.h"
#include "report_commands.h"
#include "rsa_commands.h"
#include "train_commands.h"
#include "runtime/error.h"

int main(int argc, char** argv) {
  bp::cli::recordCommandLine(argc, argv);
  CLI::App app{"BrainPrior command line: brain data, similarity, regularized training, probing"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "brainprior-cli " BRAINPRIOR_CLI_VERSION);
  bp::cli::GlobalOptions options;
  bp::cli::addGlobalOptions(app, options);
  bp::cli::addDataCommands(app, options);
  bp::cli::addRsaCommands(app, options);
  bp::cli::addModelCommands(app, options);
  bp::cli::addTrainCommands(app, options);
  bp::cli::addProbeCommands(app, options);
  bp::cli::addPredictivityCommands(app, options);
  bp::cli::addClassifierCommands(app, options);
  bp::cli::addDemoCommands(app, options);
  bp::cli::addReportCommands(app, options);
  bp::cli::installInterruptHandlers();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const bp::CancelledError& e) {
    const int signal = bp::cli::interruptedBy();
    std::cerr << "brainprior-cli: " << (signal == SIGTERM ? "terminated" : "interrupted") << " (" << e.what()
              << "); what was complete is kept\n";
    return 128 + (signal != 0 ? signal : SIGINT);
  } catch (const std::exception& e) {
    std::cerr << "brainprior-cli: error: " << e.what() << '\n';
    return 1;
  }
  // The results go to stdout: a write that failed there (a full disk behind a redirection, a
  // closed pipe) lost them, and the exit code must say so.
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::cerr << "brainprior-cli: error: the output could not be written to stdout (" << std::strerror(errno)
              << "); the results are lost\n";
    return 1;
  }
  return 0;
}
