#pragma once
// The log dock: every engine and GUI message with its time and level. Installs itself as the
// engine's log sink (messages from worker threads are queued onto the GUI thread).
#include <QPlainTextEdit>

#include "runtime/log.h"

namespace bp::app {

class LogPanel : public QPlainTextEdit {
  Q_OBJECT
public:
  explicit LogPanel(QWidget* parent = nullptr);
  ~LogPanel() override;

  void append(bp::LogLevel level, const QString& message);

Q_SIGNALS:
  // Emitted for warnings and errors so the window can flash them in the status bar.
  void problemLogged(const QString& message);
};

}  // namespace bp::app
