// Project files in the GUI: a window's data, matrices, folders, forms and tabs are saved and come
// back identically in a new window; content that existed only in memory is written beside the
// project; changes are noticed; the autosave is offered back; moved files are asked for once;
// a broken project is refused by name; the report of the project is exported as HTML and PDF.
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QtTest>
#include <filesystem>

#include "app/comparison_panel.h"
#include "app/main_window.h"
#include "app/model_fit_form.h"
#include "app/project_controller.h"
#include "app/training_launch_form.h"
#include "app/training_panel.h"
#include "app/workspace.h"
#include "project/project_file.h"
#include "test_registry.h"
#include "test_support.h"

namespace fs = std::filesystem;
using bp::app::MainWindow;
using bp::app::Workspace;

namespace {

std::shared_ptr<const bp::SimilarityMatrix> smallMatrix() {
  bp::SimilarityMatrix matrix;
  matrix.size = 3;
  matrix.values = {1.0f, 0.2f, -0.4f, 0.2f, 1.0f, 0.5f, -0.4f, 0.5f, 1.0f};
  matrix.imageIds = {7, 8, 9};
  return std::make_shared<const bp::SimilarityMatrix>(std::move(matrix));
}

bool restoredIn(MainWindow& window, const QString& file) {
  QSignalSpy restored(&window.project(), &bp::app::ProjectController::restored);
  return window.project().open(file) && restored.wait(120000);
}

}  // namespace

class ProjectTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void savedProjectReopensIdentically() {
    bp::test::ScratchDir scratch;
    fs::create_directories(scratch / "runs");
    fs::create_directories(scratch / "recordings");
    MainWindow first({});
    QSignalSpy dataset(&first.workspace(), &Workspace::neuralDataChanged);
    first.loadDefaultData();
    QVERIFY(dataset.wait(120000));
    first.workspace().setSimilarity(Workspace::B, smallMatrix(), QStringLiteral("hand-made"));
    first.workspace().setRunsFolder(QString::fromStdString((scratch / "runs").string()));
    first.comparisonPanel()->setRunsFolder(QString::fromStdString((scratch / "runs").string()));
    first.comparisonPanel()->setNeuralPath(QString::fromStdString((scratch / "recordings").string()));
    first.setOpenPanels({QStringLiteral("data"), QStringLiteral("similarity"), QStringLiteral("training"),
                         QStringLiteral("comparison")});
    first.showPanel(QStringLiteral("similarity"));
    QVERIFY(first.project().isModified());

    const QString file = QString::fromStdString((scratch / "study.brainprior").string());
    QSignalSpy saved(&first.project(), &bp::app::ProjectController::saved);
    first.project().saveAs(file);
    QVERIFY(saved.wait(60000));
    QVERIFY(!first.project().isModified());
    QCOMPARE(first.project().file(), file);
    // The computed matrix had no file: it was written beside the project, and the panel knows it.
    const fs::path matrixFile = scratch / "study.files" / "similarity-b.h5";
    QVERIFY(fs::exists(matrixFile));
    QCOMPARE(first.workspace().similarity(Workspace::B).file, QString::fromStdString(matrixFile.string()));

    MainWindow second({});
    QVERIFY(restoredIn(second, file));
    const bp::Project before = first.project().capture();
    const bp::Project after = second.project().capture();
    QCOMPARE(after.files, before.files);
    QCOMPARE(after.panels, before.panels);
    QCOMPARE(after.layout.at("tabs"), before.layout.at("tabs"));
    QCOMPARE(second.currentPanelName(), QStringLiteral("similarity"));
    QCOMPARE(second.workspace().similarity(Workspace::B).matrix->values, smallMatrix()->values);
    QCOMPARE(second.workspace().similarity(Workspace::B).description, QStringLiteral("hand-made"));
    QCOMPARE(second.workspace().neuralDataset()->neuronCount, first.workspace().neuralDataset()->neuronCount);
    QVERIFY(!second.project().isModified());

    // A change is noticed at once (the title bar's [*]); the autosave holds it and is offered when
    // the project is opened again.
    second.workspace().setRunsFolder(QString::fromStdString((scratch / "recordings").string()));
    QVERIFY(second.project().isModified());
    QVERIFY(second.isWindowModified());
    QSignalSpy autosaved(&second.jobs(), &bp::app::JobRunner::jobFinished);
    second.project().autosave();
    QVERIFY(autosaved.wait(60000));
    QVERIFY(QFileInfo::exists(file + QStringLiteral(".autosave")));
    MainWindow third({});
    bool offered = false;
    third.project().recoverAutosave = [&](const QString&, const QString&) { return offered = true; };
    QVERIFY(restoredIn(third, file));
    QVERIFY(offered);
    QCOMPARE(third.workspace().runsFolder(), QString::fromStdString((scratch / "recordings").string()));
    QVERIFY(third.project().isModified());  // recovered changes are not saved yet
  }

  void movedFilesAreAskedForOnce() {
    bp::test::ScratchDir scratch;
    fs::create_directories(scratch / "old" / "runs");
    fs::create_directories(scratch / "old" / "recordings");
    const QString file = QString::fromStdString((scratch / "study.brainprior").string());
    {
      MainWindow window({});
      window.workspace().setRunsFolder(QString::fromStdString((scratch / "old" / "runs").string()));
      window.comparisonPanel()->setNeuralPath(QString::fromStdString((scratch / "old" / "recordings").string()));
      QSignalSpy saved(&window.project(), &bp::app::ProjectController::saved);
      window.project().saveAs(file);
      QVERIFY(saved.wait(60000));
    }
    fs::rename(scratch / "old", scratch / "new");
    MainWindow window({});
    QStringList asked;
    window.project().locateFile = [&](const QString& key, const QString&) {
      asked << key;
      return QString::fromStdString((scratch / "new" / "recordings").string());
    };
    QVERIFY(restoredIn(window, file));
    QCOMPARE(asked, QStringList{QStringLiteral("comparison.neural")});  // the runs were found with it
    QCOMPARE(window.workspace().runsFolder(), QString::fromStdString((scratch / "new" / "runs").string()));
    QVERIFY(window.project().isModified());  // the new places are not saved yet
  }

  void theDefaultDataOfAnUntouchedWindowIsNothingToSave() {
    MainWindow window({});
    QSignalSpy loaded(&window.workspace(), &bp::app::Workspace::neuralDataChanged);
    window.loadDefaultData();  // as the app does when it starts
    QVERIFY(loaded.wait(120000));
    QVERIFY(!window.project().isModified());
    QVERIFY(!window.isWindowModified());
    // The user's first change is one.
    QSpinBox* epochs = window.trainingPanel()->launchForm()->epochsSpin();
    epochs->setValue(epochs->value() + 1);
    QVERIFY(window.project().isModified());

    // A change made before the data arrived stays a change.
    MainWindow edited({});
    QSignalSpy editedLoaded(&edited.workspace(), &bp::app::Workspace::neuralDataChanged);
    edited.loadDefaultData();
    QSpinBox* editedEpochs = edited.trainingPanel()->launchForm()->epochsSpin();
    editedEpochs->setValue(editedEpochs->value() + 1);
    QVERIFY(editedLoaded.wait(120000));
    QVERIFY(edited.project().isModified());
  }

  void editsMarkTheProjectModifiedAtOnceAndTheLayoutDoesNot() {
    bp::test::ScratchDir scratch;
    MainWindow window({});
    QVERIFY(window.project().isEmpty());
    QVERIFY(!window.project().isModified());
    // Changing the layout alone is not a change of the project.
    window.showPanel(QStringLiteral("training"));
    window.setOpenPanels({QStringLiteral("training"), QStringLiteral("models")});
    QVERIFY(!window.project().isModified());
    // A form field is: the form keeps its settings in the workspace, whose change is signalled.
    QSpinBox* epochs = window.trainingPanel()->launchForm()->epochsSpin();
    epochs->setValue(epochs->value() + 3);
    QVERIFY(window.project().isModified());
    QVERIFY(window.isWindowModified());
    QVERIFY(!window.project().isEmpty());
    QCOMPARE(window.workspace().settings("training").at("epochs").get<int>(), epochs->value());

    QSignalSpy saved(&window.project(), &bp::app::ProjectController::saved);
    window.project().saveAs(QString::fromStdString((scratch / "forms.brainprior").string()));
    QVERIFY(saved.wait(60000));
    QVERIFY(!window.project().isModified());
    QVERIFY(!window.isWindowModified());
    // The fit form too, and the saved project brings both forms back.
    QSpinBox* seed = window.findChild<bp::app::ModelFitForm*>()->findChild<QSpinBox*>();
    QVERIFY(seed);
    seed->setValue(seed->value() + 1);
    QVERIFY(window.project().isModified());
    MainWindow reopened({});
    // The autosave timer may have written the fit form's change meanwhile: open the project as saved.
    reopened.project().recoverAutosave = [](const QString&, const QString&) { return false; };
    QVERIFY(restoredIn(reopened, window.project().file()));
    QCOMPARE(reopened.trainingPanel()->launchForm()->epochsSpin()->value(), epochs->value());
    QVERIFY(!reopened.project().isModified());
  }

  void brokenProjectIsRefusedByName() {
    bp::test::ScratchDir scratch;
    const fs::path file = scratch / "broken.brainprior";
    bp::test::writeBytes(file, R"({"format": "brainprior project", "version": 1, "files": {)");
    MainWindow window({});
    QSignalSpy failed(&window.project(), &bp::app::ProjectController::failed);
    QVERIFY(!window.project().open(QString::fromStdString(file.string())));
    QCOMPARE(failed.count(), 1);
    QVERIFY(failed.first().first().toString().contains(QString::fromStdString(file.string())));
    QVERIFY(window.project().isEmpty());
  }

  void reportOfTheProjectIsExported() {
    bp::test::ScratchDir scratch;
    MainWindow window({});
    window.workspace().setSimilarity(Workspace::A, smallMatrix(), QStringLiteral("hand-made"));
    QSignalSpy saved(&window.project(), &bp::app::ProjectController::saved);
    window.project().saveAs(QString::fromStdString((scratch / "study.brainprior").string()));
    QVERIFY(saved.wait(60000));
    for (const char* name : {"study.html", "study.pdf"}) {
      const QString path = QString::fromStdString((scratch / name).string());
      QSignalSpy exported(&window, &MainWindow::reportExported);
      window.exportReport(path);
      QVERIFY2(exported.wait(60000), name);
      const std::string bytes = bp::test::readBytes(path.toStdString());
      QVERIFY(bytes.size() > 1000);
      if (path.endsWith(QLatin1String(".pdf"))) QVERIFY(bytes.rfind("%PDF", 0) == 0);
      else QVERIFY(bytes.find("Similarity") != std::string::npos);
    }
  }
};

BRAINPRIOR_TEST_CLASS(ProjectTest)
#include "test_project.moc"
