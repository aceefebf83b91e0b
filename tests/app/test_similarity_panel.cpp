// The similarity panel as a user drives it: compute matrix A from the repeat average and B from a
// single trial, hover a cell to read its two images and value, see A − B, compare A with B, export
// a figure, and open a saved matrix file. A small synthetic population keeps every job short.
#include "test_registry.h"
#include "widgets/custom_plot.h"

#include <QComboBox>
#include <QFile>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QToolTip>
#include <QtTest>
#include <cmath>
#include <random>
#include <set>
#include <string>

#include "app/job_runner.h"
#include "app/main_window.h"
#include "app/similarity_panel.h"
#include "app/workspace.h"
#include "data/synthetic_v1.h"
#include "rsa/matrix_file.h"
#include "test_support.h"
#include "widgets/heatmap_view.h"
#include "widgets/histogram_plot.h"
#include "widgets/series_plot.h"
#include "widgets/plot_export.h"

using bp::app::SimilarityPanel;
using bp::app::Workspace;

namespace {

constexpr int kSide = 12;
constexpr int kTestImages = 8;
constexpr int kTestRepeats = 4;
// Generous: jobs share two cores with other builds; no test asserts a duration.
constexpr int kJobWaitMs = 120000;

// 60 random 12x12 blob-and-grating images in [0, 1], four classes.
bp::ImageDataset smallImageDataset() {
  bp::ImageDataset images;
  images.name = "small patterns";
  images.channels = 1;
  images.height = kSide;
  images.width = kSide;
  images.classNames = {"gratings", "blobs", "mixed", "noise"};
  std::mt19937 random(11);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double pi = std::acos(-1.0);
  for (int i = 0; i < 60; ++i) {
    const double angle = uniform(random) * pi;
    const double frequency = 0.08 + 0.2 * uniform(random);
    const double cx = uniform(random) * kSide;
    const double cy = uniform(random) * kSide;
    for (int y = 0; y < kSide; ++y)
      for (int x = 0; x < kSide; ++x) {
        const double blob = std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 18.0);
        const double along = x * std::cos(angle) + y * std::sin(angle);
        const double value = 0.5 + 0.4 * blob * std::cos(2 * pi * frequency * along);
        images.pixels.push_back(static_cast<float>(std::clamp(value, 0.0, 1.0)));
      }
    images.labels.push_back(i % 4);
  }
  return images;
}

bp::NeuralDataset smallNeuralDataset(const bp::Job& job) {
  bp::SyntheticV1Config config;
  config.neuronCount = 30;
  config.trainImages = 40;
  config.validationImages = 12;
  config.testImages = kTestImages;
  config.testRepeats = kTestRepeats;
  return bp::generateSyntheticV1(smallImageDataset(), config, job).dataset;
}

// The widget position (in the heatmap's coordinates) of the centre of cell (row, col), from the
// plot's own axis mapping: rows are drawn at y = -row.
QPoint cellCentre(const bp::widgets::HeatmapView& view, int row, int col) {
  const double x = view.plot()->xAxis->coordToPixel(col);
  const double y = view.plot()->yAxis->coordToPixel(-row);
  return view.plot()->mapTo(&view, QPoint(qFloor(x), qFloor(y)));
}

void moveMouseTo(bp::widgets::HeatmapView& view, const QPoint& widgetPos) {
  const QPoint inPlot = view.plot()->mapFrom(&view, widgetPos);
  QMouseEvent move(QEvent::MouseMove, QPointF(inPlot), QPointF(view.plot()->mapToGlobal(inPlot)), Qt::NoButton,
                   Qt::NoButton, Qt::NoModifier);
  QApplication::sendEvent(view.plot(), &move);
}

QPushButton* buttonWithText(QWidget& parent, const QString& text) {
  for (auto* button : parent.findChildren<QPushButton*>())
    if (button->text() == text) return button;
  return nullptr;
}

// The image id after "row: image " or "column: image " in the hover text, or -1.
qint64 hoveredImageId(const QString& hoverText, const QString& which) {
  const QRegularExpression pattern(which + QStringLiteral(": image (\\d+)"));
  const auto match = pattern.match(hoverText);
  return match.hasMatch() ? match.captured(1).toLongLong() : -1;
}

}  // namespace

class SimilarityPanelTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void computesHoversComparesExportsAndReopensMatrices() {
    bp::app::MainWindow window({});
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    QSignalSpy loaded(&window.workspace(), &Workspace::neuralDataChanged);
    window.loadNeuralData(QStringLiteral("Small synthetic population"), smallNeuralDataset);
    QVERIFY(loaded.wait(kJobWaitMs));
    QVERIFY(window.showPanel(QStringLiteral("similarity")));

    auto& panel = *window.similarityPanel();
    QSignalSpy changed(&window.workspace(), &Workspace::similarityChanged);

    // A: test tier, repeat average (the form's defaults, set explicitly so the test says what it uses).
    panel.tierBox()->setCurrentIndex(panel.tierBox()->findData(static_cast<int>(bp::Tier::Test)));
    auto* rows = panel.rowsBox();
    rows->setCurrentIndex(0);
    panel.computeInto(Workspace::A);
    QVERIFY(changed.wait(kJobWaitMs));
    QCOMPARE(changed.takeFirst().at(0).toInt(), int(Workspace::A));
    const auto a = window.workspace().similarity(Workspace::A).matrix;
    QVERIFY(a);
    QCOMPARE(a->size, kTestImages);
    QCOMPARE(static_cast<int>(a->imageIds.size()), kTestImages);
    // Under the matrix, the histogram of its values over every pair.
    QTRY_COMPARE_WITH_TIMEOUT(panel.valueHistogram(Workspace::A)->valueCount(), kTestImages * (kTestImages - 1) / 2,
                              kJobWaitMs);

    // Hover the centre of cell (2, 5): the hover box names both images and the value.
    auto& heatmapA = *panel.heatmap(Workspace::A);
    QCOMPARE(heatmapA.rows(), kTestImages);
    heatmapA.plot()->replot();  // lays out the axes now, so that pixel mapping is current
    const int row = 2;
    const int col = 5;
    const QPoint centre = cellCentre(heatmapA, row, col);
    const auto cell = heatmapA.cellAt(centre);
    QVERIFY(cell.has_value());
    QCOMPARE(*cell, std::make_pair(row, col));
    moveMouseTo(heatmapA, centre);
    const QString hover = panel.hoverText();
    QCOMPARE(hoveredImageId(hover, QStringLiteral("row")), static_cast<qint64>(a->imageIds[row]));
    QCOMPARE(hoveredImageId(hover, QStringLiteral("column")), static_cast<qint64>(a->imageIds[col]));
    const QString value = QString::number(a->at(row, col), 'f', 4);
    QVERIFY2(hover.contains(QStringLiteral("<b>%1</b>").arg(value)), qPrintable(hover + " lacks " + value));
    // The same at the cursor, and the cell framed on the matrix.
    QCOMPARE(QToolTip::text(), hover);
    QCOMPARE(heatmapA.framedCell(), std::make_optional(std::make_pair(row, col)));

    // B: the same images from single trial 0; the difference view then covers the same images.
    rows->setCurrentIndex(1);
    panel.singleTrialSpin()->setValue(0);
    panel.computeInto(Workspace::B);
    QVERIFY(changed.wait(kJobWaitMs));
    QCOMPARE(changed.takeFirst().at(0).toInt(), int(Workspace::B));
    const auto b = window.workspace().similarity(Workspace::B).matrix;
    QVERIFY(b);
    QCOMPARE(b->size, kTestImages);
    QCOMPARE(b->imageIds, a->imageIds);
    bp::widgets::HeatmapView* difference = nullptr;
    for (auto* view : panel.findChildren<bp::widgets::HeatmapView*>())
      if (view != panel.heatmap(Workspace::A) && view != panel.heatmap(Workspace::B)) difference = view;
    QVERIFY(difference);
    // A - B is computed by a job of its own after B arrives.
    QTRY_COMPARE_WITH_TIMEOUT(difference->rows(), kTestImages, kJobWaitMs);
    QCOMPARE(difference->cols(), kTestImages);
    QCOMPARE(difference->valueAt(row, col), double(a->at(row, col) - b->at(row, col)));

    // Compare A with B through the panel's button; the table fills with one row per method.
    auto* compare = buttonWithText(panel, QStringLiteral("Compare A with B"));
    QVERIFY(compare);
    QSignalSpy compared(&panel, &SimilarityPanel::comparisonFinished);
    QTest::mouseClick(compare, Qt::LeftButton);
    QVERIFY(compared.wait(kJobWaitMs));
    auto* table = panel.findChild<QTableWidget*>();
    QVERIFY(table);
    QVERIFY(table->rowCount() > 0);
    for (int r = 0; r < table->rowCount(); ++r) QVERIFY(table->item(r, 1) && !table->item(r, 1)->text().isEmpty());

    // Export A as a PDF figure.
    bp::test::ScratchDir dir;
    const auto pdfPath = QString::fromStdString((dir / "similarity-a.pdf").string());
    QString error;
    QVERIFY2(bp::widgets::exportPlot(heatmapA.plot(), pdfPath, &error), qPrintable(error));
    QFile pdf(pdfPath);
    QVERIFY(pdf.open(QIODevice::ReadOnly));
    QVERIFY(pdf.read(4) == "%PDF");

    // Save A and open it into B: the same images and exactly the same values.
    const auto matrixPath = dir / "similarity-a.h5";
    bp::writeSimilarityMatrix(*a, matrixPath);
    panel.openMatrixFile(Workspace::B, QString::fromStdString(matrixPath.string()));
    QVERIFY(changed.wait(kJobWaitMs));
    QCOMPARE(changed.takeFirst().at(0).toInt(), int(Workspace::B));
    const auto reopened = window.workspace().similarity(Workspace::B).matrix;
    QVERIFY(reopened && reopened != b);
    QCOMPARE(reopened->size, a->size);
    QCOMPARE(reopened->imageIds, a->imageIds);
    QVERIFY(reopened->values == a->values);
    QTRY_COMPARE_WITH_TIMEOUT(difference->valueAt(row, col), 0.0, kJobWaitMs);

    // Exported for rsatoolbox and opened again: the same images, as the dissimilarity 1 - s; A keeps
    // its own file, since the export is not the matrix a project should reopen.
    const QString rdmPath = QString::fromStdString((dir / "similarity-a.hdf5").string());
    const QString fileOfA = window.workspace().similarity(Workspace::A).file;
    QSignalSpy finished(&window.jobs(), &bp::app::JobRunner::jobFinished);
    panel.saveMatrixTo(Workspace::A, rdmPath, SimilarityPanel::MatrixFileKind::Rsatoolbox);
    QVERIFY(finished.wait(kJobWaitMs));
    QVERIFY2(finished.first().at(3).toString().isEmpty(), qPrintable(finished.first().at(3).toString()));
    QVERIFY(bp::isRsatoolboxFile(rdmPath.toStdString()));
    QCOMPARE(window.workspace().similarity(Workspace::A).file, fileOfA);
    panel.openMatrixFile(Workspace::B, rdmPath);
    QVERIFY(changed.wait(kJobWaitMs));
    const auto rdm = window.workspace().similarity(Workspace::B).matrix;
    QCOMPARE(rdm->imageIds, a->imageIds);
    QVERIFY(rdm->config.dissimilarity);
    QCOMPARE(rdm->at(row, col), static_cast<float>(1.0 - static_cast<double>(a->at(row, col))));
    QCOMPARE(rdm->at(row, row), 0.0f);

    // Ordered by class label: the classes are named on the axes of A, B and A − B.
    panel.orderBox()->setCurrentIndex(1);
    rows->setCurrentIndex(0);
    panel.computeInto(Workspace::A);
    QVERIFY(changed.wait(kJobWaitMs));
    changed.clear();
    rows->setCurrentIndex(1);
    panel.computeInto(Workspace::B);
    QVERIFY(changed.wait(kJobWaitMs));
    const auto ordered = window.workspace().similarity(Workspace::A).matrix;
    std::set<std::string> classes(ordered->labels.begin(), ordered->labels.end());
    QVERIFY(classes.size() >= 2);
    QCOMPARE(heatmapA.groups().size(), static_cast<qsizetype>(classes.size()));
    int covered = 0;
    for (const auto& group : heatmapA.groups()) {
      QCOMPARE(group.first, covered);
      for (int k = 0; k < group.count; ++k) QCOMPARE(ordered->labels[group.first + k], group.name.toStdString());
      covered += group.count;
    }
    QCOMPARE(covered, kTestImages);
    QCOMPARE(panel.heatmap(Workspace::B)->groups().size(), heatmapA.groups().size());
    QTRY_COMPARE_WITH_TIMEOUT(difference->groups().size(), heatmapA.groups().size(), kJobWaitMs);

    // Zooming A shows the same images in B and A − B; unlinked, B keeps its own view.
    auto& heatmapB = *panel.heatmap(Workspace::B);
    QVERIFY(panel.linkZoomBox()->isChecked());
    heatmapA.plot()->xAxis->setRange(1.5, 5.5);
    heatmapA.plot()->yAxis->setRange(-4.5, -0.5);
    QCOMPARE(heatmapB.visibleCells(), heatmapA.visibleCells());
    QCOMPARE(difference->visibleCells(), heatmapA.visibleCells());
    QCOMPARE(heatmapB.visibleCells(), QRectF(1.5, 0.5, 4.0, 4.0));
    panel.linkZoomBox()->setChecked(false);
    heatmapA.resetZoom();
    QCOMPARE(heatmapB.visibleCells(), QRectF(1.5, 0.5, 4.0, 4.0));
    QVERIFY(heatmapA.visibleCells() != heatmapB.visibleCells());

    // MDS: images sit on their points, never on top of one another.
    auto* embed = buttonWithText(panel, QStringLiteral("Embed A in 2-D (classical MDS)"));
    QVERIFY(embed);
    QTest::mouseClick(embed, Qt::LeftButton);
    auto* mds = panel.mdsPlot();
    QTRY_VERIFY_WITH_TIMEOUT(mds->seriesCount() > 0, kJobWaitMs);
    mds->plot()->replot();
    mds->plot()->replot();
    const auto shown = mds->shownPointImages();
    QVERIFY(!shown.isEmpty());
    for (int i = 0; i < shown.size(); ++i) {
      QVERIFY(mds->plot()->axisRect()->rect().contains(shown[i]));
      for (int j = i + 1; j < shown.size(); ++j) QVERIFY(!shown[i].intersects(shown[j]));
    }
  }
  void aSaturatedMatrixIsFlaggedUnderIt() {
    bp::app::MainWindow window({});
    window.resize(1280, 720);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.showPanel(QStringLiteral("similarity")));
    auto& panel = *window.similarityPanel();

    // A: signs only (every pair at +-1); B: graded values well inside (-0.9, 0.9).
    const auto matrixOf = [](std::int64_t size, auto value) {
      bp::SimilarityMatrix matrix;
      matrix.size = size;
      matrix.values.assign(static_cast<std::size_t>(size * size), 1.0F);
      for (std::int64_t i = 0; i < size; ++i) {
        matrix.imageIds.push_back(i);
        for (std::int64_t j = 0; j < size; ++j)
          if (i != j) matrix.values[static_cast<std::size_t>(i * size + j)] = value(std::min(i, j), std::max(i, j));
      }
      return matrix;
    };
    bp::test::ScratchDir scratch;
    bp::writeSimilarityMatrix(matrixOf(20, [](auto i, auto j) { return (i + j) % 2 ? 1.0F : -1.0F; }),
                              scratch / "signs.h5");
    bp::writeSimilarityMatrix(matrixOf(20, [](auto i, auto j) { return 0.8F - 0.08F * static_cast<float>(j - i); }),
                              scratch / "graded.h5");
    panel.openMatrixFile(Workspace::A, QString::fromStdString((scratch / "signs.h5").string()));
    panel.openMatrixFile(Workspace::B, QString::fromStdString((scratch / "graded.h5").string()));
    QTRY_COMPARE_WITH_TIMEOUT(panel.valueHistogram(Workspace::A)->valueCount(), 190, kJobWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(panel.valueHistogram(Workspace::B)->valueCount(), 190, kJobWaitMs);
    QVERIFY2(panel.degenerateText(Workspace::A).contains(QStringLiteral("saturated: 100% of its pairs")),
             qPrintable(panel.degenerateText(Workspace::A)));
    QVERIFY(panel.degenerateText(Workspace::B).isEmpty());
    QVERIFY2(panel.valueHistogram(Workspace::B)->summaryText().contains(QStringLiteral("0.0% beyond ±0.9")),
             qPrintable(panel.valueHistogram(Workspace::B)->summaryText()));
  }
};

BRAINPRIOR_TEST_CLASS(SimilarityPanelTest)
#include "test_similarity_panel.moc"
