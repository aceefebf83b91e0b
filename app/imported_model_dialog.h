#pragma once
// Asks, once, for an imported TorchScript model's preprocessing (input channels and size, value
// range, mean and std), which the engine never guesses, and keeps it beside the model
// (<file>.json), so that every analysis and every later session applies the same.
#include <QString>

class QWidget;

namespace bp::app {

// When `modelFile` has no description yet, asks for one and writes it. True when the model has a
// description afterwards; false when the user cancels or it cannot be written (the reason shown).
bool ensureImportedModelDescription(QWidget* parent, const QString& modelFile);

// The file dialog for TorchScript models; empty when cancelled.
QString chooseTorchScriptFile(QWidget* parent);

}  // namespace bp::app
