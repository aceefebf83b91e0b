#pragma once

namespace bp::app {

// Parses the GUI's command line, starts the engine, shows the main window and runs the event loop.
// Options: [PATH] (open a dataset instead of the default), --threads N, --device auto|cpu|cuda,
// --screenshot FILE (save the window once the data is loaded, then quit; for docs/gui.md), --demo
// (run the demo at launch) with --demo-output DIR and --demo-config FILE, --presentation.
int runApplication(int argc, char** argv);

}  // namespace bp::app
