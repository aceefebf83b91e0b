#include "app/log_panel.h"

#include <QDateTime>
#include <QFontDatabase>
#include <QMetaObject>
#include <QPointer>

namespace bp::app {

LogPanel::LogPanel(QWidget* parent) : QPlainTextEdit(parent) {
  setReadOnly(true);
  setMaximumBlockCount(5000);
  setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  QPointer<LogPanel> self(this);
  bp::setLogSink([self](bp::LogLevel level, const std::string& message) {
    const auto text = QString::fromStdString(message);
    QMetaObject::invokeMethod(
        self.data(), [self, level, text] { if (self) self->append(level, text); }, Qt::QueuedConnection);
  });
}

LogPanel::~LogPanel() { bp::setLogSink({}); }

void LogPanel::append(bp::LogLevel level, const QString& message) {
  static const char* colours[] = {"#808080", "#202020", "#b35900", "#c00000"};
  const auto time = QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss"));
  appendHtml(QStringLiteral("<span style='color:#808080'>%1</span> <span style='color:%2'><b>%3</b> %4</span>")
                 .arg(time, QLatin1String(colours[static_cast<int>(level)]),
                      QString::fromLatin1(bp::logLevelName(level)), message.toHtmlEscaped()));
  if (level >= bp::LogLevel::Warning) Q_EMIT problemLogged(message);
}

}  // namespace bp::app
