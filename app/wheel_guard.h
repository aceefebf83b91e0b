#pragma once
// The mouse wheel scrolls forms; it changes a spin box, combo box or slider only after the user
// clicked into it. Without this, scrolling a long form over a spin box silently changed a value (a
// batch size went from 64 to 66 that way).
class QCoreApplication;

namespace bp::app {

// Installs the guard on the whole application once (further calls do nothing); every main window
// calls it.
void installWheelGuard(QCoreApplication& application);

}  // namespace bp::app
