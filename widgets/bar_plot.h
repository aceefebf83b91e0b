#pragma once
// Vertical bars over named categories: a classifier's class probabilities, one value per launch.
// Each bar has its own colour, so one bar (the decision, the true class) can stand out.
#include <QColor>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPBars;

namespace bp::widgets {

class BarPlot : public QWidget {
  Q_OBJECT

public:
  explicit BarPlot(QWidget* parent = nullptr);

  // One bar per category; `colors` one per bar (missing ones take the first palette colour). The
  // value axis spans [low, high]; high <= low fits it to the values.
  void setBars(const QStringList& categories, const QVector<double>& values, const QVector<QColor>& colors,
               double low = 0.0, double high = 1.0);
  void setLabels(const QString& title, const QString& valueLabel);
  QVector<double> values() const { return values_; }
  QCustomPlot* plot() const { return plot_; }

private:
  QCustomPlot* plot_;
  QVector<double> values_;
};

}  // namespace bp::widgets
