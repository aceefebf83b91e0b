#include "app/form_edits.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QSlider>
#include <QSpinBox>

namespace bp::app {

void watchFormEdits(QWidget* form, const std::function<void()>& edited) {
  for (auto* edit : form->findChildren<QLineEdit*>()) {
    // A spin box's or an editable combo box's own line edit reports through its owner.
    if (qobject_cast<QAbstractSpinBox*>(edit->parent()) || qobject_cast<QComboBox*>(edit->parent())) continue;
    QObject::connect(edit, &QLineEdit::textChanged, form, edited);
  }
  for (auto* spin : form->findChildren<QSpinBox*>()) QObject::connect(spin, &QSpinBox::valueChanged, form, edited);
  for (auto* spin : form->findChildren<QDoubleSpinBox*>())
    QObject::connect(spin, &QDoubleSpinBox::valueChanged, form, edited);
  for (auto* box : form->findChildren<QComboBox*>()) {
    QObject::connect(box, &QComboBox::currentIndexChanged, form, edited);
    if (box->isEditable()) QObject::connect(box, &QComboBox::currentTextChanged, form, edited);
  }
  for (auto* box : form->findChildren<QCheckBox*>()) QObject::connect(box, &QCheckBox::toggled, form, edited);
  // Sliders, not scroll bars: where a view is scrolled is not a setting.
  for (auto* slider : form->findChildren<QSlider*>()) QObject::connect(slider, &QSlider::valueChanged, form, edited);
}

}  // namespace bp::app
