// Times the HeatmapView on a large matrix the way a user meets it: prints one JSON object.
//   first paint  from setMatrix (a 5,000 x 5,000 random symmetric matrix) until the plot widget has
//                handled its first paint event after the resulting replot: setMatrix's own work
//                (colour range, block-mean overview), QCustomPlot's replot into its buffer, and the
//                widget paint that puts the buffer on the window's backing store.
//   hover        for each synthesized mouse move onto a random point of the matrix: the time from
//                sending the QMouseEvent to the cellHovered handler (which sets a QLabel's text, like
//                the app's hover box), and the time until every event the move caused is processed,
//                including the label's repaint.
//   zoom         wheel steps (QWheelEvent, the mouse wheel's own path) at the centre until the view
//                switches to full resolution; each step is timed from the event to the end of the
//                repaint, and the step that switches is reported on its own. Also a direct zoom
//                (axis ranges set to a 400 x 400 window) from the overview.
// Timings are printed, never checked: tests/bench/heatmap.sh compares them with the targets.
// Usage: bench_heatmap [--size N] [--moves N] [--seed N]   (QT_QPA_PLATFORM=offscreen or a display)
#include "widgets/custom_plot.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QLabel>
#include <QVBoxLayout>
#include <QWindow>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "widgets/heatmap_view.h"

namespace {

using bp::widgets::HeatmapView;

constexpr int kPlotWidth = 900;
constexpr int kPlotHeight = 800;
constexpr int kDirectZoomCells = 400;

double milliseconds(qint64 nanoseconds) { return nanoseconds / 1e6; }

double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const double position = fraction * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(position);
  const auto above = std::min(values.size() - 1, below + 1);
  return values[below] + (position - static_cast<double>(below)) * (values[above] - values[below]);
}

// Values in [-1, 1] with a block structure (as similarity matrices of labelled images have) plus
// noise, mirrored so that the matrix is symmetric, and 1 on the diagonal.
QVector<float> randomSymmetricMatrix(int n, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> noise(-0.5f, 0.5f);
  constexpr int kBlocks = 10;
  QVector<float> values(static_cast<qsizetype>(n) * n);
  for (int i = 0; i < n; ++i) {
    values[static_cast<qsizetype>(i) * n + i] = 1.0f;
    for (int j = i + 1; j < n; ++j) {
      const float block = (i * kBlocks / n == j * kBlocks / n) ? 0.4f : 0.0f;
      const float value = std::clamp(block + noise(random), -1.0f, 1.0f);
      values[static_cast<qsizetype>(i) * n + j] = value;
      values[static_cast<qsizetype>(j) * n + i] = value;
    }
  }
  return values;
}

// Counts a widget's paint events. The count moves when a paint starts; a processEvents() or
// repaint() call that saw it returns only after the paint has been handled.
class PaintCounter : public QObject {
public:
  explicit PaintCounter(QWidget* widget) : widget_(widget) { widget->installEventFilter(this); }
  int count() const { return count_; }

protected:
  bool eventFilter(QObject* watched, QEvent* event) override {
    if (watched == widget_ && event->type() == QEvent::Paint) ++count_;
    return false;
  }

private:
  QWidget* widget_;
  int count_ = 0;
};

// What the plot has done: replots, and the paint count when the latest replot began.
struct ReplotLog {
  int replots = 0;
  int paintsAtLastReplot = 0;
  QElapsedTimer clock;
  qint64 startedNs = 0;
  qint64 lastReplotNs = 0;  // how long the latest replot took
};

// Runs the event loop until the plot has replotted and then painted (or 10 s passed).
void processUntilPainted(const PaintCounter& paints, const ReplotLog& log, int replotsBefore) {
  QElapsedTimer guard;
  guard.start();
  while (guard.elapsed() < 10000) {
    QApplication::processEvents(QEventLoop::AllEvents);
    if (log.replots != replotsBefore && paints.count() > log.paintsAtLastReplot) return;
  }
}

void settle() {
  for (int i = 0; i < 5; ++i) QApplication::processEvents(QEventLoop::AllEvents, 50);
}

}  // namespace

int main(int argc, char** argv) {
  int size = 5000;
  int moves = 500;
  unsigned seed = 1;
  for (int i = 1; i < argc; ++i) {
    const bool hasValue = i + 1 < argc;
    if (!std::strcmp(argv[i], "--size") && hasValue) {
      size = std::stoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--moves") && hasValue) {
      moves = std::stoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--seed") && hasValue) {
      seed = static_cast<unsigned>(std::stoul(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--size N] [--moves N] [--seed N]\n", argv[0]);
      return 2;
    }
  }
  if (size < 2 || moves < 1) {
    std::fprintf(stderr, "size must be at least 2 and moves at least 1\n");
    return 2;
  }

  QApplication application(argc, argv);
  QWidget window;
  auto* layout = new QVBoxLayout(&window);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* view = new HeatmapView(&window);
  view->setFixedSize(kPlotWidth, kPlotHeight);
  view->setTitle(QStringLiteral("bench"));
  view->setAxisTitles(QStringLiteral("image"), QStringLiteral("image"), QStringLiteral("similarity"));
  auto* hoverLabel = new QLabel(QStringLiteral("hover a cell"), &window);
  PaintCounter labelPaints(hoverLabel);
  layout->addWidget(view);
  layout->addWidget(hoverLabel);
  window.show();
  QCustomPlot* plot = view->plot();
  PaintCounter paints(plot);
  ReplotLog replotLog;
  // Snapshot at the start of a replot: QCustomPlot may repaint inside replot(), before afterReplot.
  replotLog.clock.start();
  QObject::connect(plot, &QCustomPlot::beforeReplot, plot, [&] {
    replotLog.paintsAtLastReplot = paints.count();
    replotLog.startedNs = replotLog.clock.nsecsElapsed();
  });
  QObject::connect(plot, &QCustomPlot::afterReplot, plot, [&] {
    ++replotLog.replots;
    replotLog.lastReplotNs = replotLog.clock.nsecsElapsed() - replotLog.startedNs;
  });
  // Wait until the window can be painted (offscreen: at once; Xvfb: after the window is mapped).
  QElapsedTimer exposeGuard;
  exposeGuard.start();
  while (exposeGuard.elapsed() < 10000 &&
         !(window.windowHandle() && window.windowHandle()->isExposed() && paints.count() > 0))
    QApplication::processEvents(QEventLoop::AllEvents, 50);
  settle();

  const QVector<float> values = randomSymmetricMatrix(size, seed);
  QElapsedTimer clock;

  // (a) First paint.
  int replotsBefore = replotLog.replots;
  clock.start();
  view->setMatrix(values, size, size);
  const qint64 setMatrixNs = clock.nsecsElapsed();
  processUntilPainted(paints, replotLog, replotsBefore);
  const qint64 firstPaintNs = clock.nsecsElapsed();
  const bool firstPaintDone = replotLog.replots != replotsBefore && paints.count() > replotLog.paintsAtLastReplot;
  const qint64 firstReplotNs = replotLog.lastReplotNs;
  settle();
  // The part of setMatrix that builds the block-mean overview, alone.
  clock.restart();
  const auto overview = bp::widgets::downsampleBlockMean(values.constData(), size, size,
                                                         HeatmapView::kMaxDisplayCellsPerSide);
  const qint64 overviewNs = clock.nsecsElapsed();
  // The same again with the buffers and caches warm: what a second matrix of this size costs.
  std::vector<double> repeatMs;
  for (int run = 0; run < 3; ++run) {
    replotsBefore = replotLog.replots;
    clock.restart();
    view->setMatrix(values, size, size);
    processUntilPainted(paints, replotLog, replotsBefore);
    repeatMs.push_back(milliseconds(clock.nsecsElapsed()));
    settle();
  }

  // (b) Hover.
  qint64 sentAt = 0;
  std::vector<double> signalMs;
  QObject::connect(view, &HeatmapView::cellHovered, hoverLabel, [&](int row, int col, double value) {
    signalMs.push_back(milliseconds(clock.nsecsElapsed() - sentAt));
    hoverLabel->setText(QStringLiteral("[%1, %2] = %3").arg(row).arg(col).arg(value, 0, 'f', 4));
  });
  const QRect matrixArea = plot->axisRect()->rect().adjusted(2, 2, -2, -2);
  std::mt19937 random(seed + 1);
  std::uniform_int_distribution<int> xs(matrixArea.left(), matrixArea.right());
  std::uniform_int_distribution<int> ys(matrixArea.top(), matrixArea.bottom());
  std::vector<double> withRepaintMs;
  int labelRepaints = 0;
  clock.restart();
  for (int i = 0; i < moves; ++i) {
    const QPointF at(xs(random), ys(random));
    QMouseEvent move(QEvent::MouseMove, at, plot->mapToGlobal(at), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
    const auto signalsBefore = signalMs.size();
    const int labelPaintsBefore = labelPaints.count();
    sentAt = clock.nsecsElapsed();
    QApplication::sendEvent(plot, &move);
    QApplication::processEvents(QEventLoop::AllEvents);
    const qint64 doneAt = clock.nsecsElapsed();
    if (signalMs.size() == signalsBefore) continue;  // same cell as before: nothing to show
    withRepaintMs.push_back(milliseconds(doneAt - sentAt));
    labelRepaints += labelPaints.count() > labelPaintsBefore;
  }

  // (c) Zoom in with the wheel until the view shows full resolution.
  view->resetZoom();
  settle();
  std::vector<double> wheelStepMs;
  int switchStep = -1;
  double switchMs = 0.0;
  const QPointF centre = plot->axisRect()->rect().center();
  for (int step = 0; step < 40 && switchStep < 0; ++step) {
    QWheelEvent wheel(centre, plot->mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    replotsBefore = replotLog.replots;
    clock.restart();
    QApplication::sendEvent(plot, &wheel);
    processUntilPainted(paints, replotLog, replotsBefore);
    const double ms = milliseconds(clock.nsecsElapsed());
    wheelStepMs.push_back(ms);
    if (view->isShowingFullResolution()) {
      switchStep = step + 1;
      switchMs = ms;
    }
  }
  const int visibleCellsAtSwitch = static_cast<int>(plot->xAxis->range().size());
  view->resetZoom();
  settle();
  replotsBefore = replotLog.replots;
  clock.restart();
  // Away from the centre, where the wheel zoom's detail window still lies: a fresh tile is loaded.
  const double corner = size / 5.0;
  plot->xAxis->setRange(corner - kDirectZoomCells / 2.0, corner + kDirectZoomCells / 2.0);
  plot->yAxis->setRange(-corner - kDirectZoomCells / 2.0, -corner + kDirectZoomCells / 2.0);
  processUntilPainted(paints, replotLog, replotsBefore);
  const double directZoomMs = milliseconds(clock.nsecsElapsed());
  const bool directZoomFull = view->isShowingFullResolution();
  if (!wheelStepMs.empty() && switchStep > 0) wheelStepMs.pop_back();  // the switching step is reported alone

  std::printf(
      "{\"platform\": \"%s\", \"matrix\": %d, \"plot_widget\": [%d, %d], "
      "\"first_paint_ms\": %.2f, \"first_paint_painted\": %s, \"set_matrix_ms\": %.2f, "
      "\"overview_side\": %d, \"overview_block_means_ms\": %.2f, \"first_replot_ms\": %.2f, "
      "\"repeat_paint_median_ms\": %.2f, "
      "\"hover\": {\"moves\": %d, \"signals\": %zu, \"signal_median_ms\": %.4f, \"signal_p95_ms\": %.4f, "
      "\"with_repaint_median_ms\": %.4f, \"with_repaint_p95_ms\": %.4f, \"with_repaint_max_ms\": %.4f, "
      "\"label_repaints\": %d}, "
      "\"zoom\": {\"wheel_steps_to_full_resolution\": %d, \"visible_cells_at_switch\": %d, "
      "\"switch_step_ms\": %.2f, \"other_steps_median_ms\": %.2f, \"direct_zoom_%d_cells_ms\": %.2f, "
      "\"direct_zoom_full_resolution\": %s}}\n",
      qPrintable(QGuiApplication::platformName()), size, kPlotWidth, kPlotHeight, milliseconds(firstPaintNs),
      firstPaintDone ? "true" : "false", milliseconds(setMatrixNs), overview.rows, milliseconds(overviewNs),
      milliseconds(firstReplotNs), percentile(repeatMs, 0.5), moves, signalMs.size(),
      percentile(signalMs, 0.5), percentile(signalMs, 0.95), percentile(withRepaintMs, 0.5),
      percentile(withRepaintMs, 0.95), percentile(withRepaintMs, 1.0), labelRepaints, switchStep, visibleCellsAtSwitch,
      switchMs, percentile(wheelStepMs, 0.5), kDirectZoomCells, directZoomMs, directZoomFull ? "true" : "false");
  return 0;
}
