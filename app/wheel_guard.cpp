#include "app/wheel_guard.h"

#include <QAbstractScrollArea>
#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QCoreApplication>
#include <QComboBox>
#include <QEvent>
#include <QScrollBar>

namespace bp::app {
namespace {

constexpr char kGuardName[] = "brainpriorWheelGuard";

bool isValueField(const QObject* object) {
  if (qobject_cast<const QScrollBar*>(object) != nullptr) return false;
  return qobject_cast<const QAbstractSpinBox*>(object) != nullptr || qobject_cast<const QComboBox*>(object) != nullptr ||
         qobject_cast<const QAbstractSlider*>(object) != nullptr;
}

class WheelGuard : public QObject {
public:
  using QObject::QObject;

protected:
  bool eventFilter(QObject* watched, QEvent* event) override {
    if (!isValueField(watched)) return false;
    auto* field = static_cast<QWidget*>(watched);
    if (event->type() == QEvent::Polish) {
      // The wheel must not give a field the focus it then uses to change its value.
      if (field->focusPolicy() == Qt::WheelFocus) field->setFocusPolicy(Qt::StrongFocus);
      return false;
    }
    if (event->type() != QEvent::Wheel || field->hasFocus()) return false;
    // The form scrolls instead: the event goes to the scroll bar of the nearest scrolling ancestor.
    for (QWidget* ancestor = field->parentWidget(); ancestor != nullptr; ancestor = ancestor->parentWidget())
      if (auto* area = qobject_cast<QAbstractScrollArea*>(ancestor)) {
        QCoreApplication::sendEvent(area->verticalScrollBar(), event);
        break;
      }
    return true;
  }
};

}  // namespace

void installWheelGuard(QCoreApplication& application) {
  if (application.findChild<QObject*>(QString::fromLatin1(kGuardName), Qt::FindDirectChildrenOnly) != nullptr) return;
  auto* guard = new WheelGuard(&application);
  guard->setObjectName(QString::fromLatin1(kGuardName));
  application.installEventFilter(guard);
}

}  // namespace bp::app
