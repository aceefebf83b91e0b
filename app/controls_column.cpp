#include "app/controls_column.h"

#include <QComboBox>
#include <QScrollArea>
#include <QStyle>
#include <QVariant>

namespace bp::app {
namespace {

constexpr char kControlsProperty[] = "brainpriorControls";
constexpr int kComboBoxCharacters = 14;

// As wide as its form asks (asked again when fonts change, e.g. in presentation mode), plus room for
// the vertical scroll bar, so that a form taller than the window is never clipped sideways.
class ControlsColumn : public QScrollArea {
public:
  explicit ControlsColumn(QWidget* parent) : QScrollArea(parent) {}

  QSize minimumSizeHint() const override {
    return {widget()->minimumSizeHint().width() + scrollBarRoom(), QScrollArea::minimumSizeHint().height()};
  }
  QSize sizeHint() const override {
    return {widget()->sizeHint().width() + scrollBarRoom(), QScrollArea::sizeHint().height()};
  }

private:
  int scrollBarRoom() const { return style()->pixelMetric(QStyle::PM_ScrollBarExtent, nullptr, this) + 4; }
};

}  // namespace

QScrollArea* controlsColumn(QWidget* content, QWidget* parent) {
  // A choice with a long name elides in the box (its list shows it whole) rather than widening the
  // column: a form's width is set by its fields, not by its longest option.
  for (QComboBox* box : content->findChildren<QComboBox*>()) {
    box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    box->setMinimumContentsLength(kComboBoxCharacters);
  }
  auto* column = new ControlsColumn(parent);
  column->setWidget(content);
  column->setWidgetResizable(true);
  column->setFrameShape(QFrame::NoFrame);
  column->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  markAsControls(column);
  return column;
}

void markAsControls(QWidget* widget) { widget->setProperty(kControlsProperty, true); }

bool isControls(const QWidget* widget) { return widget->property(kControlsProperty).toBool(); }

}  // namespace bp::app
