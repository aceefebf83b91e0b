// The reusable views in widgets/: construction with data, pixel conversion, the image grid's
// selection, histogram statistics, the heatmap's cell mapping, hover and level of detail, and
// figure export. Runs under QT_QPA_PLATFORM=offscreen.
#include "widgets/custom_plot.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QSignalSpy>
#include <QtTest>
#include <cmath>
#include <limits>

#include "test_registry.h"
#include "test_support.h"
#include "widgets/bar_plot.h"
#include "widgets/colormaps.h"
#include "widgets/heatmap_view.h"
#include "widgets/histogram_plot.h"
#include "widgets/image_conversion.h"
#include "widgets/image_grid_view.h"
#include "widgets/matrix_tile.h"
#include "widgets/palette.h"
#include "widgets/plot_export.h"
#include "widgets/plot_style.h"
#include "widgets/series_plot.h"

using namespace bp::widgets;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

QVector<ImageGridItem> makeGridItems(int count) {
  QVector<ImageGridItem> items;
  items.reserve(count);
  for (int i = 0; i < count; ++i) {
    QImage image(28, 28, QImage::Format_Grayscale8);
    image.fill(static_cast<uint>(i % 256));
    items.push_back({image, QStringLiteral("#%1").arg(i), QStringLiteral("image %1").arg(i), 1000 + i});
  }
  return items;
}

// Matrix with value row * cols + col, so every cell is distinct.
QVector<float> indexMatrix(int rows, int cols) {
  QVector<float> values(rows * cols);
  for (int i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  return values;
}

// The widget position of the centre of a cell, from the plot's own axis mapping.
QPoint cellCentre(const HeatmapView& view, int row, int col) {
  const double x = view.plot()->xAxis->coordToPixel(col);
  const double y = view.plot()->yAxis->coordToPixel(-row);
  return view.plot()->mapTo(&view, QPoint(qFloor(x), qFloor(y)));
}

void showAndLayOut(QWidget& widget, QCustomPlot* plot, QSize size) {
  widget.resize(size);
  widget.show();
  QVERIFY(QTest::qWaitForWindowExposed(&widget));
  plot->replot();
}

}  // namespace

class TestViews : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void imageFromPlanesMapsGrayValuesLinearlyAndClamps();
  void imageFromPlanesCombinesThreePlanesIntoRgb();
  void imageFromPlanesRejectsUnsupportedInput();
  void imageGridHoldsTenThousandItemsAndScalesThumbnailsLazily();
  void imageGridEmitsCurrentIdChangedOnSelection();
  void imageGridKeepsCurrentIdAcrossSetItems();
  void histogramIgnoresNonFiniteValues();
  void histogramReportsMedianOfEvenCount();
  void seriesPlotAddsLinesAndScattersWithPaletteColors();
  void anEmptyPlotSaysWhatFillsIt();
  void seriesPlotKeepsItsLegendOffTheData();
  void slantedBarLabelsKeepRoomForTheLastOne();
  void heatmapCellAtMapsCellCentresToRowAndColumn();
  void heatmapCellAtIsEmptyOutsideTheMatrix();
  void heatmapDrawsRowZeroAtTheTop();
  void heatmapEmitsCellHoveredOnMouseMoveAndLeave();
  void downsamplingLimitsCellsPerSideAndPreservesBlockMeans();
  void downsamplingAveragesPartialEdgeBlocksAndSkipsNaN();
  void heatmapShowsFullResolutionOnlyWhenZoomedIn();
  void heatmapAutoRangeIsSymmetricForDivergingColormap();
  void exportPlotWritesPngPdfAndSvg();
  void exportPlotRejectsUnknownFormatAndMissingFolder();
  void everyViewShowsWithData();
};

void TestViews::imageFromPlanesMapsGrayValuesLinearlyAndClamps() {
  const float planes[] = {0.0f, 0.5f, 1.0f, -1.0f, 2.0f, kNaN};  // 2 rows x 3 columns
  const QImage image = imageFromPlanes(planes, 1, 2, 3, 0.0f, 1.0f);
  QCOMPARE(image.format(), QImage::Format_Grayscale8);
  QCOMPARE(image.size(), QSize(3, 2));
  QCOMPARE(int(image.constScanLine(0)[0]), 0);
  QCOMPARE(int(image.constScanLine(0)[1]), 128);  // 127.5 rounds up
  QCOMPARE(int(image.constScanLine(0)[2]), 255);
  QCOMPARE(int(image.constScanLine(1)[0]), 0);    // below low: clamped
  QCOMPARE(int(image.constScanLine(1)[1]), 255);  // above high: clamped
  QCOMPARE(int(image.constScanLine(1)[2]), 0);    // NaN

  const float shifted[] = {-2.0f, 0.0f};  // low..high = -2..2
  const QImage second = imageFromPlanes(shifted, 1, 1, 2, -2.0f, 2.0f);
  QCOMPARE(int(second.constScanLine(0)[0]), 0);
  QCOMPARE(int(second.constScanLine(0)[1]), 128);
}

void TestViews::imageFromPlanesCombinesThreePlanesIntoRgb() {
  // 1 row x 2 columns; planes R, G, B.
  const float planes[] = {1.0f, 0.0f, /*G*/ 0.0f, 0.25f, /*B*/ 0.5f, 1.0f};
  const QImage image = imageFromPlanes(planes, 3, 1, 2, 0.0f, 1.0f);
  QCOMPARE(image.format(), QImage::Format_RGB32);
  QCOMPARE(image.pixel(0, 0), qRgb(255, 0, 128));
  QCOMPARE(image.pixel(1, 0), qRgb(0, 64, 255));  // 63.75 rounds to 64
}

void TestViews::imageFromPlanesRejectsUnsupportedInput() {
  const float planes[] = {0, 0, 0, 0};
  QVERIFY(imageFromPlanes(planes, 2, 1, 2, 0, 1).isNull());
  QVERIFY(imageFromPlanes(planes, 1, 0, 2, 0, 1).isNull());
  QVERIFY(imageFromPlanes(nullptr, 1, 1, 1, 0, 1).isNull());
}

void TestViews::imageGridHoldsTenThousandItemsAndScalesThumbnailsLazily() {
  ImageGridView view;
  view.resize(640, 480);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));

  QElapsedTimer timer;
  timer.start();
  view.setItems(makeGridItems(10000));
  QCoreApplication::processEvents();
  const QPixmap frame = view.grab();  // lays out and paints the visible cells
  QVERIFY(!frame.isNull());
  QVERIFY2(timer.elapsed() < 5000, qPrintable(QStringLiteral("took %1 ms").arg(timer.elapsed())));

  QCOMPARE(view.itemCount(), 10000);
  QCOMPARE(view.model()->rowCount(), 10000);
  const int cached = view.gridModel()->cachedThumbnailCount();
  QVERIFY2(cached > 0 && cached < 1000, qPrintable(QStringLiteral("%1 thumbnails scaled").arg(cached)));

  const QPixmap thumbnail = view.gridModel()->thumbnail(0);
  QCOMPARE(qRound(thumbnail.width() / thumbnail.devicePixelRatio()), view.thumbnailSize());

  view.scrollToBottom();
  QCoreApplication::processEvents();
  QVERIFY(!view.grab().isNull());
}

void TestViews::imageGridEmitsCurrentIdChangedOnSelection() {
  ImageGridView view;
  view.resize(640, 480);
  view.setItems(makeGridItems(50));
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  QCOMPARE(view.currentId(), qint64(-1));

  QSignalSpy spy(&view, &ImageGridView::currentIdChanged);
  const QRect third = view.visualRect(view.model()->index(2, 0));
  QVERIFY(third.isValid());
  QTest::mouseClick(view.viewport(), Qt::LeftButton, Qt::NoModifier, third.center());
  QCOMPARE(spy.count(), 1);
  QCOMPARE(spy.at(0).at(0).toLongLong(), 1002);
  QCOMPARE(view.currentId(), qint64(1002));
  QVERIFY(view.selectionModel()->isSelected(view.model()->index(2, 0)));

  view.setCurrentId(1040);
  QCOMPARE(spy.count(), 2);
  QCOMPARE(spy.at(1).at(0).toLongLong(), 1040);

  view.setCurrentId(1040);  // unchanged: no signal
  QCOMPARE(spy.count(), 2);

  view.setCurrentId(-1);
  QCOMPARE(spy.count(), 3);
  QCOMPARE(spy.at(2).at(0).toLongLong(), -1);
  QCOMPARE(view.currentId(), qint64(-1));
}

void TestViews::imageGridKeepsCurrentIdAcrossSetItems() {
  ImageGridView view;
  view.setItems(makeGridItems(20));
  view.setCurrentId(1005);
  QSignalSpy spy(&view, &ImageGridView::currentIdChanged);

  view.setItems(makeGridItems(10));  // still holds id 1005
  QCOMPARE(view.currentId(), qint64(1005));
  QCOMPARE(spy.count(), 0);

  view.setItems(makeGridItems(3));  // no longer holds it
  QCOMPARE(view.currentId(), qint64(-1));
  QCOMPARE(spy.count(), 1);
  QCOMPARE(spy.at(0).at(0).toLongLong(), -1);
}

void TestViews::histogramIgnoresNonFiniteValues() {
  HistogramPlot histogram;
  histogram.setValues({1.0, std::nan(""), 2.0, kInf, 3.0, -kInf, 2.5}, 5);
  QCOMPARE(histogram.valueCount(), 4);
  QCOMPARE(histogram.ignoredCount(), 3);
  QCOMPARE(histogram.median(), 2.25);
  QVERIFY(histogram.summaryText().startsWith(QStringLiteral("n = 4, median = 2.25")));

  auto* bars = qobject_cast<QCPBars*>(histogram.plot()->plottable(0));
  QVERIFY(bars);
  QCOMPARE(bars->data()->size(), 5);
  double total = 0;
  for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it) {
    QVERIFY(std::isfinite(it->value));
    total += it->value;
  }
  QCOMPARE(total, 4.0);

  histogram.setValues({std::nan("")});
  QCOMPARE(histogram.valueCount(), 0);
  QVERIFY(std::isnan(histogram.median()));
  QVERIFY(histogram.summaryText().startsWith(QStringLiteral("n = 0")));
}

void TestViews::histogramReportsMedianOfEvenCount() {
  HistogramPlot histogram;
  histogram.setValues({4, 1, 3, 2});
  QCOMPARE(histogram.median(), 2.5);
  histogram.setValues({7, 7, 7});  // constant values still make a valid plot
  QCOMPARE(histogram.median(), 7.0);
  QVERIFY(histogram.plot()->xAxis->range().size() > 0);
}

void TestViews::slantedBarLabelsKeepRoomForTheLastOne() {
  BarPlot plot;
  plot.resize(420, 240);
  const QStringList classes = {QStringLiteral("T-shirt/top"), QStringLiteral("Trouser"), QStringLiteral("Pullover"),
                               QStringLiteral("Dress"), QStringLiteral("Coat"), QStringLiteral("Sandal"),
                               QStringLiteral("Shirt"), QStringLiteral("Sneaker"), QStringLiteral("Bag"),
                               QStringLiteral("Ankle boot")};
  plot.setBars(classes, QVector<double>(10, 0.1), {});
  plot.plot()->replot();
  QCPAxisRect* rect = plot.plot()->axisRect();
  // The last label runs about 0.71 of its width right of its bar; the axis rect leaves that room.
  const int lastLabel = QFontMetrics(plot.plot()->xAxis->tickLabelFont()).horizontalAdvance(classes.back());
  QVERIFY2(rect->margins().right() >= lastLabel * 0.7, qPrintable(QString::number(rect->margins().right())));
  QCOMPARE(plot.plot()->xAxis->tickVectorLabels().size(), 10);
  // Upright labels need no such room.
  plot.setBars({QStringLiteral("a"), QStringLiteral("b")}, {1.0, 2.0}, {});
  QCOMPARE(rect->autoMargins(), QCP::msAll);
}

void TestViews::anEmptyPlotSaysWhatFillsIt() {
  SeriesPlot plot;
  plot.resize(400, 300);
  bp::widgets::setEmptyMessage(plot.plot(), QStringLiteral("Press Fit"));
  QCOMPARE(bp::widgets::shownEmptyMessage(plot.plot()), QStringLiteral("Press Fit"));
  // The message stands alone: no 0-5 axes that would look like a result.
  QVERIFY(!plot.plot()->xAxis->visible() && !plot.plot()->yAxis->visible());
  plot.addLine(QStringLiteral("loss"), {0, 1}, {1.0, 0.5});
  plot.plot()->replot();
  QVERIFY(bp::widgets::shownEmptyMessage(plot.plot()).isEmpty());
  QVERIFY(plot.plot()->xAxis->visible() && plot.plot()->yAxis->visible());
  plot.clear();
  plot.plot()->replot();
  QCOMPARE(bp::widgets::shownEmptyMessage(plot.plot()), QStringLiteral("Press Fit"));
  QVERIFY(!plot.plot()->xAxis->visible());
  bp::widgets::setEmptyMessage(plot.plot(), QStringLiteral("Press Run"));  // replaces, no second label
  QCOMPARE(bp::widgets::shownEmptyMessage(plot.plot()), QStringLiteral("Press Run"));
  QCOMPARE(plot.plot()->findChildren<QLabel*>().size(), 1);
}

void TestViews::seriesPlotAddsLinesAndScattersWithPaletteColors() {
  SeriesPlot plot;
  QCOMPARE(plot.addLine(QStringLiteral("train"), {0, 1, 2, 3}, {1.0, 0.6, 0.4, 0.3}), 0);
  QCOMPARE(plot.addLine(QStringLiteral("loop"), {0, 1, 0.5}, {0, 0, 1}), 1);  // x not ascending
  QCOMPARE(plot.addScatter(QStringLiteral("points"), {0, 1, 2}, {3, 4, 5}, QColor(Qt::red), 6), 2);
  QCOMPARE(plot.seriesCount(), 3);
  QCOMPARE(plot.plot()->plottableCount(), 3);
  QCOMPARE(plot.plot()->plottable(0)->pen().color(), palette::seriesColor(0));
  QCOMPARE(plot.plot()->plottable(1)->pen().color(), palette::seriesColor(1));
  QVERIFY(qobject_cast<QCPCurve*>(plot.plot()->plottable(1)));
  QCOMPARE(plot.plot()->legend->itemCount(), 3);
  // A line of one point (a single epoch) is drawn as a marker; longer lines are not.
  QCOMPARE(qobject_cast<QCPGraph*>(plot.plot()->plottable(0))->scatterStyle().shape(), QCPScatterStyle::ssNone);
  plot.addLine(QStringLiteral("one epoch"), {1}, {0.5});
  QCOMPARE(qobject_cast<QCPGraph*>(plot.plot()->plottable(3))->scatterStyle().shape(), QCPScatterStyle::ssDisc);
  plot.clear();
  QCOMPARE(plot.addLine(QStringLiteral("train"), {0, 1, 2, 3}, {1.0, 0.6, 0.4, 0.3}), 0);
  QCOMPARE(plot.addLine(QStringLiteral("loop"), {0, 1, 0.5}, {0, 0, 1}), 1);
  QCOMPARE(plot.addScatter(QStringLiteral("points"), {0, 1, 2}, {3, 4, 5}, QColor(Qt::red), 6), 2);

  plot.rescale();
  QVERIFY(plot.plot()->xAxis->range().contains(0) && plot.plot()->xAxis->range().contains(3));
  QVERIFY(plot.plot()->yAxis->range().contains(5));
  plot.setLegendVisible(false);
  QVERIFY(!plot.plot()->legend->visible());

  plot.clear();
  QCOMPARE(plot.seriesCount(), 0);
  QCOMPARE(plot.plot()->plottableCount(), 0);
}

void TestViews::seriesPlotKeepsItsLegendOffTheData() {
  SeriesPlot plot;
  for (int i = 0; i < 6; ++i)
    plot.addLine(QStringLiteral("quick-baseline-seed%1").arg(i), {1, 2, 3, 4}, {0.2, 0.4 + 0.01 * i, 0.5, 0.6});
  plot.rescale();
  const auto legendClearOfData = [&plot] {
    return !plot.plot()->legend->outerRect().intersects(plot.plot()->axisRect()->rect()) &&
           plot.plot()->legend->outerRect().isValid();
  };
  // Wide: beside the axes, which keep most of the width.
  showAndLayOut(plot, plot.plot(), QSize(900, 300));
  plot.plot()->replot();
  QCOMPARE(plot.legendPlace(), SeriesPlot::LegendPlace::Beside);
  QVERIFY(legendClearOfData());
  QVERIFY(plot.plot()->axisRect()->outerRect().width() >= 900 * 7 / 10 - 20);
  // Narrow: in rows above the axes.
  plot.resize(360, 300);
  plot.plot()->replot();
  plot.plot()->replot();
  QCOMPARE(plot.legendPlace(), SeriesPlot::LegendPlace::Above);
  QVERIFY(legendClearOfData());
  QVERIFY(plot.plot()->legend->outerRect().bottom() <= plot.plot()->axisRect()->rect().top());
  // Hidden: no room kept for it.
  plot.setLegendVisible(false);
  plot.plot()->replot();
  QCOMPARE(plot.legendPlace(), SeriesPlot::LegendPlace::None);
  QVERIFY(plot.plot()->axisRect()->outerRect().width() >= 360 - 2);
  plot.setLegendVisible(true);
  plot.resize(900, 300);
  plot.plot()->replot();
  QCOMPARE(plot.legendPlace(), SeriesPlot::LegendPlace::Beside);
  QVERIFY(legendClearOfData());
}

void TestViews::heatmapCellAtMapsCellCentresToRowAndColumn() {
  HeatmapView view;
  view.setMatrix(indexMatrix(4, 5), 4, 5);
  showAndLayOut(view, view.plot(), QSize(500, 400));
  for (int row = 0; row < 4; ++row) {
    for (int col = 0; col < 5; ++col) {
      const auto cell = view.cellAt(cellCentre(view, row, col));
      QVERIFY2(cell.has_value(), qPrintable(QStringLiteral("no cell at (%1, %2)").arg(row).arg(col)));
      QCOMPARE(cell->first, row);
      QCOMPARE(cell->second, col);
    }
  }
  // The first pixel inside the axis rect is the top-left cell, the last full pixel the bottom-right.
  const QRect rect = view.plot()->axisRect()->rect();
  const auto topLeft = view.cellAt(view.plot()->mapTo(&view, rect.topLeft()));
  QVERIFY(topLeft.has_value());
  QCOMPARE(*topLeft, std::make_pair(0, 0));
  const auto bottomRight = view.cellAt(view.plot()->mapTo(&view, rect.bottomRight() - QPoint(1, 1)));
  QVERIFY(bottomRight.has_value());
  QCOMPARE(*bottomRight, std::make_pair(3, 4));
}

void TestViews::heatmapCellAtIsEmptyOutsideTheMatrix() {
  HeatmapView view;
  view.setMatrix(indexMatrix(4, 5), 4, 5);
  showAndLayOut(view, view.plot(), QSize(500, 400));
  const QRect rect = view.plot()->axisRect()->rect();
  const QPoint origin = view.plot()->mapTo(&view, QPoint(0, 0));
  QVERIFY(!view.cellAt(origin).has_value());                                     // widget corner
  QVERIFY(!view.cellAt(origin + rect.topLeft() - QPoint(1, 0)).has_value());     // left of the map
  QVERIFY(!view.cellAt(origin + rect.topLeft() - QPoint(0, 1)).has_value());     // above the map
  QVERIFY(!view.cellAt(origin + rect.topRight() + QPoint(3, 5)).has_value());    // right of the map
  QVERIFY(!view.cellAt(origin + rect.bottomLeft() + QPoint(5, 3)).has_value());  // below the map
  QVERIFY(!view.cellAt(QPoint(-10, -10)).has_value());

  HeatmapView empty;
  QVERIFY(!empty.cellAt(QPoint(100, 100)).has_value());
}

void TestViews::heatmapDrawsRowZeroAtTheTop() {
  HeatmapView view;
  view.setColormap(Colormap::Gray);
  view.setMatrix(indexMatrix(4, 5), 4, 5);  // 0 (black) top-left .. 19 (white) bottom-right
  showAndLayOut(view, view.plot(), QSize(500, 400));
  const QImage frame = view.grab().toImage();
  const qreal ratio = frame.devicePixelRatio();
  for (int row = 0; row < 4; ++row) {
    for (int col = 0; col < 5; ++col) {
      const QPoint at = cellCentre(view, row, col) * ratio;
      const int expected = qRound(255.0 * (row * 5 + col) / 19.0);
      const int gray = qGray(frame.pixel(at));
      const QString where = QStringLiteral("cell (%1, %2): gray %3, expected %4").arg(row).arg(col).arg(gray);
      QVERIFY2(std::abs(gray - expected) <= 3, qPrintable(where.arg(expected)));
    }
  }
}

void TestViews::heatmapEmitsCellHoveredOnMouseMoveAndLeave() {
  HeatmapView view;
  view.setMatrix(indexMatrix(4, 5), 4, 5);
  showAndLayOut(view, view.plot(), QSize(500, 400));
  QSignalSpy spy(&view, &HeatmapView::cellHovered);

  const QPoint inPlot = view.plot()->mapFrom(&view, cellCentre(view, 2, 3));
  QMouseEvent move(QEvent::MouseMove, QPointF(inPlot), QPointF(view.plot()->mapToGlobal(inPlot)), Qt::NoButton,
                   Qt::NoButton, Qt::NoModifier);
  QApplication::sendEvent(view.plot(), &move);
  QCOMPARE(spy.count(), 1);
  QCOMPARE(spy.at(0).at(0).toInt(), 2);
  QCOMPARE(spy.at(0).at(1).toInt(), 3);
  QCOMPARE(spy.at(0).at(2).toDouble(), 13.0);
  // The hovered cell is framed where it is drawn.
  QCOMPARE(view.framedCell(), std::make_optional(std::make_pair(2, 3)));

  QApplication::sendEvent(view.plot(), &move);  // same cell: no repeat
  QCOMPARE(spy.count(), 1);

  QEvent leave(QEvent::Leave);
  QApplication::sendEvent(view.plot(), &leave);
  QCOMPARE(spy.count(), 2);
  QVERIFY(!view.framedCell());
  QCOMPARE(spy.at(1).at(0).toInt(), -1);
  QCOMPARE(spy.at(1).at(1).toInt(), -1);
  QVERIFY(std::isnan(spy.at(1).at(2).toDouble()));
}

void TestViews::downsamplingLimitsCellsPerSideAndPreservesBlockMeans() {
  const int n = 3000;
  QVector<float> values(n * n);
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) values[r * n + c] = static_cast<float>(std::sin(r * 0.01) + 0.001 * c + ((r + c) % 7));

  const MatrixTile tile = downsampleBlockMean(values.constData(), n, n, 1024);
  QVERIFY(tile.rows <= 1024 && tile.cols <= 1024);
  QCOMPARE(tile.rowFactor, 3);
  QCOMPARE(tile.colFactor, 3);
  QCOMPARE(tile.rows, 1000);
  QCOMPARE(tile.cols, 1000);
  QCOMPARE(tile.values.size(), qsizetype(1000 * 1000));

  for (const auto& [tr, tc] : {std::pair{0, 0}, {0, 999}, {517, 33}, {999, 999}, {250, 750}}) {
    double sum = 0;
    for (int r = tr * 3; r < tr * 3 + 3; ++r)
      for (int c = tc * 3; c < tc * 3 + 3; ++c) sum += values[r * n + c];
    QVERIFY2(std::abs(tile.at(tr, tc) - sum / 9.0) < 1e-4,
             qPrintable(QStringLiteral("block (%1, %2)").arg(tr).arg(tc)));
  }

  // The overall mean is preserved when the blocks divide the matrix evenly.
  double fullSum = 0;
  for (float v : values) fullSum += v;
  double tileSum = 0;
  for (float v : tile.values) tileSum += v;
  QVERIFY(std::abs(fullSum / double(values.size()) - tileSum / double(tile.values.size())) < 1e-4);
}

void TestViews::downsamplingAveragesPartialEdgeBlocksAndSkipsNaN() {
  // 7 x 5 with at most 3 cells per side: blocks of 3 x 2; the last row block has 1 row, the last
  // column block 1 column.
  QVector<float> values = indexMatrix(7, 5);
  values[0] = kNaN;
  const MatrixTile tile = downsampleBlockMean(values.constData(), 7, 5, 3);
  QCOMPARE(tile.rowFactor, 3);
  QCOMPARE(tile.colFactor, 2);
  QCOMPARE(tile.rows, 3);
  QCOMPARE(tile.cols, 3);
  QCOMPARE(tile.at(0, 0), (1.0f + 5 + 6 + 10 + 11) / 5);  // NaN left out
  QCOMPARE(tile.at(0, 2), (4.0f + 9 + 14) / 3);
  QCOMPARE(tile.at(2, 2), 34.0f);
  QCOMPARE(tile.at(2, 0), (30.0f + 31) / 2);

  const QVector<float> allNaN(4, kNaN);
  QVERIFY(std::isnan(downsampleBlockMean(allNaN.constData(), 2, 2, 1).at(0, 0)));

  const MatrixTile window = blockMeanTile(values.constData(), 7, 5, QRect(1, 2, 3, 4), 10);
  QCOMPARE(window.rowFactor, 1);
  QCOMPARE(window.rows, 4);
  QCOMPARE(window.cols, 3);
  QCOMPARE(window.at(0, 0), 11.0f);
  QCOMPARE(window.sourceWindow(7, 5), QRect(1, 2, 3, 4));
}

void TestViews::heatmapShowsFullResolutionOnlyWhenZoomedIn() {
  const int n = 3000;
  HeatmapView view;
  view.setMatrix(indexMatrix(n, n), n, n);
  showAndLayOut(view, view.plot(), QSize(600, 500));
  QVERIFY(!view.isShowingFullResolution());
  QCOMPARE(view.overviewTile().rows, 1000);

  view.plot()->xAxis->setRange(1000, 1100);
  view.plot()->yAxis->setRange(-2100, -2000);
  QVERIFY(view.isShowingFullResolution());
  view.plot()->replot();
  const QPoint centre = cellCentre(view, 2050, 1050);
  const auto cell = view.cellAt(centre);
  QVERIFY(cell.has_value());
  QCOMPARE(*cell, std::make_pair(2050, 1050));
  QCOMPARE(view.valueAt(2050, 1050), 2050.0 * n + 1050);

  view.resetZoom();
  QVERIFY(!view.isShowingFullResolution());

  // Zooming out past the matrix is limited to the matrix.
  view.plot()->xAxis->setRange(-5000, 9000);
  QCOMPARE(view.plot()->xAxis->range().lower, -0.5);
  QCOMPARE(view.plot()->xAxis->range().upper, n - 0.5);

  HeatmapView small;
  small.setMatrix(indexMatrix(30, 40), 30, 40);
  QVERIFY(small.isShowingFullResolution());
}

void TestViews::heatmapAutoRangeIsSymmetricForDivergingColormap() {
  HeatmapView view;
  view.setMatrix({-0.2f, 0.5f, 0.9f, kNaN}, 2, 2);
  QCOMPARE(view.colorRange(), std::make_pair(double(-0.2f), double(0.9f)));
  view.setColormap(Colormap::RedBlue);
  const auto [low, high] = view.colorRange();
  QCOMPARE(low, -high);
  QVERIFY(std::abs(high - 0.9) < 1e-6);
  view.setColorRange(0, 2);
  view.setMatrix({1, 2, 3, 4}, 2, 2);  // a fixed range survives new data
  QCOMPARE(view.colorRange(), std::make_pair(0.0, 2.0));
}

void TestViews::exportPlotWritesPngPdfAndSvg() {
  bp::test::ScratchDir dir;
  HeatmapView heatmap;
  heatmap.setMatrix(indexMatrix(40, 40), 40, 40);
  heatmap.setAxisTitles(QStringLiteral("stimulus"), QStringLiteral("stimulus"), QStringLiteral("similarity"));
  SeriesPlot series;
  series.addLine(QStringLiteral("loss"), {0, 1, 2}, {3, 2, 1});
  series.rescale();

  for (QCustomPlot* plot : {heatmap.plot(), series.plot()}) {
    const QString base = QString::fromStdString((dir / "figure").string()) + QString::number(quintptr(plot));
    QString error;

    QVERIFY2(exportPlot(plot, base + ".png", &error, 400, 300, 2.0), qPrintable(error));
    const QImage png(base + ".png");
    QVERIFY(!png.isNull());
    QCOMPARE(png.size(), QSize(800, 600));

    QVERIFY2(exportPlot(plot, base + ".pdf", &error, 400, 300), qPrintable(error));
    QFile pdf(base + ".pdf");
    QVERIFY(pdf.open(QIODevice::ReadOnly));
    QVERIFY(pdf.size() > 100);
    QVERIFY(pdf.read(5) == "%PDF-");

    QVERIFY2(exportPlot(plot, base + ".SVG", &error), qPrintable(error));
    QFile svg(base + ".SVG");
    QVERIFY(svg.open(QIODevice::ReadOnly));
    QVERIFY(svg.size() > 100);
    QVERIFY(svg.readAll().contains("<svg"));

    QVERIFY2(exportPlot(plot, base + ".png", &error), qPrintable(error));  // overwrites in place
    QVERIFY(!QImage(base + ".png").isNull());
  }
  // Nothing but the figures is left behind.
  QCOMPARE(QDir(QString::fromStdString(dir.path().string())).entryList(QDir::Files | QDir::Hidden).size(), 6);
}

void TestViews::exportPlotRejectsUnknownFormatAndMissingFolder() {
  bp::test::ScratchDir dir;
  SeriesPlot series;
  QString error;
  QVERIFY(!exportPlot(series.plot(), QString::fromStdString((dir / "figure.bmp").string()), &error));
  QVERIFY(error.contains(QStringLiteral("format")));
  QVERIFY(!exportPlot(series.plot(), QString::fromStdString((dir / "missing" / "figure.png").string()), &error));
  QVERIFY(error.contains(QStringLiteral("does not exist")));
  QVERIFY(!exportPlot(nullptr, QStringLiteral("x.png"), &error));
}

void TestViews::everyViewShowsWithData() {
  QWidget window;
  window.resize(900, 700);
  auto* grid = new ImageGridView(&window);
  grid->setGeometry(0, 0, 450, 350);
  grid->setItems(makeGridItems(100));
  auto* histogram = new HistogramPlot(&window);
  histogram->setGeometry(450, 0, 450, 350);
  histogram->setValues({0.1, 0.2, 0.2, 0.3, 0.9});
  histogram->setLabels(QStringLiteral("Reliability"), QStringLiteral("r"));
  auto* series = new SeriesPlot(&window);
  series->setGeometry(0, 350, 450, 350);
  series->addScatter(QStringLiteral("neurons"), {1, 2, 3}, {2, 1, 3});
  series->setLabels(QStringLiteral("Prediction"), QStringLiteral("measured"), QStringLiteral("predicted"));
  series->rescale();
  auto* heatmap = new HeatmapView(&window);
  heatmap->setGeometry(450, 350, 450, 350);
  heatmap->setMatrix(indexMatrix(10, 12), 10, 12);
  heatmap->setTitle(QStringLiteral("RDM"));
  for (Colormap map : {Colormap::Viridis, Colormap::Magma, Colormap::Gray, Colormap::RedBlue})
    heatmap->setColormap(map);
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  QVERIFY(!window.grab().isNull());
}

BRAINPRIOR_TEST_CLASS(TestViews)
#include "test_views.moc"
