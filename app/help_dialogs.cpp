#include "app/help_dialogs.h"

#include <QAction>
#include <QDialog>
#include <QFile>
#include <QHeaderView>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace bp::app {
namespace {

QDialog* helpWindow(QWidget* parent, const QString& name, const QString& title, QWidget* content) {
  auto* dialog = new QDialog(parent);
  dialog->setObjectName(name);
  dialog->setWindowTitle(title);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  auto* layout = new QVBoxLayout(dialog);
  content->setParent(dialog);
  layout->addWidget(content);
  return dialog;
}

// "File > Save Project" and its shortcut, for every action of `menu` and its submenus.
void collectShortcuts(const QMenu* menu, const QString& path, QList<QPair<QString, QKeySequence>>& shortcuts) {
  for (QAction* action : menu->actions()) {
    const QString name = path + QStringLiteral(" › ") + action->text().remove(QLatin1Char('&'));
    if (action->menu() != nullptr) {
      collectShortcuts(action->menu(), name, shortcuts);
    } else if (!action->shortcut().isEmpty()) {
      shortcuts.append({name, action->shortcut()});
    }
  }
}

}  // namespace

void showUserGuide(QWidget* parent) {
  QFile guide(QStringLiteral(":/docs/user-guide.md"));
  auto* browser = new QTextBrowser;
  browser->setOpenExternalLinks(true);
  browser->setMarkdown(guide.open(QIODevice::ReadOnly) ? QString::fromUtf8(guide.readAll())
                                                       : QObject::tr("The user guide is missing from this build."));
  QDialog* dialog = helpWindow(parent, QStringLiteral("userGuide"), QObject::tr("BrainPrior user guide"), browser);
  dialog->resize(760, 640);
  dialog->show();
}

void showKeyboardShortcuts(QMainWindow& window) {
  QList<QPair<QString, QKeySequence>> shortcuts;
  for (QAction* action : window.menuBar()->actions())
    if (action->menu() != nullptr) collectShortcuts(action->menu(), action->text().remove(QLatin1Char('&')), shortcuts);
  shortcuts.append({QObject::tr("The next tab / the previous tab"), QKeySequence(QStringLiteral("Ctrl+Tab"))});
  auto* table = new QTableWidget(static_cast<int>(shortcuts.size()), 2);
  table->setHorizontalHeaderLabels({QObject::tr("Action"), QObject::tr("Keys")});
  table->verticalHeader()->hide();
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  for (int row = 0; row < shortcuts.size(); ++row) {
    table->setItem(row, 0, new QTableWidgetItem(shortcuts[row].first));
    table->setItem(row, 1, new QTableWidgetItem(shortcuts[row].second.toString(QKeySequence::NativeText)));
  }
  table->resizeColumnsToContents();
  table->horizontalHeader()->setStretchLastSection(true);
  QDialog* dialog =
      helpWindow(&window, QStringLiteral("keyboardShortcuts"), QObject::tr("Keyboard shortcuts"), table);
  dialog->resize(560, 520);
  dialog->show();
}

}  // namespace bp::app
