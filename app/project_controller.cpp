#include "app/project_controller.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QStandardPaths>
#include <filesystem>

#include "app/comparison_panel.h"
#include "app/data_panel.h"
#include "app/image_panel.h"
#include "app/main_window.h"
#include "app/model_fit_form.h"
#include "app/model_panel.h"
#include "app/model_session.h"
#include "app/probe_panel.h"
#include "app/settings.h"
#include "app/similarity_panel.h"
#include "app/training_launch_form.h"
#include "app/training_panel.h"
#include "app/workspace.h"
#include "rsa/matrix_file.h"
#include "runtime/error.h"
#include "runtime/log.h"

namespace bp::app {
namespace {

constexpr int kAutosaveMilliseconds = 60 * 1000;
constexpr const char* kAutosaveSuffix = ".autosave";

QString qtPath(const std::filesystem::path& path) { return QString::fromStdString(path.string()); }

std::string key(const char* prefix, int index) { return prefix + std::to_string(index); }

QString autosaveFolder() {
  return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/autosave");
}

// The entries "<prefix>0", "<prefix>1", ... of `files`, in index order.
QStringList indexedFiles(const bp::Project& project, const char* prefix) {
  QStringList paths;
  for (int i = 0;; ++i) {
    const auto found = project.files.find(key(prefix, i));
    if (found == project.files.end()) return paths;
    paths << qtPath(found->second);
  }
}

QString fileOf(const bp::Project& project, const std::string& name) {
  const auto found = project.files.find(name);
  return found == project.files.end() ? QString() : qtPath(found->second);
}

}  // namespace

ProjectController::ProjectController(MainWindow& window) : QObject(&window), window_(window) {
  window_.setWindowTitle(QStringLiteral("BrainPrior[*]"));
  autosaveTimer_.setInterval(kAutosaveMilliseconds);
  connect(&autosaveTimer_, &QTimer::timeout, this, &ProjectController::autosave);
  autosaveTimer_.start();
  connect(&window_.workspace(), &Workspace::changed, this, [this] {
    ++revision_;
    if (!restoring_) window_.setWindowModified(isModified());
  });

  locateFile = [this](const QString& name, const QString& oldPath) {
    QMessageBox::information(&window_, tr("Where is this file?"),
                             tr("The project's %1 was at\n%2\nwhich no longer exists. Show where it is now "
                                "(other files that moved with it are then found too), or cancel to open the "
                                "project without it.")
                                 .arg(name, oldPath));
    return QFileInfo(oldPath).suffix().isEmpty()
               ? QFileDialog::getExistingDirectory(&window_, tr("Where is %1 now?").arg(QFileInfo(oldPath).fileName()))
               : QFileDialog::getOpenFileName(&window_, tr("Where is %1 now?").arg(QFileInfo(oldPath).fileName()));
  };
  recoverAutosave = [this](const QString& project, const QString& autosave) {
    return QMessageBox::question(&window_, tr("Recover unsaved changes?"),
                                 tr("%1 has an autosave from %2, newer than the project: BrainPrior did not close "
                                    "normally. Open the autosave (your unsaved changes) instead?")
                                     .arg(QFileInfo(project).fileName(),
                                          QFileInfo(autosave).lastModified().toString(Qt::TextDate)),
                                 QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes) == QMessageBox::Yes;
  };
}

bp::Project ProjectController::capture() const { return capture(nullptr); }

bp::Project ProjectController::capture(std::vector<UnsavedContent>* unsaved) const {
  const Workspace& workspace = window_.workspace();
  bp::Project project;
  const auto remember = [&](UnsavedContent content) {
    project.files[content.key].clear();
    if (unsaved) unsaved->push_back(std::move(content));
  };

  if (const auto dataset = workspace.neuralDataset()) {
    // Only the default population is generated; everything else was read from a file.
    if (dataset->sourcePath.empty()) project.panels["data"] = {{"source", "default"}};
    else project.files["data.neural"] = dataset->sourcePath;
    if (const auto& nwb = workspace.neuralData()->nwbReadOptions) project.panels["data"]["nwb"] = bp::toJson(*nwb);
  }
  if (const auto images = workspace.images()) project.files["images.dataset"] = images->dataset->sourcePath;

  nlohmann::json descriptions = nlohmann::json::array();
  for (const auto slot : {Workspace::A, Workspace::B}) {
    const SimilaritySlot& similarity = workspace.similarity(slot);
    descriptions.push_back(similarity.matrix ? similarity.description.toStdString() : std::string());
    if (!similarity.matrix) continue;
    const std::string name = slot == Workspace::A ? "similarity.a" : "similarity.b";
    if (similarity.file.isEmpty())
      remember({name, nullptr, similarity.matrix, slot,
                slot == Workspace::A ? QStringLiteral("similarity-a.h5") : QStringLiteral("similarity-b.h5")});
    else
      project.files[name] = similarity.file.toStdString();
  }
  project.panels["similarity"] = {{"descriptions", descriptions}};

  nlohmann::json names = nlohmann::json::array();
  for (int i = 0; i < workspace.modelCount(); ++i) {
    const auto record = workspace.model(i);
    names.push_back(record->name);
    if (record->file.empty()) remember({key("models.", i), record, nullptr, i, QStringLiteral("model-%1.pt").arg(i)});
    else project.files[key("models.", i)] = record->file;
  }
  project.panels["models"] = {{"names", names}, {"current", workspace.currentModel()}};
  // The fit form's defaults follow the dataset: without one, there is nothing of the user's to keep.
  if (workspace.neuralDataset()) project.panels["models"]["fit_form"] = workspace.settings("fit");

  // The launcher's default output folder exists only once something ran there: a project that
  // recorded it before would ask for it on every open.
  if (QFileInfo(workspace.runsFolder()).isDir()) project.files["training.runs"] = workspace.runsFolder().toStdString();
  project.panels["training"] = {{"form", workspace.settings("training")}};

  const QStringList probeRuns = workspace.probeRuns();
  for (int i = 0; i < probeRuns.size(); ++i) project.files[key("probe.runs.", i)] = probeRuns[i].toStdString();
  if (!workspace.probeImageFile().isEmpty()) project.files["probe.image"] = workspace.probeImageFile().toStdString();
  if (!workspace.settings("probe").is_null()) project.panels["probe"] = workspace.settings("probe");

  const ComparisonSources& comparison = workspace.comparison();
  const std::pair<const char*, QString> comparisonFiles[] = {{"comparison.runs", comparison.runsFolder},
                                                             {"comparison.neural", comparison.neuralPath},
                                                             {"comparison.probe_report", comparison.probeReportFile},
                                                             {"comparison.predictivity_report", comparison.predictivityReportFile}};
  for (const auto& [name, path] : comparisonFiles)
    if (!path.isEmpty()) project.files[name] = path.toStdString();
  for (int i = 0; i < comparison.importedModels.size(); ++i)
    project.files[key("comparison.models.", i)] = comparison.importedModels[i].toStdString();
  project.panels["comparison"] = workspace.settings("comparison");

  project.layout = {{"geometry", window_.saveGeometry().toBase64().toStdString()},
                    {"state", window_.saveState().toBase64().toStdString()},
                    {"tabs", [this] {
                       std::vector<std::string> names;
                       for (const QString& name : window_.openPanelNames()) names.push_back(name.toStdString());
                       return names;
                     }()},
                    {"current_tab", window_.currentPanelName().toStdString()},
                    {"presentation", window_.presentationMode()}};
  return project;
}

bool ProjectController::isModified() const { return revision_ != savedRevision_; }

bool ProjectController::isEmpty() const { return file_.isEmpty() && revision_ == 0; }

void ProjectController::markUnmodified() {
  savedRevision_ = revision_;
  autosavedRevision_ = revision_;
  window_.setWindowModified(false);
}

void ProjectController::saveAs(const QString& file) {
  QString target = file;
  if (!target.endsWith(QLatin1String(bp::kProjectExtension))) target += QLatin1String(bp::kProjectExtension);
  write(QFileInfo(target).absoluteFilePath(), false);
}

void ProjectController::autosave() {
  if (restoring_ || writing_ || !isModified() || revision_ == autosavedRevision_) return;
  write(autosaveFile(), true);
}

QString ProjectController::autosaveFile() const {
  if (!file_.isEmpty()) return file_ + QLatin1String(kAutosaveSuffix);
  if (untitledAutosave_.isEmpty()) {
    auto* self = const_cast<ProjectController*>(this);  // named once, on first use, then kept
    self->untitledAutosave_ = autosaveFolder() + QStringLiteral("/untitled-%1-%2.brainprior")
                                                     .arg(QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss")))
                                                     .arg(QCoreApplication::applicationPid());
  }
  return untitledAutosave_;
}

void ProjectController::discardAutosave() {
  for (const QString& file : {file_.isEmpty() ? QString() : file_ + QLatin1String(kAutosaveSuffix), untitledAutosave_}) {
    if (file.isEmpty()) continue;
    QFile::remove(file);
    QDir(qtPath(bp::projectFilesFolder(file.toStdString()))).removeRecursively();
  }
  untitledAutosave_.clear();
  autosavedContent_.clear();
}

QStringList ProjectController::orphanedAutosaves() {
  const QDir folder(autosaveFolder());
  QStringList files;
  for (const QFileInfo& info : folder.entryInfoList({QStringLiteral("untitled-*.brainprior")}, QDir::Files, QDir::Time))
    files << info.absoluteFilePath();
  return files;
}

void ProjectController::write(const QString& target, bool isAutosave) {
  std::vector<UnsavedContent> unsaved;
  bp::Project project = capture(&unsaved);
  const std::uint64_t capturedRevision = revision_;
  const std::filesystem::path folder = bp::projectFilesFolder(target.toStdString());
  struct Pending {
    UnsavedContent content;
    std::filesystem::path path;
  };
  std::vector<Pending> writes;
  for (UnsavedContent& content : unsaved) {
    const void* identity = content.model ? static_cast<const void*>(content.model.get()) : content.matrix.get();
    const auto written = autosavedContent_.find(identity);
    if (isAutosave && written != autosavedContent_.end()) {
      project.files[content.key] = written->second.toStdString();
      continue;
    }
    const auto path = folder / content.fileName.toStdString();
    project.files[content.key] = path;
    writes.push_back({std::move(content), path});
  }
  writing_ = true;
  const int job = window_.jobs().run<bool>(
      isAutosave ? tr("Autosaving") : tr("Saving project %1").arg(QFileInfo(target).fileName()),
      [project, writes, target, folder](const bp::Job& work) {
        if (!writes.empty()) std::filesystem::create_directories(folder);
        const double share = 1.0 / static_cast<double>(writes.size() + 1);
        for (std::size_t i = 0; i < writes.size(); ++i) {
          work.throwIfCancelled();
          const Pending& pending = writes[i];
          if (pending.content.model) saveModel(*pending.content.model, pending.path.string());
          else bp::writeSimilarityMatrix(*pending.content.matrix, pending.path, work.subJob(i * share, (i + 1) * share));
        }
        bp::writeProject(project, target.toStdString());
        return true;
      },
      [this, writes, target, isAutosave, capturedRevision](bool&) {
        writing_ = false;
        if (isAutosave) {
          autosavedRevision_ = capturedRevision;
          for (const Pending& pending : writes)
            autosavedContent_[pending.content.model ? static_cast<const void*>(pending.content.model.get())
                                                    : pending.content.matrix.get()] = qtPath(pending.path);
          return;
        }
        // Saved as it was captured, unless the user changed something while it was written.
        const bool unchangedSinceCapture = revision_ == capturedRevision;
        // The workspace now refers to the files written, where it still holds the same content.
        Workspace& workspace = window_.workspace();
        for (const Pending& pending : writes) {
          if (pending.content.model) {
            for (int i = 0; i < workspace.modelCount(); ++i)
              if (workspace.model(i) == pending.content.model) workspace.setModelFile(i, qtPath(pending.path));
          } else {
            const auto slot = static_cast<Workspace::MatrixSlot>(pending.content.index);
            if (workspace.similarity(slot).matrix == pending.content.matrix)
              workspace.setSimilarityFile(slot, qtPath(pending.path));
          }
        }
        discardAutosave();
        setFile(target);
        if (unchangedSinceCapture) savedRevision_ = revision_;
        window_.setWindowModified(isModified());
        addRecentProject(target);
        bp::logInfo("Saved project " + target.toStdString());
        Q_EMIT saved(target);
      });
  auto connection = std::make_shared<QMetaObject::Connection>();
  *connection = connect(&window_.jobs(), &JobRunner::jobFinished, this,
                        [this, job, connection, isAutosave](int id, const QString&, bool cancelled, const QString& error) {
                          if (id != job) return;
                          disconnect(*connection);
                          if (error.isEmpty() && !cancelled) return;
                          writing_ = false;
                          if (!isAutosave) Q_EMIT failed(cancelled ? tr("Saving was cancelled; the project file is unchanged.") : error);
                        });
}

bool ProjectController::open(const QString& file) {
  const QString autosave = file + QLatin1String(kAutosaveSuffix);
  const QFileInfo autosaveInfo(autosave);
  const bool recovered = autosaveInfo.exists() && autosaveInfo.lastModified() > QFileInfo(file).lastModified() &&
                         recoverAutosave(file, autosave);
  return load(recovered ? autosave : file, file, recovered);
}

bool ProjectController::recoverUntitled(const QString& autosave) {
  untitledAutosave_ = autosave;  // autosaves go on into it; saving the project removes it
  return load(autosave, QString(), true);
}

bool ProjectController::load(const QString& source, const QString& file, bool recovered) {
  bp::Project project;
  try {
    project = bp::readProject(source.toStdString());
  } catch (const std::exception& error) {
    Q_EMIT failed(QString::fromUtf8(error.what()));
    return false;
  }
  bool changed = recovered;
  for (const std::string& name : bp::missingProjectFiles(project)) {
    if (std::filesystem::exists(project.files.at(name))) continue;  // found with an earlier answer
    const QString answer = locateFile(QString::fromStdString(name), qtPath(project.files.at(name)));
    changed = true;
    try {
      if (answer.isEmpty()) throw bp::Error("left out by the user");
      for (const std::string& found : bp::relocateProjectFile(project, name, answer.toStdString()))
        bp::logInfo("Found the project's " + found + " at " + project.files.at(found).string());
    } catch (const std::exception& error) {
      bp::logWarning("Opening the project without its " + name + " (" + project.files.at(name).string() +
                     "): " + error.what());
      project.files.erase(name);
    }
  }
  if (!file.isEmpty()) {
    setFile(file);
    addRecentProject(file);
  }
  if (recovered) {
    // What the autosave wrote was unsaved content: it is unsaved again until the project is saved.
    const QString recoveredFolder = qtPath(bp::projectFilesFolder(source.toStdString()));
    connect(this, &ProjectController::restored, this, [this, recoveredFolder] {
      Workspace& workspace = window_.workspace();
      for (int i = 0; i < workspace.modelCount(); ++i)
        if (QString::fromStdString(workspace.model(i)->file).startsWith(recoveredFolder)) workspace.setModelFile(i, {});
      for (const auto slot : {Workspace::A, Workspace::B})
        if (workspace.similarity(slot).file.startsWith(recoveredFolder)) workspace.setSimilarityFile(slot, {});
    }, Qt::SingleShotConnection);
  }
  if (changed)
    connect(this, &ProjectController::restored, this, [this] { savedRevision_ = kNeverSaved; }, Qt::SingleShotConnection);
  restore(project);
  return true;
}

void ProjectController::restore(const bp::Project& project) {
  restoring_ = true;
  restoreStage(1, project);
}

void ProjectController::restoreStage(int stage, const bp::Project& project) {
  const nlohmann::json& panels = project.panels;
  const nlohmann::json& layout = project.layout;
  if (stage == 1) {
    if (layout.contains("geometry"))
      window_.restoreGeometry(QByteArray::fromBase64(QByteArray::fromStdString(layout.at("geometry").get<std::string>())));
    if (layout.contains("state"))
      window_.restoreState(QByteArray::fromBase64(QByteArray::fromStdString(layout.at("state").get<std::string>())));
    if (layout.contains("tabs")) {
      QStringList names;
      for (const auto& name : layout.at("tabs")) names << QString::fromStdString(name.get<std::string>());
      window_.setOpenPanels(names);
    }
    if (layout.value("presentation", false) != window_.presentationMode())
      window_.setPresentationMode(layout.value("presentation", false));

    const auto dataPanel = panels.value("data", nlohmann::json::object());
    if (const QString neural = fileOf(project, "data.neural"); !neural.isEmpty()) {
      std::optional<bp::NwbReadOptions> nwb;
      if (dataPanel.contains("nwb")) {
        try {
          nwb = bp::nwbReadOptionsFromJson(dataPanel.at("nwb"));
        } catch (const std::exception& error) {
          bp::logWarning(std::string("The project's NWB read options are unusable (") + error.what() +
                         "); asking again");
        }
      }
      if (nwb) window_.openNwb(neural, *nwb);
      else window_.openPath(neural);
    } else if (dataPanel.value("source", std::string()) == "default") {
      window_.loadDefaultData();
    }
    if (const QString images = fileOf(project, "images.dataset"); !images.isEmpty()) window_.openPath(images);

    if (panels.contains("training") && panels.at("training").contains("form"))
      window_.trainingPanel()->launchForm()->applyConfig(panels.at("training").at("form"));
    if (const QString runs = fileOf(project, "training.runs"); !runs.isEmpty()) window_.workspace().setRunsFolder(runs);

    ComparisonPanel* comparison = window_.comparisonPanel();
    comparison->setRunsFolder(fileOf(project, "comparison.runs"));
    comparison->setImportedModels(indexedFiles(project, "comparison.models."));
    comparison->setNeuralPath(fileOf(project, "comparison.neural"));
    if (panels.contains("comparison")) comparison->setProbePreset(QString::fromStdString(panels.at("comparison").value("preset", std::string())));
    for (const char* report : {"comparison.probe_report", "comparison.predictivity_report"})
      if (const QString path = fileOf(project, report); !path.isEmpty()) comparison->openReport(path);
  } else if (stage == 2) {
    const nlohmann::json models = panels.value("models", nlohmann::json::object());
    if (models.contains("fit_form")) window_.modelPanel()->fitForm()->applyFitConfig(models.at("fit_form"));
    const QStringList modelFiles = indexedFiles(project, "models.");
    if (!modelFiles.isEmpty()) {
      QStringList names;
      for (const auto& name : models.value("names", nlohmann::json::array())) names << QString::fromStdString(name.get<std::string>());
      window_.modelPanel()->openModels(modelFiles, names, models.value("current", 0));
    }
    const nlohmann::json descriptions = panels.value("similarity", nlohmann::json::object()).value("descriptions", nlohmann::json::array());
    for (const auto slot : {Workspace::A, Workspace::B}) {
      const QString path = fileOf(project, slot == Workspace::A ? "similarity.a" : "similarity.b");
      const QString description = descriptions.size() > static_cast<std::size_t>(slot) && descriptions.at(slot).is_string()
                                      ? QString::fromStdString(descriptions.at(slot).get<std::string>())
                                      : QString();
      if (!path.isEmpty()) window_.similarityPanel()->openMatrixFile(slot, path, description);
    }
    if (const QStringList probeRuns = indexedFiles(project, "probe.runs."); !probeRuns.isEmpty())
      window_.probePanel()->loadRuns(probeRuns);
  } else {
    ProbePanel* probe = window_.probePanel();
    if (probe->modelCount() > 0 && panels.contains("probe")) probe->applySettings(panels.at("probe"));
    if (const QString image = fileOf(project, "probe.image"); !image.isEmpty() && probe->modelCount() > 0)
      probe->showImageFile(image);
    if (layout.contains("current_tab")) window_.showPanel(QString::fromStdString(layout.at("current_tab").get<std::string>()));
    restoring_ = false;
    savedRevision_ = revision_;
    Q_EMIT restored();
    window_.setWindowModified(isModified());
    return;
  }
  whenJobsEnd([this, stage, project] { restoreStage(stage + 1, project); });
}

void ProjectController::whenJobsEnd(std::function<void()> next) {
  JobRunner& jobs = window_.jobs();
  if (jobs.activeJobCount() == 0) {
    QTimer::singleShot(0, this, std::move(next));
    return;
  }
  auto connection = std::make_shared<QMetaObject::Connection>();
  *connection = connect(&jobs, &JobRunner::jobFinished, this, [&jobs, connection, next = std::move(next)] {
    if (jobs.activeJobCount() > 0) return;
    disconnect(*connection);
    next();
  });
}

void ProjectController::setFile(const QString& file) {
  if (file_ == file) return;
  if (!untitledAutosave_.isEmpty() && !file.isEmpty()) discardAutosave();
  file_ = file;
  window_.setWindowTitle(file_.isEmpty() ? QStringLiteral("BrainPrior[*]")
                                         : QStringLiteral("%1[*] — BrainPrior").arg(QFileInfo(file_).fileName()));
}

}  // namespace bp::app
