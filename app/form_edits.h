#pragma once
// Calls `edited` whenever the user (or code) changes any field of a form: line edits, spin boxes,
// combo boxes, check boxes and sliders (not scroll bars) among `form`'s children. Panels use it to keep their form
// settings in the Workspace, so that a project saves them and the window knows they changed.
#include <functional>

class QWidget;

namespace bp::app {

void watchFormEdits(QWidget* form, const std::function<void()>& edited);

}  // namespace bp::app
