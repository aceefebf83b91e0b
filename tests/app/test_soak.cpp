// A long session in one window, as at a day of exploration or a talk rehearsed many times: load the
// data, compute and compare matrices, visit every tab, switch presentation mode on and off, save the
// project, again and again. It fails when the process's memory keeps growing (a leak that a short
// test never sees) or when any step stops working.
//
// Runs long only when asked:
//   BRAINPRIOR_SOAK_SECONDS=1800 QTEST_FUNCTION_TIMEOUT=2400000 build/ci/tests/app_tests test_soak
// (under QT_QPA_PLATFORM=offscreen, or on a display; Qt Test stops a test function after 5 minutes
// unless QTEST_FUNCTION_TIMEOUT, in ms, allows more). CTest runs two rounds, which checks that the
// session works, not that it does not leak.
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtTest>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "app/main_window.h"
#include "app/project_controller.h"
#include "app/similarity_panel.h"
#include "app/workspace.h"
#include "data/neural_dataset.h"
#include "test_registry.h"
#include "test_support.h"

using bp::app::MainWindow;
using bp::app::Workspace;

namespace {

constexpr int kJobWaitMs = 120000;

// Resident memory of this process in MiB (Linux: /proc/self/statm, in pages).
double residentMiB() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0;
  long resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

int soakSeconds() {
  bool ok = false;
  const int seconds = qEnvironmentVariableIntValue("BRAINPRIOR_SOAK_SECONDS", &ok);
  return ok && seconds > 0 ? seconds : 0;
}

}  // namespace

class SoakTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void aLongSessionKeepsWorkingWithinBoundedMemory() {
    const int seconds = soakSeconds();
    MainWindow window({});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const QStringList panels = {QStringLiteral("data"),     QStringLiteral("similarity"), QStringLiteral("models"),
                                QStringLiteral("training"), QStringLiteral("probe"),      QStringLiteral("comparison"),
                                QStringLiteral("images"),   QStringLiteral("demo")};
    const QString project = QString::fromStdString((scratch_ / "soak.brainprior").string());
    std::vector<double> memory;  // after each round
    QElapsedTimer clock;
    clock.start();
    int round = 0;
    while (clock.elapsed() < seconds * 1000LL || round < 2) {
      ++round;
      QSignalSpy loaded(&window.workspace(), &Workspace::neuralDataChanged);
      window.loadDefaultData();
      QVERIFY2(loaded.wait(kJobWaitMs), qPrintable(QStringLiteral("round %1: the data did not load").arg(round)));

      auto* similarity = window.similarityPanel();
      similarity->tierBox()->setCurrentIndex(similarity->tierBox()->findData(static_cast<int>(bp::Tier::Test)));
      similarity->rowsBox()->setCurrentIndex(0);
      similarity->computeInto(Workspace::A);
      similarity->rowsBox()->setCurrentIndex(1);
      similarity->computeInto(Workspace::B);
      QTRY_VERIFY_WITH_TIMEOUT(window.jobs().activeJobCount() == 0, kJobWaitMs);
      QVERIFY(window.workspace().similarity(Workspace::A).matrix && window.workspace().similarity(Workspace::B).matrix);
      QSignalSpy compared(similarity, &bp::app::SimilarityPanel::comparisonFinished);
      similarity->compareAWithB();
      QVERIFY2(compared.wait(kJobWaitMs), qPrintable(QStringLiteral("round %1: no comparison").arg(round)));

      for (const QString& panel : panels) {
        QVERIFY(window.showPanel(panel));
        QTest::qWait(20);
      }
      window.setPresentationMode(true);
      QTest::qWait(50);
      window.setPresentationMode(false);

      QSignalSpy saved(&window.project(), &bp::app::ProjectController::saved);
      window.project().saveAs(project);
      QVERIFY2(saved.wait(kJobWaitMs), qPrintable(QStringLiteral("round %1: the project was not saved").arg(round)));
      memory.push_back(residentMiB());
    }

    // A leak grows with the rounds; caches and the allocator settle after the first ones. Compare
    // the second half of the session with the end of the first.
    const double settled = memory[memory.size() / 2];
    const double last = memory.back();
    double peak = 0.0;
    for (const double value : memory) peak = std::max(peak, value);
    // On stderr: Qt Test stops printing messages after 2,000 warnings, which a long offscreen session
    // reaches (the platform warns on every window resize).
    std::fprintf(stderr,
                 "soak: %d rounds in %.0f s; resident memory %.0f MiB after round 1, %.0f MiB at the half, %.0f MiB "
                 "at the end, peak %.0f MiB\n",
                 round, clock.elapsed() / 1000.0, memory.front(), settled, last, peak);
    QVERIFY2(last - settled < 64.0 + 0.05 * settled,
             qPrintable(QStringLiteral("memory grew from %1 to %2 MiB over the second half").arg(settled).arg(last)));
  }

private:
  bp::test::ScratchDir scratch_;
};

BRAINPRIOR_TEST_CLASS(SoakTest)
#include "test_soak.moc"
