// The BrainPrior desktop application. Everything lives in brainprior_app; see app/application.h.
#include "app/application.h"

int main(int argc, char** argv) { return bp::app::runApplication(argc, argv); }
