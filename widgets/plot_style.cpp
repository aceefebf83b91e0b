#include "widgets/plot_style.h"

#include "widgets/custom_plot.h"

#include <algorithm>

#include <QApplication>
#include <QFontMetrics>
#include <QLabel>
#include <QVBoxLayout>

#include "widgets/palette.h"

namespace bp::widgets {
namespace {

constexpr const char* kTitleName = "bp_plot_title";
constexpr const char* kEmptyMessageName = "bp_plot_empty_message";
constexpr const char* kFullTitleProperty = "bp_full_title";
constexpr int kTitleMinimumWidth = 80;

// Breaks the title into lines no wider than its cell of the plot's layout (the plot's width before
// the first layout), at spaces.
void wrapTitle(const QCustomPlot* plot, QCPTextElement* element) {
  const QString full = element->property(kFullTitleProperty).toString();
  const int cell = element->outerRect().width() > 0 ? element->outerRect().width() : plot->width();
  const int width = std::max(kTitleMinimumWidth, cell - 16);
  const QFontMetrics metrics(element->font());
  QStringList lines;
  QString line;
  for (const QString& word : full.split(QLatin1Char(' '))) {
    const QString longer = line.isEmpty() ? word : line + QLatin1Char(' ') + word;
    if (!line.isEmpty() && metrics.horizontalAdvance(longer) > width) {
      lines << line;
      line = word;
    } else {
      line = longer;
    }
  }
  lines << line;
  const QString wrapped = lines.join(QLatin1Char('\n'));
  if (element->text() != wrapped) element->setText(wrapped);
}

bool drawsNothing(QCustomPlot* plot) {
  for (int i = 0; i < plot->plottableCount(); ++i)
    if (!plot->plottable(i)->interface1D() || plot->plottable(i)->interface1D()->dataCount() > 0) return false;
  return true;
}

// While the plot draws nothing, the message stands alone: axes of 0 to 5 would look like a result.
void showEmptyState(QCustomPlot* plot, QLabel* message) {
  const bool empty = drawsNothing(plot);
  message->setVisible(empty);
  plot->xAxis->setVisible(!empty);
  plot->yAxis->setVisible(!empty);
}

QFont scaledFont(double extraPoints, bool bold = false) {
  QFont font = QApplication::font();
  const double base = font.pointSizeF() > 0 ? font.pointSizeF() : 9.0;
  font.setPointSizeF(base + extraPoints);
  font.setBold(bold);
  return font;
}

}  // namespace

void applyAxisStyle(QCPAxis* axis) {
  const QPen axisPen(palette::axis(), 1);
  axis->setBasePen(axisPen);
  axis->setTickPen(axisPen);
  axis->setSubTickPen(axisPen);
  axis->setTickLengthIn(0);
  axis->setTickLengthOut(4);
  axis->setSubTicks(false);
  axis->setTickLabelFont(scaledFont(0));
  axis->setTickLabelColor(palette::text());
  axis->setLabelFont(scaledFont(1));
  axis->setLabelColor(palette::text());
  axis->setLabelPadding(6);
  axis->grid()->setPen(QPen(palette::grid(), 1, Qt::SolidLine));
  axis->grid()->setZeroLinePen(Qt::NoPen);
  axis->grid()->setSubGridVisible(false);
}

namespace {

QCPTextElement* titleElement(QCustomPlot* plot) {
  QCPLayoutGrid* layout = plot->plotLayout();
  if (layout->rowCount() == 0 || layout->columnCount() == 0) return nullptr;
  auto* element = qobject_cast<QCPTextElement*>(layout->element(0, 0));
  return element && element->objectName() == QLatin1String(kTitleName) ? element : nullptr;
}

}  // namespace

void applyPlotStyle(QCustomPlot* plot) {
  plot->setBackground(palette::background());
  plot->setAntialiasedElements(QCP::aePlottables | QCP::aeItems | QCP::aeLegend | QCP::aeLegendItems);
  plot->setNotAntialiasedElements(QCP::aeAxes | QCP::aeGrid | QCP::aeSubGrid);
  plot->setPlottingHint(QCP::phCacheLabels, true);
  plot->setFont(scaledFont(0));

  for (QCPAxis* axis : plot->axisRect()->axes()) applyAxisStyle(axis);
  plot->xAxis2->setVisible(false);
  plot->yAxis2->setVisible(false);
  plot->axisRect()->setMinimumMargins(QMargins(12, 10, 16, 10));

  QCPLegend* legend = plot->legend;
  legend->setFont(scaledFont(0));
  legend->setTextColor(palette::text());
  legend->setBorderPen(QPen(palette::grid()));
  legend->setBrush(QColor(255, 255, 255, 220));
  legend->setIconSize(22, 12);
  legend->setRowSpacing(0);
  legend->setMargins(QMargins(8, 5, 8, 5));
}

void setPlotTitle(QCustomPlot* plot, const QString& title) {
  QCPTextElement* element = titleElement(plot);
  QCPLayoutGrid* layout = plot->plotLayout();
  if (title.isEmpty()) {
    if (element) {
      layout->remove(element);
      layout->simplify();
    }
    return;
  }
  if (!element) {
    layout->insertRow(0);
    element = new QCPTextElement(plot, title, scaledFont(3, true));
    element->setObjectName(QLatin1String(kTitleName));
    element->setTextColor(palette::text());
    element->setMargins(QMargins(0, 8, 0, 2));
    // A long title wraps to the plot's width instead of widening the plot (and the window).
    element->setMinimumSize(kTitleMinimumWidth, 0);
    QObject::connect(plot, &QCustomPlot::beforeReplot, element, [plot, element] { wrapTitle(plot, element); });
    layout->addElement(0, 0, element);
  }
  element->setProperty(kFullTitleProperty, title);
  wrapTitle(plot, element);
}

namespace {

QFont scaledBy(QFont font, double factor) {
  if (font.pointSizeF() > 0) {
    font.setPointSizeF(font.pointSizeF() * factor);
  } else {
    font.setPixelSize(qRound(font.pixelSize() * factor));
  }
  return font;
}

void scaleAxisFonts(QCPAxis* axis, double factor) {
  axis->setTickLabelFont(scaledBy(axis->tickLabelFont(), factor));
  axis->setLabelFont(scaledBy(axis->labelFont(), factor));
}

}  // namespace

void scalePlotFonts(QWidget* root, double factor) {
  for (QCustomPlot* plot : root->findChildren<QCustomPlot*>()) {
    plot->setFont(scaledBy(plot->font(), factor));
    for (QCPLayoutElement* element : plot->plotLayout()->elements(true)) {
      if (auto* rect = qobject_cast<QCPAxisRect*>(element)) {
        for (QCPAxis* axis : rect->axes()) scaleAxisFonts(axis, factor);
      } else if (auto* scale = qobject_cast<QCPColorScale*>(element)) {
        scaleAxisFonts(scale->axis(), factor);
      } else if (auto* legend = qobject_cast<QCPLegend*>(element)) {
        legend->setFont(scaledBy(legend->font(), factor));
        for (int i = 0; i < legend->itemCount(); ++i)
          if (QCPAbstractLegendItem* item = legend->item(i)) item->setFont(scaledBy(item->font(), factor));
      } else if (auto* text = qobject_cast<QCPTextElement*>(element)) {
        text->setFont(scaledBy(text->font(), factor));
      }
    }
    plot->replot(QCustomPlot::rpQueuedReplot);
  }
}

void setEmptyMessage(QCustomPlot* plot, const QString& message) {
  auto* label = plot->findChild<QLabel*>(QString::fromLatin1(kEmptyMessageName), Qt::FindDirectChildrenOnly);
  if (label == nullptr) {
    label = new QLabel(plot);
    label->setObjectName(QString::fromLatin1(kEmptyMessageName));
    label->setWordWrap(true);
    label->setAlignment(Qt::AlignCenter);
    label->setStyleSheet(QStringLiteral("color:#555555;background:rgba(255,255,255,215);padding:8px"));
    auto* layout = new QVBoxLayout(plot);
    layout->addWidget(label, 0, Qt::AlignCenter);
    // Before the replot lays out the plot, so that the axes come back with the first data.
    QObject::connect(plot, &QCustomPlot::beforeReplot, label, [plot, label] { showEmptyState(plot, label); });
  }
  label->setText(message);
  showEmptyState(plot, label);
  plot->replot(QCustomPlot::rpQueuedReplot);
}

QString shownEmptyMessage(const QCustomPlot* plot) {
  const auto* label = plot->findChild<QLabel*>(QString::fromLatin1(kEmptyMessageName), Qt::FindDirectChildrenOnly);
  return label != nullptr && !label->isHidden() ? label->text() : QString();
}

}  // namespace bp::widgets
