#pragma once
// Help > User Guide (F1) and Help > Keyboard Shortcuts: the guide is the project's own
// docs/user-guide.md, compiled into the app so that an installed copy has it offline; the shortcuts
// are read from the window's menus, so the list cannot drift from what the keys do.
class QMainWindow;
class QWidget;

namespace bp::app {

// Opens the user guide in a window of its own (non-modal: the user reads beside the app).
void showUserGuide(QWidget* parent);
// Opens a list of every menu action with a shortcut, as "Menu > Action  Ctrl+B", plus the keys no
// menu lists (Ctrl+Tab).
void showKeyboardShortcuts(QMainWindow& window);

}  // namespace bp::app
