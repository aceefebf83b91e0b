#pragma once
// A tab's forms (what the user sets before running something) as opposed to its views (what a run
// shows). The main window hides every tab's forms at once (View → Show Controls, Ctrl+B), and
// presentation mode hides them so that a projector shows the figures.
class QScrollArea;
class QWidget;

namespace bp::app {

// `content` in a column that scrolls vertically instead of growing the window, never sideways, and
// is as wide as the content asks (its combo boxes elide long options); marked as controls.
QScrollArea* controlsColumn(QWidget* content, QWidget* parent);
// Marks a panel's forms that are not a column (e.g. a row above the views).
void markAsControls(QWidget* widget);
bool isControls(const QWidget* widget);

}  // namespace bp::app
